//! Attacks on money (#15 findings 5, 9 and Low; #24 finding 1): invoices raced by voids and
//! payments, a lease that never takes effect, sums that overflow, an index job stopped by one
//! province, a sandbox that confirms every fee, and Stripe events trusted by their metadata.

use diesel::prelude::*;
use diesel::sql_query;
use portal::accounts::staff::StaffRole;
use portal::billing::webhook::sign;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{TestApp, TestDb, test_settings};

const OPS: &str = "ops.localhost";
const HOST: &str = "ha-noi.localhost";
const SECRET: &str = "whsec_money";

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

fn exec(app: &TestApp, sql: &str) {
    sql_query(sql).execute(&mut app.raw_connection()).unwrap();
}

async fn close(app: &TestApp, token: &str, period: &str) -> reqwest::Response {
    app.post_json(
        OPS,
        "/api/v1/billing/close",
        Some(token),
        &serde_json::json!({ "period": period }),
    )
    .await
}

async fn closed_number(app: &TestApp, token: &str, period: &str) -> String {
    let res = close(app, token, period).await;
    assert_eq!(res.status(), 200, "close {period}");
    let body: serde_json::Value = res.json().await.unwrap();
    body["invoices"][0]["number"].as_str().unwrap().to_string()
}

async fn invoice(app: &TestApp, token: &str, number: &str) -> serde_json::Value {
    app.get_with_token(OPS, &format!("/api/v1/invoices/{number}"), token)
        .await
        .json()
        .await
        .unwrap()
}

async fn void(app: &TestApp, token: &str, number: &str) -> reqwest::Response {
    app.post_json(
        OPS,
        &format!("/api/v1/invoices/{number}/void"),
        Some(token),
        &serde_json::json!({"reason": "sai kỳ / wrong period"}),
    )
    .await
}

async fn record_transfer(app: &TestApp, token: &str, number: &str) -> reqwest::Response {
    app.post_json(
        OPS,
        &format!("/api/v1/invoices/{number}/pay"),
        Some(token),
        &serde_json::json!({"reference": "VCB-2026-1"}),
    )
    .await
}

// ---------------------------------------------------------------------------------------
// #15.5: invoice races
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn six_simultaneous_voids_make_one_credit_note_and_five_conflicts() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    exec(&app, "UPDATE leases SET starts_on = '2026-10-01'");
    let op = app.operator_token().await;
    let number = closed_number(&app, &op, "2026-10").await;

    let voids = (0..6).map(|_| void(&app, &op, &number));
    let mut statuses: Vec<u16> = futures_util::future::join_all(voids)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    statuses.sort();
    let notes = count(&app, "SELECT count(*) AS n FROM credit_notes");
    assert_eq!(
        (statuses.clone(), notes),
        (vec![200, 409, 409, 409, 409, 409], 1),
        "six voids at once: statuses {statuses:?}, {notes} credit note(s)"
    );
    assert_eq!(invoice(&app, &op, &number).await["status"], "void");
}

#[tokio::test]
async fn a_void_racing_a_payment_ends_voided_with_one_credit_note_or_paid_with_none() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    exec(&app, "UPDATE leases SET starts_on = '2026-08-01'");
    let op = app.operator_token().await;
    let mut seen = Vec::new();
    for period in ["2026-08", "2026-09", "2026-10", "2026-11"] {
        let number = closed_number(&app, &op, period).await;
        let (v, p) = tokio::join!(
            void(&app, &op, &number),
            record_transfer(&app, &op, &number)
        );
        let mut statuses = vec![v.status().as_u16(), p.status().as_u16()];
        statuses.sort();
        let status = invoice(&app, &op, &number).await["status"]
            .as_str()
            .unwrap()
            .to_string();
        let notes = count(
            &app,
            &format!(
                "SELECT count(*) AS n FROM credit_notes c JOIN invoices i ON i.id = c.invoice_id \
                 WHERE i.number = '{number}'"
            ),
        );
        seen.push((number, statuses, status, notes));
    }
    let consistent = |(_, statuses, status, notes): &(String, Vec<u16>, String, i64)| {
        *statuses == vec![200, 409]
            && ((status == "void" && *notes == 1) || (status == "paid" && *notes == 0))
    };
    assert!(
        seen.iter().all(consistent),
        "void and payment at once (number, statuses, end status, credit notes): {seen:?}"
    );
}

