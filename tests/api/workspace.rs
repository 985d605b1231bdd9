//! The staff's workspace (#16, item 5): the page, the API and the CSV export show the same
//! dossiers in the same order; a unit's official sees only their unit's; search; the printable
//! receipt; transfer and assign through the page's forms.

use portal::accounts::staff::StaffRole;
use serde_json::{Value, json};

use crate::browser::Browser;
use crate::helpers::{CITIZEN_ID, STAFF_PASSWORD, TestApp};

const HN: &str = "ha-noi.localhost";
/// Phường Ba Đình and Phường Ngọc Hà, Hà Nội.
const A: &str = "00004";
const B: &str = "00008";

fn birth(unit: &str, name: &str) -> Value {
    json!({
        "procedure_code": "HT-001",
        "unit_code": unit,
        "fields": {
            "full_name": name,
            "id_number": CITIZEN_ID,
            "child_name": "Nguyễn Minh An",
            "child_date_of_birth": "2026-11-20",
            "child_sex": "female",
            "place_of_birth": "Bệnh viện Phụ sản Hà Nội",
            "mother_name": name,
            "mother_id_number": CITIZEN_ID,
        }
    })
}

async fn file(app: &TestApp, token: &str, unit: &str, name: &str) -> String {
    let res = app
        .post_json(HN, "/api/v1/dossiers", Some(token), &birth(unit, name))
        .await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    body["tracking_code"].as_str().unwrap().to_string()
}

/// The tracking codes a queue page links to, in order.
fn page_codes(body: &str) -> Vec<String> {
    body.split("class=\"queue-code\" href=\"/manage/dossiers/")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_string())
        .collect()
}

/// The first column of a CSV export, after its header; checks the byte order mark.
fn csv_codes(body: &[u8]) -> Vec<String> {
    assert!(body.starts_with("\u{feff}".as_bytes()), "no BOM");
    let mut r = csv::Reader::from_reader(&body[3..]);
    assert_eq!(r.headers().unwrap().get(0), Some("Mã hồ sơ"));
    r.records()
        .map(|rec| rec.unwrap().get(0).unwrap().to_string())
        .collect()
}

async fn unit_browser<'a>(
    app: &'a TestApp,
    email: &str,
    role: StaffRole,
    units: &[&str],
) -> (Browser<'a>, String) {
    let token = app.unit_staff_token("ha-noi", email, role, units).await;
    let mut b = Browser::new(app, HN);
    let res = b.sign_in_as(email, STAFF_PASSWORD, "/manage").await;
    assert_eq!(res.status, 303, "{}", res.body);
    (b, token)
}

