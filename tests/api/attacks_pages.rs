//! Attacks on the pages: stored and reflected markup in every rendered field (shown escaped),
//! and the security headers on every HTML response (CSP without `unsafe-inline`, nosniff,
//! Referrer-Policy, frame denial; HSTS only when the public address is https).

use portal::accounts::staff::StaffRole;
use portal::tenancy::branding;
use serde_json::json;

use crate::attacks_kit::{exec, text};
use crate::browser::{Browser, Page};
use crate::helpers::{
    CITIZEN_ID, CITIZEN_PASSWORD, OPERATOR_EMAIL, OPERATOR_PASSWORD, STAFF_PASSWORD, TestApp,
    TestDb, test_settings,
};

const HN: &str = "ha-noi.localhost";

/// What askama writes for text: the five characters that mean something in HTML.
fn escaped(s: &str) -> String {
    s.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

/// Every marker is on the page, escaped, and never raw; no active markup at all.
fn shows_escaped(page: &Page, what: &str, markers: &[&str]) {
    assert_eq!(page.status, 200, "{what}: {}", page.body);
    for m in markers {
        assert!(
            page.body.contains(&escaped(m)),
            "{what}: {m:?} not shown (escaped)"
        );
        assert!(!page.body.contains(m), "{what}: {m:?} raw");
    }
    for tag in ["<script", "<img src=x", "<iframe", "<b onmouseover"] {
        assert!(!page.body.contains(tag), "{what}: {tag}");
    }
    // The only SVG is ours: the console's revenue chart, drawn by the server.
    let chart = "<svg viewBox=\"0 0 360 185\" role=\"img\"";
    assert_eq!(
        page.body.matches("<svg").count(),
        page.body.matches(chart).count(),
        "{what}: <svg"
    );
}

const NAME: &str = "<script>alert('applicant')</script>";
const ADDRESS: &str = "\"><img src=x onerror=alert('address')>";
const LICENCE: &str = "\"><svg onload=x>";
const EXTEND: &str = "<b onmouseover=alert('extend')>Chờ</b>";
const SUPPLEMENT: &str = "<iframe srcdoc='<script>alert(1)</script>'>";
const DISPLAY: &str = "Hà Nội\" onmouseover=\"alert('dn')";
const BANNER: &str = "<script>alert('banner')</script>";
const CITIZEN: &str = "<script>alert('citizen')</script>";
const STAFF: &str = "<script>alert('staff')</script>";
const TENANT: &str = "<script>alert('tenant')</script>";

#[tokio::test]
async fn stored_markup_in_answers_notes_names_and_branding_is_shown_escaped_on_every_page() {
    let app = TestApp::spawn().await;
    let t = app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let citizen = app.citizen_token(HN, "dan@example.vn").await;
    let admin = app
        .staff_token("ha-noi", "admin@hanoi.gov.vn", StaffRole::Admin)
        .await;
    // Answers and notes take any text; names and branding refuse < and > on the way in, so
    // those are written past validation here (a manifest, an old row, a psql session): the
    // pages must escape them anyway.
    let mut body = crate::helpers::licence_renewal();
    body["fields"]["full_name"] = json!(NAME);
    body["fields"]["delivery_address"] = json!(ADDRESS);
    body["fields"]["licence_number"] = json!(LICENCE);
    let res = app
        .post_json(HN, "/api/v1/dossiers", Some(&citizen), &body)
        .await;
    assert_eq!(res.status(), 201);
    let code = res.json::<serde_json::Value>().await.unwrap()["tracking_code"]
        .as_str()
        .unwrap()
        .to_string();
    app.attach_licence_documents(HN, &citizen, &code).await;
    let later = portal::clock::today_vn() + chrono::Duration::days(30);
    for m in [
        json!({"action": "accept"}),
        json!({"action": "extend", "note": EXTEND, "due_on": later}),
        json!({"action": "request_supplement", "note": SUPPLEMENT}),
    ] {
        assert_eq!(app.act(HN, &admin, &code, m).await.status(), 200);
    }
    let tdb = app.database().tenant(t.db_ref());
    tokio::task::spawn_blocking(move || {
        tdb.tx(|conn| {
            let mut b = branding::load(conn)?;
            b.display_name = DISPLAY.into();
            b.banner = BANNER.into();
            b.address = ADDRESS.into();
            branding::save(conn, &b)
        })
        .unwrap()
    })
    .await
    .unwrap();
    app.state.registry.sites().forget(&t.schema);
    exec(
        &app,
        &format!(
            "UPDATE identity.citizens SET full_name = '{}'",
            CITIZEN.replace('\'', "''")
        ),
    );
    exec(
        &app,
        &format!(
            "UPDATE t_ha_noi.staff SET full_name = '{}'",
            STAFF.replace('\'', "''")
        ),
    );
    exec(
        &app,
        &format!(
            "UPDATE public.tenants SET name = '{}'",
            TENANT.replace('\'', "''")
        ),
    );
    app.state.registry.reload().unwrap();

    let mut c = Browser::new(&app, HN);
    assert_eq!(c.sign_in("dan@example.vn", "/").await.status, 303);
    let pages: [(&str, Vec<&str>); 5] = [
        ("/", vec![DISPLAY, BANNER, ADDRESS, CITIZEN]),
        ("/dossiers", vec![DISPLAY, CITIZEN]),
        (
            &format!("/dossiers/{code}"),
            vec![NAME, ADDRESS, LICENCE, EXTEND, SUPPLEMENT],
        ),
        (&format!("/dossiers/{code}/apology"), vec![NAME, EXTEND]),
        ("/procedures/GPLX-001", vec![DISPLAY, CITIZEN]),
    ];
    for (path, markers) in &pages {
        shows_escaped(&c.get(path).await, path, markers);
    }
    let mut s = Browser::new(&app, HN);
    s.sign_in_as("admin@hanoi.gov.vn", STAFF_PASSWORD, "/manage")
        .await;
    let pages: [(&str, Vec<&str>); 5] = [
        ("/manage", vec![NAME, DISPLAY]),
        (
            &format!("/manage/dossiers/{code}"),
            vec![NAME, ADDRESS, LICENCE, EXTEND, SUPPLEMENT],
        ),
        (
            &format!("/manage/dossiers/{code}/apology"),
            vec![NAME, EXTEND],
        ),
        ("/manage/admin/staff", vec![STAFF]),
        ("/manage/admin", vec![DISPLAY, BANNER, ADDRESS]),
    ];
    for (path, markers) in &pages {
        shows_escaped(&s.get(path).await, path, markers);
    }
    let national = Browser::new(&app, "localhost").get("/").await;
    shows_escaped(&national, "national home", &[TENANT]);
}

#[tokio::test]
async fn stored_markup_on_the_operators_pages_and_reflected_markup_anywhere_is_shown_escaped() {
    let app = TestApp::spawn().await;
    let numbers = crate::invoice_pages::closed_october(&app).await;
    let res = app
        .post_json(
            "localhost",
            "/api/v1/subscriptions",
            None,
            &json!({"province_name": "Tỉnh Mới", "slug": "tinh-moi", "contact_email": "a@tinhmoi.vn", "plan": "standard"}),
        )
        .await;
    assert_eq!(res.status(), 202);
    let res = app
        .post_json(
            "localhost",
            "/api/v1/subscriptions",
            None,
            &json!({"province_name": "Tỉnh Khác", "slug": "tinh-khac", "contact_email": "b@tinhkhac.vn", "plan": "standard"}),
        )
        .await;
    assert_eq!(res.status(), 202);
    app.verify_subscriptions().await;
    let q = |s: &str| s.replace('\'', "''");
    exec(
        &app,
        &format!(
            "UPDATE public.subscription_requests SET province_name = '{}' WHERE slug = 'tinh-moi'",
            q(TENANT)
        ),
    );
    exec(
        &app,
        &format!(
            "UPDATE public.tenants SET name = '{}' WHERE slug = 'hue'",
            q(TENANT)
        ),
    );
    exec(
        &app,
        &format!(
            "UPDATE public.plans SET name = '{}' WHERE code = 'standard'",
            q(NAME)
        ),
    );
    app.state.registry.reload().unwrap();
    app.create_operator(
        OPERATOR_EMAIL,
        OPERATOR_PASSWORD,
        portal::accounts::operators::OperatorRole::Operator,
    )
    .await;
    let mut ops = Browser::new(&app, "ops.localhost");
    let page = ops.get("/sign-in").await;
    let csrf = ops.csrf(&page);
    ops.post(
        "/sign-in",
        &[
            ("csrf", &csrf),
            ("email", OPERATOR_EMAIL),
            ("password", OPERATOR_PASSWORD),
        ],
    )
    .await;
    let csrf = ops.cookies["csrf"].clone();
    // Typed into the operator's own forms: a decline reason and a transfer reference.
    let id = text(
        &app,
        "SELECT id::text AS t FROM public.subscription_requests WHERE slug = 'tinh-khac'",
    );
    let res = ops
        .post(
            &format!("/subscriptions/{id}"),
            &[("csrf", &csrf), ("decision", "decline"), ("reason", EXTEND)],
        )
        .await;
    assert_eq!(res.status, 303);
    let res = ops
        .post(
            &format!("/invoices/{}/pay", numbers[0]),
            &[("csrf", &csrf), ("reference", ADDRESS)],
        )
        .await;
    assert_eq!(res.status, 303);
    let pages: [(&str, Vec<&str>); 5] = [
        ("/", vec![TENANT]),
        ("/tenants/hue", vec![TENANT]),
        ("/subscriptions", vec![TENANT, EXTEND]),
        ("/plans", vec![NAME]),
        ("/invoices?period=2026-10", vec![ADDRESS]),
    ];
    for (path, markers) in &pages {
        shows_escaped(&ops.get(path).await, path, markers);
    }

    // Reflected: whatever a link puts in the query comes back as text.
    let reflected = "\"><script>alert('q')</script>";
    let enc = crate::browser::urlencode(&[("q", reflected)]);
    let code = crate::browser::urlencode(&[("code", reflected), ("id_number", CITIZEN_ID)]);
    for (host, path) in [
        ("localhost", format!("/?{enc}")),
        (HN, format!("/?{enc}")),
        (HN, format!("/tracking?{code}")),
        (
            HN,
            format!(
                "/sign-in?{}",
                crate::browser::urlencode(&[("next", &format!("/{reflected}"))])
            ),
        ),
        (
            HN,
            format!(
                "/register?{}",
                crate::browser::urlencode(&[("next", &format!("/{reflected}"))])
            ),
        ),
    ] {
        let page = Browser::new(&app, host).get(&path).await;
        assert!(
            page.status == 200 || page.status == 404 || page.status == 422,
            "{host}{path}: {}",
            page.status
        );
        assert!(!page.body.contains("<script"), "{host}{path}");
        assert!(!page.body.contains(reflected), "{host}{path}: raw");
    }
    let page = ops
        .get(&format!(
            "/invoices?{}",
            crate::browser::urlencode(&[("period", reflected), ("status", reflected)])
        ))
        .await;
    assert!(!page.body.contains("<script") && !page.body.contains(reflected));
    let mut staff = Browser::new(&app, HN);
    app.staff_token("ha-noi", "canbo@hanoi.gov.vn", StaffRole::Official)
        .await;
    staff
        .sign_in_as("canbo@hanoi.gov.vn", STAFF_PASSWORD, "/manage")
        .await;
    let page = staff.get(&format!("/manage?{enc}")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(&escaped(reflected)),
        "the search is shown back"
    );
    assert!(!page.body.contains("<script") && !page.body.contains(reflected));
}

/// (status, headers) of a response; asserts the body is HTML.
async fn html(res: reqwest::Response, what: &str) -> reqwest::header::HeaderMap {
    let headers = res.headers().clone();
    let status = res.status();
    let content_type = headers
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert!(
        content_type.starts_with("text/html"),
        "{what}: {status} {content_type}"
    );
    headers
}

/// The headers every response must carry.
fn assert_security_headers(h: &reqwest::header::HeaderMap, what: &str) {
    let get = |name: &str| {
        h.get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{what}: no {name}"))
            .to_string()
    };
    let csp = get("content-security-policy");
    for needed in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ] {
        assert!(csp.contains(needed), "{what}: {needed} not in {csp}");
    }
    for banned in [
        "unsafe-inline",
        "unsafe-eval",
        "*",
        "http:",
        "data: 'unsafe",
    ] {
        assert!(!csp.contains(banned), "{what}: {banned} in {csp}");
    }
    assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(get("x-frame-options"), "DENY", "{what}");
    let referrer = get("referrer-policy");
    assert!(
        [
            "no-referrer",
            "same-origin",
            "strict-origin",
            "strict-origin-when-cross-origin"
        ]
        .contains(&referrer.as_str()),
        "{what}: {referrer}"
    );
}

