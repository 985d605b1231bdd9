//! Attacks on accounts: telling who has an account from sign-in or registration answers or
//! their timing, and getting round the sign-in lockout by switching hosts or doors.

use std::time::{Duration, Instant};

use portal::accounts::staff::StaffRole;
use serde_json::json;

use crate::attacks_kit::{count, exec, refused, tenant_with_domain};
use crate::browser::Browser;
use crate::helpers::{
    CITIZEN_PASSWORD, OPERATOR_EMAIL, OPERATOR_PASSWORD, STAFF_PASSWORD, TestApp,
};

const HN: &str = "ha-noi.localhost";
const HN_DOMAIN: &str = "dichvucong.hanoi.gov.vn";

/// `POST /api/v1/auth/token` on `host`: (status, body text, Retry-After).
async fn sign_in(
    app: &TestApp,
    host: &str,
    email: &str,
    password: &str,
    lang: &str,
) -> (u16, String, Option<String>) {
    let res = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .header("Host", host)
        .header("Accept-Language", lang)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let retry = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (status, res.text().await.unwrap(), retry)
}

/// Every attempt is a 401 with the very same body as the first.
async fn answered_alike(app: &TestApp, host: &str, attempts: &[(&str, &str)]) {
    for lang in ["vi", "en"] {
        let mut first: Option<String> = None;
        for (email, password) in attempts {
            let (status, body, _) = sign_in(app, host, email, password, lang).await;
            assert_eq!(status, 401, "{host} {email}: {body}");
            let parsed: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(parsed["error"]["code"], "unauthorized");
            match &first {
                None => first = Some(body),
                Some(f) => assert_eq!(&body, f, "{host} {email} ({lang})"),
            }
        }
    }
}

