//! Resumable uploads of a draft's documents (#19 item 5, docs/uploads.md): a connection cut
//! half-way costs only what was in flight, the whole file is checked once complete and kept
//! once; another citizen or province finds nothing; offsets, lengths and the number of
//! unfinished uploads are held to.

use std::io::Write;

use sha2::{Digest, Sha256};

use crate::browser::Browser;
use crate::helpers::TestApp;

const HN: &str = "ha-noi.localhost";
const DOCS: &str = "/procedures/GPLX-001/apply/documents";
const UPLOADS: &str = "/procedures/GPLX-001/apply/uploads";

/// A signed-in citizen's browser session, as the page's script has it: cookies and form token.
pub(crate) struct Session<'a> {
    app: &'a TestApp,
    host: String,
    cookies: String,
    csrf: String,
}

impl<'a> Session<'a> {
    pub(crate) async fn sign_in(app: &'a TestApp, host: &str, email: &str) -> Session<'a> {
        app.citizen_token(host, email).await;
        let mut browser = Browser::new(app, host);
        browser.sign_in(email, "/").await;
        let page = browser.get(DOCS).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let csrf = browser.csrf(&page);
        let cookies = browser
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        Session {
            app,
            host: host.to_string(),
            cookies,
            csrf,
        }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.app
            .client
            .request(method, self.app.url(path))
            .header("Host", &self.host)
            .header("Cookie", &self.cookies)
            .header("X-CSRF-Token", &self.csrf)
            .header("Tus-Resumable", "1.0.0")
    }

    /// `POST` a new upload; the response as is.
    async fn create_at(
        &self,
        uploads: &str,
        field: &str,
        name: &str,
        length: usize,
    ) -> reqwest::Response {
        use base64::Engine;
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        self.request(reqwest::Method::POST, uploads)
            .header("Upload-Length", length.to_string())
            .header(
                "Upload-Metadata",
                format!("field {},filename {}", b64(field), b64(name)),
            )
            .send()
            .await
            .unwrap()
    }

    /// A new upload of `licence_scan` that must be created; its address.
    pub(crate) async fn create(&self, length: usize) -> String {
        let res = self
            .create_at(UPLOADS, "licence_scan", "giay.jpg", length)
            .await;
        if res.status() != 201 {
            panic!("create: {} {}", res.status(), res.text().await.unwrap());
        }
        assert_eq!(res.headers()["upload-offset"], "0");
        assert!(res.headers().contains_key("upload-expires"));
        let location = res.headers()["location"].to_str().unwrap().to_string();
        assert!(location.starts_with(&format!("{UPLOADS}/")), "{location}");
        location
    }

    /// The upload's offset as `HEAD` tells it, or the status when it is not 200.
    async fn offset(&self, url: &str) -> Result<u64, u16> {
        let res = self
            .request(reqwest::Method::HEAD, url)
            .send()
            .await
            .unwrap();
        if res.status() != 200 {
            return Err(res.status().as_u16());
        }
        assert_eq!(res.headers()["cache-control"], "no-store");
        Ok(res.headers()["upload-offset"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap())
    }

    pub(crate) async fn patch(&self, url: &str, offset: u64, bytes: Vec<u8>) -> reqwest::Response {
        self.request(reqwest::Method::PATCH, url)
            .header("Upload-Offset", offset.to_string())
            .header("Content-Type", "application/offset+octet-stream")
            .body(bytes)
            .send()
            .await
            .unwrap()
    }

    /// Sends the head and `sent` bytes of a `PATCH` announcing `total` bytes over a raw
    /// connection, then drops it: the phone that lost its signal mid-upload.
    async fn patch_cut(&self, url: &str, offset: u64, total: usize, sent: Vec<u8>) {
        let head = format!(
            "PATCH {url} HTTP/1.1\r\nHost: {}\r\nCookie: {}\r\nX-CSRF-Token: {}\r\n\
             Tus-Resumable: 1.0.0\r\nUpload-Offset: {offset}\r\n\
             Content-Type: application/offset+octet-stream\r\nContent-Length: {total}\r\n\r\n",
            self.host, self.cookies, self.csrf
        );
        let port = self.app.port;
        tokio::task::spawn_blocking(move || {
            let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
            stream.write_all(head.as_bytes()).unwrap();
            for piece in sent.chunks(64 * 1024) {
                stream.write_all(piece).unwrap();
            }
            stream.flush().unwrap();
            // Let the bytes reach the server before the connection goes.
            std::thread::sleep(std::time::Duration::from_millis(300));
            stream.shutdown(std::net::Shutdown::Both).unwrap();
        })
        .await
        .unwrap();
    }
}

impl Session<'_> {
    /// A `PATCH` whose body is sent chunked (no length announced); the answer's status.
    async fn patch_chunked(&self, url: &str, offset: u64, body: &[u8]) -> u16 {
        use std::io::Read;
        let mut raw = format!(
            "PATCH {url} HTTP/1.1\r\nHost: {}\r\nCookie: {}\r\nX-CSRF-Token: {}\r\n\
             Tus-Resumable: 1.0.0\r\nUpload-Offset: {offset}\r\nConnection: close\r\n\
             Content-Type: application/offset+octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n",
            self.host, self.cookies, self.csrf
        )
        .into_bytes();
        for piece in body.chunks(64 * 1024) {
            raw.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
            raw.extend_from_slice(piece);
            raw.extend_from_slice(b"\r\n");
        }
        raw.extend_from_slice(b"0\r\n\r\n");
        let port = self.app.port;
        tokio::task::spawn_blocking(move || {
            let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
            // The server may answer and close before the body is all sent.
            let _ = stream.write_all(&raw);
            let mut answer = Vec::new();
            let _ = stream.read_to_end(&mut answer);
            let text = String::from_utf8_lossy(&answer);
            text.split(' ')
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0)
        })
        .await
        .unwrap()
    }
}

