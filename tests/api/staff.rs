//! Officials at work: every move over HTTP, deadlines, and who may do what where.

use diesel::prelude::*;
use diesel::sql_query;
use portal::accounts::staff::StaffRole;
use portal::clock::today_vn;

use crate::helpers::{TestApp, World, error_code};

fn status(body: &serde_json::Value) -> &str {
    body["status"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn an_official_takes_a_dossier_from_acceptance_to_the_citizens_rating() {
    let w = World::at("ha-noi", "Thành phố Hà Nội")
        .citizen("dan@example.vn")
        .staff(StaffRole::Official, "canbo@hanoi.gov.vn")
        .complete_dossier()
        .await;
    let (app, host) = (&w.app, w.host.as_str());
    let (citizen, official, code) = (w.citizen(), w.official(), w.dossier());

    // The queue shows it; a bad status filter is 422.
    let queue: serde_json::Value = app
        .get_with_token(host, "/api/v1/manage/dossiers?status=submitted", official)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(queue[0]["tracking_code"], code);
    assert_eq!(
        app.get_with_token(host, "/api/v1/manage/dossiers?status=lost", official)
            .await
            .status(),
        422
    );
    let by_id: serde_json::Value = app
        .get_with_token(
            host,
            &format!("/api/v1/manage/dossiers?q={}", crate::helpers::CITIZEN_ID),
            official,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_id.as_array().unwrap().len(), 1);

    // Refuse needs a note; processing before acceptance is 409.
    let res = app
        .act(
            host,
            official,
            code,
            serde_json::json!({"action": "refuse"}),
        )
        .await;
    assert_eq!(res.status(), 422);
    let res = app
        .act(
            host,
            official,
            code,
            serde_json::json!({"action": "process"}),
        )
        .await;
    assert_eq!(res.status(), 409);
    assert_eq!(error_code(res).await, "invalid_transition");
    let res = app
        .act(host, official, code, serde_json::json!({"action": "fly"}))
        .await;
    assert_eq!(res.status(), 422);

    // Accept: due_on is 5 working days on (GPLX-001), in the future.
    let d: serde_json::Value = app
        .act(
            host,
            official,
            code,
            serde_json::json!({"action": "accept"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status(&d), "accepted");
    let due: chrono::NaiveDate = d["due_on"].as_str().unwrap().parse().unwrap();
    // Five working days from today on the platform's calendar (around Tết, two weeks or more).
    let cal = app.state.calendar.get(&app.state.db).await.unwrap();
    assert_eq!(due, cal.add_working_days(today_vn(), 5), "{due}");

    // A citizen cannot make a staff move, and an official cannot make a citizen move.
    let res = app
        .act(
            host,
            citizen,
            code,
            serde_json::json!({"action": "process"}),
        )
        .await;
    assert_eq!(res.status(), 403);
    let res = app
        .act(
            host,
            official,
            code,
            serde_json::json!({"action": "withdraw"}),
        )
        .await;
    assert_eq!(res.status(), 403);

    // Supplement: the clock stops, the citizen answers, the clock runs again (same day: no move).
    let d: serde_json::Value = app
        .act(
            host,
            official,
            code,
            serde_json::json!({"action": "request_supplement", "note": "Thiếu giấy khám sức khỏe"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status(&d), "supplement_requested");
    let res = app
        .post_json(
            host,
            &format!("/api/v1/dossiers/{code}/supplement"),
            Some(citizen),
            &serde_json::json!({"fields": {"phone": "0987654321"}}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let d: serde_json::Value = res.json().await.unwrap();
    assert_eq!(status(&d), "processing");
    assert_eq!(d["answers"]["phone"], "0987654321");
    assert_eq!(d["due_on"].as_str().unwrap(), due.to_string());

    // Extend: a later date and a note; an earlier date is refused.
    let res = app
        .act(host, official, code, serde_json::json!({"action": "extend", "note": "Chờ xác minh", "due_on": today_vn().to_string()}))
        .await;
    assert_eq!(res.status(), 422);
    let later = due + chrono::Duration::days(7);
    let d: serde_json::Value = app
        .act(host, official, code, serde_json::json!({"action": "extend", "note": "Chờ xác minh", "due_on": later.to_string()}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status(&d), "processing");
    assert_eq!(d["due_on"].as_str().unwrap(), later.to_string());

    // Fee: requested, paid by the citizen through the sandbox provider.
    let res = app
        .act(
            host,
            official,
            code,
            serde_json::json!({"action": "request_payment"}),
        )
        .await;
    assert_eq!(res.status(), 422, "fee_vnd is required");
    let d: serde_json::Value = app
        .act(
            host,
            official,
            code,
            serde_json::json!({"action": "request_payment", "fee_vnd": 135000}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status(&d), "payment_requested");
    assert_eq!(d["fee_vnd"], 135000);
    // Rating before the end is refused.
    let res = app
        .post_json(
            host,
            &format!("/api/v1/dossiers/{code}/rating"),
            Some(citizen),
            &serde_json::json!({"score": 5}),
        )
        .await;
    assert_eq!(res.status(), 409);
    let res = app
        .post_json(
            host,
            &format!("/api/v1/dossiers/{code}/pay"),
            Some(citizen),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        status(&res.json::<serde_json::Value>().await.unwrap()),
        "processing"
    );

    let d: serde_json::Value = app
        .act(
            host,
            official,
            code,
            serde_json::json!({"action": "resolve"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status(&d), "resolved");
    app.give_result(host, official, code).await;
    let d: serde_json::Value = app
        .act(
            host,
            official,
            code,
            serde_json::json!({"action": "return_result"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status(&d), "returned");
    let statuses: Vec<&str> = d["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "submitted",
            "accepted",
            "supplement_requested",
            "processing",
            "processing",
            "payment_requested",
            "processing",
            "resolved",
            "returned"
        ]
    );

    // The citizen rates once.
    let res = app
        .post_json(
            host,
            &format!("/api/v1/dossiers/{code}/rating"),
            Some(citizen),
            &serde_json::json!({"score": 6}),
        )
        .await;
    assert_eq!(res.status(), 422);
    let res = app
        .post_json(
            host,
            &format!("/api/v1/dossiers/{code}/rating"),
            Some(citizen),
            &serde_json::json!({"score": 5, "comment": "Nhanh, chu đáo"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let res = app
        .post_json(
            host,
            &format!("/api/v1/dossiers/{code}/rating"),
            Some(citizen),
            &serde_json::json!({"score": 4}),
        )
        .await;
    assert_eq!(res.status(), 409);

    // Every move queued a mail for the citizen; the extension is an apology.
    let t = app.state.registry.by_slug("ha-noi").unwrap();
    #[derive(QueryableByName)]
    struct Kind {
        #[diesel(sql_type = diesel::sql_types::Text)]
        kind: String,
    }
    let kinds: Vec<Kind> = sql_query(format!("SELECT kind FROM {}.outbox ORDER BY id", t.schema))
        .load(&mut app.raw_connection())
        .unwrap();
    let kinds: Vec<&str> = kinds.iter().map(|k| k.kind.as_str()).collect();
    assert_eq!(kinds.len(), 9, "{kinds:?}");
    assert!(kinds.contains(&"dossier_extended"));
    assert_eq!(kinds.iter().filter(|k| **k == "dossier_result").count(), 2);
}

#[tokio::test]
async fn officials_reach_only_their_own_province_and_deactivation_is_immediate() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Hà Nội").await;
    app.create_tenant("quang-ninh", "Quảng Ninh").await;
    let citizen = app
        .citizen_token("quang-ninh.localhost", "qn@example.vn")
        .await;
    let qn_code = app
        .submit_licence_renewal("quang-ninh.localhost", &citizen)
        .await;
    let hn_official = app
        .staff_token("ha-noi", "a@hanoi.gov.vn", StaffRole::Official)
        .await;

    // On its own host, Quảng Ninh's dossier does not exist for Hà Nội.
    let res = app
        .get_with_token(
            "ha-noi.localhost",
            &format!("/api/v1/manage/dossiers/{qn_code}"),
            &hn_official,
        )
        .await;
    assert_eq!(res.status(), 404);
    let res = app
        .act(
            "ha-noi.localhost",
            &hn_official,
            &qn_code,
            serde_json::json!({"action": "accept"}),
        )
        .await;
    assert_eq!(res.status(), 404);
    // On Quảng Ninh's host, the Hà Nội token is worthless.
    let res = app
        .act(
            "quang-ninh.localhost",
            &hn_official,
            &qn_code,
            serde_json::json!({"action": "accept"}),
        )
        .await;
    assert_eq!(res.status(), 401);
    // A citizen has no access to the queue at all.
    assert_eq!(
        app.get_with_token("quang-ninh.localhost", "/api/v1/manage/dossiers", &citizen)
            .await
            .status(),
        403
    );

    // Deactivated by an admin: refused on the next request.
    let admin = app
        .staff_token("ha-noi", "admin@hanoi.gov.vn", StaffRole::Admin)
        .await;
    let users: serde_json::Value = app
        .get_with_token("ha-noi.localhost", "/api/v1/manage/users", &admin)
        .await
        .json()
        .await
        .unwrap();
    let id = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "a@hanoi.gov.vn")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.get_with_token("ha-noi.localhost", "/api/v1/manage/dossiers", &hn_official)
            .await
            .status(),
        200
    );
    // An official cannot do admin work.
    let res = app
        .post_json(
            "ha-noi.localhost",
            &format!("/api/v1/manage/users/{id}/deactivate"),
            Some(&hn_official),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(res.status(), 403);
    let res = app
        .post_json(
            "ha-noi.localhost",
            &format!("/api/v1/manage/users/{id}/deactivate"),
            Some(&admin),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        app.get_with_token("ha-noi.localhost", "/api/v1/manage/dossiers", &hn_official)
            .await
            .status(),
        401
    );
    let res = app
        .post_json("ha-noi.localhost", "/api/v1/auth/token", None, &serde_json::json!({"email": "a@hanoi.gov.vn", "password": crate::helpers::STAFF_PASSWORD}))
        .await;
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn an_admin_invites_an_official_who_sets_a_password_once() {
    let app = TestApp::spawn().await;
    let t = app.create_tenant("hue", "Thành phố Huế").await;
    let admin = app
        .staff_token("hue", "admin@hue.gov.vn", StaffRole::Admin)
        .await;
    let invite = |email: &str, role: &str| serde_json::json!({"email": email, "full_name": "Trần Văn Bình", "role": role});
    let res = app
        .post_json(
            "hue.localhost",
            "/api/v1/manage/users",
            Some(&admin),
            &invite("Binh@Hue.gov.vn", "official"),
        )
        .await;
    assert_eq!(res.status(), 201);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["email"], "binh@hue.gov.vn");
    assert_eq!(body["has_password"], false);
    assert_eq!(
        app.post_json(
            "hue.localhost",
            "/api/v1/manage/users",
            Some(&admin),
            &invite("binh@hue.gov.vn", "official")
        )
        .await
        .status(),
        409
    );
    assert_eq!(
        app.post_json(
            "hue.localhost",
            "/api/v1/manage/users",
            Some(&admin),
            &invite("x@hue.gov.vn", "boss")
        )
        .await
        .status(),
        422
    );

    // The link is in the mail queued in the province's outbox.
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

    let path = format!("/api/v1/auth/invitations/{token}");
    assert_eq!(
        app.post_json(
            "hue.localhost",
            &path,
            None,
            &serde_json::json!({"password": "short"})
        )
        .await
        .status(),
        422
    );
    // The link belongs to Huế: elsewhere it is unknown.
    app.create_tenant("ca-mau", "Cà Mau").await;
    assert_eq!(
        app.post_json(
            "ca-mau.localhost",
            &path,
            None,
            &serde_json::json!({"password": "mot-mat-khau-moi"})
        )
        .await
        .status(),
        404
    );
    assert_eq!(
        app.post_json(
            "hue.localhost",
            &path,
            None,
            &serde_json::json!({"password": "mot-mat-khau-moi"})
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        app.post_json(
            "hue.localhost",
            &path,
            None,
            &serde_json::json!({"password": "mot-mat-khau-khac"})
        )
        .await
        .status(),
        404
    );
    let token = app
        .token("hue.localhost", "binh@hue.gov.vn", "mot-mat-khau-moi")
        .await;
    assert_eq!(
        app.get_with_token("hue.localhost", "/api/v1/manage/dossiers", &token)
            .await
            .status(),
        200
    );

    // A counter dossier is registered by staff, with `channel: counter`.
    let res = app
        .post_json("hue.localhost", "/api/v1/manage/dossiers", Some(&token), &{
            let mut b = crate::helpers::licence_renewal();
            b["channel"] = "counter".into();
            b
        })
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["channel"],
        "counter"
    );
}

#[tokio::test]
async fn branding_is_validated_and_rendered_escaped() {
    let app = TestApp::spawn().await;
    app.create_tenant("da-nang", "Thành phố Đà Nẵng").await;
    let admin = app
        .staff_token("da-nang", "admin@danang.gov.vn", StaffRole::Admin)
        .await;
    let official = app
        .staff_token("da-nang", "canbo@danang.gov.vn", StaffRole::Official)
        .await;
    let put = |body: serde_json::Value, token: String| {
        let app = &app;
        async move {
            app.client
                .put(app.url("/api/v1/manage/branding"))
                .header("Host", "da-nang.localhost")
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let good = serde_json::json!({"display_name": "Đà Nẵng", "accent_color": "#005a8c", "hotline": "0236 1022", "address": "24 Trần Phú", "banner": "Nghỉ Tết từ 14/02"});
    assert_eq!(put(good.clone(), official.clone()).await.status(), 403);
    assert_eq!(put(good, admin.clone()).await.status(), 200);
    let with = |k: &str, v: serde_json::Value| {
        let mut b = serde_json::json!({"display_name": "Đà Nẵng", "accent_color": "#005a8c"});
        b[k] = v;
        b
    };
    let cases = [
        ("accent_color", with("accent_color", "red".into())),
        ("accent_color", with("accent_color", "#ffee00".into())),
        (
            "display_name",
            with("display_name", "<b>Đà Nẵng</b>".into()),
        ),
        ("display_name", with("display_name", "x".repeat(81).into())),
        ("banner", with("banner", "y".repeat(281).into())),
        ("hotline", with("hotline", "gọi ngay".into())),
    ];
    for (field, body) in cases {
        let res = put(body.clone(), admin.clone()).await;
        assert_eq!(res.status(), 422, "{body}");
        let err: serde_json::Value = res.json().await.unwrap();
        assert!(err["error"]["fields"][field].is_string(), "{field}: {err}");
    }
    let b: serde_json::Value = app
        .get_with_token("da-nang.localhost", "/api/v1/manage/branding", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(b["hotline"], "0236 1022");
    // Text that means something in HTML is shown as text.
    let tricky = serde_json::json!({"display_name": "Đà Nẵng", "accent_color": "#005a8c", "banner": "Tết & \"Xuân\" 'vui'"});
    assert_eq!(put(tricky, admin.clone()).await.status(), 200);
    let home = app
        .get("da-nang.localhost", "/")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !home.contains("Tết & \"Xuân\"") && home.contains("Tết &#38; &#34;Xuân&#34; &#39;vui&#39;"),
        "banner not escaped: {}",
        home.lines()
            .find(|l| l.contains("banner"))
            .unwrap_or_default()
    );
    // Procedures on and off.
    let res = app
        .client
        .put(app.url("/api/v1/manage/procedures/GPLX-001"))
        .header("Host", "da-nang.localhost")
        .bearer_auth(&admin)
        .json(&serde_json::json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let list: serde_json::Value = app
        .get("da-nang.localhost", "/api/v1/procedures")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|p| p["code"] != "GPLX-001")
    );
}
