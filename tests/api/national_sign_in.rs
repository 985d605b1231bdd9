//! National sign-in by OpenID Connect (#17.1, #17.2) against the test identity provider.

use crate::helpers::*;
use crate::oidc_idp::{CLIENT_ID, CLIENT_SECRET, Idp, Person, Spoil};
use secrecy::SecretString;

const PERSON_ID: &str = "079123456789";

fn person(email: Option<&str>) -> Person {
    Person {
        citizen_id: PERSON_ID.into(),
        name: "Trần Văn Định Danh".into(),
        birthdate: "1990-05-17".into(),
        email: email.map(str::to_string),
    }
}

async fn spawn_with_issuer(issuer: &str) -> TestApp {
    let db = TestDb::create();
    let mut settings = test_settings(&db.url);
    settings.oidc.issuer = Some(issuer.to_string());
    settings.oidc.client_id = Some(CLIENT_ID.into());
    settings.oidc.client_secret = Some(SecretString::from(CLIENT_SECRET.to_string()));
    TestApp::spawn_with(db, settings).await
}

fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| {
            let (pair, _) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = pair.split_once('=')?;
            (k == name && !v.is_empty()).then(|| v.to_string())
        })
}

/// The browser's way: start on `host`, the provider's authorize (auto-approved), back with
/// the code. Returns the callback's URL (path and query) and the flow cookie.
async fn to_provider_and_back(
    app: &TestApp,
    host: &str,
    level: u8,
    next: &str,
) -> (String, String) {
    let res = app
        .get(host, &format!("/auth/oidc/start?level={level}&next={next}"))
        .await;
    assert_eq!(res.status(), 302, "start");
    let flow = set_cookie(&res, "oidc_flow").expect("flow cookie");
    let authorize = res.headers()["location"].to_str().unwrap().to_string();
    let res = app.client.get(&authorize).send().await.unwrap();
    assert_eq!(res.status(), 302, "authorize");
    let back = reqwest::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(back.path(), "/auth/oidc/callback");
    (format!("{}?{}", back.path(), back.query().unwrap()), flow)
}

async fn callback(app: &TestApp, host: &str, path: &str, flow: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .header("Host", host)
        .header("Cookie", format!("oidc_flow={flow}"))
        .send()
        .await
        .unwrap()
}

/// Signs in on `host` at `level`; the session cookie (a site-bound token).
async fn sign_in(app: &TestApp, host: &str, level: u8) -> String {
    let (path, flow) = to_provider_and_back(app, host, level, "/").await;
    let res = callback(app, host, &path, &flow).await;
    assert_eq!(res.status(), 303, "callback");
    set_cookie(&res, "session").expect("session cookie")
}

fn accounts(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    let mut conn = app.raw_connection();
    diesel::sql_query("SELECT count(*) AS n FROM identity.citizens")
        .get_result::<Count>(&mut conn)
        .unwrap()
        .n
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn criminal_record() -> serde_json::Value {
    serde_json::json!({
        "procedure_code": "LLTP-001",
        "fields": {
            "full_name": "Trần Văn Định Danh",
            "id_number": PERSON_ID,
            "date_of_birth": "1990-05-17",
            "sex": "male",
            "permanent_address": "12 Phố Huế, phường Hai Bà Trưng, Hà Nội",
            "certificate_type": "type_1",
            "copies": 1,
            "purpose": "Xin việc",
            "delivery": "pickup",
            "phone": "0912 345 678"
        }
    })
}

#[tokio::test]
async fn level_one_is_asked_to_step_up_then_files_at_level_two() {
    let idp = Idp::start(person(Some("dinhdanh@example.vn"))).await;
    let app = spawn_with_issuer(&idp.issuer).await;
    let tenant = app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let host = "ha-noi.localhost";

    // The catalog says which level each procedure needs.
    let list: serde_json::Value = app
        .get(host, "/api/v1/procedures")
        .await
        .json()
        .await
        .unwrap();
    let level_of = |code: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|p| p["code"] == code)
            .unwrap()["assurance_level"]
            .clone()
    };
    assert_eq!(level_of("LLTP-001"), 2);
    assert_eq!(level_of("GPLX-001"), 1);

    // National host: signed in at level 1, one account linked to the citizen ID.
    let national = sign_in(&app, "localhost", 1).await;
    assert_eq!(accounts(&app), 1);
    // Province host (no shared session yet: the province's own sign-in, same provider).
    let level_one = sign_in(&app, host, 1).await;
    assert_eq!(accounts(&app), 1, "the same citizen ID, the same account");
    assert_ne!(national, level_one);
    let res = app
        .post_json(
            host,
            "/api/v1/dossiers",
            Some(&level_one),
            &criminal_record(),
        )
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(error_code(res).await, "assurance_level_required");

    // Step up: a new sign-in at level 2, then the same submission goes through.
    let level_two = sign_in(&app, host, 2).await;
    let res = app
        .post_json(
            host,
            "/api/v1/dossiers",
            Some(&level_two),
            &criminal_record(),
        )
        .await;
    assert_eq!(res.status(), 201);
    let body: serde_json::Value = res.json().await.unwrap();
    let code = body["tracking_code"].as_str().unwrap().to_string();

    use diesel::prelude::*;
    #[derive(diesel::QueryableByName)]
    struct Level {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::SmallInt>)]
        assurance_level: Option<i16>,
    }
    let mut conn = app.raw_connection();
    let row: Level = diesel::sql_query(format!(
        "SELECT assurance_level FROM \"{}\".dossiers WHERE tracking_code = $1",
        tenant.schema
    ))
    .bind::<diesel::sql_types::Text, _>(&code)
    .get_result(&mut conn)
    .unwrap();
    assert_eq!(row.assurance_level, Some(2));
}

