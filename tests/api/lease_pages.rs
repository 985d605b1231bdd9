//! A province's leases on the operator console: the history, a change previewed (the
//! proration the close will bill, nothing written) then applied through the API's action,
//! and bad input refused on the page with nothing changed.

use chrono::{Duration, NaiveDate};
use portal::period::Period;
use serde_json::{Value, json};

use crate::attacks_kit::{count, text};
use crate::console_pages::vnd;
use crate::helpers::{OPERATOR_EMAIL, OPERATOR_PASSWORD, TestApp};
use crate::invoice_pages::operator_browser;

const OPS: &str = "ops.localhost";

fn exec(app: &TestApp, sql: &str) {
    use diesel::RunQueryDsl;
    diesel::sql_query(sql)
        .execute(&mut app.raw_connection())
        .unwrap();
}

fn ymd(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Hà Nội and Huế, both on the standard plan (40.000.000 đ a month) from the first day of
/// the month before last; returns last month.
async fn two_leased_provinces(app: &TestApp) -> Period {
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    app.create_tenant("hue", "Thành phố Huế").await;
    let last = Period::of(portal::clock::today_vn()).prev();
    exec(
        app,
        &format!(
            "UPDATE leases SET starts_on = '{}'",
            ymd(last.prev().first_day())
        ),
    );
    last
}

/// A province's leases, its current plan, and its lease audit rows, as text to compare.
fn lease_state(app: &TestApp, slug: &str) -> String {
    text(
        app,
        &format!(
            "SELECT coalesce(string_agg(l.plan_code || ' ' || l.starts_on || ' ' || \
             coalesce(l.last_day::text, '-'), '; ' ORDER BY l.starts_on), '') \
             || ' | ' || t.plan_code \
             || ' | ' || (SELECT count(*) FROM audit_log a WHERE a.target = t.slug \
                          AND a.action LIKE 'tenant.lease%') AS t \
             FROM tenants t LEFT JOIN leases l ON l.tenant_id = t.id \
             WHERE t.slug = '{slug}' GROUP BY t.id, t.plan_code, t.slug"
        ),
    )
}

/// The HTML of the table with `id` (up to its end).
fn table<'a>(body: &'a str, id: &str) -> &'a str {
    let from = body
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no table {id}:\n{body}"));
    let rest = &body[from..];
    &rest[..rest.find("</table>").unwrap()]
}

/// Closes `period` through the API; the invoices by province.
async fn close(app: &TestApp, token: &str, period: Period) -> Vec<Value> {
    let res = app
        .post_json(
            OPS,
            "/api/v1/billing/close",
            Some(token),
            &json!({ "period": period.to_string() }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    body["invoices"].as_array().unwrap().clone()
}

fn invoice_of<'a>(invoices: &'a [Value], slug: &str) -> &'a Value {
    invoices.iter().find(|i| i["tenant"] == slug).unwrap()
}