/// The draft's files of `field` in Hà Nội: (count, SHA-256 of each).
fn draft_files(app: &TestApp, field: &str) -> Vec<String> {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        h: String,
    }
    let mut conn = app.raw_connection();
    diesel::sql_query(format!(
        "SELECT encode(sha256(data), 'hex') AS h FROM t_ha_noi.draft_files WHERE field = '{field}'"
    ))
    .load::<Row>(&mut conn)
    .unwrap()
    .into_iter()
    .map(|r| r.h)
    .collect()
}

fn count(app: &TestApp, sql: &str) -> i64 {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = app.raw_connection();
    diesel::sql_query(sql).get_result::<N>(&mut conn).unwrap().n
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn error_code(res: reqwest::Response) -> String {
    let body: serde_json::Value = res.json().await.unwrap();
    body["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// A photo of a page, a few hundred KB: several parts.
pub(crate) fn scan() -> Vec<u8> {
    let photo = crate::fixtures::jpeg(720, 640, true);
    assert!(
        (300_000..1_048_576).contains(&photo.len()),
        "{} bytes",
        photo.len()
    );
    photo
}

#[tokio::test]
async fn the_resumable_upload_passes_with_a_connection_cut_at_50_percent() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Hà Nội").await;
    let me = Session::sign_in(&app, HN, "mang-yeu@example.vn").await;
    let file = scan();
    let url = me.create(file.len()).await;

    let half = file.len() / 2;
    me.patch_cut(&url, 0, file.len(), file[..half].to_vec())
        .await;
    // The server keeps every byte that reached it, the last part too (after it saw the cut).
    let mut offset = 0;
    for _ in 0..100 {
        offset = me.offset(&url).await.unwrap();
        if offset == half as u64 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(offset, half as u64, "kept up to the cut");
    assert!(
        draft_files(&app, "licence_scan").is_empty(),
        "not complete yet"
    );

    let res = me
        .patch(&url, offset, file[offset as usize..].to_vec())
        .await;
    assert_eq!(res.status(), 204, "{:?}", res.text().await);
    assert_eq!(res.headers()["upload-offset"], file.len().to_string());
    assert_eq!(me.offset(&url).await, Ok(file.len() as u64));

    // Byte for byte, once, and the parts are gone.
    assert_eq!(draft_files(&app, "licence_scan"), vec![hex_sha256(&file)]);
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM t_ha_noi.upload_parts"),
        0
    );
    // A repeated last piece (its answer lost) changes nothing.
    let again = me.patch(&url, half as u64, file[half..].to_vec()).await;
    assert_eq!(again.status(), 409);
    assert_eq!(draft_files(&app, "licence_scan"), vec![hex_sha256(&file)]);

    // The page shows the file as uploaded, and carries the script and the bar.
    let mut browser = Browser::new(&app, HN);
    browser.sign_in("mang-yeu@example.vn", "/").await;
    let page = browser.get(DOCS).await;
    assert!(page.body.contains("giay.jpg"), "{}", page.body);
    assert!(page.body.contains("<progress") && page.body.contains("/static/uploads.js"));
    let js = app.get(HN, "/static/uploads.js").await;
    assert_eq!(js.status(), 200);
    assert!(
        js.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
}

#[tokio::test]
async fn a_whole_file_that_fails_its_checks_is_refused_with_the_reason_and_not_kept() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Hà Nội").await;
    let me = Session::sign_in(&app, HN, "cat@example.vn").await;
    let photo = scan();
    let cut = photo[..photo.len() / 2].to_vec();
    let url = me.create(cut.len()).await;
    let res = me.patch(&url, 0, cut).await;
    assert_eq!(res.status(), 422);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(
        body["error"]["fields"]["file"]
            .as_str()
            .unwrap_or_default()
            .contains("thiếu phần cuối"),
        "{body}"
    );
    assert!(draft_files(&app, "licence_scan").is_empty());
    assert_eq!(me.offset(&url).await, Err(404));
}

#[tokio::test]
async fn another_citizen_or_province_finds_no_upload() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Hà Nội").await;
    app.create_tenant("hue", "Huế").await;
    let owner = Session::sign_in(&app, HN, "chu@example.vn").await;
    let file = scan();
    let url = owner.create(file.len()).await;
    assert_eq!(
        owner.patch(&url, 0, file[..1000].to_vec()).await.status(),
        204
    );

    // Each with an upload of their own, so the lookup gets as far as the uploads.
    let other = Session::sign_in(&app, HN, "khac@example.vn").await;
    other.create(file.len()).await;
    let elsewhere = Session::sign_in(&app, "hue.localhost", "chu@example.vn").await;
    elsewhere.create(file.len()).await;
    for s in [&other, &elsewhere] {
        assert_eq!(s.offset(&url).await, Err(404));
        assert_eq!(
            s.patch(&url, 1000, file[1000..].to_vec()).await.status(),
            404
        );
        let res = s
            .request(reqwest::Method::DELETE, &url)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404);
    }
    // The owner's upload under another procedure's path is not found either.
    let id = url.rsplit('/').next().unwrap();
    let wrong_path = format!("/procedures/GPLX-003/apply/uploads/{id}");
    let res = owner
        .create_at(
            "/procedures/GPLX-003/apply/uploads",
            "licence_scan",
            "a.jpg",
            10,
        )
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(owner.offset(&wrong_path).await, Err(404));
    // Signed out: 401, not a sign-in page.
    let res = app
        .client
        .head(app.url(&url))
        .header("Host", HN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    // Nothing of it moved.
    assert_eq!(owner.offset(&url).await, Ok(1000));
    assert!(draft_files(&app, "licence_scan").is_empty());
}

#[tokio::test]
async fn an_offset_that_is_not_the_servers_is_refused_with_409_and_nothing_is_kept() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Hà Nội").await;
    let me = Session::sign_in(&app, HN, "lech@example.vn").await;
    let file = scan();
    let url = me.create(file.len()).await;
    let res = me.patch(&url, 5, file[5..].to_vec()).await;
    assert_eq!(res.status(), 409);
    assert_eq!(error_code(res).await, "offset_mismatch");
    assert_eq!(me.offset(&url).await, Ok(0));
    assert_eq!(me.patch(&url, 0, file[..300].to_vec()).await.status(), 204);
    // Behind the server (a piece sent twice) is as wrong as ahead of it.
    let res = me.patch(&url, 0, file.to_vec()).await;
    assert_eq!(res.status(), 409);
    assert_eq!(me.offset(&url).await, Ok(300));
    assert!(draft_files(&app, "licence_scan").is_empty());
    // Without the form token nothing is read.
    let res = app
        .client
        .patch(app.url(&url))
        .header("Host", HN)
        .header("Cookie", &me.cookies)
        .header("Upload-Offset", "300")
        .header("Content-Type", "application/offset+octet-stream")
        .body(file[300..].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(me.offset(&url).await, Ok(300));
}

#[tokio::test]
async fn bytes_past_the_declared_length_are_refused_with_413() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Hà Nội").await;
    let me = Session::sign_in(&app, HN, "dai@example.vn").await;
    let file = scan();
    let url = me.create(file.len()).await;
    let mut longer = file.clone();
    longer.extend_from_slice(b"more");
    // Announced (Content-Length) and streamed without a length: both refused.
    let res = me.patch(&url, 0, longer.clone()).await;
    assert_eq!(res.status(), 413);
    assert_eq!(me.patch_chunked(&url, 0, &longer).await, 413);
    let offset = me.offset(&url).await.unwrap();
    assert!(offset < file.len() as u64, "{offset}");
    assert!(draft_files(&app, "licence_scan").is_empty());
    // A length over the document's limit is refused when the upload is opened.
    let res = me
        .create_at(UPLOADS, "licence_scan", "to.jpg", 5 * 1024 * 1024 + 1)
        .await;
    assert_eq!(res.status(), 413);
}

