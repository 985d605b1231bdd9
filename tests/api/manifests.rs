//! `tenants apply`: idempotent, and `--dry-run` writes nothing.

use std::path::Path;

use portal::tenancy::manifest::{self, Change};
use portal::tenancy::{branding, store};

use crate::helpers::TestApp;

fn write(dir: &Path, slug: &str, name: &str, accent: &str) {
    std::fs::write(
        dir.join(format!("{slug}.toml")),
        format!(
            "slug = \"{slug}\"\nname = \"{name}\"\nplan = \"basic\"\ndomains = [\"{slug}.gov.vn\"]\n\
             [branding]\ndisplay_name = \"{name}\"\naccent_color = \"{accent}\"\nhotline = \"1900 1234\"\n"
        ),
    )
    .unwrap();
}

#[tokio::test]
async fn applying_twice_changes_nothing_and_a_dry_run_writes_nothing() {
    let app = TestApp::spawn().await;
    let dir = tempdir();
    write(&dir, "ha-noi", "Thành phố Hà Nội", "#8b1a1a");
    write(&dir, "hue", "Thành phố Huế", "#5b2c6f");
    let db = app.database().clone();
    let dir2 = dir.clone();
    tokio::task::spawn_blocking(move || {
        let manifests = manifest::load(&dir2, "localhost").unwrap();

        let dry = portal::app::manifests::apply(&db, &manifests, true, "test").unwrap();
        assert!(dry.iter().all(|o| o.changes == vec![Change::Create]));
        assert!(
            db.control(store::list).unwrap().is_empty(),
            "dry run wrote nothing"
        );

        let first = portal::app::manifests::apply(&db, &manifests, false, "test").unwrap();
        assert!(first.iter().all(|o| o.changes == vec![Change::Create]));
        let second = portal::app::manifests::apply(&db, &manifests, false, "test").unwrap();
        assert!(second.iter().all(|o| o.changes.is_empty()), "{second:?}");

        // A changed manifest: the dry run names the changes and leaves the data as it was.
        write(&dir2, "hue", "Thành phố Huế (mới)", "#123456");
        let manifests = manifest::load(&dir2, "localhost").unwrap();
        let dry = portal::app::manifests::apply(&db, &manifests, true, "test").unwrap();
        let hue = dry.iter().find(|o| o.slug == "hue").unwrap();
        assert!(hue.changes.contains(&Change::Branding));
        assert!(hue.changes.iter().any(|c| matches!(c, Change::Name { .. })));
        let t = db
            .control(|c| store::find_by_slug(c, "hue"))
            .unwrap()
            .unwrap();
        assert_eq!(t.name, "Thành phố Huế");
        let b = db.tenant(t.db_ref()).tx(branding::load).unwrap();
        assert_eq!(b.accent_color.as_str(), "#5b2c6f");

        portal::app::manifests::apply(&db, &manifests, false, "test").unwrap();
        let t = db
            .control(|c| store::find_by_slug(c, "hue"))
            .unwrap()
            .unwrap();
        assert_eq!(t.name, "Thành phố Huế (mới)");
        let b = db.tenant(t.db_ref()).tx(branding::load).unwrap();
        assert_eq!(b.accent_color.as_str(), "#123456");
        assert_eq!(
            db.control(|c| store::custom_domains(c, t.id)).unwrap(),
            vec!["hue.gov.vn"]
        );
        let third = portal::app::manifests::apply(&db, &manifests, false, "test").unwrap();
        assert!(third.iter().all(|o| o.changes.is_empty()));
    })
    .await
    .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_shipped_manifest_is_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tenants");
    let manifests = manifest::load(&dir, "localhost").expect("tenants/ is valid");
    assert_eq!(manifests.len(), 34, "the 34 provinces of 2025");
}

pub fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("portal-test-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
