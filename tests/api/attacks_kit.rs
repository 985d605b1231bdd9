//! What the attack files share: counting rows outside every door, the contract's error
//! envelope asserted whole, provinces with custom domains, and tokens forged by hand.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use diesel::prelude::*;
use diesel::sql_query;
use hmac::{Hmac, Mac};
use portal::app::provisioning::provision;
use portal::tenancy::Tenant;
use portal::tenancy::provision::NewTenant;

use crate::helpers::{JWT_SECRET, TestApp};

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct T {
    #[diesel(sql_type = diesel::sql_types::Text)]
    t: String,
}

/// `SELECT count(*) AS n …` (or any BIGINT named `n`), as the superuser.
pub(crate) fn count(app: &TestApp, sql: &str) -> i64 {
    sql_query(sql)
        .get_result::<N>(&mut app.raw_connection())
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .n
}

/// `SELECT … AS t` (one TEXT), as the superuser.
pub(crate) fn text(app: &TestApp, sql: &str) -> String {
    sql_query(sql)
        .get_result::<T>(&mut app.raw_connection())
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .t
}

pub(crate) fn exec(app: &TestApp, sql: &str) {
    sql_query(sql)
        .execute(&mut app.raw_connection())
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Asserts the status and the whole envelope `{"error": {"code", "message", "fields"?}}` with
/// nothing else beside it; returns the body.
pub(crate) async fn refused(res: reqwest::Response, status: u16, code: &str) -> serde_json::Value {
    let url = res.url().path().to_string();
    assert_eq!(res.status().as_u16(), status, "{url}");
    let content_type = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "{url}: {content_type}"
    );
    let body: serde_json::Value = res.json().await.expect("a JSON error body");
    let top = body.as_object().expect("an object");
    assert_eq!(top.len(), 1, "only `error` at the top: {body}");
    let error = body["error"].as_object().expect("error object");
    assert_eq!(body["error"]["code"], code, "{url}: {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(
        error
            .keys()
            .all(|k| ["code", "message", "fields"].contains(&k.as_str())),
        "{body}"
    );
    body
}

/// A province with one custom domain besides its subdomain, seen by this replica at once.
pub(crate) async fn tenant_with_domain(
    app: &TestApp,
    slug: &str,
    name: &str,
    domain: &str,
) -> Tenant {
    let db = app.database().clone();
    let registry = app.state.registry.clone();
    let (slug, name, domains) = (slug.to_string(), name.to_string(), vec![domain.to_string()]);
    tokio::task::spawn_blocking(move || {
        let new = NewTenant::parse(&slug, &name, "standard", &domains, "localhost").unwrap();
        let t = provision(&db, &new, "test").unwrap();
        registry.reload().unwrap();
        t
    })
    .await
    .unwrap()
}

/// The JSON payload of a JWT, unverified.
pub(crate) fn claims_of(token: &str) -> serde_json::Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn b64(value: &serde_json::Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

/// A token with any header and claims, signed with HMAC-SHA-`bits` over `key` whatever the
/// header says (so a header can lie about the algorithm).
pub(crate) fn forge(
    header: &serde_json::Value,
    claims: &serde_json::Value,
    key: &[u8],
    bits: u16,
) -> String {
    let input = format!("{}.{}", b64(header), b64(claims));
    let signature = match bits {
        256 => {
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
            mac.update(input.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        384 => {
            let mut mac = Hmac::<sha2::Sha384>::new_from_slice(key).unwrap();
            mac.update(input.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        _ => {
            let mut mac = Hmac::<sha2::Sha512>::new_from_slice(key).unwrap();
            mac.update(input.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
    };
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// The claims re-signed as a proper HS256 token with the server's own key.
pub(crate) fn sign_hs256(claims: &serde_json::Value) -> String {
    forge(
        &serde_json::json!({"alg": "HS256", "typ": "JWT"}),
        claims,
        JWT_SECRET.as_bytes(),
        256,
    )
}

/// `header.payload.` with no signature at all.
pub(crate) fn unsigned(header: &serde_json::Value, claims: &serde_json::Value) -> String {
    format!("{}.{}.", b64(header), b64(claims))
}

pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// One request written by hand (it should ask to close the connection): (status, body). The
/// server may answer before reading all of it, so a write that fails is not an error.
pub(crate) async fn raw(app: &TestApp, request: &[u8]) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    let _ = stream.write_all(request).await;
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes).await;
    let text = String::from_utf8_lossy(&bytes).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a status line in {text:?}"));
    let body = text
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    (status, body)
}
