//! `GET /api/v1/openapi.json`: each site's document parses, lists every route of the contract,
//! and describes real answers (success and error bodies checked against its schemas).

use portal::accounts::staff::StaffRole;
use serde_json::{Value, json};

use crate::helpers::{CITIZEN_ID, TestApp, licence_renewal};
use crate::schema_check::{check, response_schema};

const NATIONAL: &str = "localhost";
const OPERATOR: &str = "ops.localhost";
const PROVINCE: &str = "ha-noi.localhost";

/// Every JSON route of `CONTRACT.md`, by site (path parameters renamed freely).
const CONTRACT: [(&str, &str, &str); 50] = [
    (NATIONAL, "post", "/api/v1/auth/token"),
    (NATIONAL, "get", "/api/v1/provinces"),
    (NATIONAL, "get", "/api/v1/index"),
    (NATIONAL, "post", "/api/v1/subscriptions"),
    (OPERATOR, "post", "/api/v1/auth/token"),
    (OPERATOR, "get", "/api/v1/tenants"),
    (OPERATOR, "get", "/api/v1/tenants/{}"),
    (OPERATOR, "post", "/api/v1/tenants"),
    (OPERATOR, "post", "/api/v1/tenants/{}/suspend"),
    (OPERATOR, "post", "/api/v1/tenants/{}/resume"),
    (OPERATOR, "get", "/api/v1/subscriptions"),
    (OPERATOR, "post", "/api/v1/subscriptions/{}/approve"),
    (OPERATOR, "get", "/api/v1/plans"),
    (OPERATOR, "put", "/api/v1/plans/{}"),
    (OPERATOR, "put", "/api/v1/tenants/{}/lease"),
    (OPERATOR, "get", "/api/v1/tenants/{}/usage"),
    (OPERATOR, "post", "/api/v1/billing/close"),
    (OPERATOR, "get", "/api/v1/invoices"),
    (OPERATOR, "get", "/api/v1/invoices/{}"),
    (OPERATOR, "post", "/api/v1/stripe/webhook"),
    (OPERATOR, "post", "/api/v1/tenants/{}/lease/end"),
    (OPERATOR, "get", "/api/v1/tenants/{}/buyer"),
    (OPERATOR, "put", "/api/v1/tenants/{}/buyer"),
    (OPERATOR, "get", "/api/v1/invoices/{}/einvoice.xml"),
    (OPERATOR, "post", "/api/v1/invoices/{}/einvoice"),
    (OPERATOR, "post", "/api/v1/invoices/{}/einvoice/adjust"),
    (OPERATOR, "post", "/api/v1/invoices/{}/einvoice/replace"),
    (PROVINCE, "post", "/api/v1/auth/token"),
    (PROVINCE, "get", "/api/v1/procedures"),
    (PROVINCE, "post", "/api/v1/auth/register"),
    (PROVINCE, "post", "/api/v1/dossiers"),
    (PROVINCE, "get", "/api/v1/dossiers"),
    (PROVINCE, "get", "/api/v1/dossiers/{}"),
    (PROVINCE, "post", "/api/v1/dossiers/{}/attachments"),
    (PROVINCE, "post", "/api/v1/dossiers/{}/rating"),
    (PROVINCE, "post", "/api/v1/dossiers/{}/supplement"),
    (PROVINCE, "post", "/api/v1/dossiers/{}/pay"),
    (PROVINCE, "post", "/api/v1/dossiers/{}/withdraw"),
    (PROVINCE, "get", "/api/v1/tracking/{}"),
    (PROVINCE, "post", "/api/v1/tracking"),
    (PROVINCE, "get", "/api/v1/manage/dossiers"),
    (PROVINCE, "post", "/api/v1/manage/dossiers"),
    (PROVINCE, "post", "/api/v1/manage/dossiers/{}/actions"),
    (PROVINCE, "get", "/api/v1/manage/branding"),
    (PROVINCE, "put", "/api/v1/manage/branding"),
    (PROVINCE, "put", "/api/v1/manage/procedures/{}"),
    (PROVINCE, "post", "/api/v1/manage/users"),
    (PROVINCE, "get", "/api/v1/manage/usage"),
    (PROVINCE, "get", "/api/v1/manage/invoices"),
    (PROVINCE, "get", "/api/v1/openapi.json"),
];

