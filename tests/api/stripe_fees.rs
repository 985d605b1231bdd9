//! A citizen's dossier fee through Stripe Checkout (a local wiremock speaking Stripe's API):
//! the session's exact request, the page the citizen is sent to, and the signed
//! `checkout.session.completed` webhook that moves the dossier on, once.

use diesel::prelude::*;
use diesel::sql_query;
use portal::accounts::staff::StaffRole;
use portal::billing::webhook::sign;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::helpers::{TestApp, TestDb, error_code, test_settings};

const HOST: &str = "ha-noi.localhost";
const SECRET: &str = "whsec_fees";
const CHECKOUT_URL: &str = "https://checkout.stripe.com/c/pay/cs_test_1";

pub(crate) async fn app_with_stripe_fees(stripe: &MockServer) -> TestApp {
    let db = TestDb::create();
    let mut settings = test_settings(&db.url);
    settings.stripe.secret_key = Some(secrecy::SecretString::from("sk_test_fees".to_string()));
    settings.stripe.api_base = stripe.uri();
    settings.stripe.fee_payments = true;
    settings.stripe.webhook_secret = Some(secrecy::SecretString::from(SECRET.to_string()));
    TestApp::spawn_with(db, settings).await
}

pub(crate) async fn mount_checkout(stripe: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "id": "cs_test_1", "object": "checkout.session", "url": CHECKOUT_URL,
            "payment_status": "unpaid", "status": "open"
        })))
        .mount(stripe)
        .await;
}

/// A dossier of the citizen's, asked for `fee` đồng by an official.
pub(crate) async fn dossier_awaiting(app: &TestApp, fee: i64) -> (String, String) {
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let citizen = app.citizen_token(HOST, "dan@example.vn").await;
    let code = app.submit_complete_licence_renewal(HOST, &citizen).await;
    let official = app
        .staff_token("ha-noi", "canbo@hanoi.gov.vn", StaffRole::Official)
        .await;
    for body in [
        serde_json::json!({"action": "accept"}),
        serde_json::json!({"action": "process"}),
        serde_json::json!({"action": "request_payment", "fee_vnd": fee}),
    ] {
        let res = app.act(HOST, &official, &code, body).await;
        assert_eq!(res.status(), 200);
    }
    (citizen, code)
}

async fn pay(app: &TestApp, citizen: &str, code: &str) -> reqwest::Response {
    app.post_json(
        HOST,
        &format!("/api/v1/dossiers/{code}/pay"),
        Some(citizen),
        &serde_json::json!({}),
    )
    .await
}

