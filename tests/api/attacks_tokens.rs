//! Attacks on tokens and sessions: `alg: none`, algorithm confusion, another audience, expiry,
//! revoked accounts, and the JSON API reached with a browser's cookie.

use portal::accounts::staff::StaffRole;
use serde_json::{Value, json};

use crate::attacks_kit::{claims_of, count, exec, forge, now, refused, sign_hs256, text, unsigned};
use crate::browser::Browser;
use crate::helpers::{CITIZEN_PASSWORD, JWT_SECRET, TestApp, licence_renewal};

const HN: &str = "ha-noi.localhost";
const QN: &str = "quang-ninh.localhost";

/// Hà Nội with a citizen, an official and an admin; Quảng Ninh; an operator.
struct World {
    app: TestApp,
    citizen: String,
    official: String,
    admin: String,
    operator: String,
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    app.create_tenant("quang-ninh", "Tỉnh Quảng Ninh").await;
    let citizen = app.citizen_token(HN, "dan@example.vn").await;
    let official = app
        .staff_token("ha-noi", "canbo@hanoi.gov.vn", StaffRole::Official)
        .await;
    let admin = app
        .staff_token("ha-noi", "admin@hanoi.gov.vn", StaffRole::Admin)
        .await;
    let operator = app.operator_token().await;
    World {
        app,
        citizen,
        official,
        admin,
        operator,
    }
}

impl World {
    /// (host, path, a genuine token for it): one per extractor that reads a Bearer token.
    fn endpoints(&self) -> Vec<(&'static str, &'static str, String)> {
        vec![
            (HN, "/api/v1/me", self.citizen.clone()),
            (HN, "/api/v1/dossiers", self.citizen.clone()),
            (HN, "/api/v1/manage/dossiers", self.official.clone()),
            (HN, "/api/v1/manage/users", self.admin.clone()),
            ("ops.localhost", "/api/v1/me", self.operator.clone()),
            ("ops.localhost", "/api/v1/tenants", self.operator.clone()),
        ]
    }

    /// Every endpoint answers 200 to its genuine token and 401 (envelope) to `forged(claims)`.
    async fn refuse_everywhere(&self, what: &str, forged: impl Fn(&Value) -> String) {
        for (host, path, genuine) in self.endpoints() {
            let ok = self.app.get_with_token(host, path, &genuine).await;
            assert_eq!(ok.status(), 200, "{what}: genuine token on {host}{path}");
            let bad = forged(&claims_of(&genuine));
            let res = self.app.get_with_token(host, path, &bad).await;
            refused(res, 401, "unauthorized").await;
        }
    }

    /// The staff pages with `token` as the session cookie: back to sign-in, as a stranger.
    async fn session_is_ignored(&self, token: &str) {
        let mut b = Browser::new(&self.app, HN);
        b.cookies.insert("session".into(), token.to_string());
        let page = b.get("/manage").await;
        assert_eq!(page.status, 303);
        assert_eq!(page.location, "/sign-in?next=/manage");
    }
}

#[tokio::test]
async fn alg_none_tokens_are_refused_by_every_extractor_and_as_a_session_cookie() {
    let w = world().await;
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = json!({"alg": alg, "typ": "JWT"});
        w.refuse_everywhere(alg, |claims| unsigned(&header, claims))
            .await;
        // The genuine signature kept after a header that disowns it.
        w.refuse_everywhere(alg, |claims| {
            let genuine = sign_hs256(claims);
            let sig = genuine.rsplit('.').next().unwrap().to_string();
            format!("{}{sig}", unsigned(&header, claims))
        })
        .await;
    }
    // A staff session cookie with `alg: none` reaches no staff page.
    let forged = unsigned(&json!({"alg": "none"}), &claims_of(&w.admin));
    let mut b = Browser::new(&w.app, HN);
    b.cookies.insert("session".into(), w.admin.clone());
    assert_eq!(
        b.get("/manage").await.status,
        200,
        "the genuine cookie works"
    );
    w.session_is_ignored(&forged).await;
}

