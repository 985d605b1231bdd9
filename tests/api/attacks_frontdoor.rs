//! Attacks on what the front door gained on 2026-12-05: one sign-in for every site (handoff
//! codes), results and their verification, merged provinces' hosts, the national catalog.
//! Each test is an attack that worked before its fix.

use portal::accounts::staff::StaffRole;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code};

const HN: &str = "ha-noi.localhost";
const PDF: &[u8] =
    b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// `name=value` of the response's `Set-Cookie` named `name`, if set (not removed).
fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers().get_all("set-cookie").iter().find_map(|raw| {
        let raw = raw.to_str().ok()?;
        let (k, v) = raw.split(';').next()?.split_once('=')?;
        (k == name && !v.is_empty()).then(|| v.to_string())
    })
}

/// Path and query of an absolute `Location`.
fn location_path(res: &reqwest::Response) -> String {
    let raw = res.headers()["location"].to_str().unwrap();
    let url = reqwest::Url::parse(raw).unwrap();
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

async fn get_with_cookie(app: &TestApp, host: &str, path: &str, cookie: &str) -> reqwest::Response {
    let mut req = app.client.get(app.url(path)).header("Host", host);
    if !cookie.is_empty() {
        req = req.header("Cookie", cookie);
    }
    req.send().await.unwrap()
}

/// The attacker starts a handoff in their own browser (keeping its nonce), then sends a victim
/// signed in on the national site to the national half of it with that nonce. The victim's
/// browser lands on the province with the code but without the nonce cookie: refused. The
/// code must be spent by that refusal; before the fix it stayed valid for its minute, so
/// whoever read the URL (history, a screen share, a support ticket, a proxy's log) and held
/// the nonce they chose signed in as the victim.
#[tokio::test]
async fn a_handoff_code_that_reached_a_browser_without_the_nonce_is_spent() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let victim_national = app.citizen_token("localhost", "nan-nhan@example.vn").await;

    // The attacker's own province nonce.
    let res = get_with_cookie(&app, HN, "/auth/national?next=/dossiers", "").await;
    assert_eq!(res.status(), 302);
    let nonce = set_cookie(&res, "handoff").expect("nonce cookie");

    // The victim follows the attacker's link on the national site.
    let link = format!("/auth/handoff?host={HN}&nonce={nonce}&next=/dossiers");
    let res = get_with_cookie(
        &app,
        "localhost",
        &link,
        &format!("session={victim_national}"),
    )
    .await;
    assert_eq!(res.status(), 302);
    let back = location_path(&res);
    assert!(back.contains("&code="), "{back}");

    // The victim's browser has no nonce cookie on Ha Noi: refused.
    let res = get_with_cookie(&app, HN, &back, "").await;
    assert_eq!(res.status(), 400);
    assert!(set_cookie(&res, "session").is_none());

    // The attacker replays the URL with the nonce they chose: nothing left to take.
    let res = get_with_cookie(&app, HN, &back, &format!("handoff={nonce}")).await;
    assert!(
        set_cookie(&res, "session").is_none(),
        "the attacker signed in as the victim with a code the victim's browser carried"
    );
    assert_eq!(res.status(), 400);
}

async fn post_pdf(app: &TestApp, token: &str, code: &str) -> reqwest::Response {
    let form = Form::new().part(
        "file",
        Part::bytes(PDF.to_vec())
            .file_name("quyet-dinh.pdf")
            .mime_str("application/pdf")
            .unwrap(),
    );
    app.client
        .post(app.url(&format!("/api/v1/manage/dossiers/{code}/result")))
        .header("Host", HN)
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// An official attaches the result while the dossier is still being processed (allowed: it is
/// prepared before `return_result`), then asks for the fee. Before the fix the citizen already
/// saw the verification code and downloaded the signed e-copy, which verifies publicly as
/// issued, and could withdraw without paying: the result is the citizen's once it is
/// returned, not once an official uploaded a draft of it.
#[tokio::test]
async fn a_citizen_gets_no_result_before_it_is_returned() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let citizen = app.citizen_token(HN, "chua-tra@example.vn").await;
    let official = app
        .staff_token("ha-noi", "canbo@hanoi.gov.vn", StaffRole::Official)
        .await;
    let code = app.submit_complete_licence_renewal(HN, &citizen).await;
    for a in ["accept", "process"] {
        let res = app.act(HN, &official, &code, json!({"action": a})).await;
        assert_eq!(res.status(), 200, "{a}");
    }
    let res = post_pdf(&app, &official, &code).await;
    assert_eq!(res.status(), 200);
    let res = app
        .act(
            HN,
            &official,
            &code,
            json!({"action": "request_payment", "fee_vnd": 135000}),
        )
        .await;
    assert_eq!(res.status(), 200);

    let mine: Value = app
        .get_with_token(HN, &format!("/api/v1/dossiers/{code}"), &citizen)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["status"], "payment_requested");
    assert!(
        mine["result"].is_null(),
        "the owner sees the result before it is returned: {}",
        mine["result"]
    );
    let file = app
        .get_with_token(HN, &format!("/api/v1/dossiers/{code}/result"), &citizen)
        .await;
    assert_eq!(
        file.status(),
        404,
        "the owner downloads the result before paying or its return"
    );
    assert_eq!(error_code(file).await, "not_found");
}
