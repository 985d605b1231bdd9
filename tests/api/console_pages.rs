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

/// The CSV's lines after the byte order mark, split into cells (no quoted commas in these).
fn csv_lines(body: &str) -> Vec<Vec<String>> {
    let body = body
        .strip_prefix('\u{feff}')
        .expect("a byte order mark for Excel");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body.as_bytes());
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[tokio::test]
async fn the_invoices_table_filters_pages_totals_and_exports_a_csv_no_spreadsheet_runs() {
    let app = TestApp::spawn().await;
    let numbers = crate::invoice_pages::closed_october(&app).await;
    // Names a spreadsheet would take for formulas.
    exec(
        &app,
        "UPDATE tenants SET name = '=HYPERLINK(\"http://x\")' WHERE slug = 'ha-noi'",
    );
    exec(
        &app,
        "UPDATE tenants SET name = '@SUM(1+1)' WHERE slug = 'hue'",
    );
    let mut ops = operator_browser(&app).await;
    let each: i64 = count(&app, "SELECT min(total_vnd)::bigint AS n FROM invoices");

    // One row a page: the totals still count both, and the next page has the other.
    let first = ops.get("/invoices?period=2026-10&per=1").await;
    assert_eq!(first.status, 200, "{}", first.body);
    let shown: Vec<&String> = numbers
        .iter()
        .filter(|n| first.body.contains(n.as_str()))
        .collect();
    assert_eq!(shown.len(), 1, "{}", first.body);
    assert!(first.body.contains("id=\"totals\"") && first.body.contains(&vnd(2 * each)));
    let next = first.body.split("rel=\"next\"").next().unwrap();
    let next = next
        .rsplit("href=\"")
        .next()
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let second = ops.get(&next.replace("&amp;", "&")).await;
    assert!(
        second
            .body
            .contains(numbers.iter().find(|n| *n != shown[0]).unwrap())
    );
    assert!(!second.body.contains("rel=\"next\""));
    // A due date 30 days after the issue, and no raw status code on the page.
    assert!(first.body.contains("Chưa thanh toán") && !first.body.contains(">finalized<"));

    // The province search, with or without diacritics, or by slug.
    let csrf = ops.csrf(&first);
    ops.post(
        &format!("/invoices/{}/pay", numbers[0]),
        &[("csrf", &csrf), ("reference", "-1+1")],
    )
    .await;
    for q in ["hue", "ha noi", "Hà Nội", "SUM"] {
        let page = ops
            .get(&format!("/invoices?period=2026-10&province={q}"))
            .await;
        assert_eq!(
            numbers
                .iter()
                .filter(|n| page.body.contains(n.as_str()))
                .count(),
            1,
            "{q}"
        );
    }
    assert_eq!(
        ops.get("/invoices?period=2026-10&sort=nope").await.status,
        422
    );

    // The CSV: a header row, one line per invoice, formulas turned into text.
    let page = ops.get("/invoices.csv?period=2026-10").await;
    assert_eq!(page.status, 200);
    assert!(
        page.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let lines = csv_lines(&page.body);
    assert_eq!(
        lines[0],
        [
            "number",
            "period",
            "province",
            "province_name",
            "status",
            "subtotal_vnd",
            "vat_vnd",
            "total_vnd",
            "paid_vnd",
            "issued_on",
            "due_on",
            "paid_on",
            "payment_reference"
        ]
    );
    assert_eq!(lines.len(), 3);
    let names: Vec<&str> = lines[1..].iter().map(|l| l[3].as_str()).collect();
    assert!(names.contains(&"'=HYPERLINK(\"http://x\")"), "{names:?}");
    assert!(names.contains(&"'@SUM(1+1)"), "{names:?}");
    assert!(
        lines[1..]
            .iter()
            .all(|l| !l.iter().any(|c| c.starts_with(['=', '+', '-', '@'])))
    );
    let paid = lines.iter().find(|l| l[0] == numbers[0]).unwrap();
    assert_eq!((paid[4].as_str(), paid[12].as_str()), ("paid", "bank:-1+1"));
    assert_eq!(paid[7], paid[8], "paid in full");

    // The same file from the API for a bearer token; a page session is not one.
    let op = app.operator_token().await;
    let res = app
        .get_with_token("ops.localhost", "/api/v1/invoices.csv?period=2026-10", &op)
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(csv_lines(&res.text().await.unwrap()), lines);
    let res = app
        .get_with_token("ops.localhost", "/api/v1/invoices.csv?period=2026-13", &op)
        .await;
    assert_eq!(res.status(), 422);
    let res = app
        .get("ops.localhost", "/api/v1/invoices.csv?period=2026-10")
        .await;
    assert_eq!(res.status(), 401);
}

/// The numbers of a printed calculation "29 ngày / 31 × 90.000.000 đ = 84.193.548 đ":
/// (days, month's days, fee, amount).
fn lease_calc(page: &str, days_word: &str) -> (i64, i64, i64, i64) {
    let calc = page
        .split("class=\"hint calc\">")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .expect("a calculation under the first line");
    let n = |s: &str| -> i64 {
        s.chars()
            .filter(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .unwrap_or_else(|_| panic!("{calc}"))
    };
    let (days, rest) = calc
        .split_once(&format!(" {days_word} / "))
        .unwrap_or_else(|| panic!("{calc}"));
    let (of, rest) = rest.split_once(" × ").unwrap();
    let (fee, amount) = rest.split_once(" = ").unwrap();
    (n(days), n(of), n(fee), n(amount))
}

#[tokio::test]
async fn the_printed_invoice_multiplies_out_says_the_amount_in_words_and_speaks_one_language() {
    let app = TestApp::spawn().await;
    app.create_tenant("hue", "Thành phố Huế").await;
    // A lease from 4 October: 28 of October's 31 days of a 90.000.000 đ month.
    exec(
        &app,
        "UPDATE plans SET monthly_fee_vnd = 90000000 WHERE code = 'standard'",
    );
    exec(&app, "UPDATE leases SET starts_on = '2026-10-04'");
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
    let inv = &body["invoices"][0];
    let number = inv["number"].as_str().unwrap();
    let total = inv["total_vnd"].as_i64().unwrap();
    let mut ops = operator_browser(&app).await;

    let page = ops.get(&format!("/invoices/{number}")).await;
    assert_eq!(page.status, 200);
    let (days, of, fee, amount) = lease_calc(&page.body, "ngày");
    assert_eq!((days, of, fee), (28, 31, 90_000_000), "{}", page.body);
    assert_eq!(amount, 81_290_323, "90.000.000 × 28 / 31, rounded");
    assert!(
        (i128::from(fee) * i128::from(days) - i128::from(amount) * i128::from(of)).abs() * 2
            <= i128::from(of),
        "the printed line multiplies out to the đồng"
    );
    assert!(
        page.body
            .contains("28 ngày / 31 × 90.000.000 đ = 81.290.323 đ")
    );
    // Amount in words, seller from [seller], the due date, the e-invoice not issued yet.
    let words = portal::billing::words::in_words(portal::billing::money::Vnd(total));
    assert!(page.body.contains(&words), "{words}\n{}", page.body);
    assert!(page.body.contains("0109999999") && page.body.contains("0011000999999"));
    assert!(page.body.contains("chưa phát hành"));
    let issued: chrono::DateTime<chrono::Utc> = inv["issued_at"].as_str().unwrap().parse().unwrap();
    let due = portal::clock::vn_date(issued) + chrono::Duration::days(30);
    assert!(
        page.body
            .contains(&format!("id=\"due\">{}<", due.format("%d/%m/%Y"))),
        "{}",
        page.body
    );
    // One language: no English half of a line on the Vietnamese page, and the reverse.
    assert!(!page.body.contains("Lease fee") && !page.body.contains(" / Lease"));
    let en = ops.get(&format!("/invoices/{number}?lang=en")).await;
    let (days, of, _, _) = lease_calc(&en.body, "days");
    assert_eq!((days, of), (28, 31));
    assert!(
        en.body
            .contains("Lease fee, plan Tiêu chuẩn (04/10/2026 – 31/10/2026)")
    );
    assert!(
        !en.body.contains("Phí thuê gói") && !en.body.contains("ngày"),
        "{}",
        en.body
    );
    assert!(en.body.contains("not issued yet"));
}

#[tokio::test]
async fn a_plan_edited_on_its_page_keeps_bad_values_writes_nothing_then_saves_with_history() {
    let app = TestApp::spawn().await;
    let mut ops = operator_browser(&app).await;
    let page = ops.get("/plans/standard").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = ops.csrf(&page);
    let fee = "SELECT monthly_fee_vnd AS n FROM plans WHERE code = 'standard'";
    let before = count(&app, fee);
    let puts = "SELECT count(*) AS n FROM audit_log WHERE action = 'plan.put'";
    let mut form: Vec<(String, String)> = vec![
        ("csrf".into(), csrf.clone()),
        ("name".into(), "Tiêu chuẩn mới".into()),
        ("monthly_fee_vnd".into(), "bốn mươi triệu".into()),
        ("rate_limit_rps".into(), "150".into()),
        ("rate_burst".into(), "300".into()),
    ];
    for m in ["dossiers", "storage_bytes", "api_calls", "emails", "seats"] {
        form.push((format!("{m}.included"), "100".into()));
        form.push((format!("{m}.price"), "1000".into()));
        form.push((format!("{m}.cap"), String::new()));
    }
    let bad = form.clone();
    let res = ops.post("/plans/standard", &as_refs(&bad)).await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(
        res.body.contains("id=\"e-monthly_fee_vnd\""),
        "{}",
        res.body
    );
    assert!(
        res.body.contains("value=\"bốn mươi triệu\"")
            && res.body.contains("value=\"Tiêu chuẩn mới\"")
    );
    assert_eq!(
        (count(&app, fee), count(&app, puts)),
        (before, 0),
        "nothing written"
    );

    form[2].1 = "45.000.000".into();
    let res = ops.post("/plans/standard", &as_refs(&form)).await;
    assert_eq!(
        (res.status, res.location.as_str()),
        (303, "/plans/standard?saved=1")
    );
    assert_eq!((count(&app, fee), count(&app, puts)), (45_000_000, 1));
    let page = ops.get(&res.location).await;
    assert!(
        page.body.contains("id=\"saved\"") && page.body.contains("45.000.000 đ"),
        "{}",
        page.body
    );
}

fn as_refs(f: &[(String, String)]) -> Vec<(&str, &str)> {
    f.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
}
