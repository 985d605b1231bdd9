//! The site resolver: exact hosts, ports and case ignored, never a fall-back to another site.

use portal::app::provisioning::provision;
use portal::tenancy::provision::NewTenant;

use crate::helpers::{TestApp, error_code};

#[tokio::test]
async fn each_host_reaches_its_own_site_and_no_other() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let db = app.database().clone();
    let registry = app.state.registry.clone();
    tokio::task::spawn_blocking(move || {
        let domains = vec!["dichvucong.quangninh.gov.vn".to_string()];
        let new = NewTenant::parse(
            "quang-ninh",
            "Tỉnh Quảng Ninh",
            "standard",
            &domains,
            "localhost",
        )
        .unwrap();
        provision(&db, &new, "test").unwrap();
        registry.reload().unwrap();
    })
    .await
    .unwrap();
    let suspended = app.create_tenant("ca-mau", "Tỉnh Cà Mau").await;
    let token = app.operator_token().await;
    let res = app
        .post_json(
            "ops.localhost",
            &format!("/api/v1/tenants/{}/suspend", suspended.slug),
            Some(&token),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);

    // (host, path, status, text the body must contain)
    let cases = [
        ("localhost", "/", 200, "Tỉnh, thành phố"),
        ("www.localhost", "/", 200, "Tỉnh, thành phố"),
        ("localhost:8080", "/", 200, "Tỉnh, thành phố"),
        ("WWW.LocalHost", "/", 200, "Tỉnh, thành phố"),
        ("ops.localhost", "/sign-in", 200, "Đăng nhập nhà vận hành"),
        ("ha-noi.localhost", "/", 200, "Thành phố Hà Nội"),
        ("HA-NOI.LOCALHOST:8080", "/", 200, "Thành phố Hà Nội"),
        ("ha-noi.localhost.", "/", 200, "Thành phố Hà Nội"),
        ("dichvucong.quangninh.gov.vn", "/", 200, "Tỉnh Quảng Ninh"),
        (
            "DichVuCong.QuangNinh.gov.vn:443",
            "/",
            200,
            "Tỉnh Quảng Ninh",
        ),
        (
            "quang-ninh.localhost",
            "/api/v1/site",
            200,
            "\"slug\":\"quang-ninh\"",
        ),
        ("unknown.localhost", "/", 404, "404"),
        ("unknown.localhost", "/api/v1/site", 404, "not_found"),
        ("evil.example.com", "/", 404, "404"),
        ("ha-noi.localhost.evil.com", "/", 404, "404"),
        ("x.ha-noi.localhost", "/", 404, "404"),
        ("ca-mau.localhost", "/", 503, "tạm ngừng"),
        ("ca-mau.localhost", "/api/v1/site", 503, "tenant_suspended"),
        ("ha-noi.localhost", "/api/v1/tenants", 404, "not_found"),
        ("localhost", "/api/v1/site", 404, "not_found"),
    ];
    for (host, path, status, needle) in cases {
        let res = app.get(host, path).await;
        assert_eq!(res.status().as_u16(), status, "{host}{path}");
        let api = path.starts_with("/api/");
        let content_type = res.headers()["content-type"].to_str().unwrap().to_string();
        let body = res.text().await.unwrap();
        assert!(
            body.contains(needle),
            "{host}{path}: {needle:?} not in {body}"
        );
        if api {
            assert!(content_type.starts_with("application/json"), "{host}{path}");
        } else {
            assert!(content_type.starts_with("text/html"), "{host}{path}");
        }
    }

    // Probes answer on any host, known or not.
    for host in ["localhost", "nope.localhost", "ca-mau.localhost", "1.2.3.4"] {
        assert_eq!(app.get(host, "/healthz").await.status(), 200, "{host}");
        assert_eq!(app.get(host, "/readyz").await.status(), 200, "{host}");
        // Metrics are the operator host's, with a token (observability.rs).
        assert_eq!(app.get(host, "/metrics").await.status(), 404, "{host}");
    }
}