// ---------------------------------------------------------------------------------------
// #15.9: a lease dated in the future takes effect on its day
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_lease_dated_tomorrow_becomes_the_current_plan_on_its_day_on_every_replica() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let op = app.operator_token().await;
    let today = portal::clock::today_vn();
    let tomorrow = today + chrono::Duration::days(1);
    let res = app
        .client
        .put(app.url("/api/v1/tenants/ha-noi/lease"))
        .header("Host", OPS)
        .bearer_auth(&op)
        .json(&serde_json::json!({"plan": "premium", "starts_on": tomorrow}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let plan = |app: &TestApp| app.state.registry.by_slug("ha-noi").unwrap().plan.clone();
    assert_eq!(plan(&app), "standard", "tomorrow's lease waits");

    let refresh = |day: chrono::NaiveDate| {
        let db = app.database().clone();
        tokio::task::spawn_blocking(move || {
            db.control(|conn| portal::leasing::refresh_current_plans(conn, day))
                .unwrap()
        })
    };
    assert_eq!(refresh(today).await.unwrap(), Vec::<String>::new());
    // The day comes: the job (on whichever replica) makes premium the current plan...
    assert_eq!(refresh(tomorrow).await.unwrap(), vec!["ha-noi".to_string()]);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM tenants WHERE slug = 'ha-noi' AND plan_code = 'premium'"
        ),
        1
    );
    // ...and this replica's registry (rate limit, plan) follows through the notification,
    // without anyone reloading it by hand.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while plan(&app) != "premium" && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let t = app.state.registry.by_slug("ha-noi").unwrap();
    assert_eq!(t.plan, "premium");
    let premium_rps = count(
        &app,
        "SELECT rate_limit_rps::int8 AS n FROM plans WHERE code = 'premium'",
    );
    assert_eq!(i64::from(t.rate_limit_rps), premium_rps);
    // Run again the same day: nothing changes.
    assert_eq!(refresh(tomorrow).await.unwrap(), Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------
// #15 Low: invoice sums
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn absurd_usage_or_an_overflowing_line_refuses_the_close_with_a_clear_error() {
    let app = TestApp::spawn().await;
    let hn = app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    exec(&app, "UPDATE leases SET starts_on = '2026-10-01'");
    let op = app.operator_token().await;
    // Two trillion dossiers in a month: it fits in 64 bits, it is not a real month.
    exec(
        &app,
        &format!(
            "SELECT usage_add('{}', 'dossiers', 2000000000000, 'test:absurd', '2026-10-15T03:00:00Z')",
            hn.id
        ),
    );
    let res = close(&app, &op, "2026-10").await;
    let status = res.status();
    let body = res.text().await.unwrap();
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("amount_out_of_range"), "{body}");
    assert!(
        body.contains("dossiers") && body.contains("ha-noi"),
        "{body}"
    );
    assert_eq!(count(&app, "SELECT count(*) AS n FROM invoices"), 0);

    // A sane quantity at a price whose product passes 64 bits: refused, not wrapped or panicked.
    exec(&app, "UPDATE usage_period SET quantity = 25000");
    exec(
        &app,
        "UPDATE plan_metrics SET unit_price_vnd = 1000000000000000 WHERE metric = 'dossiers'",
    );
    let res = close(&app, &op, "2026-10").await;
    let status = res.status();
    let body = res.text().await.unwrap();
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("amount_out_of_range"), "{body}");
    assert_eq!(count(&app, "SELECT count(*) AS n FROM invoices"), 0);
}

// ---------------------------------------------------------------------------------------
// #15 Low: the index job goes on past a failing province
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn the_index_job_indexes_the_other_provinces_when_one_fails() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-giang", "Tỉnh Hà Giang").await;
    let good = app.create_tenant("hue", "Thành phố Huế").await;
    exec(
        &app,
        "ALTER TABLE t_ha_giang.dossier_events RENAME TO dossier_events_gone",
    );
    let registry = app.state.registry.clone();
    let (broken, fine) = (
        registry.by_slug("ha-giang").unwrap(),
        registry.by_slug("hue").unwrap(),
    );
    let db = app.database().clone();
    let period = portal::period::Period::of(portal::clock::today_vn());
    let result = tokio::task::spawn_blocking(move || {
        portal::index::job::refresh(&db, &[broken, fine], &[period])
    })
    .await
    .unwrap();
    assert!(
        result.is_ok(),
        "one broken province stopped the run: {result:?}"
    );
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT count(*) AS n FROM province_stats WHERE tenant_id = '{}'",
                good.id
            )
        ),
        1,
        "Huế is indexed although Hà Giang failed"
    );
}

