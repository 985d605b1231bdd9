//! Attacks on tracking without sign-in (#24 finding 3): guessing a citizen's ID number from a
//! tracking code, telling codes that exist from codes that do not, and the ID in a URL.
//! Clients are told apart by their address: each test client binds its own 127.0.0.x.

use serde_json::json;

use crate::attacks_kit::refused;
use crate::browser::Browser;
use crate::helpers::{CITIZEN_ID, TestApp};

const HN: &str = "ha-noi.localhost";

/// A client whose connections come from `ip` (any 127.0.0.x reaches the test server).
fn client_at(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(Some(ip.parse().unwrap()))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// `POST /api/v1/tracking` from `client`.
async fn track_post(
    app: &TestApp,
    client: &reqwest::Client,
    code: &str,
    id: &str,
) -> reqwest::Response {
    client
        .post(app.url("/api/v1/tracking"))
        .header("Host", HN)
        .json(&json!({"tracking_code": code, "id_number": id}))
        .send()
        .await
        .unwrap()
}

/// `GET /api/v1/tracking/{code}?id_number=` from `client` (the form kept for old clients).
async fn track_get(
    app: &TestApp,
    client: &reqwest::Client,
    code: &str,
    id: &str,
) -> reqwest::Response {
    client
        .get(app.url(&format!("/api/v1/tracking/{code}?id_number={id}")))
        .header("Host", HN)
        .send()
        .await
        .unwrap()
}

async fn province_with_dossier(app: &TestApp) -> String {
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let token = app.citizen_token(HN, "tra-cuu@example.vn").await;
    app.submit_licence_renewal(HN, &token).await
}

/// Five wrong IDs on one code lock that code for an hour for every client, the right ID
/// included: spreading the guesses over many addresses buys nothing.
#[tokio::test]
async fn a_code_guessed_five_times_wrong_is_locked_for_every_client() {
    let app = TestApp::spawn_limited().await;
    let code = province_with_dossier(&app).await;
    let attacker = client_at("127.0.0.1");
    for n in 0..5 {
        let wrong = format!("00109001{:04}", 9000 + n);
        let res = track_get(&app, &attacker, &code, &wrong).await;
        assert_eq!(res.status(), 404, "guess {n}");
    }
    // The sixth from another address, with the right ID: still refused, with a clear wait.
    let other = client_at("127.0.0.2");
    let res = track_get(&app, &other, &code, CITIZEN_ID).await;
    assert_eq!(
        res.status(),
        429,
        "a sixth attempt from another address was answered"
    );
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&wait), "Retry-After {wait}");
    refused(res, 429, "too_many_attempts").await;
    let res = track_post(&app, &other, &code, CITIZEN_ID).await;
    refused(res, 429, "too_many_attempts").await;
}

/// A client guessing across many codes is stopped too, and a success of its own (its own
/// dossier) clears nothing.
#[tokio::test]
async fn a_client_guessing_across_codes_is_limited_and_a_success_resets_nothing() {
    let app = TestApp::spawn_limited().await;
    let code = province_with_dossier(&app).await;
    let attacker = client_at("127.0.0.3");
    for n in 0..19 {
        let guess = format!("HNI-2611-{:06}", n);
        let res = track_get(&app, &attacker, &guess, CITIZEN_ID).await;
        assert_eq!(res.status(), 404, "guess {n}");
    }
    // Its own dossier, right ID: answered, and its count stays.
    let res = track_get(&app, &attacker, &code, CITIZEN_ID).await;
    assert_eq!(res.status(), 200);
    let res = track_get(&app, &attacker, "HNI-2611-ZZZZZY", CITIZEN_ID).await;
    assert_eq!(res.status(), 404, "the 20th failure is still answered");
    let res = track_get(&app, &attacker, "HNI-2611-ZZZZZZ", CITIZEN_ID).await;
    assert_eq!(
        res.status(),
        429,
        "a client's 21st failure within the hour was answered"
    );
    assert!(res.headers().contains_key("retry-after"));
    // Another client is served.
    let res = track_get(&app, &client_at("127.0.0.4"), &code, CITIZEN_ID).await;
    assert_eq!(res.status(), 200);
}

/// A wrong ID on a code that exists and on one that does not: the same status, the same
/// body, and the same count towards the lock (the lock does not tell them apart either).
#[tokio::test]
async fn existing_and_missing_codes_answer_a_wrong_id_alike() {
    let app = TestApp::spawn_limited().await;
    let code = province_with_dossier(&app).await;
    let missing = "HNI-2611-ZZZZZZ";
    let client = client_at("127.0.0.5");
    let mut bodies = Vec::new();
    for c in [code.as_str(), missing] {
        let started = std::time::Instant::now();
        let res = track_get(&app, &client, c, "001090099999").await;
        // Both answers wait out the same floor (`tracking.answer_floor_ms`), whatever the
        // lookup found, so their times do not tell the codes apart.
        let took = started.elapsed();
        assert!(
            took >= std::time::Duration::from_millis(app.settings.tracking.answer_floor_ms),
            "{c} answered in {took:?}"
        );
        bodies.push((res.status().as_u16(), res.text().await.unwrap()));
    }
    assert_eq!(bodies[0], bodies[1]);
    assert_eq!(bodies[0].0, 404);
    for _ in 0..4 {
        for c in [code.as_str(), missing] {
            assert_eq!(
                track_get(&app, &client, c, "001090099999").await.status(),
                404
            );
        }
    }
    let mut sixth = Vec::new();
    for c in [code.as_str(), missing] {
        let res = track_get(&app, &client_at("127.0.0.6"), c, "001090099999").await;
        sixth.push(res.status().as_u16());
    }
    assert_eq!(sixth, [429, 429], "the lock told the codes apart");
}

/// The tracking page's form posts: the citizen ID never lands in a URL (history, logs).
#[tokio::test]
async fn the_tracking_form_posts_so_the_id_is_never_in_a_url() {
    let app = TestApp::spawn().await;
    let code = province_with_dossier(&app).await;
    let mut b = Browser::new(&app, HN);
    let page = b.get("/tracking").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("<form method=\"post\" action=\"/tracking\""),
        "the tracking form does not post"
    );
    let csrf = b.csrf(&page);
    let found = b
        .post(
            "/tracking",
            &[("csrf", &csrf), ("code", &code), ("id_number", CITIZEN_ID)],
        )
        .await;
    assert_eq!(found.status, 200, "{}", found.body);
    assert!(found.body.contains("Đã nộp") && found.body.contains(&code));
    assert!(!found.body.contains(CITIZEN_ID), "the ID echoed back");
    assert!(found.location.is_empty());
    // The API's POST answers like the GET.
    let res = track_post(&app, &app.client, &code, CITIZEN_ID).await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["tracking_code"], code.as_str());
    assert_eq!(body.as_object().unwrap().len(), 4, "{body}");
}
