//! Attacks through uploads: files whose name or declared type lies about their bytes,
//! polyglots, and file names made of paths, NUL, line breaks, quotes and sheer length. Types
//! come from the bytes; names are stored harmless; downloads are attachments with safe headers.

use portal::accounts::staff::StaffRole;
use reqwest::multipart::{Form, Part};

use crate::attacks_kit::{count, refused};
use crate::browser::{Browser, file_part};
use crate::helpers::{STAFF_PASSWORD, TestApp};

const HN: &str = "ha-noi.localhost";
const PDF: &[u8] = crate::fixtures::PDF;
const PNG: &[u8] = crate::fixtures::PNG;
const HTML: &[u8] =
    b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>";
const SVG: &[u8] =
    b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"><script>alert(2)</script></svg>";

struct Filed {
    app: TestApp,
    token: String,
    code: String,
}

async fn filed() -> Filed {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let token = app.citizen_token(HN, "dan@example.vn").await;
    let code = app.submit_licence_renewal(HN, &token).await;
    Filed { app, token, code }
}

impl Filed {
    /// Through the API, with the name and the declared type a client chose.
    async fn upload(
        &self,
        field: &str,
        name: &str,
        declared: &str,
        bytes: &[u8],
    ) -> reqwest::Response {
        let form = Form::new().text("field", field.to_string()).part(
            "file",
            Part::bytes(bytes.to_vec())
                .file_name(name.to_string())
                .mime_str(declared)
                .unwrap(),
        );
        self.app
            .client
            .post(
                self.app
                    .url(&format!("/api/v1/dossiers/{}/attachments", self.code)),
            )
            .header("Host", HN)
            .bearer_auth(&self.token)
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// Through the API with a multipart body written byte for byte: `disposition` follows
    /// `form-data; name="file"; ` as is.
    async fn upload_raw(&self, disposition: &[u8]) -> reqwest::Response {
        let mut body = b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; ".to_vec();
        body.extend_from_slice(disposition);
        body.extend_from_slice(b"\r\nContent-Type: application/pdf\r\n\r\n");
        body.extend_from_slice(PDF);
        body.extend_from_slice(b"\r\n--XyZ--\r\n");
        self.app
            .client
            .post(
                self.app
                    .url(&format!("/api/v1/dossiers/{}/attachments", self.code)),
            )
            .header("Host", HN)
            .header("Content-Type", "multipart/form-data; boundary=XyZ")
            .bearer_auth(&self.token)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    fn attachments(&self) -> i64 {
        count(&self.app, "SELECT count(*) AS n FROM t_ha_noi.attachments")
    }
}

#[tokio::test]
async fn uploads_whose_name_or_declared_type_lies_are_judged_by_their_bytes() {
    let f = filed().await;
    // (field, name, declared type, bytes): each refused, 422 beside `file`.
    let lies: [(&str, &str, &str, &[u8]); 8] = [
        ("licence_scan", "giay-phep.pdf", "application/pdf", HTML),
        ("portrait_photo", "anh.png", "image/png", SVG),
        (
            "portrait_photo",
            "anh.png",
            "image/png",
            b"GIF89a\x01\0\x01\0\0\0\0;",
        ),
        (
            "licence_scan",
            "giay-phep.pdf",
            "application/pdf",
            b"PK\x03\x04\x14\0\0\0",
        ),
        (
            "licence_scan",
            "giay-phep.pdf",
            "application/pdf",
            b"\x7fELF\x02\x01\x01\0",
        ),
        (
            "portrait_photo",
            "anh.jpg",
            "image/jpeg",
            b"MZ\x90\0\x03\0\0\0 program",
        ),
        (
            "licence_scan",
            "giay-phep.pdf",
            "application/pdf",
            b" %PDF-1.4 almost",
        ),
        ("portrait_photo", "anh.png", "image/png", PDF),
    ];
    for (field, name, declared, bytes) in lies {
        let res = f.upload(field, name, declared, bytes).await;
        let body = refused(res, 422, "validation_failed").await;
        assert!(
            body["error"]["fields"]["file"].is_string(),
            "{name}: {body}"
        );
    }
    assert_eq!(f.attachments(), 0);
    // A real PNG sent as "x.html", text/html: stored as what it is.
    let res = f.upload("licence_scan", "x.html", "text/html", PNG).await;
    assert_eq!(res.status(), 201);
    let meta: serde_json::Value = res.json().await.unwrap();
    assert_eq!(meta["name"], "x.png");
    let stored =
        crate::attacks_kit::text(&f.app, "SELECT content_type AS t FROM t_ha_noi.attachments");
    assert_eq!(stored, "image/png");

    // The application pages: an HTML file named .pdf is explained, nothing kept.
    let app = &f.app;
    let mut b = Browser::new(app, HN);
    b.sign_in("dan@example.vn", "/").await;
    let docs = b.get("/procedures/GPLX-001/apply/documents").await;
    let csrf = b.csrf(&docs);
    let res = b
        .post_multipart(
            "/procedures/GPLX-001/apply/documents",
            Form::new()
                .text("csrf", csrf)
                .part("licence_scan", file_part("giay-phep.pdf", HTML))
                .part("portrait_photo", file_part("anh.png", SVG)),
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(
        res.body.contains("href=\"#licence_scan\"")
            && res.body.contains("href=\"#portrait_photo\"")
    );
    assert_eq!(
        count(app, "SELECT count(*) AS n FROM t_ha_noi.draft_files"),
        0
    );

    // The logo, through the API and the admin's page: HTML and SVG named .png are refused.
    let admin = app
        .staff_token("ha-noi", "admin@hanoi.gov.vn", StaffRole::Admin)
        .await;
    for bytes in [HTML, SVG] {
        let res = app
            .client
            .put(app.url("/api/v1/manage/logo"))
            .header("Host", HN)
            .bearer_auth(&admin)
            .multipart(Form::new().part("file", file_part("logo.png", bytes)))
            .send()
            .await
            .unwrap();
        refused(res, 422, "validation_failed").await;
    }
    let mut a = Browser::new(app, HN);
    a.sign_in_as("admin@hanoi.gov.vn", STAFF_PASSWORD, "/manage/admin")
        .await;
    let page = a.get("/manage/admin").await;
    let csrf = a.csrf(&page);
    let res = a
        .post_multipart(
            "/manage/admin/logo",
            Form::new()
                .text("csrf", csrf)
                .part("file", file_part("logo.png", SVG)),
        )
        .await;
    assert_eq!(res.status, 422);
    assert_eq!(count(app, "SELECT count(*) AS n FROM t_ha_noi.logo"), 0);
    assert_eq!(app.get(HN, "/logo").await.status(), 404);
}

/// The download answers of one stored file: a PDF attachment, never something to render.
fn assert_safe_download(res: &reqwest::Response, content_type: &str, what: &str) {
    assert_eq!(res.status(), 200, "{what}");
    let h = res.headers();
    assert_eq!(h["content-type"], content_type, "{what}");
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'self'")
    );
    let disposition = h["content-disposition"].to_str().unwrap();
    let rest = disposition
        .strip_prefix("attachment; filename=\"")
        .unwrap_or_else(|| panic!("{what}: {disposition}"));
    let (ascii, encoded) = rest
        .split_once("\"; filename*=UTF-8''")
        .unwrap_or_else(|| panic!("{what}: {disposition}"));
    assert!(
        ascii
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)),
        "{what}: {ascii:?}"
    );
    assert!(
        encoded
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-%".contains(c)),
        "{what}: {encoded:?}"
    );
}

