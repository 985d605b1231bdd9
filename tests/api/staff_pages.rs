//! The staff's and the province admin's HTML pages, the invitation page, and the citizen's
//! replies on a dossier page: every move through a form with CSRF, cookies kept by hand.

use diesel::prelude::*;
use diesel::sql_query;
use portal::accounts::staff::StaffRole;
use portal::clock::today_vn;
use reqwest::multipart::Form;

use crate::browser::{Browser, Page, file_part};
use crate::helpers::{CITIZEN_ID, CITIZEN_PASSWORD, STAFF_PASSWORD, TestApp};

const HOST: &str = "ha-noi.localhost";
const PNG: &[u8] = crate::fixtures::PNG;
const JPEG: &[u8] = b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01";
const PDF: &[u8] = crate::fixtures::PDF;

/// A signed-in official (or admin) of Hà Nội, through the sign-in page.
async fn staff_browser<'a>(app: &'a TestApp, email: &str, role: StaffRole) -> Browser<'a> {
    app.staff_token("ha-noi", email, role).await;
    let mut b = Browser::new(app, HOST);
    let res = b.sign_in_as(email, STAFF_PASSWORD, "/manage").await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(res.location, "/manage");
    b
}

/// The supplement form as the browser sends it: every answer pre-filled, with changes.
fn supplement_form(page: &Page, csrf: &str, phone: &str) -> Form {
    let mut form = Form::new().text("csrf", csrf.to_string());
    for name in ["licence_number", "expiry_date", "delivery_address"] {
        form = form.text(name, page.input(name));
    }
    form.text("licence_class", "B2")
        .text("phone", phone.to_string())
}