#[tokio::test]
async fn algorithm_confusion_tokens_are_refused_whatever_the_header_claims() {
    let w = world().await;
    let secret = JWT_SECRET.as_bytes();
    // RS256 and ES256 headers over an HMAC made with our own secret (the classic confusion:
    // a verifier that trusts the header would check an HMAC where it expects RSA, or the
    // reverse).
    for alg in ["RS256", "ES256", "PS256", "EdDSA"] {
        let header = json!({"alg": alg, "typ": "JWT"});
        w.refuse_everywhere(alg, |c| forge(&header, c, secret, 256))
            .await;
    }
    // HS384 and HS512 with the right secret: only HS256 is ever accepted.
    for (alg, bits) in [("HS384", 384), ("HS512", 512)] {
        let header = json!({"alg": alg, "typ": "JWT"});
        w.refuse_everywhere(alg, |c| forge(&header, c, secret, bits))
            .await;
    }
    // HS256 over keys an attacker could guess or supply: empty, a public value, a key id
    // pointing at a file, an embedded JWK.
    let guesses: [(&str, Value, &[u8]); 4] = [
        ("empty key", json!({"alg": "HS256"}), b""),
        ("public key", json!({"alg": "HS256"}), b"portal"),
        (
            "kid path",
            json!({"alg": "HS256", "kid": "../../../../dev/null"}),
            b"",
        ),
        (
            "embedded jwk",
            json!({"alg": "HS256", "jwk": {"kty": "oct", "k": "YXR0YWNrZXI"}}),
            b"attacker",
        ),
    ];
    for (what, header, key) in guesses {
        w.refuse_everywhere(what, |c| forge(&header, c, key, 256))
            .await;
    }
    let forged = forge(
        &json!({"alg": "RS256"}),
        &claims_of(&w.official),
        secret,
        256,
    );
    w.session_is_ignored(&forged).await;
}

#[tokio::test]
async fn tokens_for_another_audience_or_without_one_are_refused() {
    let w = world().await;
    let app = &w.app;
    let qn_token = app.token(QN, "dan@example.vn", CITIZEN_PASSWORD).await;
    let qn_aud = claims_of(&qn_token)["aud"].as_str().unwrap().to_string();
    let with_aud = |claims: &Value, aud: Value| {
        let mut c = claims.clone();
        c["aud"] = aud;
        sign_hs256(&c)
    };
    // Well signed, but for another site: Quảng Ninh, the national site, the operator site, a
    // province that does not exist, the right one in other letters, several at once, none.
    let audiences = [
        json!(qn_aud),
        json!("portal:national"),
        json!("portal:operator"),
        json!(format!("portal:tenant:{}", uuid::Uuid::new_v4())),
        json!(
            claims_of(&w.citizen)["aud"]
                .as_str()
                .unwrap()
                .to_uppercase()
        ),
        json!([claims_of(&w.citizen)["aud"], "portal:national"]),
        json!(""),
        Value::Null,
    ];
    for aud in &audiences {
        let forged = with_aud(&claims_of(&w.citizen), aud.clone());
        let res = app.get_with_token(HN, "/api/v1/dossiers", &forged).await;
        refused(res, 401, "unauthorized").await;
    }
    let mut no_aud = claims_of(&w.citizen);
    no_aud.as_object_mut().unwrap().remove("aud");
    let res = app
        .get_with_token(HN, "/api/v1/me", &sign_hs256(&no_aud))
        .await;
    refused(res, 401, "unauthorized").await;
    // The same claims re-signed with Quảng Ninh's audience work there and only there: the
    // audience is what decides.
    let moved = with_aud(&claims_of(&w.citizen), json!(qn_aud));
    assert_eq!(
        app.get_with_token(QN, "/api/v1/dossiers", &moved)
            .await
            .status(),
        200
    );
    // An operator's claims with a province's audience are no staff account there.
    let op_on_hn = with_aud(&claims_of(&w.operator), claims_of(&w.admin)["aud"].clone());
    let res = app
        .get_with_token(HN, "/api/v1/manage/users", &op_on_hn)
        .await;
    refused(res, 403, "forbidden").await;
}

