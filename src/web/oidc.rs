//! National sign-in by OpenID Connect (#17.1), HTTP only: `GET /auth/oidc/start` sends the
//! browser to the identity provider, `GET /auth/oidc/callback` completes the sign-in on the
//! site it started from (the national host, or a province host for a step-up or a deep link).
//! The flow (`state`, `nonce`, PKCE verifier, level, way back) travels in a signed, short-lived,
//! HttpOnly cookie limited to `/auth/oidc` on this host; the protocol is in
//! `accounts::national`, the account in `app::auth::national_sign_in`.

use actix_web::cookie::{Cookie, SameSite, time::Duration};
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, LOCATION};
use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;
use serde::Deserialize;

use crate::accounts::national::{Flow, SignInError};
use crate::error::AppError;
use crate::lang::{Lang, Msg};
use crate::tenancy::Site;
use crate::web::AppState;
use crate::web::pages::{ErrorPage, Layout};
use crate::web::session::{self, constant_time_eq, safe_next, session_cookie};

pub const FLOW_COOKIE: &str = "oidc_flow";
const FLOW_PATH: &str = "/auth/oidc";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(start_oidc).service(oidc_callback);
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StartQuery {
    level: Option<String>,
    next: Option<String>,
}

/// The public address of this site, where the provider sends the browser back.
fn callback_uri(state: &AppState, site: &Site) -> Result<String, AppError> {
    let base = match site {
        Site::National => state.settings.url_for_host(state.registry.base_domain()),
        Site::Province(tenant) => state.province_url(tenant),
        Site::Operator => return Err(AppError::NotFound),
    };
    Ok(format!("{base}{FLOW_PATH}/callback"))
}

