//! Leasing and metering: every unit counted exactly once, caps and rates held, provinces
//! never slowed by each other.

use diesel::prelude::*;
use diesel::sql_query;
use futures_util::StreamExt;
use portal::error::AppError;
use portal::metering::{Metric, record};

use crate::helpers::{TestApp, licence_renewal};

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn count(app: &TestApp, sql: &str) -> i64 {
    sql_query(sql)
        .get_result::<N>(&mut app.raw_connection())
        .unwrap()
        .n
}

#[tokio::test]
async fn a_key_counts_once_and_a_rolled_back_action_counts_nothing() {
    let app = TestApp::spawn().await;
    let t = app.create_tenant("ha-noi", "Hà Nội").await;
    let door = app.database().tenant(t.db_ref());
    let tenant = (*app.state.registry.by_slug("ha-noi").unwrap()).clone();
    let (first, second, rolled_back) = tokio::task::spawn_blocking(move || {
        let now = portal::clock::now();
        let first = door
            .tx(|c| {
                record(
                    c,
                    &tenant,
                    Metric::Dossiers,
                    1,
                    "dossier:test:submitted",
                    now,
                )
            })
            .unwrap();
        let second = door
            .tx(|c| {
                record(
                    c,
                    &tenant,
                    Metric::Dossiers,
                    1,
                    "dossier:test:submitted",
                    now,
                )
            })
            .unwrap();
        // A transaction that counts and then fails leaves no event behind.
        let rolled_back: Result<(), AppError> = door.tx(|c| {
            record(
                c,
                &tenant,
                Metric::Dossiers,
                1,
                "dossier:rollback:submitted",
                now,
            )?;
            Err(AppError::internal("the action failed after counting"))
        });
        (first, second, rolled_back)
    })
    .await
    .unwrap();
    assert_eq!(first, Some(1));
    assert_eq!(second, None, "the same key twice is one event");
    assert!(rolled_back.is_err());
    assert_eq!(count(&app, "SELECT count(*) AS n FROM usage_events"), 1);
    assert_eq!(
        count(
            &app,
            "SELECT sum(quantity)::int8 AS n FROM usage_period WHERE metric = 'dossiers'"
        ),
        1
    );
}

#[tokio::test]
async fn a_thousand_concurrent_submissions_over_ten_provinces_count_exactly() {
    let app = TestApp::spawn().await;
    let mut tokens = Vec::new();
    for i in 0..10 {
        let slug = format!("tinh-{i}");
        app.create_tenant(&slug, &format!("Tỉnh {i}")).await;
        tokens.push((
            slug.clone(),
            app.citizen_token(&format!("{slug}.localhost"), "many@example.vn")
                .await,
        ));
    }
    let statuses: Vec<u16> = futures_util::stream::iter(0..1000usize)
        .map(|i| {
            let (slug, token) = tokens[i % 10].clone();
            let app = &app;
            async move {
                app.post_json(
                    &format!("{slug}.localhost"),
                    "/api/v1/dossiers",
                    Some(&token),
                    &licence_renewal(),
                )
                .await
                .status()
                .as_u16()
            }
        })
        .buffer_unordered(50)
        .collect()
        .await;
    assert!(
        statuses.iter().all(|s| *s == 201),
        "{:?}",
        statuses
            .iter()
            .filter(|s| **s != 201)
            .take(5)
            .collect::<Vec<_>>()
    );
    for i in 0..10 {
        let t = app.state.registry.by_slug(&format!("tinh-{i}")).unwrap();
        let dossiers = count(
            &app,
            &format!("SELECT count(*) AS n FROM {}.dossiers", t.schema),
        );
        let events = count(
            &app,
            &format!(
                "SELECT count(*) AS n FROM usage_events WHERE tenant_id = '{}' AND metric = 'dossiers'",
                t.id
            ),
        );
        let total = count(
            &app,
            &format!(
                "SELECT quantity AS n FROM usage_period WHERE tenant_id = '{}' AND metric = 'dossiers'",
                t.id
            ),
        );
        assert_eq!((dossiers, events, total), (100, 100, 100), "tinh-{i}");
    }
    // The operator's view agrees.
    let op = app.operator_token().await;
    let usage: serde_json::Value = app
        .get_with_token("ops.localhost", "/api/v1/tenants/tinh-3/usage", &op)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(usage["metrics"]["dossiers"]["used"], 100);
    assert_eq!(usage["metrics"]["dossiers"]["included"], 15000);
    assert!(usage["period"].is_string());
    assert_eq!(
        app.get_with_token(
            "ops.localhost",
            "/api/v1/tenants/tinh-3/usage?period=2026-13",
            &op
        )
        .await
        .status(),
        422
    );
}

