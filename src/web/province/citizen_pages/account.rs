//! Sign in, register and sign out with the national account; the session is a cookie that
//! holds a token for this province's site only.

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderValue, RETRY_AFTER};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use super::view::{ErrorLink, FieldView, error_links, field_errors};
use super::{CsrfForm, branding, layout};
use crate::accounts::citizens::{Citizen, NewCitizen};
use crate::error::{AppError, FieldErrors};
use crate::lang::{Lang, Msg};
use crate::tenancy::Site;
use crate::web::AppState;
use crate::web::citizen_auth::{SignedIn, sign_in};
use crate::web::extract::Province;
use crate::web::pages::{Layout, tr};
use crate::web::session::{
    self, Csrf, PageCitizen, clear_session_cookie, percent_encode, safe_next, session_cookie,
};

#[derive(Template)]
#[template(path = "citizen/sign_in.html")]
struct SignInPage {
    layout: Layout,
    errors: Vec<ErrorLink>,
    fields: Vec<FieldView>,
    next: String,
    /// `next`, encoded for the link to the other form.
    next_query: String,
    /// On a province site: "sign in with your national portal account" (#17.3).
    national_handoff: bool,
    /// National sign-in (VNeID, OpenID Connect) is configured.
    vneid: bool,
}

#[derive(Template)]
#[template(path = "citizen/register.html")]
struct RegisterPage {
    layout: Layout,
    errors: Vec<ErrorLink>,
    fields: Vec<FieldView>,
    next: String,
    next_query: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NextQuery {
    next: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AccountForm {
    csrf: Option<String>,
    full_name: String,
    email: String,
    password: String,
    next: Option<String>,
}

/// What a sign-in or registration page shows: the fields, their errors, the way back.
struct FormState<'a> {
    form: &'a AccountForm,
    errors: FieldErrors,
    status: StatusCode,
}

/// Where an account page is served: a province's site, in its branding, or the national
/// site. The same national account signs in on both.
#[derive(Clone, Copy)]
pub(crate) enum At<'a> {
    Province(&'a Province),
    National,
}

impl At<'_> {
    async fn layout(
        &self,
        req: &HttpRequest,
        csrf: &Csrf,
        who: Option<&Citizen>,
    ) -> Result<Layout, AppError> {
        Ok(match self {
            At::Province(province) => layout(req, &branding(req, province).await?, csrf, who),
            At::National => {
                Layout::national(req).with_session(csrf.token(), who.map(|c| c.full_name.as_str()))
            }
        })
    }
}

fn sign_in_fields(lang: Lang, s: &FormState<'_>) -> Vec<FieldView> {
    let err = |k: &str| s.errors.get(k).map(|m| m.get(lang).to_string());
    vec![
        FieldView::plain(
            "email",
            tr(lang, "email"),
            "email",
            "email",
            &s.form.email,
            err("email").as_deref(),
        ),
        FieldView::plain(
            "password",
            tr(lang, "password"),
            "password",
            "current-password",
            "",
            err("password").as_deref(),
        ),
    ]
}

fn register_fields(lang: Lang, s: &FormState<'_>) -> Vec<FieldView> {
    let err = |k: &str| s.errors.get(k).map(|m| m.get(lang).to_string());
    vec![
        FieldView::plain(
            "full_name",
            tr(lang, "full_name"),
            "text",
            "name",
            &s.form.full_name,
            err("full_name").as_deref(),
        ),
        FieldView::plain(
            "email",
            tr(lang, "email"),
            "email",
            "email",
            &s.form.email,
            err("email").as_deref(),
        ),
        FieldView::plain(
            "password",
            tr(lang, "password"),
            "password",
            "new-password",
            "",
            err("password").as_deref(),
        )
        .with_hint(tr(lang, "password_hint")),
    ]
}