/// `/a/{slug}/b` → `/a/{}/b`.
fn shape(path: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in path.chars() {
        match c {
            '{' => {
                inside = true;
                out.push_str("{}");
            }
            '}' => inside = false,
            _ if !inside => out.push(c),
            _ => {}
        }
    }
    out
}

async fn document(app: &TestApp, host: &str) -> Value {
    let res = app.get(host, "/api/v1/openapi.json").await;
    assert_eq!(res.status(), 200, "{host}");
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    let doc: Value = res.json().await.expect("the document is JSON");
    assert_eq!(doc["openapi"], "3.1.0", "{host}");
    doc
}

#[tokio::test]
async fn every_site_serves_a_document_with_every_contract_route() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    for host in [NATIONAL, OPERATOR, PROVINCE] {
        let doc = document(&app, host).await;
        let listed: Vec<(String, String)> = doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(path, item)| {
                item.as_object()
                    .unwrap()
                    .keys()
                    .map(move |m| (m.clone(), shape(path)))
            })
            .collect();
        for (_, method, path) in CONTRACT.iter().filter(|(h, ..)| *h == host) {
            assert!(
                listed.contains(&(method.to_string(), path.to_string())),
                "{host}: {method} {path} is not in the document"
            );
        }
        let bearer = &doc["components"]["securitySchemes"]["bearer"];
        assert_eq!(bearer["scheme"], "bearer", "{host}");
    }
    // The same for every province; an unknown host has none.
    assert_eq!(
        app.get("nowhere.example", "/api/v1/openapi.json")
            .await
            .status(),
        404
    );
}

/// Sends a request, asserts the status the contract expects, and checks the answer against
/// the document's schema for that status.
struct Checker<'a> {
    app: &'a TestApp,
    host: &'static str,
    doc: Value,
    token: Option<String>,
}

impl Checker<'_> {
    /// `expected` is the status the contract gives this request; any other status fails the
    /// test with the request, both statuses and the body.
    async fn call(
        &self,
        expected: u16,
        method: &str,
        template: &str,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        let mut req = match method {
            "get" => self.app.client.get(self.app.url(path)),
            "post" => self.app.client.post(self.app.url(path)),
            "put" => self.app.client.put(self.app.url(path)),
            other => panic!("{other}"),
        }
        .header("Host", self.host);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = &body {
            req = req.json(b);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let text = res.text().await.expect("a body");
        assert_eq!(
            status, expected,
            "{} {method} {path}: expected {expected}, got {status}\n{text}",
            self.host
        );
        let value: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
            panic!(
                "{} {method} {path} → {status}: not JSON ({e})\n{text}",
                self.host
            )
        });
        let schema = response_schema(&self.doc, method, template, status);
        if let Err(e) = check(&self.doc, schema, &value) {
            panic!("{} {method} {path} → {status}: {e}\n{value:#}", self.host);
        }
        value
    }
}

