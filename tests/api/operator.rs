//! Operator sign-in and tokens: valid only on the site that issued them.

use portal::accounts::operators::OperatorRole;

use crate::helpers::{OPERATOR_EMAIL, OPERATOR_PASSWORD, TestApp, error_code};

#[tokio::test]
async fn tokens_are_refused_on_other_sites_and_from_other_keys() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Hà Nội").await;
    let token = app.operator_token().await;
    let me = app
        .get_with_token("ops.localhost", "/api/v1/me", &token)
        .await;
    assert_eq!(me.status(), 200);
    let body: serde_json::Value = me.json().await.unwrap();
    assert_eq!(body["email"], OPERATOR_EMAIL);
    assert_eq!(body["role"], "operator");

    // The operator's token on a province host.
    let res = app
        .get_with_token("ha-noi.localhost", "/api/v1/me", &token)
        .await;
    assert_eq!(res.status(), 401);
    assert_eq!(error_code(res).await, "unauthorized");

    // A token signed with another key, and garbage.
    let foreign = portal::accounts::jwt::Jwt::new(
        &secrecy::SecretString::from("another-key-0123456789abcdef0123456789".to_string()),
        3600,
    );
    let me_id = body["id"].as_str().unwrap();
    let forged = foreign
        .issue(me_id, "portal:operator", "operator", 0)
        .unwrap();
    for bad in [forged.as_str(), "not-a-token", ""] {
        let res = app
            .get_with_token("ops.localhost", "/api/v1/tenants", bad)
            .await;
        assert_eq!(res.status(), 401, "{bad:?}");
        assert_eq!(error_code(res).await, "unauthorized");
    }
    // No token at all.
    assert_eq!(
        app.get("ops.localhost", "/api/v1/tenants").await.status(),
        401
    );
}

#[tokio::test]
async fn wrong_credentials_are_401_and_billing_cannot_change_tenants() {
    let app = TestApp::spawn().await;
    app.create_operator(OPERATOR_EMAIL, OPERATOR_PASSWORD, OperatorRole::Operator)
        .await;
    for (email, pw) in [
        (OPERATOR_EMAIL, "wrong-password-x"),
        ("nobody@example.vn", OPERATOR_PASSWORD),
    ] {
        let res = app
            .post_json(
                "ops.localhost",
                "/api/v1/auth/token",
                None,
                &serde_json::json!({"email": email, "password": pw}),
            )
            .await;
        assert_eq!(res.status(), 401, "{email}");
    }
    // The same message whether the account exists or not.
    let a = app
        .post_json(
            "ops.localhost",
            "/api/v1/auth/token",
            None,
            &serde_json::json!({"email": OPERATOR_EMAIL, "password": "nope-nope-nope"}),
        )
        .await
        .text()
        .await
        .unwrap();
    let b = app
        .post_json(
            "ops.localhost",
            "/api/v1/auth/token",
            None,
            &serde_json::json!({"email": "x@example.vn", "password": "nope-nope-nope"}),
        )
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(a, b);

    app.create_operator(
        "finance@example.vn",
        "finance-password-1",
        OperatorRole::Billing,
    )
    .await;
    let billing = app
        .token("ops.localhost", "finance@example.vn", "finance-password-1")
        .await;
    assert_eq!(
        app.get_with_token("ops.localhost", "/api/v1/tenants", &billing)
            .await
            .status(),
        200
    );
    let res = app
        .post_json(
            "ops.localhost",
            "/api/v1/tenants",
            Some(&billing),
            &serde_json::json!({"slug": "hue", "name": "Huế", "plan": "basic"}),
        )
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(error_code(res).await, "forbidden");

    // Malformed bodies: 400, missing fields: 422, never 500.
    let res = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .header("Host", "ops.localhost")
        .header("Content-Type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(error_code(res).await, "malformed");
    let res = app
        .post_json(
            "ops.localhost",
            "/api/v1/auth/token",
            None,
            &serde_json::json!({"email": "a@b.vn"}),
        )
        .await;
    assert_eq!(res.status(), 422);
}