#[tokio::test]
async fn expired_tokens_are_refused_on_the_api_and_as_session_cookies() {
    let w = world().await;
    let at = |claims: &Value, exp: Value| {
        let mut c = claims.clone();
        c["exp"] = exp;
        sign_hs256(&c)
    };
    // Two minutes past (beyond the 30 s leeway), long past, missing, not a number.
    w.refuse_everywhere("expired", |c| at(c, json!(now() - 120)))
        .await;
    w.refuse_everywhere("epoch", |c| at(c, json!(1))).await;
    w.refuse_everywhere("text", |c| at(c, json!("9999999999")))
        .await;
    w.refuse_everywhere("missing", |c| {
        let mut c = c.clone();
        c.as_object_mut().unwrap().remove("exp");
        sign_hs256(&c)
    })
    .await;
    // The same claims, still valid, are accepted: only the time differs.
    let fresh = at(&claims_of(&w.citizen), json!(now() + 600));
    assert_eq!(
        w.app
            .get_with_token(HN, "/api/v1/dossiers", &fresh)
            .await
            .status(),
        200
    );
    let expired = at(&claims_of(&w.official), json!(now() - 120));
    w.session_is_ignored(&expired).await;
    // An expired citizen session shows the pages as to a stranger.
    let mut b = Browser::new(&w.app, HN);
    b.cookies.insert(
        "session".into(),
        at(&claims_of(&w.citizen), json!(now() - 120)),
    );
    let page = b.get("/dossiers").await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location, "/auth/national?next=/dossiers");
}

#[tokio::test]
async fn revoked_accounts_lose_their_live_tokens_and_sessions_at_once() {
    let w = world().await;
    let app = &w.app;
    // Staff: signed in through the page, then deactivated by the admin through the API.
    let mut official = Browser::new(app, HN);
    let res = official
        .sign_in_as(
            "canbo@hanoi.gov.vn",
            crate::helpers::STAFF_PASSWORD,
            "/manage",
        )
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(official.get("/manage").await.status, 200);
    let id = text(
        app,
        "SELECT id::text AS t FROM t_ha_noi.staff WHERE email = 'canbo@hanoi.gov.vn'",
    );
    let res = app
        .post_json(
            HN,
            &format!("/api/v1/manage/users/{id}/deactivate"),
            Some(&w.admin),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let page = official.get("/manage").await;
    assert_eq!(page.status, 303, "the session cookie is dead");
    assert_eq!(page.location, "/sign-in?next=/manage");
    refused(
        app.get_with_token(HN, "/api/v1/manage/dossiers", &w.official)
            .await,
        401,
        "unauthorized",
    )
    .await;
    // A move through the page with a valid form token changes nothing either.
    let citizen_code = app.submit_licence_renewal(HN, &w.citizen).await;
    let csrf = official.cookies["csrf"].clone();
    let res = official
        .post(
            &format!("/manage/dossiers/{citizen_code}/actions"),
            &[("csrf", &csrf), ("action", "accept")],
        )
        .await;
    assert_eq!(res.status, 303);
    assert!(
        res.location.starts_with("/sign-in?next="),
        "{}",
        res.location
    );
    assert_eq!(
        text(
            app,
            &format!(
                "SELECT status AS t FROM t_ha_noi.dossiers WHERE tracking_code = '{citizen_code}'"
            )
        ),
        "submitted"
    );

    // Operator: deactivated in the database; the token and the console stop at once.
    let mut console = Browser::new(app, "ops.localhost");
    console.cookies.insert("session".into(), w.operator.clone());
    assert_eq!(console.get("/").await.status, 200);
    exec(app, "UPDATE public.operators SET active = false");
    refused(
        app.get_with_token("ops.localhost", "/api/v1/tenants", &w.operator)
            .await,
        401,
        "unauthorized",
    )
    .await;
    let page = console.get("/").await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location, "/sign-in");

    // Citizen: a deactivated national account cannot file with the token it holds.
    exec(
        app,
        "UPDATE identity.citizens SET active = false WHERE email = 'dan@example.vn'",
    );
    let before = count(app, "SELECT count(*) AS n FROM t_ha_noi.dossiers");
    refused(
        app.post_json(HN, "/api/v1/dossiers", Some(&w.citizen), &licence_renewal())
            .await,
        401,
        "unauthorized",
    )
    .await;
    assert_eq!(
        count(app, "SELECT count(*) AS n FROM t_ha_noi.dossiers"),
        before
    );
}

