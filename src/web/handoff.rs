//! One sign-in for every site (#17.3), as redirects. A province site that needs a citizen asks
//! the national site, which hands its session over with a one-time code:
//!
//! 1. province `GET /auth/national?next=PATH[&prompt=login]`: puts a random nonce in a cookie
//!    of its own (host-only, path `/auth/national`) and sends the browser to
//! 2. national `GET /auth/handoff?host=H&nonce=N&next=PATH[&prompt=login]`: with a valid
//!    national session, mints a code for that province and that nonce; without one, asks for
//!    a sign-in (`prompt=login`) or answers "nobody" at once; either way back to
//! 3. province `GET /auth/national/return?code=C&next=PATH`: spends the code with the nonce
//!    of its own cookie and sets this site's session (a token for this province only).
//!
//! No token crosses hosts and no cookie is shared between hosts, so a province's pages can
//! read nothing of another's; CSRF tokens stay bound to each site's own session. Signing out
//! anywhere moves the account's token version on: every site's session ends at its next
//! request (`session::PageCitizen` reads the version on every page).

use actix_web::cookie::{Cookie, SameSite, time::Duration};
use actix_web::http::header::{CACHE_CONTROL, LOCATION};
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Deserialize;

use crate::accounts::handoff;
use crate::app;
use crate::error::AppError;
use crate::lang::{Lang, Msg};
use crate::tenancy::Site;
use crate::tenancy::registry::Resolution;
use crate::web::AppState;
use crate::web::session::{
    self, HANDOFF_START_PATH, NATIONAL_CHECKED_COOKIE, percent_encode, safe_next,
};

const NONCE_COOKIE: &str = "handoff";
const RETURN_PATH: &str = "/auth/national/return";
const NATIONAL_PATH: &str = "/auth/handoff";
/// How long a province remembers that the national site had nobody signed in.
const CHECKED_SECS: i64 = 600;

pub fn province_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(start).service(finish);
}

pub fn national_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(hand_off);
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StartQuery {
    next: Option<String>,
    prompt: Option<String>,
}

/// `prompt=login`: the citizen asked to sign in, so a national site without a session shows
/// its sign-in page; anything else answers "nobody" at once (a page that merely needs a
/// session, which then offers this site's own sign-in).
fn wants_login(prompt: Option<&str>) -> bool {
    prompt == Some("login")
}

fn secure(state: &AppState) -> bool {
    state.settings.server.public_scheme == "https"
}

fn found(location: String) -> HttpResponse {
    HttpResponse::Found()
        .insert_header((LOCATION, location))
        .insert_header((CACHE_CONTROL, "no-store"))
        .finish()
}

