//! Paying a fee by the method the citizen chooses (issue 19.3): a bank transfer to the
//! province's account with a VietQR code and a unique reference, confirmed from the bank
//! statement (once, at the exact amount) by the province admin, an operator or staff; a card
//! payment the provider declines leaves the dossier unpaid; the mails state the amount.

use diesel::prelude::*;
use diesel::sql_query;
use portal::accounts::staff::StaffRole;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code};
use crate::stripe_fees;

const HN: &str = "ha-noi.localhost";
const FEE: i64 = 135_000;

struct World {
    app: TestApp,
    citizen: String,
    official: String,
    admin: String,
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let citizen = app.citizen_token(HN, "dan@example.vn").await;
    let official = app
        .staff_token("ha-noi", "canbo@hanoi.gov.vn", StaffRole::Official)
        .await;
    let admin = app
        .staff_token("ha-noi", "admin@hanoi.gov.vn", StaffRole::Admin)
        .await;
    World {
        app,
        citizen,
        official,
        admin,
    }
}

impl World {
    async fn awaiting_payment(&self) -> String {
        let code = self
            .app
            .submit_complete_licence_renewal(HN, &self.citizen)
            .await;
        for body in [
            json!({"action": "accept"}),
            json!({"action": "process"}),
            json!({"action": "request_payment", "fee_vnd": FEE}),
        ] {
            let res = self.app.act(HN, &self.official, &code, body.clone()).await;
            assert_eq!(res.status(), 200, "{code} {body}");
        }
        code
    }

