//! E-invoices through Viettel S-Invoice's JSON API, spoken by a local HTTP mock that keeps
//! what it registered (as the real service does): our invoice id is the `transactionUuid`,
//! a create that times out has registered anyway, and the retries search by the key before
//! creating — three attempts, one e-invoice.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use diesel::prelude::*;
use diesel::sql_query;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::einvoice_kit::*;
use crate::helpers::{TestApp, TestDb};

/// What the mock provider holds and how it misbehaves.
#[derive(Default)]
struct Books {
    /// (transactionUuid, invoiceNo) of every e-invoice it registered.
    registered: Vec<(String, String)>,
    creates: usize,
    searches: usize,
    /// The first so many creates (searches) answer after the client's timeout.
    slow_creates: usize,
    slow_searches: usize,
    create_bodies: Vec<Value>,
    authorized: bool,
}

#[derive(Clone, Default)]
struct Viettel(Arc<Mutex<Books>>);

const LATE: Duration = Duration::from_secs(3);

fn answer(result: Value) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(json!({"errorCode": null, "description": null, "result": result}))
}

fn found(key: &str, no: &str) -> Value {
    json!({
        "supplierTaxCode": "0101234567",
        "invoiceNo": no,
        "transactionUuid": key,
        "reservationCode": format!("LOOKUP-{no}"),
        "codeOfTax": format!("M1-{no}"),
    })
}

struct Create(Viettel);
struct Search(Viettel);

impl Respond for Create {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut b = (self.0).0.lock().unwrap();
        b.creates += 1;
        b.authorized = req.headers.get("authorization").is_some();
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        let key = body["generalInvoiceInfo"]["transactionUuid"]
            .as_str()
            .unwrap()
            .to_string();
        let series = body["generalInvoiceInfo"]["invoiceSeries"]
            .as_str()
            .unwrap()
            .to_string();
        let no = format!("{series}{}", b.registered.len() + 1);
        b.registered.push((key.clone(), no.clone()));
        b.create_bodies.push(body);
        let r = answer(found(&key, &no));
        if b.creates <= b.slow_creates {
            r.set_delay(LATE)
        } else {
            r
        }
    }
}

impl Respond for Search {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut b = (self.0).0.lock().unwrap();
        b.searches += 1;
        let form = String::from_utf8(req.body.clone()).unwrap();
        let key = form
            .split('&')
            .find_map(|kv| kv.strip_prefix("transactionUuid="))
            .unwrap()
            .to_string();
        let hits: Vec<Value> = b
            .registered
            .iter()
            .filter(|(k, _)| *k == key)
            .map(|(k, no)| found(k, no))
            .collect();
        let r = answer(json!(hits));
        if b.searches <= b.slow_searches {
            r.set_delay(LATE)
        } else {
            r
        }
    }
}

async fn viettel_app(server: &MockServer) -> TestApp {
    let db = TestDb::create();
    let mut s = settings_with_seller(&db);
    s.einvoice.provider = "viettel".into();
    s.einvoice.api_base = format!("{}/", server.uri());
    s.einvoice.create_path = "api/create/{tax_code}".into();
    s.einvoice.search_path = "api/search".into();
    s.einvoice.pdf_path = "api/pdf".into();
    s.einvoice.username = "portal".into();
    s.einvoice.password = Some(secrecy::SecretString::from("s3cret".to_string()));
    s.einvoice.timeout_secs = 1;
    TestApp::spawn_with(db, s).await
}

async fn mount(server: &MockServer, v: &Viettel) {
    Mock::given(method("POST"))
        .and(path("/api/create/0101234567"))
        .respond_with(Create(v.clone()))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/search"))
        .respond_with(Search(v.clone()))
        .mount(server)
        .await;
    let pdf = base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.4 e-invoice");
    Mock::given(method("POST"))
        .and(path("/api/pdf"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"errorCode": null, "fileToBytes": pdf, "fileName": "e.pdf"})),
        )
        .mount(server)
        .await;
}

async fn issue(app: &TestApp, token: &str, number: &str) -> reqwest::Response {
    app.post_json(
        OPS,
        &format!("/api/v1/invoices/{number}/einvoice"),
        Some(token),
        &json!({}),
    )
    .await
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = diesel::sql_types::Text)]
    s: String,
}

