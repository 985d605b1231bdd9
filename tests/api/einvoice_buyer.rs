//! A province's buyer details (`GET|PUT /api/v1/tenants/{slug}/buyer`) and an invoice's
//! e-invoice XML (`GET /api/v1/invoices/{number}/einvoice.xml`): 409 `einvoice_incomplete`
//! naming exactly what the buyer lacks, then XML that passes the XSD.

use serde_json::{Value, json};

use crate::einvoice_kit::*;
use crate::helpers::{TestApp, TestDb, error_code};

async fn xml(app: &TestApp, token: &str, number: &str) -> reqwest::Response {
    app.get_with_token(
        OPS,
        &format!("/api/v1/invoices/{number}/einvoice.xml"),
        token,
    )
    .await
}

fn field_names(body: &Value) -> Vec<String> {
    body["error"]["fields"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_xml_waits_for_what_the_buyer_lacks_then_passes_the_xsd() {
    let db = TestDb::create();
    let settings = settings_with_seller(&db);
    let app = TestApp::spawn_with(db, settings).await;
    app.create_tenant("lao-cai", "Tỉnh Lào Cai").await;
    let op = app.operator_token().await;
    let invoices = close_last_period(&app, &op).await;
    let number = invoices[0]["number"].as_str().unwrap().to_string();
    let total = invoices[0]["total_vnd"].as_i64().unwrap();

    // Nothing known of the buyer: all three legal requirements are named.
    let res = xml(&app, &op, &number).await;
    assert_eq!(res.status(), 409);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "einvoice_incomplete");
    assert_eq!(
        field_names(&body),
        ["buyer.address", "buyer.name", "buyer.tax_code"]
    );

    // Ill-formed codes are refused, field by field, and nothing is saved.
    let res = put_buyer(
        &app,
        &op,
        "lao-cai",
        &json!({"name": "X", "tax_code": "12345", "budget_unit_code": "12a4567", "address": "Y", "email": "not mail"}),
    )
    .await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        field_names(&body),
        ["budget_unit_code", "email", "tax_code"]
    );
    assert_eq!(count(&app, "SELECT count(*) AS n FROM einvoice_buyers"), 0);

    // Name and address only: the XML still waits, for the code alone.
    let res = put_buyer(
        &app,
        &op,
        "lao-cai",
        &json!({"name": " Văn phòng UBND tỉnh Lào Cai ", "address": "Cam Đường, Lào Cai"}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let saved: Value = res.json().await.unwrap();
    assert_eq!(saved["name"], "Văn phòng UBND tỉnh Lào Cai", "trimmed");
    assert_eq!(saved["missing"], json!(["buyer.tax_code"]));
    let res = xml(&app, &op, &number).await;
    assert_eq!(res.status(), 409);
    let body: Value = res.json().await.unwrap();
    assert_eq!(field_names(&body), ["buyer.tax_code"]);

    // A budget-relationship unit code is enough for a state body.
    let res = put_buyer(&app, &op, "lao-cai", &lao_cai_buyer()).await;
    assert_eq!(res.status(), 200);
    let got: Value = app
        .get_with_token(OPS, "/api/v1/tenants/lao-cai/buyer", &op)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["budget_unit_code"], "1234567");
    assert_eq!(got["missing"], json!([]));
    let res = xml(&app, &op, &number).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/xml")
    );
    let body = res.bytes().await.unwrap();
    let text = String::from_utf8(body.to_vec()).unwrap();
    assert!(text.contains("<MDVQHNSach>1234567</MDVQHNSach>"), "{text}");
    let buyer = &text[text.find("<NMua>").unwrap()..text.find("</NMua>").unwrap()];
    assert!(!buyer.contains("<MST>"), "no tax code was given: {buyer}");
    assert!(buyer.contains("<Ten>Văn phòng Ủy ban nhân dân tỉnh Lào Cai</Ten>"));
    assert!(text.contains(&format!("<KHHDon>{}</KHHDon>", todays_series())));
    assert!(
        text.contains("<MST>0101234567</MST>"),
        "the seller's tax code"
    );
    assert!(
        text.contains(&format!("<TgTTTBSo>{total}</TgTTTBSo>")),
        "{text}"
    );
    assert_valid_xml(&body);

    // Operators only; an unknown invoice or province is 404.
    assert_eq!(
        app.get(OPS, &format!("/api/v1/invoices/{number}/einvoice.xml"))
            .await
            .status(),
        401
    );
    assert_eq!(xml(&app, &op, "INV-1999-000001").await.status(), 404);
    let res = put_buyer(&app, &op, "atlantis", &lao_cai_buyer()).await;
    assert_eq!(error_code(res).await, "not_found");
}

#[tokio::test]
async fn without_the_sellers_settings_the_xml_names_them() {
    // The compiled-in [seller] holds placeholders for development; an installation that
    // empties them (or never set them) gets the XML refused, naming each one.
    let db = TestDb::create();
    let mut settings = crate::helpers::test_settings(&db.url);
    settings.seller = portal::config::SellerSettings::default();
    let app = TestApp::spawn_with(db, settings).await;
    app.create_tenant("lao-cai", "Tỉnh Lào Cai").await;
    let op = app.operator_token().await;
    let invoices = close_last_period(&app, &op).await;
    let number = invoices[0]["number"].as_str().unwrap();
    put_buyer(&app, &op, "lao-cai", &lao_cai_buyer()).await;
    let res = xml(&app, &op, number).await;
    assert_eq!(res.status(), 409);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "einvoice_incomplete");
    assert_eq!(
        field_names(&body),
        [
            "seller.address",
            "seller.bank_account",
            "seller.bank_name",
            "seller.name",
            "seller.tax_code"
        ]
    );
}
