//! One sign-in for every site (#17.3): the national site's session carried to province sites
//! by one-time codes, signing out everywhere, and the refusals (replayed code, another
//! province's code, another browser's code, a host that is no province).

use std::collections::HashMap;

use crate::helpers::*;
use crate::oidc_idp::{CLIENT_ID, CLIENT_SECRET, Idp, Person};
use secrecy::SecretString;

/// A browser: cookies per host (host-only cookies, as the server sets them), redirects followed
/// by hand so each hop can be checked.
struct Browser<'a> {
    app: &'a TestApp,
    jar: HashMap<String, HashMap<String, String>>,
}

/// One response, read: status, where it points, its body.
struct Hop {
    status: u16,
    /// (host, path and query) of the `Location`, relative ones on the same host.
    location: Option<(String, String)>,
    /// The `Location` as sent (for a hop to another server).
    raw_location: Option<String>,
    body: String,
}

impl<'a> Browser<'a> {
    fn new(app: &'a TestApp) -> Browser<'a> {
        Browser {
            app,
            jar: HashMap::new(),
        }
    }

    fn cookie(&self, host: &str, name: &str) -> Option<String> {
        self.jar.get(host)?.get(name).cloned()
    }

    fn set(&mut self, host: &str, name: &str, value: &str) {
        self.jar
            .entry(host.to_string())
            .or_default()
            .insert(name.to_string(), value.to_string());
    }

    async fn send(&mut self, req: reqwest::RequestBuilder, host: &str) -> Hop {
        let cookies: Vec<String> = self
            .jar
            .get(host)
            .map(|c| c.iter().map(|(k, v)| format!("{k}={v}")).collect())
            .unwrap_or_default();
        let mut req = req.header("Host", host);
        if !cookies.is_empty() {
            req = req.header("Cookie", cookies.join("; "));
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        for raw in res.headers().get_all("set-cookie") {
            let raw = raw.to_str().unwrap().to_string();
            assert!(
                !raw.to_ascii_lowercase().contains("domain="),
                "every cookie is host-only: {raw}"
            );
            let pair = raw.split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            let removed = v.is_empty() || raw.contains("Max-Age=0") || raw.contains("max-age=0");
            let jar = self.jar.entry(host.to_string()).or_default();
            if removed {
                jar.remove(k);
            } else {
                jar.insert(k.to_string(), v.to_string());
            }
        }
        let raw_location = res
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string());
        let location = raw_location.clone().map(|l| match reqwest::Url::parse(&l) {
            Ok(url) => (
                url.host_str().unwrap().to_string(),
                match url.query() {
                    Some(q) => format!("{}?{q}", url.path()),
                    None => url.path().to_string(),
                },
            ),
            Err(_) => (host.to_string(), l),
        });
        let body = res.text().await.unwrap_or_default();
        Hop {
            status,
            location,
            raw_location,
            body,
        }
    }

    async fn get(&mut self, host: &str, path: &str) -> Hop {
        let req = self.app.client.get(self.app.url(path));
        self.send(req, host).await
    }

    async fn post_form(&mut self, host: &str, path: &str, form: &[(&str, &str)]) -> Hop {
        let body: Vec<String> = form
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect();
        let req = self
            .app
            .client
            .post(self.app.url(path))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body.join("&"));
        self.send(req, host).await
    }

    /// Follows redirects from `host` `path` until a page; every hop's (host, path).
    async fn walk(&mut self, host: &str, path: &str) -> (Hop, Vec<(String, String)>) {
        let mut hops = vec![(host.to_string(), path.to_string())];
        let mut hop = self.get(host, path).await;
        while let Some((h, p)) = hop.location.clone() {
            assert!(hops.len() < 10, "redirect loop: {hops:?}");
            hops.push((h.clone(), p.clone()));
            hop = self.get(&h, &p).await;
        }
        (hop, hops)
    }

    /// Signs in with email and password on `host`'s sign-in page.
    async fn sign_in_with_password(&mut self, host: &str, email: &str) {
        let page = self.get(host, "/sign-in").await;
        assert_eq!(page.status, 200, "{host} sign-in page");
        let csrf = self.cookie(host, "csrf").expect("csrf cookie");
        let hop = self
            .post_form(
                host,
                "/sign-in",
                &[
                    ("csrf", csrf.as_str()),
                    ("email", email),
                    ("password", CITIZEN_PASSWORD),
                    ("next", "/dossiers"),
                ],
            )
            .await;
        assert_eq!(hop.status, 303, "signed in on {host}: {}", hop.body);
        assert!(self.cookie(host, "session").is_some());
    }

