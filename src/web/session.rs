//! Browser sessions for the HTML pages: the `session` cookie (a site-bound JWT), the
//! double-submit CSRF token, safe return paths, and the response that carries the cookies.

use std::future::{Ready, ready};

use actix_web::cookie::{Cookie, SameSite, time::Duration};
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, LOCATION};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, web};
use askama::Template;
use futures_util::future::LocalBoxFuture;
use rand::Rng;

use crate::accounts::citizens::Citizen;
use crate::accounts::jwt::Claims;
use crate::app::auth::Account;
use crate::error::AppError;
use crate::lang::{Lang, Msg};
use crate::tenancy::Site;
use crate::web::AppState;

pub const SESSION_COOKIE: &str = "session";
pub const CSRF_COOKIE: &str = "csrf";
pub const LANG_COOKIE: &str = "lang";
/// The name of the hidden form field that must repeat the CSRF cookie.
pub const CSRF_FIELD: &str = "csrf";

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, AppError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::internal("application state missing"))
}

fn secure(state: &AppState) -> bool {
    state.settings.server.public_scheme == "https"
}

/// The signed-in citizen of the `session` cookie, if any. A missing, expired, foreign or
/// revoked session is simply "not signed in": pages that need one answer [`to_sign_in`]
/// (a redirect is a response, not an error).
#[derive(Debug, Clone)]
pub struct PageCitizen(pub Option<Citizen>);

impl FromRequest for PageCitizen {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<PageCitizen, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string());
        let site = req.extensions().get::<Site>().cloned();
        let state = state(req);
        Box::pin(async move {
            let (Some(token), Some(site)) = (token, site) else {
                return Ok(PageCitizen(None));
            };
            let state = state?;
            let Ok(claims) = state.jwt.verify(&token, &site.audience()) else {
                return Ok(PageCitizen(None));
            };
            if claims.role != "citizen" {
                return Ok(PageCitizen(None));
            }
            // Read on every request, with the token's version: a deactivation or a sign-out
            // anywhere stops the very next page.
            match crate::app::auth::resume(&state, &site, &claims).await? {
                Some(Account::Citizen(citizen)) => Ok(PageCitizen(Some(citizen))),
                _ => Ok(PageCitizen(None)),
            }
        })
    }
}

/// The cookie that signs a citizen in on this site only (the token's audience is the site).
pub fn session_cookie(state: &AppState, token: String) -> Cookie<'static> {
    let max_age = i64::try_from(state.jwt.ttl_secs()).unwrap_or(i64::MAX);
    Cookie::build(SESSION_COOKIE, token)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure(state))
        .max_age(Duration::seconds(max_age))
        .finish()
}

/// Signs out the account of the request's session cookie everywhere (its token version moves
/// on, so every token issued to it so far is refused on every replica). No valid session:
/// nothing to do.
pub async fn sign_out(req: &HttpRequest, state: &AppState) -> Result<(), AppError> {
    let token = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string());
    let site = req.extensions().get::<Site>().cloned();
    if let (Some(token), Some(site)) = (token, site)
        && let Ok(claims) = state.jwt.verify(&token, &site.audience())
    {
        crate::app::auth::sign_out(state, &site, &claims).await?;
    }
    Ok(())
}

/// Expires the session cookie (sign out; [`sign_out`] revokes the token itself).
pub fn clear_session_cookie(state: &AppState) -> Cookie<'static> {
    let mut cookie = session_cookie(state, String::new());
    cookie.make_removal();
    cookie
}

/// The visitor's CSRF token. With a session cookie, the token is bound to it: an HMAC of the
/// session under the server's secret (#24), so a `csrf` cookie planted from a sibling host,
/// with the matching field, is worth nothing. Without one (the sign-in and register forms),
/// the double-submit cookie: the cookie's random token, or a fresh one the response sets.
#[derive(Debug, Clone)]
pub struct Csrf {
    token: String,
    /// The response must (re)set the `csrf` cookie to the token (kept equal to the form's
    /// field, for the pages' scripts and tests).
    set_cookie: bool,
    /// The token can be trusted when it comes back: bound to the session, or read from an
    /// existing cookie (a freshly made one cannot have been in a form of ours).
    trusted: bool,
}

impl Csrf {
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The form's field must equal the token, compared in constant time.
    pub fn verify(&self, sent: Option<&str>) -> Result<(), AppError> {
        let ok = self.trusted
            && sent.is_some_and(|s| constant_time_eq(s.as_bytes(), self.token.as_bytes()));
        if ok {
            Ok(())
        } else {
            Err(AppError::Forbidden(Msg::new(
                "Biểu mẫu đã hết hạn hoặc không hợp lệ. Vui lòng quay lại, tải lại trang rồi gửi lại.",
                "This form has expired or is not valid. Please go back, reload the page and send it again.",
            )))
        }
    }