/// Every HTML page of every site (and its error pages) as a visitor, a citizen, staff and
/// the operator see them.
async fn every_html_response(app: &TestApp) -> Vec<(String, reqwest::header::HeaderMap)> {
    let code = {
        let t = app.citizen_token(HN, "dan@example.vn").await;
        app.submit_licence_renewal(HN, &t).await
    };
    app.staff_token("ha-noi", "admin@hanoi.gov.vn", StaffRole::Admin)
        .await;
    app.create_operator(
        OPERATOR_EMAIL,
        OPERATOR_PASSWORD,
        portal::accounts::operators::OperatorRole::Operator,
    )
    .await;
    let mut signed_in = Vec::new();
    for (host, email, password) in [
        (HN, "dan@example.vn", CITIZEN_PASSWORD),
        (HN, "admin@hanoi.gov.vn", STAFF_PASSWORD),
        ("ops.localhost", OPERATOR_EMAIL, OPERATOR_PASSWORD),
    ] {
        let mut b = Browser::new(app, host);
        let page = b.get("/sign-in").await;
        let csrf = b.csrf(&page);
        let res = b
            .post(
                "/sign-in",
                &[("csrf", &csrf), ("email", email), ("password", password)],
            )
            .await;
        assert_eq!(res.status, 303, "{email}");
        signed_in.push(b.cookies.clone());
    }
    let cookie = |i: usize| {
        signed_in[i]
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let (citizen, staff, operator) = (cookie(0), cookie(1), cookie(2));
    let anonymous = String::new();
    let pages: Vec<(&str, String, &String)> = vec![
        ("localhost", "/".into(), &anonymous),
        ("localhost", "/index".into(), &anonymous),
        ("localhost", "/index/ha-noi".into(), &anonymous),
        ("localhost", "/subscribe".into(), &anonymous),
        ("ops.localhost", "/sign-in".into(), &anonymous),
        ("ops.localhost", "/".into(), &operator),
        ("ops.localhost", "/tenants/ha-noi".into(), &operator),
        ("ops.localhost", "/plans".into(), &operator),
        ("ops.localhost", "/subscriptions".into(), &operator),
        ("ops.localhost", "/invoices".into(), &operator),
        (HN, "/".into(), &anonymous),
        (HN, "/procedures/GPLX-001".into(), &anonymous),
        (HN, "/tracking".into(), &anonymous),
        (HN, "/sign-in".into(), &anonymous),
        (HN, "/register".into(), &anonymous),
        (HN, "/dossiers".into(), &citizen),
        (HN, format!("/dossiers/{code}"), &citizen),
        (HN, "/procedures/GPLX-001/apply/1".into(), &citizen),
        (HN, "/procedures/GPLX-001/apply/documents".into(), &citizen),
        (HN, "/manage".into(), &staff),
        (HN, format!("/manage/dossiers/{code}"), &staff),
        (HN, "/manage/dossiers/new".into(), &staff),
        (HN, "/manage/admin".into(), &staff),
        (HN, "/manage/admin/procedures".into(), &staff),
        (HN, "/manage/admin/staff".into(), &staff),
        (HN, "/manage/admin/usage".into(), &staff),
        (HN, "/manage/admin/invoices".into(), &staff),
        // Error pages: unknown host, unknown path, another site's path, a wrong role.
        ("nowhere.localhost", "/".into(), &anonymous),
        (HN, "/no-such-page".into(), &anonymous),
        ("localhost", "/manage".into(), &anonymous),
        (HN, "/manage".into(), &citizen),
    ];
    let mut seen = Vec::new();
    for (host, path, cookies) in pages {
        let res = app
            .client
            .get(app.url(&path))
            .header("Host", host)
            .header("Cookie", cookies.as_str())
            .header("X-Forwarded-Proto", "https")
            .send()
            .await
            .unwrap();
        let what = format!("GET {host}{path} ({})", res.status());
        assert!(
            !res.status().is_redirection() && !res.status().is_server_error(),
            "{what}"
        );
        seen.push((what.clone(), html(res, &what).await));
    }
    // Refusals rendered as pages: a forged form (403), an oversize form (413), a suspended
    // province (503).
    let res = app
        .client
        .post(app.url("/sign-in"))
        .header("Host", HN)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("email=a%40b.vn&password=x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    seen.push((
        "POST /sign-in without a token".into(),
        html(res, "403").await,
    ));
    let res = app
        .client
        .post(app.url("/sign-in"))
        .header("Host", HN)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("password={}", "x".repeat(1 << 20)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    seen.push(("POST /sign-in oversize".into(), html(res, "413").await));
    exec(app, "UPDATE public.tenants SET status = 'suspended'");
    app.state.registry.reload().unwrap();
    let res = app.get(HN, "/").await;
    assert_eq!(res.status(), 503);
    seen.push(("GET suspended".into(), html(res, "503").await));
    seen
}

#[tokio::test]
async fn every_html_response_carries_the_security_headers_and_no_hsts_over_http() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let responses = every_html_response(&app).await;
    assert!(responses.len() >= 30);
    for (what, headers) in &responses {
        assert_security_headers(headers, what);
        // Plain http by configuration: no HSTS, even when a header claims https.
        assert!(headers.get("strict-transport-security").is_none(), "{what}");
    }
    // The rest of what is served carries them too: JSON, errors, files, probes.
    for (host, path) in [
        (HN, "/api/v1/site"),
        ("nowhere.localhost", "/api/v1/site"),
        (HN, "/brand.css"),
        (HN, "/static/portal.css"),
        ("anything", "/healthz"),
    ] {
        let res = app.get(host, path).await;
        assert_security_headers(res.headers(), &format!("{host}{path}"));
    }
}

