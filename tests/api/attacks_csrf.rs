//! Cross-site request forgery on every HTML form of every site (the POST routes under
//! `src/web`), and session fixation. A forged post comes without the token or with another
//! visitor's valid token; it is refused (403 page) and writes nothing; the same post with the
//! page's own token then does what it says, which shows the forged ones would have.

use portal::accounts::staff::StaffRole;
use reqwest::multipart::Form;
use serde_json::json;

use crate::attacks_kit::{claims_of, count, text};
use crate::browser::{Browser, Page, file_part};
use crate::helpers::{
    CITIZEN_ID, CITIZEN_PASSWORD, OPERATOR_EMAIL, OPERATOR_PASSWORD, STAFF_PASSWORD, TestApp,
};

const HN: &str = "ha-noi.localhost";
const PDF: &[u8] = crate::fixtures::PDF;
const PNG: &[u8] = crate::fixtures::PNG;

/// A valid form token of another visitor of `host` (its own cookie, not ours).
async fn foreign_token(app: &TestApp, host: &str, path: &str) -> String {
    let mut other = Browser::new(app, host);
    let page = other.get(path).await;
    other.csrf(&page)
}

fn refused_page(page: &Page, what: &str) {
    assert_eq!(page.status, 403, "{what}: {}", page.body);
    let content_type = page.headers["content-type"].to_str().unwrap();
    assert!(content_type.starts_with("text/html"), "{what}");
}

/// Posts `fields` without a token, then with `foreign`: both refused.
async fn forged(b: &mut Browser<'_>, foreign: &str, path: &str, fields: &[(&str, &str)]) {
    let page = b.post(path, fields).await;
    refused_page(&page, &format!("{path} without a token"));
    let mut form = vec![("csrf", foreign)];
    form.extend_from_slice(fields);
    let page = b.post(path, &form).await;
    refused_page(&page, &format!("{path} with another visitor's token"));
}

/// The same post with the browser's own token.
async fn genuine(b: &mut Browser<'_>, path: &str, fields: &[(&str, &str)]) -> Page {
    let csrf = b.cookies["csrf"].clone();
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    b.post(path, &form).await
}

/// [`forged`] for a multipart form built by `make`.
async fn forged_multipart(b: &mut Browser<'_>, foreign: &str, path: &str, make: impl Fn() -> Form) {
    let page = b.post_multipart(path, make()).await;
    refused_page(&page, &format!("{path} without a token"));
    let page = b
        .post_multipart(path, make().text("csrf", foreign.to_string()))
        .await;
    refused_page(&page, &format!("{path} with another visitor's token"));
}

fn status_of(app: &TestApp, code: &str) -> String {
    text(
        app,
        &format!("SELECT status AS t FROM t_ha_noi.dossiers WHERE tracking_code = '{code}'"),
    )
}

