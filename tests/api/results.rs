//! Results (issue 19): the e-copy or the paper decision before `return_result`, the owner's
//! download, the public verify answer on any host; reasoned refusals and supplement requests,
//! one supplement unless a head of unit overrides.

use portal::accounts::staff::StaffRole;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{CITIZEN_ID, TestApp, error_code};

const HN: &str = "ha-noi.localhost";
const PDF: &[u8] =
    b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

async fn post_file(
    app: &TestApp,
    host: &str,
    token: &str,
    code: &str,
    bytes: &[u8],
) -> reqwest::Response {
    let form = Form::new().part(
        "file",
        Part::bytes(bytes.to_vec())
            .file_name("quyet-dinh.pdf")
            .mime_str("application/pdf")
            .unwrap(),
    );
    app.client
        .post(app.url(&format!("/api/v1/manage/dossiers/{code}/result")))
        .header("Host", host)
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn move_ok(app: &TestApp, token: &str, code: &str, body: Value) -> Value {
    let res = app.act(HN, token, code, body.clone()).await;
    assert_eq!(res.status(), 200, "{code} {body}");
    res.json().await.unwrap()
}

/// A complete dossier brought to `resolved`.
async fn resolved(app: &TestApp, citizen: &str, official: &str) -> String {
    let code = app.submit_complete_licence_renewal(HN, citizen).await;
    for a in ["accept", "process", "resolve"] {
        move_ok(app, official, &code, json!({"action": a})).await;
    }
    code
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn a_pdf_result_is_returned_downloaded_and_verified_on_any_host_without_personal_data() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    app.create_tenant("hue", "Thành phố Huế").await;
    let citizen = app.citizen_token(HN, "dan@example.vn").await;
    let official = app
        .staff_token("ha-noi", "canbo@hanoi.gov.vn", StaffRole::Official)
        .await;
    let code = resolved(&app, &citizen, &official).await;

    // Without a result, return_result is refused with a clear 409.
    let res = app
        .act(HN, &official, &code, json!({"action": "return_result"}))
        .await;
    assert_eq!(res.status(), 409);
    assert_eq!(error_code(res).await, "result_missing");

    // Attached: the dossier carries {verification_code, sha256, kind}.
    let res = post_file(&app, HN, &official, &code, PDF).await;
    assert_eq!(res.status(), 200);
    let d: Value = res.json().await.unwrap();
    assert_eq!(d["result"]["kind"], "file");
    assert_eq!(d["result"]["sha256"], hex(PDF));
    let verification = d["result"]["verification_code"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(verification.len(), 16);

    let d = move_ok(&app, &official, &code, json!({"action": "return_result"})).await;
    assert_eq!(d["status"], "returned");

    // The owner sees it and downloads the same bytes.
    let mine: Value = app
        .get_with_token(HN, &format!("/api/v1/dossiers/{code}"), &citizen)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["result"]["verification_code"], verification.as_str());
    assert_eq!(mine["result"]["sha256"], hex(PDF));
    let file = app
        .get_with_token(HN, &format!("/api/v1/dossiers/{code}/result"), &citizen)
        .await;
    assert_eq!(file.status(), 200);
    assert_eq!(file.headers()["content-type"], "application/pdf");
    let bytes = file.bytes().await.unwrap();
    assert_eq!(&bytes[..], PDF);
    assert_eq!(hex(&bytes), mine["result"]["sha256"].as_str().unwrap());
    // Somebody else's token: 404.
    let other = app.citizen_token(HN, "khac@example.vn").await;
    let res = app
        .get_with_token(HN, &format!("/api/v1/dossiers/{code}/result"), &other)
        .await;
    assert_eq!(res.status(), 404);

    // Verified publicly on the national host, another province's host and its own; the code
    // may be typed in lower case with dashes.
    let typed = format!("{}-{}", &verification[..8], &verification[8..]).to_lowercase();
    for (host, code) in [
        ("localhost", &verification),
        ("hue.localhost", &typed),
        (HN, &verification),
    ] {
        let res = app.get(host, &format!("/api/v1/verify/{code}")).await;
        assert_eq!(res.status(), 200, "{host}");
        let v: Value = res.json().await.unwrap();
        assert_eq!(v["province"], "Thành phố Hà Nội");
        assert_eq!(v["procedure_code"], "GPLX-001");
        assert_eq!(v["issued_on"], portal::clock::today_vn().to_string());
        assert_eq!(v["sha256"], hex(PDF));
        assert_eq!(v.as_object().unwrap().len(), 4, "{v}");
    }
    let page = app
        .get("localhost", &format!("/verify/{verification}"))
        .await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Thành phố Hà Nội") && html.contains(&hex(PDF)),
        "{html}"
    );
    for personal in [
        "Nguyễn Thị Minh Khai",
        CITIZEN_ID,
        code.as_str(),
        "dan@example.vn",
    ] {
        assert!(!html.contains(personal), "the verify page shows {personal}");
    }

    // Unknown codes: 404, API and page.
    let unknown = "2345678923456789";
    assert_eq!(
        app.get("localhost", &format!("/api/v1/verify/{unknown}"))
            .await
            .status(),
        404
    );
    assert_eq!(
        app.get(HN, &format!("/api/v1/verify/{unknown}"))
            .await
            .status(),
        404
    );
    assert_eq!(
        app.get("localhost", &format!("/verify/{unknown}"))
            .await
            .status(),
        404
    );

    // The citizen's page shows the code, the download and the QR code to the verify page.
    let mut b = crate::browser::Browser::new(&app, HN);
    b.sign_in("dan@example.vn", "/").await;
    let page = b.get(&format!("/dossiers/{code}")).await;
    assert!(page.body.contains(&verification), "{}", page.body);
    assert!(page.body.contains(&format!("/verify/{verification}")));
    assert!(page.body.contains("<svg") && page.body.contains("class=\"qr\""));
    assert!(page.body.contains(&format!("/dossiers/{code}/result")));
    // The verify page the QR code opens, to the signed-in citizen: their own menu (sign out),
    // as on every other page of the province, not a "sign in" link.
    let page = b.get(&format!("/verify/{verification}")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Đăng xuất") && !page.body.contains(">Đăng nhập</a>"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn a_paper_result_names_its_decision_and_pickup_and_a_non_pdf_is_refused() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    app.create_tenant("hue", "Thành phố Huế").await;
    let citizen = app.citizen_token(HN, "dan@example.vn").await;
    let official = app
        .staff_token("ha-noi", "canbo@hanoi.gov.vn", StaffRole::Official)
        .await;
    let code = resolved(&app, &citizen, &official).await;

    // Not a PDF (a PNG, an executable named .pdf): 422 on `file`, nothing stored.
    for bad in [&b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"[..], b"MZ\x90\0 not a pdf"] {
        let res = post_file(&app, HN, &official, &code, bad).await;
        assert_eq!(res.status(), 422);
        let body: Value = res.json().await.unwrap();
        assert!(body["error"]["fields"]["file"].is_string(), "{body}");
    }
    let d: Value = app
        .get_with_token(HN, &format!("/api/v1/manage/dossiers/{code}"), &official)
        .await
        .json()
        .await
        .unwrap();
    assert!(d.get("result").is_none(), "{d}");

    // Another province's staff: 404, nothing stored.
    let hue = app
        .staff_token("hue", "canbo@hue.gov.vn", StaffRole::Official)
        .await;
    let res = post_file(&app, "hue.localhost", &hue, &code, PDF).await;
    assert_eq!(res.status(), 404);

    // Paper: both fields required; then stored with the decision number's hash.
    let res = app
        .post_json(
            HN,
            &format!("/api/v1/manage/dossiers/{code}/result"),
            Some(&official),
            &json!({"decision_number": " ", "pickup": ""}),
        )
        .await;
    assert_eq!(res.status(), 422);
    let res = app.give_result(HN, &official, &code).await;
    let d: Value = res.json().await.unwrap();
    assert_eq!(d["result"]["kind"], "paper");
    assert_eq!(d["result"]["sha256"], hex("125/QĐ-SGTVT".as_bytes()));
    let d = move_ok(&app, &official, &code, json!({"action": "return_result"})).await;
    assert_eq!(d["status"], "returned");
    // No e-copy to download; the code verifies.
    let res = app
        .get_with_token(HN, &format!("/api/v1/dossiers/{code}/result"), &citizen)
        .await;
    assert_eq!(res.status(), 404);
    let verification = d["result"]["verification_code"].as_str().unwrap();
    let res = app
        .get("localhost", &format!("/api/v1/verify/{verification}"))
        .await;
    assert_eq!(res.status(), 200);
    // Returned: no result can be attached any more.
    let res = post_file(&app, HN, &official, &code, PDF).await;
    assert_eq!(res.status(), 409);
}

#[tokio::test]
async fn refusals_and_supplement_requests_list_what_is_wrong_once() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let citizen = app.citizen_token(HN, "dan@example.vn").await;
    let official = app
        .staff_token("ha-noi", "canbo@hanoi.gov.vn", StaffRole::Official)
        .await;
    let head = app
        .staff_token("ha-noi", "lanhdao@hanoi.gov.vn", StaffRole::Head)
        .await;

    // Refuse: an unknown item or problem is 422 naming the row; neither rows nor note 422.
    let code = app.submit_complete_licence_renewal(HN, &citizen).await;
    for (body, field) in [
        (
            json!({"action": "refuse", "deficiencies": [{"item": "passport", "problem": "missing"}]}),
            "deficiencies[0].item",
        ),
        (
            json!({"action": "refuse", "deficiencies": [{"item": "portrait_photo", "problem": "lost"}]}),
            "deficiencies[0].problem",
        ),
        (json!({"action": "refuse"}), "deficiencies"),
    ] {
        let res = app.act(HN, &official, &code, body.clone()).await;
        assert_eq!(res.status(), 422, "{body}");
        let e: Value = res.json().await.unwrap();
        assert!(e["error"]["fields"].get(field).is_some(), "{field} in {e}");
    }
    let d = move_ok(
        &app,
        &official,
        &code,
        json!({"action": "refuse", "deficiencies": [
            {"item": "portrait_photo", "problem": "illegible", "note": "Ảnh mờ"},
            {"item": "expiry_date", "problem": "expired"}
        ]}),
    )
    .await;
    assert_eq!(d["status"], "refused");
    // The citizen sees them per field and document.
    let mine: Value = app
        .get_with_token(HN, &format!("/api/v1/dossiers/{code}"), &citizen)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        mine["deficiencies"],
        json!([
            {"item": "portrait_photo", "problem": "illegible", "note": "Ảnh mờ"},
            {"item": "expiry_date", "problem": "expired"}
        ])
    );
    let mut b = crate::browser::Browser::new(&app, HN);
    b.sign_in("dan@example.vn", "/").await;
    let page = b.get(&format!("/dossiers/{code}")).await;
    assert!(
        page.body.contains("Ảnh mờ") && page.body.contains("Không đọc được"),
        "{}",
        page.body
    );

    // A note alone (older clients) is one row {dossier, other, note}.
    let code = app.submit_complete_licence_renewal(HN, &citizen).await;
    move_ok(&app, &official, &code, json!({"action": "accept"})).await;
    let d = move_ok(
        &app,
        &official,
        &code,
        json!({"action": "request_supplement", "note": "Thiếu giấy khám sức khỏe"}),
    )
    .await;
    assert_eq!(
        d["deficiencies"],
        json!([{"item": "dossier", "problem": "other", "note": "Thiếu giấy khám sức khỏe"}])
    );
    let res = app
        .post_json(
            HN,
            &format!("/api/v1/dossiers/{code}/supplement"),
            Some(&citizen),
            &json!({"fields": {"phone": "0987654321"}}),
        )
        .await;
    assert_eq!(res.status(), 200);

    // A second request: 409, also for an official who sends a reason.
    let again = json!({"action": "request_supplement",
        "deficiencies": [{"item": "phone", "problem": "invalid"}],
        "override_reason": "Số điện thoại mới không liên lạc được"});
    let res = app
        .act(
            HN,
            &official,
            &code,
            json!({"action": "request_supplement", "note": "Lần hai"}),
        )
        .await;
    assert_eq!(res.status(), 409);
    assert_eq!(error_code(res).await, "supplement_already_requested");
    let res = app.act(HN, &official, &code, again.clone()).await;
    assert_eq!(res.status(), 409);
    // A head of unit without a reason: 409; with one: 200, the reason in the history.
    let res = app
        .act(
            HN,
            &head,
            &code,
            json!({"action": "request_supplement", "note": "Lần hai"}),
        )
        .await;
    assert_eq!(res.status(), 409);
    let d = move_ok(&app, &head, &code, again).await;
    assert_eq!(d["status"], "supplement_requested");
    let last = d["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "request_supplement");
    assert_eq!(
        last["override_reason"],
        "Số điện thoại mới không liên lạc được"
    );
    assert_eq!(
        last["deficiencies"],
        json!([{"item": "phone", "problem": "invalid"}])
    );
    let by: String = {
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Text)]
            actor: String,
        }
        diesel::sql_query(format!(
            "SELECT e.actor FROM t_ha_noi.dossier_events e JOIN t_ha_noi.dossiers d \
             ON d.id = e.dossier_id WHERE d.tracking_code = '{code}' \
             AND e.override_reason IS NOT NULL"
        ))
        .get_result::<Row>(&mut app.raw_connection())
        .unwrap()
        .actor
    };
    assert!(by.starts_with("staff:"), "{by}");
}