#[tokio::test]
async fn an_official_and_a_citizen_take_a_dossier_from_queue_to_rating_through_the_pages() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let token = app.citizen_token(HOST, "dan@example.vn").await;
    let code = app.submit_complete_licence_renewal(HOST, &token).await;

    // Not signed in: the queue sends to sign-in and back.
    let mut official = Browser::new(&app, HOST);
    let res = official.get("/manage").await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location, "/sign-in?next=/manage");
    let mut official = staff_browser(&app, "canbo@hanoi.gov.vn", StaffRole::Official).await;
    // The session cookie carries the staff role, for this site only.
    let me: serde_json::Value = app
        .get_with_token(HOST, "/api/v1/me", &official.cookies["session"])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "official");

    // The queue: tabs with counts, the dossier, search by citizen ID.
    let queue = official.get("/manage").await;
    assert_eq!(queue.status, 200);
    queue.assert_lean();
    assert!(
        queue
            .body
            .contains(&format!("href=\"/manage/dossiers/{code}\""))
    );
    assert!(
        queue
            .body
            .contains("Đang xử lý <span class=\"tab-count\">(1)</span>")
    );
    assert!(
        queue
            .body
            .contains("<option value=\"submitted\">Đã nộp</option>")
    );
    let found = official.get(&format!("/manage?q={CITIZEN_ID}")).await;
    assert!(found.body.contains(&code));
    let none = official.get("/manage?q=001090099999").await;
    assert!(!none.body.contains(&format!("/manage/dossiers/{code}")));
    let filtered = official.get("/manage?status=processing").await;
    assert!(!filtered.body.contains(&format!("/manage/dossiers/{code}")));

    // The dossier: answers and the moves its status allows.
    let page = official.get(&format!("/manage/dossiers/{code}")).await;
    assert_eq!(page.status, 200);
    page.assert_lean();
    assert!(page.body.contains("Nguyễn Thị Minh Khai") && page.body.contains("790123456789"));
    assert!(page.body.contains("name=\"action\" value=\"accept\""));
    assert!(page.body.contains("name=\"action\" value=\"refuse\""));
    assert!(!page.body.contains("name=\"action\" value=\"resolve\""));

    // A refusal without its reasons (no row, no note): the error summary pointing at the
    // first row, 422, nothing moved.
    let refused = official.act(&code, &[("action", "refuse")]).await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("class=\"error-summary\""));
    assert!(refused.body.contains("href=\"#refuse-item-0\""));
    // A move the status does not allow: 409, explained.
    let early = official.act(&code, &[("action", "resolve")]).await;
    assert_eq!(early.status, 409);
    assert!(early.body.contains("href=\"#actions\""));

    let accepted = official.act(&code, &[("action", "accept")]).await;
    assert_eq!(accepted.status, 303, "{}", accepted.body);
    assert_eq!(
        accepted.location,
        format!("/manage/dossiers/{code}?done=accept")
    );
    let page = official.get(&accepted.location).await;
    assert!(page.body.contains("Đã tiếp nhận") && page.body.contains("role=\"status\""));
    // The overdue watch's marks read as words, not colour only; in English on request.
    for (flag, words) in [("due_soon", "Sắp đến hạn"), ("overdue", "Quá hạn")] {
        sql_query(format!(
            "UPDATE t_ha_noi.dossiers SET due_flag = '{flag}' WHERE tracking_code = '{code}'"
        ))
        .execute(&mut app.raw_connection())
        .unwrap();
        let queue = official.get("/manage").await;
        assert!(
            queue
                .body
                .contains(&format!("flag-{}", flag.replace('_', "-")))
        );
        assert!(queue.body.contains(words), "{words}");
    }
    let english = official.get("/manage?lang=en").await;
    assert!(english.body.contains("Dossier queue") && english.body.contains("Overdue"));
    official.get("/manage?lang=vi").await;
    let res = official
        .act(
            &code,
            &[
                ("action", "request_supplement"),
                ("note", "Thiếu giấy khám sức khỏe"),
            ],
        )
        .await;
    assert_eq!(res.status, 303);

    // The citizen sees the officer's note and the form with the answers, and supplements.
    let mut citizen = Browser::new(&app, HOST);
    let res = citizen
        .sign_in_as("dan@example.vn", CITIZEN_PASSWORD, "/dossiers")
        .await;
    assert_eq!(res.location, "/dossiers");
    let detail = citizen.get(&format!("/dossiers/{code}")).await;
    assert_eq!(detail.status, 200);
    detail.assert_lean();
    assert!(detail.body.contains("Thiếu giấy khám sức khỏe"));
    assert!(
        detail
            .body
            .contains(&format!("action=\"/dossiers/{code}/supplement?csrf="))
    );
    assert!(detail.body.contains("value=\"0912345678\""), "pre-filled");
    let csrf = citizen.csrf(&detail);
    let wrong = citizen
        .post_multipart(
            &format!("/dossiers/{code}/supplement"),
            supplement_form(&detail, &csrf, "0987654321")
                .part("portrait_photo", file_part("anh.pdf", PDF)),
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.body.contains("href=\"#portrait_photo\""));
    let bad = citizen
        .post_multipart(
            &format!("/dossiers/{code}/supplement"),
            supplement_form(&detail, &csrf, "goi toi"),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("href=\"#phone\"") && bad.body.contains("value=\"goi toi\""));
    let done = citizen
        .post_multipart(
            &format!("/dossiers/{code}/supplement"),
            supplement_form(&detail, &csrf, "0987654321")
                .part("portrait_photo", file_part("anh-moi.png", PNG)),
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let detail = citizen.get(&format!("/dossiers/{code}")).await;
    assert!(detail.body.contains("Đang xử lý"));
    assert!(
        !detail.body.contains("/supplement\""),
        "no second supplement"
    );

    // Staff see the new file and may download it.
    let page = official.get(&format!("/manage/dossiers/{code}")).await;
    assert!(page.body.contains("0987654321"));
    let href = page
        .body
        .split(&format!("href=\"/manage/dossiers/{code}/files/"))
        .nth(1)
        .and_then(|r| r.split('"').next())
        .map(|id| format!("/manage/dossiers/{code}/files/{id}"))
        .expect("a download link");
    let file = official.get(&href).await;
    assert_eq!(file.status, 200);
    assert_eq!(file.headers["x-content-type-options"], "nosniff");
    assert_eq!(file.headers["content-type"], "image/png");

    // Extend: an earlier date is refused beside its field; a later one writes the apology.
    let too_early = official
        .act(
            &code,
            &[
                ("action", "extend"),
                ("note", "Chờ xác minh"),
                ("due_on", &today_vn().to_string()),
            ],
        )
        .await;
    assert_eq!(too_early.status, 422);
    assert!(too_early.body.contains("href=\"#extend-due_on\""));
    let later = today_vn() + chrono::Duration::days(30);
    let res = official
        .act(
            &code,
            &[
                ("action", "extend"),
                ("note", "Chờ xác minh của cơ quan khác"),
                ("due_on", &later.to_string()),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let shown_date = later.format("%d/%m/%Y").to_string();
    let letter = official
        .get(&format!("/manage/dossiers/{code}/apology"))
        .await;
    assert_eq!(letter.status, 200);
    letter.assert_lean();
    for text in [
        "Thư xin lỗi",
        "Thành phố Hà Nội",
        "Chờ xác minh của cơ quan khác",
        shown_date.as_str(),
        code.as_str(),
    ] {
        assert!(letter.body.contains(text), "letter shows {text}");
    }
    let detail = citizen.get(&format!("/dossiers/{code}")).await;
    assert!(
        detail
            .body
            .contains(&format!("href=\"/dossiers/{code}/apology\""))
    );
    let own = citizen.get(&format!("/dossiers/{code}/apology")).await;
    assert_eq!(own.status, 200);
    assert!(own.body.contains(&shown_date) && own.body.contains("class=\"letter\""));
    let mut stranger = Browser::new(&app, HOST);
    app.citizen_token(HOST, "la@example.vn").await;
    stranger
        .sign_in_as("la@example.vn", CITIZEN_PASSWORD, "/")
        .await;
    assert_eq!(
        stranger
            .get(&format!("/dossiers/{code}/apology"))
            .await
            .status,
        404
    );

    // Payment: the fee on the citizen's page, paid with the button.
    let res = official
        .act(
            &code,
            &[("action", "request_payment"), ("fee_vnd", "135.000")],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let detail = citizen.get(&format!("/dossiers/{code}")).await;
    assert!(detail.body.contains("135.000 đ"));
    let csrf = citizen.csrf(&detail);
    let paid = citizen
        .post(&format!("/dossiers/{code}/pay"), &[("csrf", &csrf)])
        .await;
    assert_eq!(paid.status, 303, "{}", paid.body);
    let again = citizen
        .post(&format!("/dossiers/{code}/pay"), &[("csrf", &csrf)])
        .await;
    assert_eq!(again.status, 409, "paying twice");

    // Resolve and return; then the citizen rates, once.
    assert_eq!(
        official.act(&code, &[("action", "resolve")]).await.status,
        303
    );
    // The result first: without one, return_result is refused (409) on the page too.
    assert_eq!(
        official
            .act(&code, &[("action", "return_result")])
            .await
            .status,
        409
    );
    let shown = official.get(&format!("/manage/dossiers/{code}")).await;
    let staff_csrf = official.csrf(&shown);
    let attached = official
        .post_multipart(
            &format!("/manage/dossiers/{code}/result?csrf={staff_csrf}"),
            Form::new()
                .text("decision_number", "88/QĐ-SGTVT")
                .text("pickup", "Bộ phận một cửa"),
        )
        .await;
    assert_eq!(attached.status, 303, "{}", attached.body);
    assert_eq!(
        official
            .act(&code, &[("action", "return_result")])
            .await
            .status,
        303
    );
    let detail = citizen.get(&format!("/dossiers/{code}")).await;
    assert!(
        detail
            .body
            .contains(&format!("action=\"/dossiers/{code}/rating\""))
    );
    assert!(detail.body.contains("Rất hài lòng"));
    let rating = format!("/dossiers/{code}/rating");
    let unrated = citizen.post(&rating, &[("csrf", &csrf)]).await;
    assert_eq!(unrated.status, 422);
    assert!(unrated.body.contains("href=\"#score\""));
    let rated = citizen
        .post(
            &rating,
            &[
                ("csrf", &csrf),
                ("score", "5"),
                ("comment", "Nhanh, chu đáo"),
            ],
        )
        .await;
    assert_eq!(rated.status, 303);
    let detail = citizen.get(&format!("/dossiers/{code}")).await;
    assert!(detail.body.contains("Cảm ơn") && detail.body.contains("5/5"));
    assert!(!detail.body.contains(&format!("action=\"{rating}\"")));
    let twice = citizen
        .post(&rating, &[("csrf", &csrf), ("score", "4")])
        .await;
    assert_eq!(twice.status, 409);

    // A forged move (wrong token) changes nothing.
    let forged = official
        .post(
            &format!("/manage/dossiers/{code}/actions"),
            &[("csrf", "forged"), ("action", "stop"), ("note", "x")],
        )
        .await;
    assert_eq!(forged.status, 403);
}

#[tokio::test]
async fn staff_pages_answer_strangers_citizens_officials_and_the_deactivated_as_they_should() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let mut stranger = Browser::new(&app, HOST);
    for path in ["/manage", "/manage/admin", "/manage/dossiers/new"] {
        let res = stranger.get(path).await;
        assert_eq!(res.status, 303, "{path}");
        assert!(res.location.starts_with("/sign-in?next="), "{path}");
    }

    app.citizen_token(HOST, "dan@example.vn").await;
    let mut citizen = Browser::new(&app, HOST);
    citizen
        .sign_in_as("dan@example.vn", CITIZEN_PASSWORD, "/")
        .await;
    assert_eq!(citizen.get("/manage").await.status, 403);
    assert_eq!(citizen.get("/manage/admin").await.status, 403);

    let mut official = staff_browser(&app, "canbo@hanoi.gov.vn", StaffRole::Official).await;
    for path in [
        "/manage/admin",
        "/manage/admin/staff",
        "/manage/admin/procedures",
    ] {
        assert_eq!(official.get(path).await.status, 403, "{path}");
    }
    let queue = official.get("/manage").await;
    assert_eq!(queue.status, 200);
    assert!(
        !queue.body.contains("href=\"/manage/admin\""),
        "no admin link"
    );

    // The admin deactivates the official: refused on the very next page load.
    let mut admin = staff_browser(&app, "admin@hanoi.gov.vn", StaffRole::Admin).await;
    let team = admin.get("/manage/admin/staff").await;
    assert_eq!(team.status, 200);
    team.assert_lean();
    let row = team
        .body
        .split("<tr>")
        .find(|r| r.contains("canbo@hanoi.gov.vn"))
        .unwrap();
    let action = row
        .split("action=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    assert!(action.ends_with("/deactivate"), "{action}");
    assert!(
        !team
            .body
            .split("<tr>")
            .find(|r| r.contains("admin@hanoi.gov.vn"))
            .unwrap()
            .contains("/deactivate"),
        "no button to lock oneself out"
    );
    let csrf = admin.csrf(&team);
    let res = admin.post(&action, &[("csrf", &csrf)]).await;
    assert_eq!(res.status, 303);
    let res = official.get("/manage").await;
    assert_eq!(res.status, 303);
    assert!(res.location.starts_with("/sign-in"));
    let again = Browser::new(&app, HOST)
        .sign_in_as("canbo@hanoi.gov.vn", STAFF_PASSWORD, "/manage")
        .await;
    assert_eq!(again.status, 401);
}

#[tokio::test]
async fn counter_staff_register_a_dossier_through_the_page() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let mut official = staff_browser(&app, "quay@hanoi.gov.vn", StaffRole::Official).await;
    let choose = official.get("/manage/dossiers/new").await;
    assert_eq!(choose.status, 200);
    assert!(choose.body.contains("value=\"GPLX-001\""));
    let form = official
        .get("/manage/dossiers/new?procedure=GPLX-001")
        .await;
    assert_eq!(form.status, 200);
    form.assert_lean();
    assert!(form.body.contains("name=\"contact_email\""));
    let csrf = official.csrf(&form);
    let answers = |id: &'static str| {
        vec![
            ("procedure_code", "GPLX-001"),
            ("full_name", "Phạm Văn Quầy"),
            ("id_number", id),
            ("licence_number", "790123456789"),
            ("licence_class", "B2"),
            ("expiry_date", "2026-12-31"),
            ("delivery_address", "1 Tràng Tiền, Hà Nội"),
            ("phone", "0912 345 678"),
            ("contact_email", "quay@example.vn"),
        ]
    };
    let mut bad = vec![("csrf", csrf.as_str())];
    bad.extend(answers("12"));
    let res = official.post("/manage/dossiers/new", &bad).await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("href=\"#id_number\""));
    assert!(res.body.contains("value=\"Phạm Văn Quầy\""));
    let mut good = vec![("csrf", csrf.as_str())];
    good.extend(answers("001090054321"));
    let res = official.post("/manage/dossiers/new", &good).await;
    assert_eq!(res.status, 303, "{}", res.body);
    // Filed in one step: the printable receipt.
    assert!(res.location.ends_with("/receipt"), "{}", res.location);
    let receipt = official.get(&res.location).await;
    assert_eq!(receipt.status, 200);
    assert!(receipt.body.contains("Phạm Văn Quầy") && receipt.body.contains("data-print"));
    let page = official.get(&res.location.replace("/receipt", "")).await;
    assert!(page.body.contains("Phạm Văn Quầy") && page.body.contains("Tại quầy"));
    let queue = official.get("/manage?q=001090054321&channel=counter").await;
    assert!(queue.body.contains("Phạm Văn Quầy"));
}

