//! The citizen's irreversible moves ask first (issue 19.6): paying shows the amount and the
//! ways to pay and charges nothing until the confirmation is posted; withdrawing says what will
//! happen first. The API moves keep their shape (one POST).

use diesel::prelude::*;
use diesel::sql_query;
use portal::accounts::staff::StaffRole;
use serde_json::json;

use crate::browser::Browser;
use crate::helpers::{TestApp, TestDb, test_settings};
use crate::stripe_fees::{dossier_awaiting, payments, status};

const HN: &str = "ha-noi.localhost";
const FEE: i64 = 135_000;

fn receipts(app: &TestApp) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    sql_query("SELECT count(*) AS n FROM t_ha_noi.fee_receipts")
        .get_result::<N>(&mut app.raw_connection())
        .unwrap()
        .n
}

#[tokio::test]
async fn the_pay_page_shows_the_amount_and_never_charges_on_get() {
    let app = TestApp::spawn().await;
    let (citizen, code) = dossier_awaiting(&app, FEE).await;
    let mut b = Browser::new(&app, HN);
    b.sign_in("dan@example.vn", "/").await;

    // The dossier page links to the pay page; it holds no form that pays.
    let detail = b.get(&format!("/dossiers/{code}")).await;
    assert!(
        detail
            .body
            .contains(&format!("href=\"/dossiers/{code}/pay\""))
    );
    assert!(
        !detail
            .body
            .contains(&format!("action=\"/dossiers/{code}/pay\""))
    );

    // The pay page, twice: the amount, the methods, a confirmation; nothing charged.
    for _ in 0..2 {
        let page = b.get(&format!("/dossiers/{code}/pay")).await;
        assert_eq!(page.status, 200, "{}", page.body);
        page.assert_lean();
        assert!(page.body.contains("135.000 đ"), "the amount in VND");
        assert!(
            page.body
                .contains(&format!("action=\"/dossiers/{code}/pay\""))
        );
        assert!(page.body.contains("value=\"card\"") && page.body.contains("value=\"counter\""));
        assert!(
            !page.body.contains("value=\"bank_transfer\""),
            "no account, no transfer"
        );
    }
    // No transfer was opened: its page sends back to the choice.
    let t = b.get(&format!("/dossiers/{code}/pay/transfer")).await;
    assert_eq!(t.status, 303);
    assert_eq!(t.location, format!("/dossiers/{code}/pay"));
    let counter = b.get(&format!("/dossiers/{code}/pay/counter")).await;
    assert_eq!(counter.status, 200);
    assert!(counter.body.contains("135.000 đ"));
    assert_eq!(status(&app, &citizen, &code).await, "payment_requested");
    assert!(payments(&app).is_empty());
    assert_eq!(receipts(&app), 0);

    // The confirmation posted: the sandbox of the tests takes it.
    let page = b.get(&format!("/dossiers/{code}/pay")).await;
    let csrf = b.csrf(&page);
    let paid = b
        .post(
            &format!("/dossiers/{code}/pay"),
            &[("csrf", &csrf), ("method", "card")],
        )
        .await;
    assert_eq!(paid.status, 303, "{}", paid.body);
    assert_eq!(status(&app, &citizen, &code).await, "processing");
    assert_eq!(receipts(&app), 1);
    // Paid: the pay page now only sends back to the dossier.
    let after = b.get(&format!("/dossiers/{code}/pay")).await;
    assert_eq!(after.status, 303);
}

