//! A browser for the page tests: cookies kept by hand, no redirects followed, forms encoded as
//! a browser sends them.

use std::collections::BTreeMap;

use reqwest::multipart::{Form, Part};

use crate::helpers::{CITIZEN_PASSWORD, TestApp};

/// One browser on one site: its cookies, no redirects followed.
pub(crate) struct Browser<'a> {
    app: &'a TestApp,
    host: String,
    pub(crate) cookies: BTreeMap<String, String>,
}

/// A response read whole: status, headers and body.
pub(crate) struct Page {
    pub(crate) status: u16,
    pub(crate) location: String,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: String,
}

impl Page {
    /// The value of the first input named `name`.
    pub(crate) fn input(&self, name: &str) -> String {
        let tag = self
            .body
            .split(&format!("name=\"{name}\""))
            .nth(1)
            .and_then(|r| r.split('>').next())
            .unwrap_or_else(|| panic!("an input {name}"));
        tag.split("value=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or_else(|| panic!("a value for {name}"))
            .to_string()
    }

    /// The page is small, and carries no inline style or script (CSP).
    pub(crate) fn assert_lean(&self) {
        assert!(self.body.len() < 60 * 1024, "{} bytes", self.body.len());
        assert!(!self.body.contains("style=") && !self.body.contains("<script"));
    }
}

impl<'a> Browser<'a> {
    pub(crate) fn new(app: &'a TestApp, host: &str) -> Browser<'a> {
        Browser {
            app,
            host: host.to_string(),
            cookies: BTreeMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn read(&mut self, res: reqwest::Response) -> Page {
        for value in res.headers().get_all("set-cookie") {
            let text = value.to_str().unwrap();
            let (pair, attrs) = text.split_once(';').unwrap_or((text, ""));
            let (name, val) = pair.split_once('=').unwrap();
            if attrs.to_ascii_lowercase().contains("max-age=0") {
                self.cookies.remove(name.trim());
            } else {
                self.cookies
                    .insert(name.trim().to_string(), val.trim().to_string());
            }
        }
        Page {
            status: res.status().as_u16(),
            location: res
                .headers()
                .get("location")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default(),
            headers: res.headers().clone(),
            body: res.text().await.unwrap(),
        }
    }

    pub(crate) async fn get(&mut self, path: &str) -> Page {
        let res = self
            .app
            .client
            .get(self.app.url(path))
            .header("Host", &self.host)
            .header("Cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.read(res).await
    }

    pub(crate) async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let res = self
            .app
            .client
            .post(self.app.url(path))
            .header("Host", &self.host)
            .header("Cookie", self.cookie_header())
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(urlencode(form))
            .send()
            .await
            .unwrap();
        self.read(res).await
    }

    pub(crate) async fn post_multipart(&mut self, path: &str, form: Form) -> Page {
        let res = self
            .app
            .client
            .post(self.app.url(path))
            .header("Host", &self.host)
            .header("Cookie", self.cookie_header())
            .multipart(form)
            .send()
            .await
            .unwrap();
        self.read(res).await
    }

    /// The page's CSRF token, which must equal the cookie (double submit).
    pub(crate) fn csrf(&self, page: &Page) -> String {
        let token = page
            .body
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a CSRF field on the page")
            .to_string();
        assert_eq!(self.cookies.get("csrf"), Some(&token));
        token
    }

    /// A staff move through the dossier page's form.
    pub(crate) async fn act(&mut self, code: &str, fields: &[(&str, &str)]) -> Page {
        let page = self.get(&format!("/manage/dossiers/{code}")).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let csrf = self.csrf(&page);
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        self.post(&format!("/manage/dossiers/{code}/actions"), &form)
            .await
    }

    /// The operator (`OPERATOR_EMAIL`, whose account exists already) signed in on the console.
    pub(crate) async fn operator_console(app: &'a TestApp) -> Browser<'a> {
        let mut ops = Browser::new(app, "ops.localhost");
        let page = ops.get("/sign-in").await;
        let csrf = ops.csrf(&page);
        let signed_in = ops
            .post(
                "/sign-in",
                &[
                    ("csrf", &csrf),
                    ("email", crate::helpers::OPERATOR_EMAIL),
                    ("password", crate::helpers::OPERATOR_PASSWORD),
                ],
            )
            .await;
        assert_eq!(signed_in.status, 303);
        ops
    }

    /// Signs in a citizen through the form; returns where the site sent us.
    pub(crate) async fn sign_in(&mut self, email: &str, next: &str) -> Page {
        self.sign_in_as(email, CITIZEN_PASSWORD, next).await
    }

    /// Signs in through the form with a password; returns where the site sent us.
    pub(crate) async fn sign_in_as(&mut self, email: &str, password: &str, next: &str) -> Page {
        let page = self.get(&format!("/sign-in?next={next}")).await;
        assert_eq!(page.status, 200);
        let csrf = self.csrf(&page);
        let next = page.input("next");
        self.post(
            "/sign-in",
            &[
                ("csrf", &csrf),
                ("email", email),
                ("password", password),
                ("next", &next),
            ],
        )
        .await
    }
}

/// `application/x-www-form-urlencoded`, as a browser sends a form.
pub(crate) fn urlencode(form: &[(&str, &str)]) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                b' ' => "+".to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    form.iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub(crate) fn file_part(name: &str, bytes: &[u8]) -> Part {
    Part::bytes(bytes.to_vec())
        .file_name(name.to_string())
        .mime_str("application/octet-stream")
        .unwrap()
}
