//! Attacks across provinces: another province's token, dossier codes, attachment ids, staff
//! ids and invitation links guessed or carried over, and tracking without sign-in.

use portal::accounts::staff::StaffRole;
use reqwest::multipart::{Form, Part};
use serde_json::json;

use crate::attacks_kit::{count, refused, text};
use crate::browser::Browser;
use crate::helpers::{CITIZEN_ID, CITIZEN_PASSWORD, STAFF_PASSWORD, TestApp};

const HN: &str = "ha-noi.localhost";
const QN: &str = "quang-ninh.localhost";
const PDF: &[u8] = crate::fixtures::PDF;

/// Hà Nội and Quảng Ninh, one national account signed in on both, a dossier in each.
struct Two {
    app: TestApp,
    hn_token: String,
    qn_token: String,
    hn_code: String,
    qn_code: String,
}

async fn two_provinces() -> Two {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    app.create_tenant("quang-ninh", "Tỉnh Quảng Ninh").await;
    let hn_token = app.citizen_token(HN, "khai@example.vn").await;
    let qn_token = app.token(QN, "khai@example.vn", CITIZEN_PASSWORD).await;
    let hn_code = app.submit_licence_renewal(HN, &hn_token).await;
    let qn_code = app.submit_licence_renewal(QN, &qn_token).await;
    Two {
        app,
        hn_token,
        qn_token,
        hn_code,
        qn_code,
    }
}

impl Two {
    /// Quảng Ninh's dossier as PostgreSQL has it: status, history rows, files, ratings.
    fn qn_dossier(&self) -> (String, i64, i64, i64) {
        let code = &self.qn_code;
        (
            text(
                &self.app,
                &format!(
                    "SELECT status AS t FROM t_quang_ninh.dossiers WHERE tracking_code = '{code}'"
                ),
            ),
            count(
                &self.app,
                "SELECT count(*) AS n FROM t_quang_ninh.dossier_events",
            ),
            count(
                &self.app,
                "SELECT count(*) AS n FROM t_quang_ninh.attachments",
            ),
            count(&self.app, "SELECT count(*) AS n FROM t_quang_ninh.ratings"),
        )
    }