    /// The check for a multipart form, made before its body is read: the token comes in the
    /// query string (`?csrf=`, the form's action carries it) or the `X-CSRF-Token` header, so
    /// a forged or anonymous upload is refused without reading a byte of its files.
    pub fn verify_before_body(&self, req: &actix_web::HttpRequest) -> Result<(), AppError> {
        let header = req
            .headers()
            .get("X-CSRF-Token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let query =
            web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
                .ok()
                .and_then(|q| q.get(CSRF_FIELD).cloned());
        self.verify(header.or(query).as_deref())
    }

    fn cookie(&self, state: &AppState) -> Option<Cookie<'static>> {
        self.set_cookie
            .then(|| csrf_cookie(state, self.token.clone()))
    }

    fn new_token() -> String {
        let bytes: [u8; 32] = rand::rng().random();
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}

fn csrf_cookie(state: &AppState, token: String) -> Cookie<'static> {
    Cookie::build(CSRF_COOKIE, token)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure(state))
        .finish()
}

/// The CSRF token bound to a session token.
fn bound_token(state: &AppState, session: &str) -> String {
    state.jwt.bind("csrf", session)
}

/// The CSRF cookie set with the session at sign-in: the token bound to the new session, so a
/// token planted in the browser or read before sign-in is worth nothing after it.
pub fn rotated_csrf_cookie(state: &AppState, session: &str) -> Cookie<'static> {
    csrf_cookie(state, bound_token(state, session))
}

impl FromRequest for Csrf {
    type Error = std::convert::Infallible;
    type Future = Ready<Result<Csrf, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let existing = req
            .cookie(CSRF_COOKIE)
            .map(|c| c.value().to_string())
            .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()));
        let session = req
            .cookie(SESSION_COOKIE)
            .map(|c| c.value().to_string())
            .filter(|v| !v.is_empty());
        let csrf = match (session, state(req)) {
            (Some(session), Ok(state)) => {
                let token = bound_token(&state, &session);
                Csrf {
                    set_cookie: existing.as_deref() != Some(token.as_str()),
                    token,
                    trusted: true,
                }
            }
            _ => match existing {
                Some(token) => Csrf {
                    token,
                    set_cookie: false,
                    trusted: true,
                },
                None => Csrf {
                    token: Csrf::new_token(),
                    set_cookie: true,
                    trusted: false,
                },
            },
        };
        ready(Ok(csrf))
    }
}

/// Equal contents, in time that depends only on the length.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Renders a page with its status, the CSRF cookie when the token is new, the `lang` cookie
/// when `?lang=` chose the language (so the choice sticks), and no caching: pages carry
/// personal data or a form token.
pub fn page<T: Template>(
    req: &HttpRequest,
    status: StatusCode,
    page: &T,
    csrf: &Csrf,
) -> Result<HttpResponse, AppError> {
    respond(req, status, page, Some(csrf))
}

/// [`page`] for a page without a POST form: no CSRF cookie.
pub fn page_without_form<T: Template>(
    req: &HttpRequest,
    status: StatusCode,
    page: &T,
) -> Result<HttpResponse, AppError> {
    respond(req, status, page, None)
}

/// A page's HTML, rendered.
pub fn render<T: Template>(page: &T) -> Result<String, AppError> {
    page.render()
        .map_err(|e| AppError::internal(format!("template: {e}")))
}

/// A page already rendered (`web::home_pages`), with the headers of [`page_without_form`]
/// (never a cookie: it is the same bytes for every visitor).
pub fn html(status: StatusCode, body: actix_web::web::Bytes) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((CACHE_CONTROL, "private, no-store"))
        .body(body)
}

fn respond<T: Template>(
    req: &HttpRequest,
    status: StatusCode,
    page: &T,
    csrf: Option<&Csrf>,
) -> Result<HttpResponse, AppError> {
    let html = render(page)?;
    let state = state(req)?;
    let mut res = HttpResponse::build(status);
    res.content_type("text/html; charset=utf-8")
        .insert_header((CACHE_CONTROL, "private, no-store"));
    if let Some(cookie) = csrf.and_then(|c| c.cookie(&state)) {
        res.cookie(cookie);
    }
    if let Some(cookie) = lang_cookie(req, &state) {
        res.cookie(cookie);
    }
    Ok(res.body(html))
}

/// `lang=<code>` for a year when the query asked for a language.
pub fn lang_cookie(req: &HttpRequest, state: &AppState) -> Option<Cookie<'static>> {
    let lang = req.query_string().split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == "lang").then(|| Lang::parse(v)).flatten()
    })?;
    Some(
        Cookie::build(LANG_COOKIE, lang.code())
            .path("/")
            .same_site(SameSite::Lax)
            .secure(secure(state))
            .max_age(Duration::days(365))
            .finish(),
    )
}

/// A 303 "see other" to a local path (after a POST, or to the next step).
pub fn see_other(path: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, safe_next(Some(path))))
        .finish()
}