    async fn sign_out(&mut self, host: &str) {
        let csrf = self.cookie(host, "csrf").expect("csrf cookie");
        let hop = self
            .post_form(host, "/sign-out", &[("csrf", csrf.as_str())])
            .await;
        assert_eq!(hop.status, 303, "signed out on {host}");
    }
}

fn urlencode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn register(app: &TestApp, email: &str) {
    app.citizen_token("localhost", email).await;
}

#[tokio::test]
async fn signing_in_on_the_national_site_signs_in_on_every_province_and_out_everywhere() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    app.create_tenant("hue", "Thành phố Huế").await;
    register(&app, "mot-lan@example.vn").await;
    let mut browser = Browser::new(&app);

    // Anonymous: a province page that needs a citizen asks the national site, which has
    // nobody, and lands on the province's own sign-in page, remembering the answer.
    let (page, hops) = browser.walk("ha-noi.localhost", "/dossiers").await;
    assert_eq!(page.status, 200);
    let last = hops.last().unwrap();
    assert_eq!(
        last,
        &(
            "ha-noi.localhost".to_string(),
            "/sign-in?next=/dossiers".to_string()
        )
    );
    assert!(
        hops.iter()
            .any(|(h, p)| h == "localhost" && p.starts_with("/auth/handoff?"))
    );
    assert!(
        page.body.contains("/auth/national?prompt=login"),
        "national sign-in offered"
    );
    let hop = browser.get("ha-noi.localhost", "/dossiers").await;
    assert_eq!(
        hop.location.unwrap().1,
        "/sign-in?next=/dossiers",
        "asked once, not on every page"
    );

    // Signed in once, on the national site.
    browser
        .sign_in_with_password("localhost", "mot-lan@example.vn")
        .await;
    let national_session = browser.cookie("localhost", "session").unwrap();

    // Every province: signed in by following a link, no password asked. Hue never had a
    // session; Ha Noi's "nobody" answer is not final either (the national sign-in button).
    for (host, start) in [
        ("hue.localhost", "/dossiers"),
        (
            "ha-noi.localhost",
            "/auth/national?prompt=login&next=/dossiers",
        ),
    ] {
        let (page, hops) = browser.walk(host, start).await;
        assert_eq!(page.status, 200, "{host}: {hops:?}");
        assert_eq!(
            hops.last().unwrap(),
            &(host.to_string(), "/dossiers".to_string())
        );
        assert!(
            page.body.contains("Nguyễn Thị Minh Khai"),
            "signed in on {host}"
        );
        let session = browser
            .cookie(host, "session")
            .expect("a session of its own");
        assert_ne!(session, national_session, "no token crosses hosts");
        // The token is for this province only: the national site refuses it.
        let res = app
            .get_with_token("localhost", "/api/v1/me/dossiers", &session)
            .await;
        assert_eq!(res.status(), 401, "aud-bound");
    }

    // CSRF stays per site: Hue's form token is worth nothing on Ha Noi.
    let hue_csrf = browser.cookie("hue.localhost", "csrf").unwrap();
    let hop = browser
        .post_form(
            "ha-noi.localhost",
            "/sign-out",
            &[("csrf", hue_csrf.as_str())],
        )
        .await;
    assert_eq!(hop.status, 403);

    // Signing out on one province signs out everywhere.
    browser.sign_out("hue.localhost").await;
    for host in ["localhost", "ha-noi.localhost"] {
        let page = browser.get(host, "/dossiers").await;
        assert_eq!(page.status, 303, "{host} signed out");
    }
    let res = app
        .get_with_token("localhost", "/api/v1/me/dossiers", &national_session)
        .await;
    assert_eq!(res.status(), 401);
}

/// The province half of a handoff, up to the code: (the province's nonce cookie, the return
/// path with the code).
async fn code_for(browser: &mut Browser<'_>, host: &str) -> (String, String) {
    let hop = browser.get(host, "/auth/national?next=/dossiers").await;
    assert_eq!(hop.status, 302);
    let nonce = browser.cookie(host, "handoff").expect("nonce cookie");
    let (national, path) = hop.location.unwrap();
    assert_eq!(national, "localhost");
    let hop = browser.get(&national, &path).await;
    assert_eq!(hop.status, 302);
    let (back_host, back) = hop.location.unwrap();
    assert_eq!(back_host, host);
    assert!(back.contains("&code="), "{back}");
    (nonce, back)
}