#[tokio::test]
async fn a_citizen_may_have_only_so_many_unfinished_uploads() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Hà Nội").await;
    let me = Session::sign_in(&app, HN, "nhieu@example.vn").await;
    let opened = [
        ("GPLX-001", "licence_scan"),
        ("GPLX-001", "portrait_photo"),
        ("GPLX-003", "licence_scan"),
        ("GPLX-003", "portrait_photo"),
    ];
    for (code, field) in opened {
        let uploads = format!("/procedures/{code}/apply/uploads");
        let res = me.create_at(&uploads, field, "a.jpg", 1000).await;
        assert_eq!(res.status(), 201, "{code} {field}");
    }
    // Starting one of them again replaces it: still four.
    let res = me.create_at(UPLOADS, "licence_scan", "b.jpg", 1000).await;
    assert_eq!(res.status(), 201);
    let res = me
        .create_at(
            "/procedures/GPLX-004/apply/uploads",
            "portrait_photo",
            "c.jpg",
            1000,
        )
        .await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(error_code(res).await, "too_many_uploads");
    assert_eq!(count(&app, "SELECT count(*) AS n FROM t_ha_noi.uploads"), 4);

    // Expired ones do not count, and the sweep removes them.
    let mut conn = app.raw_connection();
    use diesel::RunQueryDsl;
    diesel::sql_query("UPDATE t_ha_noi.uploads SET expires_at = now() - interval '1 minute'")
        .execute(&mut conn)
        .unwrap();
    let swept =
        portal::app::resumable::sweep(app.database(), &app.state.registry, chrono::Utc::now())
            .unwrap();
    assert_eq!(swept, 4);
    let res = me
        .create_at(
            "/procedures/GPLX-004/apply/uploads",
            "portrait_photo",
            "c.jpg",
            1000,
        )
        .await;
    assert_eq!(res.status(), 201);
}