#[tokio::test]
async fn hsts_is_sent_on_every_response_when_the_public_address_is_https() {
    let db = TestDb::create();
    let mut settings = test_settings(&db.url);
    settings.server.public_scheme = "https".into();
    settings.server.public_port = String::new();
    let app = TestApp::spawn_with(db, settings).await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let site: serde_json::Value = app.get(HN, "/api/v1/site").await.json().await.unwrap();
    assert_eq!(site["url"], "https://ha-noi.localhost");
    let responses = every_html_response(&app).await;
    for (what, headers) in &responses {
        assert_security_headers(headers, what);
        let hsts = headers
            .get("strict-transport-security")
            .unwrap_or_else(|| panic!("{what}: no HSTS"))
            .to_str()
            .unwrap();
        assert_eq!(hsts, "max-age=31536000; includeSubDomains", "{what}");
    }
    for (host, path) in [
        (HN, "/api/v1/site"),
        ("nowhere.localhost", "/api/v1/site"),
        ("anything", "/healthz"),
    ] {
        let res = app.get(host, path).await;
        assert!(
            res.headers().contains_key("strict-transport-security"),
            "{host}{path}"
        );
    }
    // Cookies are marked Secure too, as the scheme says.
    let res = app.get("ops.localhost", "/sign-in").await;
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.starts_with("csrf=") && cookie.contains("Secure"),
        "{cookie}"
    );
}