/// Step 1, on a province site.
#[get("/auth/national")]
async fn start(
    req: HttpRequest,
    site: Site,
    state: web::Data<AppState>,
    query: web::Query<StartQuery>,
) -> Result<HttpResponse, AppError> {
    let Site::Province(_) = site else {
        return Err(AppError::NotFound);
    };
    let host =
        crate::hostname::normalize(req.connection_info().host()).ok_or(AppError::NotFound)?;
    let next = safe_next(query.next.as_deref());
    let nonce = handoff::random_token();
    let mut location = format!(
        "{}{NATIONAL_PATH}?host={}&nonce={nonce}&next={}",
        state.settings.url_for_host(state.registry.base_domain()),
        percent_encode(&host),
        percent_encode(next),
    );
    if wants_login(query.prompt.as_deref()) {
        location.push_str("&prompt=login");
    }
    let nonce_cookie = Cookie::build(NONCE_COOKIE, nonce)
        .path(HANDOFF_START_PATH)
        .http_only(true)
        // Lax: the way back from the national site is a top-level GET from another host.
        .same_site(SameSite::Lax)
        .secure(secure(&state))
        .max_age(Duration::seconds(300))
        .finish();
    let mut res = found(location);
    res.add_cookie(&nonce_cookie)
        .map_err(|e| AppError::internal(format!("cookie: {e}")))?;
    Ok(res)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct HandOffQuery {
    host: String,
    nonce: String,
    next: Option<String>,
    prompt: Option<String>,
}

/// Step 2, on the national site. `host` must be an active province's host (else nothing is
/// sent anywhere: no open redirect).
#[get("/auth/handoff")]
async fn hand_off(
    req: HttpRequest,
    site: Site,
    state: web::Data<AppState>,
    query: web::Query<HandOffQuery>,
) -> Result<HttpResponse, AppError> {
    let Site::National = site else {
        return Err(AppError::NotFound);
    };
    let query = query.into_inner();
    let not_valid = || {
        AppError::bad_request(
            "malformed",
            Msg::new(
                "Liên kết đăng nhập không hợp lệ. Vui lòng quay lại trang của tỉnh, thành phố và đăng nhập lại.",
                "This sign-in link is not valid. Please go back to the province's site and sign in again.",
            ),
        )
    };
    let tenant = match state.registry.resolve(&query.host) {
        Resolution::Site(Site::Province(t)) => t,
        _ => return Err(not_valid()),
    };
    if !handoff::well_formed(&query.nonce) {
        return Err(not_valid());
    }
    let host = crate::hostname::normalize(&query.host).ok_or_else(not_valid)?;
    let next = safe_next(query.next.as_deref()).to_string();
    let back = format!(
        "{}{RETURN_PATH}?next={}",
        state.settings.url_for_host(&host),
        percent_encode(&next)
    );
    let code = match session::citizen_claims(&req, &state, &site) {
        Some(claims) => {
            app::session_handoff::hand_off(&state, &claims, tenant.id, query.nonce.clone()).await?
        }
        None => None,
    };
    match code {
        Some(code) => Ok(found(format!("{back}&code={code}"))),
        None if wants_login(query.prompt.as_deref()) => {
            // Sign in here, then come back to this very step.
            let again = format!(
                "{NATIONAL_PATH}?host={}&nonce={}&next={}&prompt=login",
                percent_encode(&host),
                query.nonce,
                percent_encode(&next)
            );
            Ok(session::sign_in_then(&again))
        }
        None => Ok(found(back)),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FinishQuery {
    code: Option<String>,
    next: Option<String>,
}

/// Step 3, on the province site: the code and this browser's nonce sign the citizen in here;
/// no code means nobody is signed in nationally: this site's own sign-in page. The nonce is
/// spent either way.
#[get("/auth/national/return")]
async fn finish(
    req: HttpRequest,
    site: Site,
    state: web::Data<AppState>,
    query: web::Query<FinishQuery>,
) -> Result<HttpResponse, AppError> {
    let Site::Province(tenant) = &site else {
        return Err(AppError::NotFound);
    };
    let query = query.into_inner();
    let next = safe_next(query.next.as_deref()).to_string();
    let nonce = req.cookie(NONCE_COOKIE).map(|c| c.value().to_string());
    let mut spent = Cookie::build(NONCE_COOKIE, "")
        .path(HANDOFF_START_PATH)
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure(&state))
        .finish();
    spent.make_removal();
    let Some(code) = query.code else {
        let checked = Cookie::build(NATIONAL_CHECKED_COOKIE, "1")
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(secure(&state))
            .max_age(Duration::seconds(CHECKED_SECS))
            .finish();
        let mut res = session::sign_in_then(&next);
        add(&mut res, &spent)?;
        add(&mut res, &checked)?;
        return Ok(res);
    };
    // Spent even without this browser's nonce: the URL is then worth nothing to whoever
    // reads it later (and chose the nonce it was made for).
    let taken = app::session_handoff::take(&state, tenant.id, code, nonce).await?;
    let Some((who, loa)) = taken else {
        tracing::warn!("national session handoff refused");
        let e = AppError::bad_request(
            "handoff_refused",
            Msg::new(
                "Không thể chuyển phiên đăng nhập từ Cổng Dịch vụ công quốc gia: liên kết đã hết hạn, đã được dùng hoặc \
                 không dành cho trình duyệt này. Bạn chưa được đăng nhập. Vui lòng đăng nhập lại.",
                "Your sign-in could not be carried over from the National Public Service Portal: the link expired, was \
                 already used or was made for another browser. You are not signed in. Please sign in again.",
            ),
        );
        let mut res = crate::web::pages::error_page(&req, &e, Lang::of(&req));
        add(&mut res, &spent)?;
        return Ok(res);
    };
    let token = state.jwt.issue_at_level(
        &who.id.to_string(),
        &site.audience(),
        who.role,
        who.token_version,
        loa,
    )?;
    let mut res = session::see_other(&next);
    add(&mut res, &spent)?;
    add(&mut res, &session::rotated_csrf_cookie(&state, &token))?;
    add(&mut res, &session::session_cookie(&state, token))?;
    Ok(res)
}

fn add(res: &mut HttpResponse, cookie: &Cookie<'_>) -> Result<(), AppError> {
    res.add_cookie(cookie)
        .map_err(|e| AppError::internal(format!("cookie: {e}")))
}