    async fn set_account(&self) {
        let res = self
            .app
            .client
            .put(self.app.url("/api/v1/manage/payment-account"))
            .header("Host", HN)
            .bearer_auth(&self.admin)
            .json(&json!({"bank_bin": "970436", "account_number": "1023 456 789", "account_name": "Văn phòng UBND Hà Nội"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }

    async fn choose(&self, code: &str, method: &str) -> reqwest::Response {
        self.app
            .post_json(
                HN,
                &format!("/api/v1/dossiers/{code}/pay"),
                Some(&self.citizen),
                &json!({ "method": method }),
            )
            .await
    }

    async fn reconcile(&self, lines: Value) -> Value {
        let res = self
            .app
            .post_json(
                HN,
                "/api/v1/manage/payments/reconcile",
                Some(&self.admin),
                &json!({ "lines": lines }),
            )
            .await;
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    async fn dossier(&self, code: &str) -> Value {
        let res = self
            .app
            .get_with_token(HN, &format!("/api/v1/dossiers/{code}"), &self.citizen)
            .await;
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    fn receipts(&self) -> i64 {
        count(&self.app, "SELECT count(*) AS n FROM t_ha_noi.fee_receipts")
    }
}

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

#[derive(QueryableByName)]
struct Mail {
    #[diesel(sql_type = diesel::sql_types::Text)]
    subject: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    body: String,
}

fn mails(app: &TestApp, kind: &str) -> Vec<Mail> {
    sql_query("SELECT subject, body FROM t_ha_noi.outbox WHERE kind = $1 ORDER BY id")
        .bind::<diesel::sql_types::Text, _>(kind)
        .load::<Mail>(&mut app.raw_connection())
        .unwrap()
}

#[tokio::test]
async fn a_transfer_is_reconciled_once_with_its_receipt() {
    let w = world().await;
    let code = w.awaiting_payment().await;

    // No account yet: transfers are not offered (409), nothing opened.
    let res = w.choose(&code, "bank_transfer").await;
    assert_eq!(res.status(), 409);
    assert_eq!(error_code(res).await, "transfer_unavailable");
    w.set_account().await;

    let res = w.choose(&code, "bank_transfer").await;
    assert_eq!(res.status(), 202);
    let body: Value = res.json().await.unwrap();
    let t = &body["transfer"];
    let reference = t["reference"].as_str().unwrap().to_string();
    assert!(reference.starts_with("LP") && reference.len() == 10, "{t}");
    assert_eq!(t["amount_vnd"], FEE);
    assert_eq!(t["account"]["account_number"], "1023456789");
    assert_eq!(t["account"]["account_name"], "VAN PHONG UBND HA NOI");
    let qr = t["qr_payload"].as_str().unwrap();
    assert!(qr.starts_with("00020101021238540010A00000072701240006970436011010234567890208QRIBFTTA5303704540613500058"), "{qr}");
    assert!(qr.contains(&format!("62140810{reference}6304")), "{qr}");
    assert_eq!(body["dossier"]["status"], "payment_requested");
    // Chosen again (a reload): the same reference.
    let again: Value = w.choose(&code, "bank_transfer").await.json().await.unwrap();
    assert_eq!(again["transfer"]["reference"], reference.as_str());

    // The statement: this reference at the exact amount (typed in lower case with spaces, as
    // a banking app lets one), and a stranger's transfer.
    let typed = format!("{} {}", &reference[..4].to_lowercase(), &reference[4..]);
    let report = w
        .reconcile(json!([
            {"reference": typed, "amount_vnd": FEE},
            {"reference": "LPZZZZZZZZ", "amount_vnd": 50_000},
        ]))
        .await;
    assert_eq!(report["paid"], 1, "{report}");
    assert_eq!(report["refused"], 1);
    assert_eq!(report["lines"][0]["outcome"], "paid");
    assert_eq!(report["lines"][0]["tracking_code"], code.as_str());
    assert_eq!(report["lines"][1]["outcome"], "unknown_reference");
    let d = w.dossier(&code).await;
    assert_eq!(d["status"], "processing");
    assert_eq!(d["fee_receipt"]["number"], 1, "{d}");
    assert_eq!(d["fee_receipt"]["amount_vnd"], FEE);
    assert_eq!(d["fee_receipt"]["payment_method"], "transfer");
    assert_eq!(w.receipts(), 1);

    // The same line again (the statement posted twice): nothing changes, no second receipt.
    let report = w
        .reconcile(json!([{"reference": reference, "amount_vnd": FEE}]))
        .await;
    assert_eq!(report["lines"][0]["outcome"], "already_paid", "{report}");
    assert_eq!(report["paid"], 0);
    assert_eq!(w.receipts(), 1);
    assert_eq!(w.dossier(&code).await["status"], "processing");
    assert_eq!(
        count(
            &w.app,
            "SELECT count(*) AS n FROM public.audit_log WHERE action = 'payments.reconcile'"
        ),
        1,
        "the no-op is not audited"
    );

    // The mails: the request states the amount and where to pay; the payment states it too.
    let asked = mails(&w.app, "dossier_status");
    assert!(
        asked
            .iter()
            .any(|m| m.body.contains("Lệ phí cần nộp: 135.000 ₫")
                && m.body.contains(&format!("/dossiers/{code}/pay"))),
        "{:?}",
        asked.iter().map(|m| &m.body).collect::<Vec<_>>()
    );
    let paid = mails(&w.app, "dossier_fee_paid");
    assert_eq!(paid.len(), 1);
    assert!(paid[0].subject.contains("135.000 ₫"), "{}", paid[0].subject);
    assert!(paid[0].body.contains("135.000 ₫") && paid[0].body.contains("/fee-receipt"));
}

#[tokio::test]
async fn a_transfer_of_the_wrong_amount_is_refused_and_reported() {
    let w = world().await;
    w.set_account().await;
    let code = w.awaiting_payment().await;
    let body: Value = w.choose(&code, "bank_transfer").await.json().await.unwrap();
    let reference = body["transfer"]["reference"].as_str().unwrap().to_string();

    for amount in [FEE - 1, FEE + 1_000] {
        let report = w
            .reconcile(json!([{"reference": reference, "amount_vnd": amount}]))
            .await;
        let line = &report["lines"][0];
        assert_eq!(line["outcome"], "amount_mismatch", "{report}");
        assert_eq!(line["expected_vnd"], FEE);
        assert_eq!(line["tracking_code"], code.as_str());
        assert_eq!(report["refused"], 1);
    }
    let d = w.dossier(&code).await;
    assert_eq!(d["status"], "payment_requested");
    assert!(d.get("fee_receipt").is_none(), "{d}");
    assert_eq!(w.receipts(), 0);

    // The right amount then pays it.
    let report = w
        .reconcile(json!([{"reference": reference, "amount_vnd": FEE}]))
        .await;
    assert_eq!(report["lines"][0]["outcome"], "paid");
    assert_eq!(w.receipts(), 1);
}

#[tokio::test]
async fn staff_confirm_a_transfer_of_their_dossier_and_an_operator_reconciles_a_statement() {
    let w = world().await;
    w.set_account().await;
    let first = w.awaiting_payment().await;
    let second = w.awaiting_payment().await;
    let reference_of = |v: Value| v["transfer"]["reference"].as_str().unwrap().to_string();
    let r1 = reference_of(
        w.choose(&first, "bank_transfer")
            .await
            .json()
            .await
            .unwrap(),
    );
    let r2 = reference_of(
        w.choose(&second, "bank_transfer")
            .await
            .json()
            .await
            .unwrap(),
    );

    // Staff: only for the dossier in front of them; a citizen may not.
    let path = |c: &str| format!("/api/v1/manage/dossiers/{c}/transfer-received");
    let line = json!({"reference": r2, "amount_vnd": FEE});
    let res = w
        .app
        .post_json(HN, &path(&first), Some(&w.official), &line)
        .await;
    assert_eq!(res.status(), 200);
    let r: Value = res.json().await.unwrap();
    assert_eq!(r["outcome"], "unknown_reference", "another dossier's");
    let res = w
        .app
        .post_json(HN, &path(&second), Some(&w.citizen), &line)
        .await;
    assert_eq!(res.status(), 403);
    let res = w
        .app
        .post_json(HN, &path(&second), Some(&w.official), &line)
        .await;
    let r: Value = res.json().await.unwrap();
    assert_eq!(r["outcome"], "paid", "{r}");
    assert_eq!(w.dossier(&second).await["status"], "processing");

    // An official may not post a whole statement; an operator may, on the console's host.
    let res = w
        .app
        .post_json(
            HN,
            "/api/v1/manage/payments/reconcile",
            Some(&w.official),
            &json!({"lines": [{"reference": r1, "amount_vnd": FEE}]}),
        )
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(w.dossier(&first).await["status"], "payment_requested");
    let operator = w.app.operator_token().await;
    let res = w
        .app
        .post_json(
            "ops.localhost",
            "/api/v1/tenants/ha-noi/payments/reconcile",
            Some(&operator),
            &json!({"lines": [{"reference": r1, "amount_vnd": FEE}, {"reference": r2, "amount_vnd": FEE}]}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let report: Value = res.json().await.unwrap();
    assert_eq!(report["paid"], 1, "{report}");
    assert_eq!(report["already_paid"], 1);
    assert_eq!(w.dossier(&first).await["status"], "processing");
    assert_eq!(w.receipts(), 2);
}

#[tokio::test]
async fn the_receiving_account_is_checked_and_only_the_admin_sets_it() {
    let w = world().await;
    let put = |token: &str, body: Value| {
        w.app
            .client
            .put(w.app.url("/api/v1/manage/payment-account"))
            .header("Host", HN)
            .bearer_auth(token.to_string())
            .json(&body)
            .send()
    };
    let res = w
        .app
        .get_with_token(HN, "/api/v1/manage/payment-account", &w.admin)
        .await;
    assert_eq!(res.status(), 404, "not set yet");
    let res = put(
        &w.admin,
        json!({"bank_bin": "97043", "account_number": "12-34", "account_name": ""}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    let fields = body["error"]["fields"].as_object().unwrap();
    assert!(
        ["bank_bin", "account_number", "account_name"]
            .iter()
            .all(|f| fields.contains_key(*f)),
        "{body}"
    );
    let good = json!({"bank_bin": "970436", "account_number": "1023456789", "account_name": "UBND HA NOI"});
    let res = put(&w.official, good.clone()).await.unwrap();
    assert_eq!(res.status(), 403);
    let res = put(&w.admin, good).await.unwrap();
    assert_eq!(res.status(), 200);
    let res = w
        .app
        .get_with_token(HN, "/api/v1/manage/payment-account", &w.admin)
        .await;
    let a: Value = res.json().await.unwrap();
    assert_eq!(a["account_name"], "UBND HA NOI");
}

#[tokio::test]
async fn a_card_payment_the_provider_declines_leaves_the_dossier_unpaid() {
    let stripe = wiremock::MockServer::start().await;
    stripe_fees::mount_checkout(&stripe).await;
    let app = stripe_fees::app_with_stripe_fees(&stripe).await;
    let (citizen, code) = stripe_fees::dossier_awaiting(&app, FEE).await;
    let res = app
        .post_json(
            HN,
            &format!("/api/v1/dossiers/{code}/pay"),
            Some(&citizen),
            &json!({"method": "card"}),
        )
        .await;
    assert_eq!(res.status(), 202);

    // The card is declined on the provider's page: it reports the failure.
    let outcome = stripe_fees::webhook(
        &app,
        &stripe_fees::session_event(
            "evt_declined",
            "checkout.session.async_payment_failed",
            &code,
            FEE,
            "unpaid",
        ),
    )
    .await;
    assert!(outcome.to_string().contains("failed"), "{outcome}");
    assert_eq!(
        stripe_fees::status(&app, &citizen, &code).await,
        "payment_requested"
    );
    assert_eq!(
        stripe_fees::payments(&app),
        vec![("cs_test_1".into(), "failed".into(), FEE)]
    );
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM t_ha_noi.fee_receipts"),
        0
    );
    assert!(mails(&app, "dossier_fee_paid").is_empty());
}

#[tokio::test]
async fn an_unknown_method_is_422_and_the_counter_changes_nothing() {
    let w = world().await;
    let code = w.awaiting_payment().await;
    let res = w.choose(&code, "cash_in_envelope").await;
    assert_eq!(res.status(), 422);
    let res = w.choose(&code, "counter").await;
    assert_eq!(res.status(), 202);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["amount_vnd"], FEE);
    assert_eq!(w.dossier(&code).await["status"], "payment_requested");
    assert_eq!(
        count(&w.app, "SELECT count(*) AS n FROM t_ha_noi.payments"),
        0
    );
}
