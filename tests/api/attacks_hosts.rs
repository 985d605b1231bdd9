//! Attacks on the site resolver: Host headers made to look like another site, proxies'
//! forwarding headers, two Hosts at once, absolute request targets, and links in mails built
//! from whatever host a request names.

use portal::accounts::staff::StaffRole;
use reqwest::header::HeaderValue;

use crate::attacks_kit::{raw, refused, tenant_with_domain, text};
use crate::helpers::TestApp;

const HN: &str = "ha-noi.localhost";
const QN_DOMAIN: &str = "dichvucong.quangninh.gov.vn";

async fn two_sites() -> TestApp {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    tenant_with_domain(&app, "quang-ninh", "Tỉnh Quảng Ninh", QN_DOMAIN).await;
    app
}

/// `/api/v1/site` with these headers: (status, slug if any).
async fn site_with(app: &TestApp, headers: &[(&str, HeaderValue)]) -> (u16, String) {
    let mut req = app.client.get(app.url("/api/v1/site"));
    for (name, value) in headers {
        req = req.header(*name, value.clone());
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let body: serde_json::Value = res.json().await.unwrap();
    let slug = body["slug"].as_str().unwrap_or_default().to_string();
    if status != 200 {
        assert_eq!(body["error"]["code"], "not_found", "{body}");
    }
    (status, slug)
}

#[tokio::test]
async fn host_headers_dressed_as_another_site_reach_none() {
    let app = two_sites().await;
    let h = |s: &str| HeaderValue::from_str(s).unwrap();
    // Each of these names no site: 404 in the envelope, never Hà Nội nor Quảng Ninh.
    let nowhere = [
        "ha-noi.localhost@quang-ninh.localhost",
        "quang-ninh.localhost#ha-noi.localhost",
        "ha-noi.localhost:quang-ninh",
        "ha-noi.localhost:8080:80",
        "ha-noi.localhost,quang-ninh.localhost",
        "ha-noi.localhost/../quang-ninh.localhost",
        "ha-noi.localhost%2equang-ninh.localhost",
        "ha-noi.localhost\\@quang-ninh.localhost",
        "ha-noi..localhost",
        "ha-noi.localhost..",
        "ha_noi.localhost",
        "*.localhost",
        "t_ha_noi.localhost",
        "ha-noi.localhost.evil.example",
        "evil-ha-noi.localhost",
        "dichvucong.quangninh.gov.vn.evil.example",
        "evil.dichvucong.quangninh.gov.vn",
        "127.0.0.1",
        "[::1]:8080",
        "",
    ];
    for host in nowhere {
        let (status, slug) = site_with(&app, &[("Host", h(host))]).await;
        assert_eq!((status, slug.as_str()), (404, ""), "{host:?}");
    }
    // Bytes outside ASCII (a Vietnamese name, a NUL-free control) are no host either.
    for bytes in [
        "hà-nội.localhost".as_bytes(),
        b"ha-noi.localhost\xff",
        b"ha-noi\xc0\xae.localhost",
    ] {
        let (status, _) =
            site_with(&app, &[("Host", HeaderValue::from_bytes(bytes).unwrap())]).await;
        assert_eq!(status, 404, "{bytes:?}");
    }
    // Spellings of a real site still reach exactly that site.
    for (host, want) in [
        ("HA-NOI.LOCALHOST", "ha-noi"),
        ("ha-noi.localhost:1", "ha-noi"),
        ("ha-noi.localhost.", "ha-noi"),
        ("DichVuCong.QuangNinh.Gov.Vn.:443", "quang-ninh"),
    ] {
        let (status, slug) = site_with(&app, &[("Host", h(host))]).await;
        assert_eq!((status, slug.as_str()), (200, want), "{host:?}");
    }
}

#[tokio::test]
async fn forwarding_headers_never_choose_the_site() {
    let app = two_sites().await;
    let h = |s: &str| HeaderValue::from_str(s).unwrap();
    let forwarders = [
        "X-Forwarded-Host",
        "X-Forwarded-Server",
        "X-Host",
        "X-Original-Host",
    ];
    for name in forwarders {
        // A real site in Host: the forwarded one is ignored.
        let (status, slug) =
            site_with(&app, &[("Host", h(HN)), (name, h("quang-ninh.localhost"))]).await;
        assert_eq!((status, slug.as_str()), (200, "ha-noi"), "{name}");
        // An unknown Host is not rescued by a forwarded one.
        let (status, _) = site_with(&app, &[("Host", h("nowhere.localhost")), (name, h(HN))]).await;
        assert_eq!(status, 404, "{name}");
    }
    let (status, slug) = site_with(
        &app,
        &[
            ("Host", h(HN)),
            ("Forwarded", h("host=quang-ninh.localhost;proto=https")),
        ],
    )
    .await;
    assert_eq!((status, slug.as_str()), (200, "ha-noi"));
    // The national site with the operator's name forwarded is still the national site: the
    // operator API is not there, even with an operator's token.
    let token = app.operator_token().await;
    let res = app
        .client
        .get(app.url("/api/v1/tenants"))
        .header("Host", "localhost")
        .header("X-Forwarded-Host", "ops.localhost")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    refused(res, 404, "not_found").await;
    // The address a province gives of itself comes from configuration, not the request.
    let res = app
        .client
        .get(app.url("/api/v1/site"))
        .header("Host", QN_DOMAIN)
        .header("X-Forwarded-Host", "evil.example")
        .header("X-Forwarded-Proto", "https")
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["slug"], "quang-ninh");
    assert_eq!(body["url"], "http://quang-ninh.localhost:8080");
}