#[tokio::test]
async fn handoff_codes_are_one_time_for_one_province_and_one_browser() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    app.create_tenant("hue", "Thành phố Huế").await;
    register(&app, "ma-mot-lan@example.vn").await;
    let mut victim = Browser::new(&app);
    victim
        .sign_in_with_password("localhost", "ma-mot-lan@example.vn")
        .await;

    // Replayed: the second use finds nothing.
    let (_, back) = code_for(&mut victim, "ha-noi.localhost").await;
    let nonce = victim.cookie("ha-noi.localhost", "handoff").unwrap();
    let hop = victim.get("ha-noi.localhost", &back).await;
    assert_eq!(hop.status, 303);
    assert!(victim.cookie("ha-noi.localhost", "session").is_some());
    victim.set("ha-noi.localhost", "handoff", &nonce);
    let mut again = Browser::new(&app);
    again.set("ha-noi.localhost", "handoff", &nonce);
    let hop = again.get("ha-noi.localhost", &back).await;
    assert_eq!(hop.status, 400, "replayed code");
    assert!(again.cookie("ha-noi.localhost", "session").is_none());

    // Another province's code: refused on this one (and spent).
    let (nonce, back) = code_for(&mut victim, "ha-noi.localhost").await;
    let mut other = Browser::new(&app);
    other.set("hue.localhost", "handoff", &nonce);
    let hop = other.get("hue.localhost", &back).await;
    assert_eq!(hop.status, 400, "Ha Noi's code on Hue");
    assert!(other.cookie("hue.localhost", "session").is_none());

    // Another browser (an attacker planting its own code, or a code read from a log): the
    // nonce cookie is not there, or not the one the code was made for.
    let (_, back) = code_for(&mut victim, "ha-noi.localhost").await;
    let mut attacker = Browser::new(&app);
    let hop = attacker.get("ha-noi.localhost", &back).await;
    assert_eq!(hop.status, 400, "no nonce cookie");
    let (_, back) = code_for(&mut victim, "ha-noi.localhost").await;
    let mut attacker = Browser::new(&app);
    attacker.set("ha-noi.localhost", "handoff", &"a".repeat(64));
    let hop = attacker.get("ha-noi.localhost", &back).await;
    assert_eq!(hop.status, 400, "another nonce");
    assert!(attacker.cookie("ha-noi.localhost", "session").is_none());

    // A code made before a sign-out signs nobody in after it.
    let (_, back) = code_for(&mut victim, "ha-noi.localhost").await;
    victim.sign_out("localhost").await;
    let hop = victim.get("ha-noi.localhost", &back).await;
    assert_eq!(hop.status, 400, "signed out in between");
}

#[tokio::test]
async fn the_national_site_hands_sessions_only_to_provinces_and_local_paths() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    register(&app, "chuyen-huong@example.vn").await;
    let mut browser = Browser::new(&app);
    browser
        .sign_in_with_password("localhost", "chuyen-huong@example.vn")
        .await;
    let nonce = "b".repeat(64);
    for host in [
        "evil.example",
        "ops.localhost",
        "localhost",
        "nowhere.localhost",
    ] {
        let hop = browser
            .get(
                "localhost",
                &format!("/auth/handoff?host={host}&nonce={nonce}&next=/"),
            )
            .await;
        assert_eq!(hop.status, 400, "{host}");
        assert!(hop.location.is_none());
    }
    let hop = browser
        .get(
            "localhost",
            "/auth/handoff?host=ha-noi.localhost&nonce=short&next=/",
        )
        .await;
    assert_eq!(hop.status, 400, "malformed nonce");
    let hop = browser
        .get(
            "localhost",
            &format!("/auth/handoff?host=ha-noi.localhost&nonce={nonce}&next=//evil.example/x"),
        )
        .await;
    let (host, path) = hop.location.unwrap();
    assert_eq!(host, "ha-noi.localhost");
    assert!(
        path.starts_with("/auth/national/return?next=/&code="),
        "{path}"
    );
    // The steps answer only on their own sites.
    assert_eq!(
        browser
            .get("localhost", "/auth/national/return")
            .await
            .status,
        404
    );
    assert_eq!(
        browser
            .get(
                "ha-noi.localhost",
                &format!("/auth/handoff?host=ha-noi.localhost&nonce={nonce}")
            )
            .await
            .status,
        404
    );
}

