//! Attacks on the limits (issue 15, findings 3, 6, 7 and the low ones): floods of sign-ins,
//! registrations and subscription requests from one client on every site; one anonymous
//! client draining its province's bucket and being billed to it; unlimited dossiers from one
//! free account; a slow body holding a connection; a `//host/` path in the language switch.
//!
//! Every test client is 127.0.0.1: tests that need several clients trust 127.0.0.1 as a proxy
//! and name the client in `X-Forwarded-For`, as a load balancer in front would.

use serde_json::json;

use crate::attacks_kit::{count, refused};
use crate::browser::{Browser, file_part};
use crate::helpers::{CITIZEN_ID, TestApp, TestDb, licence_renewal, test_settings};

const HN: &str = "ha-noi.localhost";

/// A fresh app with the per-client limits on (the suite turns them off), trusting 127.0.0.1
/// as a proxy when `proxy` is set.
async fn spawn_limited(proxy: bool, tune: impl FnOnce(&mut portal::config::Settings)) -> TestApp {
    let db = TestDb::create();
    let mut settings = test_settings(&db.url);
    settings.limits.enabled = true;
    if proxy {
        settings.limits.trusted_proxies = "127.0.0.1".into();
    }
    tune(&mut settings);
    TestApp::spawn_with(db, settings).await
}

async fn post_as(
    app: &TestApp,
    client: &str,
    host: &str,
    path: &str,
    body: &serde_json::Value,
) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header("Host", host)
        .header("X-Forwarded-For", client)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn form_as(app: &TestApp, client: &str, host: &str, path: &str) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header("Host", host)
        .header("X-Forwarded-For", client)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Accept-Language", "en")
        .body("email=a%40example.vn&password=sai-mat-khau")
        .send()
        .await
        .unwrap()
}

/// Finding 3: every sign-in, registration, invitation and subscription door of every site,
/// API and pages: after the client's burst (3 here), 429 with `Retry-After` — before any
/// password is hashed. Each door is tried by its own client, so each starts with a full budget.
#[tokio::test]
async fn every_account_door_of_every_site_limits_each_client() {
    let app = spawn_limited(true, |s| {
        s.limits.account_burst = 3;
        s.limits.account_per_minute = 1;
    })
    .await;
    app.create_tenant("ha-noi", "Hà Nội").await;
    // A different address at each sign-in door: the lockout of one account stays out of it.
    let sign_in =
        |n: u32| json!({"email": format!("ai-do-{n}@example.vn"), "password": "sai-mat-khau-123"});
    let register = json!({"email": "", "password": "x", "full_name": ""});
    let subscribe = json!({"province_name": "", "slug": "", "contact_email": "", "plan": ""});
    let api_doors: [(&str, &str, serde_json::Value); 7] = [
        ("localhost", "/api/v1/auth/token", sign_in(1)),
        ("ops.localhost", "/api/v1/auth/token", sign_in(2)),
        (HN, "/api/v1/auth/token", sign_in(3)),
        ("localhost", "/api/v1/auth/register", register.clone()),
        (HN, "/api/v1/auth/register", register.clone()),
        (HN, "/api/v1/auth/invitations/khong-co", register),
        ("localhost", "/api/v1/subscriptions", subscribe),
    ];
    for (i, (host, path, body)) in api_doors.iter().enumerate() {
        let client = format!("198.51.100.{}", i + 1);
        for n in 0..3 {
            let res = post_as(&app, &client, host, path, body).await;
            assert_ne!(
                res.status(),
                429,
                "{host}{path}: attempt {n} within the burst"
            );
        }
        let res = post_as(&app, &client, host, path, body).await;
        assert!(
            res.headers().contains_key("retry-after"),
            "{host}{path}: no limit, got {}",
            res.status()
        );
        refused(res, 429, "too_many_requests").await;
        // Another client at the same door is served as before.
        let other = post_as(&app, &format!("192.0.2.{}", i + 1), host, path, body).await;
        assert_ne!(other.status(), 429, "{host}{path}: another client");
    }
    let page_doors = [
        ("ops.localhost", "/sign-in"),
        (HN, "/sign-in"),
        (HN, "/register"),
        (HN, "/invitations/khong-co"),
        ("localhost", "/subscribe"),
    ];
    for (i, (host, path)) in page_doors.into_iter().enumerate() {
        let client = format!("203.0.113.{}", i + 1);
        for _ in 0..3 {
            assert_ne!(form_as(&app, &client, host, path).await.status(), 429);
        }
        let res = form_as(&app, &client, host, path).await;
        assert_eq!(res.status(), 429, "{host}{path}: no limit on the page");
        let wait: u64 = res.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(wait >= 1, "{host}{path}");
        let body = res.text().await.unwrap();
        assert!(body.contains("<html"), "{host}{path}: a page");
        // Readable whatever the browser asked for: both languages.
        assert!(body.contains("Too many sign-in"), "{host}{path}: {body}");
        assert!(
            body.contains("Có quá nhiều yêu cầu"),
            "{host}{path}: {body}"
        );
    }
}

