//! Uploads: type by bytes, size limits, harmless names, downloads only for the owner.

use reqwest::multipart::{Form, Part};

use crate::helpers::{TestApp, TestDb, error_code, test_settings};

const PDF: &[u8] = crate::fixtures::PDF;

async fn upload(
    app: &TestApp,
    token: &str,
    code: &str,
    name: &str,
    bytes: Vec<u8>,
    field: Option<&str>,
) -> reqwest::Response {
    let mut form = Form::new().part(
        "file",
        Part::bytes(bytes)
            .file_name(name.to_string())
            .mime_str("application/octet-stream")
            .unwrap(),
    );
    if let Some(f) = field {
        form = form.text("field", f.to_string());
    }
    app.client
        .post(app.url(&format!("/api/v1/dossiers/{code}/attachments")))
        .header("Host", "ha-noi.localhost")
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn uploads_are_checked_by_their_bytes_and_served_only_to_the_owner() {
    let db = TestDb::create();
    let mut settings = test_settings(&db.url);
    settings.storage.max_upload_bytes = 64 * 1024;
    let app = TestApp::spawn_with(db, settings).await;
    app.create_tenant("ha-noi", "Hà Nội").await;
    let token = app
        .citizen_token("ha-noi.localhost", "files@example.vn")
        .await;
    let code = app.submit_licence_renewal("ha-noi.localhost", &token).await;

    let res = upload(
        &app,
        &token,
        &code,
        "../../etc/passwd",
        PDF.to_vec(),
        Some("licence_scan"),
    )
    .await;
    assert_eq!(res.status(), 201);
    let meta: serde_json::Value = res.json().await.unwrap();
    assert_eq!(meta["name"], "passwd.pdf");
    assert_eq!(meta["size"], PDF.len());
    let id = meta["id"].as_str().unwrap().to_string();

    // A renamed executable, an over-size file, a type the document does not take, no file.
    let res = upload(
        &app,
        &token,
        &code,
        "giay-to.pdf",
        b"MZ\x90\x00\x03 windows program".to_vec(),
        None,
    )
    .await;
    assert_eq!(res.status(), 422);
    assert_eq!(error_code(res).await, "validation_failed");
    let mut big = PDF.to_vec();
    big.resize(64 * 1024 + 1, b' ');
    let res = upload(&app, &token, &code, "big.pdf", big, None).await;
    assert_eq!(res.status(), 413);
    assert_eq!(error_code(res).await, "payload_too_large");
    let res = upload(
        &app,
        &token,
        &code,
        "anh.pdf",
        PDF.to_vec(),
        Some("portrait_photo"),
    )
    .await;
    assert_eq!(res.status(), 422, "portrait takes JPEG or PNG only");
    let res = app
        .client
        .post(app.url(&format!("/api/v1/dossiers/{code}/attachments")))
        .header("Host", "ha-noi.localhost")
        .bearer_auth(&token)
        .multipart(Form::new().text("other", "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);

    // The owner downloads it as an attachment that browsers will not sniff.
    let res = app
        .get_with_token(
            "ha-noi.localhost",
            &format!("/api/v1/dossiers/{code}/attachments/{id}"),
            &token,
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    assert_eq!(res.bytes().await.unwrap().as_ref(), PDF);
    let d: serde_json::Value = app
        .get_with_token(
            "ha-noi.localhost",
            &format!("/api/v1/dossiers/{code}"),
            &token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(d["attachments"][0]["name"], "passwd.pdf");

    // Another citizen: 404, for the file and for uploading to the dossier.
    let other = app
        .citizen_token("ha-noi.localhost", "other@example.vn")
        .await;
    let res = app
        .get_with_token(
            "ha-noi.localhost",
            &format!("/api/v1/dossiers/{code}/attachments/{id}"),
            &other,
        )
        .await;
    assert_eq!(res.status(), 404);
    assert_eq!(
        upload(&app, &other, &code, "x.pdf", PDF.to_vec(), None)
            .await
            .status(),
        404
    );

    // After withdrawal no more files are taken.
    app.post_json(
        "ha-noi.localhost",
        &format!("/api/v1/dossiers/{code}/withdraw"),
        Some(&token),
        &serde_json::json!({}),
    )
    .await;
    assert_eq!(
        upload(&app, &token, &code, "late.pdf", PDF.to_vec(), None)
            .await
            .status(),
        409
    );
}
