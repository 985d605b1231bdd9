//! Fee e-receipts (issue 19.2): issued when a fee is paid, numbered without gaps per province
//! series and year even under concurrent payments, never edited, voided only by a replacement
//! with the next number; the owner's and the staff's pages, another province's 404.

use diesel::prelude::*;
use diesel::sql_query;
use portal::accounts::staff::StaffRole;
use serde_json::{Value, json};

use crate::browser::Browser;
use crate::helpers::{STAFF_PASSWORD, TestApp, error_code};

const HN: &str = "ha-noi.localhost";
const HUE: &str = "hue.localhost";
const FEE: i64 = 135_000;

/// A dossier of `citizen`'s awaiting payment of [`FEE`].
async fn awaiting_payment(app: &TestApp, citizen: &str, official: &str) -> String {
    let code = app.submit_complete_licence_renewal(HN, citizen).await;
    for body in [
        json!({"action": "accept"}),
        json!({"action": "process"}),
        json!({"action": "request_payment", "fee_vnd": FEE}),
    ] {
        let res = app.act(HN, official, &code, body.clone()).await;
        assert_eq!(res.status(), 200, "{code} {body}");
    }
    code
}

async fn pay(app: &TestApp, citizen: &str, code: &str) -> reqwest::Response {
    app.post_json(
        HN,
        &format!("/api/v1/dossiers/{code}/pay"),
        Some(citizen),
        &json!({}),
    )
    .await
}

async fn dossier(app: &TestApp, host: &str, token: &str, path: &str) -> Value {
    let res = app.get_with_token(host, path, token).await;
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.unwrap()
}

#[tokio::test]
async fn receipt_numbers_stay_gapless_under_concurrent_payments() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let citizen = app.citizen_token(HN, "dan@example.vn").await;
    let official = app
        .staff_token("ha-noi", "canbo@hanoi.gov.vn", StaffRole::Official)
        .await;
    let mut codes = Vec::new();
    for _ in 0..20 {
        codes.push(awaiting_payment(&app, &citizen, &official).await);
    }
    // All at once: they queue on the counter row, each taking the next number.
    let paid = futures_util::future::join_all(codes.iter().map(|c| pay(&app, &citizen, c))).await;
    for (res, code) in paid.into_iter().zip(&codes) {
        assert_eq!(res.status(), 200, "pay {code}");
    }
    let again = pay(&app, &citizen, &codes[0]).await;
    assert_eq!(again.status(), 409, "a second payment of a paid fee");

    let mut numbers = Vec::new();
    for code in &codes {
        let d = dossier(&app, HN, &citizen, &format!("/api/v1/dossiers/{code}")).await;
        let r = &d["fee_receipt"];
        assert_eq!(r["amount_vnd"], FEE, "{d}");
        assert_eq!(r["amount_in_words"], "Một trăm ba mươi lăm nghìn đồng");
        assert_eq!(r["payer"], "Nguyễn Thị Minh Khai");
        assert_eq!(r["template"], "01BLP0-001");
        let today = portal::clock::today_vn();
        assert_eq!(r["issued_on"], today.to_string());
        assert_eq!(r["year"], chrono::Datelike::year(&today));
        assert_eq!(
            r["symbol"],
            format!(
                "{}-{:02}E",
                tenant.code,
                chrono::Datelike::year(&today) % 100
            )
        );
        assert!(
            r["legal_basis"]
                .as_str()
                .unwrap()
                .contains("37/2023/TT-BTC")
        );
        assert_eq!(r["payment_method"], "online");
        numbers.push(r["number"].as_i64().unwrap());
    }
    numbers.sort();
    assert_eq!(
        numbers,
        (1..=20).collect::<Vec<i64>>(),
        "gapless, no duplicate"
    );
}

#[derive(QueryableByName)]
struct Audit {
    #[diesel(sql_type = diesel::sql_types::Text)]
    actor: String,
    #[diesel(sql_type = diesel::sql_types::Jsonb)]
    details: Value,
}