/// Renders the registration page when `registering`, else the sign-in page.
async fn account_page(
    req: &HttpRequest,
    at: At<'_>,
    who: Option<&Citizen>,
    csrf: &Csrf,
    lang: Lang,
    s: FormState<'_>,
    registering: bool,
) -> Result<HttpResponse, AppError> {
    let next = safe_next(s.form.next.as_deref()).to_string();
    let next_query = percent_encode(&next);
    let layout = at.layout(req, csrf, who).await?;
    let vneid = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|state| state.national.is_some());
    let html = if registering {
        let page = RegisterPage {
            errors: error_links(&["full_name", "email", "password"], &s.errors, lang),
            fields: register_fields(lang, &s),
            layout,
            next,
            next_query,
        };
        session::page(req, s.status, &page, csrf)?
    } else {
        let page = SignInPage {
            errors: error_links(&["email", "password"], &s.errors, lang),
            fields: sign_in_fields(lang, &s),
            layout,
            next,
            next_query,
            national_handoff: matches!(at, At::Province(_)),
            vneid,
        };
        session::page(req, s.status, &page, csrf)?
    };
    Ok(html)
}

/// The sign-in or register page before anything was typed. Already signed in: on to `next`.
pub(crate) async fn empty_account_page(
    req: &HttpRequest,
    at: At<'_>,
    who: &PageCitizen,
    csrf: &Csrf,
    lang: Lang,
    query: NextQuery,
    register: bool,
) -> Result<HttpResponse, AppError> {
    if who.0.is_some() && matches!(at, At::National) {
        return Ok(session::see_other(safe_next(query.next.as_deref())));
    }
    let form = AccountForm {
        next: query.next,
        ..AccountForm::default()
    };
    let s = FormState {
        form: &form,
        errors: FieldErrors::new(),
        status: StatusCode::OK,
    };
    account_page(req, at, who.0.as_ref(), csrf, lang, s, register).await
}

