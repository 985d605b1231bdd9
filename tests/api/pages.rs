//! The citizen's HTML pages: the whole journey without JavaScript, CSRF, escaping, tracking,
//! return URLs and language. Cookies are kept by hand, as a browser would.

use diesel::prelude::*;
use diesel::sql_query;
use portal::tenancy::{Tenant, branding};
use reqwest::multipart::Form;

use crate::browser::{Browser, Page, file_part};
use crate::helpers::{CITIZEN_ID, CITIZEN_PASSWORD, TestApp};

// Complete files: uploads that are cut short or blank are refused (src/uploads/).
const PDF: &[u8] = crate::fixtures::PDF;
const PNG: &[u8] = crate::fixtures::PNG;

fn tracking_code_in(body: &str) -> String {
    body.split("class=\"tracking-code\">")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .expect("tracking code on the confirmation")
        .to_string()
}

/// Register, sign in, apply (with an error on the way), upload, check, submit, follow, withdraw.
async fn apply_for_licence_renewal(app: &TestApp, host: &str, register: bool) {
    let mut b = Browser::new(app, host);
    let email = "trang@example.vn";

    // Starting needs an account: the start link asks the national site for its session
    // first (one sign-in for every site), then this site's sign-in, with the way back.
    let start = b.get("/procedures/GPLX-001/apply").await;
    assert_eq!(start.status, 303);
    assert_eq!(
        start.location,
        "/auth/national?next=/procedures/GPLX-001/apply"
    );
    if register {
        let form = b.get("/register?next=/procedures/GPLX-001/apply").await;
        let csrf = b.csrf(&form);
        let done = b
            .post(
                "/register",
                &[
                    ("csrf", &csrf),
                    ("full_name", "Lê Thu Trang"),
                    ("email", email),
                    ("password", CITIZEN_PASSWORD),
                    ("next", "/procedures/GPLX-001/apply"),
                ],
            )
            .await;
        assert_eq!(done.status, 303, "{}", done.body);
        // Registration signs in; sign out to sign in again through the form.
        let home = b.get("/").await;
        assert!(home.body.contains("Lê Thu Trang"));
        let csrf = b.csrf(&home);
        let out = b.post("/sign-out", &[("csrf", &csrf)]).await;
        assert_eq!(out.status, 303);
        assert!(!b.cookies.contains_key("session"));
    }
    let signed_in = b.sign_in(email, "/procedures/GPLX-001/apply").await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    assert_eq!(signed_in.location, "/procedures/GPLX-001/apply");
    let session_header = signed_in
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("session="))
        .unwrap();
    assert!(session_header.contains("HttpOnly") && session_header.contains("SameSite=Lax"));

    // The procedure's page: documents, fee with thousands separators, level, start.
    let procedure = b.get("/procedures/GPLX-001").await;
    assert_eq!(procedure.status, 200);
    assert!(procedure.body.contains("135.000 đ"), "fee shown");
    assert!(procedure.body.contains("Mức độ 3"));
    assert!(
        procedure
            .body
            .contains("href=\"/procedures/GPLX-001/apply\"")
    );

    let start = b.get("/procedures/GPLX-001/apply").await;
    assert_eq!(start.location, "/procedures/GPLX-001/apply/1");

    // Page 1: a bad citizen ID comes back with the summary, the inline error and the name kept.
    let step1 = b.get("/procedures/GPLX-001/apply/1").await;
    assert_eq!(step1.status, 200);
    assert!(step1.body.contains("inputmode=\"numeric\""));
    let csrf = b.csrf(&step1);
    let bad = b
        .post(
            "/procedures/GPLX-001/apply/1",
            &[
                ("csrf", &csrf),
                ("full_name", "Lê Thu Trang"),
                ("id_number", "12345"),
                ("licence_number", "790123456789"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.body
            .contains("<div class=\"error-summary\" role=\"alert\"")
    );
    assert!(bad.body.contains("href=\"#id_number\""));
    assert!(bad.body.contains("id=\"id_number-error\""));
    assert!(bad.body.contains("aria-describedby=\"id_number-error\""));
    assert!(bad.body.contains("value=\"Lê Thu Trang\""));
    assert!(bad.body.contains("value=\"790123456789\""));
    let ok = b
        .post(
            "/procedures/GPLX-001/apply/1",
            &[
                ("csrf", &csrf),
                ("full_name", "Lê Thu Trang"),
                ("id_number", CITIZEN_ID),
                ("licence_number", "790123456789"),
            ],
        )
        .await;
    assert_eq!(ok.status, 303);
    assert_eq!(ok.location, "/procedures/GPLX-001/apply/2");

    // Page 2: the back link keeps page 1's answers.
    let step2 = b.get("/procedures/GPLX-001/apply/2").await;
    assert!(step2.body.contains("href=\"/procedures/GPLX-001/apply/1\""));
    assert!(step2.body.contains("type=\"date\""));
    let back = b.get("/procedures/GPLX-001/apply/1").await;
    assert!(back.body.contains(&format!("value=\"{CITIZEN_ID}\"")));
    let next = b
        .post(
            "/procedures/GPLX-001/apply/2",
            &[
                ("csrf", &csrf),
                ("licence_class", "B2"),
                ("expiry_date", "2026-12-31"),
                ("delivery_address", "12 Phố Huế, Hà Nội"),
            ],
        )
        .await;
    assert_eq!(next.location, "/procedures/GPLX-001/apply/3");
    let step3 = b.get("/procedures/GPLX-001/apply/3").await;
    assert!(step3.body.contains("type=\"tel\"") && step3.body.contains("autocomplete=\"tel\""));
    let next = b
        .post(
            "/procedures/GPLX-001/apply/3",
            &[("csrf", &csrf), ("phone", "0912 345 678")],
        )
        .await;
    assert_eq!(next.location, "/procedures/GPLX-001/apply/documents");

    // Documents: a PDF where only photos go is explained; then a PDF and a PNG are taken.
    let docs = b.get("/procedures/GPLX-001/apply/documents").await;
    assert!(docs.body.contains("enctype=\"multipart/form-data\""));
    let wrong = b
        .post_multipart(
            "/procedures/GPLX-001/apply/documents",
            Form::new()
                .text("csrf", csrf.clone())
                .part("portrait_photo", file_part("anh.pdf", PDF)),
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.body.contains("href=\"#portrait_photo\""));
    let uploaded = b
        .post_multipart(
            "/procedures/GPLX-001/apply/documents",
            Form::new()
                .text("csrf", csrf.clone())
                .part("portrait_photo", file_part("anh-3x4.png", PNG))
                .part("licence_scan", file_part("giay-phep.pdf", PDF)),
        )
        .await;
    assert_eq!(uploaded.status, 303, "{}", uploaded.body);
    assert_eq!(uploaded.location, "/procedures/GPLX-001/apply/check");

    // Check your answers: labels, readable values, change links; then submit.
    let check = b.get("/procedures/GPLX-001/apply/check").await;
    assert_eq!(check.status, 200);
    assert!(check.body.contains("31/12/2026"));
    assert!(check.body.contains("giay-phep.pdf"));
    assert!(
        check
            .body
            .contains("href=\"/procedures/GPLX-001/apply/2?change=1#licence_class\"")
    );
    let submitted = b
        .post("/procedures/GPLX-001/apply/check", &[("csrf", &csrf)])
        .await;
    assert_eq!(submitted.status, 303, "{}", submitted.body);
    assert!(submitted.location.ends_with("/confirmation"));

    let confirmation = b.get(&submitted.location).await;
    assert_eq!(confirmation.status, 200);
    assert!(confirmation.body.contains("class=\"panel\""));
    let code = tracking_code_in(&confirmation.body);
    assert!(code.len() > 10, "{code}");

    // My dossiers lists it; its page has the timeline, the files and the withdraw button.
    let mine = b.get("/dossiers").await;
    assert!(mine.body.contains(&code));
    let detail = b.get(&format!("/dossiers/{code}")).await;
    assert_eq!(detail.status, 200);
    assert!(detail.body.contains("class=\"timeline\""));
    assert!(detail.body.contains("Đã nộp"));
    // The withdraw button leads to its confirmation page (issue 19.6).
    assert!(
        detail
            .body
            .contains(&format!("href=\"/dossiers/{code}/withdraw\""))
    );
    let file_href = detail
        .body
        .split(&format!("href=\"/dossiers/{code}/files/"))
        .nth(1)
        .and_then(|r| r.split('"').next())
        .map(|id| format!("/dossiers/{code}/files/{id}"))
        .expect("a download link");
    let file = b.get(&file_href).await;
    assert_eq!(file.status, 200);
    assert_eq!(file.headers["x-content-type-options"], "nosniff");
    assert!(
        file.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let mut stranger = Browser::new(app, host);
    assert_eq!(stranger.get(&file_href).await.status, 303, "sign-in first");

    let withdrawn = b
        .post(&format!("/dossiers/{code}/withdraw"), &[("csrf", &csrf)])
        .await;
    assert_eq!(withdrawn.status, 303);
    let detail = b.get(&format!("/dossiers/{code}")).await;
    assert!(detail.body.contains("Đã rút hồ sơ"));
    assert!(!detail.body.contains("/withdraw\""), "no second withdraw");
    let home = b.get("/").await;
    assert!(home.body.contains("Giao thông – vận tải") && home.body.contains("GPLX-001"));
    for page in [&home, &procedure, &step1, &check, &confirmation, &detail] {
        assert!(page.body.len() < 60 * 1024, "pages stay under 60 KB");
        assert!(!page.body.contains("style=") && !page.body.contains("<script"));
    }
}

#[tokio::test]
async fn a_citizen_applies_follows_and_withdraws_through_the_pages_in_two_provinces() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    app.create_tenant("quang-ninh", "Tỉnh Quảng Ninh").await;
    apply_for_licence_renewal(&app, "ha-noi.localhost", true).await;
    // The same national account, signed in afresh on the other province's site.
    apply_for_licence_renewal(&app, "quang-ninh.localhost", false).await;
}

fn count(app: &TestApp, sql: &str) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    sql_query(sql)
        .get_result::<N>(&mut app.raw_connection())
        .unwrap()
        .n
}

