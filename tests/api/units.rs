//! Units inside a province (#16): the national list loaded per province, dossiers received
//! anywhere and decided where competent, and the one rule between units.

use portal::accounts::staff::StaffRole;
use serde_json::{Value, json};

use crate::helpers::{CITIZEN_ID, TestApp, error_code};

const HN: &str = "ha-noi.localhost";
/// Phường Ba Đình and Phường Ngọc Hà, Hà Nội (national codes).
const A: &str = "00004";
const B: &str = "00008";

/// A birth registration: decided by the commune (`decided_at = "commune"`).
fn birth(unit: Option<&str>) -> Value {
    let mut body = json!({
        "procedure_code": "HT-001",
        "fields": {
            "full_name": "Nguyễn Thị Minh Khai",
            "id_number": CITIZEN_ID,
            "child_name": "Nguyễn Minh An",
            "child_date_of_birth": "2026-11-20",
            "child_sex": "female",
            "place_of_birth": "Bệnh viện Phụ sản Hà Nội",
            "mother_name": "Nguyễn Thị Minh Khai",
            "mother_id_number": CITIZEN_ID,
        }
    });
    if let Some(u) = unit {
        body["unit_code"] = json!(u);
    }
    body
}

async fn units_of(app: &TestApp, host: &str) -> Vec<Value> {
    let res = app.get(host, "/api/v1/units").await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn queue(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let res = app
        .get_with_token(HN, &format!("/api/v1/manage/dossiers{query}"), token)
        .await;
    assert_eq!(res.status(), 200);
    let rows: Vec<Value> = res.json().await.unwrap();
    rows.iter()
        .map(|r| r["tracking_code"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn ha_noi_and_ho_chi_minh_city_load_every_unit_from_the_national_list_and_apply_is_idempotent()
 {
    let app = TestApp::spawn().await;
    app.create_province_from_manifest("ha-noi").await;
    app.create_province_from_manifest("ho-chi-minh").await;
    for (host, communes) in [(HN, 126), ("ho-chi-minh.localhost", 168)] {
        let units = units_of(&app, host).await;
        let commune_level = units
            .iter()
            .filter(|u| ["commune", "ward", "special_zone"].contains(&u["kind"].as_str().unwrap()))
            .count();
        assert_eq!(commune_level, communes, "{host}");
        assert!(
            units
                .iter()
                .any(|u| u["kind"] == "centre" && u["receives"] == true)
        );
        assert!(
            units
                .iter()
                .any(|u| u["kind"] == "department" && u["receives"] == false)
        );
    }
    let hn = units_of(&app, HN).await;
    assert!(
        hn.iter()
            .any(|u| u["code"] == A && u["name"] == "Phường Ba Đình" && u["kind"] == "ward")
    );
    // A second apply of every shipped manifest changes nothing.
    let db = app.database().clone();
    let again = tokio::task::spawn_blocking(move || {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tenants");
        let ms: Vec<_> = ["ha-noi", "ho-chi-minh"]
            .iter()
            .map(|s| {
                portal::tenancy::manifest::parse_file(&dir.join(format!("{s}.toml")), "localhost")
                    .unwrap()
            })
            .collect();
        portal::app::manifests::apply(&db, &ms, false, "test").unwrap()
    })
    .await
    .unwrap();
    for o in again {
        assert!(o.changes.is_empty(), "{}: {:?}", o.slug, o.changes);
    }
}

#[tokio::test]
async fn a_dossier_for_commune_b_filed_online_or_at_the_counter_of_a_is_in_bs_queue_with_the_same_deadline()
 {
    let app = TestApp::spawn().await;
    app.create_province_from_manifest("ha-noi").await;
    let citizen = app.citizen_token(HN, "dan@example.vn").await;
    let online = app
        .post_json(HN, "/api/v1/dossiers", Some(&citizen), &birth(Some(B)))
        .await;
    assert_eq!(online.status(), 201);
    let online: Value = online.json().await.unwrap();
    let online = online["tracking_code"].as_str().unwrap().to_string();

    let receiver_a = app
        .unit_staff_token(
            "ha-noi",
            "tiepnhan.a@hanoi.gov.vn",
            StaffRole::Receiver,
            &[A],
        )
        .await;
    let mut body = birth(Some(B));
    body["channel"] = json!("counter");
    let counter = app
        .post_json(HN, "/api/v1/manage/dossiers", Some(&receiver_a), &body)
        .await;
    assert_eq!(counter.status(), 201);
    let counter: Value = counter.json().await.unwrap();
    let counter = counter["tracking_code"].as_str().unwrap().to_string();

    let official_b = app
        .unit_staff_token("ha-noi", "xuly.b@hanoi.gov.vn", StaffRole::Official, &[B])
        .await;
    let b_queue = queue(&app, &official_b, "").await;
    assert!(
        b_queue.contains(&online) && b_queue.contains(&counter),
        "{b_queue:?}"
    );

    // Where each was received, and who decides it.
    for (code, received) in [(&online, "online"), (&counter, A)] {
        let res = app
            .get_with_token(HN, &format!("/api/v1/manage/dossiers/{code}"), &official_b)
            .await;
        assert_eq!(res.status(), 200);
        let d: Value = res.json().await.unwrap();
        assert_eq!(d["competent_unit"], B);
        assert_eq!(d["received_at"], received);
    }
    // The citizen sees the same.
    let mine: Value = app
        .get_with_token(HN, &format!("/api/v1/dossiers/{online}"), &citizen)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["competent_unit"], B);

    // A's receiving officer sees the counter dossier's receipt only, and cannot move it.
    let a_view: Value = app
        .get_with_token(
            HN,
            &format!("/api/v1/manage/dossiers/{counter}"),
            &receiver_a,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(a_view["receipt_only"], true);
    assert_eq!(a_view["answers"], json!({}));
    let moved = app
        .act(HN, &receiver_a, &counter, json!({"action": "accept"}))
        .await;
    assert_eq!(moved.status(), 404);

    // Accepted by B, both get the deadline of a dossier received at B today.
    let mut due = Vec::new();
    for code in [&online, &counter] {
        let res = app
            .act(HN, &official_b, code, json!({"action": "accept"}))
            .await;
        assert_eq!(res.status(), 200, "accept {code}");
        let d: Value = res.json().await.unwrap();
        due.push(d["due_on"].clone());
    }
    assert!(due[0].is_string());
    assert_eq!(due[0], due[1]);
}

#[tokio::test]
async fn an_official_of_commune_a_sees_none_of_commune_bs_dossiers() {
    let app = TestApp::spawn().await;
    app.create_province_from_manifest("ha-noi").await;
    let citizen = app.citizen_token(HN, "dan@example.vn").await;
    let mut codes = Vec::new();
    for _ in 0..3 {
        let res = app
            .post_json(HN, "/api/v1/dossiers", Some(&citizen), &birth(Some(B)))
            .await;
        assert_eq!(res.status(), 201);
        let v: Value = res.json().await.unwrap();
        codes.push(v["tracking_code"].as_str().unwrap().to_string());
    }
    let official_a = app
        .unit_staff_token("ha-noi", "xuly.a@hanoi.gov.vn", StaffRole::Official, &[A])
        .await;
    assert_eq!(queue(&app, &official_a, "").await.len(), 0);
    assert_eq!(
        queue(&app, &official_a, "?open=all&sort=newest")
            .await
            .len(),
        0
    );
    // Searching by code or citizen ID finds nothing either.
    assert_eq!(
        queue(&app, &official_a, &format!("?q={}", codes[0]))
            .await
            .len(),
        0
    );
    assert_eq!(
        queue(&app, &official_a, &format!("?q={CITIZEN_ID}"))
            .await
            .len(),
        0
    );
    for code in &codes {
        let res = app
            .get_with_token(HN, &format!("/api/v1/manage/dossiers/{code}"), &official_a)
            .await;
        assert_eq!(res.status(), 404, "{code}");
        let res = app
            .act(HN, &official_a, code, json!({"action": "accept"}))
            .await;
        assert_eq!(res.status(), 404, "{code}");
    }
    // Province-level staff (no unit) and the admin see them all.
    let province = app
        .staff_token("ha-noi", "tinh@hanoi.gov.vn", StaffRole::Official)
        .await;
    assert_eq!(queue(&app, &province, "").await.len(), 3);
}

#[tokio::test]
async fn a_head_of_unit_transfers_a_dossier_and_assigns_it_within_the_unit() {
    let app = TestApp::spawn().await;
    app.create_province_from_manifest("ha-noi").await;
    let citizen = app.citizen_token(HN, "dan@example.vn").await;
    let res = app
        .post_json(HN, "/api/v1/dossiers", Some(&citizen), &birth(Some(A)))
        .await;
    let code = res.json::<Value>().await.unwrap()["tracking_code"]
        .as_str()
        .unwrap()
        .to_string();
    let official_a = app
        .unit_staff_token("ha-noi", "xuly.a@hanoi.gov.vn", StaffRole::Official, &[A])
        .await;
    let head_a = app
        .unit_staff_token("ha-noi", "lanhdao.a@hanoi.gov.vn", StaffRole::Head, &[A])
        .await;
    let official_b = app
        .unit_staff_token("ha-noi", "xuly.b@hanoi.gov.vn", StaffRole::Official, &[B])
        .await;
    let transfer = |unit: &str| json!({"action": "transfer", "unit_code": unit, "note": "Người dân cư trú tại Ngọc Hà"});
    // An official may not transfer; a head may, but only to a unit that decides the procedure.
    assert_eq!(
        app.act(HN, &official_a, &code, transfer(B)).await.status(),
        403
    );
    let res = app.act(HN, &head_a, &code, transfer("SO-TP")).await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert!(body["error"]["fields"]["unit_code"].is_string(), "{body}");
    let res = app.act(HN, &head_a, &code, transfer("79999")).await;
    assert_eq!(res.status(), 422);
    let res = app.act(HN, &head_a, &code, transfer(B)).await;
    assert_eq!(res.status(), 200);
    let d: Value = res.json().await.unwrap();
    assert_eq!(d["competent_unit"], B);
    let last = d["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "transfer");
    assert!(last["note"].as_str().unwrap().contains(B));
    // Now B's, no longer A's.
    assert_eq!(queue(&app, &official_b, "").await, vec![code.clone()]);
    assert_eq!(queue(&app, &official_a, "").await.len(), 0);
    assert_eq!(app.act(HN, &head_a, &code, transfer(A)).await.status(), 404);

    // B's head assigns it to B's official; not to A's.
    let head_b = app
        .unit_staff_token("ha-noi", "lanhdao.b@hanoi.gov.vn", StaffRole::Head, &[B])
        .await;
    let me_b: Value = app
        .get_with_token(HN, "/api/v1/me", &official_b)
        .await
        .json()
        .await
        .unwrap();
    let me_a: Value = app
        .get_with_token(HN, "/api/v1/me", &official_a)
        .await
        .json()
        .await
        .unwrap();
    let res = app
        .act(
            HN,
            &head_b,
            &code,
            json!({"action": "assign", "assignee_id": me_a["id"]}),
        )
        .await;
    assert_eq!(res.status(), 422, "an official of another unit");
    let res = app
        .act(
            HN,
            &head_b,
            &code,
            json!({"action": "assign", "assignee_id": me_b["id"]}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let d: Value = res.json().await.unwrap();
    assert_eq!(d["assignee_id"], me_b["id"]);
    let mine = queue(
        &app,
        &official_b,
        &format!("?assignee={}", me_b["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(mine, vec![code]);
}

#[tokio::test]
async fn a_unit_code_not_in_the_national_list_or_of_another_province_is_422_on_unit_code() {
    let app = TestApp::spawn().await;
    app.create_province_from_manifest("ha-noi").await;
    let citizen = app.citizen_token(HN, "dan@example.vn").await;
    // 25747 is a ward of TP Hồ Chí Minh; 99999 is in no list; "SO-TP" does not decide births.
    for (unit, why) in [
        ("25747", "tỉnh, thành phố khác"),
        ("99999", "Không có đơn vị hành chính"),
        ("SO-TP", "không giải quyết thủ tục này"),
        ("bad code", "Mã đơn vị không hợp lệ"),
    ] {
        let res = app
            .post_json(HN, "/api/v1/dossiers", Some(&citizen), &birth(Some(unit)))
            .await;
        assert_eq!(res.status(), 422, "{unit}");
        let body: Value = res.json().await.unwrap();
        let msg = body["error"]["fields"]["unit_code"]
            .as_str()
            .unwrap_or_default();
        assert!(msg.contains(why), "{unit}: {body}");
    }
    // A counter of another unit than one's own: 422 on received_at.
    let receiver_a = app
        .unit_staff_token(
            "ha-noi",
            "tiepnhan.a@hanoi.gov.vn",
            StaffRole::Receiver,
            &[A],
        )
        .await;
    let mut body = birth(Some(B));
    body["received_at"] = json!(B);
    let res = app
        .post_json(HN, "/api/v1/manage/dossiers", Some(&receiver_a), &body)
        .await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert!(body["error"]["fields"]["received_at"].is_string(), "{body}");
    // Nothing was filed.
    let province = app
        .staff_token("ha-noi", "tinh@hanoi.gov.vn", StaffRole::Official)
        .await;
    assert_eq!(queue(&app, &province, "").await.len(), 0);
}

/// Files a licence renewal online without a unit code and reads the dossier back.
async fn file_licence_renewal(app: &TestApp, citizen: &str) -> Value {
    let res = app
        .post_json(
            HN,
            "/api/v1/dossiers",
            Some(citizen),
            &crate::helpers::licence_renewal(),
        )
        .await;
    assert_eq!(res.status(), 201);
    let code = res.json::<Value>().await.unwrap()["tracking_code"]
        .as_str()
        .unwrap()
        .to_string();
    app.get_with_token(HN, &format!("/api/v1/dossiers/{code}"), citizen)
        .await
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn without_a_unit_code_a_procedure_goes_to_the_unit_the_province_maps_it_to() {
    let app = TestApp::spawn().await;
    let hn = app.create_province_from_manifest("ha-noi").await;
    let citizen = app.citizen_token(HN, "dan@example.vn").await;
    // GPLX-001 is mapped to the provincial police in tenants/ha-noi.toml.
    let d = file_licence_renewal(&app, &citizen).await;
    assert_eq!(d["competent_unit"], "CA-TINH");
    assert_eq!(d["received_at"], "online");

    // The filing reads the mapping from the site cache (its first filing loaded it): a change
    // reaches the next filings, as the units' trigger tells the cache to forget.
    {
        use diesel::RunQueryDsl;
        diesel::sql_query(format!(
            "UPDATE {}.procedure_units SET unit_code = 'TTPVHCC' WHERE procedure_code = 'GPLX-001'",
            hn.schema
        ))
        .execute(&mut app.raw_connection())
        .unwrap();
    }
    let mut seen = Value::Null;
    for _ in 0..50 {
        seen = file_licence_renewal(&app, &citizen).await["competent_unit"].clone();
        if seen == "TTPVHCC" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(seen, "TTPVHCC");
}

#[tokio::test]
async fn a_unit_that_decides_open_dossiers_cannot_be_retired_until_they_are_transferred() {
    let app = TestApp::spawn().await;
    let t = app.create_province_from_manifest("ha-noi").await;
    let citizen = app.citizen_token(HN, "dan@example.vn").await;
    let res = app
        .post_json(
            HN,
            "/api/v1/dossiers",
            Some(&citizen),
            &crate::helpers::licence_renewal(),
        )
        .await;
    assert_eq!(res.status(), 201);
    // The manifest without the police and with GPLX mapped to the centre instead.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tenants/ha-noi.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let without = text
        .replace(
            "[[units]]\ncode = \"CA-TINH\"\nname = \"Công an Thành phố Hà Nội\"\nkind = \"department\"\n",
            "",
        )
        .replace("= \"CA-TINH\"", "= \"TTPVHCC\"");
    assert_ne!(without, text);
    let db = app.database().clone();
    let result = tokio::task::spawn_blocking(move || {
        let m = portal::tenancy::manifest::parse_str(&without, &path, "localhost").unwrap();
        portal::app::manifests::apply(&db, &[m], false, "test")
    })
    .await
    .unwrap();
    let err = result.expect_err("retiring a unit with an open dossier");
    assert!(
        err.to_string().contains("open dossier")
            || format!("{err:?}").contains("unit_has_open_dossiers"),
        "{err:?}"
    );
    // Nothing changed: the police unit is still there and still decides GPLX-001.
    let units = units_of(&app, HN).await;
    assert!(units.iter().any(|u| u["code"] == "CA-TINH"));
    let _ = t;
}

#[tokio::test]
async fn staff_are_created_in_units_from_the_api_and_bad_units_are_422() {
    let app = TestApp::spawn().await;
    app.create_province_from_manifest("ha-noi").await;
    let admin = app
        .staff_token("ha-noi", "admin@hanoi.gov.vn", StaffRole::Admin)
        .await;
    let res = app
        .post_json(
            HN,
            "/api/v1/manage/users",
            Some(&admin),
            &json!({"email": "moi@hanoi.gov.vn", "full_name": "Cán bộ Mới", "role": "official", "units": ["25747"]}),
        )
        .await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert!(body["error"]["fields"]["units"].is_string(), "{body}");
    let res = app
        .post_json(
            HN,
            "/api/v1/manage/users",
            Some(&admin),
            &json!({"email": "moi@hanoi.gov.vn", "full_name": "Cán bộ Mới", "role": "head", "units": [A]}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let res = app
        .post_json(
            HN,
            "/api/v1/manage/users",
            Some(&admin),
            &json!({"email": "x@hanoi.gov.vn", "full_name": "X", "role": "mayor"}),
        )
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(error_code(res).await, "validation_failed");
}

#[tokio::test]
async fn the_unit_list_gives_the_provinces_own_units_first_then_the_communes_by_name() {
    let app = TestApp::spawn().await;
    app.create_province_from_manifest("ha-noi").await;
    let units = units_of(&app, HN).await;
    assert!(units.len() > 100, "{}", units.len());
    let rank = |kind: &str| match kind {
        "centre" => 0,
        "branch" => 1,
        "department" => 2,
        _ => 3,
    };
    // Names compared as a citizen reads them: without marks ("Đ" with "D", "Ô" with "O").
    let keys: Vec<(i32, String)> = units
        .iter()
        .map(|u| {
            (
                rank(u["kind"].as_str().unwrap()),
                portal::catalog::fold_vietnamese(u["name"].as_str().unwrap()),
            )
        })
        .collect();
    for pair in keys.windows(2) {
        assert!(pair[0] <= pair[1], "{:?} before {:?}", pair[0], pair[1]);
    }
    // Not vacuous: the communes' names are not already in code order.
    let names: Vec<&str> = units.iter().map(|u| u["name"].as_str().unwrap()).collect();
    let mut by_code = units.clone();
    by_code.sort_by(|a, b| a["code"].as_str().cmp(&b["code"].as_str()));
    let code_order: Vec<&str> = by_code
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_ne!(names, code_order);
}

/// `(unit, unit_name)` of each dossier in the national "my dossiers" of `national`'s account.
async fn my_units(app: &TestApp, national: &str) -> Vec<(Value, Value)> {
    let res = app
        .get_with_token("localhost", "/api/v1/me/dossiers", national)
        .await;
    assert_eq!(res.status(), 200);
    let list: Vec<Value> = res.json().await.unwrap();
    list.iter()
        .map(|d| (d["unit"].clone(), d["unit_name"].clone()))
        .collect()
}

/// The national "my dossiers" names the unit that decides each dossier (no raw codes on a
/// page), before and after the unit is retired (the province's unit directory holds retired
/// units too); the staff's desk names it after retirement too.
#[tokio::test]
async fn my_dossiers_names_the_deciding_unit_also_after_it_is_retired() {
    let app = TestApp::spawn().await;
    let t = app.create_province_from_manifest("ha-noi").await;
    let email = "dan@example.vn";
    let citizen = app.citizen_token(HN, email).await;
    let res = app
        .post_json(HN, "/api/v1/dossiers", Some(&citizen), &birth(Some(B)))
        .await;
    assert_eq!(res.status(), 201);
    let national = app
        .token("localhost", email, crate::helpers::CITIZEN_PASSWORD)
        .await;
    let want = vec![(json!(B), json!("Phường Ngọc Hà"))];
    assert_eq!(my_units(&app, &national).await, want);

    // Retired behind the application's back (its rule against open dossiers is not what is
    // tested here), and the directory forgotten as the units' trigger makes every replica do.
    crate::einvoice_kit::exec(
        &app,
        &format!(
            "UPDATE {}.units SET retired_at = now() WHERE code = '{B}'",
            t.schema
        ),
    );
    app.state.registry.sites().forget(&t.schema);
    assert_eq!(my_units(&app, &national).await, want);
    // The staff's export names it too (their desk holds the retired units).
    let official = app
        .unit_staff_token("ha-noi", "xuly.b@hanoi.gov.vn", StaffRole::Official, &[B])
        .await;
    let csv = app
        .get_with_token(HN, "/api/v1/manage/dossiers.csv?open=all", &official)
        .await;
    assert_eq!(csv.status(), 200);
    let csv = csv.text().await.unwrap();
    assert!(csv.contains("Phường Ngọc Hà"), "{csv}");
}