#[tokio::test]
async fn a_polyglot_that_passes_as_a_pdf_or_an_image_is_only_ever_served_as_that() {
    let f = filed().await;
    let app = &f.app;
    // Complete files (the upload checks open them) that also carry HTML.
    let mut pdf_html = b"%PDF-1.4\n".to_vec();
    pdf_html.extend_from_slice(HTML);
    pdf_html.extend_from_slice(&PDF[8..]);
    let mut jpeg_html = crate::fixtures::jpeg(16, 16, false);
    jpeg_html.extend_from_slice(HTML);
    let mut ids = Vec::new();
    for (field, bytes, kind, name) in [
        ("licence_scan", &pdf_html, "application/pdf", "x.pdf"),
        ("portrait_photo", &jpeg_html, "image/jpeg", "x.jpg"),
    ] {
        let res = f.upload(field, "x.html", "text/html", bytes).await;
        assert_eq!(res.status(), 201);
        let meta: serde_json::Value = res.json().await.unwrap();
        assert_eq!(meta["name"], name);
        ids.push((
            meta["id"].as_str().unwrap().to_string(),
            kind,
            bytes.clone(),
        ));
    }
    let official = app
        .staff_token("ha-noi", "canbo@hanoi.gov.vn", StaffRole::Official)
        .await;
    let mut citizen = Browser::new(app, HN);
    citizen.sign_in("dan@example.vn", "/").await;
    let mut staff = Browser::new(app, HN);
    staff
        .sign_in_as("canbo@hanoi.gov.vn", STAFF_PASSWORD, "/manage")
        .await;
    let cookie = |b: &Browser<'_>| {
        b.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let code = &f.code;
    for (id, kind, bytes) in &ids {
        let doors = [
            (
                format!("/api/v1/dossiers/{code}/attachments/{id}"),
                Some(f.token.clone()),
                String::new(),
            ),
            (
                format!("/api/v1/manage/dossiers/{code}/attachments/{id}"),
                Some(official.clone()),
                String::new(),
            ),
            (
                format!("/dossiers/{code}/files/{id}"),
                None,
                cookie(&citizen),
            ),
            (
                format!("/manage/dossiers/{code}/files/{id}"),
                None,
                cookie(&staff),
            ),
        ];
        for (path, token, cookies) in doors {
            let mut req = app
                .client
                .get(app.url(&path))
                .header("Host", HN)
                .header("Cookie", cookies);
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            let res = req.send().await.unwrap();
            assert_safe_download(&res, kind, &path);
            assert_eq!(res.bytes().await.unwrap().as_ref(), bytes.as_slice());
        }
    }
}

