//! Issue #10 (the seam), the citizen's side: where the API and the pages disagreed, one rule
//! now holds on both (app::documents, app::citizen, DossierRow::fee_shown).

use std::io::{Read, Write};
use std::time::Duration;

use reqwest::multipart::{Form, Part};

use crate::browser::Browser;
use crate::helpers::{World, error_code};
use portal::accounts::staff::StaffRole;

const HOST: &str = "ha-noi.localhost";

/// A JPEG's magic bytes padded to `len`: a valid type, a chosen size.
fn jpeg(len: usize) -> Vec<u8> {
    let mut b = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00,
    ];
    b.resize(len, 0x20);
    b
}

#[tokio::test]
async fn a_document_over_its_own_limit_is_refused_by_the_api_as_by_the_pages() {
    let w = World::ha_noi().citizen("anh@example.vn").dossier().await;
    let (app, token, code) = (&w.app, w.citizen(), w.dossier());
    // portrait_photo takes 2 MiB; the site takes 10 MiB.
    let upload = |bytes: Vec<u8>| {
        let form = Form::new()
            .part(
                "file",
                Part::bytes(bytes)
                    .file_name("anh.jpg")
                    .mime_str("image/jpeg")
                    .unwrap(),
            )
            .text("field", "portrait_photo");
        app.client
            .post(app.url(&format!("/api/v1/dossiers/{code}/attachments")))
            .header("Host", HOST)
            .bearer_auth(token)
            .multipart(form)
            .send()
    };
    let res = upload(jpeg(9 * 1024 * 1024)).await.unwrap();
    assert_eq!(res.status(), 413, "9 MB portrait through the API");
    assert_eq!(error_code(res).await, "payload_too_large");
    let res = upload(crate::fixtures::jpeg(64, 64, false)).await.unwrap();
    assert_eq!(res.status(), 201);

    // The page refuses the same file the same way.
    let mut browser = Browser::new(app, HOST);
    browser.sign_in("anh@example.vn", "/").await;
    let page = browser.get("/procedures/GPLX-001/apply/documents").await;
    assert_eq!(page.status, 200);
    let csrf = browser.csrf(&page);
    let res = browser
        .post_multipart(
            &format!("/procedures/GPLX-001/apply/documents?csrf={csrf}"),
            Form::new().part(
                "portrait_photo",
                Part::bytes(jpeg(9 * 1024 * 1024))
                    .file_name("anh.jpg")
                    .mime_str("image/jpeg")
                    .unwrap(),
            ),
        )
        .await;
    assert_eq!(res.status, 413, "9 MB portrait through the page");
}

#[tokio::test]
async fn the_fee_shown_before_payment_is_requested_is_the_catalogs_on_the_api_and_the_page() {
    let w = World::ha_noi().citizen("phi@example.vn").dossier().await;
    let (app, code) = (&w.app, w.dossier());
    let res = app
        .get_with_token(HOST, &format!("/api/v1/dossiers/{code}"), w.citizen())
        .await;
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!(v["fee_vnd"], 135_000, "GPLX-001's fee in the catalog");
    let mut browser = Browser::new(app, HOST);
    browser.sign_in("phi@example.vn", "/").await;
    let page = browser.get(&format!("/dossiers/{code}")).await;
    assert!(page.body.contains("135.000"), "{}", page.body);
}

