//! Inputs the API fuzzer (`bench/fuzz_api.sh`, schemathesis) found answered with a 5xx, kept
//! as cases: each must be refused as the client's mistake (4xx) in the contract's envelope.

use portal::accounts::staff::StaffRole;
use reqwest::multipart::Form;
use serde_json::json;

use crate::helpers::{TestApp, error_code};

#[tokio::test]
async fn a_nul_character_anywhere_is_the_clients_mistake_not_a_server_error() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let host = "ha-noi.localhost";
    let citizen = app.citizen_token(host, "an@example.vn").await;
    let code = app.submit_licence_renewal(host, &citizen).await;
    let staff = app
        .staff_token("ha-noi", "cb@ha-noi.vn", StaffRole::Official)
        .await;
    let operator = app.operator_token().await;

    // Found by the fuzzer: the staff queue's search (PostgreSQL refuses 0x00 in text).
    let res = app
        .get_with_token(
            host,
            "/api/v1/manage/dossiers?q=a%00b&status=submitted",
            &staff,
        )
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(error_code(res).await, "malformed");

    // The same character in a path parameter and in JSON text fields.
    let res = app
        .get_with_token("ops.localhost", "/api/v1/tenants/ha%00noi", &operator)
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(error_code(res).await, "malformed");
    let posts = [
        (
            format!("/api/v1/manage/dossiers/{code}/actions"),
            staff.as_str(),
            json!({"action": "refuse", "note": "thiếu\u{0}giấy tờ"}),
        ),
        (
            format!("/api/v1/dossiers/{code}/withdraw"),
            citizen.as_str(),
            json!({"note": "\u{0}"}),
        ),
        (
            "/api/v1/dossiers".to_string(),
            citizen.as_str(),
            json!({"procedure_code": "GPLX-001", "fields": {"full_name": "A\u{0}B", "x\u{0}": "\u{0}"}}),
        ),
    ];
    for (path, token, body) in posts {
        let res = app.post_json(host, &path, Some(token), &body).await;
        let status = res.status().as_u16();
        assert!((400..500).contains(&status), "{path}: {status}");
        error_code(res).await;
    }
}

const PDF: &[u8] = crate::fixtures::PDF;
const PNG: &[u8] = crate::fixtures::PNG;

/// Found by the fuzzer: a repeated part was accepted, the last one silently winning.
#[tokio::test]
async fn an_upload_with_a_part_twice_is_malformed() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let host = "ha-noi.localhost";
    let citizen = app.citizen_token(host, "an@example.vn").await;
    let code = app.submit_licence_renewal(host, &citizen).await;
    let admin = app
        .staff_token("ha-noi", "admin@ha-noi.vn", StaffRole::Admin)
        .await;
    let part = |name: &str, bytes: &[u8]| crate::browser::file_part(name, bytes);
    let attachments = format!("/api/v1/dossiers/{code}/attachments");
    let cases = [
        (
            attachments.as_str(),
            citizen.as_str(),
            Form::new()
                .part("file", part("a.pdf", PDF))
                .text("field", "x")
                .text("field", "y"),
        ),
        (
            attachments.as_str(),
            citizen.as_str(),
            Form::new()
                .part("file", part("a.pdf", PDF))
                .part("file", part("b.pdf", PDF)),
        ),
        (
            "/api/v1/manage/logo",
            admin.as_str(),
            Form::new()
                .part("file", part("a.png", PNG))
                .part("file", part("b.png", PNG)),
        ),
    ];
    for (path, token, form) in cases {
        let req = if path.ends_with("logo") {
            app.client.put(app.url(path))
        } else {
            app.client.post(app.url(path))
        };
        let res = req
            .header("Host", host)
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{path}");
        assert_eq!(error_code(res).await, "malformed");
    }
    // One of each is still fine.
    let form = Form::new().part("file", part("a.pdf", PDF));
    let res = app
        .client
        .post(app.url(&attachments))
        .header("Host", host)
        .bearer_auth(&citizen)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
}
