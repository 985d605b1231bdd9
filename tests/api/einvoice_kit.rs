//! What the e-invoice tests share: a server whose seller is set, a closed invoice for a
//! province, its buyer details, and xmllint against the XSD.

use std::path::Path;
use std::process::Command;

use chrono::Datelike;
use diesel::prelude::*;
use diesel::sql_query;
use portal::config::Settings;
use portal::period::Period;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestDb, test_settings};

pub const OPS: &str = "ops.localhost";

/// The suite's settings with the operator's seller details set.
pub fn settings_with_seller(db: &TestDb) -> Settings {
    let mut s = test_settings(&db.url);
    let e = &mut s.seller;
    e.name = "Công ty Cổ phần Cổng Dịch vụ công".into();
    e.tax_code = "0101234567".into();
    e.address = "Số 1 Tràng Tiền, phường Hoàn Kiếm, Hà Nội".into();
    e.bank_account = "0011004123456".into();
    e.bank_name = "Ngân hàng TMCP Ngoại thương Việt Nam".into();
    s
}

pub fn exec(app: &TestApp, sql: &str) {
    sql_query(sql).execute(&mut app.raw_connection()).unwrap();
}

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

pub fn count(app: &TestApp, sql: &str) -> i64 {
    sql_query(sql)
        .get_result::<N>(&mut app.raw_connection())
        .unwrap()
        .n
}

/// The period before today's on the app's clock (`PORTAL_TEST_TODAY` when pinned).
pub fn last_period() -> Period {
    Period::of(portal::clock::today_vn()).prev()
}

/// The series e-invoices issued today take (`C` + the year's two digits + `TPO`).
pub fn todays_series() -> String {
    format!("C{:02}TPO", portal::clock::today_vn().year() % 100)
}

/// Closes the last period for every province leased from its first day; the invoices.
pub async fn close_last_period(app: &TestApp, token: &str) -> Vec<Value> {
    let period = last_period();
    exec(
        app,
        &format!(
            "UPDATE leases SET starts_on = '{}'",
            period.first_day().format("%Y-%m-%d")
        ),
    );
    let res = app
        .post_json(
            OPS,
            "/api/v1/billing/close",
            Some(token),
            &json!({ "period": period.to_string() }),
        )
        .await;
    assert_eq!(res.status(), 200, "close {period}");
    let body: Value = res.json().await.unwrap();
    body["invoices"].as_array().unwrap().clone()
}

pub async fn put_buyer(app: &TestApp, token: &str, slug: &str, body: &Value) -> reqwest::Response {
    app.client
        .put(app.url(&format!("/api/v1/tenants/{slug}/buyer")))
        .header("Host", OPS)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// Lào Cai's complete buyer details (a budget-relationship unit code, no tax code).
pub fn lao_cai_buyer() -> Value {
    json!({
        "name": "Văn phòng Ủy ban nhân dân tỉnh Lào Cai",
        "budget_unit_code": "1234567",
        "address": "Đại lộ Trần Hưng Đạo, phường Cam Đường, tỉnh Lào Cai",
        "email": "vanphong@laocai.gov.vn"
    })
}

/// xmllint's verdict on `xml` against the XSD; skips loudly without xmllint unless
/// `PORTAL_TEST_REQUIRE_XMLLINT` is set.
pub fn assert_valid_xml(xml: &[u8]) {
    let dir = std::env::temp_dir().join(format!("einvoice-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("e.xml");
    std::fs::write(&file, xml).unwrap();
    let xsd = Path::new(env!("CARGO_MANIFEST_DIR")).join("reference/einvoice-2.1.0.xsd");
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&xsd)
        .arg(&file)
        .output();
    let _ = std::fs::remove_dir_all(&dir);
    match out {
        Ok(o) => assert!(
            o.status.success(),
            "the XML fails the XSD: {}\n{}",
            String::from_utf8_lossy(&o.stderr),
            String::from_utf8_lossy(xml)
        ),
        Err(_) => {
            assert!(
                std::env::var_os("PORTAL_TEST_REQUIRE_XMLLINT").is_none(),
                "xmllint is required"
            );
            eprintln!("SKIPPED: xmllint is not installed; the XML was not checked against the XSD");
        }
    }
}