#[tokio::test]
async fn a_post_without_the_right_csrf_token_is_refused_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let hn = app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let mut b = Browser::new(&app, "ha-noi.localhost");
    let page = b.get("/register").await;
    let good = b.csrf(&page);
    let register = |csrf: &'static str| {
        vec![
            ("csrf", csrf),
            ("full_name", "Kẻ Giả Mạo"),
            ("email", "forged@example.vn"),
            ("password", CITIZEN_PASSWORD),
        ]
    };
    // No token, a wrong token, and the right token without its cookie.
    let res = b.post("/register", &register("")[1..]).await;
    assert_eq!(res.status, 403);
    let res = b.post("/register", &register("0000")).await;
    assert_eq!(res.status, 403);
    let mut cookieless = Browser::new(&app, "ha-noi.localhost");
    let forged: Vec<(&str, &str)> = register("")
        .into_iter()
        .map(|(k, v)| {
            if k == "csrf" {
                (k, good.as_str())
            } else {
                (k, v)
            }
        })
        .collect();
    assert_eq!(cookieless.post("/register", &forged).await.status, 403);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM identity.citizens WHERE email = 'forged@example.vn'"
        ),
        0
    );

    // Signed in, a forged answer page writes no draft, a forged withdraw moves nothing.
    app.citizen_token("ha-noi.localhost", "an@example.vn").await;
    assert_eq!(b.sign_in("an@example.vn", "/").await.status, 303);
    let res = b
        .post(
            "/procedures/GPLX-001/apply/1",
            &[
                ("csrf", "wrong"),
                ("full_name", "An"),
                ("id_number", CITIZEN_ID),
            ],
        )
        .await;
    assert_eq!(res.status, 403);
    assert!(res.body.contains("403"));
    let drafts = format!("SELECT count(*) AS n FROM \"{}\".drafts", hn.schema);
    assert_eq!(count(&app, &drafts), 0);
    let res = b.post("/sign-out", &[]).await;
    assert_eq!(res.status, 403);
    assert!(b.cookies.contains_key("session"), "still signed in");
}

