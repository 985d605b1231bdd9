//! Attacks with SQL metacharacters in every text field and query parameter: stored and
//! returned verbatim, never an error, and no other row touched.

use portal::accounts::staff::StaffRole;
use serde_json::{Value, json};

use crate::attacks_kit::{count, refused, text};
use crate::browser::Browser;
use crate::helpers::{CITIZEN_PASSWORD, TestApp, licence_renewal};

const HN: &str = "ha-noi.localhost";

/// Strings that end a quoted literal, comment out the rest, stack a statement, or mean
/// something to LIKE, to dollar quoting, to escapes or to placeholders.
const SQL: [&str; 8] = [
    "Robert'); DROP TABLE identity.citizens; --",
    "' OR '1'='1",
    "x\"; DROP SCHEMA public CASCADE; --",
    "100% _under_ \\ backslash",
    "$$; SELECT pg_sleep(10); $$",
    "E'\\x27' || chr(39) || $1",
    "1; UPDATE dossiers SET status = 'returned' --",
    "*/ SELECT /* `tick` ; ",
];

async fn json_of(res: reqwest::Response) -> Value {
    let status = res.status();
    let body = res.text().await.unwrap();
    assert!(status.is_success(), "{status}: {body}");
    serde_json::from_str(&body).unwrap()
}

#[tokio::test]
async fn sql_metacharacters_in_registration_and_sign_in_are_plain_text() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    app.citizen_token(HN, "bystander@example.vn").await;
    for (i, name) in SQL.iter().enumerate() {
        let name = name.trim();
        let email = format!("o'brien-{i}--%_\\x@example.vn");
        let res = app
            .post_json(
                HN,
                "/api/v1/auth/register",
                None,
                &json!({"email": email, "password": CITIZEN_PASSWORD, "full_name": name}),
            )
            .await;
        let body = json_of(res).await;
        assert_eq!(body["full_name"], name);
        assert_eq!(body["email"], email);
        // The account signs in with exactly that address, and only with it.
        app.token(HN, &email, CITIZEN_PASSWORD).await;
        assert_eq!(
            text(
                &app,
                &format!(
                    "SELECT full_name AS t FROM identity.citizens WHERE id = '{}'",
                    body["id"].as_str().unwrap()
                )
            ),
            name
        );
    }
    // Sign-in with an injection for an address: the same 401 as any wrong address.
    for email in [
        "' OR '1'='1",
        "' OR 1=1 --",
        "bystander@example.vn' --",
        "%",
    ] {
        let res = app
            .post_json(
                HN,
                "/api/v1/auth/token",
                None,
                &json!({"email": email, "password": "' OR '1'='1"}),
            )
            .await;
        refused(res, 401, "unauthorized").await;
    }
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM identity.citizens"),
        1 + SQL.len() as i64
    );
    app.token(HN, "bystander@example.vn", CITIZEN_PASSWORD)
        .await;
}

#[tokio::test]
async fn sql_metacharacters_in_dossier_answers_and_counter_fields_round_trip_verbatim() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let citizen = app.citizen_token(HN, "dan@example.vn").await;
    let official = app
        .staff_token("ha-noi", "canbo@hanoi.gov.vn", StaffRole::Official)
        .await;
    let bystander = app.submit_licence_renewal(HN, &citizen).await;
    let mut codes = Vec::new();
    for (i, evil) in SQL.iter().enumerate() {
        let evil = evil.trim();
        let mut body = licence_renewal();
        body["fields"]["full_name"] = json!(evil);
        body["fields"]["delivery_address"] = json!(format!("{evil} {i}"));
        body["fields"]["licence_number"] = json!("1' OR '1'='1");
        let (token, path) = if i % 2 == 0 {
            (&citizen, "/api/v1/dossiers")
        } else {
            body["contact_email"] = json!(format!("o'hara-{i}@example.vn"));
            (&official, "/api/v1/manage/dossiers")
        };
        let res = app.post_json(HN, path, Some(token), &body).await;
        let created = json_of(res).await;
        let code = created["tracking_code"].as_str().unwrap().to_string();
        let view = json_of(
            app.get_with_token(HN, &format!("/api/v1/manage/dossiers/{code}"), &official)
                .await,
        )
        .await;
        assert_eq!(view["answers"]["full_name"], evil);
        assert_eq!(view["applicant_name"], evil);
        assert_eq!(view["answers"]["delivery_address"], format!("{evil} {i}"));
        assert_eq!(view["answers"]["licence_number"], "1' OR '1'='1");
        assert_eq!(view["status"], "submitted");
        codes.push(code);
    }
    // Every row is there, the bystander's untouched.
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM t_ha_noi.dossiers"),
        1 + SQL.len() as i64
    );
    let view = json_of(
        app.get_with_token(HN, &format!("/api/v1/dossiers/{bystander}"), &citizen)
            .await,
    )
    .await;
    for k in [
        "full_name",
        "delivery_address",
        "licence_number",
        "id_number",
    ] {
        assert_eq!(view["answers"][k], licence_renewal()["fields"][k], "{k}");
    }
    assert_eq!(view["history"].as_array().unwrap().len(), 1);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM t_ha_noi.outbox WHERE to_email LIKE 'o''hara-%'"
        ),
        (SQL.len() / 2) as i64,
        "counter dossiers mail the address given, quote and all"
    );
}

