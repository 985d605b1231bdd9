//! Moving units between provinces and splitting a province (#18): `move_units` and `split`
//! steps take units with their staff, dossiers and queue to another province (new or in
//! service); codes keep answering everywhere, staff keep their passwords, the old province
//! goes on serving the rest.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_query;
use portal::accounts::staff::StaffRole;
use serde_json::Value;

use crate::helpers::{CITIZEN_ID, STAFF_PASSWORD, TestApp};
use crate::reorg::{plan_file, portal, rows};
use crate::reorg_units::{B, HN, birth, ha_noi};

const BN: &str = "bac-ninh.localhost";

/// (status, due_on) of a code tracked on `host`.
pub async fn track(app: &TestApp, host: &str, code: &str) -> (String, Value) {
    let res = app
        .get(
            host,
            &format!("/api/v1/tracking/{code}?id_number={CITIZEN_ID}"),
        )
        .await;
    assert_eq!(res.status(), 200, "{code} on {host}");
    let v: Value = res.json().await.unwrap();
    (
        v["status"].as_str().unwrap().to_string(),
        v["due_on"].clone(),
    )
}

async fn queue(app: &TestApp, host: &str, token: &str) -> Vec<String> {
    let res = app
        .get_with_token(host, "/api/v1/manage/dossiers", token)
        .await;
    assert_eq!(res.status(), 200);
    let rows: Vec<Value> = res.json().await.unwrap();
    rows.iter()
        .map(|r| r["tracking_code"].as_str().unwrap().to_string())
        .collect()
}

#[derive(QueryableByName)]
struct Code {
    #[diesel(sql_type = diesel::sql_types::Text)]
    code: String,
}

/// Unit codes of a schema (`in_force`: not retired only).
fn unit_codes(app: &TestApp, schema: &str, in_force: bool) -> Vec<String> {
    let filter = if in_force {
        " WHERE retired_at IS NULL"
    } else {
        ""
    };
    sql_query(format!(
        "SELECT code FROM {schema}.units{filter} ORDER BY code"
    ))
    .load::<Code>(&mut app.raw_connection())
    .unwrap()
    .into_iter()
    .map(|c| c.code)
    .collect()
}

/// Rows per table of the tables a move can touch (the site look stays), over `schemas`.
fn moved_rows(app: &TestApp, schemas: &[&str]) -> BTreeMap<String, i64> {
    let mut r = rows(app, schemas);
    for (table, t) in portal::reorg::merge::TABLES {
        if *t == portal::reorg::merge::Treatment::Kept {
            r.remove(*table);
        }
    }
    r
}

/// Hà Nội as in the unit tests (two dossiers decided by ward B, staff in A and B), a dossier
/// decided by A, and Bắc Ninh from its manifest.
pub async fn two_provinces() -> (TestApp, Vec<String>, String, String, String) {
    let (app, codes, official_a, official_b) = ha_noi().await;
    app.create_province_from_manifest("bac-ninh").await;
    let citizen = app.citizen_token(HN, "dan@example.vn").await;
    let res = app
        .post_json(
            HN,
            "/api/v1/dossiers",
            Some(&citizen),
            &birth(crate::reorg_units::A),
        )
        .await;
    assert_eq!(res.status(), 201);
    let own = res.json::<Value>().await.unwrap()["tracking_code"]
        .as_str()
        .unwrap()
        .to_string();
    (app, codes, own, official_a, official_b)
}

pub const MOVE: &str = r#"
effective = "2099-07-01"
[[move_units]]
from = "ha-noi"
to = "bac-ninh"
units = ["00008"]
"#;