/// `<script>alert(1)</script>` as escaped HTML: askama writes `<` as `&#60;`, others as
/// `&lt;`; either is safe, and the raw tag must never appear.
fn shows_escaped(body: &str) -> bool {
    let escaped = body.contains("&#60;script&#62;alert(1)&#60;/script&#62;")
        || body.contains("&lt;script&gt;alert(1)&lt;/script&gt;");
    escaped && !body.contains("<script")
}

async fn set_banner(app: &TestApp, tenant: &Tenant, banner: &str) {
    let tdb = app.database().tenant(tenant.db_ref());
    let banner = banner.to_string();
    tokio::task::spawn_blocking(move || {
        tdb.tx(|conn| {
            let mut b = branding::load(conn)?;
            b.banner = banner;
            branding::save(conn, &b)
        })
        .unwrap()
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn markup_in_answers_and_in_the_banner_is_shown_escaped() {
    let app = TestApp::spawn().await;
    let hn = app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    set_banner(&app, &hn, "<script>alert(1)</script>").await;
    let mut b = Browser::new(&app, "ha-noi.localhost");
    let home = b.get("/").await;
    assert!(shows_escaped(&home.body), "banner");

    app.citizen_token("ha-noi.localhost", "xss@example.vn")
        .await;
    b.sign_in("xss@example.vn", "/").await;
    let step = b.get("/procedures/GPLX-001/apply/1").await;
    let csrf = b.csrf(&step);
    let evil = "<script>alert(1)</script>";
    // Refused for its ID, the page shows the name back, escaped.
    let res = b
        .post(
            "/procedures/GPLX-001/apply/1",
            &[
                ("csrf", &csrf),
                ("full_name", evil),
                ("id_number", "x"),
                ("licence_number", evil),
            ],
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(shows_escaped(&res.body), "answer shown back");
    // Accepted and stored, it is escaped on the check page too.
    b.post(
        "/procedures/GPLX-001/apply/1",
        &[
            ("csrf", &csrf),
            ("full_name", evil),
            ("id_number", CITIZEN_ID),
            ("licence_number", "12"),
        ],
    )
    .await;
    let check = b.get("/procedures/GPLX-001/apply/check").await;
    assert!(shows_escaped(&check.body), "answer stored");
}

#[tokio::test]
async fn tracking_shows_the_status_only_for_the_right_citizen_id() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let token = app
        .citizen_token("ha-noi.localhost", "track@example.vn")
        .await;
    let code = app.submit_licence_renewal("ha-noi.localhost", &token).await;
    let mut b = Browser::new(&app, "ha-noi.localhost");

    let form = b.get("/tracking").await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("autocomplete=\"off\""));
    let found = b
        .get(&format!(
            "/tracking?code={}&id_number={CITIZEN_ID}",
            code.to_lowercase()
        ))
        .await;
    assert_eq!(found.status, 200);
    assert!(found.body.contains("Đã nộp"));
    assert!(found.body.contains(&code));
    assert!(
        !found.body.contains("Nguyễn Thị Minh Khai"),
        "no personal data"
    );

    let wrong = b
        .get(&format!("/tracking?code={code}&id_number=001090099999"))
        .await;
    assert_eq!(wrong.status, 404);
    assert!(wrong.body.contains("Không tìm thấy hồ sơ"));
    for private in ["Nguyễn Thị Minh Khai", CITIZEN_ID, "001090099999", "Đã nộp"] {
        assert!(!wrong.body.contains(private), "404 shows {private}");
    }
    let malformed = b.get(&format!("/tracking?code={code}&id_number=12")).await;
    assert_eq!(malformed.status, 422);
    assert!(malformed.body.contains("href=\"#id_number\""));
}

#[tokio::test]
async fn a_foreign_return_address_is_ignored_after_sign_in() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    app.citizen_token("ha-noi.localhost", "next@example.vn")
        .await;
    for next in [
        "https://evil.example",
        "//evil.example",
        "/\\evil.example",
        "https%3A%2F%2Fevil.example",
    ] {
        let mut b = Browser::new(&app, "ha-noi.localhost");
        let res = b.sign_in("next@example.vn", next).await;
        assert_eq!(res.status, 303);
        assert_eq!(res.location, "/", "next={next}");
    }
    let mut b = Browser::new(&app, "ha-noi.localhost");
    let res = b.sign_in("next@example.vn", "/dossiers").await;
    assert_eq!(res.location, "/dossiers");
}

async fn wrong_password(b: &mut Browser<'_>, csrf: &str, email: &str) -> Page {
    let form = [
        ("csrf", csrf),
        ("email", email),
        ("password", "sai-mat-khau-123"),
    ];
    b.post("/sign-in", &form).await
}

#[tokio::test]
async fn sign_in_errors_are_shown_on_the_page_without_telling_who_has_an_account() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    app.citizen_token("ha-noi.localhost", "real@example.vn")
        .await;
    let mut b = Browser::new(&app, "ha-noi.localhost");
    let page = b.get("/sign-in").await;
    let csrf = b.csrf(&page);
    let known = wrong_password(&mut b, &csrf, "real@example.vn").await;
    let unknown = wrong_password(&mut b, &csrf, "nobody@example.vn").await;
    assert_eq!((known.status, unknown.status), (401, 401));
    let message = |p: &Page| {
        let after = p.body.split("error-summary-list").nth(1).unwrap();
        after.split("</ul>").next().unwrap().to_string()
    };
    assert_eq!(message(&known), message(&unknown), "same words either way");
    assert!(known.body.contains("href=\"#email\""));
    for _ in 0..4 {
        wrong_password(&mut b, &csrf, "real@example.vn").await;
    }
    let locked = wrong_password(&mut b, &csrf, "real@example.vn").await;
    assert_eq!(locked.status, 429);
    assert!(locked.headers.contains_key("retry-after"));
    assert!(locked.body.contains("class=\"error-summary\""));
}