/// `GET /auth/oidc/start?level=1|2&next=PATH` → 302 to the provider. 404 when national
/// sign-in is off; a provider that cannot be reached: a page saying so (503).
#[get("/auth/oidc/start")]
async fn start_oidc(
    req: HttpRequest,
    site: Site,
    state: web::Data<AppState>,
    query: web::Query<StartQuery>,
) -> Result<HttpResponse, AppError> {
    let Some(provider) = state.national.clone() else {
        return Err(AppError::NotFound);
    };
    let level = match query.level.as_deref() {
        None | Some("1") => 1,
        Some("2") => 2,
        Some(_) => {
            return Err(AppError::bad_request(
                "malformed",
                Msg::new(
                    "Mức định danh chỉ có thể là 1 hoặc 2.",
                    "The assurance level is 1 or 2.",
                ),
            ));
        }
    };
    let next = safe_next(query.next.as_deref()).to_string();
    let redirect_uri = callback_uri(&state, &site)?;
    match provider.start(level, &next, &redirect_uri).await {
        Ok((url, flow)) => {
            let mut res = HttpResponse::Found();
            res.insert_header((LOCATION, url))
                .insert_header((CACHE_CONTROL, "no-store"))
                .cookie(flow_cookie(&state, &flow)?);
            Ok(res.finish())
        }
        Err(e) => Ok(failure_page(&req, &e)),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /auth/oidc/callback?code=&state=`: checks the flow and `state`, trades the code, checks
/// the ID token, signs the citizen in on this site at the level the provider vouched for and
/// returns to the flow's `next`. Any refusal: a page, no session, nothing created. The flow
/// cookie is spent either way.
#[get("/auth/oidc/callback")]
async fn oidc_callback(
    req: HttpRequest,
    site: Site,
    state: web::Data<AppState>,
    query: web::Query<CallbackQuery>,
) -> Result<HttpResponse, AppError> {
    if state.national.is_none() {
        return Err(AppError::NotFound);
    }
    let query = query.into_inner();
    let mut res = match complete(&req, &site, &state, query).await {
        Ok(res) => res,
        Err(Failure::SignIn(e)) => failure_page(&req, &e),
        Err(Failure::App(e)) => crate::web::pages::error_page(&req, &e, Lang::of(&req)),
    };
    res.add_cookie(&spent_flow_cookie(&state))
        .map_err(|e| AppError::internal(format!("cookie: {e}")))?;
    Ok(res)
}

enum Failure {
    SignIn(SignInError),
    App(AppError),
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Failure {
        Failure::App(e)
    }
}

fn refused(why: &str) -> Failure {
    Failure::SignIn(SignInError::Refused(why.to_string()))
}

async fn complete(
    req: &HttpRequest,
    site: &Site,
    state: &AppState,
    query: CallbackQuery,
) -> Result<HttpResponse, Failure> {
    let provider = state.national.clone().ok_or(AppError::NotFound)?;
    let flow = read_flow(req, state).ok_or_else(|| refused("no valid flow cookie"))?;
    if flow.exp < chrono::Utc::now().timestamp() {
        return Err(refused("flow expired"));
    }
    if flow.redirect_uri != callback_uri(state, site)? {
        return Err(refused("flow started on another site"));
    }
    if let Some(error) = query.error {
        return Err(refused(&format!("provider said {error:?}")));
    }
    let given_state = query.state.unwrap_or_default();
    if !constant_time_eq(given_state.as_bytes(), flow.state.as_bytes()) {
        return Err(refused("state does not match"));
    }
    let code = query.code.filter(|c| !c.is_empty() && c.len() <= 2048);
    let code = code.ok_or_else(|| refused("no code"))?;
    let verified = provider
        .finish(&code, &flow)
        .await
        .map_err(Failure::SignIn)?;
    let who = crate::app::auth::national_sign_in(state, verified.identity).await?;
    let token = state.jwt.issue_at_level(
        &who.id.to_string(),
        &site.audience(),
        who.role,
        who.token_version,
        verified.level,
    )?;
    let mut res = session::see_other(safe_next(Some(&flow.next)));
    res.add_cookie(&session::rotated_csrf_cookie(state, &token))
        .map_err(|e| AppError::internal(format!("cookie: {e}")))?;
    res.add_cookie(&session_cookie(state, token))
        .map_err(|e| AppError::internal(format!("cookie: {e}")))?;
    Ok(res)
}

/// The flow as a cookie value: hex of its JSON, a dot, and the server's MAC of that.
fn flow_cookie(state: &AppState, flow: &Flow) -> Result<Cookie<'static>, AppError> {
    let json = serde_json::to_vec(flow).map_err(|e| AppError::internal(format!("flow: {e}")))?;
    let body: String = json.iter().map(|b| format!("{b:02x}")).collect();
    let mac = state.jwt.bind("oidc-flow", &body);
    let ttl = state.settings.oidc.flow_ttl_secs.max(1);
    Ok(Cookie::build(FLOW_COOKIE, format!("{body}.{mac}"))
        .path(FLOW_PATH)
        .http_only(true)
        // Lax: the provider's redirect back is a top-level GET from another site.
        .same_site(SameSite::Lax)
        .secure(state.settings.server.public_scheme == "https")
        .max_age(Duration::seconds(ttl))
        .finish())
}

fn spent_flow_cookie(state: &AppState) -> Cookie<'static> {
    let mut c = Cookie::build(FLOW_COOKIE, "")
        .path(FLOW_PATH)
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.settings.server.public_scheme == "https")
        .finish();
    c.make_removal();
    c
}

/// The flow of the request's cookie when its MAC is ours.
fn read_flow(req: &HttpRequest, state: &AppState) -> Option<Flow> {
    let cookie = req.cookie(FLOW_COOKIE)?;
    let (body, mac) = cookie.value().split_once('.')?;
    let expected = state.jwt.bind("oidc-flow", body);
    if !constant_time_eq(mac.as_bytes(), expected.as_bytes()) || body.len() % 2 != 0 {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..body.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(body.get(i..i + 2)?, 16).ok())
        .collect();
    serde_json::from_slice(&bytes?).ok()
}

/// A clear page for a sign-in that did not complete; the reason is logged, not shown.
fn failure_page(req: &HttpRequest, e: &SignInError) -> HttpResponse {
    let (status, msg) = match e {
        SignInError::Unavailable(why) => {
            tracing::warn!(reason = %why, "national sign-in: identity provider unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Msg::new(
                    "Hệ thống định danh điện tử quốc gia (VNeID) hiện không phản hồi. Vui lòng thử lại sau ít phút. \
                     Nếu tài khoản của bạn có mật khẩu, bạn vẫn có thể đăng nhập bằng email và mật khẩu.",
                    "The national electronic identity service (VNeID) is not answering right now. Please try again \
                     in a few minutes. If your account has a password, you can still sign in with your email and password.",
                ),
            )
        }
        SignInError::Refused(why) => {
            tracing::warn!(reason = %why, "national sign-in refused");
            (
                StatusCode::BAD_REQUEST,
                Msg::new(
                    "Không thể hoàn tất đăng nhập bằng định danh điện tử: phiên đăng nhập đã hết hạn, đã được dùng, \
                     hoặc thông tin trả về không hợp lệ. Bạn chưa được đăng nhập và không có tài khoản nào được tạo. \
                     Vui lòng bắt đầu đăng nhập lại.",
                    "National sign-in could not be completed: the sign-in expired, was already used, or the answer \
                     was not valid. You are not signed in and no account was created. Please start the sign-in again.",
                ),
            )
        }
    };
    let lang = Lang::of(req);
    let page = ErrorPage {
        layout: Layout::national(req),
        status: status.as_u16(),
        message: msg.get(lang).to_string(),
        other_message: None,
    };
    let mut res = HttpResponse::build(status);
    res.insert_header((CACHE_CONTROL, "no-store"));
    if status == StatusCode::SERVICE_UNAVAILABLE {
        res.insert_header(("Retry-After", "60"));
    }
    match page.render() {
        Ok(html) => res.content_type("text/html; charset=utf-8").body(html),
        Err(_) => res
            .content_type("text/plain; charset=utf-8")
            .body(page.message),
    }
}
