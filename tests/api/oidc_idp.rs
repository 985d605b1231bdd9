//! A small OpenID Connect identity provider for the tests (never part of the product): an
//! actix app on port 0 serving discovery, JWKS, `authorize` (auto-approves its one citizen at
//! the level asked in `acr_values`) and `token` (client_secret_basic, PKCE S256, single-use
//! codes), signing RS256 ID tokens with a key made at start. It can rotate its key and, for the
//! refusal tests, spoil the next ID tokens in one chosen way.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::json;
use sha2::Digest;

pub const CLIENT_ID: &str = "portal-test";
pub const CLIENT_SECRET: &str = "portal-test-secret-0123456789";

/// The citizen the provider vouches for.
#[derive(Debug, Clone)]
pub struct Person {
    pub citizen_id: String,
    pub name: String,
    pub birthdate: String,
    pub email: Option<String>,
}

/// One way to spoil the ID tokens, for the refusal tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spoil {
    None,
    BadSignature,
    WrongAudience,
    Expired,
    WrongNonce,
}

struct Key {
    kid: String,
    der: Vec<u8>,
    n: String,
    e: String,
}

fn new_key(kid: &str) -> Key {
    let key = rsa::RsaPrivateKey::new(&mut rand08::thread_rng(), 2048).expect("rsa key");
    Key {
        kid: kid.to_string(),
        der: key.to_pkcs1_der().expect("der").as_bytes().to_vec(),
        n: URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
        e: URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
    }
}

struct Grant {
    redirect_uri: String,
    nonce: String,
    challenge: String,
    level: u8,
}

struct State {
    issuer: String,
    key: Key,
    person: Person,
    codes: HashMap<String, Option<Grant>>,
    spoil: Spoil,
    rotations: u32,
}

pub struct Idp {
    pub issuer: String,
    state: Arc<Mutex<State>>,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for Idp {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        tokio::spawn(async move { handle.stop(false).await });
    }
}

impl Idp {
    pub async fn start(person: Person) -> Idp {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let issuer = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let state = Arc::new(Mutex::new(State {
            issuer: issuer.clone(),
            key: new_key("key-0"),
            person,
            codes: HashMap::new(),
            spoil: Spoil::None,
            rotations: 0,
        }));
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route(
                    "/.well-known/openid-configuration",
                    web::get().to(discovery),
                )
                .route("/jwks", web::get().to(jwks))
                .route("/authorize", web::get().to(authorize))
                .route("/token", web::post().to(token))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Idp {
            issuer,
            state,
            handle,
        }
    }

    /// A new signing key with a new `kid`; the old one is no longer published.
    pub fn rotate(&self) {
        let mut s = self.state.lock().unwrap();
        s.rotations += 1;
        s.key = new_key(&format!("key-{}", s.rotations));
    }

    pub fn spoil(&self, spoil: Spoil) {
        self.state.lock().unwrap().spoil = spoil;
    }
}

async fn discovery(state: web::Data<Mutex<State>>) -> HttpResponse {
    let issuer = state.lock().unwrap().issuer.clone();
    HttpResponse::Ok().json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        "code_challenge_methods_supported": ["S256"],
        "acr_values_supported": ["vneid:1", "vneid:2"],
        "scopes_supported": ["openid", "profile", "email"],
        "claims_supported": ["sub", "name", "birthdate", "email", "email_verified", "acr", "citizen_id"]
    }))
}

async fn jwks(state: web::Data<Mutex<State>>) -> HttpResponse {
    let s = state.lock().unwrap();
    HttpResponse::Ok().json(json!({"keys": [{
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": s.key.kid, "n": s.key.n, "e": s.key.e
    }]}))
}

async fn authorize(
    state: web::Data<Mutex<State>>,
    q: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    if get("response_type") != "code"
        || get("client_id") != CLIENT_ID
        || get("code_challenge_method") != "S256"
        || get("code_challenge").is_empty()
        || !get("scope").split(' ').any(|s| s == "openid")
    {
        return HttpResponse::BadRequest().body("bad authorization request");
    }
    let level = if get("acr_values").split(' ').any(|a| a == "vneid:2") {
        2
    } else {
        1
    };
    let code = uuid::Uuid::new_v4().simple().to_string();
    let redirect_uri = get("redirect_uri");
    state.lock().unwrap().codes.insert(
        code.clone(),
        Some(Grant {
            redirect_uri: redirect_uri.clone(),
            nonce: get("nonce"),
            challenge: get("code_challenge"),
            level,
        }),
    );
    let location = reqwest::Url::parse_with_params(
        &redirect_uri,
        &[("code", code.as_str()), ("state", get("state").as_str())],
    )
    .unwrap();
    HttpResponse::Found()
        .insert_header(("Location", location.to_string()))
        .finish()
}

fn token_error(code: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({"error": code}))
}

async fn token(
    req: HttpRequest,
    state: web::Data<Mutex<State>>,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    let basic = format!(
        "Basic {}",
        STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    );
    let auth = req
        .headers()
        .get("Authorization")
        .and_then(|v| v.to_str().ok());
    if auth != Some(basic.as_str()) {
        return HttpResponse::Unauthorized().json(json!({"error": "invalid_client"}));
    }
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    if get("grant_type") != "authorization_code" {
        return token_error("unsupported_grant_type");
    }
    let mut s = state.lock().unwrap();
    // A code works once; its slot stays (as None) so a replay is told apart from nonsense.
    let Some(grant) = s.codes.get_mut(&get("code")).and_then(Option::take) else {
        return token_error("invalid_grant");
    };
    let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(get("code_verifier").as_bytes()));
    if grant.redirect_uri != get("redirect_uri") || grant.challenge != challenge {
        return token_error("invalid_grant");
    }
    let now = chrono::Utc::now().timestamp();
    let (iat, exp) = match s.spoil {
        Spoil::Expired => (now - 4000, now - 3600),
        _ => (now, now + 300),
    };
    let p = &s.person;
    let claims = json!({
        "iss": s.issuer,
        "sub": format!("vneid-{}", p.citizen_id),
        "aud": if s.spoil == Spoil::WrongAudience { "another-client" } else { CLIENT_ID },
        "iat": iat,
        "exp": exp,
        "nonce": if s.spoil == Spoil::WrongNonce { "another-nonce".to_string() } else { grant.nonce.clone() },
        "acr": format!("vneid:{}", grant.level),
        "name": p.name,
        "birthdate": p.birthdate,
        "email": p.email,
        "email_verified": p.email.is_some(),
        "citizen_id": p.citizen_id,
    });
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(s.key.kid.clone());
    let signing = if s.spoil == Spoil::BadSignature {
        // Another key under the published key's id.
        new_key(&s.key.kid).der
    } else {
        s.key.der.clone()
    };
    let id_token = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_rsa_der(&signing),
    )
    .unwrap();
    HttpResponse::Ok().json(json!({
        "access_token": uuid::Uuid::new_v4().simple().to_string(),
        "token_type": "Bearer",
        "expires_in": 300,
        "id_token": id_token,
    }))
}