#[tokio::test]
async fn csrf_every_citizen_form_refuses_a_missing_or_foreign_token_and_writes_nothing() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let foreign = foreign_token(&app, HN, "/sign-in").await;
    let email = "trang@example.vn";
    let mut b = Browser::new(&app, HN);

    // /register (anonymous)
    b.get("/register").await;
    let register = [
        ("full_name", "Lê Thu Trang"),
        ("email", email),
        ("password", CITIZEN_PASSWORD),
    ];
    forged(&mut b, &foreign, "/register", &register).await;
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM identity.citizens"),
        0
    );
    assert!(!b.cookies.contains_key("session"));
    assert_eq!(genuine(&mut b, "/register", &register).await.status, 303);
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM identity.citizens"),
        1
    );

    // /sign-out
    b.get("/").await;
    forged(&mut b, &foreign, "/sign-out", &[]).await;
    assert_eq!(b.get("/dossiers").await.status, 200, "still signed in");
    assert_eq!(genuine(&mut b, "/sign-out", &[]).await.status, 303);
    assert!(!b.cookies.contains_key("session"));

    // /sign-in (anonymous): no session, and not even a failure counted against the address.
    b.get("/sign-in").await;
    forged(
        &mut b,
        &foreign,
        "/sign-in",
        &[("email", email), ("password", "sai-mat-khau-123")],
    )
    .await;
    forged(
        &mut b,
        &foreign,
        "/sign-in",
        &[("email", email), ("password", CITIZEN_PASSWORD)],
    )
    .await;
    assert!(!b.cookies.contains_key("session"));
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM identity.sign_in_failures"),
        0
    );
    let signed = genuine(
        &mut b,
        "/sign-in",
        &[("email", email), ("password", CITIZEN_PASSWORD)],
    )
    .await;
    assert_eq!(signed.status, 303);
    assert!(b.cookies.contains_key("session"));

    // /procedures/{code}/apply/{step}
    b.get("/procedures/GPLX-001/apply/1").await;
    let step1 = [
        ("full_name", "Lê Thu Trang"),
        ("id_number", CITIZEN_ID),
        ("licence_number", "790123456789"),
    ];
    let drafts = "SELECT count(*) AS n FROM t_ha_noi.drafts";
    forged(&mut b, &foreign, "/procedures/GPLX-001/apply/1", &step1).await;
    assert_eq!(count(&app, drafts), 0);
    let saved = genuine(&mut b, "/procedures/GPLX-001/apply/1", &step1).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(count(&app, drafts), 1);
    let step2 = [
        ("licence_class", "B2"),
        ("expiry_date", "2026-12-31"),
        ("delivery_address", "12 Phố Huế, Hà Nội"),
    ];
    assert_eq!(
        genuine(&mut b, "/procedures/GPLX-001/apply/2", &step2)
            .await
            .status,
        303
    );
    assert_eq!(
        genuine(
            &mut b,
            "/procedures/GPLX-001/apply/3",
            &[("phone", "0912345678")]
        )
        .await
        .status,
        303
    );

    // /procedures/{code}/apply/documents (multipart)
    b.get("/procedures/GPLX-001/apply/documents").await;
    let files = || {
        Form::new()
            .part("portrait_photo", file_part("anh.png", PNG))
            .part("licence_scan", file_part("giay-phep.pdf", PDF))
    };
    let draft_files = "SELECT count(*) AS n FROM t_ha_noi.draft_files";
    forged_multipart(
        &mut b,
        &foreign,
        "/procedures/GPLX-001/apply/documents",
        files,
    )
    .await;
    assert_eq!(count(&app, draft_files), 0);
    let csrf = b.cookies["csrf"].clone();
    let uploaded = b
        .post_multipart(
            &format!("/procedures/GPLX-001/apply/documents?csrf={csrf}"),
            files(),
        )
        .await;
    assert_eq!(uploaded.status, 303, "{}", uploaded.body);
    assert_eq!(count(&app, draft_files), 2);

    // /procedures/{code}/apply/check
    b.get("/procedures/GPLX-001/apply/check").await;
    let dossiers = "SELECT count(*) AS n FROM t_ha_noi.dossiers";
    forged(&mut b, &foreign, "/procedures/GPLX-001/apply/check", &[]).await;
    assert_eq!(count(&app, dossiers), 0);
    assert_eq!(count(&app, drafts), 1);
    let submitted = genuine(&mut b, "/procedures/GPLX-001/apply/check", &[]).await;
    assert_eq!(submitted.status, 303, "{}", submitted.body);
    assert_eq!(count(&app, dossiers), 1);

    // The dossier's own forms, each on a dossier brought to the status it needs.
    let token = app.token(HN, email, CITIZEN_PASSWORD).await;
    let official = app
        .staff_token("ha-noi", "canbo@hanoi.gov.vn", StaffRole::Official)
        .await;
    let dossier_at = async |moves: &[serde_json::Value]| {
        // With its required documents, so that staff may accept it.
        let code = app.submit_complete_licence_renewal(HN, &token).await;
        for m in moves {
            if m["action"] == "return_result" {
                app.give_result(HN, &official, &code).await;
            }
            let res = app.act(HN, &official, &code, m.clone()).await;
            assert_eq!(res.status(), 200, "{m}");
        }
        code
    };
    let accept = json!({"action": "accept"});
    let process = json!({"action": "process"});
    let withdraw = dossier_at(&[]).await;
    let pay = dossier_at(&[
        accept.clone(),
        process.clone(),
        json!({"action": "request_payment", "fee_vnd": 135000}),
    ])
    .await;
    let rate = dossier_at(&[
        accept.clone(),
        process.clone(),
        json!({"action": "resolve"}),
        json!({"action": "return_result"}),
    ])
    .await;
    let supplement = dossier_at(&[
        accept.clone(),
        json!({"action": "request_supplement", "note": "Thiếu ảnh"}),
    ])
    .await;

    // /dossiers/{code}/withdraw
    b.get(&format!("/dossiers/{withdraw}")).await;
    let path = format!("/dossiers/{withdraw}/withdraw");
    forged(&mut b, &foreign, &path, &[]).await;
    assert_eq!(status_of(&app, &withdraw), "submitted");
    assert_eq!(genuine(&mut b, &path, &[]).await.status, 303);
    assert_eq!(status_of(&app, &withdraw), "withdrawn");

    // /dossiers/{code}/pay
    b.get(&format!("/dossiers/{pay}")).await;
    let path = format!("/dossiers/{pay}/pay");
    forged(&mut b, &foreign, &path, &[]).await;
    assert_eq!(status_of(&app, &pay), "payment_requested");
    assert_eq!(genuine(&mut b, &path, &[]).await.status, 303);
    assert_eq!(status_of(&app, &pay), "processing");

    // /dossiers/{code}/rating
    b.get(&format!("/dossiers/{rate}")).await;
    let path = format!("/dossiers/{rate}/rating");
    let rating = [("score", "1"), ("comment", "Giả mạo")];
    forged(&mut b, &foreign, &path, &rating).await;
    let ratings = "SELECT count(*) AS n FROM t_ha_noi.ratings";
    assert_eq!(count(&app, ratings), 0);
    assert_eq!(genuine(&mut b, &path, &rating).await.status, 303);
    assert_eq!(count(&app, ratings), 1);

    // /dossiers/{code}/supplement (multipart)
    let page = b.get(&format!("/dossiers/{supplement}")).await;
    let answers = || {
        let mut form = Form::new();
        for name in ["licence_number", "expiry_date", "delivery_address"] {
            form = form.text(name, page.input(name));
        }
        form.text("licence_class", "B2")
            .text("phone", "0987654321")
            .part("portrait_photo", file_part("anh-moi.png", PNG))
    };
    let path = format!("/dossiers/{supplement}/supplement");
    forged_multipart(&mut b, &foreign, &path, answers).await;
    assert_eq!(status_of(&app, &supplement), "supplement_requested");
    let csrf = b.cookies["csrf"].clone();
    let done = b
        .post_multipart(&format!("{path}?csrf={csrf}"), answers())
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(status_of(&app, &supplement), "processing");
}

