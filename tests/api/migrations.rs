//! Tenant migrations reach every tenant; one broken tenant is reported, the others go on.

use std::path::Path;

use diesel::prelude::*;
use diesel::sql_query;
use diesel_migrations::FileBasedMigrations;
use portal::db::migrate::migrate_tenants;

use crate::helpers::TestApp;
use crate::manifests::tempdir;

pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn has_column(conn: &mut PgConnection, schema: &str, column: &str) -> bool {
    sql_query(
        "SELECT count(*) AS n FROM information_schema.columns \
         WHERE table_schema = $1 AND table_name = 'branding' AND column_name = $2",
    )
    .bind::<diesel::sql_types::Text, _>(schema)
    .bind::<diesel::sql_types::Text, _>(column)
    .get_result::<Count>(conn)
    .unwrap()
    .n == 1
}

#[tokio::test]
async fn a_new_migration_reaches_every_tenant_and_a_broken_one_is_reported() {
    let app = TestApp::spawn().await;
    let slugs = ["an-giang", "ca-mau", "dong-thap", "vinh-long", "tay-ninh"];
    for s in slugs {
        app.create_tenant(s, s).await;
    }
    // The shipped tenant migrations plus a new one.
    let dir = tempdir();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/tenant"),
        &dir,
    );
    let new = dir.join("2099-01-01-000000_add_note");
    std::fs::create_dir_all(&new).unwrap();
    std::fs::write(
        new.join("up.sql"),
        "ALTER TABLE branding ADD COLUMN note text;",
    )
    .unwrap();
    std::fs::write(
        new.join("down.sql"),
        "ALTER TABLE branding DROP COLUMN note;",
    )
    .unwrap();
    // Break one tenant: the column is already there, so its migration fails.
    let mut raw = app.raw_connection();
    sql_query("ALTER TABLE t_ca_mau.branding ADD COLUMN note text")
        .execute(&mut raw)
        .unwrap();

    let db = app.database().clone();
    let source = FileBasedMigrations::from_path(&dir).unwrap();
    let report = tokio::task::spawn_blocking(move || {
        let first = migrate_tenants(&db, &source, 3, &|_, _| {}).unwrap();
        // Running again retries only the broken tenant.
        let second = migrate_tenants(&db, &source, 3, &|_, _| {}).unwrap();
        (first, second, db, source)
    })
    .await
    .unwrap();
    let (first, second, db, source) = report;
    assert_eq!(first.total, 5);
    assert_eq!(
        first.migrated,
        vec!["an-giang", "dong-thap", "tay-ninh", "vinh-long"]
    );
    assert_eq!(first.failed.len(), 1);
    assert_eq!(first.failed[0].0, "ca-mau");
    assert!(
        first.failed[0].1.contains("already exists"),
        "{:?}",
        first.failed
    );
    assert_eq!(second.up_to_date, 4);
    assert_eq!(second.failed.len(), 1);
    for s in ["t_an_giang", "t_dong_thap", "t_tay_ninh", "t_vinh_long"] {
        assert!(has_column(&mut raw, s, "note"), "{s}");
    }

    // Mended, the next run migrates it and nothing else.
    sql_query("ALTER TABLE t_ca_mau.branding DROP COLUMN note")
        .execute(&mut raw)
        .unwrap();
    let third =
        tokio::task::spawn_blocking(move || migrate_tenants(&db, &source, 3, &|_, _| {}).unwrap())
            .await
            .unwrap();
    assert_eq!(third.migrated, vec!["ca-mau"]);
    assert!(third.failed.is_empty());
    assert!(has_column(&mut raw, "t_ca_mau", "note"));
    std::fs::remove_dir_all(&dir).unwrap();
}