    async fn upload(&self, host: &str, token: &str, code: &str) -> reqwest::Response {
        let form = Form::new().part(
            "file",
            Part::bytes(PDF.to_vec())
                .file_name("giay-to.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        );
        self.app
            .client
            .post(
                self.app
                    .url(&format!("/api/v1/dossiers/{code}/attachments")),
            )
            .header("Host", host)
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn another_provinces_citizen_token_is_refused_on_every_citizen_endpoint() {
    let t = two_provinces().await;
    let app = &t.app;
    let before = t.qn_dossier();
    let qn = count(app, "SELECT count(*) AS n FROM t_quang_ninh.dossiers");
    // Hà Nội's token (same national account) on Quảng Ninh's host.
    for path in ["/api/v1/me", "/api/v1/dossiers"] {
        refused(
            app.get_with_token(QN, path, &t.hn_token).await,
            401,
            "unauthorized",
        )
        .await;
    }
    refused(
        app.get_with_token(QN, &format!("/api/v1/dossiers/{}", t.qn_code), &t.hn_token)
            .await,
        401,
        "unauthorized",
    )
    .await;
    let posts = [
        (
            "/api/v1/dossiers".to_string(),
            crate::helpers::licence_renewal(),
        ),
        (
            format!("/api/v1/dossiers/{}/withdraw", t.qn_code),
            json!({}),
        ),
        (
            format!("/api/v1/dossiers/{}/supplement", t.qn_code),
            json!({"fields": {"phone": "0900000000"}}),
        ),
        (format!("/api/v1/dossiers/{}/pay", t.qn_code), json!({})),
        (
            format!("/api/v1/dossiers/{}/rating", t.qn_code),
            json!({"score": 1}),
        ),
    ];
    for (path, body) in &posts {
        let res = app.post_json(QN, path, Some(&t.hn_token), body).await;
        refused(res, 401, "unauthorized").await;
    }
    refused(
        t.upload(QN, &t.hn_token, &t.qn_code).await,
        401,
        "unauthorized",
    )
    .await;
    assert_eq!(t.qn_dossier(), before, "nothing changed in Quảng Ninh");
    assert_eq!(
        count(app, "SELECT count(*) AS n FROM t_quang_ninh.dossiers"),
        qn
    );
    // The right token on the right host still works: the refusal was about the site.
    assert_eq!(
        app.get_with_token(QN, &format!("/api/v1/dossiers/{}", t.qn_code), &t.qn_token)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn another_provinces_staff_and_admin_tokens_change_nothing_there() {
    let t = two_provinces().await;
    let app = &t.app;
    let admin = app
        .staff_token("ha-noi", "admin@hanoi.gov.vn", StaffRole::Admin)
        .await;
    let before = t.qn_dossier();
    let staff_before = count(app, "SELECT count(*) AS n FROM t_quang_ninh.staff");
    let settings_before = count(
        app,
        "SELECT count(*) AS n FROM t_quang_ninh.procedure_settings",
    );
    let reads = [
        "/api/v1/manage/dossiers".to_string(),
        format!("/api/v1/manage/dossiers/{}", t.qn_code),
        "/api/v1/manage/users".to_string(),
        "/api/v1/manage/branding".to_string(),
        "/api/v1/manage/usage".to_string(),
        "/api/v1/manage/invoices".to_string(),
    ];
    for path in &reads {
        refused(
            app.get_with_token(QN, path, &admin).await,
            401,
            "unauthorized",
        )
        .await;
    }
    let writes = [
        (
            "POST",
            format!("/api/v1/manage/dossiers/{}/actions", t.qn_code),
            json!({"action": "refuse", "note": "Từ chối giả"}),
        ),
        (
            "POST",
            "/api/v1/manage/dossiers".to_string(),
            crate::helpers::licence_renewal(),
        ),
        (
            "POST",
            "/api/v1/manage/users".to_string(),
            json!({"email": "gian@example.vn", "full_name": "Kẻ Gian", "role": "admin"}),
        ),
        (
            "PUT",
            "/api/v1/manage/branding".to_string(),
            json!({"display_name": "Đã bị chiếm", "accent_color": "#000000"}),
        ),
        (
            "PUT",
            "/api/v1/manage/procedures/GPLX-001".to_string(),
            json!({"enabled": false}),
        ),
    ];
    for (method, path, body) in &writes {
        let req = match *method {
            "PUT" => app.client.put(app.url(path)),
            _ => app.client.post(app.url(path)),
        };
        let res = req
            .header("Host", QN)
            .bearer_auth(&admin)
            .json(body)
            .send()
            .await
            .unwrap();
        refused(res, 401, "unauthorized").await;
    }
    let res = app
        .client
        .delete(app.url("/api/v1/manage/logo"))
        .header("Host", QN)
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    refused(res, 401, "unauthorized").await;
    assert_eq!(t.qn_dossier(), before);
    assert_eq!(
        count(app, "SELECT count(*) AS n FROM t_quang_ninh.dossiers"),
        1
    );
    assert_eq!(
        count(app, "SELECT count(*) AS n FROM t_quang_ninh.staff"),
        staff_before
    );
    assert_eq!(
        count(
            app,
            "SELECT count(*) AS n FROM t_quang_ninh.procedure_settings"
        ),
        settings_before
    );
    assert_eq!(
        text(app, "SELECT display_name AS t FROM t_quang_ninh.branding"),
        "Tỉnh Quảng Ninh"
    );
    // Hà Nội's admin session cookie, carried to Quảng Ninh by hand, is nobody there.
    let mut b = Browser::new(app, QN);
    b.cookies.insert("session".into(), admin.clone());
    let page = b.get("/manage/admin").await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location, "/sign-in?next=/manage/admin");
}

#[tokio::test]
async fn dossier_codes_of_another_province_are_not_found_even_for_the_same_account() {
    let t = two_provinces().await;
    let app = &t.app;
    let before = t.qn_dossier();
    let official = app
        .staff_token("ha-noi", "canbo@hanoi.gov.vn", StaffRole::Official)
        .await;
    // The code as it is, in lower case with spaces (normalised), and Hà Nội's own prefix.
    let variants = [
        t.qn_code.clone(),
        format!(" {} ", t.qn_code.to_lowercase()),
        t.qn_code.replacen("QNI", "HNO", 1),
    ];
    for code in &variants {
        let code = code.trim();
        refused(
            app.get_with_token(HN, &format!("/api/v1/dossiers/{code}"), &t.hn_token)
                .await,
            404,
            "not_found",
        )
        .await;
        for (path, body) in [
            (format!("/api/v1/dossiers/{code}/withdraw"), json!({})),
            (
                format!("/api/v1/dossiers/{code}/supplement"),
                json!({"fields": {}}),
            ),
            (format!("/api/v1/dossiers/{code}/pay"), json!({})),
            (
                format!("/api/v1/dossiers/{code}/rating"),
                json!({"score": 5}),
            ),
            (
                format!("/api/v1/manage/dossiers/{code}/actions"),
                json!({"action": "stop", "note": "x"}),
            ),
        ] {
            let token = if path.contains("/manage/") {
                &official
            } else {
                &t.hn_token
            };
            let res = app.post_json(HN, &path, Some(token), &body).await;
            refused(res, 404, "not_found").await;
        }
        refused(t.upload(HN, &t.hn_token, code).await, 404, "not_found").await;
        refused(
            app.get_with_token(HN, &format!("/api/v1/manage/dossiers/{code}"), &official)
                .await,
            404,
            "not_found",
        )
        .await;
    }
    // The pages say the same.
    let mut b = Browser::new(app, HN);
    b.sign_in("khai@example.vn", "/").await;
    assert_eq!(b.get(&format!("/dossiers/{}", t.qn_code)).await.status, 404);
    let csrf = b.cookies["csrf"].clone();
    let res = b
        .post(
            &format!("/dossiers/{}/withdraw", t.qn_code),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(res.status, 404);
    assert_eq!(t.qn_dossier(), before, "Quảng Ninh's dossier is as it was");
    // The citizen's own Hà Nội dossier is found, so the 404s were about the province.
    assert_eq!(
        app.get_with_token(HN, &format!("/api/v1/dossiers/{}", t.hn_code), &t.hn_token)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn tracking_another_provinces_code_without_sign_in_is_not_found() {
    let t = two_provinces().await;
    let app = &t.app;
    let path = |code: &str| format!("/api/v1/tracking/{code}?id_number={CITIZEN_ID}");
    // Found at home, with the right citizen ID.
    let home = app.get(HN, &path(&t.hn_code)).await;
    assert_eq!(home.status(), 200);
    // Not on another province's site nor the operator's. The national site answers for any
    // province's code since the national front door (CONTRACT.md, issue 13; same citizen-ID
    // check, same limits: tests/api/front_door.rs).
    for host in [QN, "ops.localhost"] {
        refused(app.get(host, &path(&t.hn_code)).await, 404, "not_found").await;
    }
    assert_eq!(app.get("localhost", &path(&t.hn_code)).await.status(), 200);
    // And the answers say nothing of whose it is: a code of the other province, a code that
    // exists nowhere and a wrong citizen ID read the same, byte for byte.
    let other = app.get(QN, &path(&t.hn_code)).await.text().await.unwrap();
    let nowhere = app
        .get(QN, &path("QNI-2611-ZZZZZZ"))
        .await
        .text()
        .await
        .unwrap();
    let wrong_id = app
        .get(
            QN,
            &format!("/api/v1/tracking/{}?id_number=001090099999", t.qn_code),
        )
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(other, nowhere);
    assert_eq!(other, wrong_id);
    // The tracking page on Quảng Ninh shows nothing of Hà Nội's dossier.
    let mut b = Browser::new(app, QN);
    let page = b
        .get(&format!(
            "/tracking?code={}&id_number={CITIZEN_ID}",
            t.hn_code
        ))
        .await;
    assert_eq!(page.status, 404);
    assert!(!page.body.contains("Đã nộp") && !page.body.contains("GPLX-001"));
}

#[tokio::test]
async fn attachment_ids_of_another_province_are_not_found() {
    let t = two_provinces().await;
    let app = &t.app;
    let res = t.upload(HN, &t.hn_token, &t.hn_code).await;
    assert_eq!(res.status(), 201);
    let hn_file: serde_json::Value = res.json().await.unwrap();
    let hn_id = hn_file["id"].as_str().unwrap().to_string();
    let qn_official = app
        .staff_token("quang-ninh", "canbo@quangninh.gov.vn", StaffRole::Official)
        .await;
    // Hà Nội's file id under Quảng Ninh's own dossier, by its owner and by its staff.
    let own = format!("/api/v1/dossiers/{}/attachments/{hn_id}", t.qn_code);
    refused(
        app.get_with_token(QN, &own, &t.qn_token).await,
        404,
        "not_found",
    )
    .await;
    let managed = format!("/api/v1/manage/dossiers/{}/attachments/{hn_id}", t.qn_code);
    refused(
        app.get_with_token(QN, &managed, &qn_official).await,
        404,
        "not_found",
    )
    .await;
    // And under Hà Nội's code on Quảng Ninh's host.
    let crossed = format!("/api/v1/manage/dossiers/{}/attachments/{hn_id}", t.hn_code);
    refused(
        app.get_with_token(QN, &crossed, &qn_official).await,
        404,
        "not_found",
    )
    .await;
    let mut staff_page = Browser::new(app, QN);
    staff_page
        .sign_in_as("canbo@quangninh.gov.vn", STAFF_PASSWORD, "/manage")
        .await;
    let page = staff_page
        .get(&format!("/manage/dossiers/{}/files/{hn_id}", t.qn_code))
        .await;
    assert_eq!(page.status, 404);
    assert!(!page.body.contains("%PDF"));
    // Ids that are not ids at all: 404, not 400 or 500.
    for bad in [
        "1",
        "..%2F..%2Fetc%2Fpasswd",
        "00000000-0000-0000-0000-000000000000",
    ] {
        let path = format!("/api/v1/dossiers/{}/attachments/{bad}", t.hn_code);
        refused(
            app.get_with_token(HN, &path, &t.hn_token).await,
            404,
            "not_found",
        )
        .await;
    }
    // At home, the owner gets it: the id was real.
    let path = format!("/api/v1/dossiers/{}/attachments/{hn_id}", t.hn_code);
    assert_eq!(
        app.get_with_token(HN, &path, &t.hn_token).await.status(),
        200
    );
}

#[tokio::test]
async fn staff_ids_and_invitation_links_of_another_province_are_not_found() {
    let t = two_provinces().await;
    let app = &t.app;
    let hn_admin = app
        .staff_token("ha-noi", "admin@hanoi.gov.vn", StaffRole::Admin)
        .await;
    let qn_admin = app
        .staff_token("quang-ninh", "admin@quangninh.gov.vn", StaffRole::Admin)
        .await;
    let res = app
        .post_json(
            HN,
            "/api/v1/manage/users",
            Some(&hn_admin),
            &json!({"email": "moi@hanoi.gov.vn", "full_name": "Cán bộ Mới", "role": "official"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let hn_staff_id = text(
        app,
        "SELECT id::text AS t FROM t_ha_noi.staff WHERE email = 'admin@hanoi.gov.vn'",
    );
    for action in ["deactivate", "activate"] {
        let res = app
            .post_json(
                QN,
                &format!("/api/v1/manage/users/{hn_staff_id}/{action}"),
                Some(&qn_admin),
                &json!({}),
            )
            .await;
        refused(res, 404, "not_found").await;
    }
    // Through Quảng Ninh's admin page, with a valid form token.
    let mut b = Browser::new(app, QN);
    b.sign_in_as("admin@quangninh.gov.vn", STAFF_PASSWORD, "/manage")
        .await;
    let team = b.get("/manage/admin/staff").await;
    let csrf = b.csrf(&team);
    let res = b
        .post(
            &format!("/manage/admin/staff/{hn_staff_id}/deactivate"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(res.status, 404);
    assert_eq!(
        text(
            app,
            "SELECT active::text AS t FROM t_ha_noi.staff WHERE email = 'admin@hanoi.gov.vn'"
        ),
        "true"
    );
    // Hà Nội's invitation link, spent on Quảng Ninh's host: not found there, still good at home.
    let body = text(
        app,
        "SELECT body AS t FROM t_ha_noi.outbox WHERE kind = 'staff_invitation'",
    );
    let token = body
        .split("/invitations/")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap()
        .to_string();
    let path = format!("/api/v1/auth/invitations/{token}");
    let password = json!({"password": "mat-khau-cua-ke-gian"});
    refused(
        app.post_json(QN, &path, None, &password).await,
        404,
        "not_found",
    )
    .await;
    let page = Browser::new(app, QN)
        .get(&format!("/invitations/{token}"))
        .await;
    assert_eq!(page.status, 404);
    assert_eq!(
        count(
            app,
            "SELECT count(*) AS n FROM t_ha_noi.staff WHERE email = 'moi@hanoi.gov.vn' AND password_hash IS NULL"
        ),
        1
    );
    assert_eq!(
        count(app, "SELECT count(*) AS n FROM t_quang_ninh.staff"),
        1
    );
    let res = app
        .post_json(HN, &path, None, &json!({"password": "mat-khau-can-bo-moi"}))
        .await;
    assert_eq!(res.status(), 200, "the link was real");
}
