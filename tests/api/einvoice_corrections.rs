//! Corrections are new e-invoices, never edits: a void invoice's credit becomes an adjustment
//! (`TCHDon=2`) and a new invoice a replacement (`TCHDon=1`), each naming the original's
//! template, series, number and date; both pass the XSD. (The in-process `mock` provider.)

use serde_json::{Value, json};

use crate::einvoice_kit::*;
use crate::helpers::{TestApp, TestDb, error_code};

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> reqwest::Response {
    app.post_json(OPS, path, Some(token), &body).await
}

async fn issued(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let res = post(app, token, path, body).await;
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.unwrap()
}

fn xml_of(app: &TestApp, kind: &str) -> String {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct X {
        #[diesel(sql_type = diesel::sql_types::Text)]
        xml: String,
    }
    diesel::sql_query(format!("SELECT xml FROM einvoices WHERE kind = '{kind}'"))
        .get_result::<X>(&mut app.raw_connection())
        .unwrap()
        .xml
}

/// The related-invoice block names exactly the original.
fn names_original(xml: &str, tchdon: &str, original: &Value) {
    let related =
        &xml[xml.find("<TTHDLQuan>").expect("TTHDLQuan")..xml.find("</TTHDLQuan>").unwrap()];
    assert!(
        related.contains(&format!("<TCHDon>{tchdon}</TCHDon>")),
        "{related}"
    );
    assert!(
        related.contains("<KHMSHDCLQuan>1</KHMSHDCLQuan>"),
        "{related}"
    );
    assert!(
        related.contains(&format!(
            "<KHHDCLQuan>{}</KHHDCLQuan>",
            original["series"].as_str().unwrap()
        )),
        "{related}"
    );
    assert!(
        related.contains(&format!("<SHDCLQuan>{}</SHDCLQuan>", original["number"])),
        "{related}"
    );
    assert!(
        related.contains(&format!(
            "<NLHDCLQuan>{}</NLHDCLQuan>",
            original["issued_on"].as_str().unwrap()
        )),
        "{related}"
    );
}

#[tokio::test]
async fn a_void_invoice_is_adjusted_or_replaced_by_new_einvoices_naming_the_original() {
    let db = TestDb::create();
    let settings = settings_with_seller(&db);
    let app = TestApp::spawn_with(db, settings).await;
    app.create_tenant("lao-cai", "Tỉnh Lào Cai").await;
    app.create_tenant("hue", "Thành phố Huế").await;
    let op = app.operator_token().await;
    let invoices = close_last_period(&app, &op).await;
    let number = |slug: &str| {
        invoices.iter().find(|i| i["tenant"] == slug).unwrap()["number"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (a, hue) = (number("lao-cai"), number("hue"));
    put_buyer(&app, &op, "lao-cai", &lao_cai_buyer()).await;
    let original = issued(
        &app,
        &op,
        &format!("/api/v1/invoices/{a}/einvoice"),
        json!({}),
    )
    .await;
    assert_eq!(original["status"], "issued");

    // Not void: nothing to adjust or replace.
    let res = post(
        &app,
        &op,
        &format!("/api/v1/invoices/{a}/einvoice/adjust"),
        json!({}),
    )
    .await;
    assert_eq!(error_code(res).await, "invalid_transition");

    let res = post(
        &app,
        &op,
        &format!("/api/v1/invoices/{a}/void"),
        json!({"reason": "Sai kỳ thuê"}),
    )
    .await;
    assert_eq!(res.status(), 200);

    // The credit: an adjustment decreasing every amount, naming the original.
    let adj = issued(
        &app,
        &op,
        &format!("/api/v1/invoices/{a}/einvoice/adjust"),
        json!({}),
    )
    .await;
    assert_eq!(adj["kind"], "adjustment");
    assert_eq!(
        adj["number"],
        original["number"].as_i64().unwrap() + 1,
        "gapless"
    );
    let xml = xml_of(&app, "adjustment");
    names_original(&xml, "2", &original);
    assert!(xml.contains("<ThTien>-"), "a decrease: {xml}");
    assert_valid_xml(xml.as_bytes());
    // Repeated: the same adjustment, no second one.
    let again = issued(
        &app,
        &op,
        &format!("/api/v1/invoices/{a}/einvoice/adjust"),
        json!({}),
    )
    .await;
    assert_eq!(again["id"], adj["id"]);

    // A replacement must be a live invoice of the same province.
    let res = post(
        &app,
        &op,
        &format!("/api/v1/invoices/{a}/einvoice/replace"),
        json!({"by": hue}),
    )
    .await;
    assert_eq!(error_code(res).await, "invalid_replacement");
    // A void invoice gets no e-invoice of its own once it has none… (Huế's has none yet.)
    let res = post(
        &app,
        &op,
        &format!("/api/v1/invoices/{hue}/void"),
        json!({"reason": "x"}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let res = post(
        &app,
        &op,
        &format!("/api/v1/invoices/{hue}/einvoice"),
        json!({}),
    )
    .await;
    assert_eq!(error_code(res).await, "invalid_transition");

    // The replacement: a new invoice of Lào Cai (the period before), TCHDon=1.
    let earlier = last_period().prev();
    exec(
        &app,
        &format!(
            "UPDATE leases SET starts_on = '{}'",
            earlier.first_day().format("%Y-%m-%d")
        ),
    );
    let res = post(
        &app,
        &op,
        "/api/v1/billing/close",
        json!({"period": earlier.to_string()}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let b = body["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["tenant"] == "lao-cai")
        .unwrap()["number"]
        .as_str()
        .unwrap()
        .to_string();
    let rep = issued(
        &app,
        &op,
        &format!("/api/v1/invoices/{a}/einvoice/replace"),
        json!({"by": b}),
    )
    .await;
    assert_eq!(rep["kind"], "replacement");
    let xml = xml_of(&app, "replacement");
    names_original(&xml, "1", &original);
    assert!(!xml.contains("<ThTien>-"), "{xml}");
    assert_valid_xml(xml.as_bytes());
    // The replacing invoice's own e-invoice is the replacement.
    let res = post(
        &app,
        &op,
        &format!("/api/v1/invoices/{b}/einvoice"),
        json!({}),
    )
    .await;
    assert_eq!(error_code(res).await, "einvoice_exists");
    assert_eq!(count(&app, "SELECT count(*) AS n FROM einvoices"), 3);
    assert_eq!(
        count(&app, "SELECT max(number)::bigint AS n FROM einvoices"),
        3,
        "numbers 1, 2, 3: gapless"
    );
}