#[tokio::test]
async fn api_calls_survive_a_graceful_stop_and_two_replicas_never_collide() {
    let app = TestApp::spawn().await;
    app.create_tenant("hue", "Huế").await;
    // Billed calls are signed-in ones (issue 15); the token is good on every replica.
    let token = app.citizen_token("hue.localhost", "dan@example.vn").await;
    // Two more replicas on the same database, stopped gracefully after their calls.
    let mut handles = Vec::new();
    for calls in [37u32, 23] {
        let replica = portal::startup::Application::build(app.settings.clone()).unwrap();
        let (port, handle) = (replica.port(), replica.handle());
        let done = tokio::spawn(replica.run_until_stopped());
        for _ in 0..calls {
            let res = app
                .client
                .get(format!("http://127.0.0.1:{port}/api/v1/procedures"))
                .header("Host", "hue.localhost")
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
        }
        handles.push((handle, done));
    }
    for (handle, done) in handles {
        handle.stop(true).await;
        done.await.unwrap().unwrap();
    }
    let t = app.state.registry.by_slug("hue").unwrap();
    let sql = format!(
        "SELECT coalesce(sum(quantity), 0)::int8 AS n FROM usage_events WHERE tenant_id = '{}' AND metric = 'api_calls'",
        t.id
    );
    assert_eq!(count(&app, &sql), 60);
    let keys = format!(
        "SELECT count(DISTINCT idempotency_key) AS n FROM usage_events WHERE tenant_id = '{}' AND metric = 'api_calls'",
        t.id
    );
    assert_eq!(
        count(&app, &keys),
        2,
        "one flush each, under different keys"
    );
}

#[tokio::test]
async fn a_province_over_its_rate_gets_429_while_another_is_served() {
    let app = TestApp::spawn().await;
    app.create_tenant("ca-mau", "Cà Mau").await;
    app.create_tenant("an-giang", "An Giang").await;
    let op = app.operator_token().await;
    let tiny = serde_json::json!({
        "name": "Thử nghiệm", "monthly_fee_vnd": 1000000, "rate_limit_rps": 2, "rate_burst": 5,
        "metrics": {
            "dossiers": {"included": 10, "unit_price_vnd": 1000, "hard_cap": null},
            "storage_bytes": {"included": 1000000, "unit_price_vnd": 1000, "hard_cap": null},
            "api_calls": {"included": 1000, "unit_price_vnd": 1, "hard_cap": null},
            "emails": {"included": 100, "unit_price_vnd": 10, "hard_cap": null},
            "seats": {"included": 5, "unit_price_vnd": 1000, "hard_cap": null}
        }
    });
    let res = app
        .client
        .put(app.url("/api/v1/plans/tiny"))
        .header("Host", "ops.localhost")
        .bearer_auth(&op)
        .json(&tiny)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .client
        .put(app.url("/api/v1/tenants/ca-mau/lease"))
        .header("Host", "ops.localhost")
        .bearer_auth(&op)
        .json(&serde_json::json!({"plan": "tiny", "starts_on": portal::clock::today_vn()}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["plan"], "tiny");
    // A lease starting the same day replaces that day's lease.
    assert_eq!(body["leases"].as_array().unwrap().len(), 1, "{body}");
    // A lease starting tomorrow is kept in the history and waits for its day.
    let tomorrow = portal::clock::today_vn() + chrono::Duration::days(1);
    let res = app
        .client
        .put(app.url("/api/v1/tenants/ca-mau/lease"))
        .header("Host", "ops.localhost")
        .bearer_auth(&op)
        .json(&serde_json::json!({"plan": "standard", "starts_on": tomorrow}))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["plan"], "tiny", "{body}");
    assert_eq!(body["leases"].as_array().unwrap().len(), 2, "{body}");

    let flood: Vec<reqwest::Response> = futures_util::future::join_all(
        (0..30).map(|_| app.get("ca-mau.localhost", "/api/v1/procedures")),
    )
    .await;
    let calm: Vec<reqwest::Response> = futures_util::future::join_all(
        (0..30).map(|_| app.get("an-giang.localhost", "/api/v1/procedures")),
    )
    .await;
    let limited: Vec<&reqwest::Response> = flood.iter().filter(|r| r.status() == 429).collect();
    assert!(limited.len() >= 20, "only {} of 30 limited", limited.len());
    assert!(
        limited
            .iter()
            .all(|r| r.headers().get("retry-after").is_some())
    );
    assert!(
        calm.iter().all(|r| r.status() == 200),
        "another province is never slowed"
    );
}

