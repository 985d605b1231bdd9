//! #20: a province whose lease ended is not served for free forever. The plan job suspends it
//! the day after the lease's last day when no later lease starts, audited as the operator's
//! suspend; once per end, so the operator's resume afterwards sticks. The day is the job's
//! input, as every job test injects it.

use chrono::{Duration, NaiveDate};
use diesel::prelude::*;
use diesel::sql_query;
use portal::clock::today_vn;
use serde_json::json;

use crate::helpers::TestApp;

const OPS: &str = "ops.localhost";

fn ymd(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The plan job's lease-end half, on `day`.
async fn run(app: &TestApp, day: NaiveDate) -> Vec<String> {
    let a = app.state.app.clone();
    tokio::task::spawn_blocking(move || portal::jobs::plans::suspend_lapsed(&a, day))
        .await
        .unwrap()
        .unwrap()
        .expect("the lock is free")
}

async fn end_lease(app: &TestApp, op: &str, slug: &str, last_day: NaiveDate) {
    let res = app
        .post_json(
            OPS,
            &format!("/api/v1/tenants/{slug}/lease/end"),
            Some(op),
            &json!({ "last_day": ymd(last_day) }),
        )
        .await;
    assert_eq!(res.status(), 200);
}

async fn site(app: &TestApp, slug: &str) -> u16 {
    app.get(&format!("{slug}.localhost"), "/api/v1/site")
        .await
        .status()
        .as_u16()
}

#[derive(QueryableByName, Debug, PartialEq)]
struct Row {
    #[diesel(sql_type = diesel::sql_types::Text)]
    actor: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    action: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    target: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    details: String,
}

fn status_audit(app: &TestApp) -> Vec<Row> {
    sql_query(
        "SELECT actor, action, target, details::text AS details FROM public.audit_log \
          WHERE action IN ('tenant.suspend', 'tenant.resume') ORDER BY id",
    )
    .load(&mut app.raw_connection())
    .unwrap()
}

#[tokio::test]
async fn a_province_is_suspended_the_day_after_its_lease_ended_once() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    app.create_tenant("hue", "Thành phố Huế").await;
    let op = app.operator_token().await;
    let today = today_vn();
    end_lease(&app, &op, "ha-noi", today).await;

    // Its last day is still leased: nothing happens.
    assert!(run(&app, today).await.is_empty());
    assert_eq!(site(&app, "ha-noi").await, 200);

    // The day after: suspended (its site answers 503), audited as the operator's suspend.
    // Huế, still leased, is left alone.
    assert_eq!(run(&app, today + Duration::days(1)).await, ["ha-noi"]);
    assert_eq!(site(&app, "ha-noi").await, 503);
    assert_eq!(site(&app, "hue").await, 200);
    let rows = status_audit(&app);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        (
            rows[0].actor.as_str(),
            rows[0].action.as_str(),
            rows[0].target.as_str()
        ),
        ("job:lease-end", "tenant.suspend", "ha-noi")
    );
    assert!(
        rows[0].details.contains(&ymd(today)) && rows[0].details.contains("lease_ended"),
        "{}",
        rows[0].details
    );

    // Later runs do nothing more.
    assert!(run(&app, today + Duration::days(2)).await.is_empty());
    assert_eq!(status_audit(&app).len(), 1);

    // The operator resumes it (a grace period): the job does not overrule that.
    let res = app
        .post_json(OPS, "/api/v1/tenants/ha-noi/resume", Some(&op), &json!({}))
        .await;
    assert_eq!(res.status(), 200);
    assert!(run(&app, today + Duration::days(3)).await.is_empty());
    assert_eq!(site(&app, "ha-noi").await, 200);

    // Ending the lease again (a new last day) makes the suspension due after that day.
    let later = today + Duration::days(3);
    end_lease(&app, &op, "ha-noi", later).await;
    assert!(run(&app, later).await.is_empty());
    assert_eq!(run(&app, later + Duration::days(1)).await, ["ha-noi"]);
    assert_eq!(site(&app, "ha-noi").await, 503);
}

#[tokio::test]
async fn a_later_lease_keeps_the_province_served() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let op = app.operator_token().await;
    let today = today_vn();
    end_lease(&app, &op, "ha-noi", today).await;
    // A new lease from the day after the last one.
    let plan = app.state.registry.by_slug("ha-noi").unwrap().plan.clone();
    let res = app
        .client
        .put(app.url("/api/v1/tenants/ha-noi/lease"))
        .header("Host", OPS)
        .bearer_auth(&op)
        .json(&json!({ "plan": plan, "starts_on": ymd(today + Duration::days(1)) }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(run(&app, today + Duration::days(2)).await.is_empty());
    assert_eq!(site(&app, "ha-noi").await, 200);
    assert!(status_audit(&app).is_empty());
}
