//! Unit steps of a reorganisation plan (#18): `rename_unit` and `merge_units` inside a
//! province; old names still find the unit, staff, dossiers and the queue follow the merge.

use diesel::prelude::*;
use diesel::sql_query;
use portal::accounts::staff::StaffRole;
use serde_json::{Value, json};

use crate::helpers::{CITIZEN_ID, TestApp};
use crate::reorg::{plan_file, portal, rows};

pub const HN: &str = "ha-noi.localhost";
/// Phường Ba Đình and Phường Ngọc Hà, Hà Nội (national codes).
pub const A: &str = "00004";
pub const B: &str = "00008";
/// A third ward of Hà Nội.
const WARD3: &str = "00025";

/// A birth registration, decided by commune `unit`.
pub fn birth(unit: &str) -> Value {
    json!({
        "procedure_code": "HT-001",
        "unit_code": unit,
        "fields": {
            "full_name": "Nguyễn Thị Minh Khai",
            "id_number": CITIZEN_ID,
            "child_name": "Nguyễn Minh An",
            "child_date_of_birth": "2026-11-20",
            "child_sex": "female",
            "place_of_birth": "Bệnh viện Phụ sản Hà Nội",
            "mother_name": "Nguyễn Thị Minh Khai",
            "mother_id_number": CITIZEN_ID,
        }
    })
}

async fn units(app: &TestApp, query: &str) -> Vec<Value> {
    let res = app.get(HN, &format!("/api/v1/units{query}")).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn unit(app: &TestApp, code: &str) -> Option<Value> {
    units(app, "").await.into_iter().find(|u| u["code"] == code)
}

async fn queue(app: &TestApp, token: &str) -> Vec<String> {
    let res = app
        .get_with_token(HN, "/api/v1/manage/dossiers", token)
        .await;
    assert_eq!(res.status(), 200);
    let rows: Vec<Value> = res.json().await.unwrap();
    rows.iter()
        .map(|r| r["tracking_code"].as_str().unwrap().to_string())
        .collect()
}

#[derive(QueryableByName, Debug, PartialEq)]
struct StaffUnit {
    #[diesel(sql_type = diesel::sql_types::Text)]
    email: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    unit_code: String,
}

fn staff_units(app: &TestApp) -> Vec<(String, String)> {
    sql_query(
        "SELECT s.email, su.unit_code FROM t_ha_noi.staff_units su \
         JOIN t_ha_noi.staff s ON s.id = su.staff_id ORDER BY 1, 2",
    )
    .load::<StaffUnit>(&mut app.raw_connection())
    .unwrap()
    .into_iter()
    .map(|r| (r.email, r.unit_code))
    .collect()
}

/// Everything a unit step could change in Hà Nội, to show a refused or previewed plan wrote
/// nothing.
fn snapshot(app: &TestApp) -> String {
    #[derive(QueryableByName)]
    struct S {
        #[diesel(sql_type = diesel::sql_types::Text)]
        s: String,
    }
    sql_query(
        "SELECT concat_ws('|',
            (SELECT string_agg(concat_ws(',', code, name, retired_at, former_names), ';' ORDER BY code)
               FROM t_ha_noi.units),
            (SELECT string_agg(concat_ws(',', staff_id, unit_code), ';' ORDER BY staff_id, unit_code)
               FROM t_ha_noi.staff_units),
            (SELECT string_agg(concat_ws(',', tracking_code, competent_unit, received_at_unit), ';'
                               ORDER BY tracking_code) FROM t_ha_noi.dossiers),
            (SELECT string_agg(concat_ws(',', procedure_code, unit_code), ';' ORDER BY procedure_code)
               FROM t_ha_noi.procedure_units),
            (SELECT count(*) FROM public.audit_log)) AS s",
    )
    .get_result::<S>(&mut app.raw_connection())
    .unwrap()
    .s
}