#[tokio::test]
async fn a_hard_cap_refuses_the_action_and_the_admin_hears_at_80_and_100_percent_once() {
    let app = TestApp::spawn().await;
    let t = app.create_tenant("son-la", "Sơn La").await;
    app.staff_token(
        "son-la",
        "admin@sonla.gov.vn",
        portal::accounts::staff::StaffRole::Admin,
    )
    .await;
    let op = app.operator_token().await;
    let capped = serde_json::json!({
        "name": "Có trần", "monthly_fee_vnd": 1000000, "rate_limit_rps": 100,
        "metrics": {
            "dossiers": {"included": 5, "unit_price_vnd": 1000, "hard_cap": 5},
            "storage_bytes": {"included": 1000000000, "unit_price_vnd": 1000, "hard_cap": null},
            "api_calls": {"included": 100000, "unit_price_vnd": 1, "hard_cap": null},
            "emails": {"included": 1000, "unit_price_vnd": 10, "hard_cap": null},
            "seats": {"included": 5, "unit_price_vnd": 1000, "hard_cap": null}
        }
    });
    app.client
        .put(app.url("/api/v1/plans/capped"))
        .header("Host", "ops.localhost")
        .bearer_auth(&op)
        .json(&capped)
        .send()
        .await
        .unwrap();
    app.client
        .put(app.url("/api/v1/tenants/son-la/lease"))
        .header("Host", "ops.localhost")
        .bearer_auth(&op)
        .json(&serde_json::json!({"plan": "capped", "starts_on": portal::clock::today_vn()}))
        .send()
        .await
        .unwrap();
    let citizen = app
        .citizen_token("son-la.localhost", "cap@example.vn")
        .await;
    for _ in 0..5 {
        app.submit_licence_renewal("son-la.localhost", &citizen)
            .await;
    }
    let res = app
        .post_json(
            "son-la.localhost",
            "/api/v1/dossiers",
            Some(&citizen),
            &licence_renewal(),
        )
        .await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "quota_exceeded");
    assert!(
        body["error"]["message"].as_str().unwrap().contains('5'),
        "the message names the cap: {body}"
    );
    // Nothing of the refused dossier was written.
    assert_eq!(
        count(
            &app,
            &format!("SELECT count(*) AS n FROM {}.dossiers", t.schema)
        ),
        5
    );
    assert_eq!(
        count(
            &app,
            &format!("SELECT count(*) AS n FROM {}.dossier_events", t.schema)
        ),
        5
    );
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT count(*) AS n FROM usage_events WHERE tenant_id = '{}' AND metric = 'dossiers'",
                t.id
            )
        ),
        5
    );
    // 80% (4 of 5) and 100% were announced, once each.
    let notices = count(
        &app,
        &format!(
            "SELECT count(*) AS n FROM {}.outbox WHERE kind = 'quota_notice'",
            t.schema
        ),
    );
    assert_eq!(notices, 2);
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT count(*) AS n FROM {}.outbox WHERE kind = 'quota_notice' AND subject LIKE '%80%%'",
                t.schema
            )
        ),
        1
    );
}

