//! Billing: correct, repeatable invoices with gapless numbers; late usage as adjustments.

use chrono::Datelike;
use diesel::prelude::*;
use diesel::sql_query;
use portal::billing::close;
use portal::period::Period;

use crate::helpers::TestApp;

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

async fn close_via_api(app: &TestApp, token: &str, period: &str) -> serde_json::Value {
    let res = app
        .post_json(
            "ops.localhost",
            "/api/v1/billing/close",
            Some(token),
            &serde_json::json!({"period": period}),
        )
        .await;
    assert_eq!(res.status(), 200, "close {period}");
    res.json().await.unwrap()
}

#[tokio::test]
async fn closing_a_month_bills_lease_days_and_overage_once_with_gapless_numbers() {
    let app = TestApp::spawn().await;
    let hn = app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    app.create_tenant("hue", "Thành phố Huế").await;
    let op = app.operator_token().await;
    // Both leased from 1 October on the standard plan (40,000,000 ₫ a month; 15,000 dossiers).
    exec(&app, "UPDATE leases SET starts_on = '2026-10-01'");
    // Hà Nội's October: 15,120 dossiers counted → 120 over at 1,200 ₫.
    exec(
        &app,
        &format!(
            "SELECT usage_add('{}', 'dossiers', 15120, 'test:oct', '2026-10-15T03:00:00Z')",
            hn.id
        ),
    );

    let body = close_via_api(&app, &op, "2026-10").await;
    let invoices = body["invoices"].as_array().unwrap();
    assert_eq!(invoices.len(), 2);
    let hni = invoices.iter().find(|i| i["tenant"] == "ha-noi").unwrap();
    assert_eq!(hni["period"], "2026-10");
    assert_eq!(hni["status"], "finalized");
    let lines = hni["lines"].as_array().unwrap();
    assert_eq!(
        lines[0]["amount_vnd"], 40_000_000,
        "a whole month of the lease"
    );
    let over = lines.iter().find(|l| l["metric"] == "dossiers").unwrap();
    assert_eq!(
        (
            over["quantity"].as_i64(),
            over["unit_price_vnd"].as_i64(),
            over["amount_vnd"].as_i64()
        ),
        (Some(120), Some(1200), Some(144_000))
    );
    let sum: i64 = lines
        .iter()
        .map(|l| l["amount_vnd"].as_i64().unwrap())
        .sum();
    assert_eq!(
        hni["subtotal_vnd"].as_i64(),
        Some(sum),
        "lines sum to the subtotal"
    );
    assert_eq!(hni["vat_vnd"].as_i64(), Some(sum * 8 / 100), "8% in 2026");
    assert_eq!(hni["total_vnd"].as_i64(), Some(sum + sum * 8 / 100));
    assert_eq!(
        hni["payable_by"],
        serde_json::json!(["bank_transfer", "stripe"]),
        "under Stripe's VND cap"
    );
    let numbers: Vec<&str> = invoices
        .iter()
        .map(|i| i["number"].as_str().unwrap())
        .collect();
    // Numbered in the series of the issue date's year (today on the calendar clock).
    let year = portal::clock::today_vn().year();
    assert_eq!(
        numbers,
        [format!("HD-{year}-000001"), format!("HD-{year}-000002")]
    );

    // Closing again: identical invoices, no new numbers.
    let again = close_via_api(&app, &op, "2026-10").await;
    assert_eq!(again, body);
    assert_eq!(
        count(
            &app,
            &format!("SELECT last_number::int8 AS n FROM invoice_counters WHERE year = {year}")
        ),
        2
    );

    // Late October usage after the close is billed in November as an adjustment.
    exec(
        &app,
        &format!(
            "SELECT usage_add('{}', 'dossiers', 10, 'test:late', '2026-10-30T03:00:00Z')",
            hn.id
        ),
    );
    let nov = close_via_api(&app, &op, "2026-11").await;
    let hni = nov["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["tenant"] == "ha-noi")
        .unwrap()
        .clone();
    let adj = hni["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["description"].as_str().unwrap().contains("2026-10"))
        .expect("adjustment line");
    assert_eq!(
        (adj["quantity"].as_i64(), adj["amount_vnd"].as_i64()),
        (Some(10), Some(12_000))
    );
    let mut nov_numbers: Vec<&str> = nov["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["number"].as_str().unwrap())
        .collect();
    nov_numbers.sort();
    assert_eq!(
        nov_numbers,
        [format!("HD-{year}-000003"), format!("HD-{year}-000004")],
        "the series goes on without gaps"
    );

    // Finalized invoices never change.
    assert!(
        sql_query("UPDATE invoice_lines SET amount_vnd = 1")
            .execute(&mut app.raw_connection())
            .is_err()
    );
    assert!(
        sql_query("UPDATE invoices SET total_vnd = 1")
            .execute(&mut app.raw_connection())
            .is_err()
    );

    // A bank transfer marks it paid once; the admin sees the province's invoices.
    let number = hni["number"].as_str().unwrap();
    let paid = app
        .post_json(
            "ops.localhost",
            &format!("/api/v1/invoices/{number}/pay"),
            Some(&op),
            &serde_json::json!({"reference": "VCB 123456"}),
        )
        .await;
    assert_eq!(paid.status(), 200);
    assert_eq!(
        paid.json::<serde_json::Value>().await.unwrap()["status"],
        "paid"
    );
    let again = app
        .post_json(
            "ops.localhost",
            &format!("/api/v1/invoices/{number}/pay"),
            Some(&op),
            &serde_json::json!({"reference": "VCB 123456"}),
        )
        .await;
    assert_eq!(
        again.status(),
        200,
        "the same transfer recorded twice changes nothing"
    );
    let void = app
        .post_json(
            "ops.localhost",
            &format!("/api/v1/invoices/{number}/void"),
            Some(&op),
            &serde_json::json!({"reason": "nhầm"}),
        )
        .await;
    assert_eq!(void.status(), 409, "a paid invoice is not voided");
    let hue_number = nov["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["tenant"] == "hue")
        .unwrap()["number"]
        .as_str()
        .unwrap()
        .to_string();
    let void = app
        .post_json(
            "ops.localhost",
            &format!("/api/v1/invoices/{hue_number}/void"),
            Some(&op),
            &serde_json::json!({"reason": "Sai gói"}),
        )
        .await;
    assert_eq!(
        void.json::<serde_json::Value>().await.unwrap()["status"],
        "void"
    );
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT count(*) AS n FROM credit_notes WHERE number = 'CN-{}-000001'",
                portal::clock::today_vn().year()
            )
        ),
        1
    );
    let admin = app
        .staff_token(
            "ha-noi",
            "admin@hanoi.gov.vn",
            portal::accounts::staff::StaffRole::Admin,
        )
        .await;
    let mine: serde_json::Value = app
        .get_with_token("ha-noi.localhost", "/api/v1/manage/invoices", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine.as_array().unwrap().len(), 2);
    let by_number: serde_json::Value = app
        .get_with_token("ops.localhost", &format!("/api/v1/invoices/{number}"), &op)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_number["status"], "paid");
    // The list filters by status; an unknown status is 422 in the contract's envelope.
    let paid: serde_json::Value = app
        .get_with_token(
            "ops.localhost",
            &format!(
                "/api/v1/invoices?period={}&status=paid",
                by_number["period"].as_str().unwrap()
            ),
            &op,
        )
        .await
        .json()
        .await
        .unwrap();
    let paid = paid.as_array().unwrap();
    assert!(!paid.is_empty());
    assert!(paid.iter().all(|i| i["status"] == "paid"), "{paid:?}");
    let res = app
        .get_with_token("ops.localhost", "/api/v1/invoices?status=unpaid'--", &op)
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(crate::helpers::error_code(res).await, "validation_failed");
    assert_eq!(
        app.post_json(
            "ops.localhost",
            "/api/v1/billing/close",
            Some(&op),
            &serde_json::json!({"period": "2026-13"})
        )
        .await
        .status(),
        422
    );
}