#[tokio::test]
async fn file_names_made_of_paths_nul_line_breaks_quotes_and_length_are_stored_harmless() {
    let f = filed().await;
    let long = format!("{}.pdf", "x".repeat(10_000));
    let long_unicode = format!("{}.pdf", "giấy tờ ".repeat(300));
    let dispositions: Vec<Vec<u8>> = vec![
        b"filename=\"../../etc/passwd\"".to_vec(),
        b"filename=\"..\\\\..\\\\windows\\\\system32\\\\sam.pdf\"".to_vec(),
        b"filename=\"/var/lib/postgresql/data/pg_hba.conf\"".to_vec(),
        b"filename=\"a\x00b.pdf\"".to_vec(),
        b"filename*=UTF-8''evil%0D%0AContent-Type%3A%20text%2Fhtml%00.pdf".to_vec(),
        b"filename*=UTF-8''%E2%80%AEfdp.exe".to_vec(),
        b"filename*=UTF-8''..%2F..%2F.ssh%2Fauthorized_keys".to_vec(),
        b"filename=\"\\\"; filename=evil.html\"".to_vec(),
        b"filename=\"<img src=x onerror=alert(1)>.pdf\"".to_vec(),
        b"filename=\"giay%00to.pdf;.html\"".to_vec(),
        b"filename=\".htaccess\"".to_vec(),
        b"filename=\"\"".to_vec(),
        format!("filename=\"{long}\"").into_bytes(),
        format!("filename=\"{long_unicode}\"").into_bytes(),
    ];
    let mut stored = Vec::new();
    for d in &dispositions {
        let shown = String::from_utf8_lossy(d)
            .chars()
            .take(80)
            .collect::<String>();
        let res = f.upload_raw(d).await;
        match res.status().as_u16() {
            201 => {
                let meta: serde_json::Value = res.json().await.unwrap();
                stored.push((
                    shown,
                    meta["id"].as_str().unwrap().to_string(),
                    meta["name"].as_str().unwrap().to_string(),
                ));
            }
            // A header the multipart parser will not read is a malformed request.
            _ => {
                refused(res, 400, "malformed").await;
            }
        }
    }
    assert!(
        stored.len() >= 10,
        "most names are taken and cleaned: {stored:?}"
    );
    assert_eq!(f.attachments(), stored.len() as i64);
    let by_input = |prefix: &str| {
        stored
            .iter()
            .find(|(shown, _, _)| shown.starts_with(prefix))
            .map(|(_, _, name)| name.clone())
    };
    assert_eq!(
        by_input("filename=\"../../etc/passwd\"").unwrap(),
        "passwd.pdf"
    );
    assert_eq!(by_input("filename=\".htaccess\"").unwrap(), "htaccess.pdf");
    assert!(
        by_input("filename=\"a\u{0}b").is_none(),
        "a raw NUL is malformed"
    );
    assert_eq!(by_input("filename=\"\"").unwrap(), "tep-dinh-kem.pdf");
    assert_eq!(by_input("filename=\"..\\\\..").unwrap(), "sam.pdf");
    assert_eq!(
        by_input("filename=\"/var/lib").unwrap(),
        "pg_hba.pdf",
        "the real type's extension, not the given one"
    );
    // The extended parameter (`filename*`, percent-encoded) is not read at all, so the line
    // breaks, NUL and paths it could carry never arrive.
    for (shown, _, name) in stored.iter().filter(|(s, _, _)| s.starts_with("filename*")) {
        assert_eq!(name, "tep-dinh-kem.pdf", "{shown}");
    }
    for (shown, id, name) in &stored {
        assert!(
            name.chars().count() <= 100 && name.ends_with(".pdf") && !name.starts_with('.'),
            "{shown}: {name:?}"
        );
        assert!(
            name.chars()
                .all(|c| c.is_alphanumeric() || " .-_()".contains(c)),
            "{shown}: {name:?}"
        );
        let res = f
            .app
            .get_with_token(
                HN,
                &format!("/api/v1/dossiers/{}/attachments/{id}", f.code),
                &f.token,
            )
            .await;
        assert_safe_download(&res, "application/pdf", shown);
    }
    // The same through the application page: the draft keeps a harmless name.
    let app = &f.app;
    let mut b = Browser::new(app, HN);
    b.sign_in("dan@example.vn", "/").await;
    let docs = b.get("/procedures/GPLX-001/apply/documents").await;
    let csrf = b.csrf(&docs);
    let res = b
        .post_multipart(
            "/procedures/GPLX-001/apply/documents",
            Form::new()
                .text("csrf", csrf)
                .part("licence_scan", file_part("../../../etc/shadow", PDF))
                .part(
                    "portrait_photo",
                    file_part(&format!("{}.png", "z".repeat(500)), PNG),
                ),
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let names = crate::attacks_kit::text(
        app,
        "SELECT string_agg(name, '|' ORDER BY field) AS t FROM t_ha_noi.draft_files",
    );
    let (licence, portrait) = names.split_once('|').unwrap();
    assert_eq!(licence, "shadow.pdf");
    assert_eq!(portrait, format!("{}.png", "z".repeat(90)));
}

/// Sends the head of a multipart POST to `path` announcing `announced` bytes (a file part of
/// field `field`) and then only 1 MiB of them; returns what the server answers within 5 s
/// ("" when it is still waiting for the rest, i.e. reading the body).
fn partial_upload(port: u16, path: &str, headers: &str, field: &str, announced: usize) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {HN}\r\n{headers}\
         Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: {announced}\r\n\r\n\
         --XyZ\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"a.jpg\"\r\n\
         Content-Type: image/jpeg\r\n\r\n"
    );
    s.write_all(head.as_bytes()).unwrap();
    let _ = s.write_all(&vec![b'a'; 1024 * 1024]);
    let mut answer = [0u8; 512];
    let n = s.read(&mut answer).unwrap_or(0);
    String::from_utf8_lossy(&answer[..n]).into_owned()
}

