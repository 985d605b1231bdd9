//! Round two on sign-in and sessions (#15 findings 3–4, #24 finding 4 and its Low items): a
//! sign-in flood must not take other provinces' connections, the lockout holds under a burst,
//! signing out (or a password change, or a deactivation) revokes old tokens on every replica,
//! the CSRF token is bound to the session, and invitation tokens stay out of the logs.

use std::sync::Arc;

use portal::accounts::operators::OperatorRole;
use portal::accounts::staff::StaffRole;
use portal::accounts::{Email, password};
use portal::startup::Application;
use portal::web::AppState;

use crate::browser::Browser;
use crate::helpers::{
    CITIZEN_PASSWORD, OPERATOR_EMAIL, OPERATOR_PASSWORD, TestApp, TestDb, error_code, test_settings,
};

/// A second replica on the same database (its own process state: pool, caches, limiter).
struct ReplicaB {
    port: u16,
    #[allow(dead_code)]
    state: Arc<AppState>,
    client: reqwest::Client,
}

impl ReplicaB {
    async fn start(a: &TestApp) -> ReplicaB {
        let app = Application::build(a.settings.clone()).expect("build replica B");
        let port = app.port();
        let state = app.state();
        tokio::spawn(app.run_until_stopped());
        ReplicaB {
            port,
            state,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    async fn page(&self, host: &str, path: &str, session: &str) -> u16 {
        self.client
            .get(format!("http://127.0.0.1:{}{path}", self.port))
            .header("Host", host)
            .header("Cookie", format!("session={session}"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    async fn api(&self, host: &str, path: &str, token: &str) -> u16 {
        self.client
            .get(format!("http://127.0.0.1:{}{path}", self.port))
            .header("Host", host)
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}

async fn token_status(app: &TestApp, host: &str, email: &str, pw: &str) -> u16 {
    app.post_json(
        host,
        "/api/v1/auth/token",
        None,
        &serde_json::json!({"email": email, "password": pw}),
    )
    .await
    .status()
    .as_u16()
}

// ---------------------------------------------------------------------------------------
// #15.3: hashing holds no connection, and concurrent hashing is bounded.

#[tokio::test]
async fn a_sign_in_flood_on_the_national_host_leaves_other_provinces_their_connections() {
    let db = TestDb::create();
    let mut settings = test_settings(&db.url);
    settings.database.pool_size = 3;
    settings.database.acquire_timeout_ms = 300;
    settings.auth.hash_concurrency = 1;
    settings.auth.hash_wait_ms = 50;
    let app = TestApp::spawn_with(db, settings).await;
    app.create_tenant("ha-noi", "Hà Nội").await;
    let citizen = app
        .citizen_token("ha-noi.localhost", "dan@example.vn")
        .await;

    // 40 anonymous sign-ins at once on the national host, each for another address.
    let flood: Vec<_> = (0..40)
        .map(|i| {
            let client = app.client.clone();
            let url = app.url("/api/v1/auth/token");
            tokio::spawn(async move {
                client
                    .post(url)
                    .header("Host", "localhost")
                    .json(&serde_json::json!({
                        "email": format!("flood{i}@example.vn"),
                        "password": "not-the-password-at-all"
                    }))
                    .send()
                    .await
                    .map(|r| {
                        let retry = r.headers().get("retry-after").is_some();
                        (r.status().as_u16(), retry)
                    })
                    .unwrap_or((0, false))
            })
        })
        .collect();
    // Meanwhile a citizen of Hà Nội reads their dossiers, several times.
    let mut neighbour = Vec::new();
    for _ in 0..6 {
        neighbour.push(
            app.get_with_token("ha-noi.localhost", "/api/v1/dossiers", &citizen)
                .await
                .status()
                .as_u16(),
        );
        tokio::time::sleep(std::time::Duration::from_millis(15)).await;
    }
    let mut statuses = Vec::new();
    for f in flood {
        statuses.push(f.await.unwrap());
    }
    assert!(
        neighbour.iter().all(|s| *s == 200),
        "the other province's citizen during the flood: {neighbour:?}"
    );
    assert!(
        statuses.iter().all(|(s, _)| *s == 401 || *s == 429),
        "flood answers: {statuses:?}"
    );
    let too_many: Vec<_> = statuses.iter().filter(|(s, _)| *s == 429).collect();
    assert!(
        !too_many.is_empty(),
        "beyond the hashing bound: 429, not a queue: {statuses:?}"
    );
    assert!(too_many.iter().all(|(_, retry)| *retry), "Retry-After");
}

#[tokio::test]
async fn beyond_the_hashing_bound_sign_in_answers_429_with_retry_after() {
    let db = TestDb::create();
    let mut settings = test_settings(&db.url);
    settings.auth.hash_concurrency = 1;
    settings.auth.hash_wait_ms = 20;
    let app = TestApp::spawn_with(db, settings).await;
    // The only permit taken: every sign-in waits 20 ms, then is told to come back.
    let held = app.state.hashing.try_hold().expect("the permit");
    let res = app
        .post_json(
            "localhost",
            "/api/v1/auth/token",
            None,
            &serde_json::json!({"email": "a@example.vn", "password": "whatever-1234"}),
        )
        .await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().get("retry-after").is_some());
    assert_eq!(error_code(res).await, "too_many_requests");
    drop(held);
    assert_eq!(
        token_status(&app, "localhost", "a@example.vn", "whatever-1234").await,
        401
    );
}

// ---------------------------------------------------------------------------------------
// #15.4: the lockout check and the failure count are one step per key.

/// 16 attempts at once (15 wrong, 1 right): at most the threshold (5) are verified (401 or
/// 200), the rest 429; once locked out, the right password is refused too.
async fn burst(app: &TestApp, host: &str, email: &str, right: &str) {
    let tries: Vec<_> = (0..16)
        .map(|i| {
            let client = app.client.clone();
            let url = app.url("/api/v1/auth/token");
            let host = host.to_string();
            let pw = if i == 7 {
                right.to_string()
            } else {
                format!("wrong-password-{i:02}")
            };
            let email = email.to_string();
            tokio::spawn(async move {
                client
                    .post(url)
                    .header("Host", host)
                    .json(&serde_json::json!({"email": email, "password": pw}))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tries {
        statuses.push(t.await.unwrap());
    }
    let verified = statuses.iter().filter(|s| **s == 401 || **s == 200).count();
    assert!(
        verified <= 5,
        "{host}: {verified} attempts verified at once, threshold 5: {statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| [200, 401, 429].contains(s)),
        "{statuses:?}"
    );
    // Fill the window if the right one went through in the burst, then the right password
    // must be refused as well.
    for i in 0..5 {
        if token_status(app, host, email, &format!("again-wrong-{i}")).await == 429 {
            break;
        }
    }
    assert_eq!(
        token_status(app, host, email, right).await,
        429,
        "{host}: the right password after the lockout"
    );
}

#[tokio::test]
async fn a_burst_of_sign_ins_gets_no_more_guesses_than_the_lockout_allows_on_every_site() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Hà Nội").await;
    app.citizen_token("ha-noi.localhost", "tinh@example.vn")
        .await;
    app.citizen_token("localhost", "quoc@example.vn").await;
    app.create_operator(OPERATOR_EMAIL, OPERATOR_PASSWORD, OperatorRole::Operator)
        .await;
    burst(
        &app,
        "ha-noi.localhost",
        "tinh@example.vn",
        CITIZEN_PASSWORD,
    )
    .await;
    burst(&app, "localhost", "quoc@example.vn", CITIZEN_PASSWORD).await;
    burst(&app, "ops.localhost", OPERATOR_EMAIL, OPERATOR_PASSWORD).await;
}

// ---------------------------------------------------------------------------------------
// #24.4: sign-out, a password change and a deactivation revoke old tokens on every replica.

#[tokio::test]
async fn a_citizen_signed_out_on_one_replica_is_signed_out_on_the_other() {
    let a = TestApp::spawn().await;
    a.create_tenant("ha-noi", "Hà Nội").await;
    let b = ReplicaB::start(&a).await;
    let host = "ha-noi.localhost";
    let api_token = a.citizen_token(host, "dan@example.vn").await;
    let mut browser = Browser::new(&a, host);
    let signed_in = browser.sign_in("dan@example.vn", "/dossiers").await;
    assert_eq!(signed_in.status, 303);
    let session = browser.cookies["session"].clone();
    assert_eq!(b.page(host, "/dossiers", &session).await, 200);
    assert_eq!(b.api(host, "/api/v1/dossiers", &session).await, 200);

    let csrf = browser.cookies["csrf"].clone();
    let out = browser.post("/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 303);

    assert_eq!(
        b.page(host, "/dossiers", &session).await,
        303,
        "the old cookie on replica B after sign-out"
    );
    assert_eq!(b.api(host, "/api/v1/dossiers", &session).await, 401);
    assert_eq!(b.api(host, "/api/v1/me", &session).await, 401);
    assert_eq!(b.api(host, "/api/v1/dossiers", &api_token).await, 401);
    // Signing in again works, on either replica.
    let fresh = a.token(host, "dan@example.vn", CITIZEN_PASSWORD).await;
    assert_eq!(b.api(host, "/api/v1/dossiers", &fresh).await, 200);
}

#[tokio::test]
async fn an_operator_signed_out_on_one_replica_is_signed_out_on_the_other() {
    let a = TestApp::spawn().await;
    a.create_operator(OPERATOR_EMAIL, OPERATOR_PASSWORD, OperatorRole::Operator)
        .await;
    let b = ReplicaB::start(&a).await;
    let host = "ops.localhost";
    let mut ops = Browser::operator_console(&a).await;
    let session = ops.cookies["session"].clone();
    assert_eq!(b.page(host, "/", &session).await, 200);
    assert_eq!(b.api(host, "/api/v1/me", &session).await, 200);

    let csrf = ops.cookies["csrf"].clone();
    assert_eq!(ops.post("/sign-out", &[("csrf", &csrf)]).await.status, 303);

    assert_eq!(
        b.page(host, "/", &session).await,
        303,
        "the old console cookie on replica B after sign-out"
    );
    assert_eq!(b.api(host, "/api/v1/me", &session).await, 401);
}

#[tokio::test]
async fn a_password_change_revokes_old_tokens_on_every_replica() {
    let a = TestApp::spawn().await;
    a.create_tenant("ha-noi", "Hà Nội").await;
    let b = ReplicaB::start(&a).await;
    let host = "ha-noi.localhost";
    let citizen = a.citizen_token(host, "dan@example.vn").await;
    let operator = a.operator_token().await;
    assert_eq!(b.api(host, "/api/v1/dossiers", &citizen).await, 200);
    assert_eq!(b.api("ops.localhost", "/api/v1/me", &operator).await, 200);

    // New passwords, as `portal user create` / `portal operator create` set them.
    let db = a.database().clone();
    tokio::task::spawn_blocking(move || {
        let hash = password::hash("a-new-password-2027").unwrap();
        db.control(|conn| {
            portal::accounts::citizens::upsert(
                conn,
                &Email::parse("dan@example.vn").unwrap(),
                "Dân",
                &hash,
            )
        })
        .unwrap();
    })
    .await
    .unwrap();
    a.create_operator(
        OPERATOR_EMAIL,
        "operator-password-2",
        OperatorRole::Operator,
    )
    .await;

    assert_eq!(b.api(host, "/api/v1/dossiers", &citizen).await, 401);
    assert_eq!(b.api("ops.localhost", "/api/v1/me", &operator).await, 401);
    let fresh = a.token(host, "dan@example.vn", "a-new-password-2027").await;
    assert_eq!(b.api(host, "/api/v1/dossiers", &fresh).await, 200);
}

#[tokio::test]
async fn a_deactivated_officials_old_token_stays_dead_after_reactivation() {
    let a = TestApp::spawn().await;
    a.create_tenant("ha-noi", "Hà Nội").await;
    let b = ReplicaB::start(&a).await;
    let host = "ha-noi.localhost";
    let admin = a
        .staff_token("ha-noi", "admin@ha-noi.vn", StaffRole::Admin)
        .await;
    let official = a
        .staff_token("ha-noi", "canbo@ha-noi.vn", StaffRole::Official)
        .await;
    assert_eq!(b.api(host, "/api/v1/manage/dossiers", &official).await, 200);
    let users: serde_json::Value = a
        .get_with_token(host, "/api/v1/manage/users", &admin)
        .await
        .json()
        .await
        .unwrap();
    let id = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "canbo@ha-noi.vn")
        .expect("the official")["id"]
        .as_str()
        .unwrap()
        .to_string();
    for verb in ["deactivate", "activate"] {
        let res = a
            .post_json(
                host,
                &format!("/api/v1/manage/users/{id}/{verb}"),
                Some(&admin),
                &serde_json::json!({}),
            )
            .await;
        assert_eq!(res.status(), 200, "{verb}");
    }
    assert_eq!(
        b.api(host, "/api/v1/manage/dossiers", &official).await,
        401,
        "the token from before the deactivation"
    );
    assert_eq!(b.api(host, "/api/v1/me", &official).await, 401);
    let fresh = a
        .token(host, "canbo@ha-noi.vn", crate::helpers::STAFF_PASSWORD)
        .await;
    assert_eq!(b.api(host, "/api/v1/manage/dossiers", &fresh).await, 200);
}

// ---------------------------------------------------------------------------------------
// #24 Low: the CSRF token is bound to the session.

#[tokio::test]
async fn a_csrf_cookie_planted_from_a_sibling_host_does_not_validate_with_a_real_session() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Hà Nội").await;
    app.create_operator(OPERATOR_EMAIL, OPERATOR_PASSWORD, OperatorRole::Operator)
        .await;
    let ops = Browser::operator_console(&app).await;
    let session = ops.cookies["session"].clone();
    // `Set-Cookie: csrf=…; Domain=localhost` from a province's page: the attacker knows it.
    let planted = "ab".repeat(32);
    let res = app
        .client
        .post(app.url("/tenants/ha-noi/status"))
        .header("Host", "ops.localhost")
        .header("Cookie", format!("session={session}; csrf={planted}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("csrf={planted}&status=suspended"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "a planted csrf cookie and field");
    let t = app.state.registry.by_slug("ha-noi").unwrap();
    assert_eq!(
        t.status,
        portal::tenancy::TenantStatus::Active,
        "still active"
    );
    // The console's own token still works.
    let csrf = ops.cookies["csrf"].clone();
    let res = app
        .client
        .post(app.url("/tenants/ha-noi/status"))
        .header("Host", "ops.localhost")
        .header("Cookie", format!("session={session}; csrf={csrf}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}&status=suspended"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
}

// ---------------------------------------------------------------------------------------
// #24 Low: invitations.

#[tokio::test]
async fn an_unknown_invitation_is_refused_without_hashing_a_password() {
    let db = TestDb::create();
    let mut settings = test_settings(&db.url);
    settings.auth.hash_concurrency = 1;
    settings.auth.hash_wait_ms = 20;
    let app = TestApp::spawn_with(db, settings).await;
    app.create_tenant("ha-noi", "Hà Nội").await;
    // The one hashing permit is taken: a request that hashed would wait and get 429.
    let held = app.state.hashing.try_hold().expect("the permit");
    let res = app
        .post_json(
            "ha-noi.localhost",
            &format!("/api/v1/auth/invitations/{}", "ab".repeat(32)),
            None,
            &serde_json::json!({"password": "mot-mat-khau-rat-dai-2026"}),
        )
        .await;
    assert_eq!(res.status(), 404);
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitation_tokens_never_reach_the_request_log() {
    use crate::children::{ChildGuard, free_port};
    use std::time::Duration;
    let test_db = TestDb::create();
    let db = portal::db::Db::new(&test_settings(&test_db.url).database);
    tokio::task::spawn_blocking(move || {
        let new = portal::tenancy::provision::NewTenant::parse(
            "ha-noi",
            "Hà Nội",
            "standard",
            &[],
            "localhost",
        )
        .unwrap();
        portal::app::provisioning::provision(&db, &new, "test").unwrap();
    })
    .await
    .unwrap();
    let port = free_port();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_portal"));
    cmd.arg("serve")
        .env("DATABASE_URL", &test_db.url)
        .env("PORTAL__SERVER__BIND", format!("127.0.0.1:{port}"))
        .env("PORTAL__AUTH__JWT_SECRET", crate::helpers::JWT_SECRET)
        .env("PORTAL__LOG__FORMAT", "json")
        .env("PORTAL__JOBS__ENABLED", "false")
        .env(
            "PORTAL__STORAGE__DATA_DIR",
            std::env::temp_dir().join(format!("portal-redact-{port}")),
        )
        .env("RUST_LOG", "info");
    let mut child = ChildGuard::spawn("portal-redacted-logs", cmd);
    let client = reqwest::Client::new();
    let url = |path: &str| format!("http://127.0.0.1:{port}{path}");
    for _ in 0..200 {
        if client.get(url("/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let token = "5ec7e7".repeat(10);
    let res = client
        .get(url(&format!("/invitations/{token}")))
        .header("Host", "ha-noi.localhost")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success() || res.status() == 404 || res.status() == 410);
    let res = client
        .post(url(&format!("/api/v1/auth/invitations/{token}")))
        .header("Host", "ha-noi.localhost")
        .json(&serde_json::json!({"password": "mot-mat-khau-rat-dai-2026"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let stopped = tokio::task::spawn_blocking(move || {
        child.terminate(Duration::from_secs(30));
        child
    })
    .await
    .unwrap();
    let log = stopped.log_text();
    assert!(
        log.contains("/invitations/"),
        "the requests were logged:\n{log}"
    );
    assert!(
        !log.contains(&token),
        "an invitation token in the log:\n{log}"
    );
}
