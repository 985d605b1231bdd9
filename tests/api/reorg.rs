//! Reorganisation (#18): `portal reorganise PLAN [--dry-run]` merges and renames provinces
//! with nothing lost; old codes, hosts and passwords keep working.

use std::collections::BTreeMap;
use std::process::Command;

use diesel::prelude::*;
use diesel::sql_query;
use serde_json::Value;

use crate::helpers::{CITIZEN_ID, STAFF_PASSWORD, TestApp, licence_renewal};
use portal::accounts::staff::StaffRole;

const NATIONAL: &str = "localhost";

const PLAN: &str = r#"
effective = "2099-07-01"
[[merge]]
from = ["bac-giang", "bac-ninh"]
into = "bac-ninh"
name = "Bắc Ninh"
[[rename]]
slug = "hue"
name = "Thành phố Huế mới"
"#;

pub fn portal(app: &TestApp, args: &[&str]) -> (i32, String, String) {
    crate::helpers::portal_cli_with(&app.db.url, &[], args)
}

/// A plan file of its own (removed when dropped).
pub struct PlanFile(std::path::PathBuf);

impl PlanFile {
    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for PlanFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

pub fn plan_file(text: &str) -> PlanFile {
    let path = std::env::temp_dir().join(format!("plan-{}.toml", uuid::Uuid::new_v4()));
    std::fs::write(&path, text).unwrap();
    PlanFile(path)
}

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Rows per tenant table over the given schemas together.
pub fn rows(app: &TestApp, schemas: &[&str]) -> BTreeMap<String, i64> {
    let mut conn = app.raw_connection();
    let mut out = BTreeMap::new();
    for (table, _) in portal::reorg::merge::TABLES {
        let mut total = 0;
        for s in schemas {
            let c: N = sql_query(format!("SELECT count(*) AS n FROM {s}.{table}"))
                .get_result(&mut conn)
                .unwrap();
            total += c.n;
        }
        out.insert(table.to_string(), total);
    }
    out
}

async fn file(app: &TestApp, host: &str, token: &str) -> String {
    let res = app
        .post_json(host, "/api/v1/dossiers", Some(token), &licence_renewal())
        .await;
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["tracking_code"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Two provinces with dossiers, staff and units (Bắc Ninh from its manifest), and Huế.
pub async fn two_provinces() -> (TestApp, String, String) {
    let app = TestApp::spawn().await;
    app.create_tenant("bac-giang", "Tỉnh Bắc Giang").await;
    app.create_province_from_manifest("bac-ninh").await;
    app.create_tenant("hue", "Thành phố Huế").await;
    app.staff_token("bac-giang", "canbo@bacgiang.vn", StaffRole::Official)
        .await;
    app.staff_token("bac-ninh", "canbo@bacninh.vn", StaffRole::Official)
        .await;
    let token = app
        .citizen_token("bac-giang.localhost", "dan@example.vn")
        .await;
    let old = file(&app, "bac-giang.localhost", &token).await;
    file(&app, "bac-giang.localhost", &token).await;
    let token = app
        .citizen_token("bac-ninh.localhost", "dan@example.vn")
        .await;
    let own = file(&app, "bac-ninh.localhost", &token).await;
    (app, old, own)
}

#[tokio::test]
async fn a_merge_moves_everything_and_old_codes_hosts_and_passwords_keep_working() {
    let (app, old_code, own_code) = two_provinces().await;
    let before = rows(&app, &["t_bac_giang", "t_bac_ninh"]);
    let plan = plan_file(PLAN);
    let (code, out, err) = portal(&app, &["reorganise", plan.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("applied 2 step(s)"), "{out}");
    app.state.registry.reload().unwrap();

    // Row counts conserved: everything that moves is in the successor, the old schema empty.
    let after = rows(&app, &["t_bac_ninh"]);
    let left = rows(&app, &["t_bac_giang"]);
    for (table, treatment) in portal::reorg::merge::TABLES {
        use portal::reorg::merge::Treatment;
        if *treatment == Treatment::Kept {
            continue;
        }
        assert_eq!(after[*table], before[*table], "{table}");
        assert_eq!(left[*table], 0, "{table}");
    }
    assert_eq!(after["dossiers"], 3);

    // The old code, unchanged, on the successor's host and the national host.
    for (host, code) in [
        ("bac-ninh.localhost", &old_code),
        (NATIONAL, &old_code),
        (NATIONAL, &own_code),
    ] {
        let res = app
            .get(
                host,
                &format!("/api/v1/tracking/{code}?id_number={CITIZEN_ID}"),
            )
            .await;
        assert_eq!(res.status(), 200, "{code} on {host}");
        let v: Value = res.json().await.unwrap();
        assert_eq!(v["tracking_code"], code.as_str());
    }

    // The old host answers 301 to the same path on the successor's.
    let res = app.get("bac-giang.localhost", "/tracking?code=X&y=1").await;
    assert_eq!(res.status(), 301);
    let location = res.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with("http://bac-ninh.localhost")
            && location.ends_with("/tracking?code=X&y=1"),
        "{location}"
    );

    // Staff sign in on the successor with their old password.
    let token = app
        .token("bac-ninh.localhost", "canbo@bacgiang.vn", STAFF_PASSWORD)
        .await;
    assert!(!token.is_empty());

    // The operator sees the merged province and its successor.
    let op = app.operator_token().await;
    let res = app
        .get_with_token("ops.localhost", "/api/v1/tenants/bac-giang", &op)
        .await;
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["status"], "merged");
    assert_eq!(v["successor"], "bac-ninh");
    let v: Value = app
        .get_with_token("ops.localhost", "/api/v1/tenants/bac-ninh", &op)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["name"], "Bắc Ninh");
    assert!(v.get("successor").is_none());

    // The old names find the successor and the renamed province.
    for (q, slug) in [("Bắc Giang", "bac-ninh"), ("Thành phố Huế", "hue")] {
        let v: Value = app
            .get(
                NATIONAL,
                &format!("/api/v1/search?q={}", q.replace(' ', "%20")),
            )
            .await
            .json()
            .await
            .unwrap();
        let found: Vec<&str> = v["provinces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["slug"].as_str().unwrap())
            .collect();
        assert!(found.contains(&slug), "{q}: {v}");
    }

    // One audit row for the plan.
    let n: N = sql_query(
        "SELECT count(*) AS n FROM public.audit_log WHERE action = 'tenants.reorganise' \
         AND details->>'plan' LIKE '%bac-giang%'",
    )
    .get_result(&mut app.raw_connection())
    .unwrap();
    assert_eq!(n.n, 1);

    // Applying it again is refused: bac-giang is merged already.
    let (code, _, err) = portal(&app, &["reorganise", plan.path().to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("bac-giang is merged already"), "{err}");
}

#[tokio::test]
async fn a_dry_run_prints_the_changes_and_writes_nothing() {
    let (app, _, _) = two_provinces().await;
    let before = rows(&app, &["t_bac_giang", "t_bac_ninh"]);
    let giang = rows(&app, &["t_bac_giang"]);
    let plan = plan_file(PLAN);
    let (code, out, err) = portal(
        &app,
        &["reorganise", plan.path().to_str().unwrap(), "--dry-run"],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("dry run: nothing written"), "{out}");
    assert!(
        out.contains("bac-giang \"Tỉnh Bắc Giang\" (codes BG")
            && out.contains("2 dossiers (2 open), 1 staff accounts"),
        "{out}"
    );
    assert!(
        out.contains(&format!("dossiers {}", giang["dossiers"])),
        "{out}"
    );
    assert!(
        out.contains("hosts bac-giang.localhost -> 301 to bac-ninh.localhost"),
        "{out}"
    );
    assert!(
        out.contains("lease (plan standard) ends on 2099-07-01"),
        "{out}"
    );
    assert!(
        out.contains("hue: name \"Thành phố Huế\" -> \"Thành phố Huế mới\""),
        "{out}"
    );
    assert_eq!(rows(&app, &["t_bac_giang", "t_bac_ninh"]), before);
    assert_eq!(rows(&app, &["t_bac_giang"]), giang);
    let mut conn = app.raw_connection();
    let n: N = sql_query(
        "SELECT count(*) AS n FROM public.tenants WHERE status = 'merged' OR name LIKE '%mới'",
    )
    .get_result(&mut conn)
    .unwrap();
    assert_eq!(n.n, 0);
    let n: N =
        sql_query("SELECT count(*) AS n FROM public.audit_log WHERE action = 'tenants.reorganise'")
            .get_result(&mut conn)
            .unwrap();
    assert_eq!(n.n, 0);
}

#[tokio::test]
async fn a_bad_plan_exits_2_lists_every_problem_and_writes_nothing() {
    let (app, _, _) = two_provinces().await;
    let before = rows(&app, &["t_bac_giang", "t_bac_ninh"]);
    // Billing closed up to June 2026: an effective date in it is refused.
    sql_query("INSERT INTO public.period_closes (period, closed_by) VALUES ('2026-06', 'test')")
        .execute(&mut app.raw_connection())
        .unwrap();
    let plan = plan_file(
        r#"
effective = "2026-06-01"
[[merge]]
from = ["bac-giang", "bac-ninh", "lang-son"]
into = "bac-ninh"
[[merge]]
from = ["hue"]
into = "hue"
[[rename]]
slug = "nowhere"
name = "Không có"
"#,
    );
    let (code, out, err) = portal(&app, &["reorganise", plan.path().to_str().unwrap()]);
    assert_eq!(code, 2, "{out}{err}");
    for needle in [
        "hue cannot be merged into itself",
        "effective date 2026-06-01 is before 2026-07-01",
        "there is no province lang-son",
        "there is no province nowhere",
    ] {
        assert!(err.contains(needle), "{needle} in {err}");
    }
    assert!(err.contains("invalid plan"), "{err}");
    assert_eq!(rows(&app, &["t_bac_giang", "t_bac_ninh"]), before);

    // Fixed for the file alone, the database's problems are all listed too.
    let plan = plan_file(
        r#"
effective = "2026-06-01"
[[merge]]
from = ["bac-giang", "bac-ninh", "lang-son"]
into = "bac-ninh"
[[rename]]
slug = "nowhere"
name = "Không có"
"#,
    );
    let (code, _, err) = portal(&app, &["reorganise", plan.path().to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        err.lines().filter(|l| l.starts_with("  ")).count(),
        3,
        "{err}"
    );
    assert_eq!(rows(&app, &["t_bac_giang", "t_bac_ninh"]), before);
}

#[tokio::test]
async fn the_merge_knows_every_table_the_tenant_migrations_create() {
    let app = TestApp::spawn().await;
    app.create_tenant("bac-giang", "Tỉnh Bắc Giang").await;
    let mut conn = app.raw_connection();
    let found = portal::reorg::merge::tables_of(&mut conn, "t_bac_giang").unwrap();
    let mut known: Vec<String> = portal::reorg::merge::TABLES
        .iter()
        .map(|(t, _)| t.to_string())
        .collect();
    known.sort();
    assert_eq!(
        found, known,
        "a tenant table the merge does not move (merge::TABLES)"
    );
}

#[tokio::test]
async fn a_plan_with_two_merges_applies_both() {
    let (app, old_code, _) = two_provinces().await;
    app.create_tenant("lang-son", "Tỉnh Lạng Sơn").await;
    app.create_tenant("cao-bang", "Tỉnh Cao Bằng").await;
    app.staff_token("lang-son", "canbo@langson.vn", StaffRole::Official)
        .await;
    let token = app
        .citizen_token("lang-son.localhost", "dan2@example.vn")
        .await;
    let son_code = file(&app, "lang-son.localhost", &token).await;
    let before = rows(
        &app,
        &["t_bac_giang", "t_bac_ninh", "t_lang_son", "t_cao_bang"],
    );
    let plan = plan_file(
        r#"
effective = "2099-07-01"
[[merge]]
from = ["bac-giang", "bac-ninh"]
into = "bac-ninh"
[[merge]]
from = ["lang-son", "cao-bang"]
into = "cao-bang"
"#,
    );
    let (code, out, err) = portal(&app, &["reorganise", plan.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("applied 2 step(s)"), "{out}");
    let after = rows(&app, &["t_bac_ninh", "t_cao_bang"]);
    for (table, treatment) in portal::reorg::merge::TABLES {
        if *treatment != portal::reorg::merge::Treatment::Kept {
            assert_eq!(after[*table], before[*table], "{table}");
        }
    }
    for (host, code) in [
        ("bac-ninh.localhost", &old_code),
        ("cao-bang.localhost", &son_code),
    ] {
        let res = app
            .get(
                host,
                &format!("/api/v1/tracking/{code}?id_number={CITIZEN_ID}"),
            )
            .await;
        assert_eq!(res.status(), 200, "{code} on {host}");
    }
    app.token("cao-bang.localhost", "canbo@langson.vn", STAFF_PASSWORD)
        .await;
}

/// (slug, name, status) of every tenant.
type Tenants = Vec<(String, String, String)>;

/// The tenants table and every tenant table's rows, to show a refused plan wrote nothing.
fn state(app: &TestApp) -> (BTreeMap<String, i64>, Tenants) {
    #[derive(QueryableByName)]
    struct T {
        #[diesel(sql_type = diesel::sql_types::Text)]
        slug: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        status: String,
    }
    let tenants: Vec<T> = sql_query("SELECT slug, name, status FROM public.tenants ORDER BY slug")
        .load(&mut app.raw_connection())
        .unwrap();
    (
        rows(app, &["t_bac_giang", "t_bac_ninh", "t_hue"]),
        tenants
            .into_iter()
            .map(|t| (t.slug, t.name, t.status))
            .collect(),
    )
}

#[tokio::test]
async fn each_bad_plan_is_refused_with_its_one_problem_and_nothing_written() {
    let (app, _, _) = two_provinces().await;
    // Billing closed up to June 2026.
    sql_query("INSERT INTO public.period_closes (period, closed_by) VALUES ('2026-06', 'test')")
        .execute(&mut app.raw_connection())
        .unwrap();
    let before = state(&app);
    let merge = |effective: &str, from: &str, into: &str| {
        format!("effective = \"{effective}\"\n[[merge]]\nfrom = [{from}]\ninto = \"{into}\"\n")
    };
    let cases = [
        (
            "dated before data already billed",
            merge("2026-06-01", "\"bac-giang\", \"bac-ninh\"", "bac-ninh"),
            "effective date 2026-06-01 is before 2026-07-01",
        ),
        (
            "an unknown province",
            merge("2099-07-01", "\"bac-giang\", \"lang-son\"", "bac-giang"),
            "there is no province lang-son",
        ),
        (
            "a new successor that exists already",
            merge("2099-07-01", "\"bac-giang\"", "hue"),
            "hue exists already",
        ),
        (
            "a merge into itself",
            merge("2099-07-01", "\"hue\"", "hue"),
            "hue cannot be merged into itself",
        ),
        (
            "a date that does not exist",
            merge("2099-02-30", "\"bac-giang\", \"bac-ninh\"", "bac-ninh"),
            "effective must be a date",
        ),
        (
            "a date in the middle of a month",
            merge("2099-07-15", "\"bac-giang\", \"bac-ninh\"", "bac-ninh"),
            "effective date 2099-07-15 must be the first day of a month",
        ),
        (
            "a rename of an unknown province",
            "effective = \"2099-07-01\"\n[[rename]]\nslug = \"nowhere\"\nname = \"Không có\"\n"
                .to_string(),
            "there is no province nowhere",
        ),
    ];
    for (what, text, needle) in cases {
        let plan = plan_file(&text);
        let (code, out, err) = portal(&app, &["reorganise", plan.path().to_str().unwrap()]);
        assert_eq!(code, 2, "{what}: {out}{err}");
        let problems: Vec<&str> = err.lines().filter(|l| l.starts_with("  ")).collect();
        assert_eq!(problems.len(), 1, "{what}: {err}");
        assert!(problems[0].contains(needle), "{what}: {needle} in {err}");
        assert_eq!(state(&app), before, "{what}: something was written");
    }
}

fn waiting_locks(conn: &mut PgConnection, mode: &str) -> i64 {
    sql_query(
        "SELECT count(*) AS n FROM pg_locks WHERE NOT granted AND mode = $1 \
         AND relation = 't_bac_giang.tracking_failures'::regclass",
    )
    .bind::<diesel::sql_types::Text, _>(mode)
    .get_result::<N>(conn)
    .unwrap()
    .n
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..600 {
        if done() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("waited 30 s for {what}");
}

#[tokio::test]
async fn a_write_that_waited_for_the_merge_or_knew_the_old_province_does_not_land_in_its_schema() {
    let (app, _, _) = two_provinces().await;
    // The province as a replica's registry still knows it during and just after the merge.
    let stale = app.state.registry.by_slug("bac-giang").unwrap().db_ref();
    let door = app.database().tenant(stale);
    let insert = |conn: &mut PgConnection| {
        sql_query("INSERT INTO tracking_failures (tracking_code, client) VALUES ('BG-X', 'test')")
            .execute(conn)
            .map_err(portal::error::AppError::from)
    };

    // A write in progress holds the merge at its lock; a second write queues behind the merge.
    let mut holder = app.raw_connection();
    sql_query("BEGIN").execute(&mut holder).unwrap();
    sql_query("LOCK TABLE t_bac_giang.tracking_failures IN ROW EXCLUSIVE MODE")
        .execute(&mut holder)
        .unwrap();
    let plan = plan_file(PLAN);
    let mut merge = Command::new(env!("CARGO_BIN_EXE_portal"))
        .env("DATABASE_URL", &app.db.url)
        .env("RUST_LOG", "warn")
        .env_remove("PORTAL_CONFIG")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["reorganise", plan.path().to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut watch = app.raw_connection();
    wait_for("the merge to wait", || {
        waiting_locks(&mut watch, "ExclusiveLock") == 1
    });
    let queued = {
        let door = door.clone();
        std::thread::spawn(move || door.tx(insert))
    };
    wait_for("the write to queue", || {
        waiting_locks(&mut watch, "RowExclusiveLock") == 1
    });
    sql_query("COMMIT").execute(&mut holder).unwrap();
    assert!(merge.wait().unwrap().success());

    assert!(queued.join().unwrap().is_err(), "the queued write landed");
    assert!(door.tx(insert).is_err(), "a later write landed");
    let left = rows(&app, &["t_bac_giang"]);
    assert_eq!(left["tracking_failures"], 0, "{left:?}");
    assert_eq!(rows(&app, &["t_bac_ninh"])["dossiers"], 3);
}

fn received(app: &TestApp, slug: &str, period: &str) -> Option<i32> {
    #[derive(QueryableByName)]
    struct R {
        #[diesel(sql_type = diesel::sql_types::Int4)]
        received: i32,
    }
    sql_query(
        "SELECT ps.received FROM public.province_stats ps JOIN public.tenants t \
         ON t.id = ps.tenant_id WHERE t.slug = $1 AND ps.period = $2",
    )
    .bind::<diesel::sql_types::Text, _>(slug)
    .bind::<diesel::sql_types::Text, _>(period)
    .get_result::<R>(&mut app.raw_connection())
    .optional()
    .unwrap()
    .map(|r| r.received)
}

async fn run_index(app: &TestApp) {
    let (db, registry) = (app.database().clone(), app.state.registry.clone());
    tokio::task::spawn_blocking(move || {
        registry.reload().unwrap();
        portal::index::job::run_once(&db, &registry, false, &mut Default::default()).unwrap()
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn the_index_keeps_old_provinces_history_and_counts_nothing_twice() {
    use portal::period::Period;
    let (app, old_code, _) = two_provinces().await;
    let now = Period::of(portal::clock::today_vn());
    let prev = now.prev();
    // One of Bắc Giang's two dossiers was received last month.
    sql_query(format!(
        "UPDATE t_bac_giang.dossiers SET submitted_at = '{} 12:00:00+07' WHERE tracking_code = '{old_code}'",
        prev.first_day()
    ))
    .execute(&mut app.raw_connection())
    .unwrap();
    run_index(&app).await;
    let (now, prev) = (now.to_string(), prev.to_string());
    assert_eq!(received(&app, "bac-giang", &prev), Some(1));
    assert_eq!(received(&app, "bac-giang", &now), Some(1));
    assert_eq!(received(&app, "bac-ninh", &prev), Some(0));
    assert_eq!(received(&app, "bac-ninh", &now), Some(1));

    // Merged from the first of this month.
    let plan = plan_file(&format!(
        "effective = \"{now}-01\"\n[[merge]]\nfrom = [\"bac-giang\", \"bac-ninh\"]\ninto = \"bac-ninh\"\n"
    ));
    let (code, out, err) = portal(&app, &["reorganise", plan.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    run_index(&app).await;

    // Last month stays as it was, under each old name; this month is the successor's, with
    // Bắc Giang's dossier of this month counted once.
    assert_eq!(received(&app, "bac-giang", &prev), Some(1));
    assert_eq!(received(&app, "bac-ninh", &prev), Some(0));
    assert_eq!(received(&app, "bac-giang", &now), None);
    assert_eq!(received(&app, "bac-ninh", &now), Some(2));
}

/// The stored index of `slug` (province rows and the unit lines that count something) over
/// `periods`, and the same months recomputed from its schema now.
type Months = Vec<(String, portal::index::Counts, Vec<String>)>;

fn stored_and_recomputed(
    app: &TestApp,
    slug: &str,
    periods: &[portal::period::Period],
) -> (Months, Months) {
    use portal::index;
    app.state.registry.reload().unwrap();
    let t = app.state.registry.by_slug(slug).unwrap();
    let line = |l: &index::units::UnitStat| {
        (l.counts != index::Counts::default()).then(|| {
            format!(
                "{:?} {} {:?}",
                l.unit.as_ref().map(|u| u.code.to_string()),
                l.retired,
                l.counts
            )
        })
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let db = app.database();
    let stored = db
        .control(|conn| {
            let rows = index::load_trend(conn, t.id, periods)?;
            periods
                .iter()
                .map(|p| {
                    let c = rows
                        .iter()
                        .find(|(q, _)| q == p)
                        .map(|(_, c)| *c)
                        .unwrap_or_default();
                    let lines = index::units::load(conn, t.id, *p)?;
                    Ok((
                        p.to_string(),
                        c,
                        sorted(lines.iter().filter_map(line).collect()),
                    ))
                })
                .collect::<Result<Months, _>>()
        })
        .unwrap();
    let recomputed = db
        .tenant(t.db_ref())
        .tx(|conn| {
            periods
                .iter()
                .map(|p| {
                    let lines = index::units::compute(conn, *p)?;
                    let total = index::compute(conn, *p)?;
                    assert_eq!(index::units::total(&lines), total, "{p}");
                    Ok((
                        p.to_string(),
                        total,
                        sorted(lines.iter().filter_map(line).collect()),
                    ))
                })
                .collect::<Result<Months, _>>()
        })
        .unwrap();
    (stored, recomputed)
}

#[tokio::test]
async fn after_a_merge_the_stored_index_of_the_successor_equals_a_recomputation() {
    use portal::period::Period;
    let (app, old_code, _) = two_provinces().await;
    let now = Period::of(portal::clock::today_vn());
    let prev = now.prev();
    sql_query(format!(
        "UPDATE t_bac_giang.dossiers SET submitted_at = '{} 12:00:00+07' WHERE tracking_code = '{old_code}'",
        prev.first_day()
    ))
    .execute(&mut app.raw_connection())
    .unwrap();
    run_index(&app).await;
    assert_eq!(received(&app, "bac-ninh", &prev.to_string()), Some(0));

    // Merged from last month on; the index job does not run after it.
    let plan = plan_file(&format!(
        "effective = \"{prev}-01\"\n[[merge]]\nfrom = [\"bac-giang\", \"bac-ninh\"]\ninto = \"bac-ninh\"\n"
    ));
    let (code, out, err) = portal(&app, &["reorganise", plan.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("index of bac-ninh recounted for 2 month(s)"),
        "{out}"
    );
    let (stored, recomputed) = stored_and_recomputed(&app, "bac-ninh", &[prev, now]);
    assert_eq!(stored, recomputed);
    // Both of Bắc Giang's dossiers are the successor's now, and counted once.
    assert_eq!(received(&app, "bac-ninh", &prev.to_string()), Some(1));
    assert_eq!(received(&app, "bac-ninh", &now.to_string()), Some(2));
    assert_eq!(received(&app, "bac-giang", &prev.to_string()), None);
}

#[tokio::test]
async fn index_refresh_recomputes_the_stored_months_since_the_given_one() {
    use portal::period::Period;
    let (app, _, _) = two_provinces().await;
    let now = Period::of(portal::clock::today_vn());
    let prev = now.prev();
    run_index(&app).await;
    // Stored rows gone stale: a figure changed by hand, a unit's lines lost.
    let mut conn = app.raw_connection();
    sql_query(
        "UPDATE public.province_stats SET received = 99 \
         WHERE tenant_id = (SELECT id FROM public.tenants WHERE slug = 'bac-ninh')",
    )
    .execute(&mut conn)
    .unwrap();
    sql_query(
        "DELETE FROM public.unit_stats \
         WHERE tenant_id = (SELECT id FROM public.tenants WHERE slug = 'bac-giang')",
    )
    .execute(&mut conn)
    .unwrap();
    let (stored, recomputed) = stored_and_recomputed(&app, "bac-ninh", &[prev, now]);
    assert_ne!(stored, recomputed);

    let (code, out, err) = portal(&app, &["index", "refresh", "--since", &prev.to_string()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("for 2 month(s)"), "{out}");
    for slug in ["bac-ninh", "bac-giang", "hue"] {
        let (stored, recomputed) = stored_and_recomputed(&app, slug, &[prev, now]);
        assert_eq!(stored, recomputed, "{slug}");
    }

    for bad in ["2026-13", "last month", &now.next().to_string()] {
        let (code, out, err) = portal(&app, &["index", "refresh", "--since", bad]);
        assert_eq!(code, 2, "{bad}: {out}{err}");
        assert!(err.contains("--since"), "{bad}: {err}");
    }
}

#[derive(QueryableByName, Debug, PartialEq)]
struct DraftRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    procedure_code: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    answers: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    files: String,
}

/// The drafts of a schema with their answers and files' names and bytes, sorted.
fn drafts(app: &TestApp, schema: &str) -> Vec<DraftRow> {
    sql_query(format!(
        "SELECT d.procedure_code, d.answers::text AS answers, \
                coalesce(string_agg(f.field || '=' || f.name || ':' || encode(f.data, 'hex'), ';' \
                                    ORDER BY f.field), '') AS files \
           FROM {schema}.drafts d LEFT JOIN {schema}.draft_files f ON f.draft_id = d.id \
          GROUP BY d.id ORDER BY d.procedure_code, answers"
    ))
    .load(&mut app.raw_connection())
    .unwrap()
}

#[tokio::test]
async fn a_citizens_draft_of_a_procedure_the_successor_also_holds_a_draft_of_is_kept() {
    let (app, _, _) = two_provinces().await;
    let citizen = uuid::Uuid::new_v4();
    let mut conn = app.raw_connection();
    // The same citizen: a draft of LX-001 in both provinces (different answers, a file in the
    // merged province's), and one of HT-001 only in the merged province.
    for (schema, procedure, answer, file) in [
        ("t_bac_giang", "LX-001", "giang", Some("ảnh")),
        ("t_bac_giang", "HT-001", "giang-ht", None),
        ("t_bac_ninh", "LX-001", "ninh", None),
    ] {
        sql_query(format!(
            "INSERT INTO {schema}.drafts (citizen_id, procedure_code, answers) \
             VALUES ('{citizen}', '{procedure}', jsonb_build_object('full_name', '{answer}'))"
        ))
        .execute(&mut conn)
        .unwrap();
        if let Some(name) = file {
            sql_query(format!(
                "INSERT INTO {schema}.draft_files (id, draft_id, field, name, content_type, size, data) \
                 SELECT gen_random_uuid(), id, 'portrait_photo', '{name}.png', 'image/png', 3, '\\x010203' \
                   FROM {schema}.drafts WHERE procedure_code = '{procedure}'"
            ))
            .execute(&mut conn)
            .unwrap();
        }
    }
    let mut all_before = drafts(&app, "t_bac_giang");
    all_before.extend(drafts(&app, "t_bac_ninh"));
    all_before
        .sort_by(|a, b| (&a.procedure_code, &a.answers).cmp(&(&b.procedure_code, &b.answers)));
    let before = rows(&app, &["t_bac_giang", "t_bac_ninh"]);
    let plan = plan_file(PLAN);
    let (code, out, err) = portal(&app, &["reorganise", plan.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("left in bac-giang"), "{out}");

    // Nothing lost: every draft, its answers and its files are still there, in one schema or
    // the other; none twice.
    let mut all_after = drafts(&app, "t_bac_giang");
    all_after.extend(drafts(&app, "t_bac_ninh"));
    all_after.sort_by(|a, b| (&a.procedure_code, &a.answers).cmp(&(&b.procedure_code, &b.answers)));
    assert_eq!(all_after, all_before);
    let after = rows(&app, &["t_bac_giang", "t_bac_ninh"]);
    for table in ["drafts", "draft_files"] {
        assert_eq!(after[table], before[table], "{table}");
    }
    // The successor keeps its own draft of LX-001 and gets the one it had none of; the
    // merged province's LX-001 draft, with its file, stays behind whole.
    let ninh: Vec<(String, String)> = drafts(&app, "t_bac_ninh")
        .into_iter()
        .map(|d| (d.procedure_code, d.answers))
        .collect();
    assert_eq!(
        ninh,
        [
            (
                "HT-001".to_string(),
                r#"{"full_name": "giang-ht"}"#.to_string()
            ),
            ("LX-001".to_string(), r#"{"full_name": "ninh"}"#.to_string()),
        ]
    );
    let giang = drafts(&app, "t_bac_giang");
    assert_eq!(giang.len(), 1, "{giang:?}");
    assert_eq!(giang[0].answers, r#"{"full_name": "giang"}"#);
    assert_eq!(giang[0].files, "portrait_photo=ảnh.png:010203");
}