#[tokio::test]
async fn the_transfer_page_shows_the_account_the_reference_and_a_vietqr_code() {
    let app = TestApp::spawn().await;
    let (citizen, code) = dossier_awaiting(&app, FEE).await;
    let admin = app
        .staff_token("ha-noi", "admin@hanoi.gov.vn", StaffRole::Admin)
        .await;
    let res = app
        .client
        .put(app.url("/api/v1/manage/payment-account"))
        .header("Host", HN)
        .bearer_auth(&admin)
        .json(&json!({"bank_bin": "970436", "account_number": "1023456789", "account_name": "UBND HA NOI"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut b = Browser::new(&app, HN);
    b.sign_in("dan@example.vn", "/").await;
    let page = b.get(&format!("/dossiers/{code}/pay")).await;
    assert!(page.body.contains("value=\"bank_transfer\""));
    let csrf = b.csrf(&page);
    let chosen = b
        .post(
            &format!("/dossiers/{code}/pay"),
            &[("csrf", &csrf), ("method", "bank_transfer")],
        )
        .await;
    assert_eq!(chosen.status, 303);
    assert_eq!(chosen.location, format!("/dossiers/{code}/pay/transfer"));
    let t = b.get(&chosen.location).await;
    assert_eq!(t.status, 200);
    t.assert_lean();
    let opened = payments(&app);
    assert_eq!(opened.len(), 1);
    let (reference, state, amount) = &opened[0];
    assert_eq!((state.as_str(), *amount), ("pending", FEE));
    for shown in [reference.as_str(), "1023456789", "UBND HA NOI", "135.000 đ"] {
        assert!(t.body.contains(shown), "{shown}");
    }
    assert!(t.body.contains("<svg class=\"qr\""));
    // A transfer chosen is not a payment.
    assert_eq!(status(&app, &citizen, &code).await, "payment_requested");
    let page = b.get(&format!("/dossiers/{code}/pay")).await;
    assert!(
        page.body
            .contains(&format!("href=\"/dossiers/{code}/pay/transfer\""))
    );
}

#[tokio::test]
async fn without_an_online_provider_the_card_is_not_offered() {
    let db = TestDb::create();
    let mut settings = test_settings(&db.url);
    settings.stripe.sandbox_confirms_fees = false;
    let app = TestApp::spawn_with(db, settings).await;
    let (citizen, code) = dossier_awaiting(&app, FEE).await;
    let mut b = Browser::new(&app, HN);
    b.sign_in("dan@example.vn", "/").await;
    let page = b.get(&format!("/dossiers/{code}/pay")).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("value=\"card\""));
    assert!(page.body.contains("value=\"counter\""));
    // The card posted anyway: refused with where to pay, nothing charged.
    let csrf = b.csrf(&page);
    let res = b
        .post(
            &format!("/dossiers/{code}/pay"),
            &[("csrf", &csrf), ("method", "card")],
        )
        .await;
    assert_eq!(res.status, 409);
    assert_eq!(status(&app, &citizen, &code).await, "payment_requested");
}

#[tokio::test]
async fn withdrawing_asks_first_on_a_page_that_says_what_happens() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let citizen = app.citizen_token(HN, "dan@example.vn").await;
    let code = app.submit_complete_licence_renewal(HN, &citizen).await;
    let mut b = Browser::new(&app, HN);
    b.sign_in("dan@example.vn", "/").await;
    let detail = b.get(&format!("/dossiers/{code}")).await;
    assert!(
        detail
            .body
            .contains(&format!("href=\"/dossiers/{code}/withdraw\""))
    );
    assert!(
        !detail
            .body
            .contains(&format!("action=\"/dossiers/{code}/withdraw\""))
    );

    let confirm = b.get(&format!("/dossiers/{code}/withdraw")).await;
    assert_eq!(confirm.status, 200);
    confirm.assert_lean();
    assert!(
        confirm.body.contains("không thể khôi phục"),
        "says what happens"
    );
    assert!(
        confirm
            .body
            .contains(&format!("action=\"/dossiers/{code}/withdraw\""))
    );
    assert_eq!(status(&app, &citizen, &code).await, "submitted");

    let csrf = b.csrf(&confirm);
    let done = b
        .post(&format!("/dossiers/{code}/withdraw"), &[("csrf", &csrf)])
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(status(&app, &citizen, &code).await, "withdrawn");
    let again = b.get(&format!("/dossiers/{code}/withdraw")).await;
    assert_eq!(again.status, 303, "nothing left to confirm");
}

#[tokio::test]
async fn the_admin_sets_the_fee_account_on_a_page() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    app.staff_token("ha-noi", "admin@hanoi.gov.vn", StaffRole::Admin)
        .await;
    let mut b = Browser::new(&app, HN);
    b.sign_in_as(
        "admin@hanoi.gov.vn",
        crate::helpers::STAFF_PASSWORD,
        "/manage",
    )
    .await;
    let page = b.get("/manage/admin/payment-account").await;
    assert_eq!(page.status, 200, "{}", page.body);
    page.assert_lean();
    let csrf = b.csrf(&page);
    let path = "/manage/admin/payment-account";
    let bad = b
        .post(
            path,
            &[
                ("csrf", &csrf),
                ("bank_bin", "97"),
                ("account_number", "1023456789"),
                ("account_name", "UBND"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("6 chữ số"));
    let saved = b
        .post(
            path,
            &[
                ("csrf", &csrf),
                ("bank_bin", "970436"),
                ("account_number", "1023456789"),
                ("account_name", "Ủy ban nhân dân Hà Nội"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303);
    let page = b.get(&saved.location).await;
    assert!(
        page.body.contains("UY BAN NHAN DAN HA NOI"),
        "normalised as banks print it"
    );
}