#[tokio::test]
async fn links_in_mails_never_take_the_requests_host() {
    let app = two_sites().await;
    let admin = app
        .staff_token("ha-noi", "admin@hanoi.gov.vn", StaffRole::Admin)
        .await;
    // An invitation asked for through a poisoned request: the link in the mail is Hà Nội's.
    let res = app
        .client
        .post(app.url("/api/v1/manage/users"))
        .header("Host", HN)
        .header("X-Forwarded-Host", "evil.example")
        .header("Forwarded", "host=evil.example")
        .bearer_auth(&admin)
        .json(&serde_json::json!({"email": "moi@hanoi.gov.vn", "full_name": "Cán bộ Mới", "role": "official"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let mail = text(
        &app,
        "SELECT body AS t FROM t_ha_noi.outbox WHERE kind = 'staff_invitation'",
    );
    assert!(
        mail.contains("http://ha-noi.localhost:8080/invitations/"),
        "{mail}"
    );
    assert!(!mail.contains("evil"), "{mail}");
    // A citizen filing through the custom domain with a forwarded host: the mail links the
    // province's own address.
    let token = app.citizen_token(QN_DOMAIN, "dan@example.vn").await;
    let res = app
        .client
        .post(app.url("/api/v1/dossiers"))
        .header("Host", QN_DOMAIN)
        .header("X-Forwarded-Host", "evil.example")
        .bearer_auth(&token)
        .json(&crate::helpers::licence_renewal())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let mail = text(
        &app,
        "SELECT string_agg(body, ' ') AS t FROM t_quang_ninh.outbox",
    );
    assert!(mail.contains("quang-ninh.localhost"), "{mail}");
    assert!(!mail.contains("evil"), "{mail}");
}

#[tokio::test]
async fn two_host_headers_or_an_absolute_target_for_another_site_are_refused() {
    let app = two_sites().await;
    // Two Host headers: a proxy may route by one and the app by the other. actix's parser
    // refuses the request itself (400, before any site is chosen, so no envelope).
    let (status, body) = raw(
        &app,
        b"GET /api/v1/site HTTP/1.1\r\nHost: ha-noi.localhost\r\nHost: quang-ninh.localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!((status, body.as_str()), (400, ""));
    // An absolute request target names one site and Host another: refused (400).
    let (status, body) = raw(
        &app,
        b"GET http://quang-ninh.localhost/api/v1/site HTTP/1.1\r\nHost: ha-noi.localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("\"code\":\"malformed\""), "{body}");
    assert!(
        !body.contains("quang-ninh") && !body.contains("ha-noi"),
        "{body}"
    );
    // When both agree, the site answers; an origin-form target uses Host as always.
    let (status, body) = raw(
        &app,
        b"GET http://ha-noi.localhost:8080/api/v1/site HTTP/1.1\r\nHost: ha-noi.localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"slug\":\"ha-noi\""), "{body}");
    // No Host at all (HTTP/1.0): no site.
    let (status, body) = raw(&app, b"GET /api/v1/site HTTP/1.0\r\n\r\n").await;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("\"code\":\"not_found\""), "{body}");
}