#[tokio::test]
async fn a_void_issues_a_replacement_with_the_next_number_and_nothing_is_edited() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    app.create_tenant("hue", "Thành phố Huế").await;
    let citizen = app.citizen_token(HN, "dan@example.vn").await;
    let official = app
        .staff_token("ha-noi", "canbo@hanoi.gov.vn", StaffRole::Official)
        .await;
    let hue_official = app
        .staff_token("hue", "canbo@hue.gov.vn", StaffRole::Official)
        .await;
    let first = awaiting_payment(&app, &citizen, &official).await;
    let second = awaiting_payment(&app, &citizen, &official).await;
    let void_path = |c: &str| format!("/api/v1/manage/dossiers/{c}/fee-receipt/void");

    // Before payment: nothing to void (409), nothing in the JSON.
    let res = app
        .post_json(
            HN,
            &void_path(&first),
            Some(&official),
            &json!({"reason": "x"}),
        )
        .await;
    assert_eq!(res.status(), 409);
    assert_eq!(error_code(res).await, "no_fee_receipt");
    let d = dossier(&app, HN, &citizen, &format!("/api/v1/dossiers/{first}")).await;
    assert!(d.get("fee_receipt").is_none(), "{d}");

    assert_eq!(pay(&app, &citizen, &first).await.status(), 200);
    assert_eq!(pay(&app, &citizen, &second).await.status(), 200);

    // Refused, nothing changed: no reason (422), a citizen (403), another province (404).
    let res = app
        .post_json(
            HN,
            &void_path(&first),
            Some(&official),
            &json!({"reason": "  "}),
        )
        .await;
    assert_eq!(res.status(), 422);
    let res = app
        .post_json(
            HN,
            &void_path(&first),
            Some(&citizen),
            &json!({"reason": "x"}),
        )
        .await;
    assert_eq!(res.status(), 403);
    let res = app
        .post_json(
            HUE,
            &void_path(&first),
            Some(&hue_official),
            &json!({"reason": "x"}),
        )
        .await;
    assert_eq!(res.status(), 404);
    let d = dossier(
        &app,
        HN,
        &official,
        &format!("/api/v1/manage/dossiers/{first}"),
    )
    .await;
    assert_eq!(d["fee_receipt"]["number"], 1, "{d}");

    // The void: the replacement takes the next number (3) and names the voided one.
    let res = app
        .post_json(
            HN,
            &void_path(&first),
            Some(&official),
            &json!({"reason": "Sai họ tên người nộp"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let d: Value = res.json().await.unwrap();
    assert_eq!(d["fee_receipt"]["number"], 3, "{d}");
    assert_eq!(d["fee_receipt"]["replaces_number"], 1);
    assert_eq!(d["fee_receipt"]["amount_vnd"], FEE);
    let mine = dossier(&app, HN, &citizen, &format!("/api/v1/dossiers/{first}")).await;
    assert_eq!(mine["fee_receipt"]["number"], 3);

    // Every number is still there, the voided one marked, none edited; the void is audited.
    let mut conn = app.raw_connection();
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        number: i64,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        voided: bool,
    }
    let rows: Vec<Row> = sql_query(
        "SELECT number, voided_at IS NOT NULL AS voided FROM t_ha_noi.fee_receipts ORDER BY number",
    )
    .load(&mut conn)
    .unwrap();
    let seen: Vec<(i64, bool)> = rows.iter().map(|r| (r.number, r.voided)).collect();
    assert_eq!(seen, vec![(1, true), (2, false), (3, false)]);
    let edit = sql_query("UPDATE t_ha_noi.fee_receipts SET amount_vnd = 1 WHERE number = 2")
        .execute(&mut conn);
    assert!(edit.is_err(), "a receipt was edited");
    let audit: Vec<Audit> =
        sql_query("SELECT actor, details FROM audit_log WHERE action = 'fee_receipt.void'")
            .load(&mut conn)
            .unwrap();
    assert_eq!(audit.len(), 1);
    assert!(audit[0].actor.starts_with("staff:"));
    assert_eq!(audit[0].details["reason"], "Sai họ tên người nộp");
    assert_eq!(audit[0].details["voided"]["number"], 1);
    assert_eq!(audit[0].details["replacement"]["number"], 3);

    // The pages: the owner's, the staff's with the void behind a confirmation page; another
    // citizen and another province's staff get 404.
    let mut owner = Browser::new(&app, HN);
    owner.sign_in("dan@example.vn", "/").await;
    let page = owner.get(&format!("/dossiers/{first}/fee-receipt")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for text in [
        "0000003",
        "0000001",
        "Một trăm ba mươi lăm nghìn đồng",
        "37/2023/TT-BTC",
        "Nguyễn Thị Minh Khai",
    ] {
        assert!(page.body.contains(text), "{text} missing");
    }
    assert!(
        !page.body.contains("fee-receipt/void"),
        "a citizen may not void"
    );
    let a5 = owner
        .get(&format!("/dossiers/{first}/fee-receipt?paper=a5"))
        .await;
    assert!(a5.body.contains("paper-a5"));
    app.citizen_token(HN, "khac@example.vn").await;
    let mut other = Browser::new(&app, HN);
    other.sign_in("khac@example.vn", "/").await;
    let page = other.get(&format!("/dossiers/{first}/fee-receipt")).await;
    assert_eq!(page.status, 404);

    let mut staff = Browser::new(&app, HN);
    staff
        .sign_in_as("canbo@hanoi.gov.vn", STAFF_PASSWORD, "/manage")
        .await;
    let page = staff.get(&format!("/manage/dossiers/{second}")).await;
    assert!(
        page.body
            .contains(&format!("/manage/dossiers/{second}/fee-receipt"))
    );
    let page = staff
        .get(&format!("/manage/dossiers/{second}/fee-receipt"))
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("0000002"));
    let confirm = staff
        .get(&format!("/manage/dossiers/{second}/fee-receipt/void"))
        .await;
    assert_eq!(confirm.status, 200);
    assert!(
        confirm.body.contains("không thể khôi phục"),
        "{}",
        confirm.body
    );
    let csrf = staff.csrf(&confirm);
    let refused = staff
        .post(
            &format!("/manage/dossiers/{second}/fee-receipt/void"),
            &[("csrf", &csrf), ("reason", "")],
        )
        .await;
    assert_eq!(refused.status, 422);
    let done = staff
        .post(
            &format!("/manage/dossiers/{second}/fee-receipt/void"),
            &[("csrf", &csrf), ("reason", "Nộp nhầm hồ sơ")],
        )
        .await;
    assert_eq!(done.status, 303);
    let page = staff.get(&done.location).await;
    assert!(page.body.contains("0000004") && page.body.contains("Nộp nhầm hồ sơ"));

    app.citizen_token(HUE, "dan@example.vn").await;
    let mut hue = Browser::new(&app, HUE);
    hue.sign_in_as("canbo@hue.gov.vn", STAFF_PASSWORD, "/manage")
        .await;
    let page = hue
        .get(&format!("/manage/dossiers/{first}/fee-receipt"))
        .await;
    assert_eq!(page.status, 404);
}
