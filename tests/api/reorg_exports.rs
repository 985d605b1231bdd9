//! A reorganisation plan previewed on the provinces' exports (#18, "a plan can be previewed on
//! an export first"): `portal reorganise PLAN --dry-run --on-export FILES_OR_DIRS` loads the
//! exports into a scratch database, previews and applies the plan there, checks the result,
//! and drops it; the live database is never written.

use std::path::{Path, PathBuf};

use diesel::prelude::*;
use diesel::sql_query;

use crate::helpers::{EXPORT_KEY, TestApp};
use crate::reorg::{plan_file, rows, two_provinces};

fn portal(app: &TestApp, args: &[&str]) -> (i32, String, String) {
    crate::helpers::portal_cli_with(
        &app.db.url,
        &[("PORTAL__EXPORT__SIGNING_KEY", EXPORT_KEY)],
        args,
    )
}

/// A folder of its own (removed when dropped).
struct Folder(PathBuf);

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[derive(QueryableByName)]
struct S {
    #[diesel(sql_type = diesel::sql_types::Text)]
    s: String,
}

/// What the live database holds that a reorganisation would change: the provinces' rows, the
/// control plane's provinces, moved codes, citizens' provinces and the audit log.
fn live(app: &TestApp) -> String {
    let counts = rows(app, &["t_bac_giang", "t_bac_ninh", "t_hue"]);
    let control: S = sql_query(
        "SELECT concat_ws('|',
            (SELECT string_agg(concat_ws(',', slug, name, status, successor_id, former_names, role_name), ';' ORDER BY slug)
               FROM public.tenants),
            (SELECT count(*) FROM public.moved_dossiers),
            (SELECT count(*) FROM identity.citizen_provinces),
            (SELECT count(*) FROM public.audit_log)) AS s",
    )
    .get_result(&mut app.raw_connection())
    .unwrap();
    format!("{counts:?} {}", control.s)
}

fn previews_left(app: &TestApp) -> Vec<String> {
    sql_query(
        "SELECT datname::text AS s FROM pg_database WHERE datname LIKE 'portal\\_preview\\_%'",
    )
    .load::<S>(&mut app.raw_connection())
    .unwrap()
    .into_iter()
    .map(|r| r.s)
    .collect()
}

