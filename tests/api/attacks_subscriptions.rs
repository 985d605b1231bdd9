//! Attacks on subscription requests (#15 finding 8): spam that buries a genuine request, slugs
//! squatted by requests nobody stands behind, and mail whose subject carries the requester's
//! text to the requester's chosen address. Clients are told apart by their address.

use serde_json::{Value, json};

use crate::attacks_kit::{refused, text};
use crate::browser::Browser;
use crate::helpers::TestApp;

/// A client whose connections come from `ip` (any 127.0.0.x reaches the test server).
fn client_at(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(Some(ip.parse().unwrap()))
        .build()
        .unwrap()
}

async fn file(
    app: &TestApp,
    client: &reqwest::Client,
    name: &str,
    slug: &str,
    email: &str,
) -> reqwest::Response {
    client
        .post(app.url("/api/v1/subscriptions"))
        .header("Host", "localhost")
        .json(&json!({"province_name": name, "slug": slug, "contact_email": email, "plan": "standard"}))
        .send()
        .await
        .unwrap()
}

/// The link in the newest verification mail to `email`, if any.
fn verification_link(app: &TestApp, email: &str) -> Option<String> {
    let n = crate::attacks_kit::count(
        app,
        &format!(
            "SELECT count(*) AS n FROM public.outbox WHERE kind = 'subscription_verification' AND to_email = '{email}'"
        ),
    );
    if n == 0 {
        return None;
    }
    let body = text(
        app,
        &format!(
            "SELECT body AS t FROM public.outbox WHERE kind = 'subscription_verification' AND to_email = '{email}' ORDER BY id DESC LIMIT 1"
        ),
    );
    let at = body.find("/subscribe/verify/")?;
    let path: String = body[at..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    Some(path)
}

/// Follows the verification link as its recipient would: the page, then its button.
async fn verify(app: &TestApp, email: &str) -> u16 {
    let link = verification_link(app, email).unwrap_or_else(|| panic!("no mail to {email}"));
    let mut b = Browser::new(app, "localhost");
    let page = b.get(&link).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = b.csrf(&page);
    b.post(&link, &[("csrf", &csrf)]).await.status
}

/// The operator's list, as rows, whether a bare array or a page `{items, next}`.
async fn operator_page(app: &TestApp, op: &str, path: &str) -> (Vec<Value>, Option<String>) {
    let res = app.get_with_token("ops.localhost", path, op).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    match body {
        Value::Array(rows) => (rows, None),
        page => (
            page["items"].as_array().cloned().unwrap_or_default(),
            page["next"].as_str().map(str::to_string),
        ),
    }
}

fn slugs(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|r| r["slug"].as_str().unwrap().to_string())
        .collect()
}

/// 60 requests nobody verifies (ten from each of six addresses) after one genuine, verified
/// request: the operator's first page shows the genuine one and none of the spam.
#[tokio::test]
async fn spam_does_not_hide_a_verified_request_from_the_operators_first_page() {
    let app = TestApp::spawn().await;
    let op = app.operator_token().await;
    let genuine = "so.noi.vu@laocai.gov.vn";
    let res = file(&app, &app.client, "Tỉnh Lào Cai", "lao-cai", genuine).await;
    assert_eq!(res.status(), 202);
    assert_eq!(verify(&app, genuine).await, 200);
    for n in 0..60 {
        let client = client_at(&format!("127.0.1.{}", 10 + n / 10));
        let res = file(
            &app,
            &client,
            "Tỉnh Rác",
            &format!("rac-{n}"),
            &format!("rac{n}@spam.example"),
        )
        .await;
        assert_eq!(res.status(), 202, "spam {n}");
    }
    let (rows, _) = operator_page(&app, &op, "/api/v1/subscriptions").await;
    let shown = slugs(&rows);
    assert!(
        shown.contains(&"lao-cai".to_string()),
        "the genuine request is not on the first page"
    );
    assert_eq!(
        shown.iter().filter(|s| s.starts_with("rac-")).count(),
        0,
        "unverified spam listed"
    );
    // The console says the same.
    let mut ops = Browser::operator_console(&app).await;
    let page = ops.get("/subscriptions").await;
    assert!(page.body.contains("lao-cai") && !page.body.contains("rac-1"));
}

/// A request nobody verified holds nothing: another can take the slug, verify it, and the
/// first one's late verification finds the slug held.
#[tokio::test]
async fn an_unverified_request_is_not_listed_and_holds_no_slug() {
    let app = TestApp::spawn().await;
    let op = app.operator_token().await;
    let squat = file(
        &app,
        &client_at("127.0.0.7"),
        "Tỉnh Lai Châu",
        "lai-chau",
        "chiem@squat.example",
    )
    .await;
    assert_eq!(squat.status(), 202);
    let squat_id = squat.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (rows, _) = operator_page(&app, &op, "/api/v1/subscriptions").await;
    assert!(rows.is_empty(), "an unverified request is listed: {rows:?}");
    let res = file(
        &app,
        &app.client,
        "Tỉnh Lai Châu",
        "lai-chau",
        "vanphong@laichau.gov.vn",
    )
    .await;
    assert_eq!(res.status(), 202, "an unverified request held the slug");
    assert_eq!(verify(&app, "vanphong@laichau.gov.vn").await, 200);
    let (rows, _) = operator_page(&app, &op, "/api/v1/subscriptions").await;
    assert_eq!(slugs(&rows), ["lai-chau"]);
    assert_eq!(rows[0]["contact_email"], "vanphong@laichau.gov.vn");
    // Now the slug is held: the squatter's link and a new request both meet it.
    assert_eq!(verify(&app, "chiem@squat.example").await, 409);
    refused(
        file(
            &app,
            &app.client,
            "Tỉnh Lai Châu",
            "lai-chau",
            "khac@laichau.gov.vn",
        )
        .await,
        409,
        "request_pending",
    )
    .await;
    // An unverified request cannot be decided: the operator never saw it.
    let res = app
        .post_json(
            "ops.localhost",
            &format!("/api/v1/subscriptions/{squat_id}/approve"),
            Some(&op),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 404);
}

