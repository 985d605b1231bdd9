//! The `portal` binary itself: exit codes and messages a person or a script relies on.

use std::io::Write;
use std::process::{Command, Stdio};

use diesel::prelude::*;
use diesel::sql_query;

use crate::helpers::TestApp;

fn portal(db_url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_portal"));
    cmd.env("DATABASE_URL", db_url)
        .env("RUST_LOG", "warn")
        .env_remove("PORTAL_CONFIG")
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("run portal");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_bad_setting_exits_2_with_one_line_naming_the_key() {
    let (code, _, err) = run(portal("postgres://x@127.0.0.1:1/x")
        .env("PORTAL__SERVER__BIND", "not-an-address")
        .arg("migrate"));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("server.bind"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let (code, _, err) = run(portal("mysql://nope").arg("migrate"));
    assert_eq!(code, 2);
    assert!(err.contains("database.url"), "{err}");
}

#[test]
fn up_without_postgres_explains_how_to_start_it_and_exits_1() {
    let (code, out, err) = run(portal("postgres://postgres@127.0.0.1:1/portal").arg("up"));
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("PostgreSQL is not reachable"), "{err}");
    assert!(err.contains("pg_ctlcluster"), "{err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
}

#[tokio::test]
async fn the_cli_manages_tenants_operators_and_migrations() {
    let app = TestApp::spawn().await;
    let url = app.db.url.clone();

    let (code, out, err) = run(portal(&url).args([
        "tenant",
        "create",
        "lao-cai",
        "--name",
        "Tỉnh Lào Cai",
        "--plan",
        "basic",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("created lao-cai"), "{out}");
    let (code, _, err) = run(portal(&url).args(["tenant", "create", "Lao Cai", "--name", "x"]));
    assert_eq!(code, 2);
    assert!(err.contains("slug"), "{err}");
    let (code, _, err) = run(portal(&url).args(["tenant", "create", "lao-cai", "--name", "again"]));
    assert_eq!(code, 1);
    assert!(err.contains("taken"), "{err}");

    let (code, out, _) = run(portal(&url).args(["tenant", "list", "--json"]));
    assert_eq!(code, 0);
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list[0]["slug"], "lao-cai");
    assert_eq!(list[0]["status"], "active");

    assert_eq!(
        run(portal(&url).args(["tenant", "suspend", "lao-cai"])).0,
        0
    );
    let (_, out, _) = run(portal(&url).args(["tenant", "list"]));
    assert!(out.contains("suspended"), "{out}");
    assert_eq!(run(portal(&url).args(["tenant", "resume", "lao-cai"])).0, 0);
    assert_eq!(
        run(portal(&url).args(["tenant", "suspend", "nowhere"])).0,
        1
    );

    // Operators read their password from stdin.
    let mut child = portal(&url)
        .args([
            "operator",
            "create",
            "--email",
            "Chief@Example.VN",
            "--role",
            "operator",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a-long-password-1\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    app.token("ops.localhost", "chief@example.vn", "a-long-password-1")
        .await;

    // `tenants apply` on the shipped folder twice: the second run changes nothing.
    let (code, out, err) = run(portal(&url).args(["tenants", "apply", "tenants", "--dry-run"]));
    assert_eq!(code, 0, "{err}");
    // lao-cai exists already: its manifest changes it.
    assert!(
        out.contains("33 would be created, 1 would be changed"),
        "{out}"
    );
    let (code, out, _) = run(portal(&url).args(["tenant", "list", "--json"]));
    assert_eq!(code, 0);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let (code, out, err) = run(portal(&url).args(["tenants", "apply", "tenants"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("33 created, 1 changed"), "{out}");
    let (code, out, _) = run(portal(&url).args(["tenants", "apply", "tenants"]));
    assert_eq!(code, 0);
    assert!(out.contains("0 created, 0 changed, 34 unchanged"), "{out}");

    // Migrate with nothing to do, then with one broken tenant: non-zero, the tenant named.
    let (code, out, err) = run(portal(&url).arg("migrate"));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("34 total, 34 up to date, 0 migrated, 0 failed"),
        "{out}"
    );
    let mut raw = app.raw_connection();
    sql_query("DROP TABLE t_hue.__diesel_schema_migrations")
        .execute(&mut raw)
        .unwrap();
    sql_query("UPDATE public.tenants SET schema_version = '' WHERE slug = 'hue'")
        .execute(&mut raw)
        .unwrap();
    let (code, out, err) = run(portal(&url).arg("migrate"));
    assert_eq!(code, 1, "{out}");
    assert!(err.contains("tenant hue: FAILED"), "{err}");
    assert!(out.contains("33 up to date, 0 migrated, 1 failed"), "{out}");

    // An invalid manifest names its file and field.
    let dir = crate::manifests::tempdir();
    std::fs::write(dir.join("bad.toml"), "slug = \"ok-slug\"\nname = \"x\"\n[branding]\ndisplay_name = \"x\"\naccent_color = \"#ffff00\"\n").unwrap();
    let (code, _, err) = run(portal(&url).args(["tenants", "apply"]).arg(&dir));
    assert_eq!(code, 2);
    assert!(err.contains("bad.toml: branding.accent_color"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