fn criminal_record(id_number: &str) -> serde_json::Value {
    serde_json::json!({
        "procedure_code": "LLTP-001",
        "fields": {
            "full_name": "Trần Văn Định Danh",
            "id_number": id_number,
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

/// Signs in on the national site through the identity provider at `level`.
async fn national_sign_in(browser: &mut Browser<'_>, level: u8) {
    let hop = browser
        .get(
            "localhost",
            &format!("/auth/oidc/start?level={level}&next=/dossiers"),
        )
        .await;
    assert_eq!(hop.status, 302, "start");
    // The provider is another server (it approves at once): the plain client goes there.
    let authorize = hop.raw_location.unwrap();
    let res = browser.app.client.get(&authorize).send().await.unwrap();
    assert_eq!(res.status(), 302, "authorize");
    let back = reqwest::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
    let path = format!("{}?{}", back.path(), back.query().unwrap());
    let hop = browser.get("localhost", &path).await;
    assert_eq!(hop.status, 303, "callback: {}", hop.body);
}

/// The "done when": national sign-in at level 1, asked to step up for a level-2
/// procedure, filed in two provinces, both dossiers in one national list (API and page).
#[tokio::test]
async fn one_national_sign_in_files_in_two_provinces_and_sees_both() {
    let idp = Idp::start(Person {
        citizen_id: "079123456789".into(),
        name: "Trần Văn Định Danh".into(),
        birthdate: "1990-05-17".into(),
        email: Some("dinhdanh@example.vn".into()),
    })
    .await;
    let db = TestDb::create();
    let mut settings = test_settings(&db.url);
    settings.oidc.issuer = Some(idp.issuer.clone());
    settings.oidc.client_id = Some(CLIENT_ID.into());
    settings.oidc.client_secret = Some(SecretString::from(CLIENT_SECRET.to_string()));
    let app = TestApp::spawn_with(db, settings).await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    app.create_tenant("hue", "Thành phố Huế").await;
    let mut browser = Browser::new(&app);

    // Level 1 on the national site; the province's sign-in page offers VNeID too.
    national_sign_in(&mut browser, 1).await;
    let (page, _) = browser
        .walk(
            "ha-noi.localhost",
            "/auth/national?prompt=login&next=/dossiers",
        )
        .await;
    assert_eq!(page.status, 200);
    let level_one = browser.cookie("ha-noi.localhost", "session").unwrap();
    let res = app
        .post_json(
            "ha-noi.localhost",
            "/api/v1/dossiers",
            Some(&level_one),
            &criminal_record("079123456789"),
        )
        .await;
    assert_eq!(res.status(), 403, "a level-2 procedure");
    assert_eq!(error_code(res).await, "assurance_level_required");

    // Step up on the national site; the province sessions that follow carry level 2.
    national_sign_in(&mut browser, 2).await;
    let mut codes = Vec::new();
    for host in ["ha-noi.localhost", "hue.localhost"] {
        let (page, hops) = browser
            .walk(host, "/auth/national?prompt=login&next=/dossiers")
            .await;
        assert_eq!(page.status, 200, "{hops:?}");
        let session = browser.cookie(host, "session").unwrap();
        let res = app
            .post_json(
                host,
                "/api/v1/dossiers",
                Some(&session),
                &criminal_record("079123456789"),
            )
            .await;
        assert_eq!(res.status(), 201, "filed on {host}");
        let body: serde_json::Value = res.json().await.unwrap();
        codes.push(body["tracking_code"].as_str().unwrap().to_string());
    }

    // One national list: the API with the national session, and the page.
    let national = browser.cookie("localhost", "session").unwrap();
    let res = app
        .get_with_token("localhost", "/api/v1/me/dossiers", &national)
        .await;
    assert_eq!(res.status(), 200);
    let list: serde_json::Value = res.json().await.unwrap();
    let mut listed: Vec<(String, String)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["tracking_code"].as_str().unwrap().to_string(),
                d["province"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    listed.sort();
    let mut expected = vec![
        (codes[0].clone(), "ha-noi".to_string()),
        (codes[1].clone(), "hue".to_string()),
    ];
    expected.sort();
    assert_eq!(listed, expected);
    let page = browser.get("localhost", "/dossiers").await;
    assert_eq!(page.status, 200);
    for code in &codes {
        assert!(
            page.body.contains(code.as_str()),
            "{code} on the national page"
        );
    }
    assert!(page.body.contains("Thành phố Hà Nội") && page.body.contains("Thành phố Huế"));
    // Each line leads to the dossier on its province's site, signed in through the handoff.
    assert!(page.body.contains("hue.localhost"));
    assert!(page.body.contains("/auth/national?next=/dossiers/"));
}