#[tokio::test]
async fn a_lease_started_mid_month_is_prorated_and_concurrent_closes_leave_no_gaps() {
    let app = TestApp::spawn().await;
    for i in 0..6 {
        app.create_tenant(&format!("xa-{i}"), &format!("Xã {i}"))
            .await;
    }
    // Leased from 16 October: 16 of 31 days of 40,000,000 ₫.
    exec(&app, "UPDATE leases SET starts_on = '2026-10-16'");
    let db = app.database().clone();
    let runs: Vec<_> = (0..3)
        .map(|_| {
            let db = db.clone();
            std::thread::spawn(move || {
                db.control(|c| {
                    close::close(
                        c,
                        Period::parse("2026-10").unwrap(),
                        "test",
                        "2026-11-26T03:00:00Z".parse().unwrap(),
                    )
                })
                .unwrap()
            })
        })
        .collect();
    let results: Vec<_> = runs.into_iter().map(|r| r.join().unwrap()).collect();
    assert!(
        results.iter().all(|r| r == &results[0]),
        "every close returns the same invoices"
    );
    let mut numbers: Vec<String> = results[0].iter().map(|i| i.number.clone()).collect();
    numbers.sort();
    assert_eq!(
        numbers,
        (1..=6)
            .map(|n| format!("HD-2026-{n:06}"))
            .collect::<Vec<_>>()
    );
    let fee = &results[0][0].lines[0];
    assert_eq!(fee.quantity, 16);
    assert_eq!(
        fee.amount_vnd,
        (40_000_000i64 * 16 + 15) / 31,
        "40,000,000 × 16 / 31, rounded"
    );

    // VAT changes exactly on its effective date.
    let (a, b) = tokio::task::spawn_blocking(move || {
        db.control(|c| {
            let a = close::vat_rate(c, chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap())?;
            let b = close::vat_rate(c, chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap())?;
            Ok((a, b))
        })
        .unwrap()
    })
    .await
    .unwrap();
    assert_eq!((a, b), (800, 1000));
    // A period that has not started cannot be closed.
    let op = app.operator_token().await;
    assert_eq!(
        app.post_json(
            "ops.localhost",
            "/api/v1/billing/close",
            Some(&op),
            &serde_json::json!({"period": Period::of(portal::clock::today_vn()).next().to_string()})
        )
        .await
        .status(),
        422
    );
}