#[tokio::test]
async fn the_officials_page_enters_deficiency_rows_and_attaches_a_result() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let citizen = app.citizen_token(HN, "dan@example.vn").await;
    let official = app
        .staff_token("ha-noi", "canbo@hanoi.gov.vn", StaffRole::Official)
        .await;
    let mut page = crate::browser::Browser::new(&app, HN);
    let res = page
        .sign_in_as(
            "canbo@hanoi.gov.vn",
            crate::helpers::STAFF_PASSWORD,
            "/manage",
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);

    // Refuse from the page: a bad row is 422 beside it; good rows reach the citizen.
    let code = app.submit_complete_licence_renewal(HN, &citizen).await;
    let shown = page.get(&format!("/manage/dossiers/{code}")).await;
    assert!(
        shown.body.contains("id=\"refuse-item-0\""),
        "{}",
        shown.body
    );
    let bad = page
        .act(
            &code,
            &[
                ("action", "refuse"),
                ("d_item", "portrait_photo"),
                ("d_problem", "lost"),
                ("d_note", ""),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(
        bad.body.contains("href=\"#refuse-problem-0\""),
        "{}",
        bad.body
    );
    let ok = page
        .act(
            &code,
            &[
                ("action", "refuse"),
                ("d_item", "licence_scan"),
                ("d_problem", "illegible"),
                ("d_note", "Bản chụp bị lóa"),
                ("d_item", ""),
                ("d_problem", ""),
                ("d_note", ""),
            ],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let mine: Value = app
        .get_with_token(HN, &format!("/api/v1/dossiers/{code}"), &citizen)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        mine["deficiencies"],
        json!([{"item": "licence_scan", "problem": "illegible", "note": "Bản chụp bị lóa"}])
    );

    // Attach from the page: not a PDF is 422 and stores nothing; a PDF is stored.
    let code = resolved(&app, &citizen, &official).await;
    let shown = page.get(&format!("/manage/dossiers/{code}")).await;
    let csrf = page.csrf(&shown);
    let path = format!("/manage/dossiers/{code}/result?csrf={csrf}");
    let file = |bytes: &[u8]| {
        Form::new().part(
            "file",
            Part::bytes(bytes.to_vec())
                .file_name("kq.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        )
    };
    let refused = page.post_multipart(&path, file(b"GIF89a not a pdf")).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("href=\"#result-file\""));
    let d: Value = app
        .get_with_token(HN, &format!("/api/v1/manage/dossiers/{code}"), &official)
        .await
        .json()
        .await
        .unwrap();
    assert!(d.get("result").is_none());
    let done = page.post_multipart(&path, file(PDF)).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let shown = page.get(&format!("/manage/dossiers/{code}")).await;
    assert!(shown.body.contains("kq.pdf"), "{}", shown.body);
    assert_eq!(
        page.act(&code, &[("action", "return_result")]).await.status,
        303
    );
}