#[tokio::test]
async fn a_subscription_is_approved_into_a_serving_province_or_declined_into_nothing() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Hà Nội").await;
    let op = app.operator_token().await;
    let ask = |slug: &str| serde_json::json!({"province_name": "Tỉnh Mới", "slug": slug, "contact_email": "lanh.dao@tinhmoi.gov.vn", "plan": "standard"});
    let res = app
        .post_json("localhost", "/api/v1/subscriptions", None, &ask("tinh-moi"))
        .await;
    assert_eq!(res.status(), 202);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "pending");
    let id = body["id"].as_str().unwrap().to_string();
    app.verify_subscriptions().await;
    assert_eq!(
        app.post_json("localhost", "/api/v1/subscriptions", None, &ask("tinh-moi"))
            .await
            .status(),
        409,
        "a pending duplicate"
    );
    assert_eq!(
        app.post_json("localhost", "/api/v1/subscriptions", None, &ask("ha-noi"))
            .await
            .status(),
        409,
        "a taken slug"
    );
    assert_eq!(
        app.post_json("localhost", "/api/v1/subscriptions", None, &ask("Bad Slug"))
            .await
            .status(),
        422
    );

    let list: serde_json::Value = app
        .get_with_token("ops.localhost", "/api/v1/subscriptions", &op)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"][0]["plan"], "standard");
    let res = app
        .post_json(
            "ops.localhost",
            &format!("/api/v1/subscriptions/{id}/approve"),
            Some(&op),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let tenant: serde_json::Value = res.json().await.unwrap();
    assert_eq!(tenant["slug"], "tinh-moi");
    assert_eq!(app.get("tinh-moi.localhost", "/").await.status(), 200);
    let t = app.state.registry.by_slug("tinh-moi").unwrap();
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT count(*) AS n FROM {}.outbox WHERE kind = 'staff_invitation' AND to_email = 'lanh.dao@tinhmoi.gov.vn'",
                t.schema
            )
        ),
        1
    );
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT count(*) AS n FROM leases WHERE tenant_id = '{}'",
                t.id
            )
        ),
        1
    );
    assert_eq!(
        app.post_json(
            "ops.localhost",
            &format!("/api/v1/subscriptions/{id}/approve"),
            Some(&op),
            &serde_json::json!({})
        )
        .await
        .status(),
        409
    );

    // Declined: nothing provisioned, the reason mailed from the national outbox.
    let res = app
        .post_json(
            "localhost",
            "/api/v1/subscriptions",
            None,
            &ask("tinh-khac"),
        )
        .await;
    let id2 = res.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.verify_subscriptions().await;
    assert_eq!(
        app.post_json(
            "ops.localhost",
            &format!("/api/v1/subscriptions/{id2}/decline"),
            Some(&op),
            &serde_json::json!({})
        )
        .await
        .status(),
        422
    );
    let res = app
        .post_json(
            "ops.localhost",
            &format!("/api/v1/subscriptions/{id2}/decline"),
            Some(&op),
            &serde_json::json!({"reason": "Trùng địa bàn với Hà Nội"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["status"],
        "declined"
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM tenants WHERE slug = 'tinh-khac'"
        ),
        0
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM pg_namespace WHERE nspname = 't_tinh_khac'"
        ),
        0
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM public.outbox WHERE kind = 'subscription_declined'"
        ),
        1
    );
}
