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

    // A deactivated account's token lists nothing: 401, as on every citizen route.
    crate::einvoice_kit::exec(
        &app,
        &format!("UPDATE identity.citizens SET active = false WHERE id = '{citizen}'"),
    );
    let res = app
        .get_with_token(NATIONAL, "/api/v1/me/dossiers", &national)
        .await;
    assert_eq!(res.status(), 401, "deactivated");
    crate::einvoice_kit::exec(
        &app,
        &format!("UPDATE identity.citizens SET active = true WHERE id = '{citizen}'"),
    );

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

// ───── One catalog: procedures across provinces and "where can I file this" (#17.5) ─────

async fn page(app: &TestApp, path: &str) -> (u16, String) {
    let res = app.get(NATIONAL, path).await;
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

async fn where_to_file(app: &TestApp, code: &str) -> Value {
    let res = app
        .get(NATIONAL, &format!("/api/v1/procedures/{code}/where"))
        .await;
    assert_eq!(res.status(), 200, "{code}");
    res.json().await.unwrap()
}

fn offer_slugs(found: &Value) -> Vec<&str> {
    found["provinces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["slug"].as_str().unwrap())
        .collect()
}

async fn switch_off(app: &TestApp, slug: &str, code: &str) {
    let host = format!("{slug}.localhost");
    let admin = app
        .staff_token(
            slug,
            &format!("admin@{slug}.gov.vn"),
            portal::accounts::staff::StaffRole::Admin,
        )
        .await;
    let res = app
        .client
        .put(app.url(&format!("/api/v1/manage/procedures/{code}")))
        .header("Host", host)
        .bearer_auth(&admin)
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn the_national_search_finds_procedures_without_diacritics_with_their_provinces() {
    let app = TestApp::spawn().await;
    app.create_province_from_manifest("ha-noi").await;
    app.create_province_from_manifest("ho-chi-minh").await;
    app.create_province_from_manifest("da-nang").await;
    switch_off(&app, "da-nang", "LLTP-001").await;

    // The API: a name typed without diacritics, with its provinces.
    for q in ["cap phieu ly lich tu phap", "Cấp phiếu lý lịch", "lltp-001"] {
        let found = search(&app, q).await;
        let lltp = found["procedures"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["code"] == "LLTP-001")
            .unwrap_or_else(|| panic!("{q}: {found}"));
        assert_eq!(lltp["provinces"], json!(["ha-noi", "ho-chi-minh"]), "{q}");
    }

    // The national home page: the procedure with its field, level, fee and how many provinces
    // offer it, as words, linking to "where can I file this".
    let (status, html) = page(&app, "/?q=cap+phieu+ly+lich+tu+phap").await;
    assert_eq!(status, 200);
    for want in [
        "Cấp phiếu lý lịch tư pháp",
        "LLTP-001",
        "href=\"/procedures/LLTP-001\"",
        "Hộ tịch – tư pháp",
        "Cấp sở, ngành",
        "200.000 đ",
        "Có tại 2 tỉnh, thành phố",
    ] {
        assert!(html.contains(want), "{want} not on the page:\n{html}");
    }
    // No raw codes of the catalog's groups or levels.
    for raw in ["justice", "department"] {
        assert!(!html.contains(raw), "{raw} on the page");
    }
    // English second.
    let (_, html) = page(&app, "/?q=dang+ky+khai+sinh&lang=en").await;
    for want in [
        "Register a birth",
        "Civil status &#38; justice",
        "Commune level",
    ] {
        assert!(
            html.contains(want),
            "{want} not on the English page:\n{html}"
        );
    }
    // A province search still shows no procedure.
    let (_, html) = page(&app, "/?q=binh+duong").await;
    assert!(!html.contains("/procedures/"), "{html}");

    // The full list: every procedure of the catalog, with its provinces' count.
    let (status, html) = page(&app, "/procedures").await;
    assert_eq!(status, 200);
    assert!(html.contains("href=\"/procedures/GPLX-001\""));
    assert!(html.contains("Có tại 3 tỉnh, thành phố"));
}

#[tokio::test]
async fn where_can_i_file_this_lists_the_provinces_and_units_that_decide_it() {
    let app = TestApp::spawn().await;
    app.create_province_from_manifest("ha-noi").await;
    let hcm = app.create_province_from_manifest("ho-chi-minh").await;
    app.create_province_from_manifest("da-nang").await;
    switch_off(&app, "da-nang", "LLTP-001").await;

    // Decided above the commune: the department each manifest maps it to.
    let found = where_to_file(&app, "LLTP-001").await;
    assert_eq!(found["code"], "LLTP-001");
    assert_eq!(found["name"], "Cấp phiếu lý lịch tư pháp");
    assert_eq!(
        offer_slugs(&found),
        vec!["ha-noi", "ho-chi-minh"],
        "{found}"
    );
    assert_eq!(
        found["provinces"][1]["units"],
        json!([{"code": "SO-TP", "name": "Sở Tư pháp"}]),
        "{found}"
    );
    // Decided by the commune: every commune-level unit of the province, none of its own.
    let found = where_to_file(&app, "HT-001").await;
    assert_eq!(
        offer_slugs(&found),
        vec!["da-nang", "ha-noi", "ho-chi-minh"]
    );
    let units = found["provinces"][2]["units"].as_array().unwrap();
    assert_eq!(
        units.len(),
        portal::units::national::of_province("79").count(),
        "{found}"
    );
    assert!(units.iter().all(|u| {
        let code = u["code"].as_str().unwrap();
        code.len() == 5 && code.bytes().all(|b| b.is_ascii_digit())
    }));

    // The page: provinces with their units and a link to the province's page for it; not the
    // province that switched it off.
    let (status, html) = page(&app, "/procedures/LLTP-001").await;
    assert_eq!(status, 200);
    let link = format!(
        "href=\"{}/procedures/LLTP-001\"",
        app.state.settings.url_for_host("ho-chi-minh.localhost")
    );
    for want in [
        "Thành phố Hà Nội",
        "Thành phố Hồ Chí Minh",
        "Sở Tư pháp",
        link.as_str(),
        "Có tại 2 tỉnh, thành phố",
    ] {
        assert!(html.contains(want), "{want} not on the page:\n{html}");
    }
    assert!(!html.contains("Đà Nẵng"), "{html}");

    // A change of mapping reaches the page (the units' trigger tells the cache to forget).
    {
        use diesel::RunQueryDsl;
        diesel::sql_query(format!(
            "UPDATE {}.procedure_units SET unit_code = 'TTPVHCC' WHERE procedure_code = 'LLTP-001'",
            hcm.schema
        ))
        .execute(&mut app.raw_connection())
        .unwrap();
    }
    let mut seen = Value::Null;
    for _ in 0..50 {
        seen = where_to_file(&app, "LLTP-001").await["provinces"][1]["units"].clone();
        if seen[0]["code"] == "TTPVHCC" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(seen[0]["code"], "TTPVHCC", "{seen}");

    // Unknown codes: 404 on both.
    let res = app.get(NATIONAL, "/api/v1/procedures/NOPE-001/where").await;
    assert_eq!(res.status(), 404);
    assert_eq!(page(&app, "/procedures/NOPE-001").await.0, 404);
}