fn export(app: &TestApp, slug: &str, dir: &Path) {
    let out = dir.join(format!("{slug}.jsonl"));
    let (code, stdout, err) = portal(
        app,
        &["tenant", "export", slug, "--out", out.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{stdout}{err}");
}

#[tokio::test]
async fn a_plan_previews_on_the_exports_with_its_checks_and_the_live_database_is_untouched() {
    let (app, _, _) = two_provinces().await;
    let dir = Folder(std::env::temp_dir().join(format!("exports-{}", uuid::Uuid::new_v4())));
    std::fs::create_dir(&dir.0).unwrap();
    for slug in ["bac-giang", "bac-ninh", "hue"] {
        export(&app, slug, &dir.0);
    }
    let giang = rows(&app, &["t_bac_giang"]);
    let merged = rows(&app, &["t_bac_giang", "t_bac_ninh"]);
    let both = format!(
        "({} dossiers, {} staff accounts)",
        merged["dossiers"], merged["staff"]
    );
    let before = live(&app);
    let plan = plan_file(
        r#"
effective = "2099-07-01"
[[merge]]
from = ["bac-giang", "bac-ninh"]
into = "bac-ninh"
name = "Bắc Ninh"
"#,
    );
    let plan_path = plan.path().to_str().unwrap();
    let (code, on_live, err) = portal(&app, &["reorganise", plan_path, "--dry-run"]);
    assert_eq!(code, 0, "{on_live}{err}");

    let (code, out, err) = portal(
        &app,
        &[
            "reorganise",
            plan_path,
            "--dry-run",
            "--on-export",
            dir.0.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    // The same report as the live dry run, line for line and in order (its last line aside).
    let mut lines = out.lines();
    for want in on_live.lines().filter(|l| *l != "dry run: nothing written") {
        assert!(
            lines.any(|l| l == want),
            "{want:?} of the live dry run, in order, in:\n{out}"
        );
    }
    for needle in [
        "skipped ",
        "hue.jsonl (hue): the plan does not name hue",
        "bac-giang \"Tỉnh Bắc Giang\" (codes BG",
        "2 dossiers (2 open), 1 staff accounts",
        &format!("dossiers {}", giang["dossiers"]),
        "hosts bac-giang.localhost -> 301 to bac-ninh.localhost",
        // Applied on the copy: the rows moved, and the checks after it.
        "moved from bac-giang: ",
        "ok: rows conserved per table over the 2 province(s)",
        &both,
        "ok: tracking codes: all 3 resolve to the same dossier (same status and due date)",
        "nothing written to the live database",
    ] {
        assert!(out.contains(needle), "{needle:?} in:\n{out}");
    }
    assert!(!out.contains("FAILED"), "{out}");
    let scratch = out
        .split_whitespace()
        .find(|w| w.starts_with("portal_preview_"))
        .expect("the scratch database is named")
        .to_string();
    assert!(!previews_left(&app).contains(&scratch), "{scratch} dropped");
    assert_eq!(live(&app), before, "the live database is untouched");

    // A bad plan on the exports is refused as on the live database: every problem listed.
    let bad = plan_file(
        r#"
effective = "2099-07-01"
[[merge]]
from = ["bac-giang", "bac-ninh", "lang-son"]
into = "bac-ninh"
[[merge]]
from = ["hue"]
into = "hue"
[[rename_unit]]
province = "bac-ninh"
unit = "99999"
name = "Phường Không Có"
"#,
    );
    let bad_path = bad.path().to_str().unwrap();
    let (code, _, on_live) = portal(&app, &["reorganise", bad_path, "--dry-run"]);
    assert_eq!(code, 2, "{on_live}");
    let (code, out, err) = portal(
        &app,
        &[
            "reorganise",
            bad_path,
            "--dry-run",
            "--on-export",
            dir.0.join("bac-giang.jsonl").to_str().unwrap(),
            dir.0.join("bac-ninh.jsonl").to_str().unwrap(),
            dir.0.join("hue.jsonl").to_str().unwrap(),
        ],
    );
    assert_eq!(code, 2, "{out}{err}");
    for needle in [
        "hue cannot be merged into itself",
        "there is no province lang-son",
        "99999",
    ] {
        assert!(err.contains(needle), "{needle} in {err}");
    }
    assert_eq!(err, on_live, "the same problems as on the live database");
    assert!(previews_left(&app).is_empty(), "{:?}", previews_left(&app));
    assert_eq!(live(&app), before, "the live database is untouched");
}

/// #18 with #8: dossiers moved with their unit keep their code (the old province's prefix),
/// which tracking finds through `public.moved_dossiers`. Those rows travel with the receiving
/// province's export, so the codes still answer after it is imported elsewhere.
#[tokio::test]
async fn moved_codes_travel_with_the_receivers_export_and_answer_after_its_import() {
    let (app, codes, _, _, _) = crate::reorg_moves::two_provinces().await;
    let plan = plan_file(crate::reorg_moves::MOVE);
    let (code, out, err) = portal(&app, &["reorganise", plan.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    app.state.registry.reload().unwrap();
    let mut before = Vec::new();
    for c in &codes {
        before.push(crate::reorg_moves::track(&app, "localhost", c).await);
    }

    let dir = Folder(std::env::temp_dir().join(format!("exports-{}", uuid::Uuid::new_v4())));
    std::fs::create_dir(&dir.0).unwrap();
    export(&app, "bac-ninh", &dir.0);
    let file = dir.0.join("bac-ninh.jsonl");
    let text = std::fs::read_to_string(&file).unwrap();
    let moved = text
        .lines()
        .filter(|l| l.starts_with("{\"t\":\"public:moved_dossiers\""))
        .count();
    assert_eq!(moved, codes.len(), "{codes:?}");

    // Into a second installation where Hà Nội does not exist: the prefix leads nowhere, the
    // moved rows lead to Bắc Ninh.
    let dst = TestApp::spawn().await;
    let (code, out, err) = portal(&dst, &["tenant", "import", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    dst.state.registry.reload().unwrap();
    for (c, was) in codes.iter().zip(&before) {
        for host in ["localhost", "bac-ninh.localhost"] {
            assert_eq!(
                &crate::reorg_moves::track(&dst, host, c).await,
                was,
                "{c} on {host}"
            );
        }
    }
    let n: S = sql_query(
        "SELECT count(*)::text AS s FROM public.moved_dossiers m JOIN public.tenants t \
         ON t.id = m.tenant_id WHERE t.slug = 'bac-ninh'",
    )
    .get_result(&mut dst.raw_connection())
    .unwrap();
    assert_eq!(n.s, codes.len().to_string());
}