#[tokio::test]
async fn the_admin_changes_the_look_and_the_logo_through_the_forms() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let mut admin = staff_browser(&app, "admin@hanoi.gov.vn", StaffRole::Admin).await;
    let page = admin.get("/manage/admin").await;
    assert_eq!(page.status, 200);
    page.assert_lean();
    assert!(page.body.contains("value=\"#0b5394\""));
    let csrf = admin.csrf(&page);
    let look = |colour: &'static str| {
        vec![
            ("display_name", "Hà Nội Mới"),
            ("accent_color", colour),
            ("hotline", "1022"),
            ("address", "12 Lê Lai"),
            ("banner", "Nghỉ Tết từ 14/02"),
        ]
    };
    let mut bad = vec![("csrf", csrf.as_str())];
    bad.extend(look("#ffff00"));
    let res = admin.post("/manage/admin/branding", &bad).await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("href=\"#accent_color\""));
    assert!(res.body.contains("id=\"accent_color-error\""));
    assert!(
        res.body.contains("value=\"Hà Nội Mới\""),
        "the form keeps what was typed"
    );
    let mut good = vec![("csrf", csrf.as_str())];
    good.extend(look("#005a8c"));
    let res = admin.post("/manage/admin/branding", &good).await;
    assert_eq!(res.status, 303);
    // The next page load shows it, for anyone.
    let home = app.get(HOST, "/").await.text().await.unwrap();
    assert!(home.contains("Hà Nội Mới") && home.contains("Nghỉ Tết từ 14/02"));
    assert!(
        home.contains("href=\"/brand.css?v=005a8c\""),
        "a new colour, a new address"
    );
    let css = app.get(HOST, "/brand.css").await.text().await.unwrap();
    assert!(css.contains("#005a8c"));
    assert_eq!(app.get(HOST, "/logo").await.status(), 404);

    // The logo: a PNG is taken and served; a renamed text file and 201 KB are refused.
    let upload = |name: &str, bytes: &[u8]| {
        Form::new()
            .text("csrf", csrf.clone())
            .part("file", file_part(name, bytes))
    };
    let res = admin
        .post_multipart("/manage/admin/logo", upload("logo.png", PNG))
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let logo = app.get(HOST, "/logo").await;
    assert_eq!(logo.status(), 200);
    assert_eq!(logo.headers()["content-type"], "image/png");
    assert_eq!(logo.headers()["x-content-type-options"], "nosniff");
    assert!(
        logo.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age=")
    );
    assert_eq!(logo.bytes().await.unwrap().as_ref(), PNG);
    let home = app.get(HOST, "/").await.text().await.unwrap();
    assert!(home.contains("<img class=\"logo\" src=\"/logo?v="));
    assert!(home.contains("alt=\"Hà Nội Mới\""));
    let text = admin
        .post_multipart(
            "/manage/admin/logo",
            upload("logo.png", b"just some text, renamed"),
        )
        .await;
    assert_eq!(text.status, 422);
    assert!(text.body.contains("href=\"#logo\""));
    let mut big = PNG.to_vec();
    big.resize(201 * 1024, 0);
    let big = admin
        .post_multipart("/manage/admin/logo", upload("big.png", &big))
        .await;
    assert_eq!(big.status, 413);
    assert!(big.body.contains("href=\"#logo\""));
    assert_eq!(
        app.get(HOST, "/logo").await.bytes().await.unwrap().as_ref(),
        PNG,
        "the refused files changed nothing"
    );

    // The JSON API: admins only; PUT a JPEG, DELETE it.
    let api = |method: reqwest::Method, token: &str| {
        app.client
            .request(method, app.url("/api/v1/manage/logo"))
            .header("Host", HOST)
            .bearer_auth(token)
    };
    let admin_token = app.token(HOST, "admin@hanoi.gov.vn", STAFF_PASSWORD).await;
    let official_token = app
        .staff_token("ha-noi", "canbo@hanoi.gov.vn", StaffRole::Official)
        .await;
    let jpeg = || Form::new().part("file", file_part("logo.jpg", JPEG));
    let res = api(reqwest::Method::PUT, &official_token)
        .multipart(jpeg())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = api(reqwest::Method::PUT, &admin_token)
        .multipart(jpeg())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        app.get(HOST, "/logo").await.headers()["content-type"],
        "image/jpeg"
    );
    let res = api(reqwest::Method::PUT, &admin_token)
        .multipart(Form::new().part("file", file_part("x.jpg", b"GIF89a")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let res = api(reqwest::Method::DELETE, &admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(app.get(HOST, "/logo").await.status(), 404);

    // Procedures on and off, one form each.
    let list = admin.get("/manage/admin/procedures").await;
    assert_eq!(list.status, 200);
    list.assert_lean();
    let res = admin
        .post(
            "/manage/admin/procedures/GPLX-001",
            &[("csrf", &csrf), ("enabled", "false")],
        )
        .await;
    assert_eq!(res.status, 303);
    let offered: serde_json::Value = app
        .get(HOST, "/api/v1/procedures")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        offered
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["code"] != "GPLX-001")
    );
}