/// Hà Nội with a dossier decided by B (received at B's counter), one filed online for B, an
/// official in A and one in B.
pub async fn ha_noi() -> (TestApp, Vec<String>, String, String) {
    let app = TestApp::spawn().await;
    app.create_province_from_manifest("ha-noi").await;
    let citizen = app.citizen_token(HN, "dan@example.vn").await;
    let res = app
        .post_json(HN, "/api/v1/dossiers", Some(&citizen), &birth(B))
        .await;
    assert_eq!(res.status(), 201);
    let online = res.json::<Value>().await.unwrap()["tracking_code"]
        .as_str()
        .unwrap()
        .to_string();
    let receiver_b = app
        .unit_staff_token(
            "ha-noi",
            "tiepnhan.b@hanoi.gov.vn",
            StaffRole::Receiver,
            &[B],
        )
        .await;
    let mut body = birth(B);
    body["channel"] = json!("counter");
    let res = app
        .post_json(HN, "/api/v1/manage/dossiers", Some(&receiver_b), &body)
        .await;
    assert_eq!(res.status(), 201);
    let counter = res.json::<Value>().await.unwrap()["tracking_code"]
        .as_str()
        .unwrap()
        .to_string();
    let official_a = app
        .unit_staff_token("ha-noi", "xuly.a@hanoi.gov.vn", StaffRole::Official, &[A])
        .await;
    let official_b = app
        .unit_staff_token("ha-noi", "xuly.b@hanoi.gov.vn", StaffRole::Official, &[B])
        .await;
    (app, vec![online, counter], official_a, official_b)
}

const MERGE_UNITS: &str = r#"
effective = "2099-07-01"
[[merge_units]]
province = "ha-noi"
from = ["00004", "00008"]
into = "00004"
name = "Phường Ba Đình mới"
"#;