#[tokio::test]
async fn a_dossier_is_read_by_its_owner_and_the_provinces_staff_and_is_404_to_anyone_else() {
    let w = World::ha_noi()
        .province("hue", "Huế")
        .citizen("chu@example.vn")
        .official()
        .admin()
        .dossier()
        .await;
    let (app, code) = (&w.app, w.dossier());
    let path = format!("/api/v1/dossiers/{code}");

    assert_eq!(
        app.get_with_token(HOST, &path, w.citizen()).await.status(),
        200
    );
    let res = app.get_with_token(HOST, &path, w.official()).await;
    assert_eq!(res.status(), 200, "staff of the province");
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!(v["tracking_code"], code);
    assert_eq!(
        app.get_with_token(HOST, &path, w.admin()).await.status(),
        200
    );

    let stranger = app.citizen_token(HOST, "la@example.vn").await;
    let res = app.get_with_token(HOST, &path, &stranger).await;
    assert_eq!(res.status(), 404, "another citizen");
    assert_eq!(error_code(res).await, "not_found");
    // The same answer as for a code that does not exist.
    let res = app
        .get_with_token(HOST, "/api/v1/dossiers/HNI-000000-XXXXXX", &stranger)
        .await;
    assert_eq!(res.status(), 404);
    // A token of another province is no credential here.
    let other = app
        .staff_token("hue", "canbo@hue.vn", StaffRole::Official)
        .await;
    assert_eq!(app.get_with_token(HOST, &path, &other).await.status(), 401);
}

/// Sends the head of a multipart POST announcing `announced` bytes and only the first MiB of
/// them, then reads what the server answers within 10 s (it must not wait for the rest).
fn partial_upload(port: u16, path: &str, cookie: &str, announced: usize) -> String {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let boundary = "XyZ";
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {HOST}\r\nCookie: {cookie}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {announced}\r\n\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"portrait_photo\"; filename=\"a.jpg\"\r\n\
         Content-Type: image/jpeg\r\n\r\n"
    );
    s.write_all(head.as_bytes()).unwrap();
    let _ = s.write_all(&vec![b'a'; 1024 * 1024]);
    let mut answer = [0u8; 512];
    let n = s.read(&mut answer).unwrap_or(0);
    String::from_utf8_lossy(&answer[..n]).into_owned()
}

#[tokio::test]
async fn the_documents_page_answers_a_stranger_or_a_forged_form_before_reading_the_body() {
    let w = World::ha_noi().citizen("nop@example.vn").await;
    let app = &w.app;
    let port = app.port;
    let path = "/procedures/GPLX-001/apply/documents";

    // Anonymous, 40 MB announced (under the global limit, which 413s anything bigger at once):
    // sent to sign in at once.
    let answer = tokio::task::spawn_blocking(move || partial_upload(port, path, "", 40 << 20))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 303"), "{answer}");

    // Signed in, but the form token is missing from the action: refused at once.
    let mut browser = Browser::new(app, HOST);
    browser.sign_in("nop@example.vn", "/").await;
    let cookie: String = browser
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let answer = tokio::task::spawn_blocking(move || partial_upload(port, path, &cookie, 40 << 20))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
}

/// A dossier status the code does not know (a manual UPDATE, a newer release's value) is an
/// error, never "submitted": the dossier must not look new and open to the citizen's moves.
#[tokio::test]
async fn a_dossier_with_an_unknown_status_is_an_error_not_a_new_dossier() {
    use diesel::RunQueryDsl;
    let w = World::ha_noi().citizen("la@example.vn").dossier().await;
    let (app, tenant, token, code) = (&w.app, &w.tenants[0], w.citizen(), w.dossier());
    diesel::sql_query(format!(
        "UPDATE {}.dossiers SET status = 'archived' WHERE tracking_code = '{code}'",
        tenant.schema
    ))
    .execute(&mut app.raw_connection())
    .unwrap();
    let res = app
        .post_json(
            HOST,
            &format!("/api/v1/dossiers/{code}/withdraw"),
            Some(token),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(res.status(), 500, "withdrawing an 'archived' dossier");
    let status: Vec<(String,)> = {
        #[derive(diesel::QueryableByName)]
        struct S {
            #[diesel(sql_type = diesel::sql_types::Text)]
            status: String,
        }
        diesel::sql_query(format!(
            "SELECT status FROM {}.dossiers WHERE tracking_code = '{code}'",
            tenant.schema
        ))
        .load::<S>(&mut app.raw_connection())
        .unwrap()
        .into_iter()
        .map(|s| (s.status,))
        .collect()
    };
    assert_eq!(status, vec![("archived".to_string(),)]);
}
