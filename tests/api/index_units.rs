//! The index per unit (#16 item 6): `GET /api/v1/index?province=SLUG` and the province page's
//! unit table, computed by the index job from each province's history only.

use diesel::prelude::*;
use diesel::sql_query;
use portal::accounts::staff::StaffRole;
use portal::clock::today_vn;
use portal::period::Period;
use serde_json::{Value, json};

use crate::helpers::{CITIZEN_ID, TestApp};

const HN: &str = "ha-noi.localhost";
/// Phường Ba Đình, Phường Ngọc Hà and Phường Giảng Võ, Hà Nội (national codes).
const A: &str = "00004";
const B: &str = "00008";
const C: &str = "00025";

/// A birth registration, decided by the commune named.
fn birth(unit: &str) -> Value {
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

/// One run of the index job (the test calls it rather than waiting for its interval).
async fn run_index_job(app: &TestApp) {
    let (db, registry) = (app.database().clone(), app.state.registry.clone());
    tokio::task::spawn_blocking(move || {
        portal::index::job::run_once(&db, &registry, false, &mut Default::default())
            .unwrap()
            .expect("the job's lock is free")
    })
    .await
    .unwrap();
}

fn this_month() -> String {
    Period::of(today_vn()).to_string()
}

async fn unit_rows(app: &TestApp) -> Vec<Value> {
    let res = app
        .get(
            "localhost",
            &format!("/api/v1/index?period={}&province=ha-noi", this_month()),
        )
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn province_row(app: &TestApp) -> Value {
    let rows: Vec<Value> = app
        .get(
            "localhost",
            &format!("/api/v1/index?period={}", this_month()),
        )
        .await
        .json()
        .await
        .unwrap();
    rows.into_iter().find(|r| r["slug"] == "ha-noi").unwrap()
}

fn row<'a>(rows: &'a [Value], code: Option<&str>) -> &'a Value {
    rows.iter()
        .find(|r| r["code"].as_str() == code)
        .unwrap_or_else(|| panic!("no line {code:?} in {rows:#?}"))
}

fn close(v: &Value, want: f64) -> bool {
    v.as_f64().is_some_and(|x| (x - want).abs() < 1e-9)
}

#[tokio::test]
async fn a_dossier_received_at_a_for_b_counts_in_as_received_and_in_bs_decided_and_on_time() {
    let app = TestApp::spawn().await;
    app.create_province_from_manifest("ha-noi").await;
    let citizen = app.citizen_token(HN, "dan@example.vn").await;
    let receiver_a = app
        .unit_staff_token(
            "ha-noi",
            "tiepnhan.a@hanoi.gov.vn",
            StaffRole::Receiver,
            &[A],
        )
        .await;
    let official_b = app
        .unit_staff_token("ha-noi", "xuly.b@hanoi.gov.vn", StaffRole::Official, &[B])
        .await;

    // One filed online for B, one handed in at A's counter for B; B decides both in time.
    let online = app
        .post_json(HN, "/api/v1/dossiers", Some(&citizen), &birth(B))
        .await;
    assert_eq!(online.status(), 201);
    let online: Value = online.json().await.unwrap();
    let mut body = birth(B);
    body["channel"] = json!("counter");
    let counter = app
        .post_json(HN, "/api/v1/manage/dossiers", Some(&receiver_a), &body)
        .await;
    assert_eq!(counter.status(), 201);
    let counter: Value = counter.json().await.unwrap();
    for d in [&online, &counter] {
        let code = d["tracking_code"].as_str().unwrap();
        for action in ["accept", "process", "resolve"] {
            let res = app
                .act(HN, &official_b, code, json!({ "action": action }))
                .await;
            assert_eq!(res.status(), 200, "{action} {code}");
        }
    }
    run_index_job(&app).await;

    let rows = unit_rows(&app).await;
    let (a, b) = (row(&rows, Some(A)), row(&rows, Some(B)));
    assert_eq!(a["name"], "Phường Ba Đình");
    assert_eq!(a["kind"], "ward");
    assert_eq!(a["slug"], "ha-noi");
    assert_eq!(
        (&a["received"], &a["decided"]),
        (&json!(1), &json!(0)),
        "{a}"
    );
    assert_eq!(
        (&b["received"], &b["decided"]),
        (&json!(1), &json!(2)),
        "{b}"
    );
    assert!(close(&b["on_time_rate"], 1.0), "{b}");
    assert!(close(&b["online_rate"], 1.0) && close(&a["online_rate"], 0.0));
    // Two decided is below the minimum sample (20): rates, but no score and no rank.
    for r in [a, b] {
        assert!(r["score"].is_null() && r["rank"].is_null(), "{r}");
        assert_eq!(r["enough_data"], false);
    }
    // Every unit of Hà Nội has a line: 126 commune-level units and the province's own 7.
    assert_eq!(rows.len(), 133);
    assert!(
        rows.iter().all(|r| r["code"].is_string()),
        "no province-level line"
    );
    let sum = |key: &str| rows.iter().map(|r| r[key].as_i64().unwrap()).sum::<i64>();
    let province = province_row(&app).await;
    assert_eq!(sum("decided"), province["decided"].as_i64().unwrap());
    assert_eq!(sum("received"), province["received"].as_i64().unwrap());

    // The page says which units lack data, names them with their kind, and says the minimum.
    let page = app
        .get(
            "localhost",
            &format!("/index/ha-noi?period={}", this_month()),
        )
        .await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Phường Ngọc Hà") && html.contains("Phường ·"));
    assert!(html.contains("Chưa đủ dữ liệu"));
    assert!(html.contains("Đơn vị có dưới <strong>20</strong>"));
    let en = app
        .get(
            "localhost",
            &format!("/index/ha-noi?lang=en&sort=name&period={}", this_month()),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(en.contains("Not enough data") && en.contains("fewer than <strong>20</strong>"));
    // The national page drills down to it.
    let national = app.get("localhost", "/index").await.text().await.unwrap();
    assert!(national.contains(&format!("/index/ha-noi?period={}#units", this_month())));
}

/// Writes a province's history straight into its schema (what the app would have written),
/// so no counter the app might keep on the side could know of it.
struct History<'a> {
    app: &'a TestApp,
    schema: String,
    n: u32,
}

