//! Invoices in the browser: the operator's list per period (filter, bank transfer, void) and the
//! printable invoice; the province admin's own list and printable view.

use diesel::prelude::*;
use diesel::sql_query;
use portal::accounts::operators::OperatorRole;
use portal::accounts::staff::StaffRole;

use crate::browser::Browser;
use crate::helpers::{OPERATOR_EMAIL, OPERATOR_PASSWORD, STAFF_PASSWORD, TestApp};

fn exec(app: &TestApp, sql: &str) {
    sql_query(sql).execute(&mut app.raw_connection()).unwrap();
}

pub(crate) async fn closed_october(app: &TestApp) -> Vec<String> {
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    app.create_tenant("hue", "Thành phố Huế").await;
    exec(app, "UPDATE leases SET starts_on = '2026-10-01'");
    let op = app.operator_token().await;
    let res = app
        .post_json(
            "ops.localhost",
            "/api/v1/billing/close",
            Some(&op),
            &serde_json::json!({"period": "2026-10"}),
        )
        .await;
    let body: serde_json::Value = res.json().await.unwrap();
    body["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["number"].as_str().unwrap().to_string())
        .collect()
}

pub(crate) async fn operator_browser(app: &TestApp) -> Browser<'_> {
    app.create_operator(OPERATOR_EMAIL, OPERATOR_PASSWORD, OperatorRole::Operator)
        .await;
    let mut ops = Browser::new(app, "ops.localhost");
    let page = ops.get("/sign-in").await;
    let csrf = ops.csrf(&page);
    let page = ops
        .post(
            "/sign-in",
            &[
                ("csrf", &csrf),
                ("email", OPERATOR_EMAIL),
                ("password", OPERATOR_PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, 303);
    ops
}

#[tokio::test]
async fn the_operator_filters_a_periods_invoices_records_a_transfer_and_voids_one() {
    let app = TestApp::spawn().await;
    let numbers = closed_october(&app).await;
    assert_eq!(numbers.len(), 2);
    let mut ops = operator_browser(&app).await;

    let page = ops.get("/invoices?period=2026-10").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&numbers[0]) && page.body.contains(&numbers[1]));
    assert!(page.body.contains("Thành phố Huế"));
    let csrf = ops.csrf(&page);

    // Record a bank transfer on the first, void the second with a reason.
    let done = ops
        .post(
            &format!("/invoices/{}/pay", numbers[0]),
            &[("csrf", &csrf), ("reference", "VCB-2026-001")],
        )
        .await;
    assert_eq!(
        (done.status, done.location.as_str()),
        (
            303,
            format!("/invoices?period=2026-10&paid={}", numbers[0]).as_str()
        )
    );
    // The list acknowledges the transfer.
    let ack = ops.get(&done.location).await;
    assert!(ack.body.contains("id=\"notice\"") && ack.body.contains("Đã ghi nhận thanh toán"));
    let done = ops
        .post(
            &format!("/invoices/{}/void", numbers[1]),
            &[("csrf", &csrf), ("reason", "Sai gói dịch vụ")],
        )
        .await;
    assert_eq!(done.status, 303);

    let paid = ops.get("/invoices?period=2026-10&status=paid").await;
    assert!(paid.body.contains(&numbers[0]) && !paid.body.contains(&numbers[1]));
    assert!(
        paid.body.contains("Chuyển khoản VCB-2026-001"),
        "{}",
        paid.body
    );
    let void = ops.get("/invoices?period=2026-10&status=void").await;
    assert!(void.body.contains(&numbers[1]) && !void.body.contains(&numbers[0]));
    let open = ops.get("/invoices?period=2026-10&status=finalized").await;
    assert!(!open.body.contains(&numbers[0]) && !open.body.contains(&numbers[1]));

    // Without the CSRF token nothing happens; without a session, sign in first.
    let refused = ops
        .post(
            &format!("/invoices/{}/pay", numbers[1]),
            &[("reference", "X")],
        )
        .await;
    assert!(refused.status >= 400);
    let mut stranger = Browser::new(&app, "ops.localhost");
    let page = stranger.get("/invoices").await;
    assert_eq!((page.status, page.location.as_str()), (303, "/sign-in"));

    // The printable invoice: national layout, its lines and totals in đồng.
    let page = ops.get(&format!("/invoices/{}", numbers[0])).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("invoice-doc"));
    assert!(page.body.contains("40.000.000"), "{}", page.body);
    assert!(page.body.contains(&numbers[0]));
    assert_eq!(ops.get("/invoices/INV-0000-000000").await.status, 404);
    // The print style sheet hides the console's menus.
    let css = app.get("ops.localhost", "/static/portal.css").await;
    if css.status() == 200 {
        assert!(css.text().await.unwrap().contains("@media print"));
    }
}

#[tokio::test]
async fn an_over_the_cap_invoice_says_bank_transfer_only_on_the_page() {
    let app = TestApp::spawn().await;
    exec(&app, "UPDATE plans SET monthly_fee_vnd = 100000000");
    let numbers = closed_october(&app).await;
    let mut ops = operator_browser(&app).await;
    let page = ops.get(&format!("/invoices/{}", numbers[0])).await;
    assert!(page.body.contains("99.999.999"), "{}", page.body);
}

#[tokio::test]
async fn a_province_admin_lists_only_its_own_invoices_with_a_printable_view() {
    let app = TestApp::spawn().await;
    let numbers = closed_october(&app).await;
    app.staff_token("ha-noi", "admin@hanoi.gov.vn", StaffRole::Admin)
        .await;
    let mut admin = Browser::new(&app, "ha-noi.localhost");
    let page = admin.get("/sign-in").await;
    let csrf = admin.csrf(&page);
    let signed = admin
        .post(
            "/sign-in",
            &[
                ("csrf", &csrf),
                ("email", "admin@hanoi.gov.vn"),
                ("password", STAFF_PASSWORD),
                ("next", "/manage/admin/invoices"),
            ],
        )
        .await;
    assert_eq!(signed.status, 303);
    let page = admin.get("/manage/admin/invoices").await;
    assert_eq!(page.status, 200, "{}", page.body);
    // Hà Nội's invoice only (numbers are in tenant-id order; find whose is whose).
    let own: Vec<&String> = numbers
        .iter()
        .filter(|n| page.body.contains(n.as_str()))
        .collect();
    assert_eq!(own.len(), 1, "{}", page.body);
    let other = numbers.iter().find(|n| *n != own[0]).unwrap();
    assert!(
        page.body
            .contains(&format!("/manage/admin/invoices/{}", own[0]))
    );
    let print = admin
        .get(&format!("/manage/admin/invoices/{}", own[0]))
        .await;
    assert_eq!(print.status, 200);
    assert!(print.body.contains("invoice-doc") && print.body.contains("Thành phố Hà Nội"));
    // Another province's invoice does not exist here.
    assert_eq!(
        admin
            .get(&format!("/manage/admin/invoices/{other}"))
            .await
            .status,
        404
    );
}