#[tokio::test]
async fn sign_in_answers_alike_for_unknown_addresses_wrong_passwords_and_disabled_accounts() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    app.citizen_token(HN, "dan@example.vn").await;
    app.citizen_token(HN, "off@example.vn").await;
    exec(
        &app,
        "UPDATE identity.citizens SET active = false WHERE email = 'off@example.vn'",
    );
    let admin = app
        .staff_token("ha-noi", "admin@hanoi.gov.vn", StaffRole::Admin)
        .await;
    app.staff_token("ha-noi", "canbo@hanoi.gov.vn", StaffRole::Official)
        .await;
    app.staff_token("ha-noi", "cu@hanoi.gov.vn", StaffRole::Official)
        .await;
    exec(
        &app,
        "UPDATE t_ha_noi.staff SET active = false WHERE email = 'cu@hanoi.gov.vn'",
    );
    let res = app
        .post_json(
            HN,
            "/api/v1/manage/users",
            Some(&admin),
            &json!({"email": "moi@hanoi.gov.vn", "full_name": "Cán bộ Mới", "role": "official"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    answered_alike(
        &app,
        HN,
        &[
            ("nobody@example.vn", CITIZEN_PASSWORD),
            ("dan@example.vn", "sai-mat-khau-123"),
            ("off@example.vn", CITIZEN_PASSWORD),
            ("canbo@hanoi.gov.vn", "sai-mat-khau-123"),
            ("cu@hanoi.gov.vn", STAFF_PASSWORD),
            ("moi@hanoi.gov.vn", STAFF_PASSWORD),
            ("not an address", "x"),
        ],
    )
    .await;
    answered_alike(
        &app,
        "localhost",
        &[
            ("nobody2@example.vn", CITIZEN_PASSWORD),
            ("dan@example.vn", "sai-mat-khau-456"),
            ("off@example.vn", CITIZEN_PASSWORD),
            ("canbo@hanoi.gov.vn", STAFF_PASSWORD),
        ],
    )
    .await;
    app.create_operator(
        OPERATOR_EMAIL,
        OPERATOR_PASSWORD,
        portal::accounts::operators::OperatorRole::Operator,
    )
    .await;
    app.create_operator(
        "old@ops.vn",
        OPERATOR_PASSWORD,
        portal::accounts::operators::OperatorRole::Billing,
    )
    .await;
    exec(
        &app,
        "UPDATE public.operators SET active = false WHERE email = 'old@ops.vn'",
    );
    answered_alike(
        &app,
        "ops.localhost",
        &[
            ("nobody3@example.vn", OPERATOR_PASSWORD),
            (OPERATOR_EMAIL, "sai-mat-khau-789"),
            ("old@ops.vn", OPERATOR_PASSWORD),
            ("dan@example.vn", CITIZEN_PASSWORD),
        ],
    )
    .await;
    // The operator's sign-in page says the same words for a wrong password and nobody.
    let mut page_text = Vec::new();
    for email in [OPERATOR_EMAIL, "nobody4@example.vn"] {
        let mut b = Browser::new(&app, "ops.localhost");
        let form = b.get("/sign-in").await;
        let csrf = b.csrf(&form);
        let res = b
            .post(
                "/sign-in",
                &[
                    ("csrf", &csrf),
                    ("email", email),
                    ("password", "sai-mat-khau-000"),
                ],
            )
            .await;
        assert_eq!(res.status, 401);
        // The page shows the address typed; compare the rest.
        page_text.push(res.body.replace(email, "EMAIL").replace(&csrf, "CSRF"));
    }
    assert_eq!(page_text[0], page_text[1]);
}

#[tokio::test]
async fn a_national_account_made_with_a_staff_address_does_not_tell_who_is_staff() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    app.staff_token("ha-noi", "canbo@hanoi.gov.vn", StaffRole::Official)
        .await;
    // Registration asks no proof of the address: anyone can make a national account with a
    // staff member's address, and one with an address nobody uses.
    for email in ["canbo@hanoi.gov.vn", "khong-phai-can-bo@hanoi.gov.vn"] {
        let res = app
            .post_json(
                "localhost",
                "/api/v1/auth/register",
                None,
                &json!({"email": email, "password": CITIZEN_PASSWORD, "full_name": "Kẻ Dò"}),
            )
            .await;
        assert_eq!(res.status(), 201, "{email}");
    }
    // Signing in on the province with that account's own password answers the same for
    // both: the staff account behind the first address stays unseen.
    let mut roles = Vec::new();
    for email in ["canbo@hanoi.gov.vn", "khong-phai-can-bo@hanoi.gov.vn"] {
        let (status, body, _) = sign_in(&app, HN, email, CITIZEN_PASSWORD, "vi").await;
        assert_eq!(status, 200, "{email}: {body}");
        let token = serde_json::from_str::<serde_json::Value>(&body).unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_string();
        let me: serde_json::Value = app
            .get_with_token(HN, "/api/v1/me", &token)
            .await
            .json()
            .await
            .unwrap();
        roles.push(me["role"].as_str().unwrap().to_string());
    }
    assert_eq!(roles, ["citizen", "citizen"]);
    // The staff password still opens the staff account, and nothing else does.
    let (status, body, _) = sign_in(&app, HN, "canbo@hanoi.gov.vn", STAFF_PASSWORD, "vi").await;
    assert_eq!(status, 200);
    let token = serde_json::from_str::<serde_json::Value>(&body).unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.get_with_token(HN, "/api/v1/manage/dossiers", &token)
            .await
            .status(),
        200
    );
}

/// The median time of each attempt, taken in turns so load hits all alike.
async fn medians(app: &TestApp, host: &str, groups: &[Vec<(String, String)>]) -> Vec<Duration> {
    let rounds = groups[0].len();
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); groups.len()];
    for round in 0..rounds {
        for (g, attempts) in groups.iter().enumerate() {
            let (email, password) = &attempts[round];
            let started = Instant::now();
            let (status, body, _) = sign_in(app, host, email, password, "vi").await;
            times[g].push(started.elapsed());
            assert_eq!(status, 401, "{email}: {body}");
        }
    }
    times
        .into_iter()
        .map(|mut t| {
            t.sort();
            t[t.len() / 2]
        })
        .collect()
}

/// No group is answered much faster than another (an unknown address answered without a
/// password check would be several times faster than a wrong password).
fn alike(what: &str, medians: &[Duration]) {
    let fastest = medians.iter().min().unwrap();
    let slowest = medians.iter().max().unwrap();
    assert!(
        *slowest < *fastest * 3,
        "{what}: medians {medians:?} tell the groups apart"
    );
}