impl History<'_> {
    /// A dossier submitted now; decided now when `due` is given (on time when due today or
    /// later); rated when `rating` is given. Returns its id.
    fn dossier(
        &mut self,
        received_at: Option<&str>,
        competent: Option<&str>,
        online: bool,
        due_in_days: Option<i64>,
        rating: Option<i16>,
    ) -> i64 {
        self.n += 1;
        let q = |v: Option<&str>| v.map_or("NULL".to_string(), |c| format!("'{c}'"));
        #[derive(QueryableByName)]
        struct Id {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            id: i64,
        }
        let mut conn = self.app.raw_connection();
        let id = sql_query(format!(
            "INSERT INTO {schema}.dossiers (tracking_code, procedure_code, applicant_name,
                    applicant_id_number, contact_email, channel, status, answers, due_on,
                    submitted_at, received_at_unit, competent_unit)
             VALUES ('HNO-T{n:05}', 'HT-001', 'Người thử', '{CITIZEN_ID}', {email}, '{channel}',
                    '{status}', '{{}}', {due}, now() - interval '2 minutes', {received}, {competent})
             RETURNING id",
            schema = self.schema,
            n = self.n,
            email = if online { "'a@example.vn'" } else { "NULL" },
            channel = if online { "online" } else { "counter" },
            status = if due_in_days.is_some() { "resolved" } else { "received" },
            due = due_in_days.map_or("NULL".to_string(), |d| format!("current_date + {d}")),
            received = q(received_at),
            competent = q(competent),
        ))
        .get_result::<Id>(&mut conn)
        .unwrap()
        .id;
        if due_in_days.is_some() {
            sql_query(format!(
                "INSERT INTO {}.dossier_events (dossier_id, at, action, status, actor)
                 VALUES ({id}, now() - interval '1 minute', 'resolve', 'resolved', 'staff:test')",
                self.schema
            ))
            .execute(&mut conn)
            .unwrap();
        }
        if let Some(score) = rating {
            sql_query(format!(
                "INSERT INTO {}.ratings (dossier_id, score) VALUES ({id}, {score})",
                self.schema
            ))
            .execute(&mut conn)
            .unwrap();
        }
        id
    }
}