/// `POST /api/v1/dossiers` checks the account inside the province's write transaction
/// (`TenantDb::tx_entered_by`), and before writing a holding where the citizen has not filed
/// yet: each token the check refuses files nothing and records nothing, on both paths.
#[tokio::test]
async fn a_submission_with_a_token_the_account_check_refuses_writes_nothing() {
    let w = world().await;
    let app = &w.app;
    let qn = app.token(QN, "dan@example.vn", CITIZEN_PASSWORD).await;
    // Filed once in Hà Nội: this replica knows the holding, the check is the transaction's.
    app.submit_licence_renewal(HN, &w.citizen).await;
    let dossiers =
        |schema: &str| count(app, &format!("SELECT count(*) AS n FROM {schema}.dossiers"));
    let qn_holdings = || {
        count(
            app,
            "SELECT count(*) AS n FROM identity.citizen_provinces h \
             JOIN public.tenants t ON t.id = h.tenant_id WHERE t.slug = 'quang-ninh'",
        )
    };
    let (hn_before, qn_before) = (dossiers("t_ha_noi"), dossiers("t_quang_ninh"));
    assert_eq!(qn_holdings(), 0);
    let mut nobody = claims_of(&w.citizen);
    nobody["sub"] = json!(uuid::Uuid::new_v4().to_string());
    let cases = [
        (
            "Quảng Ninh's token in Hà Nội",
            HN,
            qn.clone(),
            401,
            "unauthorized",
        ),
        (
            "an official's token",
            HN,
            w.official.clone(),
            403,
            "forbidden",
        ),
        (
            "no such account",
            HN,
            sign_hs256(&nobody),
            401,
            "unauthorized",
        ),
        (
            "no such account",
            QN,
            sign_hs256(&{
                let mut c = claims_of(&qn);
                c["sub"] = nobody["sub"].clone();
                c
            }),
            401,
            "unauthorized",
        ),
    ];
    for (what, host, token, status, code) in &cases {
        let res = app
            .post_json(host, "/api/v1/dossiers", Some(token), &licence_renewal())
            .await;
        assert_eq!(res.status().as_u16(), *status, "{what} on {host}");
        refused(res, *status, code).await;
    }
    // Signed out everywhere (as `revoke_tokens` does): both tokens are dead, in the province
    // where the holding is known and in the one where it would be written first.
    exec(
        app,
        "UPDATE identity.citizens SET token_version = token_version + 1 \
         WHERE email = 'dan@example.vn'",
    );
    for (host, token) in [(HN, &w.citizen), (QN, &qn)] {
        let res = app
            .post_json(host, "/api/v1/dossiers", Some(token), &licence_renewal())
            .await;
        refused(res, 401, "unauthorized").await;
    }
    assert_eq!(dossiers("t_ha_noi"), hn_before, "no dossier in Hà Nội");
    assert_eq!(
        dossiers("t_quang_ninh"),
        qn_before,
        "no dossier in Quảng Ninh"
    );
    assert_eq!(qn_holdings(), 0, "no holding written for a refused token");
    // Signed in again, the same citizen files in both.
    let hn_fresh = app.token(HN, "dan@example.vn", CITIZEN_PASSWORD).await;
    let qn_fresh = app.token(QN, "dan@example.vn", CITIZEN_PASSWORD).await;
    app.submit_licence_renewal(HN, &hn_fresh).await;
    app.submit_licence_renewal(QN, &qn_fresh).await;
    assert_eq!(dossiers("t_ha_noi"), hn_before + 1);
    assert_eq!(dossiers("t_quang_ninh"), qn_before + 1);
    assert_eq!(qn_holdings(), 1);
}

#[tokio::test]
async fn the_json_api_ignores_the_session_cookie_so_another_site_cannot_ride_it() {
    let w = world().await;
    let app = &w.app;
    let mut b = Browser::new(app, HN);
    b.sign_in("dan@example.vn", "/").await;
    let session = b.cookies["session"].clone();
    let cookies = format!("session={session}; csrf={}", b.cookies["csrf"]);
    // The cookie a browser would attach to a cross-site request: no token, no dossier.
    let res = app
        .client
        .post(app.url("/api/v1/dossiers"))
        .header("Host", HN)
        .header("Cookie", &cookies)
        .header("Origin", "https://evil.example")
        .json(&licence_renewal())
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
    refused(res, 401, "unauthorized").await;
    // A "simple" cross-site request (text/plain, no preflight) is not JSON to the API.
    let res = app
        .client
        .post(app.url("/api/v1/dossiers"))
        .header("Host", HN)
        .header("Cookie", &cookies)
        .bearer_auth(&session)
        .header("Content-Type", "text/plain")
        .body(licence_renewal().to_string())
        .send()
        .await
        .unwrap();
    refused(res, 400, "malformed").await;
    assert_eq!(count(app, "SELECT count(*) AS n FROM t_ha_noi.dossiers"), 0);
    // The same cookie value as a Bearer token is the citizen (same JWT), so the API stays
    // usable for apps; the browser never sends it that way by itself.
    assert_eq!(
        app.get_with_token(HN, "/api/v1/dossiers", &session)
            .await
            .status(),
        200
    );
}