#[tokio::test]
async fn sign_in_timing_does_not_tell_who_has_an_account() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    for i in 0..2 {
        app.citizen_token(HN, &format!("dan{i}@example.vn")).await;
        app.staff_token(
            "ha-noi",
            &format!("canbo{i}@hanoi.gov.vn"),
            StaffRole::Official,
        )
        .await;
        app.staff_token(
            "ha-noi",
            &format!("cu{i}@hanoi.gov.vn"),
            StaffRole::Official,
        )
        .await;
    }
    exec(
        &app,
        "UPDATE t_ha_noi.staff SET active = false WHERE email LIKE 'cu%'",
    );
    let rounds = 6;
    let group = |f: &dyn Fn(usize) -> (String, String)| (0..rounds).map(f).collect::<Vec<_>>();
    let wrong = "sai-mat-khau-123".to_string();
    let groups = [
        group(&|i| (format!("nobody{i}@example.vn"), wrong.clone())),
        group(&|i| (format!("dan{}@example.vn", i % 2), wrong.clone())),
        group(&|i| (format!("canbo{}@hanoi.gov.vn", i % 2), wrong.clone())),
        group(&|i| {
            (
                format!("cu{}@hanoi.gov.vn", i % 2),
                STAFF_PASSWORD.to_string(),
            )
        }),
    ];
    let m = medians(&app, HN, &groups).await;
    alike("province: nobody, citizen, staff, deactivated staff", &m);
    app.create_operator(
        OPERATOR_EMAIL,
        OPERATOR_PASSWORD,
        portal::accounts::operators::OperatorRole::Operator,
    )
    .await;
    let groups = [
        group(&|i| (format!("nobody{i}@ops.vn"), wrong.clone())),
        group(&|i| (OPERATOR_EMAIL.to_string(), format!("{wrong}{}", i % 2))),
    ];
    // Five failures lock an address: the operator's group stays under that.
    let groups: Vec<Vec<(String, String)>> = groups.iter().map(|g| g[..4].to_vec()).collect();
    let m = medians(&app, "ops.localhost", &groups).await;
    alike("operator: nobody, operator", &m);
}

#[tokio::test]
async fn registration_reveals_a_taken_address_only_as_the_contract_says() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    app.citizen_token(HN, "dan@example.vn").await;
    let register = |host: &'static str, email: &str, password: &str, name: &str| {
        let body = json!({"email": email, "password": password, "full_name": name});
        let app = &app;
        async move {
            app.post_json(host, "/api/v1/auth/register", None, &body)
                .await
        }
    };
    // The contract's answer for a taken address (409 `email_taken`), in any spelling of it and
    // on any site; no second account.
    for (host, email) in [
        (HN, "dan@example.vn"),
        (HN, "  DAN@Example.VN "),
        ("localhost", "Dan@example.vn"),
    ] {
        refused(
            register(host, email, CITIZEN_PASSWORD, "Ai Đó").await,
            409,
            "email_taken",
        )
        .await;
    }
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM identity.citizens"),
        1
    );
    // Any other mistake is judged first, the same for a taken address and a free one.
    for (password, name) in [("short", "Ai Đó"), (CITIZEN_PASSWORD, ""), ("short", "")] {
        let taken = register(HN, "dan@example.vn", password, name)
            .await
            .text()
            .await
            .unwrap();
        let free = register(HN, "free@example.vn", password, name)
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(taken, free, "password {password:?}, name {name:?}");
        assert!(!taken.contains("email"), "{taken}");
    }
    // A taken address costs the same password hashing as a new one.
    let mut taken = Vec::new();
    let mut fresh = Vec::new();
    for i in 0..3 {
        let started = Instant::now();
        let res = register(HN, "dan@example.vn", CITIZEN_PASSWORD, "Ai Đó").await;
        taken.push(started.elapsed());
        assert_eq!(res.status(), 409);
        let started = Instant::now();
        let res = register(HN, &format!("new{i}@example.vn"), CITIZEN_PASSWORD, "Ai Đó").await;
        fresh.push(started.elapsed());
        assert_eq!(res.status(), 201);
    }
    taken.sort();
    fresh.sort();
    alike("registration: taken, fresh", &[taken[1], fresh[1]]);
}