#[tokio::test]
async fn csrf_every_staff_and_admin_form_refuses_a_missing_or_foreign_token_and_writes_nothing() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let citizen = app.citizen_token(HN, "dan@example.vn").await;
    let code = app.submit_licence_renewal(HN, &citizen).await;
    app.staff_token("ha-noi", "admin@hanoi.gov.vn", StaffRole::Admin)
        .await;
    let foreign = foreign_token(&app, HN, "/sign-in").await;
    let mut b = Browser::new(&app, HN);
    let res = b
        .sign_in_as("admin@hanoi.gov.vn", STAFF_PASSWORD, "/manage")
        .await;
    assert_eq!(res.status, 303);

    // /manage/dossiers/{code}/actions
    b.get(&format!("/manage/dossiers/{code}")).await;
    let path = format!("/manage/dossiers/{code}/actions");
    let refuse = [("action", "refuse"), ("note", "Giả mạo")];
    forged(&mut b, &foreign, &path, &refuse).await;
    assert_eq!(status_of(&app, &code), "submitted");
    assert_eq!(genuine(&mut b, &path, &refuse).await.status, 303);
    assert_eq!(status_of(&app, &code), "refused");

    // /manage/dossiers/new (the counter)
    b.get("/manage/dossiers/new?procedure=GPLX-001").await;
    let counter = [
        ("procedure_code", "GPLX-001"),
        ("full_name", "Phạm Văn Quầy"),
        ("id_number", "001090054321"),
        ("licence_number", "790123456789"),
        ("licence_class", "B2"),
        ("expiry_date", "2026-12-31"),
        ("delivery_address", "1 Tràng Tiền, Hà Nội"),
        ("phone", "0912345678"),
        ("contact_email", "quay@example.vn"),
    ];
    let dossiers = "SELECT count(*) AS n FROM t_ha_noi.dossiers";
    forged(&mut b, &foreign, "/manage/dossiers/new", &counter).await;
    assert_eq!(count(&app, dossiers), 1);
    let res = genuine(&mut b, "/manage/dossiers/new", &counter).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(count(&app, dossiers), 2);

    // /manage/admin/branding
    b.get("/manage/admin").await;
    let look = [
        ("display_name", "Đã bị chiếm"),
        ("accent_color", "#000000"),
        ("hotline", "1022"),
        ("address", "Nơi khác"),
        ("banner", "Giả mạo"),
    ];
    let shown = "SELECT display_name AS t FROM t_ha_noi.branding";
    forged(&mut b, &foreign, "/manage/admin/branding", &look).await;
    assert_eq!(text(&app, shown), "Thành phố Hà Nội");
    assert_eq!(
        genuine(&mut b, "/manage/admin/branding", &look)
            .await
            .status,
        303
    );
    assert_eq!(text(&app, shown), "Đã bị chiếm");

    // /manage/admin/logo (multipart), then /manage/admin/logo/delete
    let logo = || Form::new().part("file", file_part("logo.png", PNG));
    let logos = "SELECT count(*) AS n FROM t_ha_noi.logo";
    forged_multipart(&mut b, &foreign, "/manage/admin/logo", logo).await;
    assert_eq!(count(&app, logos), 0);
    let csrf = b.cookies["csrf"].clone();
    let res = b
        .post_multipart(&format!("/manage/admin/logo?csrf={csrf}"), logo())
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(count(&app, logos), 1);
    forged(&mut b, &foreign, "/manage/admin/logo/delete", &[]).await;
    assert_eq!(count(&app, logos), 1);
    assert_eq!(
        genuine(&mut b, "/manage/admin/logo/delete", &[])
            .await
            .status,
        303
    );
    assert_eq!(count(&app, logos), 0);

    // /manage/admin/procedures/{code}
    b.get("/manage/admin/procedures").await;
    let off = "SELECT count(*) AS n FROM t_ha_noi.procedure_settings WHERE code = 'GPLX-001' AND NOT enabled";
    let path = "/manage/admin/procedures/GPLX-001";
    forged(&mut b, &foreign, path, &[("enabled", "false")]).await;
    assert_eq!(count(&app, off), 0);
    assert_eq!(
        genuine(&mut b, path, &[("enabled", "false")]).await.status,
        303
    );
    assert_eq!(count(&app, off), 1);

    // /manage/admin/staff (invite)
    b.get("/manage/admin/staff").await;
    let invite = [
        ("full_name", "Kẻ Gian"),
        ("email", "gian@hanoi.gov.vn"),
        ("role", "admin"),
    ];
    let staff = "SELECT count(*) AS n FROM t_ha_noi.staff";
    forged(&mut b, &foreign, "/manage/admin/staff", &invite).await;
    assert_eq!(count(&app, staff), 1);
    assert_eq!(
        genuine(&mut b, "/manage/admin/staff", &invite).await.status,
        303
    );
    assert_eq!(count(&app, staff), 2);

    // /manage/admin/staff/{id}/deactivate and /activate
    let id = text(
        &app,
        "SELECT id::text AS t FROM t_ha_noi.staff WHERE email = 'gian@hanoi.gov.vn'",
    );
    let active = "SELECT active::text AS t FROM t_ha_noi.staff WHERE email = 'gian@hanoi.gov.vn'";
    let path = format!("/manage/admin/staff/{id}/deactivate");
    forged(&mut b, &foreign, &path, &[]).await;
    assert_eq!(text(&app, active), "true");
    assert_eq!(genuine(&mut b, &path, &[]).await.status, 303);
    assert_eq!(text(&app, active), "false");
    let path = format!("/manage/admin/staff/{id}/activate");
    forged(&mut b, &foreign, &path, &[]).await;
    assert_eq!(text(&app, active), "false");
    assert_eq!(genuine(&mut b, &path, &[]).await.status, 303);
    assert_eq!(text(&app, active), "true");

    // /invitations/{token} (anonymous: the invited person's own browser)
    let mail = text(
        &app,
        "SELECT body AS t FROM t_ha_noi.outbox WHERE kind = 'staff_invitation'",
    );
    let token = mail
        .split("/invitations/")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap()
        .to_string();
    let mut invited = Browser::new(&app, HN);
    let path = format!("/invitations/{token}");
    assert_eq!(invited.get(&path).await.status, 200);
    let password = [("password", "mat-khau-cua-ke-gian")];
    let set = "SELECT count(*) AS n FROM t_ha_noi.staff WHERE email = 'gian@hanoi.gov.vn' AND password_hash IS NOT NULL";
    forged(&mut invited, &foreign, &path, &password).await;
    assert_eq!(count(&app, set), 0);
    assert_eq!(genuine(&mut invited, &path, &password).await.status, 303);
    assert_eq!(count(&app, set), 1);
}