/// The sign-in page, with the current path and query as the way back.
pub fn to_sign_in(req: &HttpRequest) -> HttpResponse {
    let here = match req.query_string() {
        "" => req.path().to_string(),
        q => format!("{}?{q}", req.path()),
    };
    sign_in_then(&here)
}

/// For a citizen's page on a province site: the national site's session first (#17.3: one
/// sign-in for every site), then, when the national site has none, this site's sign-in page.
/// The round trip is skipped while the `national_checked` cookie says it just answered "none".
pub fn to_citizen_sign_in(req: &HttpRequest) -> HttpResponse {
    let here = match req.query_string() {
        "" => req.path().to_string(),
        q => format!("{}?{q}", req.path()),
    };
    citizen_sign_in_then(req, &here)
}

/// [`to_citizen_sign_in`], coming back to `next` (for a POST whose path cannot be reopened).
pub fn citizen_sign_in_then(req: &HttpRequest, next: &str) -> HttpResponse {
    if req.cookie(NATIONAL_CHECKED_COOKIE).is_some() {
        return sign_in_then(next);
    }
    let location = format!(
        "{HANDOFF_START_PATH}?next={}",
        percent_encode(safe_next(Some(next)))
    );
    HttpResponse::SeeOther()
        .insert_header((LOCATION, location))
        .finish()
}

/// Where a province site starts a handoff from the national session (see `web::handoff`).
pub const HANDOFF_START_PATH: &str = "/auth/national";
/// Set on a province site for a few minutes after the national site said nobody is signed in
/// there, so each page that needs a sign-in does not ask again.
pub const NATIONAL_CHECKED_COOKIE: &str = "national_checked";

/// The verified claims of the request's `session` cookie on `site`, when it is a citizen's
/// (not checked against the account: the caller's action does that).
pub fn citizen_claims(req: &HttpRequest, state: &AppState, site: &Site) -> Option<Claims> {
    let token = req.cookie(SESSION_COOKIE)?;
    let claims = state.jwt.verify(token.value(), &site.audience()).ok()?;
    (claims.role == "citizen").then_some(claims)
}

/// The sign-in page, coming back to `next` (for a POST whose path cannot be reopened).
pub fn sign_in_then(next: &str) -> HttpResponse {
    let location = format!("/sign-in?next={}", percent_encode(safe_next(Some(next))));
    HttpResponse::SeeOther()
        .insert_header((LOCATION, location))
        .finish()
}

/// A return path that stays on this site: one leading `/`, not `//` or `/\` (which browsers
/// read as another host), printable ASCII only, bounded. Anything else becomes `/`.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && n.len() <= 1000
                && n.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            n
        }
        _ => "/",
    }
}

/// Percent-encodes everything but unreserved characters, for a query value.
pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "/\tx",
            "evil",
            "",
            "/a b",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
        assert_eq!(
            safe_next(Some("/procedures/GPLX-001/apply?x=1")),
            "/procedures/GPLX-001/apply?x=1"
        );
    }

    #[test]
    fn tokens_compare_by_content() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert_eq!(percent_encode("/a?b=c&d"), "/a%3Fb%3Dc%26d");
    }
}

/// The signed-in official or admin of this province, from the `session` cookie, read active
/// from the province's schema on every request (a deactivation stops the very next page).
/// `None` when nobody, or nobody still active, is signed in: pages answer [`to_sign_in`]. A
/// citizen's session is refused (403): these are not their pages.
#[derive(Debug, Clone)]
pub struct PageStaff(pub Option<crate::web::extract::StaffUser>);

impl FromRequest for PageStaff {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<PageStaff, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        use crate::web::extract::{Province, StaffUser};
        let token = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string());
        let site = req.extensions().get::<Site>().cloned();
        let province = Province::from_request(req, payload).into_inner();
        let state = state(req);
        Box::pin(async move {
            let province = province?;
            let (Some(token), Some(site)) = (token, site) else {
                return Ok(PageStaff(None));
            };
            let state = state?;
            let Ok(claims) = state.jwt.verify(&token, &site.audience()) else {
                return Ok(PageStaff(None));
            };
            if claims.role == "citizen" {
                return Err(AppError::forbidden());
            }
            let account = match crate::app::auth::resume(&state, &site, &claims).await? {
                Some(Account::Staff(account)) => Some(account),
                _ => None,
            };
            Ok(PageStaff(
                account.map(|account| StaffUser { account, province }),
            ))
        })
    }
}

/// [`PageStaff`] for the province admin's pages: an official (or a citizen) is refused (403).
#[derive(Debug, Clone)]
pub struct PageAdmin(pub Option<crate::web::extract::StaffUser>);

impl FromRequest for PageAdmin {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<PageAdmin, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let staff = PageStaff::from_request(req, payload);
        Box::pin(async move {
            let PageStaff(staff) = staff.await?;
            if staff
                .as_ref()
                .is_some_and(|s| s.account.role != crate::accounts::staff::StaffRole::Admin)
            {
                return Err(AppError::forbidden());
            }
            Ok(PageAdmin(staff))
        })
    }
}