#[tokio::test]
async fn province_answers_match_the_document() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let mut c = Checker {
        app: &app,
        host: PROVINCE,
        doc: document(&app, PROVINCE).await,
        token: None,
    };
    let registration = json!({"email": "an@example.vn", "password": "mat-khau-rat-dai-2026", "full_name": "Trần An"});
    c.call(
        201,
        "post",
        "/api/v1/auth/register",
        "/api/v1/auth/register",
        Some(registration.clone()),
    )
    .await;
    c.call(
        409,
        "post",
        "/api/v1/auth/register",
        "/api/v1/auth/register",
        Some(registration),
    )
    .await;
    c.call(
        422,
        "post",
        "/api/v1/auth/register",
        "/api/v1/auth/register",
        Some(json!({"email": "x", "password": "1", "full_name": ""})),
    )
    .await;
    let token = c
        .call(
            200,
            "post",
            "/api/v1/auth/token",
            "/api/v1/auth/token",
            Some(json!({"email": "an@example.vn", "password": "mat-khau-rat-dai-2026"})),
        )
        .await;
    c.call(200, "get", "/api/v1/site", "/api/v1/site", None)
        .await;
    c.call(200, "get", "/api/v1/procedures", "/api/v1/procedures", None)
        .await;
    c.call(
        200,
        "get",
        "/api/v1/procedures/{code}",
        "/api/v1/procedures/GPLX-001",
        None,
    )
    .await;
    c.call(401, "get", "/api/v1/dossiers", "/api/v1/dossiers", None)
        .await;
    c.token = Some(token["access_token"].as_str().unwrap().to_string());
    c.call(200, "get", "/api/v1/me", "/api/v1/me", None).await;
    let submitted = c
        .call(
            201,
            "post",
            "/api/v1/dossiers",
            "/api/v1/dossiers",
            Some(licence_renewal()),
        )
        .await;
    let code = submitted["tracking_code"].as_str().unwrap();
    // Its required documents, so that staff may accept it below.
    let citizen = c.token.clone().unwrap();
    app.attach_licence_documents(PROVINCE, &citizen, code).await;
    let missing = c
        .call(
            422,
            "post",
            "/api/v1/dossiers",
            "/api/v1/dossiers",
            Some(json!({"procedure_code": "GPLX-001", "fields": {}})),
        )
        .await;
    // A missing required field: 422 with `fields` naming it.
    assert!(
        missing["error"]["fields"]
            .as_object()
            .is_some_and(|f| f.contains_key("full_name")),
        "{missing:#}"
    );
    c.call(200, "get", "/api/v1/dossiers", "/api/v1/dossiers", None)
        .await;
    c.call(
        200,
        "get",
        "/api/v1/dossiers/{code}",
        &format!("/api/v1/dossiers/{code}"),
        None,
    )
    .await;
    c.call(
        404,
        "get",
        "/api/v1/dossiers/{code}",
        "/api/v1/dossiers/NOPE",
        None,
    )
    .await;
    c.call(
        409,
        "post",
        "/api/v1/dossiers/{code}/rating",
        &format!("/api/v1/dossiers/{code}/rating"),
        Some(json!({"score": 5})),
    )
    .await;
    c.call(
        403,
        "get",
        "/api/v1/manage/dossiers",
        "/api/v1/manage/dossiers",
        None,
    )
    .await;
    c.call(
        200,
        "get",
        "/api/v1/tracking/{code}",
        &format!("/api/v1/tracking/{code}?id_number={CITIZEN_ID}"),
        None,
    )
    .await;
    c.call(
        200,
        "post",
        "/api/v1/tracking",
        "/api/v1/tracking",
        Some(json!({"tracking_code": code, "id_number": CITIZEN_ID})),
    )
    .await;
    c.call(
        404,
        "post",
        "/api/v1/tracking",
        "/api/v1/tracking",
        Some(json!({"tracking_code": code, "id_number": "001090099999"})),
    )
    .await;

    c.token = Some(
        app.staff_token("ha-noi", "admin@ha-noi.vn", StaffRole::Admin)
            .await,
    );
    c.call(
        200,
        "get",
        "/api/v1/manage/dossiers",
        "/api/v1/manage/dossiers?status=submitted",
        None,
    )
    .await;
    c.call(
        422,
        "get",
        "/api/v1/manage/dossiers",
        "/api/v1/manage/dossiers?status=nope",
        None,
    )
    .await;
    c.call(
        200,
        "post",
        "/api/v1/manage/dossiers/{code}/actions",
        &format!("/api/v1/manage/dossiers/{code}/actions"),
        Some(json!({"action": "accept"})),
    )
    .await;
    let again = c
        .call(
            409,
            "post",
            "/api/v1/manage/dossiers/{code}/actions",
            &format!("/api/v1/manage/dossiers/{code}/actions"),
            Some(json!({"action": "accept"})),
        )
        .await;
    assert_eq!(again["error"]["code"], "invalid_transition", "{again:#}");
    let mut counter = licence_renewal();
    counter["channel"] = json!("counter");
    c.call(
        201,
        "post",
        "/api/v1/manage/dossiers",
        "/api/v1/manage/dossiers",
        Some(counter),
    )
    .await;
    c.call(
        200,
        "get",
        "/api/v1/manage/branding",
        "/api/v1/manage/branding",
        None,
    )
    .await;
    c.call(
        422,
        "put",
        "/api/v1/manage/branding",
        "/api/v1/manage/branding",
        Some(json!({"display_name": "Hà Nội", "accent_color": "#ffffff"})),
    )
    .await;
    c.call(
        200,
        "get",
        "/api/v1/manage/procedures",
        "/api/v1/manage/procedures",
        None,
    )
    .await;
    c.call(
        200,
        "put",
        "/api/v1/manage/procedures/{code}",
        "/api/v1/manage/procedures/GPLX-001",
        Some(json!({"enabled": true})),
    )
    .await;
    c.call(
        200,
        "get",
        "/api/v1/manage/users",
        "/api/v1/manage/users",
        None,
    )
    .await;
    c.call(
        201,
        "post",
        "/api/v1/manage/users",
        "/api/v1/manage/users",
        Some(json!({"email": "cb@ha-noi.vn", "full_name": "Cán bộ", "role": "official"})),
    )
    .await;
    c.call(
        200,
        "get",
        "/api/v1/manage/usage",
        "/api/v1/manage/usage",
        None,
    )
    .await;
    c.call(
        200,
        "get",
        "/api/v1/manage/invoices",
        "/api/v1/manage/invoices",
        None,
    )
    .await;
}