/// The verification and decline mails name no requester text in their subjects (the
/// requester chose the address and the text; a subject is what a mail client shows).
#[tokio::test]
async fn subscription_mails_carry_no_requester_text_in_their_subject() {
    let app = TestApp::spawn().await;
    let op = app.operator_token().await;
    let lure = "Trúng thưởng 500 triệu tại evil.example";
    let email = "nan.nhan@example.vn";
    let res = file(&app, &app.client, lure, "trung-thuong", email).await;
    assert_eq!(res.status(), 202);
    let id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let link = verification_link(&app, email);
    if link.is_some() {
        let subject = text(
            &app,
            "SELECT subject AS t FROM public.outbox WHERE kind = 'subscription_verification'",
        );
        assert!(!subject.contains("evil"), "verification subject: {subject}");
        assert_eq!(verify(&app, email).await, 200);
    }
    let res = app
        .post_json(
            "ops.localhost",
            &format!("/api/v1/subscriptions/{id}/decline"),
            Some(&op),
            &json!({"reason": "Không phải cơ quan nhà nước"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let subject = text(
        &app,
        "SELECT subject AS t FROM public.outbox WHERE kind = 'subscription_declined'",
    );
    assert!(
        !subject.contains("evil") && !subject.contains("Trúng"),
        "decline subject carries the requester's text: {subject}"
    );
    assert!(link.is_some(), "no verification mail was sent");
}

/// The operator's list pages through every verified request: no cap, a `next` link until
/// the last page, on the API and the console alike.
#[tokio::test]
async fn the_operator_list_pages_through_everything() {
    let app = TestApp::spawn().await;
    let op = app.operator_token().await;
    let mut want = Vec::new();
    for n in 0..7 {
        let email = format!("lien-he{n}@xa.gov.vn");
        let slug = format!("xa-so-{n}");
        assert_eq!(
            file(&app, &app.client, "Xã Mới", &slug, &email)
                .await
                .status(),
            202
        );
        assert_eq!(verify(&app, &email).await, 200);
        want.push(slug);
    }
    let mut seen = Vec::new();
    let mut path = Some("/api/v1/subscriptions?limit=3".to_string());
    let mut pages = 0;
    while let Some(p) = path {
        let (rows, next) = operator_page(&app, &op, &p).await;
        assert!(rows.len() <= 3, "{} rows on a page of 3", rows.len());
        seen.extend(slugs(&rows));
        path = next;
        pages += 1;
        assert!(pages < 10);
    }
    assert_eq!(pages, 3, "7 requests, 3 a page");
    seen.sort();
    want.sort();
    assert_eq!(seen, want);

    let mut ops = Browser::operator_console(&app).await;
    let mut shown = Vec::new();
    let mut path = Some("/subscriptions?limit=3".to_string());
    while let Some(p) = path {
        let page = ops.get(&p).await;
        assert_eq!(page.status, 200);
        for s in &want {
            if page.body.contains(&format!(">{s} ·")) || page.body.contains(&format!("{s} · ")) {
                shown.push(s.clone());
            }
        }
        path = page
            .body
            .split("rel=\"next\" href=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .map(|h| h.replace("&amp;", "&"));
        assert!(shown.len() <= 7);
    }
    shown.sort();
    shown.dedup();
    assert_eq!(shown, want, "the console did not page through everything");
}

/// At most three unverified requests wait on one address, at most ten are filed from one
/// client in an hour; then 429 with Retry-After.
#[tokio::test]
async fn unverified_requests_are_capped_per_address_and_per_client() {
    let app = TestApp::spawn_limited().await;
    let victim = "hop.thu@example.vn";
    for n in 0..3 {
        let client = client_at(&format!("127.0.2.{n}"));
        let res = file(&app, &client, "Xã Mới", &format!("xa-{n}"), victim).await;
        assert_eq!(res.status(), 202);
    }
    let res = file(&app, &client_at("127.0.2.9"), "Xã Mới", "xa-9", victim).await;
    assert_eq!(
        res.status(),
        429,
        "a fourth unverified request to one address"
    );
    assert!(res.headers().contains_key("retry-after"));
    refused(res, 429, "rate_limited").await;

    let spammer = client_at("127.0.3.1");
    for n in 0..10 {
        let res = file(
            &app,
            &spammer,
            "Xã Mới",
            &format!("xb-{n}"),
            &format!("a{n}@example.vn"),
        )
        .await;
        assert_eq!(res.status(), 202, "request {n}");
    }
    let res = file(&app, &spammer, "Xã Mới", "xb-10", "a10@example.vn").await;
    assert_eq!(
        res.status(),
        429,
        "an eleventh request from one client in an hour"
    );
    assert!(res.headers().contains_key("retry-after"));
}
