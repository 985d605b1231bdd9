//! Invoices pushed to Stripe through async-stripe (a local wiremock speaking Stripe's API): exact paths, form
//! bodies, idempotency keys from our invoice number, VND as is (zero-decimal, never ×100),
//! retries that create nothing twice, and invoices over Stripe's cap never sent.

use diesel::prelude::*;
use diesel::sql_query;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::helpers::{TestApp, TestDb, error_code, test_settings};

const KEY: &str = "sk_test_portal";

async fn app_with_stripe(stripe: &MockServer) -> TestApp {
    let db = TestDb::create();
    let mut settings = test_settings(&db.url);
    settings.stripe.secret_key = Some(secrecy::SecretString::from(KEY.to_string()));
    settings.stripe.api_base = format!("{}/", stripe.uri());
    TestApp::spawn_with(db, settings).await
}

fn exec(app: &TestApp, sql: &str) {
    sql_query(sql).execute(&mut app.raw_connection()).unwrap();
}

fn ok(body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

/// Stripe's happy answers: one customer, one invoice `in_1`, items, finalize.
async fn mount_stripe(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/v1/customers"))
        .respond_with(ok(serde_json::json!({"id": "cus_1", "object": "customer"})))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/invoices"))
        .respond_with(ok(
            serde_json::json!({"id": "in_1", "object": "invoice", "status": "draft"}),
        ))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/invoiceitems"))
        .respond_with(ok(
            serde_json::json!({"id": "ii_1", "object": "invoiceitem"}),
        ))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/invoices/in_1/finalize"))
        .respond_with(ok(
            serde_json::json!({"id": "in_1", "object": "invoice", "status": "open"}),
        ))
        .mount(server)
        .await;
}

/// The next POST to `path` answers 500 (Stripe's error shape); later ones go to the other mocks.
async fn fail_once(server: &MockServer, path_: &str) {
    Mock::given(method("POST"))
        .and(path(path_))
        .respond_with(ResponseTemplate::new(500).set_body_json(
            serde_json::json!({"error": {"type": "api_error", "message": "try again"}}),
        ))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(server)
        .await;
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

/// A form body as (key, value) pairs, in order.
fn form(req: &Request) -> Vec<(String, String)> {
    std::str::from_utf8(&req.body)
        .unwrap()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn field(req: &Request, key: &str) -> Option<String> {
    form(req)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

fn idempotency_key(req: &Request) -> String {
    req.headers
        .get("Idempotency-Key")
        .expect("every request has an Idempotency-Key")
        .to_str()
        .unwrap()
        .to_string()
}

async fn close(app: &TestApp, token: &str, period: &str) -> serde_json::Value {
    let res = app
        .post_json(
            "ops.localhost",
            "/api/v1/billing/close",
            Some(token),
            &serde_json::json!({ "period": period }),
        )
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn send(app: &TestApp, token: &str, number: &str) -> reqwest::Response {
    app.post_json(
        "ops.localhost",
        &format!("/api/v1/invoices/{number}/send"),
        Some(token),
        &serde_json::json!({}),
    )
    .await
}

#[tokio::test]
async fn a_closed_invoice_is_created_at_stripe_with_our_number_as_idempotency_keys_and_vnd_as_is() {
    let stripe = MockServer::start().await;
    mount_stripe(&stripe).await;
    let app = app_with_stripe(&stripe).await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    exec(&app, "UPDATE leases SET starts_on = '2026-10-01'");
    let op = app.operator_token().await;

    let closed = close(&app, &op, "2026-10").await;
    let inv = &closed["invoices"][0];
    let number = inv["number"].as_str().unwrap().to_string();
    assert_eq!(inv["provider_status"], "sent", "{inv}");
    assert_eq!(inv["provider_ref"], "in_1");
    let lines = inv["lines"].as_array().unwrap();
    let vat = inv["vat_vnd"].as_i64().unwrap();
    assert!(vat > 0);

    let requests = stripe.received_requests().await.unwrap();
    let paths: Vec<&str> = requests.iter().map(|r| r.url.path()).collect();
    let mut expected = vec!["/v1/customers", "/v1/invoices"];
    expected.extend(std::iter::repeat_n("/v1/invoiceitems", lines.len() + 1));
    expected.push("/v1/invoices/in_1/finalize");
    assert_eq!(paths, expected);
    let keys: Vec<String> = requests.iter().map(idempotency_key).collect();
    let mut expected_keys = vec![format!("{number}:customer"), format!("{number}:invoice")];
    expected_keys.extend((1..=lines.len() + 1).map(|n| format!("{number}:item:{n}")));
    expected_keys.push(format!("{number}:finalize"));
    assert_eq!(keys, expected_keys);
    for r in &requests {
        assert_eq!(
            r.headers.get("Authorization").unwrap().to_str().unwrap(),
            format!("Bearer {KEY}")
        );
        assert!(
            r.headers
                .get("Content-Type")
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("application/x-www-form-urlencoded")
        );
    }

    // The customer: the province (async-stripe orders fields its own way).
    let mut customer = form(&requests[0]);
    customer.sort();
    assert_eq!(
        customer,
        vec![
            ("metadata[tenant]".to_string(), "ha-noi".to_string()),
            ("name".to_string(), "Thành phố Hà Nội".to_string()),
        ]
    );
    // The invoice: sent by email, in VND, our number in its metadata (the webhook reads it).
    let head = &requests[1];
    assert_eq!(field(head, "customer").as_deref(), Some("cus_1"));
    assert_eq!(field(head, "currency").as_deref(), Some("vnd"));
    assert_eq!(
        field(head, "collection_method").as_deref(),
        Some("send_invoice")
    );
    assert_eq!(field(head, "days_until_due").as_deref(), Some("30"));
    assert_eq!(
        field(head, "pending_invoice_items_behavior").as_deref(),
        Some("exclude")
    );
    assert_eq!(
        field(head, "metadata[invoice_number]").as_deref(),
        Some(number.as_str())
    );
    // The items: each line's amount in đồng as it is (40,000,000 ₫ is 40000000, not ×100),
    // then VAT; together exactly our total.
    let items = &requests[2..2 + lines.len() + 1];
    let mut sum = 0;
    for (i, item) in items.iter().enumerate() {
        assert_eq!(field(item, "invoice").as_deref(), Some("in_1"));
        assert_eq!(field(item, "customer").as_deref(), Some("cus_1"));
        assert_eq!(field(item, "currency").as_deref(), Some("vnd"));
        let amount: i64 = field(item, "amount").unwrap().parse().unwrap();
        if i < lines.len() {
            assert_eq!(amount, lines[i]["amount_vnd"].as_i64().unwrap());
            assert_eq!(
                field(item, "description").as_deref(),
                lines[i]["description"].as_str()
            );
        } else {
            assert_eq!(amount, vat);
            assert!(field(item, "description").unwrap().starts_with("VAT"));
        }
        sum += amount;
    }
    assert_eq!(field(&items[0], "amount").as_deref(), Some("40000000"));
    assert_eq!(sum, inv["total_vnd"].as_i64().unwrap());
    assert_eq!(
        field(&requests[requests.len() - 1], "auto_advance").as_deref(),
        Some("true")
    );

    // Sending again (and closing again) changes nothing at Stripe.
    let res = send(&app, &op, &number).await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["provider_ref"], "in_1");
    close(&app, &op, "2026-10").await;
    assert_eq!(
        stripe.received_requests().await.unwrap().len(),
        requests.len()
    );

    // The next month's invoice reuses the province's customer.
    let nov = close(&app, &op, "2026-11").await;
    let nov_number = nov["invoices"][0]["number"].as_str().unwrap().to_string();
    let later = stripe.received_requests().await.unwrap();
    let fresh: Vec<&Request> = later[requests.len()..].iter().collect();
    assert!(!fresh.is_empty());
    assert!(fresh.iter().all(|r| r.url.path() != "/v1/customers"));
    assert_eq!(idempotency_key(fresh[0]), format!("{nov_number}:invoice"));
    assert_eq!(field(fresh[0], "customer").as_deref(), Some("cus_1"));
}

#[tokio::test]
async fn a_stripe_failure_is_recorded_and_the_retry_creates_nothing_twice() {
    let stripe = MockServer::start().await;
    // The first invoice creation fails with a 500; afterwards Stripe answers.
    fail_once(&stripe, "/v1/invoices").await;
    mount_stripe(&stripe).await;
    let app = app_with_stripe(&stripe).await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    exec(&app, "UPDATE leases SET starts_on = '2026-10-01'");
    let op = app.operator_token().await;

    let closed = close(&app, &op, "2026-10").await;
    let inv = &closed["invoices"][0];
    let number = inv["number"].as_str().unwrap().to_string();
    assert_eq!(inv["status"], "finalized", "the close stands");
    assert_eq!(inv["provider_status"], "failed");
    assert!(
        inv["provider_error"].as_str().unwrap().contains("500"),
        "{inv}"
    );
    assert!(inv["provider_ref"].is_null());
    let first = stripe.received_requests().await.unwrap();
    assert_eq!(
        first.iter().map(idempotency_key).collect::<Vec<_>>(),
        vec![format!("{number}:customer"), format!("{number}:invoice")]
    );

    // The retry: the customer is not created again, the invoice is asked for with the same key.
    let res = send(&app, &op, &number).await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["provider_status"], "sent");
    assert_eq!(body["provider_ref"], "in_1");
    assert!(body["provider_error"].is_null());
    let all = stripe.received_requests().await.unwrap();
    let keys: Vec<String> = all.iter().map(idempotency_key).collect();
    assert_eq!(
        keys.iter().filter(|k| k.ends_with(":customer")).count(),
        1,
        "{keys:?}"
    );
    assert_eq!(
        keys.iter()
            .filter(|k| **k == format!("{number}:invoice"))
            .count(),
        2,
        "the failed creation retried with the same key: {keys:?}"
    );
    let mut distinct = keys.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        keys.len() - 1,
        "only the failed call repeats"
    );
    assert_eq!(keys.last().unwrap(), &format!("{number}:finalize"));
    // Recorded: two attempts.
    #[derive(QueryableByName)]
    struct A {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        provider_attempts: i32,
    }
    let a: A = sql_query("SELECT provider_attempts FROM invoices")
        .get_result(&mut app.raw_connection())
        .unwrap();
    assert_eq!(a.provider_attempts, 2);

    // A Stripe that is down entirely: 503, recorded, nothing else changes.
    stripe.reset().await;
    exec(
        &app,
        "UPDATE invoices SET provider_status = NULL, provider_ref = NULL",
    );
    let res = send(&app, &op, &number).await;
    assert_eq!(res.status(), 503);
    let inv: serde_json::Value = app
        .get_with_token("ops.localhost", &format!("/api/v1/invoices/{number}"), &op)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(inv["provider_status"], "failed");
    assert_eq!(inv["status"], "finalized");
}

#[tokio::test]
async fn an_invoice_over_stripes_cap_is_never_sent_and_says_bank_transfer() {
    let stripe = MockServer::start().await;
    mount_stripe(&stripe).await;
    let app = app_with_stripe(&stripe).await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    exec(&app, "UPDATE leases SET starts_on = '2026-10-01'");
    // 100,000,000 ₫ a month (+ VAT): over 99,999,999 ₫.
    exec(&app, "UPDATE plans SET monthly_fee_vnd = 100000000");
    let op = app.operator_token().await;

    let closed = close(&app, &op, "2026-10").await;
    let inv = &closed["invoices"][0];
    let number = inv["number"].as_str().unwrap().to_string();
    assert!(inv["total_vnd"].as_i64().unwrap() > 99_999_999);
    assert_eq!(inv["payable_by"], serde_json::json!(["bank_transfer"]));
    assert_eq!(inv["provider_status"], "bank_transfer_only");
    assert!(inv["provider_ref"].is_null());

    let res = send(&app, &op, &number).await;
    assert_eq!(res.status(), 409);
    assert_eq!(error_code(res).await, "bank_transfer_only");
    assert!(
        stripe.received_requests().await.unwrap().is_empty(),
        "nothing ever reaches Stripe"
    );
    // Still payable by bank transfer.
    let res = app
        .post_json(
            "ops.localhost",
            &format!("/api/v1/invoices/{number}/pay"),
            Some(&op),
            &serde_json::json!({"reference": "VCB-123"}),
        )
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn without_a_stripe_key_invoices_stay_offline() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    exec(&app, "UPDATE leases SET starts_on = '2026-10-01'");
    let op = app.operator_token().await;
    let closed = close(&app, &op, "2026-10").await;
    let inv = &closed["invoices"][0];
    assert!(inv["provider_status"].is_null());
    let res = send(&app, &op, inv["number"].as_str().unwrap()).await;
    assert_eq!(res.status(), 409);
    assert_eq!(error_code(res).await, "no_provider");
}

async fn void(app: &TestApp, token: &str, number: &str) -> reqwest::Response {
    app.post_json(
        "ops.localhost",
        &format!("/api/v1/invoices/{number}/void"),
        Some(token),
        &serde_json::json!({"reason": "sai kỳ / wrong period"}),
    )
    .await
}

#[tokio::test]
async fn a_voided_invoice_is_voided_at_stripe_once_and_a_failed_void_is_retried() {
    let stripe = MockServer::start().await;
    // The first void fails; the retry goes through.
    fail_once(&stripe, "/v1/invoices/in_1/void").await;
    Mock::given(method("POST"))
        .and(path("/v1/invoices/in_1/void"))
        .respond_with(ok(
            serde_json::json!({"id": "in_1", "object": "invoice", "status": "void"}),
        ))
        .mount(&stripe)
        .await;
    mount_stripe(&stripe).await;
    let app = app_with_stripe(&stripe).await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    exec(&app, "UPDATE leases SET starts_on = '2026-10-01'");
    let op = app.operator_token().await;
    let closed = close(&app, &op, "2026-10").await;
    let number = closed["invoices"][0]["number"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(closed["invoices"][0]["provider_status"], "sent");

    // Voided here; Stripe fails: the void stands, the failure is recorded.
    let res = void(&app, &op, &number).await;
    assert_eq!(res.status(), 200);
    let inv: serde_json::Value = res.json().await.unwrap();
    assert_eq!(inv["status"], "void");
    assert_eq!(inv["provider_status"], "void_failed", "{inv}");
    // The retry (the operator's send) voids at Stripe with the same key, then nothing more.
    let res = send(&app, &op, &number).await;
    assert_eq!(res.status(), 200);
    let inv: serde_json::Value = res.json().await.unwrap();
    assert_eq!(inv["provider_status"], "voided", "{inv}");
    assert_eq!(send(&app, &op, &number).await.status(), 200);
    let voids: Vec<String> = stripe
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/v1/invoices/in_1/void")
        .map(idempotency_key)
        .collect();
    assert_eq!(
        voids,
        vec![format!("{number}:void"), format!("{number}:void")]
    );
}

#[tokio::test]
async fn the_cli_close_pushes_to_stripe_and_the_billing_job_retries_what_failed() {
    let stripe = MockServer::start().await;
    // Every invoice creation fails once (one per province), then Stripe answers.
    fail_once(&stripe, "/v1/invoices").await;
    mount_stripe(&stripe).await;
    let app = app_with_stripe(&stripe).await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    app.create_tenant("hue", "Thành phố Huế").await;
    exec(&app, "UPDATE leases SET starts_on = '2026-10-01'");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_portal"))
        .env("DATABASE_URL", &app.db.url)
        .env("RUST_LOG", "error")
        .env("PORTAL__STRIPE__SECRET_KEY", KEY)
        .env("PORTAL__STRIPE__API_BASE", stripe.uri())
        .env_remove("PORTAL_CONFIG")
        .args(["billing", "close", "--period", "2026-10"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("1 invoice(s) pushed to stripe"), "{stdout}");
    assert!(stdout.contains("finalized (sent)"), "{stdout}");
    assert!(stdout.contains("finalized (failed)"), "{stdout}");

    // The billing job pushes what failed, once across replicas (two at the same time).
    let db = app.state.db.clone();
    let provider = app.state.invoices.clone();
    let run = move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        portal::jobs::billing::push_due(&db, provider.as_ref(), &runtime).unwrap()
    };
    let (a, b) = (run.clone(), run);
    let (a, b) = tokio::join!(
        tokio::task::spawn_blocking(a),
        tokio::task::spawn_blocking(b)
    );
    // One of them wins the lock and pushes the one failed invoice; the other pushes nothing
    // (it finds the lock taken, or nothing left).
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let sent: N = sql_query("SELECT count(*) AS n FROM invoices WHERE provider_status = 'sent'")
        .get_result(&mut app.raw_connection())
        .unwrap();
    assert_eq!(sent.n, 2);
    let keys: Vec<String> = stripe
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(idempotency_key)
        .collect();
    let finalizes = keys.iter().filter(|k| k.ends_with(":finalize")).count();
    assert_eq!(finalizes, 2, "each invoice finalized once: {keys:?}");
    let customers = keys.iter().filter(|k| k.ends_with(":customer")).count();
    assert_eq!(customers, 2, "{keys:?}");
}