/// Without a trusted proxy configured, `X-Forwarded-For` is the client's to forge: a new
/// value each time gives no new budget.
#[tokio::test]
async fn a_forged_forwarded_for_gives_no_fresh_budget() {
    let app = spawn_limited(false, |s| {
        s.limits.account_burst = 3;
        s.limits.account_per_minute = 1;
    })
    .await;
    let sign_in = json!({"email": "ai-do@example.vn", "password": "sai-mat-khau-123"});
    let mut statuses = Vec::new();
    for i in 0..6 {
        let res = post_as(
            &app,
            &format!("198.51.100.{i}"),
            "localhost",
            "/api/v1/auth/token",
            &sign_in,
        )
        .await;
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429, 429]);
}

/// A plan with the given rate and burst, leased to Hà Nội from today.
async fn lease(app: &TestApp, rps: i32, burst: i32) {
    let op = app.operator_token().await;
    let plan = json!({
        "name": "Cơ bản nhỏ", "monthly_fee_vnd": 1000000, "rate_limit_rps": rps, "rate_burst": burst,
        "metrics": {
            "dossiers": {"included": 100, "unit_price_vnd": 1000, "hard_cap": null},
            "storage_bytes": {"included": 1000000000, "unit_price_vnd": 1000, "hard_cap": null},
            "api_calls": {"included": 100000, "unit_price_vnd": 1, "hard_cap": null},
            "emails": {"included": 1000, "unit_price_vnd": 10, "hard_cap": null},
            "seats": {"included": 5, "unit_price_vnd": 1000, "hard_cap": null}
        }
    });
    let res = app
        .client
        .put(app.url("/api/v1/plans/nho"))
        .header("Host", "ops.localhost")
        .bearer_auth(&op)
        .json(&plan)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .client
        .put(app.url("/api/v1/tenants/ha-noi/lease"))
        .header("Host", "ops.localhost")
        .bearer_auth(&op)
        .json(&json!({"plan": "nho", "starts_on": portal::clock::today_vn()}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

async fn get_as(app: &TestApp, client: &str, path: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .header("Host", HN)
        .header("X-Forwarded-For", client)
        .send()
        .await
        .unwrap()
}

/// Finding 6: one anonymous script floods a small province (5 requests/s, burst 10): it
/// meets its own 429 (its share: 1 request/s, burst 5) and the province's bucket keeps
/// enough for everyone else.
#[tokio::test]
async fn one_flooding_client_is_limited_while_its_neighbours_are_served() {
    let app = spawn_limited(true, |_| {}).await;
    app.create_tenant("ha-noi", "Hà Nội").await;
    lease(&app, 5, 10).await;
    let flood = futures_util::future::join_all(
        (0..30).map(|_| get_as(&app, "203.0.113.66", "/api/v1/procedures")),
    )
    .await;
    let limited: Vec<reqwest::Response> = flood.into_iter().filter(|r| r.status() == 429).collect();
    assert!(limited.len() >= 24, "{} of 30 limited", limited.len());
    for res in limited.into_iter().take(3) {
        assert!(res.headers().contains_key("retry-after"));
        refused(res, 429, "rate_limited").await;
    }
    // Citizens of the province, each from their own address, are served.
    for i in 1..=4 {
        let res = get_as(&app, &format!("198.51.100.{i}"), "/api/v1/procedures").await;
        assert_eq!(res.status(), 200, "citizen {i} after the flood");
    }
}

async fn usage_api_calls(app: &TestApp) -> i64 {
    let state = app.state.clone();
    tokio::task::spawn_blocking(move || state.api_calls.flush(&state.db, &state.registry))
        .await
        .unwrap()
        .unwrap();
    let op = app.operator_token().await;
    let usage: serde_json::Value = app
        .get_with_token("ops.localhost", "/api/v1/tenants/ha-noi/usage", &op)
        .await
        .json()
        .await
        .unwrap();
    usage["metrics"]["api_calls"]["used"].as_i64().unwrap()
}

/// Finding 6: anonymous calls, refused calls (401) and calls that find nothing (404) are not
/// the province's to pay; an authenticated call that succeeds is.
#[tokio::test]
async fn only_authenticated_successful_api_calls_are_billed() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Hà Nội").await;
    let token = app.citizen_token(HN, "dan@example.vn").await;
    for _ in 0..3 {
        assert_eq!(app.get(HN, "/api/v1/procedures").await.status(), 200);
        assert_eq!(app.get(HN, "/api/v1/dossiers").await.status(), 401);
        let forged = app
            .get_with_token(HN, "/api/v1/dossiers", "not.a.token")
            .await;
        assert_eq!(forged.status(), 401);
        let missing = app
            .get_with_token(HN, "/api/v1/dossiers/KHONG-CO", &token)
            .await;
        assert_eq!(missing.status(), 404);
        assert_eq!(app.get(HN, "/api/v1/khong-co").await.status(), 404);
    }
    for _ in 0..2 {
        let mine = app.get_with_token(HN, "/api/v1/dossiers", &token).await;
        assert_eq!(mine.status(), 200);
    }
    assert_eq!(
        usage_api_calls(&app).await,
        2,
        "only the two signed-in reads"
    );
}

async fn file(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_json(HN, "/api/v1/dossiers", Some(token), &licence_renewal())
        .await
}

/// Finding 7: one free account files dossier after dossier. Now so many an hour (2 here),
/// then 429 saying when, in both languages; another citizen and the counter are not held up.
#[tokio::test]
async fn a_citizen_files_only_so_many_dossiers_an_hour() {
    let app = spawn_limited(false, |s| {
        s.limits.submissions_per_hour = 2;
        s.limits.open_per_procedure = 100;
    })
    .await;
    app.create_tenant("ha-noi", "Hà Nội").await;
    let token = app.citizen_token(HN, "dan@example.vn").await;
    for _ in 0..2 {
        assert_eq!(file(&app, &token).await.status(), 201);
    }
    let res = app
        .client
        .post(app.url("/api/v1/dossiers"))
        .header("Host", HN)
        .header("Accept-Language", "en")
        .bearer_auth(&token)
        .json(&licence_renewal())
        .send()
        .await
        .unwrap();
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((3500..=3600).contains(&wait), "about an hour: {wait}");
    let body = refused(res, 429, "too_many_dossiers").await;
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("You can file again from"), "{message}");
    let vi = file(&app, &token).await;
    let body = refused(vi, 429, "too_many_dossiers").await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Bạn có thể nộp tiếp từ")
    );
    // Another citizen files; an official registers at the counter as often as needed.
    let other = app.citizen_token(HN, "khac@example.vn").await;
    assert_eq!(file(&app, &other).await.status(), 201);
    let official = app
        .staff_token(
            "ha-noi",
            "canbo@hanoi.gov.vn",
            portal::accounts::staff::StaffRole::Official,
        )
        .await;
    for _ in 0..3 {
        let res = app
            .post_json(
                HN,
                "/api/v1/manage/dossiers",
                Some(&official),
                &licence_renewal(),
            )
            .await;
        assert_eq!(res.status(), 201);
    }
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM t_ha_noi.dossiers"),
        6
    );
}