#[tokio::test]
async fn sql_metacharacters_in_notes_ratings_and_staff_names_round_trip_verbatim() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let citizen = app.citizen_token(HN, "dan@example.vn").await;
    let admin = app
        .staff_token("ha-noi", "admin@hanoi.gov.vn", StaffRole::Admin)
        .await;
    let code = app.submit_complete_licence_renewal(HN, &citizen).await;
    let other = app.submit_licence_renewal(HN, &citizen).await;
    // Notes on every move that takes one.
    let moves = [
        json!({"action": "accept"}),
        json!({"action": "request_supplement", "note": SQL[6]}),
    ];
    for m in moves {
        assert_eq!(app.act(HN, &admin, &code, m).await.status(), 200);
    }
    let res = app
        .post_json(
            HN,
            &format!("/api/v1/dossiers/{code}/supplement"),
            Some(&citizen),
            &json!({"fields": {"phone": "0987654321"}, "note": SQL[0]}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let later = portal::clock::today_vn() + chrono::Duration::days(40);
    for m in [
        json!({"action": "extend", "note": SQL[1], "due_on": later}),
        json!({"action": "resolve", "note": SQL[3]}),
        json!({"action": "return_result", "note": SQL[4]}),
    ] {
        if m["action"] == "return_result" {
            app.give_result(HN, &admin, &code).await;
        }
        let res = app.act(HN, &admin, &code, m.clone()).await;
        assert_eq!(res.status(), 200, "{m}");
    }
    let res = app
        .post_json(
            HN,
            &format!("/api/v1/dossiers/{code}/rating"),
            Some(&citizen),
            &json!({"score": 5, "comment": SQL[5]}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let view = json_of(
        app.get_with_token(HN, &format!("/api/v1/dossiers/{code}"), &citizen)
            .await,
    )
    .await;
    let notes: Vec<&str> = view["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["note"].as_str())
        .collect();
    for n in [SQL[6], SQL[1], SQL[3], SQL[4]] {
        assert!(notes.contains(&n.trim()), "{n} in {notes:?}");
    }
    assert_eq!(view["status"], "returned");
    assert_eq!(
        text(&app, "SELECT comment AS t FROM t_ha_noi.ratings"),
        SQL[5].trim()
    );
    // The other dossier did not move, whatever the notes said.
    let untouched = json_of(
        app.get_with_token(HN, &format!("/api/v1/dossiers/{other}"), &citizen)
            .await,
    )
    .await;
    assert_eq!(untouched["status"], "submitted");
    // Staff names from an invitation.
    for (i, name) in SQL.iter().enumerate() {
        let res = app
            .post_json(
                HN,
                "/api/v1/manage/users",
                Some(&admin),
                &json!({"email": format!("o'neil{i}@hanoi.gov.vn"), "full_name": name, "role": "official"}),
            )
            .await;
        let body = json_of(res).await;
        assert_eq!(body["full_name"], name.trim());
    }
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM t_ha_noi.staff"),
        1 + SQL.len() as i64
    );
}

#[tokio::test]
async fn sql_metacharacters_in_branding_tenants_plans_and_subscriptions_round_trip_verbatim() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let admin = app
        .staff_token("ha-noi", "admin@hanoi.gov.vn", StaffRole::Admin)
        .await;
    let op = app.operator_token().await;
    let branding = json!({
        "display_name": "Hà Nội'; DROP TABLE branding; --",
        "accent_color": "#0b5394",
        "hotline": "(024) 1022",
        "address": SQL[0],
        "banner": SQL[3],
    });
    let res = app
        .client
        .put(app.url("/api/v1/manage/branding"))
        .header("Host", HN)
        .bearer_auth(&admin)
        .json(&branding)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let got = json_of(
        app.get_with_token(HN, "/api/v1/manage/branding", &admin)
            .await,
    )
    .await;
    for k in ["display_name", "address", "banner"] {
        assert_eq!(got[k], branding[k], "{k}");
    }
    // A province whose name is an injection, created by the operator's API.
    let name = "Tỉnh \"Thử\" '); DROP SCHEMA public CASCADE; --";
    let res = app
        .post_json(
            "ops.localhost",
            "/api/v1/tenants",
            Some(&op),
            &json!({"slug": "thu-nghiem", "name": name, "plan": "standard"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let got = json_of(
        app.get_with_token("ops.localhost", "/api/v1/tenants/thu-nghiem", &op)
            .await,
    )
    .await;
    assert_eq!(got["name"], name);
    let provinces = json_of(app.get("localhost", "/api/v1/provinces").await).await;
    assert!(
        provinces
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == name)
    );
    assert_eq!(count(&app, "SELECT count(*) AS n FROM public.tenants"), 2);
    // A plan and a subscription request.
    let mut plan = json_of(
        app.get_with_token("ops.localhost", "/api/v1/plans", &op)
            .await,
    )
    .await
    .as_array()
    .unwrap()
    .iter()
    .find(|p| p["code"] == "standard")
    .unwrap()
    .clone();
    plan["name"] = json!("Gói 'Chuẩn'; DELETE FROM plans; --");
    let res = app
        .client
        .put(app.url("/api/v1/plans/standard"))
        .header("Host", "ops.localhost")
        .bearer_auth(&op)
        .json(&plan)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let plans = json_of(
        app.get_with_token("ops.localhost", "/api/v1/plans", &op)
            .await,
    )
    .await;
    assert!(
        plans
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == plan["name"])
    );
    assert!(plans.as_array().unwrap().len() > 1, "other plans remain");
    let res = app
        .post_json(
            "localhost",
            "/api/v1/subscriptions",
            None,
            &json!({"province_name": "Tỉnh O'Reilly; --", "slug": "o-reilly", "contact_email": "a'b@example.vn", "plan": "standard"}),
        )
        .await;
    assert_eq!(res.status(), 202);
    app.verify_subscriptions().await;
    let list = json_of(
        app.get_with_token("ops.localhost", "/api/v1/subscriptions", &op)
            .await,
    )
    .await;
    assert_eq!(list["items"][0]["province_name"], "Tỉnh O'Reilly; --");
    assert_eq!(list["items"][0]["contact_email"], "a'b@example.vn");
}

#[tokio::test]
async fn sql_metacharacters_in_query_and_path_parameters_are_plain_values() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    app.create_tenant("quang-ninh", "Tỉnh Quảng Ninh").await;
    let citizen = app.citizen_token(HN, "dan@example.vn").await;
    let code = app.submit_licence_renewal(HN, &citizen).await;
    let official = app
        .staff_token("ha-noi", "canbo@hanoi.gov.vn", StaffRole::Official)
        .await;
    let op = app.operator_token().await;
    let queue = |q: String| {
        let (app, official) = (&app, &official);
        async move {
            app.client
                .get(app.url("/api/v1/manage/dossiers"))
                .query(&[("q", q.as_str())])
                .header("Host", HN)
                .bearer_auth(official)
                .send()
                .await
                .unwrap()
        }
    };
    // The search finds the dossier by its code and by nothing else.
    assert_eq!(
        json_of(queue(code.clone()).await)
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    for q in SQL.iter().chain(&["%", "_", "*", "' OR ''='"]) {
        let list = json_of(queue(q.to_string()).await).await;
        assert_eq!(list, json!([]), "q={q:?}");
    }
    // Other parameters: a status with a tail, a page that is not a number, pages at the
    // ends of the integer range.
    let get = |path: &str| {
        let (app, official, path) = (&app, &official, path.to_string());
        async move { app.get_with_token(HN, &path, official).await }
    };
    let body = refused(
        get("/api/v1/manage/dossiers?status=submitted'%20OR%20'1'%3D'1").await,
        422,
        "validation_failed",
    )
    .await;
    assert!(body["error"]["fields"]["status"].is_string());
    refused(
        get("/api/v1/manage/dossiers?page=1%3BDROP%20TABLE%20dossiers").await,
        400,
        "malformed",
    )
    .await;
    for page in ["9223372036854775807", "-9223372036854775808", "0"] {
        let res = get(&format!("/api/v1/manage/dossiers?page={page}")).await;
        assert_eq!(res.status(), 200, "page={page}");
    }
    // Periods anywhere they are taken.
    let period = "2026-11'%20OR%20'1'%3D'1";
    for (host, path, token) in [
        (HN, format!("/api/v1/manage/usage?period={period}"), None),
        (
            "ops.localhost",
            format!("/api/v1/tenants/ha-noi/usage?period={period}"),
            Some(&op),
        ),
        (
            "ops.localhost",
            format!("/api/v1/invoices?period={period}"),
            Some(&op),
        ),
        ("localhost", format!("/api/v1/index?period={period}"), None),
    ] {
        let admin;
        let token = match token {
            Some(t) => t.clone(),
            None => {
                admin = app
                    .staff_token("ha-noi", "admin@hanoi.gov.vn", StaffRole::Admin)
                    .await;
                admin
            }
        };
        let res = app.get_with_token(host, &path, &token).await;
        let status = res.status().as_u16();
        let body = refused(
            res,
            status,
            if status == 400 {
                "malformed"
            } else {
                "validation_failed"
            },
        )
        .await;
        assert!(matches!(status, 400 | 422), "{host}{path}: {body}");
    }
    // Tracking with an injected citizen ID, path parameters with quotes.
    refused(
        app.get(
            HN,
            &format!("/api/v1/tracking/{code}?id_number=%27%20OR%201%3D1%20--"),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    refused(
        app.get(
            HN,
            "/api/v1/tracking/'%20OR%20'1'%3D'1?id_number=001090012345",
        )
        .await,
        404,
        "not_found",
    )
    .await;
    refused(
        app.get_with_token("ops.localhost", "/api/v1/tenants/x'%20OR%20'1'%3D'1", &op)
            .await,
        404,
        "not_found",
    )
    .await;
    refused(
        app.get(HN, "/api/v1/procedures/GPLX-001'%20--").await,
        404,
        "not_found",
    )
    .await;
    // The pages' searches: nothing listed, no error.
    let page = Browser::new(&app, "localhost")
        .get("/?q=%27%20OR%201%3D1%20--")
        .await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("Thành phố Hà Nội") && !page.body.contains("Tỉnh Quảng Ninh"));
    let page = Browser::new(&app, "localhost").get("/?q=%25").await;
    assert!(!page.body.contains("Thành phố Hà Nội"));
    let mut staff = Browser::new(&app, HN);
    staff
        .sign_in_as(
            "canbo@hanoi.gov.vn",
            crate::helpers::STAFF_PASSWORD,
            "/manage",
        )
        .await;
    let page = staff.get("/manage?q=%27%20OR%20%271%27%3D%271").await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains(&format!("/manage/dossiers/{code}")));
    let page = staff.get("/manage?page=9223372036854775807").await;
    assert_eq!(page.status, 200);
    assert_eq!(
        text(&app, "SELECT status AS t FROM t_ha_noi.dossiers"),
        "submitted"
    );
}

#[tokio::test]
async fn sql_metacharacters_in_billing_and_decision_fields_round_trip_verbatim() {
    let app = TestApp::spawn().await;
    let numbers = crate::invoice_pages::closed_october(&app).await;
    let op = app.operator_token().await;
    let totals = "SELECT sum(total_vnd)::bigint AS n FROM public.invoices";
    let before = count(&app, totals);
    let reference = "UNC'; UPDATE invoices SET total_vnd = 0; --";
    let res = app
        .post_json(
            "ops.localhost",
            &format!("/api/v1/invoices/{}/pay", numbers[0]),
            Some(&op),
            &json!({"reference": reference}),
        )
        .await;
    let paid = json_of(res).await;
    assert_eq!(paid["status"], "paid");
    let reason = SQL[0];
    let res = app
        .post_json(
            "ops.localhost",
            &format!("/api/v1/invoices/{}/void", numbers[1]),
            Some(&op),
            &json!({"reason": reason}),
        )
        .await;
    assert_eq!(json_of(res).await["status"], "void");
    assert_eq!(
        text(
            &app,
            &format!(
                "SELECT payment_reference AS t FROM public.invoices WHERE number = '{}'",
                numbers[0]
            )
        ),
        format!("bank:{reference}"),
        "kept as given, after the method's prefix"
    );
    assert_eq!(
        text(&app, "SELECT reason AS t FROM public.credit_notes"),
        reason
    );
    assert_eq!(count(&app, totals), before, "no total was rewritten");
    // A subscription declined with an injection for a reason.
    let res = app
        .post_json(
            "localhost",
            "/api/v1/subscriptions",
            None,
            &json!({"province_name": "Tỉnh Mới", "slug": "tinh-moi", "contact_email": "a@tinhmoi.vn", "plan": "standard"}),
        )
        .await;
    let id = json_of(res).await["id"].as_str().unwrap().to_string();
    app.verify_subscriptions().await;
    let res = app
        .post_json(
            "ops.localhost",
            &format!("/api/v1/subscriptions/{id}/decline"),
            Some(&op),
            &json!({"reason": SQL[6]}),
        )
        .await;
    let declined = json_of(res).await;
    assert_eq!(declined["status"], "declined");
    assert_eq!(declined["reason"], SQL[6]);
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM public.tenants"),
        2,
        "no province appeared or vanished"
    );
}