#[tokio::test]
async fn merge_units_moves_staff_dossiers_and_the_queue_to_the_surviving_unit() {
    let (app, codes, official_a, official_b) = ha_noi().await;
    let before_queue_a = queue(&app, &official_a).await;
    assert!(codes.iter().all(|c| !before_queue_a.contains(c)));
    let before = rows(&app, &["t_ha_noi"]);
    let plan = plan_file(MERGE_UNITS);

    // The preview says what moves and writes nothing.
    let untouched = snapshot(&app);
    let (code, out, err) = portal(
        &app,
        &["reorganise", "--dry-run", plan.path().to_str().unwrap()],
    );
    assert_eq!(code, 0, "{out}{err}");
    for line in [
        "merge_units 1 (ha-noi: 00004, 00008 -> 00004):",
        "ha-noi: units 00008 \"Phường Ngọc Hà\" -> 00004 \"Phường Ba Đình\"",
        "00004: name \"Phường Ba Đình\" -> \"Phường Ba Đình mới\"",
        "2 staff account(s), 2 dossier(s) (2 open in the queue)",
        "retired: 00008",
        "dry run: nothing written",
    ] {
        assert!(out.contains(line), "{line}\n{out}");
    }
    assert_eq!(snapshot(&app), untouched);

    let (code, out, err) = portal(&app, &["reorganise", plan.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    app.state.registry.reload().unwrap();

    // Nothing lost: every row is still there.
    assert_eq!(rows(&app, &["t_ha_noi"]), before);
    // B's staff work in A now; A's official sees B's dossiers in the queue, and so does B's.
    assert_eq!(
        staff_units(&app),
        [
            ("tiepnhan.b@hanoi.gov.vn".to_string(), A.to_string()),
            ("xuly.a@hanoi.gov.vn".to_string(), A.to_string()),
            ("xuly.b@hanoi.gov.vn".to_string(), A.to_string()),
        ]
    );
    for token in [&official_a, &official_b] {
        let q = queue(&app, token).await;
        assert!(codes.iter().all(|c| q.contains(c)), "{q:?}");
    }
    for code in &codes {
        let d: Value = app
            .get_with_token(HN, &format!("/api/v1/manage/dossiers/{code}"), &official_a)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(d["competent_unit"], A, "{d}");
    }
    // B is retired, A carries the new name and both old ones find it.
    assert!(unit(&app, B).await.is_none());
    let a = unit(&app, A).await.unwrap();
    assert_eq!(a["name"], "Phường Ba Đình mới");
    assert_eq!(
        a["former_names"],
        json!(["Phường Ba Đình", "Phường Ngọc Hà"])
    );
    for q in [
        "?q=ngoc%20ha",
        "?q=Ph%C6%B0%E1%BB%9Dng%20Ba%20%C4%90%C3%ACnh",
    ] {
        let found = units(&app, q).await;
        assert_eq!(found.len(), 1, "{q}: {found:?}");
        assert_eq!(found[0]["code"], A, "{q}");
    }
    // A new dossier for B is refused: B is no longer in force.
    let citizen = app.citizen_token(HN, "dan@example.vn").await;
    let res = app
        .post_json(HN, "/api/v1/dossiers", Some(&citizen), &birth(B))
        .await;
    assert!(res.status().is_client_error(), "{}", res.status());
}

#[tokio::test]
async fn rename_unit_keeps_the_old_name_searchable() {
    let (app, _, _, _) = ha_noi().await;
    let plan = plan_file(
        "effective = \"2099-07-01\"\n[[rename_unit]]\nprovince = \"ha-noi\"\nunit = \"00008\"\nname = \"Phường Thử Nghiệm\"\n",
    );
    let untouched = snapshot(&app);
    let (code, out, err) = portal(
        &app,
        &["reorganise", "--dry-run", plan.path().to_str().unwrap()],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("ha-noi unit 00008: name \"Phường Ngọc Hà\" -> \"Phường Thử Nghiệm\" (the old name still finds it)"),
        "{out}"
    );
    assert_eq!(snapshot(&app), untouched);

    let (code, out, err) = portal(&app, &["reorganise", plan.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    let b = unit(&app, B).await.unwrap();
    assert_eq!(b["name"], "Phường Thử Nghiệm");
    assert_eq!(b["former_names"], json!(["Phường Ngọc Hà"]));
    for q in ["?q=ngoc%20ha", "?q=thu%20nghiem"] {
        let found = units(&app, q).await;
        assert_eq!(found.len(), 1, "{q}: {found:?}");
        assert_eq!(found[0]["code"], B, "{q}");
    }
    // One operator action, with the plan.
    let n: i64 = portal::db::schema::audit_log::table
        .filter(portal::db::schema::audit_log::action.eq("tenants.reorganise"))
        .count()
        .get_result(&mut app.raw_connection())
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn bad_unit_steps_are_refused_with_every_problem_and_nothing_written() {
    let (app, _, _, _) = ha_noi().await;
    let bad = r#"
effective = "2099-07-01"
[[rename_unit]]
province = "khong-co"
unit = "00004"
name = "Phường X"
[[rename_unit]]
province = "ha-noi"
unit = "99999"
name = "Phường Y"
[[rename_unit]]
province = "ha-noi"
unit = "00008"
name = "Phường Z"
[[rename_unit]]
province = "ha-noi"
unit = "00004"
name = " "
[[merge_units]]
province = "ha-noi"
from = ["WARD3"]
into = "SO-TP"
[[merge_units]]
province = "ha-noi"
from = ["00008"]
into = "00004"
[[merge_units]]
province = "ha-noi"
from = ["00004"]
into = "00004"
[[merge_units]]
province = "ha-noi"
from = ["00016", "00016"]
into = "00004"
"#
    .replace("WARD3", WARD3);
    let untouched = snapshot(&app);
    let plan = plan_file(&bad);
    let (code, out, err) = portal(&app, &["reorganise", plan.path().to_str().unwrap()]);
    assert_eq!(code, 2, "{out}{err}");
    let kind_problem = format!(
        "merge_units 1 (ha-noi: {WARD3} -> SO-TP): unit {WARD3} (Ward) cannot be merged into SO-TP (Department)"
    );
    let expected = [
        "rename_unit 1 (khong-co 00004): there is no province khong-co",
        "rename_unit 2 (ha-noi 99999): ha-noi has no unit 99999 in force",
        "rename_unit 4 (ha-noi 00004): unit name \" \" must have 1 to 160 characters",
        &kind_problem,
        "merge_units 2 (ha-noi: 00008 -> 00004): unit 00008 of ha-noi is already in rename_unit 3",
        "merge_units 3 (ha-noi: 00004 -> 00004): from must name at least one unit other than 00004",
        "merge_units 4 (ha-noi: 00016, 00016 -> 00004): unit 00016 is named twice in from",
    ];
    for e in expected {
        assert!(err.contains(e), "{e}\n{err}");
    }
    assert!(
        err.contains(&format!("invalid plan ({} problem(s))", expected.len())),
        "{err}"
    );
    assert_eq!(snapshot(&app), untouched);
}