#[tokio::test]
async fn moved_units_take_their_staff_dossiers_and_queue_and_every_code_still_answers() {
    let (app, codes, own, official_a, _) = two_provinces().await;
    let mut before = BTreeMap::new();
    for code in codes.iter().chain([&own]) {
        before.insert(code.clone(), track(&app, HN, code).await);
    }
    let rows_before = moved_rows(&app, &["t_ha_noi", "t_bac_ninh"]);
    let ha_noi_before = rows(&app, &["t_ha_noi"]);
    let plan = plan_file(MOVE);

    // The preview says what moves and writes nothing.
    let (code, out, err) = portal(
        &app,
        &["reorganise", "--dry-run", plan.path().to_str().unwrap()],
    );
    assert_eq!(code, 0, "{out}{err}");
    for line in [
        "move_units 1 (ha-noi -> bac-ninh):",
        "ha-noi -> bac-ninh: units 00008 \"Phường Ngọc Hà\"",
        "2 dossier(s) (2 open, in those units' queue), 2 staff account(s) with their passwords: tiepnhan.b@hanoi.gov.vn, xuly.b@hanoi.gov.vn",
        "rows moved: ",
        "dossiers 2",
        "staff 2, staff_units 2, units 1",
        "dry run: nothing written",
    ] {
        assert!(out.contains(line), "{line}\n{out}");
    }
    assert_eq!(rows(&app, &["t_ha_noi"]), ha_noi_before);

    let (code, out, err) = portal(&app, &["reorganise", plan.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("moved from ha-noi to bac-ninh: "), "{out}");
    app.state.registry.reload().unwrap();

    // Nothing lost, nothing twice: every row is in one of the two provinces.
    assert_eq!(moved_rows(&app, &["t_ha_noi", "t_bac_ninh"]), rows_before);
    assert_eq!(rows(&app, &["t_bac_ninh"])["dossiers"], 2);
    assert!(!unit_codes(&app, "t_ha_noi", false).contains(&B.to_string()));
    assert!(unit_codes(&app, "t_bac_ninh", true).contains(&B.to_string()));

    // Every code answers the same, on the old host, the new one and the national one.
    for code in codes.iter().chain([&own]) {
        for host in [HN, BN, "localhost"] {
            if host == BN && *code == own {
                continue;
            }
            assert_eq!(
                track(&app, host, code).await,
                before[code],
                "{code} on {host}"
            );
        }
    }

    // B's official signs in on Bắc Ninh with the old password and finds the queue there.
    let token = app.token(BN, "xuly.b@hanoi.gov.vn", STAFF_PASSWORD).await;
    let q = queue(&app, BN, &token).await;
    assert!(codes.iter().all(|c| q.contains(c)), "{q:?}");
    // Hà Nội goes on serving the rest: A's official, A's dossier.
    let q = queue(&app, HN, &official_a).await;
    assert!(
        q.contains(&own) && codes.iter().all(|c| !q.contains(c)),
        "{q:?}"
    );
    assert_eq!(app.get(HN, "/api/v1/site").await.status(), 200);

    // One operator action, with the plan.
    let n: i64 = portal::db::schema::audit_log::table
        .filter(portal::db::schema::audit_log::action.eq("tenants.reorganise"))
        .count()
        .get_result(&mut app.raw_connection())
        .unwrap();
    assert_eq!(n, 1);
}

/// Every unit in force of Hà Nội but B, as a TOML list.
fn all_but_b(app: &TestApp) -> String {
    unit_codes(app, "t_ha_noi", true)
        .into_iter()
        .filter(|c| c != B)
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

#[tokio::test]
async fn a_split_creates_the_new_province_with_the_units_listed_for_it() {
    let (app, codes, own, _, _) = two_provinces().await;
    let mut before = BTreeMap::new();
    for code in codes.iter().chain([&own]) {
        before.insert(code.clone(), track(&app, HN, code).await);
    }
    let rows_before = moved_rows(&app, &["t_ha_noi"]);
    let plan = plan_file(&format!(
        r#"
effective = "2099-07-01"
[[split]]
province = "ha-noi"
[[split.into]]
province = "ha-noi"
units = [{}]
[[split.into]]
province = "ha-tay"
name = "Tỉnh Hà Tây"
units = ["00008"]
"#,
        all_but_b(&app)
    ));
    let (code, out, err) = portal(
        &app,
        &["reorganise", "--dry-run", plan.path().to_str().unwrap()],
    );
    assert_eq!(code, 0, "{out}{err}");
    for line in [
        "split 1 (ha-noi -> ha-noi, ha-tay):",
        "create province ha-tay \"Tỉnh Hà Tây\" (plan premium), leased from 2099-07-01",
        "ha-noi -> ha-tay: units 00008 \"Phường Ngọc Hà\"",
        "dry run: nothing written",
    ] {
        assert!(out.contains(line), "{line}\n{out}");
    }
    assert!(app.state.registry.by_slug("ha-tay").is_none());

    let (code, out, err) = portal(&app, &["reorganise", plan.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    app.state.registry.reload().unwrap();
    let tay = app
        .state
        .registry
        .by_slug("ha-tay")
        .expect("the new province");
    assert_eq!(tay.name, "Tỉnh Hà Tây");
    assert_eq!(
        moved_rows(&app, &["t_ha_noi", "t_ha_tay"]),
        rows_before,
        "{out}"
    );
    assert_eq!(unit_codes(&app, "t_ha_tay", true), [B]);
    for code in codes.iter().chain([&own]) {
        for host in [HN, "localhost"] {
            assert_eq!(
                track(&app, host, code).await,
                before[code],
                "{code} on {host}"
            );
        }
    }
    for code in &codes {
        assert_eq!(
            track(&app, "ha-tay.localhost", code).await,
            before[code],
            "{code}"
        );
    }
    let token = app
        .token("ha-tay.localhost", "xuly.b@hanoi.gov.vn", STAFF_PASSWORD)
        .await;
    let q = queue(&app, "ha-tay.localhost", &token).await;
    assert!(codes.iter().all(|c| q.contains(c)), "{q:?}");
}

/// Everything a refused plan could have written.
fn state(app: &TestApp) -> (BTreeMap<String, i64>, Vec<String>) {
    let tenants: Vec<Code> = sql_query(
        "SELECT slug || ' ' || name || ' ' || status AS code FROM public.tenants ORDER BY slug",
    )
    .load(&mut app.raw_connection())
    .unwrap();
    (
        rows(app, &["t_ha_noi", "t_bac_ninh"]),
        tenants.into_iter().map(|c| c.code).collect(),
    )
}

#[tokio::test]
async fn bad_moves_and_splits_are_refused_with_their_problems_and_nothing_written() {
    let (app, _, _, _, _) = two_provinces().await;
    let head = "effective = \"2099-07-01\"\n";
    let mv = |from: &str, to: &str, units: &str| {
        format!("{head}[[move_units]]\nfrom = \"{from}\"\nto = \"{to}\"\nunits = [{units}]\n")
    };
    let rest = all_but_b(&app);
    let split = |parts: &[(&str, Option<&str>, &str)]| {
        let mut t = format!("{head}[[split]]\nprovince = \"ha-noi\"\n");
        for (p, name, units) in parts {
            t.push_str(&format!(
                "[[split.into]]\nprovince = \"{p}\"\nunits = [{units}]\n"
            ));
            if let Some(n) = name {
                t.push_str(&format!("name = \"{n}\"\n"));
            }
        }
        t
    };
    let b = "\"00008\"";
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "an unknown province",
            mv("khong-co", "bac-ninh", b),
            vec!["there is no province khong-co"],
        ),
        (
            "an unknown unit",
            mv("ha-noi", "bac-ninh", "\"00008\", \"99999\""),
            vec!["ha-noi has no unit 99999 in force"],
        ),
        (
            "a unit listed twice",
            mv("ha-noi", "bac-ninh", "\"00008\", \"00008\""),
            vec!["unit 00008 is listed twice"],
        ),
        (
            "a move to the province the units are in",
            mv("ha-noi", "ha-noi", b),
            vec!["the units are in ha-noi already"],
        ),
        (
            "a split leaving units unassigned",
            split(&[("ha-tay", Some("Tỉnh Hà Tây"), b)]),
            vec!["units of ha-noi in no part: 00004, 000"],
        ),
        (
            "a split assigning a unit twice",
            split(&[
                ("ha-noi", None, &format!("{rest}, {b}")),
                ("ha-tay", Some("Tỉnh Hà Tây"), b),
            ]),
            vec!["unit 00008 is listed twice"],
        ),
        (
            "a new part without a name",
            split(&[("ha-noi", None, &rest), ("ha-tay", None, b)]),
            vec!["the new province ha-tay needs a name"],
        ),
        (
            "all at once",
            mv("ha-noi", "bac-ninh", "\"00008\", \"99999\", \"00008\""),
            vec![
                "unit 00008 is listed twice",
                "ha-noi has no unit 99999 in force",
            ],
        ),
    ];
    // Then with an official working in A and in B.
    let mixed = vec![(
        "staff in a moved and a staying unit",
        mv("ha-noi", "bac-ninh", b),
        vec!["staff xuly.ab@hanoi.gov.vn work in moved and staying units (00004, 00008)"],
    )];
    for (what, text, needles) in cases.into_iter().chain(mixed) {
        if what.starts_with("staff in") {
            app.unit_staff_token(
                "ha-noi",
                "xuly.ab@hanoi.gov.vn",
                StaffRole::Official,
                &[crate::reorg_units::A, B],
            )
            .await;
        }
        let before = state(&app);
        let plan = plan_file(&text);
        let (code, out, err) = portal(&app, &["reorganise", plan.path().to_str().unwrap()]);
        assert_eq!(code, 2, "{what}: {out}{err}");
        let problems: Vec<&str> = err.lines().filter(|l| l.starts_with("  ")).collect();
        assert_eq!(problems.len(), needles.len(), "{what}: {err}");
        for needle in needles {
            assert!(err.contains(needle), "{what}: {needle} in {err}");
        }
        assert_eq!(state(&app), before, "{what}: something was written");
    }
    // Fixed (the official works in B only), the move goes through.
    app.unit_staff_token("ha-noi", "xuly.ab@hanoi.gov.vn", StaffRole::Official, &[B])
        .await;
    let plan = plan_file(&mv("ha-noi", "bac-ninh", b));
    let (code, out, err) = portal(&app, &["reorganise", plan.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
}

/// #18: a citizen whose dossier moved with its unit no longer finds it among the old
/// province's dossiers; "my dossiers" there points to it: its code, the province now handling
/// it, a link to it there. Only the citizen's own: another citizen with dossiers in the
/// receiving province sees no pointer.
#[tokio::test]
async fn my_dossiers_on_the_old_site_points_to_the_citizens_dossiers_moved_away() {
    let (app, codes, own, _, _) = two_provinces().await;
    let (online, counter) = (&codes[0], &codes[1]);
    let other = app.citizen_token(BN, "khac@example.vn").await;
    app.submit_licence_renewal(BN, &other).await;
    let mut dan = crate::browser::Browser::new(&app, HN);
    dan.sign_in("dan@example.vn", "/dossiers").await;
    let page = dan.get("/dossiers").await;
    assert!(page.body.contains(&format!("href=\"/dossiers/{online}\"")));
    assert!(!page.body.contains("Hồ sơ đã chuyển sang tỉnh khác"));

    let plan = plan_file(MOVE);
    let (code, out, err) = portal(&app, &["reorganise", plan.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    app.state.registry.reload().unwrap();

    let page = dan.get("/dossiers").await;
    assert_eq!(page.status, 200);
    let body = &page.body;
    let moved = body
        .split("Hồ sơ đã chuyển sang tỉnh khác")
        .nth(1)
        .unwrap_or_else(|| panic!("a section for the moved dossiers in:\n{body}"));
    let listed = body.split("Hồ sơ đã chuyển sang tỉnh khác").next().unwrap();
    assert!(
        moved.contains("bac-ninh.localhost") && moved.contains(&format!("/dossiers/{online}\"")),
        "a link to {online} on Bắc Ninh in:\n{moved}"
    );
    let name = app.state.registry.by_slug("bac-ninh").unwrap().name.clone();
    assert!(
        moved.contains("Chuyển sang: <a") && moved.contains(&name),
        "{moved}"
    );
    assert!(moved.contains("2099"), "the date it moved: {moved}");
    assert!(
        !listed.contains(online.as_str()),
        "no longer among the province's own"
    );
    assert!(
        listed.contains(&format!("href=\"/dossiers/{own}\"")),
        "{listed}"
    );
    assert!(
        !body.contains(counter.as_str()),
        "a counter dossier is nobody's account's"
    );

    let mut khac = crate::browser::Browser::new(&app, HN);
    khac.sign_in("khac@example.vn", "/dossiers").await;
    let page = khac.get("/dossiers").await;
    assert_eq!(page.status, 200);
    assert!(
        !page.body.contains("Hồ sơ đã chuyển sang tỉnh khác"),
        "{}",
        page.body
    );
    assert!(!page.body.contains(online.as_str()));
}