#[tokio::test]
async fn pages_switch_to_english_and_remember_it() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let mut b = Browser::new(&app, "ha-noi.localhost");
    let home = b.get("/?lang=en").await;
    assert!(home.body.contains("<html lang=\"en\">"));
    assert!(home.body.contains("Renew a driving licence"));
    assert_eq!(b.cookies.get("lang").map(String::as_str), Some("en"));
    // The cookie keeps the choice on the next page, without the query.
    let procedure = b.get("/procedures/GPLX-001").await;
    assert!(procedure.body.contains("What you need"));
    assert!(procedure.body.contains("Level 3"));
    let search = b.get("/?q=driving").await;
    assert!(search.body.contains("GPLX-001"));
    assert!(
        !search.body.contains("Transport"),
        "a search lists hits, not groups"
    );
    let back = b.get("/?lang=vi").await;
    assert!(back.body.contains("<html lang=\"vi\">"));
}

#[tokio::test]
async fn an_oversize_upload_is_explained_with_413() {
    let db = crate::helpers::TestDb::create();
    let mut settings = crate::helpers::test_settings(&db.url);
    settings.storage.max_upload_bytes = 16 * 1024;
    let app = TestApp::spawn_with(db, settings).await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    app.citizen_token("ha-noi.localhost", "big@example.vn")
        .await;
    let mut b = Browser::new(&app, "ha-noi.localhost");
    b.sign_in("big@example.vn", "/").await;
    let docs = b.get("/procedures/GPLX-001/apply/documents").await;
    assert!(docs.body.contains("16 KB"), "the limit is the smaller one");
    let csrf = b.csrf(&docs);
    let mut big = PDF.to_vec();
    big.resize(16 * 1024 + 1, b' ');
    let res = b
        .post_multipart(
            "/procedures/GPLX-001/apply/documents",
            Form::new()
                .text("csrf", csrf)
                .part("licence_scan", file_part("to.pdf", &big)),
        )
        .await;
    assert_eq!(res.status, 413);
    assert!(res.body.contains("href=\"#licence_scan\""));
}

