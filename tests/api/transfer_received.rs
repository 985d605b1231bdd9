//! Staff see a dossier's fee and confirm a bank transfer on the dossier page (issue 19): the
//! "Thanh toán" block, the confirmation page that says what will happen, and its post, which is
//! the same action as `POST /api/v1/manage/dossiers/{code}/transfer-received` (one audit verb,
//! one receipt); a second confirmation is refused on the page; the API's refusals hold.

use diesel::prelude::*;
use diesel::sql_query;
use portal::accounts::staff::StaffRole;
use serde_json::{Value, json};

use crate::browser::{Browser, Page};
use crate::helpers::{STAFF_PASSWORD, TestApp};
use crate::stripe_fees::{dossier_awaiting, status};

const HN: &str = "ha-noi.localhost";
const FEE: i64 = 135_000;

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

fn receipts(app: &TestApp) -> i64 {
    count(app, "SELECT count(*) AS n FROM t_ha_noi.fee_receipts")
}

fn fee_paid_mails(app: &TestApp) -> i64 {
    count(
        app,
        "SELECT count(*) AS n FROM t_ha_noi.outbox WHERE kind = 'dossier_fee_paid'",
    )
}

fn reconciled(app: &TestApp) -> i64 {
    count(
        app,
        "SELECT count(*) AS n FROM public.audit_log WHERE action = 'payments.reconcile'",
    )
}

/// A dossier awaiting 135.000 đ, the province's account set, and the citizen's choice of a
/// bank transfer: (citizen token, tracking code, transfer reference).
async fn transfer_chosen(app: &TestApp) -> (String, String, String) {
    let (citizen, code) = dossier_awaiting(app, FEE).await;
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
    let res = app
        .post_json(
            HN,
            &format!("/api/v1/dossiers/{code}/pay"),
            Some(&citizen),
            &json!({"method": "bank_transfer"}),
        )
        .await;
    assert_eq!(res.status(), 202);
    let body: Value = res.json().await.unwrap();
    let reference = body["transfer"]["reference"].as_str().unwrap().to_string();
    (citizen, code, reference)
}

async fn post(b: &mut Browser<'_>, path: &str, form: Vec<(&str, String)>) -> Page {
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    b.post(path, &form).await
}

async fn official(app: &TestApp) -> Browser<'_> {
    // `dossier_awaiting` made the official's account.
    let mut b = Browser::new(app, HN);
    let res = b
        .sign_in_as("canbo@hanoi.gov.vn", STAFF_PASSWORD, "/manage")
        .await;
    assert_eq!(res.status, 303);
    b
}

#[tokio::test]
async fn staff_see_a_pending_transfer_confirm_it_on_a_page_and_a_second_confirmation_is_refused() {
    let app = TestApp::spawn().await;
    let (citizen, code, reference) = transfer_chosen(&app).await;
    let mut b = official(&app).await;

    // The dossier page: the fee block says a transfer is awaited, with its reference.
    let dossier = format!("/manage/dossiers/{code}");
    let page = b.get(&dossier).await;
    assert_eq!(page.status, 200, "{}", page.body);
    page.assert_lean();
    for shown in [
        "Thanh toán",
        "135.000 đ",
        "Chuyển khoản ngân hàng (VietQR)",
        reference.as_str(),
        "Chờ chuyển khoản",
    ] {
        assert!(page.body.contains(shown), "{shown} in {}", page.body);
    }
    let confirm = format!("/manage/dossiers/{code}/transfer-received");
    assert!(page.body.contains(&format!("href=\"{confirm}\"")));
    assert!(page.body.contains("Đã nhận chuyển khoản"));
    assert!(!page.body.contains("id=\"payment-receipt\""));

    // The confirmation page says what will happen and changes nothing.
    let ask = b.get(&confirm).await;
    assert_eq!(ask.status, 200, "{}", ask.body);
    ask.assert_lean();
    for said in [
        "được ghi nhận là đã thanh toán",
        "biên lai điện tử được cấp",
        "công dân được gửi thư",
        reference.as_str(),
        "135.000 đ",
    ] {
        assert!(ask.body.contains(said), "{said}");
    }
    assert!(ask.body.contains(&format!("action=\"{confirm}\"")));
    assert_eq!(status(&app, &citizen, &code).await, "payment_requested");
    assert_eq!(receipts(&app), 0);

    // Confirmed: back to the dossier with the acknowledgement; paid, with the receipt number.
    let csrf = b.csrf(&ask);
    let (shown_reference, shown_amount) = (ask.input("reference"), ask.input("amount_vnd"));
    assert_eq!(
        (shown_reference.as_str(), shown_amount.as_str()),
        (reference.as_str(), "135000")
    );
    let form = [
        ("csrf", csrf.as_str()),
        ("reference", shown_reference.as_str()),
        ("amount_vnd", shown_amount.as_str()),
    ];
    let done = b.post(&confirm, &form).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        done.location,
        format!("/manage/dossiers/{code}?done=transfer_received")
    );
    assert_eq!(status(&app, &citizen, &code).await, "processing");
    assert_eq!(receipts(&app), 1);
    assert_eq!(reconciled(&app), 1, "audited as the API's confirmation");
    assert_eq!(fee_paid_mails(&app), 1, "the citizen is mailed");
    let after = b.get(&done.location).await;
    assert_eq!(after.status, 200);
    assert!(after.body.contains("Đã xác nhận nhận chuyển khoản"));
    assert!(after.body.contains("Đã thanh toán"), "{}", after.body);
    let year = portal::clock::today_vn().format("%y").to_string();
    let number = format!("-{year}E – 0000001");
    assert!(after.body.contains(&number), "{number} in {}", after.body);
    assert!(
        after
            .body
            .contains(&format!("href=\"/manage/dossiers/{code}/fee-receipt\""))
    );
    assert!(!after.body.contains(&format!("href=\"{confirm}\"")));

    // The same form posted again (a second tab, a double click): refused in words, nothing
    // changes; the page has nothing left to confirm.
    let again = b.post(&confirm, &form).await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert!(
        again.body.contains("đã được xác nhận trước đó"),
        "{}",
        again.body
    );
    assert!(!again.body.contains(&format!("action=\"{confirm}\"")));
    assert_eq!(receipts(&app), 1);
    assert_eq!(reconciled(&app), 1);
    assert_eq!(fee_paid_mails(&app), 1);
    let ask = b.get(&confirm).await;
    assert_eq!(ask.status, 303);
    assert_eq!(ask.location, format!("/manage/dossiers/{code}"));
}