#[tokio::test]
async fn operator_and_national_answers_match_the_document() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let mut c = Checker {
        app: &app,
        host: OPERATOR,
        doc: document(&app, OPERATOR).await,
        token: None,
    };
    c.call(401, "get", "/api/v1/tenants", "/api/v1/tenants", None)
        .await;
    c.token = Some(app.operator_token().await);
    c.call(200, "get", "/api/v1/me", "/api/v1/me", None).await;
    c.call(200, "get", "/api/v1/tenants", "/api/v1/tenants", None)
        .await;
    c.call(
        200,
        "get",
        "/api/v1/tenants/{slug}",
        "/api/v1/tenants/ha-noi",
        None,
    )
    .await;
    c.call(
        404,
        "get",
        "/api/v1/tenants/{slug}",
        "/api/v1/tenants/nowhere",
        None,
    )
    .await;
    c.call(
        201,
        "post",
        "/api/v1/tenants",
        "/api/v1/tenants",
        Some(json!({"slug": "hue", "name": "Thành phố Huế", "plan": "standard"})),
    )
    .await;
    c.call(
        409,
        "post",
        "/api/v1/tenants",
        "/api/v1/tenants",
        Some(json!({"slug": "hue", "name": "Huế", "plan": "standard"})),
    )
    .await;
    c.call(
        422,
        "post",
        "/api/v1/tenants",
        "/api/v1/tenants",
        Some(json!({"slug": "Bad Slug", "name": "", "plan": "standard"})),
    )
    .await;
    c.call(
        200,
        "post",
        "/api/v1/tenants/{slug}/suspend",
        "/api/v1/tenants/hue/suspend",
        None,
    )
    .await;
    c.call(
        200,
        "post",
        "/api/v1/tenants/{slug}/resume",
        "/api/v1/tenants/hue/resume",
        None,
    )
    .await;
    c.call(200, "get", "/api/v1/plans", "/api/v1/plans", None)
        .await;
    c.call(
        200,
        "put",
        "/api/v1/tenants/{slug}/lease",
        "/api/v1/tenants/hue/lease",
        Some(json!({"plan": "premium", "starts_on": portal::clock::today_vn()})),
    )
    .await;
    c.call(
        200,
        "get",
        "/api/v1/tenants/{slug}/usage",
        "/api/v1/tenants/ha-noi/usage?period=2026-01",
        None,
    )
    .await;
    c.call(
        422,
        "get",
        "/api/v1/tenants/{slug}/usage",
        "/api/v1/tenants/ha-noi/usage?period=13",
        None,
    )
    .await;
    c.call(
        200,
        "get",
        "/api/v1/subscriptions",
        "/api/v1/subscriptions",
        None,
    )
    .await;
    c.call(200, "get", "/api/v1/invoices", "/api/v1/invoices", None)
        .await;

    let n = Checker {
        app: &app,
        host: NATIONAL,
        doc: document(&app, NATIONAL).await,
        token: None,
    };
    n.call(200, "get", "/api/v1/provinces", "/api/v1/provinces", None)
        .await;
    n.call(200, "get", "/api/v1/index", "/api/v1/index", None)
        .await;
    // A province's units (one line with `code` null: a dossier with no unit), once indexed.
    let dn = app.create_province_from_manifest("da-nang").await;
    {
        use diesel::RunQueryDsl;
        diesel::sql_query(format!(
            "INSERT INTO {}.dossiers (tracking_code, procedure_code, applicant_name, \
             applicant_id_number, channel, status, answers) \
             VALUES ('DNG-OPENAPI', 'HT-001', 'Người thử', '{CITIZEN_ID}', 'counter', 'received', '{{}}')",
            dn.schema
        ))
        .execute(&mut app.raw_connection())
        .unwrap();
    }
    let (db, registry) = (app.database().clone(), app.state.registry.clone());
    tokio::task::spawn_blocking(move || {
        portal::index::job::run_once(&db, &registry, false, &mut Default::default()).unwrap()
    })
    .await
    .unwrap();
    let units = n
        .call(
            200,
            "get",
            "/api/v1/index",
            "/api/v1/index?province=da-nang",
            None,
        )
        .await;
    assert!(
        units
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["code"].is_null())
    );
    assert!(
        units
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["kind"] == "ward")
    );
    n.call(200, "get", "/api/v1/index", "/api/v1/index", None)
        .await;
    n.call(
        404,
        "get",
        "/api/v1/index",
        "/api/v1/index?province=nowhere",
        None,
    )
    .await;
    // "Where can I file this": Đà Nẵng's units (the provinces made without a manifest have
    // none: an empty list).
    let offers = n
        .call(
            200,
            "get",
            "/api/v1/procedures/{code}/where",
            "/api/v1/procedures/LLTP-001/where",
            None,
        )
        .await;
    assert_eq!(
        offers["provinces"][0]["units"][0]["code"], "SO-TP",
        "{offers}"
    );
    n.call(
        404,
        "get",
        "/api/v1/procedures/{code}/where",
        "/api/v1/procedures/NOPE/where",
        None,
    )
    .await;
    n.call(202, "post", "/api/v1/subscriptions", "/api/v1/subscriptions", Some(json!({"province_name": "Tỉnh Lào Cai", "slug": "lao-cai", "contact_email": "so@laocai.gov.vn", "plan": "standard"}))).await;
    app.verify_subscriptions().await;
    let list = c
        .call(
            200,
            "get",
            "/api/v1/subscriptions",
            "/api/v1/subscriptions",
            None,
        )
        .await;
    let id = list["items"][0]["id"].as_str().unwrap();
    c.call(
        201,
        "post",
        "/api/v1/subscriptions/{id}/approve",
        &format!("/api/v1/subscriptions/{id}/approve"),
        None,
    )
    .await;
    c.call(
        200,
        "post",
        "/api/v1/billing/close",
        "/api/v1/billing/close",
        Some(json!({"period": "2026-01"})),
    )
    .await;
}

