//! Uploads that cannot vanish (#19 item 5): a blank, cut or damaged file is refused with the
//! reason (the contract's error shape on the API, under the document on the pages); a phone
//! photo is stored as a PDF that holds its JPEG.

use reqwest::multipart::{Form, Part};
use sha2::{Digest, Sha256};

use crate::browser::Browser;
use crate::fixtures::{PDF, jpeg};
use crate::helpers::TestApp;

const HN: &str = "ha-noi.localhost";

async fn upload(
    app: &TestApp,
    token: &str,
    code: &str,
    field: &str,
    name: &str,
    bytes: &[u8],
    lang: &str,
) -> reqwest::Response {
    let form = Form::new().text("field", field.to_string()).part(
        "file",
        Part::bytes(bytes.to_vec())
            .file_name(name.to_string())
            .mime_str("application/octet-stream")
            .unwrap(),
    );
    app.client
        .post(app.url(&format!("/api/v1/dossiers/{code}/attachments")))
        .header("Host", HN)
        .header("Accept-Language", lang)
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// A one-page PDF whose only content stream draws nothing.
fn blank_pdf() -> Vec<u8> {
    let text = "BT /F1 12 Tf 20 100 Td (Giay to) Tj ET";
    let nothing = format!("{:<38}", "q 1 0 0 1 0 0 cm 0 0 0 rg Q");
    let pdf = String::from_utf8_lossy(PDF);
    assert!(pdf.contains(text));
    pdf.replace(text, &nothing).into_bytes()
}

/// The refusal's reason for the `file` field (422, `validation_failed`).
async fn reason(res: reqwest::Response) -> String {
    assert_eq!(res.status(), 422);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "validation_failed", "{body}");
    assert!(body["error"]["message"].is_string());
    body["error"]["fields"]["file"]
        .as_str()
        .unwrap_or_else(|| panic!("a reason for file: {body}"))
        .to_string()
}

#[tokio::test]
async fn blank_cut_or_damaged_files_are_refused_with_the_reason_and_nothing_is_kept() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Hà Nội").await;
    let token = app.citizen_token(HN, "tep@example.vn").await;
    let code = app.submit_licence_renewal(HN, &token).await;

    let blank = blank_pdf();
    assert_eq!(blank.len(), PDF.len());
    let why = reason(
        upload(
            &app,
            &token,
            &code,
            "licence_scan",
            "trang.pdf",
            &blank,
            "vi",
        )
        .await,
    )
    .await;
    assert!(why.contains("trang trắng"), "{why}");
    let why = reason(
        upload(
            &app,
            &token,
            &code,
            "licence_scan",
            "trang.pdf",
            &blank,
            "en",
        )
        .await,
    )
    .await;
    assert!(why.contains("blank page"), "{why}");

    let photo = jpeg(64, 64, false);
    let cut = &photo[..photo.len() / 2];
    let why =
        reason(upload(&app, &token, &code, "portrait_photo", "anh.jpg", cut, "vi").await).await;
    assert!(why.contains("thiếu phần cuối"), "{why}");
    let mut damaged = photo[..30].to_vec();
    damaged.extend(std::iter::repeat_n(0x5a, 300));
    let why = reason(
        upload(
            &app,
            &token,
            &code,
            "portrait_photo",
            "anh.jpg",
            &damaged,
            "vi",
        )
        .await,
    )
    .await;
    assert!(why.contains("bị hỏng"), "{why}");
    let white = crate::fixtures::white_jpeg(64, 64);
    let why = reason(
        upload(
            &app,
            &token,
            &code,
            "portrait_photo",
            "anh.jpg",
            &white,
            "vi",
        )
        .await,
    )
    .await;
    assert!(why.contains("trang trắng"), "{why}");

    let d: serde_json::Value = app
        .get_with_token(HN, &format!("/api/v1/dossiers/{code}"), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(d["attachments"].as_array().map(Vec::len), Some(0), "{d}");

    // The whole files go in.
    assert_eq!(
        upload(&app, &token, &code, "licence_scan", "giay.pdf", PDF, "vi")
            .await
            .status(),
        201
    );
    assert_eq!(
        upload(
            &app,
            &token,
            &code,
            "portrait_photo",
            "anh.jpg",
            &photo,
            "vi"
        )
        .await
        .status(),
        201
    );

    // The application page says the same under the document.
    let mut browser = Browser::new(&app, HN);
    browser.sign_in("tep@example.vn", "/").await;
    let page = browser.get("/procedures/GPLX-001/apply/documents").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = browser.csrf(&page);
    let res = browser
        .post_multipart(
            &format!("/procedures/GPLX-001/apply/documents?csrf={csrf}"),
            Form::new().part(
                "licence_scan",
                Part::bytes(blank)
                    .file_name("trang.pdf")
                    .mime_str("application/pdf")
                    .unwrap(),
            ),
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("trang trắng"), "{}", res.body);
}

#[tokio::test]
async fn a_phone_photo_is_stored_as_a_pdf_holding_the_jpeg() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Hà Nội").await;
    let token = app.citizen_token(HN, "anh@example.vn").await;
    let code = app.submit_licence_renewal(HN, &token).await;
    let photo = jpeg(2200, 1600, true);
    assert!(
        (2_500_000..5_000_000).contains(&photo.len()),
        "a phone-sized photo: {} bytes",
        photo.len()
    );
    let res = upload(
        &app,
        &token,
        &code,
        "licence_scan",
        "IMG_2041.JPG",
        &photo,
        "vi",
    )
    .await;
    assert_eq!(res.status(), 201);
    let meta: serde_json::Value = res.json().await.unwrap();
    assert_eq!(meta["name"], "IMG_2041.pdf");
    let id = meta["id"].as_str().unwrap();
    let res = app
        .get_with_token(
            HN,
            &format!("/api/v1/dossiers/{code}/attachments/{id}"),
            &token,
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let stored = res.bytes().await.unwrap();
    assert!(stored.starts_with(b"%PDF-"));
    assert!(
        stored.windows(photo.len()).any(|w| w == photo.as_slice()),
        "the JPEG's own bytes are inside"
    );
    assert!(stored.windows(10).any(|w| w == b"/DCTDecode"));
    assert_eq!(meta["size"], stored.len());

    // The receipt prints the hash of what is stored: the PDF.
    let hex: String = Sha256::digest(&stored)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut owner = Browser::new(&app, HN);
    owner.sign_in("anh@example.vn", "/dossiers").await;
    let receipt = owner.get(&format!("/dossiers/{code}/receipt")).await;
    assert!(receipt.body.contains(&hex), "{}", receipt.body);

    // A portrait takes only images: a large JPEG stays a JPEG there.
    let portrait = jpeg(1400, 1250, true);
    assert!(
        portrait.len() >= 1024 * 1024 && portrait.len() < 2 * 1024 * 1024,
        "{}",
        portrait.len()
    );
    let res = upload(
        &app,
        &token,
        &code,
        "portrait_photo",
        "chan-dung.jpg",
        &portrait,
        "vi",
    )
    .await;
    assert_eq!(res.status(), 201);
    let meta: serde_json::Value = res.json().await.unwrap();
    assert_eq!(meta["name"], "chan-dung.jpg");
}