/// Under the global limit (48 MiB by default): only the route's own checks can stop it.
const UNDER_THE_LIMIT: usize = 40 << 20;
const HUGE: usize = 600 << 20;

async fn partial(
    app: &TestApp,
    path: String,
    headers: String,
    field: &str,
    announced: usize,
) -> String {
    let (port, field) = (app.port, field.to_string());
    tokio::task::spawn_blocking(move || partial_upload(port, &path, &headers, &field, announced))
        .await
        .unwrap()
}

/// #15 finding 1: a body announced over the platform's global limit is refused with 413 as
/// soon as its head arrives, on every route, whoever sends it (a signed-in citizen with a
/// valid form token here, so nothing else stops it earlier).
#[tokio::test]
async fn a_body_announced_over_the_global_limit_gets_413_before_it_is_read() {
    let f = filed().await;
    let mut browser = Browser::new(&f.app, HN);
    browser.sign_in("dan@example.vn", "/").await;
    let page = browser.get("/procedures/GPLX-001/apply/documents").await;
    let csrf = browser.csrf(&page);
    let cookie: String = browser
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let answer = partial(
        &f.app,
        format!("/procedures/GPLX-001/apply/documents?csrf={csrf}"),
        format!("Cookie: {cookie}\r\n"),
        "portrait_photo",
        HUGE,
    )
    .await;
    assert!(
        answer.starts_with("HTTP/1.1 413"),
        "documents page: {answer:?}"
    );
    let answer = partial(
        &f.app,
        format!("/api/v1/dossiers/{}/attachments", f.code),
        format!("Authorization: Bearer {}\r\n", f.token),
        "file",
        HUGE,
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 413"), "API upload: {answer:?}");
    // A stranger's 600 MB: the same 413, before anything else is looked at.
    let answer = partial(
        &f.app,
        "/procedures/GPLX-001/apply/documents".into(),
        String::new(),
        "portrait_photo",
        HUGE,
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 413"), "anonymous: {answer:?}");
}

/// #15 finding 1: every upload route answers a stranger before it reads the body (40 MB
/// announced, under the global limit): the
/// documents and supplement pages send them to sign in, the API and the logo page refuse,
/// and a citizen's supplement to somebody else's dossier is 404 before its files are read.
#[tokio::test]
async fn every_upload_route_answers_a_stranger_before_reading_the_body() {
    let f = filed().await;
    let code = f.code.clone();
    for (path, field, expect) in [
        (
            "/procedures/GPLX-001/apply/documents".to_string(),
            "portrait_photo",
            "303",
        ),
        (
            format!("/dossiers/{code}/supplement"),
            "portrait_photo",
            "303",
        ),
        ("/manage/admin/logo".to_string(), "file", "303"),
        (
            format!("/api/v1/dossiers/{code}/attachments"),
            "file",
            "401",
        ),
    ] {
        let answer = partial(&f.app, path.clone(), String::new(), field, UNDER_THE_LIMIT).await;
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {expect}")),
            "{path}: {answer:?}"
        );
    }
    // Another citizen, signed in with a valid form token, on Dan's dossier.
    f.app.citizen_token(HN, "ke@example.vn").await;
    let mut browser = Browser::new(&f.app, HN);
    browser.sign_in("ke@example.vn", "/").await;
    let page = browser.get("/dossiers").await;
    let csrf = browser.csrf(&page);
    let cookie: String = browser
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let answer = partial(
        &f.app,
        format!("/dossiers/{code}/supplement?csrf={csrf}"),
        format!("Cookie: {cookie}\r\n"),
        "portrait_photo",
        UNDER_THE_LIMIT,
    )
    .await;
    assert!(
        answer.starts_with("HTTP/1.1 404"),
        "another's supplement: {answer:?}"
    );
}

/// #15 finding 1: a body sent without its length (chunked) is cut off at the global limit
/// with 413, here 256 KiB, below the document's own limit so only the global one can stop it.
#[tokio::test]
async fn a_chunked_body_past_the_global_limit_gets_413() {
    use std::io::{Read, Write};
    let db = crate::helpers::TestDb::create();
    let mut settings = crate::helpers::test_settings(&db.url);
    settings.server.max_body_bytes = 256 * 1024;
    let app = TestApp::spawn_with(db, settings).await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let token = app.citizen_token(HN, "dan@example.vn").await;
    let code = app.submit_licence_renewal(HN, &token).await;
    let port = app.port;
    let answer = tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let head = format!(
            "POST /api/v1/dossiers/{code}/attachments HTTP/1.1\r\nHost: {HN}\r\n\
             Authorization: Bearer {token}\r\nTransfer-Encoding: chunked\r\n\
             Content-Type: multipart/form-data; boundary=XyZ\r\n\r\n"
        );
        s.write_all(head.as_bytes()).unwrap();
        let mut body = b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; \
            filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
            .to_vec();
        body.extend_from_slice(&[0xFF, 0xD8, 0xFF, 0xE0]);
        body.resize(body.len() + 1024 * 1024, b'a');
        body.extend_from_slice(b"\r\n--XyZ--\r\n");
        for chunk in body.chunks(64 * 1024) {
            if s.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .is_err()
                || s.write_all(chunk).is_err()
                || s.write_all(b"\r\n").is_err()
            {
                break;
            }
        }
        let _ = s.write_all(b"0\r\n\r\n");
        let mut answer = [0u8; 512];
        let n = s.read(&mut answer).unwrap_or(0);
        String::from_utf8_lossy(&answer[..n]).into_owned()
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer:?}");
}