#[tokio::test]
async fn the_sign_in_lockout_holds_across_provinces_domains_the_national_site_and_pages() {
    let app = TestApp::spawn().await;
    tenant_with_domain(&app, "ha-noi", "Thành phố Hà Nội", HN_DOMAIN).await;
    app.create_tenant("quang-ninh", "Tỉnh Quảng Ninh").await;
    app.citizen_token(HN, "dan@example.vn").await;
    app.citizen_token(HN, "other@example.vn").await;
    // Five failures, each through another door.
    for host in [HN, HN_DOMAIN, "quang-ninh.localhost", "localhost"] {
        let (status, _, _) = sign_in(&app, host, "dan@example.vn", "sai-mat-khau-1", "vi").await;
        assert_eq!(status, 401, "{host}");
    }
    let mut b = Browser::new(&app, HN_DOMAIN);
    let form = b.get("/sign-in").await;
    let csrf = b.csrf(&form);
    let res = b
        .post(
            "/sign-in",
            &[
                ("csrf", &csrf),
                ("email", " Dan@Example.vn "),
                ("password", "sai-mat-khau-2"),
            ],
        )
        .await;
    assert_eq!(res.status, 401);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM identity.sign_in_failures WHERE key = 'signin:dan@example.vn'"
        ),
        5
    );
    // Now even the right password is refused everywhere, with a time to come back.
    for host in [HN, HN_DOMAIN, "quang-ninh.localhost", "localhost"] {
        for email in ["dan@example.vn", "DAN@EXAMPLE.VN"] {
            let (status, body, retry) = sign_in(&app, host, email, CITIZEN_PASSWORD, "vi").await;
            assert_eq!(status, 429, "{host} {email}: {body}");
            assert!(body.contains("\"too_many_attempts\""), "{body}");
            let secs: u64 = retry.expect("Retry-After").parse().unwrap();
            assert!((1..=900).contains(&secs), "{secs}");
        }
    }
    let res = b
        .post(
            "/sign-in",
            &[
                ("csrf", &csrf),
                ("email", "dan@example.vn"),
                ("password", CITIZEN_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status, 429);
    assert!(!b.cookies.contains_key("session"));
    // Another address is not held back.
    let (status, _, _) = sign_in(&app, HN, "other@example.vn", CITIZEN_PASSWORD, "vi").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn the_operators_api_sign_in_is_locked_like_its_page() {
    let app = TestApp::spawn().await;
    app.create_operator(
        OPERATOR_EMAIL,
        OPERATOR_PASSWORD,
        portal::accounts::operators::OperatorRole::Operator,
    )
    .await;
    // Five wrong passwords through the API alone.
    for i in 0..5 {
        let (status, _, _) = sign_in(
            &app,
            "ops.localhost",
            OPERATOR_EMAIL,
            &format!("sai-{i}"),
            "vi",
        )
        .await;
        assert_eq!(status, 401);
    }
    let (status, body, retry) = sign_in(
        &app,
        "ops.localhost",
        OPERATOR_EMAIL,
        OPERATOR_PASSWORD,
        "vi",
    )
    .await;
    assert_eq!(status, 429, "{body}");
    assert!(body.contains("\"too_many_attempts\"") && retry.is_some());
    // The page counts the same failures: it is locked too.
    let mut b = Browser::new(&app, "ops.localhost");
    let form = b.get("/sign-in").await;
    let csrf = b.csrf(&form);
    let res = b
        .post(
            "/sign-in",
            &[
                ("csrf", &csrf),
                ("email", OPERATOR_EMAIL),
                ("password", OPERATOR_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status, 429);
    // And the other way round: failures on the page lock the API.
    app.create_operator(
        "billing@ops.vn",
        OPERATOR_PASSWORD,
        portal::accounts::operators::OperatorRole::Billing,
    )
    .await;
    for i in 0..5 {
        let res = b
            .post(
                "/sign-in",
                &[
                    ("csrf", &csrf),
                    ("email", "billing@ops.vn"),
                    ("password", &format!("sai-{i}")),
                ],
            )
            .await;
        assert_eq!(res.status, 401);
    }
    let (status, _, _) = sign_in(
        &app,
        "ops.localhost",
        "billing@ops.vn",
        OPERATOR_PASSWORD,
        "vi",
    )
    .await;
    assert_eq!(status, 429);
}