#[tokio::test]
async fn a_resumed_province_serves_again_and_english_errors_on_request() {
    let app = TestApp::spawn().await;
    app.create_tenant("hue", "Thành phố Huế").await;
    let token = app.operator_token().await;
    app.post_json(
        "ops.localhost",
        "/api/v1/tenants/hue/suspend",
        Some(&token),
        &serde_json::json!({}),
    )
    .await;
    let res = app
        .client
        .get(app.url("/api/v1/site"))
        .header("Host", "hue.localhost")
        .header("Accept-Language", "en-US,en;q=0.9")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    assert!(res.headers().contains_key("retry-after"));
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        body["error"]["message"],
        "This province's public-service portal is temporarily suspended."
    );
    let res = app
        .post_json(
            "ops.localhost",
            "/api/v1/tenants/hue/resume",
            Some(&token),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "active");
    assert_eq!(app.get("hue.localhost", "/").await.status(), 200);
    let missing = app
        .post_json(
            "ops.localhost",
            "/api/v1/tenants/nope/suspend",
            Some(&token),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(missing.status(), 404);
    assert_eq!(error_code(missing).await, "not_found");
}

#[tokio::test]
async fn another_replica_sees_a_new_province_through_notify() {
    let app = TestApp::spawn().await;
    // A second replica on the same database.
    let other = portal::startup::Application::build(app.settings.clone()).unwrap();
    let other_port = other.port();
    tokio::spawn(other.run_until_stopped());
    app.create_tenant("gia-lai", "Tỉnh Gia Lai").await;
    let url = format!("http://127.0.0.1:{other_port}/");
    let started = std::time::Instant::now();
    loop {
        let res = app
            .client
            .get(&url)
            .header("Host", "gia-lai.localhost")
            .send()
            .await
            .unwrap();
        if res.status() == 200 {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(3),
            "the other replica never saw it"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The home page of `host` on `port`, as text.
async fn home_on(app: &TestApp, port: u16, host: &str) -> String {
    app.client
        .get(format!("http://127.0.0.1:{port}/"))
        .header("Host", host)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_branding_or_procedure_change_reaches_every_replicas_cached_pages() {
    use portal::accounts::staff::StaffRole;
    let app = TestApp::spawn().await;
    app.create_tenant("hue", "Thành phố Huế").await;
    let other = portal::startup::Application::build(app.settings.clone()).unwrap();
    let other_port = other.port();
    tokio::spawn(other.run_until_stopped());
    let host = "hue.localhost";
    // Both replicas have the province's site data cached now.
    assert!(
        home_on(&app, app.port, host)
            .await
            .contains("Thành phố Huế")
    );
    assert!(
        home_on(&app, other_port, host)
            .await
            .contains("Thành phố Huế")
    );
    assert!(
        home_on(&app, other_port, host)
            .await
            .contains("/procedures/GPLX-001")
    );

    let admin = app
        .staff_token("hue", "admin@hue.gov.vn", StaffRole::Admin)
        .await;
    let res = app
        .client
        .put(app.url("/api/v1/manage/branding"))
        .header("Host", host)
        .bearer_auth(&admin)
        .json(&serde_json::json!({"display_name": "Cố đô Huế", "accent_color": "#0b5394"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .client
        .put(app.url("/api/v1/manage/procedures/GPLX-001"))
        .header("Host", host)
        .bearer_auth(&admin)
        .json(&serde_json::json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // The replica that made the change shows it at once.
    let here = home_on(&app, app.port, host).await;
    assert!(here.contains("Cố đô Huế"), "{here}");
    assert!(!here.contains("/procedures/GPLX-001"), "{here}");
    // The other one as soon as the notification arrives.
    let started = std::time::Instant::now();
    loop {
        let there = home_on(&app, other_port, host).await;
        if there.contains("Cố đô Huế") && !there.contains("/procedures/GPLX-001") {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "the other replica kept its old copy"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