#[tokio::test]
async fn a_signed_stripe_event_pays_an_invoice_once_and_bad_signatures_are_refused() {
    use portal::billing::webhook::sign;
    let db = crate::helpers::TestDb::create();
    let mut settings = crate::helpers::test_settings(&db.url);
    settings.stripe.webhook_secret = Some(secrecy::SecretString::from("whsec_new".to_string()));
    settings.stripe.webhook_previous_secret =
        Some(secrecy::SecretString::from("whsec_old".to_string()));
    let app = TestApp::spawn_with(db, settings).await;
    app.create_tenant("ha-noi", "Hà Nội").await;
    exec(&app, "UPDATE leases SET starts_on = '2026-10-01'");
    let op = app.operator_token().await;
    let closed = close_via_api(&app, &op, "2026-10").await;
    let number = closed["invoices"][0]["number"]
        .as_str()
        .unwrap()
        .to_string();

    // As if it had been sent to Stripe: its invoice there, the province's customer.
    exec(
        &app,
        "UPDATE invoices SET provider_ref = 'in_abc', provider_status = 'sent'",
    );
    exec(
        &app,
        "INSERT INTO provider_customers (tenant_id, provider, customer_ref) \
         SELECT id, 'stripe', 'cus_abc' FROM tenants",
    );
    let total = closed["invoices"][0]["total_vnd"].as_i64().unwrap();
    let event = serde_json::json!({"id": "evt_123", "type": "invoice.paid", "data": {"object": {
        "id": "in_abc", "customer": "cus_abc", "currency": "vnd", "amount_paid": total,
        "metadata": {"invoice_number": number}}}});
    let body = serde_json::to_vec(&event).unwrap();
    let send = |signature: String, body: Vec<u8>| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/api/v1/stripe/webhook"))
                .header("Host", "ops.localhost")
                .header("Stripe-Signature", signature)
                .header("Content-Type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let now = chrono::Utc::now().timestamp();
    // Refused: tampered body, wrong secret, expired, missing.
    let mut tampered = body.clone();
    tampered[10] ^= 1;
    assert_eq!(
        send(
            format!("t={now},v1={}", sign("whsec_new", now, &body)),
            tampered
        )
        .await
        .status(),
        400
    );
    assert_eq!(
        send(
            format!("t={now},v1={}", sign("whsec_wrong", now, &body)),
            body.clone()
        )
        .await
        .status(),
        400
    );
    let old = now - 400;
    assert_eq!(
        send(
            format!("t={old},v1={}", sign("whsec_new", old, &body)),
            body.clone()
        )
        .await
        .status(),
        400
    );
    assert_eq!(send(String::new(), body.clone()).await.status(), 400);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM invoices WHERE status = 'paid'"
        ),
        0
    );

    // Two v1 values, the second valid; then the same event replayed (with the previous secret).
    let two = format!(
        "t={now},v1={},v1={}",
        sign("whsec_other", now, &body),
        sign("whsec_new", now, &body)
    );
    let res = send(two, body.clone()).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.json::<serde_json::Value>().await.unwrap()["outcome"]
            .as_str()
            .unwrap()
            .contains("paid")
    );
    let replay = send(
        format!("t={now},v1={}", sign("whsec_old", now, &body)),
        body.clone(),
    )
    .await;
    assert_eq!(replay.status(), 200);
    assert!(
        replay.json::<serde_json::Value>().await.unwrap()["outcome"]
            .as_str()
            .unwrap()
            .starts_with("duplicate")
    );
    assert_eq!(count(&app, "SELECT count(*) AS n FROM provider_events"), 1);
    let inv: serde_json::Value = app
        .get_with_token("ops.localhost", &format!("/api/v1/invoices/{number}"), &op)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (inv["status"].as_str(), inv["payment_reference"].as_str()),
        (Some("paid"), Some("stripe:in_abc"))
    );

    // An event we do not handle is acknowledged.
    let other = serde_json::to_vec(
        &serde_json::json!({"id": "evt_9", "type": "customer.created", "data": {"object": {}}}),
    )
    .unwrap();
    assert_eq!(
        send(
            format!("t={now},v1={}", sign("whsec_new", now, &other)),
            other
        )
        .await
        .status(),
        200
    );
}
