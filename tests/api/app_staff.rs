//! One action, one place (the staff's and the province admin's share): every action is driven
//! from the JSON API and from the page, and both meet the same rule with the same outcome.

use portal::accounts::staff::StaffRole;
use serde_json::{Value, json};

use crate::browser::{Browser, Page};
use crate::helpers::{LICENCE_DOCUMENTS, STAFF_PASSWORD, TestApp, error_code};

const HOST: &str = "ha-noi.localhost";

/// A staff member of Hà Nội: their API token and a browser signed in through the form.
async fn staff_member<'a>(app: &'a TestApp, email: &str, role: StaffRole) -> (String, Browser<'a>) {
    let token = app.staff_token("ha-noi", email, role).await;
    let mut b = Browser::new(app, HOST);
    let res = b.sign_in_as(email, STAFF_PASSWORD, "/manage").await;
    assert_eq!(res.status, 303, "{}", res.body);
    (token, b)
}

async fn json_of(res: reqwest::Response) -> Value {
    res.json().await.unwrap()
}

/// The staff's JSON view of a dossier.
async fn managed(app: &TestApp, token: &str, code: &str) -> Value {
    let res = app
        .get_with_token(HOST, &format!("/api/v1/manage/dossiers/{code}"), token)
        .await;
    assert_eq!(res.status(), 200);
    json_of(res).await
}

