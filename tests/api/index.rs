//! The national index from a synthetic history with a known answer, and the overdue watch.

use diesel::prelude::*;
use diesel::sql_query;
use portal::accounts::staff::StaffRole;
use portal::clock::today_vn;
use portal::period::Period;

use crate::helpers::{TestApp, licence_renewal};

/// A complete dossier: its required documents attached, so staff may accept it.
async fn file(app: &TestApp, token: &str) -> String {
    app.submit_complete_licence_renewal("ha-noi.localhost", token)
        .await
}

async fn act(app: &TestApp, token: &str, code: &str, body: serde_json::Value) {
    if body["action"] == "return_result" {
        app.give_result("ha-noi.localhost", token, code).await;
    }
    let res = app.act("ha-noi.localhost", token, code, body.clone()).await;
    assert_eq!(res.status(), 200, "{code} {body}");
}

fn set_due(app: &TestApp, schema: &str, code: &str, due: chrono::NaiveDate) {
    sql_query(format!(
        "UPDATE {schema}.dossiers SET due_on = '{due}' WHERE tracking_code = '{code}'"
    ))
    .execute(&mut app.raw_connection())
    .unwrap();
}

#[tokio::test]
async fn the_index_is_computed_from_what_happened() {
    let app = TestApp::spawn().await;
    let hn = app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    app.create_tenant("hue", "Thành phố Huế").await;
    let host = "ha-noi.localhost";
    let citizen = app.citizen_token(host, "idx@example.vn").await;
    let official = app
        .staff_token("ha-noi", "cb@hanoi.gov.vn", StaffRole::Official)
        .await;

    // D1: on time, returned, rated 5.
    let d1 = file(&app, &citizen).await;
    for a in ["accept", "process", "resolve", "return_result"] {
        act(&app, &official, &d1, serde_json::json!({"action": a})).await;
    }
    let r = app
        .post_json(
            host,
            &format!("/api/v1/dossiers/{d1}/rating"),
            Some(&citizen),
            &serde_json::json!({"score": 5}),
        )
        .await;
    assert_eq!(r.status(), 201);
    // D2: late (its due date passed before the decision), never rated.
    let d2 = file(&app, &citizen).await;
    act(
        &app,
        &official,
        &d2,
        serde_json::json!({"action": "accept"}),
    )
    .await;
    act(
        &app,
        &official,
        &d2,
        serde_json::json!({"action": "process"}),
    )
    .await;
    set_due(
        &app,
        &hn.schema,
        &d2,
        today_vn() - chrono::Duration::days(1),
    );
    act(
        &app,
        &official,
        &d2,
        serde_json::json!({"action": "resolve"}),
    )
    .await;
    // D3: received at the counter without an email: not online, not informed, undecided.
    let res = app
        .post_json(
            host,
            "/api/v1/manage/dossiers",
            Some(&official),
            &licence_renewal(),
        )
        .await;
    assert_eq!(res.status(), 201);
    // D4: withdrawn by the citizen.
    let d4 = file(&app, &citizen).await;
    app.post_json(
        host,
        &format!("/api/v1/dossiers/{d4}/withdraw"),
        Some(&citizen),
        &serde_json::json!({}),
    )
    .await;
    // D5: fee requested and paid online, decided on time, rated 3.
    let d5 = file(&app, &citizen).await;
    act(
        &app,
        &official,
        &d5,
        serde_json::json!({"action": "accept"}),
    )
    .await;
    act(
        &app,
        &official,
        &d5,
        serde_json::json!({"action": "process"}),
    )
    .await;
    act(
        &app,
        &official,
        &d5,
        serde_json::json!({"action": "request_payment", "fee_vnd": 135000}),
    )
    .await;
    let r = app
        .post_json(
            host,
            &format!("/api/v1/dossiers/{d5}/pay"),
            Some(&citizen),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    act(
        &app,
        &official,
        &d5,
        serde_json::json!({"action": "resolve"}),
    )
    .await;
    act(
        &app,
        &official,
        &d5,
        serde_json::json!({"action": "return_result"}),
    )
    .await;
    app.post_json(
        host,
        &format!("/api/v1/dossiers/{d5}/rating"),
        Some(&citizen),
        &serde_json::json!({"score": 3}),
    )
    .await;

    // The job computes it (here called directly rather than waiting for its interval).
    let (db, registry) = (app.database().clone(), app.state.registry.clone());
    let written = tokio::task::spawn_blocking(move || {
        portal::index::job::run_once(&db, &registry, false, &mut Default::default()).unwrap()
    })
    .await
    .unwrap();
    assert_eq!(written, Some(4), "2 provinces × 2 months");

    let period = Period::of(today_vn()).to_string();
    let res = app
        .get("localhost", &format!("/api/v1/index?period={period}"))
        .await;
    assert_eq!(res.status(), 200);
    let rows: serde_json::Value = res.json().await.unwrap();
    let hn_row = &rows[0];
    assert_eq!(hn_row["slug"], "ha-noi");
    assert_eq!(hn_row["name"], "Thành phố Hà Nội");
    assert_eq!(hn_row["received"], 5);
    assert_eq!(hn_row["decided"], 3);
    let close = |v: &serde_json::Value, want: f64| (v.as_f64().unwrap() - want).abs() < 1e-9;
    assert!(close(&hn_row["on_time_rate"], 2.0 / 3.0), "{hn_row}");
    assert!(close(&hn_row["online_rate"], 0.8), "{hn_row}");
    assert!(close(&hn_row["online_payment_rate"], 1.0), "{hn_row}");
    assert!(close(&hn_row["satisfaction_rate"], 0.5), "{hn_row}");
    // (10·0.8 + 30·⅔ + 20·0.8 + 10·1 + 30·0.5) / 100 = 69.0
    assert!(close(&hn_row["score"], 69.0), "{hn_row}");
    let hue = &rows[1];
    assert_eq!(hue["slug"], "hue");
    assert_eq!(hue["received"], 0);
    assert!(
        hue["on_time_rate"].is_null() && hue["score"].is_null(),
        "{hue}"
    );

    // The pages: ranking with its chart, a province's 12 months; a bad period is 422.
    let page = app.get("localhost", "/index").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("<svg") && html.contains("Thành phố Hà Nội") && html.contains("69.0"));
    let trend = app
        .get("localhost", "/index/ha-noi")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(trend.matches("<rect").count(), 12);
    assert_eq!(
        app.get("localhost", "/api/v1/index?period=2026-13")
            .await
            .status(),
        422
    );
    assert_eq!(app.get("localhost", "/index/nowhere").await.status(), 404);
}