#[tokio::test]
async fn a_password_session_counts_as_level_one() {
    let idp = Idp::start(person(None)).await;
    let app = spawn_with_issuer(&idp.issuer).await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let token = app
        .citizen_token("ha-noi.localhost", "matkhau@example.vn")
        .await;
    let res = app
        .post_json(
            "ha-noi.localhost",
            "/api/v1/dossiers",
            Some(&token),
            &criminal_record(),
        )
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(error_code(res).await, "assurance_level_required");
}

#[tokio::test]
async fn the_next_path_never_leaves_the_site() {
    let idp = Idp::start(person(None)).await;
    let app = spawn_with_issuer(&idp.issuer).await;
    let (path, flow) = to_provider_and_back(&app, "localhost", 1, "https://evil.example/").await;
    let res = callback(&app, "localhost", &path, &flow).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/");
}

/// Each refusal: a clear page, no session, no account. Every case runs, then the cases that
/// were not refused are named together.
#[tokio::test]
async fn bad_answers_are_refused_and_create_nothing() {
    let idp = Idp::start(person(None)).await;
    let app = spawn_with_issuer(&idp.issuer).await;
    let host = "localhost";
    let mut not_refused = Vec::new();
    let mut check = |case: &str, status: reqwest::StatusCode, session: bool, page: &str| {
        let clear = page.contains("không có tài khoản nào được tạo");
        if status != 400 || session || !clear {
            not_refused.push(format!(
                "{case}: {status}, session {session}, clear page {clear}"
            ));
        }
    };

    // A wrong state.
    let (path, flow) = to_provider_and_back(&app, host, 1, "/").await;
    let forged = path.replace("state=", "state=x");
    let res = callback(&app, host, &forged, &flow).await;
    let (status, session) = (res.status(), set_cookie(&res, "session").is_some());
    check("wrong state", status, session, &res.text().await.unwrap());

    // Tokens spoiled at the provider.
    for spoil in [
        Spoil::BadSignature,
        Spoil::WrongAudience,
        Spoil::Expired,
        Spoil::WrongNonce,
    ] {
        idp.spoil(spoil);
        let (path, flow) = to_provider_and_back(&app, host, 1, "/").await;
        let res = callback(&app, host, &path, &flow).await;
        let (status, session) = (res.status(), set_cookie(&res, "session").is_some());
        check(
            &format!("{spoil:?}"),
            status,
            session,
            &res.text().await.unwrap(),
        );
    }
    let created = accounts(&app);

    // A replayed code: the first use signs in, the second is refused.
    idp.spoil(Spoil::None);
    let (path, flow) = to_provider_and_back(&app, host, 1, "/").await;
    assert_eq!(callback(&app, host, &path, &flow).await.status(), 303);
    let res = callback(&app, host, &path, &flow).await;
    let (status, session) = (res.status(), set_cookie(&res, "session").is_some());
    check("replayed code", status, session, &res.text().await.unwrap());
    assert!(not_refused.is_empty(), "not refused: {not_refused:#?}");
    assert_eq!(created, 0, "an account was created by a refused sign-in");
    assert_eq!(accounts(&app), 1);
}

#[tokio::test]
async fn a_password_account_with_the_same_email_is_never_merged() {
    let idp = Idp::start(person(Some("trung@example.vn"))).await;
    let app = spawn_with_issuer(&idp.issuer).await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    app.citizen_token("ha-noi.localhost", "trung@example.vn")
        .await;
    let (path, flow) = to_provider_and_back(&app, "localhost", 1, "/").await;
    let res = callback(&app, "localhost", &path, &flow).await;
    assert_eq!(res.status(), 409);
    assert!(set_cookie(&res, "session").is_none());
    assert_eq!(accounts(&app), 1, "no second account, no link");
}

#[tokio::test]
async fn a_provider_that_is_down_gets_a_clear_page_and_passwords_still_work() {
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let issuer = format!("http://127.0.0.1:{}", closed.local_addr().unwrap().port());
    drop(closed);
    let app = spawn_with_issuer(&issuer).await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let res = app
        .get("localhost", "/auth/oidc/start?level=1&next=/")
        .await;
    assert_eq!(res.status(), 503);
    assert!(res.text().await.unwrap().contains("VNeID"));
    app.citizen_token("ha-noi.localhost", "van@example.vn")
        .await;
}

#[tokio::test]
async fn the_provider_rotates_its_key_and_nobody_is_signed_out() {
    let idp = Idp::start(person(None)).await;
    let app = spawn_with_issuer(&idp.issuer).await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let host = "ha-noi.localhost";
    let before = sign_in(&app, host, 1).await;
    idp.rotate();
    // A token under the new key id: the keys are read again, the sign-in completes.
    let after = sign_in(&app, host, 1).await;
    for token in [&before, &after] {
        let res = app.get_with_token(host, "/api/v1/dossiers", token).await;
        assert_eq!(res.status(), 200);
    }
}

#[tokio::test]
async fn password_sign_in_for_citizens_can_be_switched_off() {
    let db = TestDb::create();
    let mut settings = test_settings(&db.url);
    settings.auth.citizen_password_sign_in = false;
    let app = TestApp::spawn_with(db, settings).await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let body = serde_json::json!({"email": "tat@example.vn", "password": CITIZEN_PASSWORD, "full_name": "Lê Văn Tắt"});
    let res = app
        .post_json("ha-noi.localhost", "/api/v1/auth/register", None, &body)
        .await;
    assert_eq!(res.status(), 201);
    let body = serde_json::json!({"email": "tat@example.vn", "password": CITIZEN_PASSWORD});
    let res = app
        .post_json("ha-noi.localhost", "/api/v1/auth/token", None, &body)
        .await;
    assert_eq!(res.status(), 401);
}