#[tokio::test]
async fn einvoice_and_lease_end_answers_match_the_operator_document() {
    use crate::einvoice_kit::{close_last_period, lao_cai_buyer, settings_with_seller};
    let db = crate::helpers::TestDb::create();
    let settings = settings_with_seller(&db);
    let app = TestApp::spawn_with(db, settings).await;
    app.create_tenant("lao-cai", "Tỉnh Lào Cai").await;
    let token = app.operator_token().await;
    let c = Checker {
        app: &app,
        host: OPERATOR,
        doc: document(&app, OPERATOR).await,
        token: Some(token.clone()),
    };
    let invoices = close_last_period(&app, &token).await;
    let number = invoices[0]["number"].as_str().unwrap().to_string();
    let buyer = "/api/v1/tenants/{slug}/buyer";
    let missing = c
        .call(200, "get", buyer, "/api/v1/tenants/lao-cai/buyer", None)
        .await;
    assert!(!missing["missing"].as_array().unwrap().is_empty());
    c.call(
        422,
        "put",
        buyer,
        "/api/v1/tenants/lao-cai/buyer",
        Some(json!({"name": "UBND", "tax_code": "12", "address": "Lào Cai"})),
    )
    .await;
    let xml = "/api/v1/invoices/{number}/einvoice.xml";
    let at = |suffix: &str| format!("/api/v1/invoices/{number}{suffix}");
    c.call(409, "get", xml, &at("/einvoice.xml"), None).await;
    let issue = "/api/v1/invoices/{number}/einvoice";
    c.call(409, "post", issue, &at("/einvoice"), None).await;
    let saved = c
        .call(
            200,
            "put",
            buyer,
            "/api/v1/tenants/lao-cai/buyer",
            Some(lao_cai_buyer()),
        )
        .await;
    assert_eq!(saved["missing"], json!([]));
    let issued = c.call(200, "post", issue, &at("/einvoice"), None).await;
    assert_eq!(issued["status"], "issued");
    // The XML is no JSON: its content type is the document's.
    let res = app
        .get_with_token(OPERATOR, &at("/einvoice.xml"), &token)
        .await;
    assert_eq!(res.status(), 200);
    let declared = c.doc["paths"][xml]["get"]["responses"]["200"]["content"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with(&declared)
    );
    c.call(
        409,
        "post",
        "/api/v1/invoices/{number}/einvoice/adjust",
        &at("/einvoice/adjust"),
        None,
    )
    .await;
    c.call(
        409,
        "post",
        "/api/v1/invoices/{number}/einvoice/replace",
        &at("/einvoice/replace"),
        Some(json!({"by": number})),
    )
    .await;
    let end = "/api/v1/tenants/{slug}/lease/end";
    let ended = c
        .call(
            200,
            "post",
            end,
            "/api/v1/tenants/lao-cai/lease/end",
            Some(json!({"last_day": portal::clock::today_vn()})),
        )
        .await;
    assert_eq!(
        ended["leases"][0]["last_day"],
        json!(portal::clock::today_vn())
    );
    c.call(
        422,
        "post",
        end,
        "/api/v1/tenants/lao-cai/lease/end",
        Some(json!({"last_day": "2000-01-01"})),
    )
    .await;
}