/// Many starts at once (a script, or a phone retrying) must not slip past the cap: each
/// start counts the citizen's unfinished uploads and inserts one, so two counting at the same
/// time both saw room. Starts of one citizen are now taken one at a time in the province.
#[tokio::test]
async fn starts_sent_all_at_once_do_not_pass_the_cap() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Hà Nội").await;
    let me = Session::sign_in(&app, HN, "cung-luc@example.vn").await;
    let targets: Vec<(String, &str)> = [
        ("GPLX-001", "licence_scan"),
        ("GPLX-001", "portrait_photo"),
        ("GPLX-003", "licence_scan"),
        ("GPLX-003", "portrait_photo"),
        ("GPLX-004", "health_certificate"),
        ("GPLX-004", "portrait_photo"),
    ]
    .map(|(code, field)| (format!("/procedures/{code}/apply/uploads"), field))
    .into();
    // Every target on its own is accepted (so a 422 cannot pass for the cap). A race shows
    // only when requests overlap: three bursts, the uploads cleared between them.
    for burst in 0..3 {
        let mut statuses: Vec<u16> = futures_util::future::join_all(
            targets
                .iter()
                .map(|(uploads, field)| me.create_at(uploads, field, "a.jpg", 1000)),
        )
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
        statuses.sort_unstable();
        let open = count(
            &app,
            "SELECT count(*) AS n FROM t_ha_noi.uploads WHERE received < length",
        );
        assert_eq!(
            (statuses, open),
            (vec![201, 201, 201, 201, 429, 429], 4),
            "burst {burst}: six starts at once, four allowed"
        );
        count(
            &app,
            "WITH gone AS (DELETE FROM t_ha_noi.uploads RETURNING 1) SELECT count(*) AS n FROM gone",
        );
    }
}