#[tokio::test]
async fn the_national_home_filters_provinces_without_javascript() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    app.create_tenant("quang-ninh", "Tỉnh Quảng Ninh").await;
    let page = app.get("localhost", "/?q=quang+ninh").await;
    assert_eq!(page.status(), 200);
    let body = page.text().await.unwrap();
    assert!(body.contains("Tỉnh Quảng Ninh"));
    assert!(!body.contains("Thành phố Hà Nội"));
    assert!(body.contains("type=\"search\""));
}

/// The anonymous home page is pre-rendered per province and language (`web::home_pages`):
/// an admin's edit of the site (name, a procedure switched off) shows on it at the next
/// request, in both languages; and, having no form, it sets no CSRF cookie.
#[tokio::test]
async fn an_edit_of_the_site_shows_on_the_pre_rendered_home_page() {
    use portal::accounts::staff::StaffRole;
    // The procedure's card (its code is also in the search box's hint).
    const CARD: &str = "href=\"/procedures/GPLX-001\"";
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let admin = app
        .staff_token("ha-noi", "admin@hanoi.gov.vn", StaffRole::Admin)
        .await;
    let home = |lang: &'static str| {
        let app = &app;
        async move {
            let res = app
                .client
                .get(app.url("/"))
                .header("Host", "ha-noi.localhost")
                .header("Cookie", format!("lang={lang}"))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            let cookies: Vec<String> = res
                .headers()
                .get_all("set-cookie")
                .iter()
                .map(|v| v.to_str().unwrap().to_string())
                .collect();
            assert!(
                !cookies.iter().any(|c| c.starts_with("csrf=")),
                "no form, no CSRF cookie: {cookies:?}"
            );
            res.text().await.unwrap()
        }
    };
    // Twice each: the second is the stored page.
    for lang in ["vi", "en", "vi", "en"] {
        let page = home(lang).await;
        assert!(page.contains("Thành phố Hà Nội"), "{lang}");
        assert!(page.contains(CARD), "{lang}");
    }

    let put = |path: &'static str, body: serde_json::Value| {
        let (app, admin) = (&app, &admin);
        async move {
            app.client
                .put(app.url(path))
                .header("Host", "ha-noi.localhost")
                .bearer_auth(admin)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let renamed = serde_json::json!({"display_name": "Thủ đô Hà Nội", "accent_color": "#1d4ed8",
        "hotline": "", "address": "", "banner": ""});
    assert_eq!(put("/api/v1/manage/branding", renamed).await, 200);
    let off = serde_json::json!({"enabled": false});
    assert_eq!(put("/api/v1/manage/procedures/GPLX-001", off).await, 200);
    for lang in ["vi", "en"] {
        let page = home(lang).await;
        assert!(page.contains("Thủ đô Hà Nội"), "{lang}: the new name");
        assert!(!page.contains(CARD), "{lang}: the procedure switched off");
    }
}