/// The operations that were served undocumented (the unit test's former `KNOWN_GAPS`): their
/// real answers, success and refusal, match the documents.
#[tokio::test]
async fn payment_receipt_result_and_verify_answers_match_the_documents() {
    let app = TestApp::spawn().await;
    let fee = 135_000;
    let (citizen, code) = crate::stripe_fees::dossier_awaiting(&app, fee).await;
    let admin = app
        .staff_token("ha-noi", "admin@hanoi.gov.vn", StaffRole::Admin)
        .await;
    // `dossier_awaiting` made the official; a second token for the same account.
    let official = app
        .token(
            PROVINCE,
            "canbo@hanoi.gov.vn",
            crate::helpers::STAFF_PASSWORD,
        )
        .await;
    let mut c = Checker {
        app: &app,
        host: PROVINCE,
        doc: document(&app, PROVINCE).await,
        token: Some(admin),
    };
    let account = "/api/v1/manage/payment-account";
    c.call(404, "get", account, account, None).await;
    c.call(
        422,
        "put",
        account,
        account,
        Some(json!({"bank_bin": "97", "account_number": "1-2", "account_name": ""})),
    )
    .await;
    let good = json!({"bank_bin": "970436", "account_number": "1023456789", "account_name": "UBND HA NOI"});
    c.call(200, "put", account, account, Some(good)).await;
    c.call(200, "get", account, account, None).await;
    let reconcile = "/api/v1/manage/payments/reconcile";
    c.call(
        422,
        "post",
        reconcile,
        reconcile,
        Some(json!({"lines": []})),
    )
    .await;

    let chosen: Value = app
        .post_json(
            PROVINCE,
            &format!("/api/v1/dossiers/{code}/pay"),
            Some(&citizen),
            &json!({"method": "bank_transfer"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let reference = chosen["transfer"]["reference"]
        .as_str()
        .unwrap()
        .to_string();

    // Staff confirm the transfer: a wrong amount first (reported), then the right one.
    c.token = Some(official);
    let received = "/api/v1/manage/dossiers/{code}/transfer-received";
    let here = format!("/api/v1/manage/dossiers/{code}/transfer-received");
    let line = c
        .call(
            200,
            "post",
            received,
            &here,
            Some(json!({"reference": reference, "amount_vnd": fee - 1})),
        )
        .await;
    assert_eq!(line["outcome"], "amount_mismatch", "{line}");
    let line = c
        .call(
            200,
            "post",
            received,
            &here,
            Some(json!({"reference": reference, "amount_vnd": fee})),
        )
        .await;
    assert_eq!(line["outcome"], "paid", "{line}");

    // The fee receipt voided and replaced; a paper result attached.
    let void = "/api/v1/manage/dossiers/{code}/fee-receipt/void";
    let here = format!("/api/v1/manage/dossiers/{code}/fee-receipt/void");
    c.call(422, "post", void, &here, Some(json!({"reason": ""})))
        .await;
    let d = c
        .call(
            200,
            "post",
            void,
            &here,
            Some(json!({"reason": "Sai tên người nộp"})),
        )
        .await;
    assert_eq!(d["fee_receipt"]["replaces_number"], 1, "{d}");
    let result = "/api/v1/manage/dossiers/{code}/result";
    let here = format!("/api/v1/manage/dossiers/{code}/result");
    let d = c
        .call(
            200,
            "post",
            result,
            &here,
            Some(json!({"decision_number": "123/QĐ-SGTVT", "pickup": "Bộ phận một cửa, 1 Tràng Tiền"})),
        )
        .await;
    let verification = d["result"]["verification_code"]
        .as_str()
        .unwrap()
        .to_string();

    // The admin's statement: the line paid before, and a stranger's.
    c.token = Some(
        app.token(
            PROVINCE,
            "admin@hanoi.gov.vn",
            crate::helpers::STAFF_PASSWORD,
        )
        .await,
    );
    let report = c
        .call(
            200,
            "post",
            reconcile,
            reconcile,
            Some(json!({"lines": [
                {"reference": reference, "amount_vnd": fee},
                {"reference": "LPZZZZZZZZ", "amount_vnd": 1},
            ]})),
        )
        .await;
    assert_eq!(
        (report["already_paid"].clone(), report["refused"].clone()),
        (json!(1), json!(1))
    );

    // The owner: a paper result has no file to download.
    c.token = Some(citizen);
    let download = "/api/v1/dossiers/{code}/result";
    c.call(
        404,
        "get",
        download,
        &format!("/api/v1/dossiers/{code}/result"),
        None,
    )
    .await;

    // Verifying, without a token, on the province and on the national site.
    c.token = None;
    let verify = "/api/v1/verify/{code}";
    c.call(
        200,
        "get",
        verify,
        &format!("/api/v1/verify/{verification}"),
        None,
    )
    .await;
    c.call(404, "get", verify, "/api/v1/verify/KHONG-CO", None)
        .await;
    let national = Checker {
        app: &app,
        host: NATIONAL,
        doc: document(&app, NATIONAL).await,
        token: None,
    };
    national
        .call(
            200,
            "get",
            verify,
            &format!("/api/v1/verify/{verification}"),
            None,
        )
        .await;

    // An operator posts a statement for the province.
    let ops = Checker {
        app: &app,
        host: OPERATOR,
        doc: document(&app, OPERATOR).await,
        token: Some(app.operator_token().await),
    };
    let for_tenant = "/api/v1/tenants/{slug}/payments/reconcile";
    let lines = json!({"lines": [{"reference": reference, "amount_vnd": fee}]});
    let report = ops
        .call(
            200,
            "post",
            for_tenant,
            "/api/v1/tenants/ha-noi/payments/reconcile",
            Some(lines.clone()),
        )
        .await;
    assert_eq!(report["already_paid"], 1, "{report}");
    ops.call(
        404,
        "post",
        for_tenant,
        "/api/v1/tenants/khong-co/payments/reconcile",
        Some(lines),
    )
    .await;
}