#[tokio::test]
async fn the_rows_are_a_recomputation_from_history_and_a_unit_below_the_minimum_has_no_score() {
    let app = TestApp::spawn().await;
    let hn = app.create_province_from_manifest("ha-noi").await;
    let mut h = History {
        app: &app,
        schema: hn.schema.clone(),
        n: 0,
    };
    // B: 25 decided online (20 on time, 5 late), 10 of them rated (8 satisfied).
    for i in 0..25 {
        let rating = (i < 10).then_some(if i < 8 { 5 } else { 2 });
        h.dossier(
            None,
            Some(B),
            true,
            Some(if i < 20 { 3 } else { -2 }),
            rating,
        );
    }
    // C: 3 decided on time, handed in at A's counter; 1 more received at C, undecided.
    for _ in 0..3 {
        h.dossier(Some(A), Some(C), false, Some(1), None);
    }
    h.dossier(Some(C), Some(C), false, None, None);
    // The province level: 2 at the province's counter with no unit, 1 decided late.
    h.dossier(None, None, false, Some(-1), None);
    h.dossier(None, None, false, None, None);
    run_index_job(&app).await;

    let rows = unit_rows(&app).await;
    let (a, b, c) = (
        row(&rows, Some(A)),
        row(&rows, Some(B)),
        row(&rows, Some(C)),
    );
    let level = row(&rows, None);
    assert_eq!(
        (&a["received"], &a["decided"]),
        (&json!(3), &json!(0)),
        "{a}"
    );
    assert_eq!(
        (&b["received"], &b["decided"]),
        (&json!(25), &json!(25)),
        "{b}"
    );
    assert_eq!(
        (&c["received"], &c["decided"]),
        (&json!(1), &json!(3)),
        "{c}"
    );
    assert_eq!(
        (&level["received"], &level["decided"]),
        (&json!(2), &json!(1))
    );
    assert!(
        level["kind"].is_null() && level["rank"].is_null(),
        "{level}"
    );
    assert!(close(&b["on_time_rate"], 0.8) && close(&b["satisfaction_rate"], 0.8));
    // B: (10·1 + 30·0.8 + 20·1 + 30·0.8) / 90 = 86.7; first of the units.
    assert!(close(&b["score"], 86.7), "{b}");
    assert_eq!((&b["rank"], &b["enough_data"]), (&json!(1), &json!(true)));
    assert_eq!(rows[0]["code"], B, "best first");
    // C decided 3: its rate is shown, its score and rank are not.
    assert!(close(&c["on_time_rate"], 1.0));
    assert!(c["score"].is_null() && c["rank"].is_null() && c["enough_data"] == false);

    // Every count, summed over the lines, is the province-wide query's over the same history.
    let t = app.state.registry.by_slug("ha-noi").unwrap();
    let door = app.database().tenant(t.db_ref());
    let period = Period::of(today_vn());
    let reference = tokio::task::spawn_blocking(move || {
        door.tx(|conn| portal::index::compute(conn, period))
            .unwrap()
    })
    .await
    .unwrap();
    let sum = |key: &str| rows.iter().map(|r| r[key].as_i64().unwrap()).sum::<i64>();
    assert_eq!(sum("decided"), i64::from(reference.decided));
    assert_eq!(sum("received"), i64::from(reference.received));
    let province = province_row(&app).await;
    assert_eq!(province["decided"], json!(reference.decided));
    assert_eq!(province["received"], json!(reference.received));
    assert_eq!(reference.decided, 29);

    // History written later is in the next run, and the minimum is the configured one.
    for _ in 0..17 {
        h.dossier(Some(C), Some(C), true, Some(2), None);
    }
    run_index_job(&app).await;
    let rows = unit_rows(&app).await;
    let c = row(&rows, Some(C));
    assert_eq!(c["decided"], 20);
    assert!(c["score"].is_number() && c["rank"].is_number(), "{c}");

    // The page: not enough data for the others, the score for C, both in the table.
    let html = app
        .get("localhost", &format!("/index/ha-noi?period={period}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Phường Giảng Võ") && html.contains("Chưa đủ dữ liệu"));
    assert!(html.contains("Cấp tỉnh (hồ sơ không thuộc đơn vị nào)"));
}

#[tokio::test]
async fn unknown_provinces_and_bad_periods_are_refused() {
    let app = TestApp::spawn().await;
    app.create_province_from_manifest("ha-noi").await;
    for (path, status) in [
        ("/api/v1/index?province=nowhere", 404),
        ("/api/v1/index?province=ha-noi&period=2026-13", 422),
        ("/index/nowhere?period=2026-11", 404),
        ("/index/ha-noi?period=11-2026", 422),
        ("/index/ha-noi?sort=code", 422),
        ("/api/v1/index?province=ha-noi", 200),
    ] {
        assert_eq!(app.get("localhost", path).await.status(), status, "{path}");
    }
    // Before the job's first run there is nothing stored: no lines, and the page says so.
    let rows: Vec<Value> = app
        .get("localhost", "/api/v1/index?province=ha-noi")
        .await
        .json()
        .await
        .unwrap();
    assert!(rows.is_empty());
    // After it, a month it never computed lists the units at zero.
    run_index_job(&app).await;
    let old: Vec<Value> = app
        .get("localhost", "/api/v1/index?province=ha-noi&period=2020-01")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(old.len(), 133);
    assert!(
        old.iter()
            .all(|r| r["decided"] == 0 && r["score"].is_null())
    );
}