/// Finding 7, at once: 10 submissions in parallel from one account with 3 an hour allowed:
/// exactly 3 are filed (the count and the insert are one step per citizen).
#[tokio::test]
async fn parallel_submissions_cannot_pass_the_limit_together() {
    let app = spawn_limited(false, |s| {
        s.limits.submissions_per_hour = 3;
        s.limits.open_per_procedure = 100;
    })
    .await;
    app.create_tenant("ha-noi", "Hà Nội").await;
    let token = app.citizen_token(HN, "dan@example.vn").await;
    let all = futures_util::future::join_all((0..10).map(|_| file(&app, &token))).await;
    let filed = all.iter().filter(|r| r.status() == 201).count();
    let limited = all.iter().filter(|r| r.status() == 429).count();
    assert_eq!((filed, limited), (3, 7));
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM t_ha_noi.dossiers"),
        3
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM usage_events WHERE metric = 'dossiers'"
        ),
        3,
        "only filed dossiers are billed"
    );
}

/// Finding 7: a day's limit, and open dossiers of one procedure (withdrawing one frees a place).
#[tokio::test]
async fn a_citizen_has_only_so_many_open_dossiers_of_a_procedure_and_so_many_a_day() {
    let app = spawn_limited(false, |s| {
        s.limits.submissions_per_hour = 100;
        s.limits.submissions_per_day = 3;
        s.limits.open_per_procedure = 2;
    })
    .await;
    app.create_tenant("ha-noi", "Hà Nội").await;
    let token = app.citizen_token(HN, "dan@example.vn").await;
    let first = file(&app, &token).await;
    let code: serde_json::Value = first.json().await.unwrap();
    let code = code["tracking_code"].as_str().unwrap().to_string();
    assert_eq!(file(&app, &token).await.status(), 201);
    let res = file(&app, &token).await;
    assert!(res.headers().contains_key("retry-after"));
    refused(res, 429, "too_many_open_dossiers").await;
    let res = app
        .post_json(
            HN,
            &format!("/api/v1/dossiers/{code}/withdraw"),
            Some(&token),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(file(&app, &token).await.status(), 201, "a place is free");
    // Three today (the withdrawn one counts: it was filed, billed and mailed).
    let res = file(&app, &token).await;
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 23 * 3600, "about a day: {wait}");
    refused(res, 429, "too_many_dossiers").await;
}