fn missing_fields(view: &Value) -> Vec<String> {
    view["missing_documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["field"].as_str().unwrap().to_string())
        .collect()
}

/// A form posted from a page of the site, with that page's CSRF token.
async fn post_from(b: &mut Browser<'_>, page: &str, path: &str, fields: &[(&str, &str)]) -> Page {
    let shown = b.get(page).await;
    assert_eq!(shown.status, 200, "{page}: {}", shown.body);
    let csrf = b.csrf(&shown);
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    b.post(path, &form).await
}

#[tokio::test]
async fn accept_waits_for_the_required_documents_from_the_api_and_from_the_page() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let citizen = app.citizen_token(HOST, "dan@example.vn").await;
    let (official, mut page) = staff_member(&app, "canbo@hanoi.gov.vn", StaffRole::Official).await;
    // Filed without documents: the direct submission stays valid.
    let by_api = app.submit_licence_renewal(HOST, &citizen).await;
    let by_page = app.submit_licence_renewal(HOST, &citizen).await;

    // Both views name what is missing: the staff's and the citizen's.
    let view = managed(&app, &official, &by_api).await;
    assert_eq!(missing_fields(&view), LICENCE_DOCUMENTS);
    assert_eq!(view["missing_documents"][0]["label"], "Ảnh chân dung 3×4");
    let own = json_of(
        app.get_with_token(HOST, &format!("/api/v1/dossiers/{by_api}"), &citizen)
            .await,
    )
    .await;
    assert_eq!(missing_fields(&own), LICENCE_DOCUMENTS);
    let shown = page.get(&format!("/manage/dossiers/{by_page}")).await;
    assert!(
        shown.body.contains("id=\"missing-documents\""),
        "{}",
        shown.body
    );
    assert!(shown.body.contains("data-field=\"portrait_photo\""));
    assert!(shown.body.contains("Ảnh chụp hai mặt giấy phép"));

    // The API refuses: 409 documents_missing, naming them in both languages and in `fields`.
    let res = app
        .act(HOST, &official, &by_api, json!({"action": "accept"}))
        .await;
    assert_eq!(res.status(), 409);
    let body = json_of(res).await;
    assert_eq!(body["error"]["code"], "documents_missing");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("Ảnh chân dung 3×4") && message.contains("Ảnh chụp hai mặt giấy phép")
    );
    for field in LICENCE_DOCUMENTS {
        assert!(body["error"]["fields"][field].is_string(), "{body}");
    }
    let english = app
        .client
        .post(app.url(&format!("/api/v1/manage/dossiers/{by_api}/actions")))
        .header("Host", HOST)
        .header("Accept-Language", "en")
        .bearer_auth(&official)
        .json(&json!({"action": "accept"}))
        .send()
        .await
        .unwrap();
    assert_eq!(english.status(), 409);
    let message = json_of(english).await["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("Portrait photo (3×4)"), "{message}");
    assert!(
        message.contains("Scan of both sides of the licence"),
        "{message}"
    );

    // The page refuses the same way: 409, the reason above the moves.
    let refused = page.act(&by_page, &[("action", "accept")]).await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(refused.body.contains("href=\"#actions\""));
    assert!(refused.body.contains("còn thiếu giấy tờ bắt buộc"));
    assert!(refused.body.contains("Ảnh chân dung 3×4"));
    for code in [&by_api, &by_page] {
        assert_eq!(managed(&app, &official, code).await["status"], "submitted");
    }

    // One document is not enough: only the other is named.
    app.attach_document(HOST, &citizen, &by_api, "portrait_photo")
        .await;
    let res = app
        .act(HOST, &official, &by_api, json!({"action": "accept"}))
        .await;
    assert_eq!(res.status(), 409);
    let body = json_of(res).await;
    assert!(body["error"]["fields"]["portrait_photo"].is_null());
    assert!(body["error"]["fields"]["licence_scan"].is_string());
    // A file sent without naming its document answers none.
    let unnamed = app
        .client
        .post(app.url(&format!("/api/v1/dossiers/{by_page}/attachments")))
        .header("Host", HOST)
        .bearer_auth(&citizen)
        .multipart(reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(crate::fixtures::PDF.to_vec()).file_name("x.pdf"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(unnamed.status(), 201);
    assert_eq!(
        missing_fields(&managed(&app, &official, &by_page).await),
        LICENCE_DOCUMENTS
    );

    // Once the citizen attached them, both accept.
    app.attach_document(HOST, &citizen, &by_api, "licence_scan")
        .await;
    app.attach_licence_documents(HOST, &citizen, &by_page).await;
    let res = app
        .act(HOST, &official, &by_api, json!({"action": "accept"}))
        .await;
    assert_eq!(res.status(), 200);
    let body = json_of(res).await;
    assert_eq!(body["status"], "accepted");
    assert_eq!(body["missing_documents"], json!([]));
    let accepted = page.act(&by_page, &[("action", "accept")]).await;
    assert_eq!(accepted.status, 303, "{}", accepted.body);
    let shown = page.get(&accepted.location).await;
    assert!(!shown.body.contains("id=\"missing-documents\""));
    let view = managed(&app, &official, &by_page).await;
    assert_eq!(view["status"], "accepted");
    assert_eq!(
        view["due_on"],
        managed(&app, &official, &by_api).await["due_on"]
    );
}

#[tokio::test]
async fn every_staff_move_meets_the_same_rules_from_the_api_and_from_the_page() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let citizen = app.citizen_token(HOST, "dan@example.vn").await;
    let (official, mut page) = staff_member(&app, "canbo@hanoi.gov.vn", StaffRole::Official).await;
    let by_api = app.submit_complete_licence_renewal(HOST, &citizen).await;
    let by_page = app.submit_complete_licence_renewal(HOST, &citizen).await;

    // (move, note, fee) → the status both must answer: refusals first, then the way through.
    let steps: [(&str, &str, &str, u16); 9] = [
        ("refuse", "", "", 422),
        ("fly", "", "", 422),
        ("submit", "", "", 422),
        ("process", "", "", 409),
        ("accept", "", "", 200),
        ("process", "", "", 200),
        ("request_payment", "", "", 422),
        ("request_payment", "", "135000", 200),
        ("resolve", "", "", 409),
    ];
    for (action, note, fee, expected) in steps {
        let mut body = json!({"action": action});
        if !note.is_empty() {
            body["note"] = json!(note);
        }
        if !fee.is_empty() {
            body["fee_vnd"] = json!(fee.parse::<i64>().unwrap());
        }
        let api = app.act(HOST, &official, &by_api, body).await.status();
        assert_eq!(api, expected, "API {action}");
        let shown = page
            .act(
                &by_page,
                &[("action", action), ("note", note), ("fee_vnd", fee)],
            )
            .await;
        let page_expected = if expected == 200 { 303 } else { expected };
        assert_eq!(shown.status, page_expected, "page {action}: {}", shown.body);
    }
    let (a, b) = (
        managed(&app, &official, &by_api).await,
        managed(&app, &official, &by_page).await,
    );
    assert_eq!(a["status"], "payment_requested");
    assert_eq!(a["status"], b["status"]);
    assert_eq!(a["fee_vnd"], b["fee_vnd"]);
    let moves = |v: &Value| -> Vec<(String, String)> {
        v["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| (h["action"].to_string(), h["status"].to_string()))
            .collect()
    };
    assert_eq!(moves(&a), moves(&b));

    // A citizen's move is not staff's: 403 from both.
    let res = app
        .act(HOST, &official, &by_api, json!({"action": "pay"}))
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(page.act(&by_page, &[("action", "pay")]).await.status, 403);
}

#[tokio::test]
async fn a_counter_dossier_is_checked_and_filed_the_same_from_the_api_and_the_page() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let (official, mut page) = staff_member(&app, "canbo@hanoi.gov.vn", StaffRole::Official).await;
    let mut fields = crate::helpers::licence_renewal()["fields"].clone();
    fields["phone"] = json!("");

    // Every mistake at once: a form field and the email.
    let res = app
        .post_json(
            HOST,
            "/api/v1/manage/dossiers",
            Some(&official),
            &json!({"procedure_code": "GPLX-001", "fields": fields, "contact_email": "not-an-email"}),
        )
        .await;
    assert_eq!(res.status(), 422);
    let body = json_of(res).await;
    assert!(body["error"]["fields"]["phone"].is_string(), "{body}");
    assert!(
        body["error"]["fields"]["contact_email"].is_string(),
        "{body}"
    );
    let mut form: Vec<(String, String)> = fields
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    form.push(("procedure_code".into(), "GPLX-001".into()));
    form.push(("contact_email".into(), "not-an-email".into()));
    let as_refs = |form: &[(String, String)]| -> Vec<(String, String)> { form.to_vec() };
    let sent = as_refs(&form);
    let pairs: Vec<(&str, &str)> = sent.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let refused = post_from(
        &mut page,
        "/manage/dossiers/new?procedure=GPLX-001",
        "/manage/dossiers/new",
        &pairs,
    )
    .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("href=\"#phone\""), "{}", refused.body);
    assert!(
        refused.body.contains("href=\"#contact_email\""),
        "{}",
        refused.body
    );

    // Filed: channel counter, by this staff member, in both ways.
    for (k, v) in form.iter_mut() {
        match k.as_str() {
            "phone" => *v = "0912 345 678".into(),
            "contact_email" => *v = "dan@example.vn".into(),
            _ => {}
        }
    }
    fields["phone"] = json!("0912 345 678");
    let res = app
        .post_json(
            HOST,
            "/api/v1/manage/dossiers",
            Some(&official),
            &json!({"procedure_code": "GPLX-001", "fields": fields, "contact_email": "dan@example.vn"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let api_code = json_of(res).await["tracking_code"]
        .as_str()
        .unwrap()
        .to_string();
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let filed = post_from(
        &mut page,
        "/manage/dossiers/new?procedure=GPLX-001",
        "/manage/dossiers/new",
        &pairs,
    )
    .await;
    assert_eq!(filed.status, 303, "{}", filed.body);
    let page_code = filed
        .location
        .trim_start_matches("/manage/dossiers/")
        .trim_end_matches("/receipt")
        .to_string();
    let (a, b) = (
        managed(&app, &official, &api_code).await,
        managed(&app, &official, &page_code).await,
    );
    for v in [&a, &b] {
        assert_eq!(v["channel"], "counter");
        assert_eq!(v["status"], "submitted");
        assert_eq!(v["answers"]["phone"], a["answers"]["phone"]);
        // Its documents were handed over on paper at the counter: none is owed here.
        assert_eq!(missing_fields(v), Vec::<String>::new());
    }
    let res = app
        .act(HOST, &official, &api_code, json!({"action": "accept"}))
        .await;
    assert_eq!(res.status(), 200);
    let accepted = page.act(&page_code, &[("action", "accept")]).await;
    assert_eq!(accepted.status, 303, "{}", accepted.body);
    // A switched-off procedure is refused by both (422).
    let admin = app
        .staff_token("ha-noi", "admin@hanoi.gov.vn", StaffRole::Admin)
        .await;
    let res = app
        .client
        .put(app.url("/api/v1/manage/procedures/GPLX-001"))
        .header("Host", HOST)
        .bearer_auth(&admin)
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .post_json(
            HOST,
            "/api/v1/manage/dossiers",
            Some(&official),
            &json!({"procedure_code": "GPLX-001", "fields": fields}),
        )
        .await;
    assert_eq!(res.status(), 422);
    let refused = post_from(
        &mut page,
        "/manage/dossiers/new",
        "/manage/dossiers/new",
        &pairs,
    )
    .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
}

/// Whether the province's public list offers GPLX-001.
async fn listed(app: &TestApp) -> bool {
    let list = json_of(app.get(HOST, "/api/v1/procedures").await).await;
    list.as_array()
        .unwrap()
        .iter()
        .any(|p| p["code"] == "GPLX-001")
}

async fn put_json(app: &TestApp, token: &str, path: &str, body: Value) -> reqwest::Response {
    app.client
        .put(app.url(path))
        .header("Host", HOST)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_admins_actions_are_the_same_from_the_api_and_the_pages() {
    let app = TestApp::spawn().await;
    let t = app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let (admin, mut page) = staff_member(&app, "admin@hanoi.gov.vn", StaffRole::Admin).await;

    // Branding: a low-contrast colour is 422 from both; a good one is saved by both.
    let brand = |color: &str| json!({"display_name": "Hà Nội", "accent_color": color, "hotline": "", "address": "", "banner": ""});
    let res = put_json(&app, &admin, "/api/v1/manage/branding", brand("#ffff00")).await;
    assert_eq!(res.status(), 422);
    let form = |color: &'static str| {
        [
            ("display_name", "Hà Nội"),
            ("accent_color", color),
            ("hotline", ""),
            ("address", ""),
            ("banner", ""),
        ]
    };
    let refused = post_from(
        &mut page,
        "/manage/admin",
        "/manage/admin/branding",
        &form("#ffff00"),
    )
    .await;
    assert_eq!(refused.status, 422);
    let res = put_json(&app, &admin, "/api/v1/manage/branding", brand("#1d4ed8")).await;
    assert_eq!(res.status(), 200);
    let saved = post_from(
        &mut page,
        "/manage/admin",
        "/manage/admin/branding",
        &form("#0b5394"),
    )
    .await;
    assert_eq!(saved.status, 303);
    let b = json_of(
        app.get_with_token(HOST, "/api/v1/manage/branding", &admin)
            .await,
    )
    .await;
    assert_eq!(b["accent_color"], "#0b5394");

    // Procedures: off by the API, on again by the page; the public list follows at once.
    assert!(listed(&app).await);
    let res = put_json(
        &app,
        &admin,
        "/api/v1/manage/procedures/GPLX-001",
        json!({"enabled": false}),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert!(!listed(&app).await);
    let switched = post_from(
        &mut page,
        "/manage/admin/procedures",
        "/manage/admin/procedures/GPLX-001",
        &[("enabled", "true")],
    )
    .await;
    assert_eq!(switched.status, 303);
    assert!(listed(&app).await);
    let res = put_json(
        &app,
        &admin,
        "/api/v1/manage/procedures/NOPE-001",
        json!({"enabled": false}),
    )
    .await;
    assert_eq!(res.status(), 404);
    let unknown = post_from(
        &mut page,
        "/manage/admin/procedures",
        "/manage/admin/procedures/NOPE-001",
        &[("enabled", "false")],
    )
    .await;
    assert_eq!(unknown.status, 404);

    // Invitations: every mistake at once (422), a taken email 409, from both.
    let res = app
        .post_json(
            HOST,
            "/api/v1/manage/users",
            Some(&admin),
            &json!({"email": "not-an-email", "full_name": " ", "role": "official"}),
        )
        .await;
    assert_eq!(res.status(), 422);
    let body = json_of(res).await;
    assert!(body["error"]["fields"]["email"].is_string(), "{body}");
    assert!(body["error"]["fields"]["full_name"].is_string(), "{body}");
    let invite = |email: &'static str| [("email", email), ("full_name", " "), ("role", "official")];
    let refused = post_from(
        &mut page,
        "/manage/admin/staff",
        "/manage/admin/staff",
        &invite("not-an-email"),
    )
    .await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.body.contains("href=\"#email\"") && refused.body.contains("href=\"#full_name\"")
    );
    let res = app
        .post_json(
            HOST,
            "/api/v1/manage/users",
            Some(&admin),
            &json!({"email": "binh@hanoi.gov.vn", "full_name": "Trần Văn Bình", "role": "official"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let binh = json_of(res).await["id"].as_str().unwrap().to_string();
    let res = app
        .post_json(
            HOST,
            "/api/v1/manage/users",
            Some(&admin),
            &json!({"email": "binh@hanoi.gov.vn", "full_name": "Trần Văn Bình", "role": "official"}),
        )
        .await;
    assert_eq!(res.status(), 409);
    let taken = post_from(
        &mut page,
        "/manage/admin/staff",
        "/manage/admin/staff",
        &[
            ("email", "binh@hanoi.gov.vn"),
            ("full_name", "Trần Văn Bình"),
            ("role", "official"),
        ],
    )
    .await;
    assert_eq!(taken.status, 409);
    let invited = post_from(
        &mut page,
        "/manage/admin/staff",
        "/manage/admin/staff",
        &[
            ("email", "an@hanoi.gov.vn"),
            ("full_name", "Lê Thị An"),
            ("role", "admin"),
        ],
    )
    .await;
    assert_eq!(invited.status, 303);
    // Both invitations were mailed and counted as seats.
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    use diesel::RunQueryDsl;
    let mails: N = diesel::sql_query(format!(
        "SELECT count(*) AS n FROM {}.outbox WHERE kind = 'staff_invitation'",
        t.schema
    ))
    .get_result(&mut app.raw_connection())
    .unwrap();
    assert_eq!(mails.n, 2);
    let usage = json_of(
        app.get_with_token(HOST, "/api/v1/manage/usage", &admin)
            .await,
    )
    .await;
    assert_eq!(usage["metrics"]["seats"]["used"], 3, "{usage}");

    // Deactivation: never oneself (409 from both); another by either, back by the other.
    let me = json_of(app.get_with_token(HOST, "/api/v1/me", &admin).await).await;
    let me = me["id"].as_str().unwrap().to_string();
    let res = app
        .post_json(
            HOST,
            &format!("/api/v1/manage/users/{me}/deactivate"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 409);
    assert_eq!(error_code(res).await, "self_deactivation");
    let myself = post_from(
        &mut page,
        "/manage/admin/staff",
        &format!("/manage/admin/staff/{me}/deactivate"),
        &[],
    )
    .await;
    assert_eq!(myself.status, 409);
    let res = app
        .post_json(
            HOST,
            &format!("/api/v1/manage/users/{binh}/deactivate"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(json_of(res).await["active"], false);
    let back = post_from(
        &mut page,
        "/manage/admin/staff",
        &format!("/manage/admin/staff/{binh}/activate"),
        &[],
    )
    .await;
    assert_eq!(back.status, 303);
    let team = json_of(
        app.get_with_token(HOST, "/api/v1/manage/users", &admin)
            .await,
    )
    .await;
    let row = team
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == binh.as_str())
        .unwrap();
    assert_eq!(row["active"], true);

    // Removing a logo there is none of: 404 from both.
    let res = app
        .client
        .delete(app.url("/api/v1/manage/logo"))
        .header("Host", HOST)
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let none = post_from(&mut page, "/manage/admin", "/manage/admin/logo/delete", &[]).await;
    assert_eq!(none.status, 404);
}

#[tokio::test]
async fn an_invitation_refuses_the_same_weak_password_from_the_api_and_the_page() {
    let app = TestApp::spawn().await;
    let t = app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let admin = app
        .staff_token("ha-noi", "admin@hanoi.gov.vn", StaffRole::Admin)
        .await;
    for email in ["binh@hanoi.gov.vn", "an@hanoi.gov.vn"] {
        let res = app
            .post_json(
                HOST,
                "/api/v1/manage/users",
                Some(&admin),
                &json!({"email": email, "full_name": "Cán bộ Mới", "role": "official"}),
            )
            .await;
        assert_eq!(res.status(), 201);
    }
    #[derive(diesel::QueryableByName)]
    struct Mail {
        #[diesel(sql_type = diesel::sql_types::Text)]
        to_email: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        body: String,
    }
    use diesel::RunQueryDsl;
    let mails: Vec<Mail> = diesel::sql_query(format!(
        "SELECT to_email, body FROM {}.outbox WHERE kind = 'staff_invitation' ORDER BY to_email",
        t.schema
    ))
    .load(&mut app.raw_connection())
    .unwrap();
    let token = |m: &Mail| {
        m.body
            .split("/invitations/")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    };
    let (an, binh) = (token(&mails[0]), token(&mails[1]));
    assert_eq!(mails[1].to_email, "binh@hanoi.gov.vn");

    // The account's own email as its password: refused by the API and the page.
    let weak = "binh@hanoi.gov.vn";
    let res = app
        .post_json(
            HOST,
            &format!("/api/v1/auth/invitations/{binh}"),
            None,
            &json!({"password": weak}),
        )
        .await;
    assert_eq!(res.status(), 422);
    let mut b = Browser::new(&app, HOST);
    let weak_an = "an@hanoi.gov.vn";
    let refused = post_from(
        &mut b,
        &format!("/invitations/{an}"),
        &format!("/invitations/{an}"),
        &[("password", weak_an)],
    )
    .await;
    assert_eq!(refused.status, 422, "{}", refused.body);

    // A good one sets it once, from either.
    let res = app
        .post_json(
            HOST,
            &format!("/api/v1/auth/invitations/{binh}"),
            None,
            &json!({"password": "mot-mat-khau-moi-2026"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let done = post_from(
        &mut b,
        &format!("/invitations/{an}"),
        &format!("/invitations/{an}"),
        &[("password", "mot-mat-khau-moi-2026")],
    )
    .await;
    assert_eq!(done.status, 303);
    // Spent: 404 from both.
    let res = app
        .post_json(
            HOST,
            &format!("/api/v1/auth/invitations/{an}"),
            None,
            &json!({"password": "mot-mat-khau-moi-2026"}),
        )
        .await;
    assert_eq!(res.status(), 404);
    assert_eq!(b.get(&format!("/invitations/{binh}")).await.status, 404);
}
