//! The national front door (#17): one search, one "my dossiers" across provinces, tracking by
//! code from the national host.

use serde_json::{Value, json};

use crate::helpers::{CITIZEN_ID, TestApp, licence_renewal};

const NATIONAL: &str = "localhost";

async fn search(app: &TestApp, q: &str) -> Value {
    let res = app
        .get(NATIONAL, &format!("/api/v1/search?q={}", urlencode(q)))
        .await;
    assert_eq!(res.status(), 200, "{q}");
    res.json().await.unwrap()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn slugs(found: &Value) -> Vec<String> {
    found["provinces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["slug"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn former_names_aliases_and_names_without_diacritics_find_ho_chi_minh_city() {
    let app = TestApp::spawn().await;
    app.create_province_from_manifest("ho-chi-minh").await;
    app.create_province_from_manifest("ha-noi").await;
    app.create_province_from_manifest("da-nang").await;
    for q in [
        "Bình Dương",
        "binh duong",
        "Sài Gòn",
        "hcm",
        "Thành phố Hồ Chí Minh",
        "vung tau",
    ] {
        assert_eq!(slugs(&search(&app, q).await), vec!["ho-chi-minh"], "{q}");
    }
    assert_eq!(slugs(&search(&app, "Quảng Nam").await), vec!["da-nang"]);
    assert_eq!(slugs(&search(&app, "ha noi").await), vec!["ha-noi"]);
    let found = search(&app, "binh duong").await;
    assert!(
        found["provinces"][0]["former_names"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == "Tỉnh Bình Dương"),
        "{found}"
    );
    assert!(slugs(&search(&app, "").await).is_empty());
    assert!(slugs(&search(&app, "xyzzy").await).is_empty());
    // The home page's box finds it the same way.
    let page = app.get(NATIONAL, "/?q=b%C3%ACnh+d%C6%B0%C6%A1ng").await;
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Thành phố Hồ Chí Minh"),
        "the home page search"
    );
    assert!(!html.contains("Thành phố Hà Nội"));
}

#[tokio::test]
async fn procedures_are_searched_across_provinces_with_or_without_diacritics() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    app.create_tenant("hue", "Thành phố Huế").await;
    for q in ["giấy phép lái xe", "giay phep lai xe", "GPLX-001"] {
        let found = search(&app, q).await;
        let gplx = found["procedures"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["code"] == "GPLX-001")
            .unwrap_or_else(|| panic!("{q}: {found}"))
            .clone();
        assert_eq!(gplx["provinces"], json!(["ha-noi", "hue"]), "{q}");
    }
    // Huế switches it off: the search says only Hà Nội offers it.
    let admin = app
        .staff_token(
            "hue",
            "admin@hue.gov.vn",
            portal::accounts::staff::StaffRole::Admin,
        )
        .await;
    let res = app
        .client
        .put(app.url("/api/v1/manage/procedures/GPLX-001"))
        .header("Host", "hue.localhost")
        .bearer_auth(&admin)
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let found = search(&app, "GPLX-001").await;
    let gplx = &found["procedures"][0];
    assert_eq!(gplx["provinces"], json!(["ha-noi"]), "{found}");
}

#[tokio::test]
async fn my_dossiers_asks_only_the_3_of_34_provinces_that_hold_the_accounts_dossiers() {
    let app = TestApp::spawn().await;
    let mut slugs = Vec::new();
    for i in 0..34 {
        let slug = format!("tinh-{i:02}");
        app.create_tenant(&slug, &format!("Tỉnh Thử {i:02}")).await;
        slugs.push(slug);
    }
    let email = "dan@example.vn";
    let mut filed = Vec::new();
    for slug in ["tinh-03", "tinh-17", "tinh-30"] {
        let host = format!("{slug}.localhost");
        let token = app.citizen_token(&host, email).await;
        let code = app.submit_licence_renewal(&host, &token).await;
        filed.push((slug, code));
    }
    // Somebody else's dossier elsewhere does not show.
    let other = app
        .citizen_token("tinh-05.localhost", "khac@example.vn")
        .await;
    app.submit_licence_renewal("tinh-05.localhost", &other)
        .await;

    let national = app
        .token(NATIONAL, email, crate::helpers::CITIZEN_PASSWORD)
        .await;
    let res = app
        .get_with_token(NATIONAL, "/api/v1/me/dossiers", &national)
        .await;
    assert_eq!(res.status(), 200);
    let list: Vec<Value> = res.json().await.unwrap();
    assert_eq!(list.len(), 3);
    // Newest first, each with its province.
    let got: Vec<(String, String)> = list
        .iter()
        .map(|d| {
            (
                d["province"].as_str().unwrap().to_string(),
                d["tracking_code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = filed
        .iter()
        .rev()
        .map(|(s, c)| (s.to_string(), c.clone()))
        .collect();
    assert_eq!(got, want);
    assert_eq!(list[0]["procedure_code"], "GPLX-001");
    assert_eq!(list[0]["status"], "submitted");

    // Three provinces asked, not thirty-four.
    let citizen = {
        let db = app.database().clone();
        tokio::task::spawn_blocking(move || {
            db.control(|conn| {
                use diesel::prelude::*;
                portal::db::schema::citizens::table
                    .filter(portal::db::schema::citizens::email.eq("dan@example.vn"))
                    .select(portal::db::schema::citizens::id)
                    .first::<uuid::Uuid>(conn)
                    .map_err(Into::into)
            })
            .unwrap()
        })
        .await
        .unwrap()
    };
    let mine = portal::app::national::my_dossiers(
        &app.state,
        portal::ids::CitizenId(citizen),
        portal::lang::Lang::Vi,
    )
    .await
    .unwrap();
    assert_eq!(mine.provinces_queried, 3);
    assert_eq!(mine.dossiers.len(), 3);

    // A province token is not a national one.
    let province_token = app.citizen_token("tinh-03.localhost", email).await;
    let res = app
        .get_with_token(NATIONAL, "/api/v1/me/dossiers", &province_token)
        .await;
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn any_provinces_tracking_code_is_tracked_from_the_national_host() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    app.create_tenant("hue", "Thành phố Huế").await;
    let token = app.citizen_token("hue.localhost", "dan@example.vn").await;
    let res = app
        .post_json(
            "hue.localhost",
            "/api/v1/dossiers",
            Some(&token),
            &licence_renewal(),
        )
        .await;
    let code = res.json::<Value>().await.unwrap()["tracking_code"]
        .as_str()
        .unwrap()
        .to_string();
    let res = app
        .get(
            NATIONAL,
            &format!("/api/v1/tracking/{code}?id_number={CITIZEN_ID}"),
        )
        .await;
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["tracking_code"], code);
    assert_eq!(v["status"], "submitted");
    assert!(v.get("applicant_name").is_none());
    let res = app
        .post_json(
            NATIONAL,
            "/api/v1/tracking",
            None,
            &json!({"tracking_code": code.to_lowercase(), "id_number": CITIZEN_ID}),
        )
        .await;
    assert_eq!(res.status(), 200);
    // A wrong ID, and a code of no province: the same 404.
    let res = app
        .post_json(
            NATIONAL,
            "/api/v1/tracking",
            None,
            &json!({"tracking_code": code, "id_number": "001090099999"}),
        )
        .await;
    assert_eq!(res.status(), 404);
    let res = app
        .post_json(
            NATIONAL,
            "/api/v1/tracking",
            None,
            &json!({"tracking_code": "ZZZ-2612-AAAAAA", "id_number": CITIZEN_ID}),
        )
        .await;
    assert_eq!(res.status(), 404);
}