#[tokio::test]
async fn an_invitation_sent_from_the_page_sets_a_password_once() {
    let app = TestApp::spawn().await;
    let t = app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let mut admin = staff_browser(&app, "admin@hanoi.gov.vn", StaffRole::Admin).await;
    let team = admin.get("/manage/admin/staff").await;
    let csrf = admin.csrf(&team);
    let invite = |email: &'static str, role: &'static str| {
        vec![
            ("full_name", "Trần Văn Bình"),
            ("email", email),
            ("role", role),
        ]
    };
    let mut bad = vec![("csrf", csrf.as_str())];
    bad.extend(invite("not-an-email", "official"));
    let res = admin.post("/manage/admin/staff", &bad).await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("href=\"#email\""));
    let mut good = vec![("csrf", csrf.as_str())];
    good.extend(invite("binh@hanoi.gov.vn", "official"));
    let res = admin.post("/manage/admin/staff", &good).await;
    assert_eq!(res.status, 303, "{}", res.body);
    let taken = admin.post("/manage/admin/staff", &good).await;
    assert_eq!(taken.status, 409);
    assert!(taken.body.contains("href=\"#email\""));

    #[derive(QueryableByName)]
    struct Body {
        #[diesel(sql_type = diesel::sql_types::Text)]
        body: String,
    }
    let mail: Body = sql_query(format!(
        "SELECT body FROM {}.outbox WHERE kind = 'staff_invitation'",
        t.schema
    ))
    .get_result(&mut app.raw_connection())
    .unwrap();
    let token = mail
        .body
        .split("/invitations/")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let path = format!("/invitations/{token}");

    let mut binh = Browser::new(&app, HOST);
    let page = binh.get(&path).await;
    assert_eq!(page.status, 200);
    page.assert_lean();
    assert!(page.body.contains("Trần Văn Bình") && page.body.contains("binh@hanoi.gov.vn"));
    let csrf = binh.csrf(&page);
    let weak = binh
        .post(&path, &[("csrf", &csrf), ("password", "short")])
        .await;
    assert_eq!(weak.status, 422);
    assert!(weak.body.contains("href=\"#password\""));
    let set = binh
        .post(&path, &[("csrf", &csrf), ("password", "mot-mat-khau-moi")])
        .await;
    assert_eq!(set.status, 303);
    assert_eq!(binh.get(&set.location).await.status, 200);
    let twice = binh
        .post(&path, &[("csrf", &csrf), ("password", "mot-mat-khau-khac")])
        .await;
    assert_eq!(twice.status, 404);
    assert!(twice.body.contains("Đường dẫn không còn hiệu lực"));
    assert_eq!(binh.get(&path).await.status, 404);
    assert_eq!(binh.get("/invitations/0123abcd").await.status, 404);

    let res = binh
        .sign_in_as("binh@hanoi.gov.vn", "mot-mat-khau-moi", "/")
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location, "/manage", "staff land on their queue");
    assert_eq!(binh.get("/manage").await.status, 200);
}
