//! The citizen's journey over the API, on two provinces with one national account.

use crate::helpers::{CITIZEN_ID, TestApp, error_code, licence_renewal};

#[tokio::test]
async fn one_account_files_in_two_provinces_and_each_province_sees_only_its_own() {
    let app = TestApp::spawn().await;
    let hn = app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    app.create_tenant("quang-ninh", "Tỉnh Quảng Ninh").await;
    assert_eq!(hn.code, "HNO");

    // Registered on one province, the account signs in on the other and on the national site.
    let hn_token = app
        .citizen_token("ha-noi.localhost", "khai@example.vn")
        .await;
    let qn_token = app
        .token(
            "quang-ninh.localhost",
            "khai@example.vn",
            crate::helpers::CITIZEN_PASSWORD,
        )
        .await;
    app.token(
        "localhost",
        "khai@example.vn",
        crate::helpers::CITIZEN_PASSWORD,
    )
    .await;

    // The catalog: enabled procedures with the contract's fields.
    let list: serde_json::Value = app
        .get("ha-noi.localhost", "/api/v1/procedures")
        .await
        .json()
        .await
        .unwrap();
    let renew = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "GPLX-001")
        .expect("GPLX-001 offered");
    assert_eq!(renew["name"], "Đổi giấy phép lái xe");
    assert!(renew["level"] == 3 && renew["fee_vnd"].is_i64() && renew["processing_days"].is_i64());

    let hn_code = app
        .submit_licence_renewal("ha-noi.localhost", &hn_token)
        .await;
    let qn_code = app
        .submit_licence_renewal("quang-ninh.localhost", &qn_token)
        .await;
    assert!(hn_code.starts_with("HNO-"), "{hn_code}");
    assert!(qn_code.starts_with("QNI-"), "{qn_code}");

    // Detail for the owner, with its first history row.
    let res = app
        .get_with_token(
            "ha-noi.localhost",
            &format!("/api/v1/dossiers/{hn_code}"),
            &hn_token,
        )
        .await;
    assert_eq!(res.status(), 200);
    let d: serde_json::Value = res.json().await.unwrap();
    assert_eq!(d["tracking_code"], hn_code);
    assert_eq!(d["procedure_code"], "GPLX-001");
    assert_eq!(d["status"], "submitted");
    assert!(d["submitted_at"].is_string());
    assert!(d["due_on"].is_null());
    assert_eq!(d["history"][0]["status"], "submitted");
    assert!(d["history"][0]["at"].is_string());

    // Each province lists only its own; the other's code is a 404 there.
    let mine: serde_json::Value = app
        .get_with_token("ha-noi.localhost", "/api/v1/dossiers", &hn_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["tracking_code"], hn_code);
    let res = app
        .get_with_token(
            "ha-noi.localhost",
            &format!("/api/v1/dossiers/{qn_code}"),
            &hn_token,
        )
        .await;
    assert_eq!(res.status(), 404);
    // A Hà Nội token is worthless on Quảng Ninh.
    let res = app
        .get_with_token("quang-ninh.localhost", "/api/v1/dossiers", &hn_token)
        .await;
    assert_eq!(res.status(), 401);

    // Another citizen cannot read it either.
    let other = app
        .citizen_token("ha-noi.localhost", "other@example.vn")
        .await;
    assert_eq!(
        app.get_with_token(
            "ha-noi.localhost",
            &format!("/api/v1/dossiers/{hn_code}"),
            &other
        )
        .await
        .status(),
        404
    );

    // Tracking without sign-in: code + citizen ID, no personal data; wrong ID → 404.
    let res = app
        .get(
            "ha-noi.localhost",
            &format!("/api/v1/tracking/{hn_code}?id_number={CITIZEN_ID}"),
        )
        .await;
    assert_eq!(res.status(), 200);
    let t: serde_json::Value = res.json().await.unwrap();
    assert_eq!(t["status"], "submitted");
    assert_eq!(t.as_object().unwrap().len(), 4, "{t}");
    let lower = hn_code.to_lowercase();
    assert_eq!(
        app.get(
            "ha-noi.localhost",
            &format!("/api/v1/tracking/{lower}?id_number={CITIZEN_ID}")
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        app.get(
            "ha-noi.localhost",
            &format!("/api/v1/tracking/{hn_code}?id_number=001090012346")
        )
        .await
        .status(),
        404
    );
    assert_eq!(
        app.get(
            "quang-ninh.localhost",
            &format!("/api/v1/tracking/{hn_code}?id_number={CITIZEN_ID}")
        )
        .await
        .status(),
        404
    );
    assert_eq!(
        app.get("ha-noi.localhost", &format!("/api/v1/tracking/{hn_code}"))
            .await
            .status(),
        400
    );

    // Withdraw, then nothing more can happen to it.
    let res = app
        .post_json(
            "ha-noi.localhost",
            &format!("/api/v1/dossiers/{hn_code}/withdraw"),
            Some(&hn_token),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let d: serde_json::Value = res.json().await.unwrap();
    assert_eq!(d["status"], "withdrawn");
    assert_eq!(d["history"].as_array().unwrap().len(), 2);
    let res = app
        .post_json(
            "ha-noi.localhost",
            &format!("/api/v1/dossiers/{hn_code}/withdraw"),
            Some(&hn_token),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(res.status(), 409);
    assert_eq!(error_code(res).await, "invalid_transition");
    let res = app
        .post_json(
            "ha-noi.localhost",
            &format!("/api/v1/dossiers/{hn_code}/supplement"),
            Some(&hn_token),
            &serde_json::json!({"fields": {}}),
        )
        .await;
    assert_eq!(res.status(), 409);
}

#[tokio::test]
async fn registration_refuses_bad_input_and_taken_emails() {
    let app = TestApp::spawn().await;
    app.create_tenant("hue", "Thành phố Huế").await;
    let post = |body: serde_json::Value| {
        let app = &app;
        async move {
            app.post_json("hue.localhost", "/api/v1/auth/register", None, &body)
                .await
        }
    };
    let ok = serde_json::json!({"email": "An@Example.VN", "password": "mot-mat-khau-dai", "full_name": "Lê Văn An"});
    let res = post(ok.clone()).await;
    assert_eq!(res.status(), 201);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["email"], "an@example.vn");
    assert!(body.get("password_hash").is_none());
    let res = post(ok).await;
    assert_eq!(res.status(), 409);
    assert_eq!(error_code(res).await, "email_taken");
    let cases = [
        (
            "email",
            serde_json::json!({"email": "not-an-email", "password": "mot-mat-khau-dai", "full_name": "A"}),
        ),
        (
            "password",
            serde_json::json!({"email": "b@example.vn", "password": "short", "full_name": "A"}),
        ),
        (
            "password",
            serde_json::json!({"email": "c@example.vn", "password": "1234567890", "full_name": "A"}),
        ),
        (
            "password",
            serde_json::json!({"email": "d@example.vn", "password": "matkhau123", "full_name": "A"}),
        ),
        (
            "full_name",
            serde_json::json!({"email": "e@example.vn", "password": "mot-mat-khau-dai", "full_name": ""}),
        ),
        (
            "full_name",
            serde_json::json!({"email": "f@example.vn", "password": "mot-mat-khau-dai", "full_name": "x".repeat(121)}),
        ),
        (
            "full_name",
            serde_json::json!({"email": "g@example.vn", "password": "mot-mat-khau-dai"}),
        ),
    ];
    for (field, body) in cases {
        let res = post(body.clone()).await;
        assert_eq!(res.status(), 422, "{body}");
        let err: serde_json::Value = res.json().await.unwrap();
        assert!(err["error"]["fields"][field].is_string(), "{field}: {err}");
    }
}

#[tokio::test]
async fn five_failed_sign_ins_lock_the_address_for_a_while() {
    let app = TestApp::spawn().await;
    app.create_tenant("hue", "Huế").await;
    app.citizen_token("hue.localhost", "lock@example.vn").await;
    for _ in 0..5 {
        let res = app
            .post_json(
                "hue.localhost",
                "/api/v1/auth/token",
                None,
                &serde_json::json!({"email": "lock@example.vn", "password": "wrong-password"}),
            )
            .await;
        assert_eq!(res.status(), 401);
    }
    // Even the right password now waits.
    let res = app
        .post_json("hue.localhost", "/api/v1/auth/token", None, &serde_json::json!({"email": "lock@example.vn", "password": crate::helpers::CITIZEN_PASSWORD}))
        .await;
    assert_eq!(res.status(), 429);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 900, "{retry}");
    assert_eq!(error_code(res).await, "too_many_attempts");
    // An address with no account is locked the same way (no enumeration by behaviour).
    for _ in 0..5 {
        app.post_json(
            "hue.localhost",
            "/api/v1/auth/token",
            None,
            &serde_json::json!({"email": "ghost@example.vn", "password": "x-x-x-x-x-x"}),
        )
        .await;
    }
    let res = app
        .post_json(
            "hue.localhost",
            "/api/v1/auth/token",
            None,
            &serde_json::json!({"email": "ghost@example.vn", "password": "x-x-x-x-x-x"}),
        )
        .await;
    assert_eq!(res.status(), 429);
}

