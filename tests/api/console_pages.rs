//! The finance clerk's console: closing a period from a preview, the invoices table and its
//! CSV, plans and leases edited on pages, the printable invoice.

use diesel::prelude::*;
use diesel::sql_query;

use crate::attacks_kit::count;
use crate::helpers::TestApp;
use crate::invoice_pages::operator_browser;

fn exec(app: &TestApp, sql: &str) {
    sql_query(sql).execute(&mut app.raw_connection()).unwrap();
}

/// Two provinces leasing since October 2026, nothing closed yet.
async fn two_provinces(app: &TestApp) {
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    app.create_tenant("hue", "Thành phố Huế").await;
    exec(app, "UPDATE leases SET starts_on = '2026-10-01'");
}

/// What a close leaves behind: invoices, numbers taken, the closed mark, the audit row.
fn written(app: &TestApp) -> [i64; 4] {
    [
        count(app, "SELECT count(*) AS n FROM invoices"),
        count(
            app,
            "SELECT coalesce(sum(last_number), 0)::bigint AS n FROM invoice_counters",
        ),
        count(app, "SELECT count(*) AS n FROM period_closes"),
        count(
            app,
            "SELECT count(*) AS n FROM audit_log WHERE action = 'billing.close'",
        ),
    ]
}

#[tokio::test]
async fn the_close_preview_writes_nothing_and_the_confirmation_closes_once() {
    let app = TestApp::spawn().await;
    two_provinces(&app).await;
    let mut ops = operator_browser(&app).await;

    // The dashboard offers to close last month; the preview lists both provinces' totals.
    let home = ops.get("/").await;
    assert!(
        home.body.contains("action=\"/billing/close\""),
        "{}",
        home.body
    );
    let preview = ops.get("/billing/close?period=2026-10").await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert!(preview.body.contains("Thành phố Hà Nội") && preview.body.contains("Thành phố Huế"));
    assert_eq!(preview.body.matches("Sẽ lập khi chốt").count(), 2);
    assert_eq!(written(&app), [0, 0, 0, 0], "a preview writes nothing");
    // Twice the standard plan's fee (2 × 40.000.000 đ) before VAT, in the totals row.
    assert!(preview.body.contains("80.000.000 đ"), "{}", preview.body);
    assert_eq!(ops.get("/billing/close?period=2026-13").await.status, 422);
    assert_eq!(ops.get("/billing/close?period=2099-01").await.status, 422);

    // Without the form's token nothing happens.
    let refused = ops.post("/billing/close", &[("period", "2026-10")]).await;
    assert_eq!(refused.status, 403);
    assert_eq!(written(&app), [0, 0, 0, 0]);

    let csrf = ops.csrf(&preview);
    assert_eq!(preview.input("period"), "2026-10");
    let done = ops
        .post("/billing/close", &[("csrf", &csrf), ("period", "2026-10")])
        .await;
    assert_eq!(
        (done.status, done.location.as_str()),
        (303, "/invoices?period=2026-10&closed=2")
    );
    assert_eq!(
        written(&app),
        [2, 2, 1, 1],
        "closed through the API's action"
    );
    let ack = ops.get(&done.location).await;
    assert!(ack.body.contains("id=\"closed\""), "{}", ack.body);
    // The preview now shows the issued numbers and the same totals, and offers no close.
    let total: i64 = count(&app, "SELECT sum(total_vnd)::bigint AS n FROM invoices");
    let after = ops.get("/billing/close?period=2026-10").await;
    assert!(after.body.contains(&vnd(total)), "{}", after.body);
    assert!(
        after.body.contains("HD-")
            && !after
                .body
                .contains("method=\"post\" action=\"/billing/close\"")
    );
    assert!(
        preview.body.contains(&vnd(total)),
        "the preview's total is what was issued"
    );

    // Confirming again (a second tab, a double click) issues nothing more.
    let again = ops
        .post("/billing/close", &[("csrf", &csrf), ("period", "2026-10")])
        .await;
    assert_eq!(again.status, 303);
    assert_eq!(written(&app)[..3], [2, 2, 1]);
}

/// `1.234.567 đ`, as the pages write money.
pub(crate) fn vnd(amount: i64) -> String {
    let digits = amount.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('.');
        }
        out.push(c);
    }
    format!("{out} đ")
}