fn text(app: &TestApp, sql: &str) -> String {
    sql_query(sql)
        .get_result::<Row>(&mut app.raw_connection())
        .unwrap()
        .s
}

#[tokio::test]
async fn a_create_that_times_out_then_two_retries_make_exactly_one_einvoice() {
    let server = MockServer::start().await;
    let v = Viettel::default();
    {
        let mut b = v.0.lock().unwrap();
        b.slow_creates = 1;
        b.slow_searches = 1;
    }
    mount(&server, &v).await;
    let app = viettel_app(&server).await;
    app.create_tenant("lao-cai", "Tỉnh Lào Cai").await;
    let op = app.operator_token().await;
    let number = close_last_period(&app, &op).await[0]["number"]
        .as_str()
        .unwrap()
        .to_string();
    put_buyer(&app, &op, "lao-cai", &lao_cai_buyer()).await;
    let invoice_id = text(
        &app,
        &format!("SELECT id::text AS s FROM invoices WHERE number = '{number}'"),
    );

    // 1: the create times out at our end, but the provider registered it.
    let res = issue(&app, &op, &number).await;
    assert_eq!(res.status(), 503);
    let state = text(
        &app,
        "SELECT status || ' ' || attempts || ' ' || last_error AS s FROM einvoices",
    );
    assert!(state.starts_with("pending 1 timed out"), "{state}");
    // 2: the search by our key times out too.
    assert_eq!(issue(&app, &op, &number).await.status(), 503);
    // 3: the search finds it: nothing is created again.
    let res = issue(&app, &op, &number).await;
    assert_eq!(res.status(), 200);
    let e: Value = res.json().await.unwrap();
    let series = todays_series();
    assert_eq!(e["status"], "issued");
    assert_eq!(e["kind"], "original");
    assert_eq!(e["series"], series.as_str());
    assert_eq!(e["number"], 1);
    assert_eq!(e["provider"], "viettel");
    assert_eq!(e["provider_number"], format!("{series}1"));
    assert_eq!(e["lookup_code"], format!("LOOKUP-{series}1"));
    assert_eq!(e["has_pdf"], true);
    assert_eq!(e["attempts"], 3);
    // Once more: the stored e-invoice, no call at all.
    let again: Value = issue(&app, &op, &number).await.json().await.unwrap();
    assert_eq!(again["id"], e["id"]);
    {
        let b = v.0.lock().unwrap();
        assert_eq!(
            b.registered.len(),
            1,
            "exactly one e-invoice at the provider"
        );
        assert_eq!(b.creates, 1);
        assert_eq!(b.searches, 2);
        assert!(b.authorized, "HTTP Basic authentication");
        let g = &b.create_bodies[0]["generalInvoiceInfo"];
        assert_eq!(
            g["transactionUuid"],
            invoice_id.as_str(),
            "our invoice id is the key"
        );
        assert_eq!(g["adjustmentType"], "1");
        assert_eq!(
            b.create_bodies[0]["buyerInfo"]["buyerBudgetCode"],
            "1234567"
        );
    }
    assert_eq!(count(&app, "SELECT count(*) AS n FROM einvoices"), 1);

    // What is stored: the XML and its SHA-256, the PDF; the XML is what the endpoint serves.
    let xml = app
        .get_with_token(OPS, &format!("/api/v1/invoices/{number}/einvoice.xml"), &op)
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(
        text(&app, "SELECT xml_sha256 AS s FROM einvoices"),
        portal::dossiers::results::sha256_hex(&xml)
    );
    assert_eq!(
        text(&app, "SELECT convert_from(pdf, 'UTF8') AS s FROM einvoices"),
        "%PDF-1.4 e-invoice"
    );
    assert_valid_xml(&xml);
    // The buyer is mailed the lookup code, once.
    let mails = count(
        &app,
        &format!(
            "SELECT count(*) AS n FROM outbox WHERE kind = 'einvoice_issued' \
             AND to_email = 'vanphong@laocai.gov.vn' AND body LIKE '%LOOKUP-{series}1%'"
        ),
    );
    assert_eq!(mails, 1);
}