// Complete files: uploads that are cut short or blank are refused (src/uploads/).
const PDF: &[u8] = crate::fixtures::PDF;
const PNG: &[u8] = crate::fixtures::PNG;

/// Finding 7 through the pages: the draft's submit meets the same limit, as a readable page.
#[tokio::test]
async fn the_pages_submit_meets_the_same_limit_with_a_readable_page() {
    let app = spawn_limited(false, |s| {
        s.limits.submissions_per_hour = 1;
    })
    .await;
    app.create_tenant("ha-noi", "Hà Nội").await;
    let email = "trang@example.vn";
    let token = app.citizen_token(HN, email).await;
    assert_eq!(file(&app, &token).await.status(), 201);
    let mut b = Browser::new(&app, HN);
    let signed_in = b.sign_in(email, "/procedures/GPLX-001/apply").await;
    assert_eq!(signed_in.status, 303);
    let step1 = b.get("/procedures/GPLX-001/apply/1").await;
    let csrf = b.csrf(&step1);
    let steps: [(&str, Vec<(&str, &str)>); 3] = [
        (
            "/procedures/GPLX-001/apply/1",
            vec![
                ("full_name", "Lê Thu Trang"),
                ("id_number", CITIZEN_ID),
                ("licence_number", "790123456789"),
            ],
        ),
        (
            "/procedures/GPLX-001/apply/2",
            vec![
                ("licence_class", "B2"),
                ("expiry_date", "2026-12-31"),
                ("delivery_address", "12 Phố Huế, Hà Nội"),
            ],
        ),
        (
            "/procedures/GPLX-001/apply/3",
            vec![("phone", "0912 345 678")],
        ),
    ];
    for (path, fields) in steps {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend(fields);
        let res = b.post(path, &form).await;
        assert_eq!(res.status, 303, "{path}: {}", res.body);
    }
    let uploaded = b
        .post_multipart(
            "/procedures/GPLX-001/apply/documents",
            reqwest::multipart::Form::new()
                .text("csrf", csrf.clone())
                .part("portrait_photo", file_part("anh-3x4.png", PNG))
                .part("licence_scan", file_part("giay-phep.pdf", PDF)),
        )
        .await;
    assert_eq!(uploaded.status, 303, "{}", uploaded.body);
    let submitted = b
        .post("/procedures/GPLX-001/apply/check", &[("csrf", &csrf)])
        .await;
    assert_eq!(submitted.status, 429, "{}", submitted.body);
    assert!(submitted.headers.contains_key("retry-after"));
    assert!(submitted.body.contains("Bạn có thể nộp tiếp từ"));
    assert!(submitted.body.contains("You can file again from"));
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM t_ha_noi.dossiers"),
        1
    );
    // The draft is kept: nothing the citizen typed is lost.
    assert_eq!(count(&app, "SELECT count(*) AS n FROM t_ha_noi.drafts"), 1);
}