/// The lease-fee lines' amounts (lines without a metric).
fn lease_amounts(invoice: &Value) -> Vec<i64> {
    invoice["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l.get("metric").is_none())
        .map(|l| l["amount_vnd"].as_i64().unwrap())
        .collect()
}

/// `fee × days / month`, rounded half up: what a prorated line must say.
fn prorated(fee: i64, days: i64, month: i64) -> i64 {
    (fee * days * 2 + month) / (2 * month)
}

#[tokio::test]
async fn a_plan_change_through_the_pages_equals_the_apis_and_its_preview_is_what_the_close_bills() {
    let app = TestApp::spawn().await;
    let last = two_leased_provinces(&app).await;
    let mut ops = operator_browser(&app).await;
    // A token of the same operator, without making it again (which would end the session).
    let op = app.token(OPS, OPERATOR_EMAIL, OPERATOR_PASSWORD).await;

    // The page: plan names (never the raw code), the dates, the status, no inline style.
    let page = ops.get("/tenants/ha-noi/leases").await;
    assert_eq!(page.status, 200, "{}", page.body);
    page.assert_lean();
    assert!(page.body.contains("Tiêu chuẩn") && page.body.contains("Đang áp dụng"));
    assert!(page.body.contains(&vnd(40_000_000)), "{}", page.body);
    assert!(!page.body.contains(">standard<"), "{}", page.body);
    assert!(
        page.body
            .contains(&last.prev().first_day().format("%d/%m/%Y").to_string())
    );

    // Premium (90.000.000 đ) from the 15th of last month.
    let day = last.first_day() + Duration::days(14);
    let day_text = ymd(day);
    let csrf = ops.csrf(&page);
    let form = [
        ("csrf", csrf.as_str()),
        ("action", "start"),
        ("plan", "premium"),
        ("starts_on", day_text.as_str()),
    ];
    let before = lease_state(&app, "ha-noi");
    let preview = ops.post("/tenants/ha-noi/leases/preview", &form).await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    preview.assert_lean();
    assert_eq!(
        lease_state(&app, "ha-noi"),
        before,
        "a preview writes nothing"
    );
    let days = last.days();
    // The close rounds the running sum, so the parts add up to the exact total.
    let std_part = prorated(40_000_000, 14, days);
    let premium_part = prorated(40_000_000 * 14 + 90_000_000 * (days - 14), 1, days) - std_part;
    let now = table(&preview.body, &format!("before-{last}"));
    assert!(now.contains(&vnd(40_000_000)), "{now}");
    let after = table(&preview.body, &format!("after-{last}"));
    assert!(
        after.contains(&format!("14/{days} ngày")) && after.contains("Nâng cao"),
        "{after}"
    );

    // Confirmed: applied, then the history with an acknowledgement.
    let done = ops.post("/tenants/ha-noi/leases", &form).await;
    assert_eq!(
        (done.status, done.location.as_str()),
        (303, "/tenants/ha-noi/leases?done=start"),
        "{}",
        done.body
    );
    let ack = ops.get(&done.location).await;
    assert!(ack.body.contains("id=\"done\"") && ack.body.contains("Nâng cao"));

    // The same change through the API gives the same leases, plan and audit.
    let res = app
        .client
        .put(app.url("/api/v1/tenants/hue/lease"))
        .header("Host", OPS)
        .bearer_auth(&op)
        .json(&json!({"plan": "premium", "starts_on": ymd(day)}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (hn, hue) = (lease_state(&app, "ha-noi"), lease_state(&app, "hue"));
    assert_eq!(hn, hue);
    assert!(hn.contains(&format!("premium {}", ymd(day))), "{hn}");

    // In English on request.
    let en = ops.get("/tenants/ha-noi/leases?lang=en").await;
    assert!(en.body.contains("In force") && en.body.contains("Change plan"));

    // The close bills exactly what the preview showed, the same for both provinces.
    let invoices = close(&app, &op, last).await;
    let (a, b) = (
        invoice_of(&invoices, "ha-noi"),
        invoice_of(&invoices, "hue"),
    );
    assert_eq!(a["total_vnd"], b["total_vnd"]);
    let lines = lease_amounts(a);
    assert_eq!(lines, [std_part, premium_part], "{a}");
    assert_eq!(lines, lease_amounts(b));
    for amount in &lines {
        assert!(
            after.contains(&vnd(*amount)),
            "{} not in {after}",
            vnd(*amount)
        );
    }
    assert!(after.contains(&vnd(std_part + premium_part)), "{after}");
    assert!(
        preview
            .body
            .contains(&format!("+{}", vnd(std_part + premium_part - 40_000_000))),
        "the difference"
    );
}

#[tokio::test]
async fn ending_a_lease_on_the_page_equals_the_api_and_bills_up_to_its_last_day() {
    let app = TestApp::spawn().await;
    let last = two_leased_provinces(&app).await;
    let mut ops = operator_browser(&app).await;
    // A token of the same operator, without making it again (which would end the session).
    let op = app.token(OPS, OPERATOR_EMAIL, OPERATOR_PASSWORD).await;
    let page = ops.get("/tenants/ha-noi/leases").await;
    let csrf = ops.csrf(&page);
    let last_day = last.first_day() + Duration::days(9);
    // Typed the way people write dates.
    let typed = last_day.format("%d/%m/%Y").to_string();
    let form = [
        ("csrf", csrf.as_str()),
        ("action", "end"),
        ("last_day", typed.as_str()),
    ];
    let preview = ops.post("/tenants/ha-noi/leases/preview", &form).await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    let days = last.days();
    let ten_days = prorated(40_000_000, 10, days);
    let after = table(&preview.body, &format!("after-{last}"));
    assert!(after.contains(&vnd(ten_days)), "{after}");
    // The month after: nothing billed any more.
    let next = table(&preview.body, &format!("after-{}", last.next()));
    assert!(next.contains("Không tính phí thuê gói"), "{next}");
    // And what the operator should expect of the province: suspended the day after (#20).
    let suspended_from = (last_day + Duration::days(1))
        .format("%d/%m/%Y")
        .to_string();
    assert!(
        preview
            .body
            .contains(&format!("Tỉnh sẽ bị tạm ngừng từ ngày {suspended_from}")),
        "{}",
        preview.body
    );

    let done = ops.post("/tenants/ha-noi/leases", &form).await;
    assert_eq!(
        (done.status, done.location.as_str()),
        (303, "/tenants/ha-noi/leases?done=end")
    );
    let res = app
        .post_json(
            OPS,
            "/api/v1/tenants/hue/lease/end",
            Some(&op),
            &json!({ "last_day": ymd(last_day) }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["leases"][0]["last_day"], ymd(last_day));
    assert_eq!(lease_state(&app, "ha-noi"), lease_state(&app, "hue"));
    assert!(
        count(
            &app,
            "SELECT count(*) AS n FROM audit_log WHERE action = 'tenant.lease_end'"
        ) == 2
    );
    let history = ops.get("/tenants/ha-noi/leases").await;
    assert!(
        history.body.contains("Đã kết thúc")
            && history.body.contains(&typed)
            && history.body.contains("không thuê gói nào"),
        "{}",
        history.body
    );

    // Billed up to the last day, as the preview said; nothing the month after.
    let invoices = close(&app, &op, last).await;
    for slug in ["ha-noi", "hue"] {
        assert_eq!(lease_amounts(invoice_of(&invoices, slug)), [ten_days]);
    }
    let this_month = close(&app, &op, last.next()).await;
    assert!(this_month.is_empty(), "{this_month:?}");
}

#[tokio::test]
async fn bad_lease_input_shows_an_error_on_the_page_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let last = two_leased_provinces(&app).await;
    let mut ops = operator_browser(&app).await;
    let page = ops.get("/tenants/ha-noi/leases").await;
    let csrf = ops.csrf(&page);
    let ok_day = ymd(last.first_day() + Duration::days(3));
    let long_ago = ymd(portal::clock::today_vn() - Duration::days(400));
    let before_start = ymd(last.prev().first_day() - Duration::days(1));
    // (action, plan, starts_on, last_day, the field, the Vietnamese message)
    let cases = [
        (
            "start",
            "khong-co",
            ok_day.as_str(),
            "",
            "plan",
            "Không có gói dịch vụ này.",
        ),
        (
            "start",
            "",
            ok_day.as_str(),
            "",
            "plan",
            "Chọn một gói dịch vụ.",
        ),
        (
            "start",
            "premium",
            "ngày mai",
            "",
            "starts_on",
            "Nhập một ngày",
        ),
        ("start", "premium", "", "", "starts_on", "Nhập một ngày"),
        (
            "start",
            "premium",
            long_ago.as_str(),
            "",
            "starts_on",
            "quá xa trong quá khứ",
        ),
        ("end", "", "", "31/02/2026", "last_day", "Nhập một ngày"),
        (
            "end",
            "",
            "",
            long_ago.as_str(),
            "last_day",
            "quá xa trong quá khứ",
        ),
        (
            "end",
            "",
            "",
            before_start.as_str(),
            "last_day",
            "Ngày cuối phải từ ngày bắt đầu",
        ),
        (
            "xoa",
            "",
            "",
            "",
            "action",
            "Chọn đổi gói hoặc kết thúc thuê.",
        ),
    ];
    let state = lease_state(&app, "ha-noi");
    for (action, plan, starts_on, last_day, field, message) in cases {
        for path in ["/tenants/ha-noi/leases/preview", "/tenants/ha-noi/leases"] {
            let res = ops
                .post(
                    path,
                    &[
                        ("csrf", &csrf),
                        ("action", action),
                        ("plan", plan),
                        ("starts_on", starts_on),
                        ("last_day", last_day),
                    ],
                )
                .await;
            let case = format!("{path} {action} {plan:?} {starts_on:?} {last_day:?}");
            assert_eq!(res.status, 422, "{case}\n{}", res.body);
            assert!(
                res.body.contains(message),
                "{case}: {message}\n{}",
                res.body
            );
            assert!(res.body.contains(&format!("href=\"#{field}\"")), "{case}");
            if field != "action" {
                assert!(
                    res.body.contains(&format!("id=\"{field}-error\"")),
                    "{case}\n{}",
                    res.body
                );
            }
            // No raw code; the typed value kept.
            assert!(!res.body.contains("validation_failed"), "{case}");
            if !starts_on.is_empty() && action == "start" {
                assert!(
                    res.body.contains(&format!("value=\"{starts_on}\"")),
                    "{case}"
                );
            }
            assert_eq!(
                lease_state(&app, "ha-noi"),
                state,
                "{case}: nothing changed"
            );
        }
    }
    // English on request.
    let res = ops
        .post(
            "/tenants/ha-noi/leases/preview?lang=en",
            &[
                ("csrf", &csrf),
                ("action", "start"),
                ("plan", "khong-co"),
                ("starts_on", &ok_day),
            ],
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("There is no such plan."), "{}", res.body);
    // Without the form's token, or for another province that does not exist: nothing either.
    let res = ops
        .post(
            "/tenants/ha-noi/leases",
            &[
                ("action", "start"),
                ("plan", "premium"),
                ("starts_on", &ok_day),
            ],
        )
        .await;
    assert_eq!(res.status, 403);
    let res = ops
        .post(
            "/tenants/nowhere/leases",
            &[
                ("csrf", &csrf),
                ("action", "start"),
                ("plan", "premium"),
                ("starts_on", &ok_day),
            ],
        )
        .await;
    assert_eq!(res.status, 404);
    assert_eq!(lease_state(&app, "ha-noi"), state);
}