#[tokio::test]
async fn form_validation_covers_every_field_kind() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Hà Nội").await;
    let token = app
        .citizen_token("ha-noi.localhost", "form@example.vn")
        .await;
    let with = |key: &str, value: serde_json::Value| {
        let mut body = licence_renewal();
        body["fields"][key] = value;
        body
    };
    let without = |key: &str| {
        let mut body = licence_renewal();
        body["fields"].as_object_mut().unwrap().remove(key);
        body
    };
    // (field expected in `fields`, body)
    let cases = [
        ("id_number", with("id_number", "12345678901".into())),
        ("id_number", with("id_number", "0010900123456".into())),
        ("id_number", with("id_number", "00109001234a".into())),
        ("full_name", without("full_name")),
        ("full_name", with("full_name", "x".repeat(101).into())),
        ("licence_class", with("licence_class", "Z9".into())),
        ("expiry_date", with("expiry_date", "2026-02-30".into())),
        ("expiry_date", with("expiry_date", "31/12/2026".into())),
        ("phone", with("phone", "12".into())),
        (
            "delivery_address",
            with("delivery_address", "a".repeat(201).into()),
        ),
        (
            "licence_number",
            with("licence_number", serde_json::json!({"deep": [1, 2]})),
        ),
    ];
    for (field, body) in cases {
        let res = app
            .post_json("ha-noi.localhost", "/api/v1/dossiers", Some(&token), &body)
            .await;
        assert_eq!(res.status(), 422, "{field}: {body}");
        let err: serde_json::Value = res.json().await.unwrap();
        assert_eq!(err["error"]["code"], "validation_failed");
        assert!(err["error"]["fields"][field].is_string(), "{field}: {err}");
    }
    // Vietnamese with diacritics is kept exactly.
    let res = app
        .post_json(
            "ha-noi.localhost",
            "/api/v1/dossiers",
            Some(&token),
            &with("full_name", "Đặng Thị Ngọc Hường".into()),
        )
        .await;
    assert_eq!(res.status(), 201);
    let code = res.json::<serde_json::Value>().await.unwrap()["tracking_code"]
        .as_str()
        .unwrap()
        .to_string();
    let d: serde_json::Value = app
        .get_with_token(
            "ha-noi.localhost",
            &format!("/api/v1/dossiers/{code}"),
            &token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(d["answers"]["full_name"], "Đặng Thị Ngọc Hường");
    assert_eq!(d["answers"]["phone"], "0912345678");

    // Unknown and disabled procedures.
    let mut unknown = licence_renewal();
    unknown["procedure_code"] = "NOPE-999".into();
    let res = app
        .post_json(
            "ha-noi.localhost",
            "/api/v1/dossiers",
            Some(&token),
            &unknown,
        )
        .await;
    assert_eq!(res.status(), 422);
    let t = app.state.registry.by_slug("ha-noi").unwrap();
    let door = app.database().tenant(t.db_ref());
    tokio::task::spawn_blocking(move || {
        door.tx(|c| portal::tenancy::procedures::set_procedure_enabled(c, "GPLX-001", false))
            .unwrap()
    })
    .await
    .unwrap();
    // Online filings read the switch from the site cache, which the write's NOTIFY refreshes
    // (on every replica): wait until the site shows it, as a citizen's next page would.
    for _ in 0..100 {
        let list: serde_json::Value = app
            .get("ha-noi.localhost", "/api/v1/procedures")
            .await
            .json()
            .await
            .unwrap();
        if list
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["code"] != "GPLX-001")
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let res = app
        .post_json(
            "ha-noi.localhost",
            "/api/v1/dossiers",
            Some(&token),
            &licence_renewal(),
        )
        .await;
    assert_eq!(res.status(), 422);
    let err: serde_json::Value = res.json().await.unwrap();
    assert!(err["error"]["fields"]["procedure_code"].is_string());
    let list: serde_json::Value = app
        .get("ha-noi.localhost", "/api/v1/procedures")
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

    // Malformed JSON and a staff-only route.
    let res = app
        .client
        .post(app.url("/api/v1/dossiers"))
        .header("Host", "ha-noi.localhost")
        .bearer_auth(&token)
        .header("Content-Type", "application/json")
        .body("{\"procedure_code\": \"GPLX")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(
        app.post_json(
            "ha-noi.localhost",
            "/api/v1/dossiers",
            None,
            &licence_renewal()
        )
        .await
        .status(),
        401
    );
}