pub(crate) async fn webhook(app: &TestApp, event: &serde_json::Value) -> serde_json::Value {
    let body = serde_json::to_vec(event).unwrap();
    let now = chrono::Utc::now().timestamp();
    let res = app
        .client
        .post(app.url("/api/v1/stripe/webhook"))
        .header("Host", "ops.localhost")
        .header(
            "Stripe-Signature",
            format!("t={now},v1={}", sign(SECRET, now, &body)),
        )
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

pub(crate) fn session_event(
    id: &str,
    kind: &str,
    code: &str,
    amount: i64,
    paid: &str,
) -> serde_json::Value {
    serde_json::json!({
        "id": id, "type": kind,
        "data": {"object": {
            "id": "cs_test_1", "object": "checkout.session",
            "amount_total": amount, "currency": "vnd", "payment_status": paid,
            "client_reference_id": code,
            "metadata": {"kind": "dossier_fee", "tenant": "ha-noi", "tracking_code": code}
        }}
    })
}

pub(crate) async fn status(app: &TestApp, citizen: &str, code: &str) -> String {
    let d: serde_json::Value = app
        .get_with_token(HOST, &format!("/api/v1/dossiers/{code}"), citizen)
        .await
        .json()
        .await
        .unwrap();
    d["status"].as_str().unwrap().to_string()
}

pub(crate) fn payments(app: &TestApp) -> Vec<(String, String, i64)> {
    #[derive(QueryableByName)]
    struct P {
        #[diesel(sql_type = diesel::sql_types::Text)]
        reference: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        status: String,
        #[diesel(sql_type = diesel::sql_types::Int8)]
        amount_vnd: i64,
    }
    sql_query("SELECT reference, status, amount_vnd FROM t_ha_noi.payments ORDER BY created_at")
        .load::<P>(&mut app.raw_connection())
        .unwrap()
        .into_iter()
        .map(|p| (p.reference, p.status, p.amount_vnd))
        .collect()
}

fn field(req: &Request, key: &str) -> Option<String> {
    url_form(req)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

fn url_form(req: &Request) -> Vec<(String, String)> {
    let body = std::str::from_utf8(&req.body).unwrap().replace('+', "%20");
    reqwest::Url::parse(&format!("http://x/?{body}"))
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[tokio::test]
async fn a_fee_is_paid_on_stripe_checkout_and_the_webhook_moves_the_dossier_once() {
    let stripe = MockServer::start().await;
    mount_checkout(&stripe).await;
    let app = app_with_stripe_fees(&stripe).await;
    let (citizen, code) = dossier_awaiting(&app, 135_000).await;

    // Paying sends the citizen to Stripe's page: 202 with its url; nothing moves yet.
    let res = pay(&app, &citizen, &code).await;
    assert_eq!(res.status(), 202);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["checkout_url"], CHECKOUT_URL);
    assert_eq!(body["dossier"]["status"], "payment_requested");
    assert_eq!(status(&app, &citizen, &code).await, "payment_requested");
    assert_eq!(
        payments(&app),
        vec![("cs_test_1".into(), "pending".into(), 135_000)]
    );

    // The session's request: VND as is (zero-decimal, never ×100), our metadata, the way back.
    let requests = stripe.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(
        r.headers.get("Authorization").unwrap().to_str().unwrap(),
        "Bearer sk_test_fees"
    );
    let key = r.headers.get("Idempotency-Key").unwrap().to_str().unwrap();
    assert!(key.starts_with(&format!("fee:ha-noi:{code}:")), "{key}");
    assert_eq!(field(r, "mode").as_deref(), Some("payment"));
    assert_eq!(field(r, "locale").as_deref(), Some("vi"));
    assert_eq!(
        field(r, "line_items[0][price_data][currency]").as_deref(),
        Some("vnd")
    );
    assert_eq!(
        field(r, "line_items[0][price_data][unit_amount]").as_deref(),
        Some("135000")
    );
    assert_eq!(field(r, "line_items[0][quantity]").as_deref(), Some("1"));
    assert!(
        field(r, "line_items[0][price_data][product_data][name]")
            .unwrap()
            .contains(&code)
    );
    assert_eq!(field(r, "metadata[tenant]").as_deref(), Some("ha-noi"));
    assert_eq!(
        field(r, "metadata[tracking_code]").as_deref(),
        Some(code.as_str())
    );
    assert_eq!(field(r, "metadata[kind]").as_deref(), Some("dossier_fee"));
    assert_eq!(
        field(r, "success_url"),
        Some(format!(
            "{}/dossiers/{code}?payment=done",
            app.state.settings.url_for_host(HOST)
        ))
    );

    // Paying again before the webhook: the same session (same idempotency key), one payment.
    let res = pay(&app, &citizen, &code).await;
    assert_eq!(res.status(), 202);
    let again = stripe.received_requests().await.unwrap();
    assert_eq!(again.len(), 2);
    assert_eq!(
        again[1]
            .headers
            .get("Idempotency-Key")
            .unwrap()
            .to_str()
            .unwrap(),
        key
    );
    assert_eq!(payments(&app).len(), 1);

    // A completed session that is not paid yet (a delayed method) moves nothing.
    let out = webhook(
        &app,
        &session_event(
            "evt_1",
            "checkout.session.completed",
            &code,
            135_000,
            "unpaid",
        ),
    )
    .await;
    assert_eq!(out["outcome"], "ignored: not settled yet");
    assert_eq!(status(&app, &citizen, &code).await, "payment_requested");

    // Paid: the dossier moves on, the payment is confirmed.
    let paid = session_event(
        "evt_2",
        "checkout.session.completed",
        &code,
        135_000,
        "paid",
    );
    let out = webhook(&app, &paid).await;
    assert_eq!(out["outcome"], format!("dossier {code} paid"), "{out}");
    assert_eq!(status(&app, &citizen, &code).await, "processing");
    assert_eq!(
        payments(&app),
        vec![("cs_test_1".into(), "confirmed".into(), 135_000)]
    );

    // Replayed, and the same payment in another event: nothing changes.
    let out = webhook(&app, &paid).await;
    assert_eq!(out["outcome"], "duplicate: applied before");
    let out = webhook(
        &app,
        &session_event(
            "evt_3",
            "checkout.session.async_payment_succeeded",
            &code,
            135_000,
            "paid",
        ),
    )
    .await;
    assert_eq!(out["outcome"], format!("dossier {code}: paid before"));
    let d: serde_json::Value = app
        .get_with_token(HOST, &format!("/api/v1/dossiers/{code}"), &citizen)
        .await
        .json()
        .await
        .unwrap();
    let pays = d["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "pay")
        .count();
    assert_eq!(pays, 1, "{d}");
    // Paying now is refused: the dossier no longer awaits a payment.
    let res = pay(&app, &citizen, &code).await;
    assert_eq!(res.status(), 409);
    assert_eq!(stripe.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_wrong_amount_or_an_expired_session_never_moves_the_dossier() {
    let stripe = MockServer::start().await;
    mount_checkout(&stripe).await;
    let app = app_with_stripe_fees(&stripe).await;
    let (citizen, code) = dossier_awaiting(&app, 135_000).await;
    assert_eq!(pay(&app, &citizen, &code).await.status(), 202);
    let first_key = stripe.received_requests().await.unwrap()[0]
        .headers
        .get("Idempotency-Key")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();

    // Less than the fee: recorded as rejected (and alerted), the dossier waits.
    let out = webhook(
        &app,
        &session_event("evt_1", "checkout.session.completed", &code, 1_350, "paid"),
    )
    .await;
    assert!(
        out["outcome"].as_str().unwrap().starts_with("rejected:"),
        "{out}"
    );
    assert_eq!(status(&app, &citizen, &code).await, "payment_requested");

    // The session expires: the payment failed, and the next `pay` opens a new session.
    let out = webhook(
        &app,
        &session_event(
            "evt_2",
            "checkout.session.expired",
            &code,
            135_000,
            "unpaid",
        ),
    )
    .await;
    assert_eq!(out["outcome"], format!("dossier {code}: payment failed"));
    assert_eq!(payments(&app)[0].1, "failed");
    assert_eq!(pay(&app, &citizen, &code).await.status(), 202);
    let requests = stripe.received_requests().await.unwrap();
    let second_key = requests[1]
        .headers
        .get("Idempotency-Key")
        .unwrap()
        .to_str()
        .unwrap();
    assert_ne!(second_key, first_key, "a new attempt, a new session");

    // An event for a province that does not exist, or not about a fee: acknowledged, ignored.
    let mut other = session_event(
        "evt_3",
        "checkout.session.completed",
        &code,
        135_000,
        "paid",
    );
    other["data"]["object"]["metadata"]["tenant"] = "khong-co".into();
    let out = webhook(&app, &other).await;
    assert_eq!(out["outcome"], "ignored: no province khong-co");
    let out = webhook(
        &app,
        &serde_json::json!({"id": "evt_4", "type": "customer.created", "data": {"object": {"id": "cus_9"}}}),
    )
    .await;
    assert_eq!(out["outcome"], "ignored");
    assert_eq!(status(&app, &citizen, &code).await, "payment_requested");
}

#[tokio::test]
async fn stripe_down_at_checkout_is_a_503_and_the_dossier_still_awaits_payment() {
    let stripe = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions"))
        .respond_with(ResponseTemplate::new(500).set_body_json(
            serde_json::json!({"error": {"type": "api_error", "message": "try again"}}),
        ))
        .mount(&stripe)
        .await;
    let app = app_with_stripe_fees(&stripe).await;
    let (citizen, code) = dossier_awaiting(&app, 135_000).await;
    let res = pay(&app, &citizen, &code).await;
    assert_eq!(res.status(), 503);
    assert_eq!(error_code(res).await, "unavailable");
    assert_eq!(status(&app, &citizen, &code).await, "payment_requested");
    assert!(payments(&app).is_empty());
}

#[tokio::test]
async fn the_pay_button_on_the_dossier_page_goes_to_stripe_checkout() {
    let stripe = MockServer::start().await;
    mount_checkout(&stripe).await;
    let app = app_with_stripe_fees(&stripe).await;
    let (_citizen, code) = dossier_awaiting(&app, 135_000).await;
    let mut browser = crate::browser::Browser::new(&app, HOST);
    browser.sign_in("dan@example.vn", "/").await;
    let page = browser.get(&format!("/dossiers/{code}")).await;
    assert_eq!(page.status, 200);
    let csrf = browser.csrf(&page);
    let res = browser
        .post(&format!("/dossiers/{code}/pay"), &[("csrf", &csrf)])
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location, CHECKOUT_URL);
}
