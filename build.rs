// The migrations are embedded as (folder name, up.sql) tables that `db::statements` runs one
// statement at a time (Citus refuses several commands in one string for distributed DDL).
// Rebuild when the folders change.
use std::fmt::Write as _;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    let out = std::env::var("OUT_DIR").expect("OUT_DIR");
    for kind in ["public", "tenant"] {
        // The manifest's folder when the script runs, not when it was compiled: a target
        // folder copied from another checkout must not embed that checkout's migrations.
        let root = std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
        let dir = Path::new(&root).join("migrations").join(kind);
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .expect("migrations folder")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.') && dir.join(n).join("up.sql").is_file())
            .collect();
        names.sort();
        let mut code = String::from("&[\n");
        for n in &names {
            let up = dir.join(n).join("up.sql");
            println!("cargo:rerun-if-changed={}", up.display());
            writeln!(
                code,
                "    ({n:?}, include_str!({:?})),",
                up.display().to_string()
            )
            .expect("write");
        }
        code.push_str("]\n");
        std::fs::write(Path::new(&out).join(format!("{kind}_migrations.rs")), code)
            .expect("write generated migrations");
    }
}
