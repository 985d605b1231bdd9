// The migrations are embedded by `embed_migrations!`, which cannot see a new migration
// folder: rebuild when the folders change.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