/// Low: a client that sends its body a byte at a time (slow POST) is cut off at the body
/// deadline (1 s here) with 408, instead of holding the connection as long as it likes.
#[tokio::test]
async fn a_slow_body_is_cut_off_with_408() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_limited(false, |s| s.server.request_body_timeout_secs = 1).await;
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    let head = "POST /api/v1/auth/token HTTP/1.1\r\nHost: localhost\r\n\
                Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"email\":";
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = std::time::Instant::now();
    // Dribble one byte every 200 ms, reading whatever comes back meanwhile.
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(4),
            "still reading the body after 4 s: {}",
            String::from_utf8_lossy(&answer)
        );
        let _ = stream.write_all(b" ").await;
        match tokio::time::timeout(std::time::Duration::from_millis(200), stream.read(&mut buf))
            .await
        {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
        if answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.ends_with(b"}") {
            break;
        }
    }
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("request_timeout"), "{text}");
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(900),
        "not before the deadline"
    );
}

/// Low: a path that starts with `//` (or `/\`) is read by browsers as another host; the
/// language switch built from it must stay on this site.
#[tokio::test]
async fn the_language_switch_never_links_to_another_host() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Hà Nội").await;
    for host in ["localhost", HN, "ops.localhost"] {
        for path in ["//evil.example/", "//evil.example/a/b", "/\\evil.example/"] {
            let res = app
                .client
                .get(format!("http://127.0.0.1:{}{path}", app.port))
                .header("Host", host)
                .send()
                .await
                .unwrap();
            let body = res.text().await.unwrap();
            let switch = body
                .split("class=\"lang\" href=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .unwrap_or_else(|| panic!("{host}{path}: a language switch in {body}"));
            assert!(
                switch.starts_with('/')
                    && !switch.starts_with("//")
                    && !switch.contains('\\')
                    && !switch.contains("evil.example"),
                "{host}{path}: the switch links to {switch}"
            );
        }
    }
}