// ---------------------------------------------------------------------------------------
// #15 Low: the sandbox confirms only when told to
// ---------------------------------------------------------------------------------------

/// A dossier of the citizen's, asked for `fee` đồng by an official; also returns the
/// official's token.
async fn dossier_awaiting(app: &TestApp, fee: i64) -> (String, String, String) {
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let citizen = app.citizen_token(HOST, "dan@example.vn").await;
    let official = app
        .staff_token("ha-noi", "canbo@hanoi.gov.vn", StaffRole::Official)
        .await;
    let code = dossier_at(app, &citizen, &official, Some(fee)).await;
    (citizen, official, code)
}

/// A new dossier of `citizen`'s, accepted and in processing, asked for `fee` when given.
async fn dossier_at(app: &TestApp, citizen: &str, official: &str, fee: Option<i64>) -> String {
    let code = app.submit_complete_licence_renewal(HOST, citizen).await;
    let mut moves = vec![
        serde_json::json!({"action": "accept"}),
        serde_json::json!({"action": "process"}),
    ];
    if let Some(fee) = fee {
        moves.push(serde_json::json!({"action": "request_payment", "fee_vnd": fee}));
    }
    for body in moves {
        let res = app.act(HOST, official, &code, body).await;
        assert_eq!(res.status(), 200);
    }
    code
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

async fn status(app: &TestApp, citizen: &str, code: &str) -> String {
    let d: serde_json::Value = app
        .get_with_token(HOST, &format!("/api/v1/dossiers/{code}"), citizen)
        .await
        .json()
        .await
        .unwrap();
    d["status"].as_str().unwrap().to_string()
}

fn payments(app: &TestApp) -> Vec<(String, String, i64)> {
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

#[tokio::test]
async fn the_sandbox_confirms_a_fee_only_when_set_to_otherwise_pay_says_how_to_pay() {
    // Not set (the default): the pay move answers how to pay; nothing is confirmed.
    let db = TestDb::create();
    let mut settings = test_settings(&db.url);
    settings.stripe.sandbox_confirms_fees = false;
    let app = TestApp::spawn_with(db, settings).await;
    let (citizen, _, code) = dossier_awaiting(&app, 135_000).await;
    let res = pay(&app, &citizen, &code).await;
    let code_status = res.status();
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(code_status, 409, "{body}");
    assert_eq!(body["error"]["code"], "pay_at_desk", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("135.000"), "{message}");
    assert_eq!(status(&app, &citizen, &code).await, "payment_requested");
    assert!(payments(&app).is_empty());
    drop(app);

    // Set explicitly (as `portal up --demo` does): the sandbox confirms at once.
    let app = TestApp::spawn().await;
    assert!(app.settings.stripe.sandbox_confirms_fees);
    let (citizen, _, code) = dossier_awaiting(&app, 135_000).await;
    assert_eq!(pay(&app, &citizen, &code).await.status(), 200);
    assert_eq!(status(&app, &citizen, &code).await, "processing");
}

// ---------------------------------------------------------------------------------------
// #24.1: Stripe events must match what we created
// ---------------------------------------------------------------------------------------

fn ok(body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

/// Stripe's happy answers: customer `cus_1`, invoice `in_1`, items, finalize; Checkout
/// session `cs_test_1` and its expiry.
async fn mount_stripe(server: &MockServer) {
    for (p, body) in [
        (
            "/v1/customers",
            serde_json::json!({"id": "cus_1", "object": "customer"}),
        ),
        (
            "/v1/invoices",
            serde_json::json!({"id": "in_1", "object": "invoice", "status": "draft"}),
        ),
        (
            "/v1/invoiceitems",
            serde_json::json!({"id": "ii_1", "object": "invoiceitem"}),
        ),
        (
            "/v1/invoices/in_1/finalize",
            serde_json::json!({"id": "in_1", "object": "invoice", "status": "open"}),
        ),
        (
            "/v1/checkout/sessions",
            serde_json::json!({"id": "cs_test_1", "object": "checkout.session",
                "url": "https://checkout.stripe.com/c/pay/cs_test_1",
                "payment_status": "unpaid", "status": "open"}),
        ),
        (
            "/v1/checkout/sessions/cs_test_1/expire",
            serde_json::json!({"id": "cs_test_1", "object": "checkout.session",
                "payment_status": "unpaid", "status": "expired"}),
        ),
    ] {
        Mock::given(method("POST"))
            .and(path(p))
            .respond_with(ok(body))
            .mount(server)
            .await;
    }
}

async fn app_with_stripe(stripe: &MockServer, fees: bool) -> TestApp {
    let db = TestDb::create();
    let mut settings = test_settings(&db.url);
    settings.stripe.secret_key = Some(secrecy::SecretString::from("sk_test_money".to_string()));
    settings.stripe.api_base = stripe.uri();
    settings.stripe.fee_payments = fees;
    settings.stripe.webhook_secret = Some(secrecy::SecretString::from(SECRET.to_string()));
    TestApp::spawn_with(db, settings).await
}

/// Delivers a correctly signed event; Stripe always gets a 200.
async fn webhook(app: &TestApp, event: &serde_json::Value) -> String {
    let body = serde_json::to_vec(event).unwrap();
    let now = chrono::Utc::now().timestamp();
    let res = app
        .client
        .post(app.url("/api/v1/stripe/webhook"))
        .header("Host", OPS)
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
    let body: serde_json::Value = res.json().await.unwrap();
    body["outcome"].as_str().unwrap().to_string()
}

fn invoice_paid(
    event: &str,
    id: &str,
    customer: &str,
    currency: &str,
    amount: i64,
    number: &str,
) -> serde_json::Value {
    serde_json::json!({
        "id": event, "type": "invoice.paid",
        "data": {"object": {
            "id": id, "object": "invoice", "customer": customer, "currency": currency,
            "amount_paid": amount, "total": amount, "status": "paid",
            "metadata": {"invoice_number": number, "tenant": "ha-noi"}
        }}
    })
}

#[tokio::test]
async fn an_invoice_paid_event_pays_only_the_stripe_invoice_we_created_for_its_customer_and_amount()
{
    let stripe = MockServer::start().await;
    mount_stripe(&stripe).await;
    let app = app_with_stripe(&stripe, false).await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    exec(&app, "UPDATE leases SET starts_on = '2026-10-01'");
    let op = app.operator_token().await;
    let number = closed_number(&app, &op, "2026-10").await;
    let inv = invoice(&app, &op, &number).await;
    assert_eq!(inv["provider_ref"], "in_1");
    let total = inv["total_vnd"].as_i64().unwrap();
    assert_eq!(total, 43_200_000);

    let cases = [
        ("another Stripe invoice", "in_other", "cus_1", "vnd", total),
        ("another customer", "in_1", "cus_other", "vnd", total),
        ("another currency", "in_1", "cus_1", "usd", total),
        ("another amount", "in_1", "cus_1", "vnd", 100),
        ("all of them (1 USD)", "in_evil", "cus_evil", "usd", 100),
    ];
    let mut seen = Vec::new();
    for (i, (case, id, customer, currency, amount)) in cases.iter().enumerate() {
        let event = invoice_paid(
            &format!("evt_bad_{i}"),
            id,
            customer,
            currency,
            *amount,
            &number,
        );
        let outcome = webhook(&app, &event).await;
        let status = invoice(&app, &op, &number).await["status"]
            .as_str()
            .unwrap()
            .to_string();
        seen.push((*case, outcome, status));
    }
    assert!(
        seen.iter()
            .all(|(_, outcome, status)| outcome.starts_with("rejected:") && status == "finalized"),
        "(case, outcome, invoice status): {seen:#?}"
    );
    // Recorded (the event, its payload and why), answered 200, never applied.
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM provider_events WHERE outcome LIKE 'rejected:%'"
        ),
        cases.len() as i64
    );

    // The real one pays it.
    let outcome = webhook(
        &app,
        &invoice_paid("evt_good", "in_1", "cus_1", "vnd", total, &number),
    )
    .await;
    assert_eq!(outcome, format!("invoice {number} paid"));
    let inv = invoice(&app, &op, &number).await;
    assert_eq!(
        (inv["status"].as_str(), inv["payment_reference"].as_str()),
        (Some("paid"), Some("stripe:in_1"))
    );
}

fn session_event(
    event: &str,
    kind: &str,
    session: &str,
    code: &str,
    amount: i64,
    currency: &str,
) -> serde_json::Value {
    serde_json::json!({
        "id": event, "type": kind,
        "data": {"object": {
            "id": session, "object": "checkout.session",
            "amount_total": amount, "currency": currency, "payment_status": "paid",
            "client_reference_id": code,
            "metadata": {"kind": "dossier_fee", "tenant": "ha-noi", "tracking_code": code}
        }}
    })
}

#[tokio::test]
async fn a_fee_event_settles_only_a_pending_session_we_opened_in_vnd_for_the_fee() {
    let stripe = MockServer::start().await;
    mount_stripe(&stripe).await;
    let app = app_with_stripe(&stripe, true).await;
    let (citizen, official, code) = dossier_awaiting(&app, 135_000).await;
    assert_eq!(pay(&app, &citizen, &code).await.status(), 202);
    // Another dossier of the same citizen, never asked to pay.
    let other = dossier_at(&app, &citizen, &official, None).await;

    let done = "checkout.session.completed";
    let cases = [
        (
            "a session we never created",
            session_event("evt_1", done, "cs_forged", &code, 135_000, "vnd"),
        ),
        (
            "our session, paid in USD",
            session_event("evt_2", done, "cs_test_1", &code, 135_000, "usd"),
        ),
        (
            "our session, another amount",
            session_event("evt_3", done, "cs_test_1", &code, 1_350, "vnd"),
        ),
        (
            "a dossier not awaiting payment",
            session_event("evt_4", done, "cs_other", &other, 135_000, "vnd"),
        ),
        (
            "our session named for another dossier",
            session_event("evt_5", done, "cs_test_1", &other, 135_000, "vnd"),
        ),
    ];
    let mut seen = Vec::new();
    for (case, event) in &cases {
        let outcome = webhook(&app, event).await;
        seen.push((
            *case,
            outcome,
            status(&app, &citizen, &code).await,
            status(&app, &citizen, &other).await,
        ));
    }
    assert!(
        seen.iter()
            .all(|(_, outcome, a, b)| outcome.starts_with("rejected:")
                && a == "payment_requested"
                && b == "processing"),
        "(case, outcome, dossier, other dossier): {seen:#?}"
    );
    assert_eq!(
        payments(&app),
        vec![("cs_test_1".into(), "pending".into(), 135_000)],
        "no payment recorded or confirmed"
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM provider_events WHERE outcome LIKE 'rejected:%'"
        ),
        cases.len() as i64
    );

    // The real one settles it.
    let outcome = webhook(
        &app,
        &session_event("evt_ok", done, "cs_test_1", &code, 135_000, "vnd"),
    )
    .await;
    assert_eq!(outcome, format!("dossier {code} paid"));
    assert_eq!(status(&app, &citizen, &code).await, "processing");
}