#[tokio::test]
async fn csrf_every_national_and_operator_form_refuses_a_missing_or_foreign_token_and_writes_nothing()
 {
    let app = TestApp::spawn().await;
    let numbers = crate::invoice_pages::closed_october(&app).await;
    assert_eq!(numbers.len(), 2);

    // /subscribe on the national site (anonymous)
    let foreign = foreign_token(&app, "localhost", "/subscribe").await;
    let mut visitor = Browser::new(&app, "localhost");
    visitor.get("/subscribe").await;
    let request = [
        ("province_name", "Tỉnh Mới"),
        ("slug", "tinh-moi"),
        ("contact_email", "lienhe@tinhmoi.gov.vn"),
        ("plan", "standard"),
    ];
    let requests = "SELECT count(*) AS n FROM public.subscription_requests";
    forged(&mut visitor, &foreign, "/subscribe", &request).await;
    assert_eq!(count(&app, requests), 0);
    assert_eq!(
        genuine(&mut visitor, "/subscribe", &request).await.status,
        202
    );
    assert_eq!(count(&app, requests), 1);

    // /subscribe/verify/{token} (anonymous: the link mailed to the contact address)
    let body = text(
        &app,
        "SELECT body AS t FROM public.outbox WHERE kind = 'subscription_verification'",
    );
    let at = body
        .find("/subscribe/verify/")
        .expect("a verification link");
    let link: String = body[at..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    visitor.get(&link).await;
    let verified =
        "SELECT count(*) AS n FROM public.subscription_requests WHERE verified_at IS NOT NULL";
    forged(&mut visitor, &foreign, &link, &[]).await;
    assert_eq!(count(&app, verified), 0);
    assert_eq!(genuine(&mut visitor, &link, &[]).await.status, 200);
    assert_eq!(count(&app, verified), 1);

    // /sign-in on the operator site (anonymous)
    app.create_operator(
        OPERATOR_EMAIL,
        OPERATOR_PASSWORD,
        portal::accounts::operators::OperatorRole::Operator,
    )
    .await;
    let foreign = foreign_token(&app, "ops.localhost", "/sign-in").await;
    let mut ops = Browser::new(&app, "ops.localhost");
    ops.get("/sign-in").await;
    let credentials = [("email", OPERATOR_EMAIL), ("password", OPERATOR_PASSWORD)];
    forged(&mut ops, &foreign, "/sign-in", &credentials).await;
    assert!(!ops.cookies.contains_key("session"));
    assert_eq!(
        genuine(&mut ops, "/sign-in", &credentials).await.status,
        303
    );
    assert!(ops.cookies.contains_key("session"));

    // /tenants/{slug}/status
    ops.get("/tenants/hue").await;
    let hue = "SELECT status AS t FROM public.tenants WHERE slug = 'hue'";
    forged(
        &mut ops,
        &foreign,
        "/tenants/hue/status",
        &[("status", "suspended")],
    )
    .await;
    assert_eq!(text(&app, hue), "active");
    assert_eq!(
        genuine(&mut ops, "/tenants/hue/status", &[("status", "suspended")])
            .await
            .status,
        303
    );
    assert_eq!(text(&app, hue), "suspended");

    // /subscriptions/{id}
    ops.get("/subscriptions").await;
    let id = text(
        &app,
        "SELECT id::text AS t FROM public.subscription_requests",
    );
    let path = format!("/subscriptions/{id}");
    let decline = [("decision", "decline"), ("reason", "Giả mạo")];
    let decided = "SELECT status AS t FROM public.subscription_requests";
    forged(&mut ops, &foreign, &path, &decline).await;
    assert_eq!(text(&app, decided), "pending");
    assert_eq!(genuine(&mut ops, &path, &decline).await.status, 303);
    assert_eq!(text(&app, decided), "declined");

    // /invoices/{number}/pay, /void, /send
    ops.get("/invoices?period=2026-10").await;
    let status = |n: &str| {
        text(
            &app,
            &format!("SELECT status AS t FROM public.invoices WHERE number = '{n}'"),
        )
    };
    let path = format!("/invoices/{}/pay", numbers[0]);
    forged(&mut ops, &foreign, &path, &[("reference", "UNC-GIA")]).await;
    assert_eq!(status(&numbers[0]), "finalized");
    assert_eq!(
        genuine(&mut ops, &path, &[("reference", "UNC-0001")])
            .await
            .status,
        303
    );
    assert_eq!(status(&numbers[0]), "paid");
    let path = format!("/invoices/{}/void", numbers[1]);
    forged(&mut ops, &foreign, &path, &[("reason", "Giả mạo")]).await;
    assert_eq!(status(&numbers[1]), "finalized");
    assert_eq!(
        genuine(&mut ops, &path, &[("reason", "Lập sai")])
            .await
            .status,
        303
    );
    assert_eq!(status(&numbers[1]), "void");
    let sends = "SELECT count(*) AS n FROM public.audit_log WHERE action = 'invoice.send'";
    let path = format!("/invoices/{}/send", numbers[0]);
    forged(&mut ops, &foreign, &path, &[]).await;
    assert_eq!(count(&app, sends), 0);
    genuine(&mut ops, &path, &[]).await;
    assert_eq!(count(&app, sends), 1);

    // /sign-out
    forged(&mut ops, &foreign, "/sign-out", &[]).await;
    assert_eq!(ops.get("/").await.status, 200, "still signed in");
    let out = genuine(&mut ops, "/sign-out", &[]).await;
    assert_eq!((out.status, out.location.as_str()), (303, "/sign-in"));
    assert!(!ops.cookies.contains_key("session"));
}

/// Signs in through the form of `b` with what the browser holds; returns the response.
async fn sign_in_with(b: &mut Browser<'_>, email: &str, password: &str) -> Page {
    let page = b.get("/sign-in").await;
    let csrf = b.csrf(&page);
    b.post(
        "/sign-in",
        &[("csrf", &csrf), ("email", email), ("password", password)],
    )
    .await
}

#[tokio::test]
async fn session_fixation_cookies_planted_before_sign_in_are_replaced_at_sign_in() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    app.citizen_token(HN, "victim@example.vn").await;
    app.citizen_token(HN, "attacker@example.vn").await;
    app.staff_token("ha-noi", "canbo@hanoi.gov.vn", StaffRole::Official)
        .await;
    app.create_operator(
        OPERATOR_EMAIL,
        OPERATOR_PASSWORD,
        portal::accounts::operators::OperatorRole::Operator,
    )
    .await;
    // The attacker signs in and keeps both cookies.
    let mut attacker = Browser::new(&app, HN);
    assert_eq!(
        sign_in_with(&mut attacker, "attacker@example.vn", CITIZEN_PASSWORD)
            .await
            .status,
        303
    );
    let planted_session = attacker.cookies["session"].clone();
    let planted_csrf = attacker.cookies["csrf"].clone();
    let attacker_id = claims_of(&planted_session)["sub"].clone();

    for (host, email, password) in [
        (HN, "victim@example.vn", CITIZEN_PASSWORD),
        (HN, "canbo@hanoi.gov.vn", STAFF_PASSWORD),
        ("ops.localhost", OPERATOR_EMAIL, OPERATOR_PASSWORD),
    ] {
        // The victim's browser carries cookies the attacker chose (tossed from a sibling
        // host, or set over plain http).
        let mut victim = Browser::new(&app, host);
        victim
            .cookies
            .insert("session".into(), planted_session.clone());
        victim.cookies.insert("csrf".into(), planted_csrf.clone());
        let res = sign_in_with(&mut victim, email, password).await;
        assert_eq!(res.status, 303, "{email}: {}", res.body);
        let session = victim.cookies["session"].clone();
        assert_ne!(session, planted_session, "{email}: a new session");
        assert_ne!(claims_of(&session)["sub"], attacker_id, "{email}");
        assert_ne!(
            victim.cookies["csrf"], planted_csrf,
            "{email}: a new form token"
        );
        // The token the attacker knows no longer passes a form in the victim's browser.
        let forged = victim
            .post("/sign-out", &[("csrf", planted_csrf.as_str())])
            .await;
        assert_eq!(forged.status, 403, "{email}");
        assert!(victim.cookies.contains_key("session"));
        // A session value the attacker made up is nobody, before and after.
        let mut made_up = Browser::new(&app, host);
        made_up
            .cookies
            .insert("session".into(), "attacker-chosen-value".into());
        let res = sign_in_with(&mut made_up, email, password).await;
        assert_eq!(res.status, 303);
        assert_ne!(made_up.cookies["session"], "attacker-chosen-value");
    }
    // The attacker's own session is still only the attacker's.
    let me: serde_json::Value = app
        .get_with_token(HN, "/api/v1/me", &planted_session)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["id"], attacker_id);
}
