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

/// One column of the revenue chart: (class, period, amount, height).
fn columns(body: &str) -> Vec<(String, String, i64, i64)> {
    let svg = body
        .split("id=\"revenue-chart\"")
        .nth(1)
        .and_then(|r| r.split("</svg>").next())
        .expect("the revenue chart");
    let attr = |tag: &str, name: &str| -> String {
        tag.split(&format!(" {name}=\""))
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or_else(|| panic!("{name} in {tag}"))
            .to_string()
    };
    svg.split("<rect ")
        .skip(1)
        .map(|tag| {
            let tag = &format!(" {}", tag.split('>').next().unwrap());
            (
                attr(tag, "class"),
                attr(tag, "data-period"),
                attr(tag, "data-vnd").parse().unwrap(),
                attr(tag, "height").parse().unwrap(),
            )
        })
        .collect()
}

#[derive(diesel::QueryableByName)]
struct Month {
    #[diesel(sql_type = diesel::sql_types::Text)]
    period: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    invoiced: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    paid: i64,
}

#[tokio::test]
async fn the_revenue_chart_draws_each_months_invoice_totals_from_the_database() {
    use portal::period::Period;
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    app.create_tenant("hue", "Thành phố Huế").await;
    let last = Period::of(portal::clock::today_vn()).prev();
    let earlier = last.prev();
    exec(
        &app,
        &format!(
            "UPDATE leases SET starts_on = '{}'",
            earlier.first_day().format("%Y-%m-%d")
        ),
    );
    // Huế on the premium plan from mid-month: the two provinces' totals differ.
    exec(
        &app,
        &format!(
            "INSERT INTO leases (tenant_id, plan_code, starts_on, created_by) \
             SELECT id, 'premium', '{}', 'test' FROM tenants WHERE slug = 'hue'",
            (earlier.first_day() + chrono::Duration::days(14)).format("%Y-%m-%d")
        ),
    );
    let op = app.operator_token().await;
    let mut numbers = Vec::new();
    for period in [earlier, last] {
        let res = app
            .post_json(
                "ops.localhost",
                "/api/v1/billing/close",
                Some(&op),
                &serde_json::json!({ "period": period.to_string() }),
            )
            .await;
        let body: serde_json::Value = res.json().await.unwrap();
        for i in body["invoices"].as_array().unwrap() {
            numbers.push((
                period,
                i["tenant"].as_str().unwrap().to_string(),
                i["number"].as_str().unwrap().to_string(),
            ));
        }
    }
    let number = |p: Period, slug: &str| {
        numbers
            .iter()
            .find(|(q, s, _)| *q == p && s == slug)
            .unwrap()
            .2
            .clone()
    };
    // Paid: Hà Nội's of both months; void: Huế's earlier one; Huế's last one is owed.
    for n in [number(earlier, "ha-noi"), number(last, "ha-noi")] {
        let res = app
            .post_json(
                "ops.localhost",
                &format!("/api/v1/invoices/{n}/pay"),
                Some(&op),
                &serde_json::json!({"reference": format!("VCB-{n}")}),
            )
            .await;
        assert_eq!(res.status(), 200);
    }
    let res = app
        .post_json(
            "ops.localhost",
            &format!("/api/v1/invoices/{}/void", number(earlier, "hue")),
            Some(&op),
            &serde_json::json!({"reason": "Sai gói"}),
        )
        .await;
    assert_eq!(res.status(), 200);

    let mut ops = operator_browser(&app).await;
    let page = ops.get("/").await;
    assert_eq!(page.status, 200, "{}", page.body);
    page.assert_lean();
    let bars = columns(&page.body);
    assert_eq!(bars.len(), 24, "two columns for each of 12 months");
    let periods: Vec<String> = last.last(12).iter().map(|p| p.to_string()).collect();
    // The sums, computed here from the invoices themselves.
    let sums: Vec<Month> = diesel::sql_query(
        "SELECT period, \
           sum(CASE WHEN status IN ('finalized', 'paid') THEN total_vnd ELSE 0 END)::bigint AS invoiced, \
           sum(CASE WHEN status = 'paid' THEN total_vnd ELSE 0 END)::bigint AS paid \
         FROM invoices GROUP BY period",
    )
    .load(&mut app.raw_connection())
    .unwrap();
    assert_eq!(sums.len(), 2);
    assert!(sums.iter().all(|m| m.invoiced > 0 && m.paid > 0));
    assert!(sums.iter().any(|m| m.invoiced != m.paid));
    let max = sums.iter().map(|m| m.invoiced).max().unwrap();
    for (i, period) in periods.iter().enumerate() {
        let (invoiced, paid) = sums
            .iter()
            .find(|m| &m.period == period)
            .map_or((0, 0), |m| (m.invoiced, m.paid));
        let (a, b) = (&bars[2 * i], &bars[2 * i + 1]);
        assert_eq!(
            (a.0.as_str(), a.1.as_str(), a.2),
            ("bar-invoiced", period.as_str(), invoiced),
            "{period}"
        );
        assert_eq!(
            (b.0.as_str(), b.1.as_str(), b.2),
            ("bar-paid", period.as_str(), paid),
            "{period}"
        );
        // Drawn to scale: the tallest is 130 units, each column its share, rounded.
        for (amount, height) in [(a.2, a.3), (b.2, b.3)] {
            assert!(
                (i128::from(amount) * 130 - i128::from(height) * i128::from(max)).abs() * 2
                    <= i128::from(max),
                "{period}: {amount} drawn {height} high (max {max})"
            );
        }
        // The table says the same, in đồng.
        let row = page
            .body
            .split(&format!("<tr data-period=\"{period}\">"))
            .nth(1)
            .and_then(|r| r.split("</tr>").next())
            .unwrap();
        if invoiced > 0 {
            assert!(
                row.contains(&crate::console_pages::vnd(invoiced))
                    && row.contains(&crate::console_pages::vnd(paid)),
                "{row}"
            );
        }
    }
    // A text alternative, and the English page in English.
    assert!(
        page.body
            .contains("<title id=\"revenue-title\">Doanh thu theo tháng")
    );
    assert!(page.body.contains("<desc id=\"revenue-desc\">"));
    let en = ops.get("/?lang=en").await;
    assert!(
        en.body
            .contains("<title id=\"revenue-title\">Monthly revenue")
    );
    assert_eq!(columns(&en.body).len(), 24);
}