#[tokio::test]
async fn withdrawing_a_dossier_expires_its_open_checkout_session() {
    let stripe = MockServer::start().await;
    mount_stripe(&stripe).await;
    let app = app_with_stripe(&stripe, true).await;
    let (citizen, _, code) = dossier_awaiting(&app, 135_000).await;
    assert_eq!(pay(&app, &citizen, &code).await.status(), 202);

    let res = app
        .post_json(
            HOST,
            &format!("/api/v1/dossiers/{code}/withdraw"),
            Some(&citizen),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let expired: Vec<String> = stripe
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/v1/checkout/sessions/cs_test_1/expire")
        .map(|r| {
            r.headers
                .get("Idempotency-Key")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(
        expired,
        vec!["cs_test_1:expire".to_string()],
        "the open session is expired at Stripe, once"
    );
    assert_eq!(
        payments(&app),
        vec![("cs_test_1".into(), "failed".into(), 135_000)]
    );

    // Paid anyway (a race at Stripe): recorded and alerted, the withdrawn dossier stays so.
    let outcome = webhook(
        &app,
        &session_event(
            "evt_late",
            "checkout.session.completed",
            "cs_test_1",
            &code,
            135_000,
            "vnd",
        ),
    )
    .await;
    assert!(outcome.starts_with("rejected:"), "{outcome}");
    assert_eq!(status(&app, &citizen, &code).await, "withdrawn");
}