#[tokio::test]
async fn the_transfer_page_refuses_whom_the_api_refuses() {
    let app = TestApp::spawn().await;
    let (citizen, code, reference) = transfer_chosen(&app).await;
    let confirm = format!("/manage/dossiers/{code}/transfer-received");
    let line = |csrf: &str| {
        vec![
            ("csrf", csrf.to_string()),
            ("reference", reference.clone()),
            ("amount_vnd", FEE.to_string()),
        ]
    };

    // A citizen: 403, as the API.
    let mut c = Browser::new(&app, HN);
    c.sign_in("dan@example.vn", "/").await;
    assert_eq!(c.get(&confirm).await.status, 403);
    let csrf = c.cookies["csrf"].clone();
    assert_eq!(post(&mut c, &confirm, line(&csrf)).await.status, 403);

    // Staff of another province: their session is not one here (sign in first).
    app.create_tenant("hue", "Thành phố Huế").await;
    app.staff_token("hue", "canbo@hue.gov.vn", StaffRole::Admin)
        .await;
    let mut other = Browser::new(&app, "hue.localhost");
    other
        .sign_in_as("canbo@hue.gov.vn", STAFF_PASSWORD, "/manage")
        .await;
    let mut here = Browser::new(&app, HN);
    here.cookies = other.cookies.clone();
    let res = here.get(&confirm).await;
    assert_eq!(res.status, 303);
    assert!(res.location.starts_with("/sign-in"), "{}", res.location);
    let csrf = here.cookies["csrf"].clone();
    let res = post(&mut here, &confirm, line(&csrf)).await;
    assert_eq!(res.status, 303);
    assert!(res.location.starts_with("/sign-in"), "{}", res.location);

    // Staff of this province without the CSRF token: refused.
    let mut b = official(&app).await;
    b.get(&format!("/manage/dossiers/{code}")).await;
    assert_eq!(post(&mut b, &confirm, line("forged")).await.status, 403);

    assert_eq!(status(&app, &citizen, &code).await, "payment_requested");
    assert_eq!(receipts(&app), 0);
    assert_eq!(reconciled(&app), 0);

    // A line of another amount: refused and said so, nothing changes.
    let ask = b.get(&confirm).await;
    let csrf = b.csrf(&ask);
    let mut wrong = line(&csrf);
    wrong[2].1 = (FEE - 1_000).to_string();
    let res = post(&mut b, &confirm, wrong).await;
    assert_eq!(res.status, 409);
    assert!(res.body.contains("không khớp"), "{}", res.body);
    assert_eq!(status(&app, &citizen, &code).await, "payment_requested");
    assert_eq!(receipts(&app), 0);
}