#[tokio::test]
async fn the_job_recomputes_only_the_provinces_whose_dossiers_changed() {
    let app = TestApp::spawn().await;
    let hn = app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    app.create_tenant("hue", "Thành phố Huế").await;
    let citizen = app
        .citizen_token("ha-noi.localhost", "idx@example.vn")
        .await;
    let (db, registry) = (app.database().clone(), app.state.registry.clone());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(portal::index::job::Seen::default()));
    let run = || {
        let (db, registry, seen) = (db.clone(), registry.clone(), seen.clone());
        async move {
            tokio::task::spawn_blocking(move || {
                portal::index::job::run_once(&db, &registry, false, &mut seen.lock().unwrap())
                    .unwrap()
                    .expect("the job's lock is free")
            })
            .await
            .unwrap()
        }
    };
    let received = |schema: &str| {
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            n: i32,
        }
        let period = Period::of(today_vn()).to_string();
        sql_query(
            "SELECT coalesce(max(received), 0) AS n FROM province_stats s JOIN tenants t \
             ON t.id = s.tenant_id WHERE t.schema_name = $1 AND s.period = $2",
        )
        .bind::<diesel::sql_types::Text, _>(schema)
        .bind::<diesel::sql_types::Text, _>(period)
        .get_result::<N>(&mut app.raw_connection())
        .unwrap()
        .n
    };

    assert_eq!(run().await, 4, "the first run: 2 provinces × 2 months");
    assert_eq!(run().await, 0, "nothing written since: nothing recomputed");

    // A dossier in Hà Nội: within the statistics' delay, the next run recomputes Hà Nội only.
    file(&app, &citizen).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut written = 0;
    while written == 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        written = run().await;
    }
    assert_eq!(written, 2, "one province × 2 months");
    assert_eq!(received(&hn.schema), 1);
    assert_eq!(run().await, 0);
}

#[tokio::test]
async fn two_overdue_watchers_started_at_once_send_one_digest() {
    let app = TestApp::spawn().await;
    let t = app.create_tenant("ha-noi", "Hà Nội").await;
    let citizen = app
        .citizen_token("ha-noi.localhost", "late@example.vn")
        .await;
    let official = app
        .staff_token("ha-noi", "late@hanoi.gov.vn", StaffRole::Official)
        .await;
    let late = file(&app, &citizen).await;
    let soon = file(&app, &citizen).await;
    let far = file(&app, &citizen).await;
    for code in [&late, &soon, &far] {
        act(
            &app,
            &official,
            code,
            serde_json::json!({"action": "accept"}),
        )
        .await;
    }
    set_due(
        &app,
        &t.schema,
        &late,
        today_vn() - chrono::Duration::days(2),
    );
    set_due(&app, &t.schema, &soon, today_vn());

    let run = || {
        let (db, registry) = (app.database().clone(), app.state.registry.clone());
        std::thread::spawn(move || {
            let cal = db.control(portal::calendar::load).unwrap();
            portal::jobs::overdue::run_once(&db, &registry, &cal, today_vn()).unwrap()
        })
    };
    let (a, b) = (run(), run());
    let (a, b) = (a.join().unwrap(), b.join().unwrap());
    // Either one ran and the other found the lock taken, or both ran one after the other.
    assert_eq!(a.unwrap_or(0) + b.unwrap_or(0), 1, "{a:?} {b:?}");
    // A later run on the same day queues nothing new.
    assert_eq!(run().join().unwrap(), Some(0));

    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        code: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        flag: Option<String>,
    }
    let rows: Vec<Row> = sql_query(format!(
        "SELECT tracking_code AS code, due_flag AS flag FROM {}.dossiers",
        t.schema
    ))
    .load(&mut app.raw_connection())
    .unwrap();
    let flag = |c: &str| rows.iter().find(|r| r.code == c).unwrap().flag.clone();
    assert_eq!(flag(&late).as_deref(), Some("overdue"));
    assert_eq!(flag(&soon).as_deref(), Some("due_soon"));
    assert_eq!(flag(&far), None);
    #[derive(QueryableByName)]
    struct Mail {
        #[diesel(sql_type = diesel::sql_types::Text)]
        to_email: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        body: String,
    }
    let mails: Vec<Mail> = sql_query(format!(
        "SELECT to_email, body FROM {}.outbox WHERE kind = 'overdue_digest'",
        t.schema
    ))
    .load(&mut app.raw_connection())
    .unwrap();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to_email, "late@hanoi.gov.vn");
    assert!(
        mails[0].body.contains(&late)
            && mails[0].body.contains(&soon)
            && !mails[0].body.contains(&far)
    );
    // The queue shows the marks.
    let q: serde_json::Value = app
        .get_with_token("ha-noi.localhost", "/api/v1/manage/dossiers", &official)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        q.as_array()
            .unwrap()
            .iter()
            .any(|d| d["due_flag"] == "overdue")
    );
}