#[tokio::test]
async fn the_page_the_api_and_both_csv_exports_show_the_same_dossiers_in_the_same_order() {
    let app = TestApp::spawn().await;
    app.create_province_from_manifest("ha-noi").await;
    let citizen = app.citizen_token(HN, "dan@example.vn").await;
    let mut ours = Vec::new();
    for name in [
        "Trần Văn An",
        "Lê Thị Bình",
        "Phạm Quốc Cường",
        "Hoàng Thu Dung",
    ] {
        ours.push(file(&app, &citizen, A, name).await);
    }
    let theirs = file(&app, &citizen, B, "Vũ Minh Em").await;
    let (mut official, token) =
        unit_browser(&app, "xuly.a@hanoi.gov.vn", StaffRole::Official, &[A]).await;

    for query in [
        "open=all&sort=oldest",
        "open=all&sort=newest",
        "sort=deadline",
    ] {
        let page = official.get(&format!("/manage?{query}")).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let on_page = page_codes(&page.body);
        assert_eq!(on_page.len(), 4, "{query}: {on_page:?}");
        assert!(
            !on_page.contains(&theirs),
            "another unit's dossier on the page"
        );
        // The page's own CSV link carries the view.
        let href = page
            .body
            .split("class=\"csv-link\" href=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .replace("&amp;", "&");
        let csv = app
            .get_with_token(HN, &href.replace("/manage/", "/api/v1/manage/"), &token)
            .await;
        assert_eq!(csv.status(), 200);
        assert!(
            csv.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        let from_api_csv = csv_codes(&csv.bytes().await.unwrap());
        let from_page_csv = csv_codes(official.get(&href).await.body.as_bytes());
        let api: Vec<Value> = app
            .get_with_token(HN, &format!("/api/v1/manage/dossiers?{query}"), &token)
            .await
            .json()
            .await
            .unwrap();
        let from_api: Vec<String> = api
            .iter()
            .map(|r| r["tracking_code"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(on_page, from_page_csv, "{query}");
        assert_eq!(on_page, from_api_csv, "{query}");
        assert_eq!(on_page, from_api, "{query}: {api:?}");
    }
    let oldest = page_codes(&official.get("/manage?open=all&sort=oldest").await.body);
    assert_eq!(oldest, ours);
    // A filter narrows the page and its export alike.
    let page = official.get(&format!("/manage?q={}", ours[2])).await;
    assert_eq!(page_codes(&page.body), vec![ours[2].clone()]);
    let csv = official
        .get(&format!("/manage/dossiers.csv?q={}", ours[2]))
        .await;
    assert_eq!(csv_codes(csv.body.as_bytes()), vec![ours[2].clone()]);
    // Names, not codes, in the export.
    assert!(csv.body.contains("Phường Ba Đình"), "{}", csv.body);
    assert!(csv.body.contains("Trực tuyến"));
}

#[tokio::test]
async fn search_by_code_id_and_name_and_the_filters_narrow_the_page() {
    let app = TestApp::spawn().await;
    app.create_province_from_manifest("ha-noi").await;
    let citizen = app.citizen_token(HN, "dan@example.vn").await;
    let an = file(&app, &citizen, A, "Trần Văn An").await;
    let binh = file(&app, &citizen, A, "Lê Thị Bình").await;
    let (mut official, _) =
        unit_browser(&app, "xuly.a@hanoi.gov.vn", StaffRole::Official, &[A]).await;
    let codes = |q: &str| format!("/manage?q={}", portal::web::session::percent_encode(q));
    assert_eq!(
        page_codes(&official.get(&codes(&an)).await.body),
        vec![an.clone()]
    );
    assert_eq!(
        page_codes(&official.get(&codes(&an.to_lowercase())).await.body),
        vec![an.clone()]
    );
    let by_id = page_codes(&official.get(&codes(CITIZEN_ID)).await.body);
    assert_eq!(by_id.len(), 2);
    assert_eq!(
        page_codes(&official.get(&codes("thị bình")).await.body),
        vec![binh.clone()]
    );
    assert!(page_codes(&official.get(&codes("Không Có Ai")).await.body).is_empty());
    // Filters: the channel, the unit, open or closed.
    assert!(page_codes(&official.get("/manage?channel=counter").await.body).is_empty());
    assert_eq!(
        page_codes(&official.get("/manage?channel=online").await.body).len(),
        2
    );
    assert_eq!(
        page_codes(&official.get(&format!("/manage?unit={A}")).await.body).len(),
        2
    );
    assert!(page_codes(&official.get("/manage?open=closed").await.body).is_empty());
    assert!(page_codes(&official.get("/manage?status=processing").await.body).is_empty());
    assert_eq!(
        page_codes(&official.get("/manage?status=submitted").await.body).len(),
        2
    );
    // The unit filter offers the official's own unit by name, not the others.
    let page = official.get("/manage").await;
    assert!(
        page.body
            .contains(&format!("<option value=\"{A}\">Phường Ba Đình</option>"))
    );
    assert!(!page.body.contains(&format!("<option value=\"{B}\"")));
    assert!(page.body.contains("1–2 trong tổng số 2"), "{}", page.body);
    // A bad value is said on the page, not a crash.
    assert_eq!(official.get("/manage?sort=sideways").await.status, 422);
}

#[tokio::test]
async fn the_receipt_prints_for_staff_and_the_owner_and_is_404_for_anyone_else() {
    let app = TestApp::spawn().await;
    app.create_province_from_manifest("ha-noi").await;
    let citizen = app.citizen_token(HN, "dan@example.vn").await;
    let code = file(&app, &citizen, A, "Trần Văn An").await;
    let (mut official, _) =
        unit_browser(&app, "xuly.a@hanoi.gov.vn", StaffRole::Official, &[A]).await;
    let receipt = official
        .get(&format!("/manage/dossiers/{code}/receipt"))
        .await;
    assert_eq!(receipt.status, 200, "{}", receipt.body);
    assert!(receipt.body.contains(&code));
    assert!(receipt.body.contains("Phường Ba Đình"));
    assert!(receipt.body.contains("Trần Văn An"));
    assert!(receipt.body.contains("data-print"));
    let (mut other_unit, _) =
        unit_browser(&app, "xuly.b@hanoi.gov.vn", StaffRole::Official, &[B]).await;
    assert_eq!(
        other_unit
            .get(&format!("/manage/dossiers/{code}/receipt"))
            .await
            .status,
        404
    );

    let mut owner = Browser::new(&app, HN);
    owner.sign_in("dan@example.vn", "/dossiers").await;
    let mine = owner.get(&format!("/dossiers/{code}/receipt")).await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    assert!(mine.body.contains(&code));
    app.citizen_token(HN, "khac@example.vn").await;
    let mut stranger = Browser::new(&app, HN);
    stranger.sign_in("khac@example.vn", "/dossiers").await;
    assert_eq!(
        stranger
            .get(&format!("/dossiers/{code}/receipt"))
            .await
            .status,
        404
    );

    // Received at the counter of A for B: A's staff see the receipt part only, and why.
    let receiver = app
        .unit_staff_token(
            "ha-noi",
            "tiepnhan.a@hanoi.gov.vn",
            StaffRole::Receiver,
            &[A],
        )
        .await;
    let mut body = birth(B, "Ngô Văn Quầy");
    body["channel"] = json!("counter");
    let res = app
        .post_json(HN, "/api/v1/manage/dossiers", Some(&receiver), &body)
        .await;
    assert_eq!(res.status(), 201);
    let counter: Value = res.json().await.unwrap();
    let counter = counter["tracking_code"].as_str().unwrap();
    let page = official.get(&format!("/manage/dossiers/{counter}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("id=\"receipt-only\""), "{}", page.body);
    assert!(page.body.contains("Phường Ngọc Hà"));
    assert!(
        !page.body.contains(CITIZEN_ID),
        "the receipt part shows no citizen ID"
    );
    assert!(
        !page.body.contains("/actions\""),
        "no moves on a receipt-only dossier"
    );
    let receipt = official
        .get(&format!("/manage/dossiers/{counter}/receipt"))
        .await;
    assert_eq!(receipt.status, 200);
}

#[tokio::test]
async fn a_head_of_unit_assigns_and_transfers_through_the_page_and_the_history_names_them() {
    let app = TestApp::spawn().await;
    app.create_province_from_manifest("ha-noi").await;
    let citizen = app.citizen_token(HN, "dan@example.vn").await;
    let code = file(&app, &citizen, A, "Trần Văn An").await;
    app.unit_staff_token("ha-noi", "xuly.a@hanoi.gov.vn", StaffRole::Official, &[A])
        .await;
    let (mut head, _) = unit_browser(&app, "lanhdao.a@hanoi.gov.vn", StaffRole::Head, &[A]).await;
    let page = head.get(&format!("/manage/dossiers/{code}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = head.csrf(&page);
    // The official's id, from the assign form's select.
    let assign_form = page.body.split("name=\"assignee_id\"").nth(1).unwrap();
    let official_id = assign_form
        .split("<option value=\"")
        .nth(2)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    assert!(assign_form.contains("Chuyên viên xử lý"));
    // Without the form's token: refused.
    let res = head
        .post(
            &format!("/manage/dossiers/{code}/assign"),
            &[("assignee_id", &official_id)],
        )
        .await;
    assert_eq!(res.status, 403);
    let res = head
        .post(
            &format!("/manage/dossiers/{code}/assign"),
            &[("csrf", &csrf), ("assignee_id", &official_id)],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let page = head.get(&res.location).await;
    assert!(page.body.contains("Giao cán bộ xử lý"), "{}", page.body);
    // The history names who acted, with the role; the citizen as "Công dân".
    let history = page.body.split("class=\"timeline\"").nth(1).unwrap();
    assert!(history.contains("(Lãnh đạo đơn vị)"), "{history}");
    assert!(history.contains("Công dân"));
    assert!(!page.body.contains("staff:"));

    // Transfer to commune B: gone from A's reach.
    let res = head
        .post(
            &format!("/manage/dossiers/{code}/transfer"),
            &[("csrf", &csrf), ("unit_code", B), ("note", "Sai địa bàn")],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(
        head.get(&format!("/manage/dossiers/{code}")).await.status,
        404
    );
    let (mut official_b, _) =
        unit_browser(&app, "xuly.b@hanoi.gov.vn", StaffRole::Official, &[B]).await;
    let page = official_b.get(&format!("/manage/dossiers/{code}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Chuyển đơn vị giải quyết"));
    // An official (not a head) has no transfer or assign form.
    assert!(!page.body.contains("/transfer\""));
    assert!(!page.body.contains("/assign\""));
}

/// The page's total for a view narrowed by status alone is read off the counts by status
/// instead of counting the scope again: for every status tab and openness it is the number
/// `queue::count` gives, and any other filter is left to `queue::count`.
#[tokio::test]
async fn the_total_read_off_the_counts_is_the_counted_total_for_every_status_view() {
    use portal::dossiers::queue::{self, Openness, QueueFilter};
    use portal::dossiers::status::Status;
    let app = TestApp::spawn().await;
    let t = app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let citizen = app.citizen_token(HN, "dan@example.vn").await;
    for _ in 0..Status::ALL.len() + 3 {
        app.submit_licence_renewal(HN, &citizen).await;
    }
    // Every status held by some dossier (behind the workflow's back: the counting is tested).
    let statuses: Vec<String> = Status::ALL
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    crate::einvoice_kit::exec(
        &app,
        &format!(
            "UPDATE {schema}.dossiers d SET status = (ARRAY[{list}])[1 + n.i % {len}] \
             FROM (SELECT id, row_number() OVER (ORDER BY id) AS i FROM {schema}.dossiers) n \
             WHERE n.id = d.id",
            schema = t.schema,
            list = statuses.join(", "),
            len = statuses.len()
        ),
    );
    let door = app.database().tenant(t.db_ref());
    let checked = tokio::task::spawn_blocking(move || {
        door.tx(|conn| {
            let scope = portal::units::scope::UnitScope::Province;
            let counts = queue::counts(conn, &scope)?;
            assert_eq!(counts.len(), Status::ALL.len(), "{counts:?}");
            let mut checked = 0;
            for status in std::iter::once(None).chain(Status::ALL.map(Some)) {
                for open in [Openness::All, Openness::Open, Openness::Closed] {
                    let f = QueueFilter {
                        status,
                        open,
                        ..QueueFilter::default()
                    };
                    let counted = queue::count(conn, &scope, &f)?;
                    assert_eq!(
                        queue::total_from_counts(&counts, &f),
                        Some(counted),
                        "{status:?} {open:?}"
                    );
                    checked += usize::from(counted > 0);
                }
            }
            let narrower = QueueFilter {
                procedure: Some("GPLX-001".into()),
                ..QueueFilter::default()
            };
            assert_eq!(queue::total_from_counts(&counts, &narrower), None);
            Ok(checked)
        })
        .unwrap()
    })
    .await
    .unwrap();
    assert!(checked > 20, "{checked} views held dossiers");
}