#[get("/sign-in")]
pub async fn show_sign_in(
    req: HttpRequest,
    province: Province,
    who: PageCitizen,
    csrf: Csrf,
    lang: Lang,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, AppError> {
    let at = At::Province(&province);
    empty_account_page(&req, at, &who, &csrf, lang, query.into_inner(), false).await
}

#[post("/sign-in")]
pub async fn sign_in_citizen(
    req: HttpRequest,
    province: Province,
    site: Site,
    state: web::Data<AppState>,
    csrf: Csrf,
    lang: Lang,
    form: web::Form<AccountForm>,
) -> Result<HttpResponse, AppError> {
    let at = At::Province(&province);
    sign_in_form(&req, at, &site, &state, &csrf, lang, form.into_inner()).await
}

/// Signs in and returns to `next` (a local path only). Wrong credentials say so without
/// telling whether the email has an account; the lockout is shown with its 429.
pub(crate) async fn sign_in_form(
    req: &HttpRequest,
    at: At<'_>,
    site: &Site,
    state: &AppState,
    csrf: &Csrf,
    lang: Lang,
    form: AccountForm,
) -> Result<HttpResponse, AppError> {
    csrf.verify(form.csrf.as_deref())?;
    let mut errors = FieldErrors::new();
    if form.email.trim().is_empty() {
        errors.insert(
            "email".into(),
            Msg::new("Vui lòng nhập email.", "Enter your email address."),
        );
    }
    if form.password.is_empty() {
        errors.insert(
            "password".into(),
            Msg::new("Vui lòng nhập mật khẩu.", "Enter your password."),
        );
    }
    let mut status = StatusCode::UNPROCESSABLE_ENTITY;
    let mut retry_after = None;
    if errors.is_empty() {
        // The province's staff first, then national accounts, as the API's token does.
        let (email, given) = (form.email.clone(), form.password.clone());
        let found = sign_in(state, site, email, given).await;
        match found {
            Ok(who) => return signed_in(state, site, &who, form.next.as_deref()),
            Err(AppError::Unauthorized(_)) => {
                status = StatusCode::UNAUTHORIZED;
                errors.insert(
                    "email".into(),
                    Msg::new(
                        "Email hoặc mật khẩu không đúng.",
                        "The email or the password is not right.",
                    ),
                );
            }
            Err(AppError::TooMany {
                msg,
                retry_after_secs,
                ..
            }) => {
                status = StatusCode::TOO_MANY_REQUESTS;
                retry_after = Some(retry_after_secs);
                errors.insert("email".into(), msg);
            }
            Err(e) => return Err(e),
        }
    }
    let s = FormState {
        form: &form,
        errors,
        status,
    };
    let mut res = account_page(req, at, None, csrf, lang, s, false).await?;
    if let Some(secs) = retry_after {
        res.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    Ok(res)
}

/// The session cookie (carrying the role: citizen, official or admin) and the way back; staff
/// with nowhere particular to go land on their queue.
fn signed_in(
    state: &AppState,
    site: &Site,
    who: &SignedIn,
    next: Option<&str>,
) -> Result<HttpResponse, AppError> {
    let token = state.jwt.issue(
        &who.id.to_string(),
        &site.audience(),
        who.role,
        who.token_version,
    )?;
    let next = match safe_next(next) {
        "/" if who.role != "citizen" => "/manage",
        next => next,
    };
    let mut res = session::see_other(next);
    res.add_cookie(&session::rotated_csrf_cookie(state, &token))
        .map_err(|e| AppError::internal(format!("cookie: {e}")))?;
    res.add_cookie(&session_cookie(state, token))
        .map_err(|e| AppError::internal(format!("cookie: {e}")))?;
    Ok(res)
}

#[get("/register")]
pub async fn show_register(
    req: HttpRequest,
    province: Province,
    who: PageCitizen,
    csrf: Csrf,
    lang: Lang,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, AppError> {
    let at = At::Province(&province);
    empty_account_page(&req, at, &who, &csrf, lang, query.into_inner(), true).await
}

#[post("/register")]
pub async fn register_account(
    req: HttpRequest,
    province: Province,
    site: Site,
    state: web::Data<AppState>,
    csrf: Csrf,
    lang: Lang,
    form: web::Form<AccountForm>,
) -> Result<HttpResponse, AppError> {
    let at = At::Province(&province);
    register_form(&req, at, &site, &state, &csrf, lang, form.into_inner()).await
}

/// Creates the national account, signs in and returns to `next`.
pub(crate) async fn register_form(
    req: &HttpRequest,
    at: At<'_>,
    site: &Site,
    state: &AppState,
    csrf: &Csrf,
    lang: Lang,
    form: AccountForm,
) -> Result<HttpResponse, AppError> {
    csrf.verify(form.csrf.as_deref())?;
    let outcome = match NewCitizen::parse(&form.email, &form.password, &form.full_name) {
        Ok(new) => crate::app::auth::register(state, new).await,
        Err(e) => Err(e),
    };
    let (status, errors) = match outcome {
        Ok(citizen) => {
            let who = SignedIn {
                id: citizen.id.0,
                role: "citizen",
                token_version: 0,
            };
            return signed_in(state, site, &who, form.next.as_deref());
        }
        // The API answers 409 for a taken email too; the page says it where the email is.
        Err(AppError::Conflict { msg, .. }) => (
            StatusCode::CONFLICT,
            FieldErrors::from([("email".to_string(), msg)]),
        ),
        Err(e) => (StatusCode::UNPROCESSABLE_ENTITY, field_errors(e)?),
    };
    let s = FormState {
        form: &form,
        errors,
        status,
    };
    account_page(req, at, None, csrf, lang, s, true).await
}

/// Signs the account out on every device, replica and site (every token issued to it so far
/// stops working, the national site's and every province's), forgets the cookie and goes home.
#[post("/sign-out")]
pub async fn sign_out_citizen(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(form.csrf.as_deref())?;
    session::sign_out(&req, &state).await?;
    let mut res = session::see_other("/");
    res.add_cookie(&clear_session_cookie(&state))
        .map_err(|e| AppError::internal(format!("cookie: {e}")))?;
    Ok(res)
}
