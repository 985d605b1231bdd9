//! The printable dossier receipt (giấy tiếp nhận hồ sơ và hẹn trả kết quả, #19 item 2): each
//! document received with its short SHA-256, the due date, a QR code to tracking, A4 or A5.

use portal::accounts::staff::StaffRole;
use reqwest::multipart::{Form, Part};
use sha2::{Digest, Sha256};

use crate::browser::Browser;
use crate::fixtures::{PDF, PNG};
use crate::helpers::TestApp;

const HN: &str = "ha-noi.localhost";

async fn upload(app: &TestApp, token: &str, code: &str, field: &str, name: &str, bytes: &[u8]) {
    let form = Form::new().text("field", field.to_string()).part(
        "file",
        Part::bytes(bytes.to_vec())
            .file_name(name.to_string())
            .mime_str("application/octet-stream")
            .unwrap(),
    );
    let res = app
        .client
        .post(app.url(&format!("/api/v1/dossiers/{code}/attachments")))
        .header("Host", HN)
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
}

/// The official accepts the dossier; its due date as pages print it (dd/mm/yyyy).
async fn accept(app: &TestApp, official: &str, code: &str) -> String {
    let res = app
        .act(HN, official, code, serde_json::json!({"action": "accept"}))
        .await;
    assert_eq!(res.status(), 200);
    let accepted: serde_json::Value = res.json().await.unwrap();
    chrono::NaiveDate::parse_from_str(accepted["due_on"].as_str().unwrap(), "%Y-%m-%d")
        .unwrap()
        .format("%d/%m/%Y")
        .to_string()
}

fn short(bytes: &[u8]) -> String {
    let hex: String = Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "{} {} {} {}",
        &hex[0..4],
        &hex[4..8],
        &hex[8..12],
        &hex[12..16]
    )
}

#[tokio::test]
async fn the_receipt_lists_each_document_with_its_hash_and_a_qr_to_tracking_on_a4_or_a5() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Hà Nội").await;
    let token = app.citizen_token(HN, "nhan@example.vn").await;
    let code = app.submit_licence_renewal(HN, &token).await;
    upload(&app, &token, &code, "licence_scan", "giay-phep.pdf", PDF).await;
    upload(&app, &token, &code, "portrait_photo", "anh.png", PNG).await;

    let official = app
        .staff_token("ha-noi", "canbo@hanoi.gov.vn", StaffRole::Official)
        .await;
    let due = accept(&app, &official, &code).await;

    let mut owner = Browser::new(&app, HN);
    owner.sign_in("nhan@example.vn", "/dossiers").await;
    let dossier = owner.get(&format!("/dossiers/{code}")).await;
    assert!(
        dossier
            .body
            .contains(&format!("href=\"/dossiers/{code}/receipt\"")),
        "the dossier page links to its receipt"
    );
    let page = owner.get(&format!("/dossiers/{code}/receipt")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let body = &page.body;
    assert!(body.contains("Giấy tiếp nhận hồ sơ và hẹn trả kết quả"));
    assert!(body.contains(&code));
    // Each document: what the form calls it, the file's name, the start of its hash.
    for (label, name, bytes) in [
        ("Ảnh chụp hai mặt giấy phép", "giay-phep.pdf", PDF),
        ("Ảnh chân dung 3×4", "anh.png", PNG),
    ] {
        let row = body
            .split("<tr>")
            .find(|r| r.contains(name))
            .unwrap_or_else(|| panic!("a row for {name}: {body}"));
        assert!(row.contains(label), "{row}");
        assert!(row.contains(&short(bytes)), "{row}");
    }
    // The QR code and the address it encodes: tracking with the code, never the citizen ID.
    assert!(body.contains("<svg class=\"qr\""), "{body}");
    assert!(body.contains(&format!("/tracking?code={code}")));
    assert!(!body.contains(crate::helpers::CITIZEN_ID));
    assert!(body.contains(&due), "the due date {due}");
    // No raw procedure code.
    assert!(!body.contains("GPLX-001"), "no raw codes on the receipt");
    assert!(body.contains("paper-a4") && !body.contains("paper-a5"));
    assert!(body.len() < 60 * 1024, "{} bytes", body.len());

    let a5 = owner
        .get(&format!("/dossiers/{code}/receipt?size=a5"))
        .await;
    assert_eq!(a5.status, 200);
    assert!(a5.body.contains("paper-a5") && !a5.body.contains("paper-a4"));
    assert!(a5.body.contains(&short(PDF)));
    let css = app
        .get(HN, "/static/portal.css")
        .await
        .text()
        .await
        .unwrap();
    assert!(css.contains("@page a5{size:A5"), "the A5 page size");
}

/// Before acceptance there is no legal due date yet: the receipt names the expected one (the
/// date the result would be due were the dossier accepted the day it was filed), says so, and
/// gives way to the real one once it is accepted (the same day here, so the same date).
#[tokio::test]
async fn a_receipt_before_acceptance_names_the_expected_date_then_the_due_date() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Hà Nội").await;
    let token = app.citizen_token(HN, "hen@example.vn").await;
    let code = app.submit_complete_licence_renewal(HN, &token).await;
    let mut owner = Browser::new(&app, HN);
    owner.sign_in("hen@example.vn", "/dossiers").await;
    let before = owner.get(&format!("/dossiers/{code}/receipt")).await;
    assert_eq!(before.status, 200, "{}", before.body);
    assert!(
        before.body.contains("Ngày hẹn trả kết quả (dự kiến)"),
        "{}",
        before.body
    );

    let official = app
        .staff_token("ha-noi", "canbo@hanoi.gov.vn", StaffRole::Official)
        .await;
    let due = accept(&app, &official, &code).await;
    let expected = before
        .body
        .split("(dự kiến)")
        .nth(1)
        .and_then(|rest| rest.split("<strong>").nth(1))
        .and_then(|rest| rest.split("</strong>").next())
        .unwrap_or_default();
    assert_eq!(expected, due, "accepted the day it was filed");

    let after = owner.get(&format!("/dossiers/{code}/receipt")).await;
    assert!(after.body.contains(&due));
    assert!(!after.body.contains("(dự kiến)"), "{}", after.body);
}
