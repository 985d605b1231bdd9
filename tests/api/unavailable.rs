//! A busy or absent database gives 503 in the contract's shape, never a panic or a hang.

use diesel::prelude::*;
use diesel::sql_query;
use secrecy::SecretString;

use crate::helpers::{TestApp, TestDb, error_code, test_settings};

#[tokio::test]
async fn an_exhausted_pool_answers_503_with_the_error_envelope() {
    let db = TestDb::create();
    let mut settings = test_settings(&db.url);
    settings.database.pool_size = 1;
    settings.database.acquire_timeout_ms = 300;
    let app = TestApp::spawn_with(db, settings).await;
    app.create_tenant("ha-noi", "Hà Nội").await;
    // Hold the only connection.
    let held = app.database().checkout().unwrap();
    let res = app.get("ha-noi.localhost", "/api/v1/site").await;
    assert_eq!(res.status(), 503);
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(error_code(res).await, "unavailable");
    let page = app.get("ha-noi.localhost", "/").await;
    assert_eq!(page.status(), 503);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(app.get("localhost", "/readyz").await.status(), 503);
    assert_eq!(app.get("localhost", "/healthz").await.status(), 200);
    drop(held);
    assert_eq!(
        app.get("ha-noi.localhost", "/api/v1/site").await.status(),
        200
    );
    assert_eq!(app.get("localhost", "/readyz").await.status(), 200);
}

#[tokio::test]
async fn without_a_database_the_server_still_starts_and_is_not_ready() {
    let db = TestDb::create();
    let mut settings = test_settings(&db.url);
    settings.database.url = SecretString::from("postgres://postgres@127.0.0.1:1/none".to_string());
    settings.database.acquire_timeout_ms = 300;
    let app = TestApp::spawn_with(db, settings).await;
    assert_eq!(app.get("localhost", "/healthz").await.status(), 200);
    let res = app.get("localhost", "/readyz").await;
    assert_eq!(res.status(), 503);
    assert_eq!(error_code(res).await, "unavailable");
    let res = app
        .post_json(
            "ops.localhost",
            "/api/v1/auth/token",
            None,
            &serde_json::json!({"email": "a@b.vn", "password": "x"}),
        )
        .await;
    assert_eq!(res.status(), 503);
}

#[tokio::test]
async fn a_deactivated_operator_is_refused_on_the_next_request() {
    let app = TestApp::spawn().await;
    let token = app.operator_token().await;
    assert_eq!(
        app.get_with_token("ops.localhost", "/api/v1/tenants", &token)
            .await
            .status(),
        200
    );
    sql_query("UPDATE public.operators SET active = false")
        .execute(&mut app.raw_connection())
        .unwrap();
    let res = app
        .get_with_token("ops.localhost", "/api/v1/tenants", &token)
        .await;
    assert_eq!(res.status(), 401);
}
