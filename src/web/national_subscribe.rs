//! The national site's form for a province or commune to request the service.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use crate::app::leasing::SubscriptionRequest;
use crate::error::{AppError, FieldErrors};
use crate::lang::Lang;
use crate::leasing::plans::Plan;
use crate::leasing::subscriptions::Request;
use crate::web::AppState;
use crate::web::client_addr::ClientAddr;
use crate::web::pages::Layout;
use crate::web::session::{self, Csrf};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(show_subscribe)
        .service(submit_subscribe)
        .service(show_verify)
        .service(submit_verify);
}

#[derive(Debug, Default, Deserialize)]
pub struct SubscribeForm {
    csrf: Option<String>,
    #[serde(default)]
    province_name: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    contact_email: String,
    #[serde(default)]
    plan: String,
}

#[derive(Template)]
#[template(path = "subscribe.html")]
struct SubscribePage {
    layout: Layout,
    form: SubscribeForm,
    plans: Vec<Plan>,
    /// (field, message) in the page's language.
    errors: Vec<(String, String)>,
    done: bool,
}

impl SubscribePage {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

async fn render(
    req: &HttpRequest,
    state: &AppState,
    csrf: &Csrf,
    form: SubscribeForm,
    errors: Vec<(String, String)>,
    done: bool,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let plans = crate::app::leasing::plans(state).await?;
    let layout = Layout::national(req).with_session(csrf.token(), None);
    session::page(
        req,
        status,
        &SubscribePage {
            layout,
            form,
            plans,
            errors,
            done,
        },
        csrf,
    )
}

#[get("/subscribe")]
async fn show_subscribe(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
) -> Result<HttpResponse, AppError> {
    let form = SubscribeForm {
        plan: "standard".into(),
        ..SubscribeForm::default()
    };
    render(&req, &state, &csrf, form, Vec::new(), false, StatusCode::OK).await
}

#[post("/subscribe")]
async fn submit_subscribe(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    lang: Lang,
    client: ClientAddr,
    form: web::Form<SubscribeForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    csrf.verify(form.csrf.as_deref())?;
    // The slug as typed, like the API: one with spaces is refused on both.
    let request = SubscriptionRequest {
        province_name: form.province_name.clone(),
        slug: form.slug.clone(),
        contact_email: form.contact_email.clone(),
        plan: form.plan.clone(),
        client: client.0,
    };
    let app = state.app.clone();
    let created =
        crate::web::in_span(move || crate::app::leasing::request_subscription(&app, &request))
            .await?;
    let show = |fields: FieldErrors| {
        fields
            .into_iter()
            .map(|(k, m)| (k, m.get(lang).to_string()))
            .collect::<Vec<_>>()
    };
    match created {
        Ok(_) => {
            render(
                &req,
                &state,
                &csrf,
                form,
                Vec::new(),
                true,
                StatusCode::ACCEPTED,
            )
            .await
        }
        Err(AppError::Invalid(fields)) => {
            render(
                &req,
                &state,
                &csrf,
                form,
                show(fields),
                false,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(AppError::TooMany {
            msg,
            retry_after_secs,
            ..
        }) => {
            let mut res = render(
                &req,
                &state,
                &csrf,
                form,
                vec![("contact_email".into(), msg.get(lang).to_string())],
                false,
                StatusCode::TOO_MANY_REQUESTS,
            )
            .await?;
            res.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from(retry_after_secs),
            );
            Ok(res)
        }
        Err(AppError::Conflict { msg, .. }) => {
            render(
                &req,
                &state,
                &csrf,
                form,
                vec![("slug".into(), msg.get(lang).to_string())],
                false,
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "subscribe_verify.html")]
struct VerifyPage {
    layout: Layout,
    /// The request to confirm, while the link is live and unconfirmed.
    request: Option<Request>,
    action: String,
    message: Option<String>,
}

fn verify_page(
    req: &HttpRequest,
    csrf: &Csrf,
    status: StatusCode,
    request: Option<Request>,
    token: &str,
    message: Option<String>,
) -> Result<HttpResponse, AppError> {
    let layout = Layout::national(req).with_session(csrf.token(), None);
    let page = VerifyPage {
        layout,
        request,
        action: format!("/subscribe/verify/{token}"),
        message,
    };
    session::page(req, status, &page, csrf)
}

/// The link mailed to the contact address: shows the request and a button. Opening the link
/// confirms nothing (mail scanners open links); the button's POST does.
#[get("/subscribe/verify/{token}")]
async fn show_verify(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    lang: Lang,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    match crate::app::leasing::subscription_to_verify(&state.app, token.clone()).await {
        Ok(r) => verify_page(&req, &csrf, StatusCode::OK, Some(r), &token, None),
        Err(AppError::NotFound) => {
            let gone = crate::web::pages::tr(lang, "sub_verify_gone").to_string();
            verify_page(&req, &csrf, StatusCode::NOT_FOUND, None, &token, Some(gone))
        }
        Err(e) => Err(e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct VerifyForm {
    csrf: Option<String>,
}

/// Confirms the request: the operator sees it from now on, and it holds its slug.
#[post("/subscribe/verify/{token}")]
async fn submit_verify(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    lang: Lang,
    token: web::Path<String>,
    form: web::Form<VerifyForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(form.csrf.as_deref())?;
    let token = token.into_inner();
    let (app, t) = (state.app.clone(), token.clone());
    let done =
        crate::web::in_span(move || crate::app::leasing::verify_subscription(&app, &t)).await?;
    match done {
        Ok(_) => {
            let msg = crate::web::pages::tr(lang, "sub_verified").to_string();
            verify_page(&req, &csrf, StatusCode::OK, None, &token, Some(msg))
        }
        Err(AppError::NotFound) => {
            let gone = crate::web::pages::tr(lang, "sub_verify_gone").to_string();
            verify_page(&req, &csrf, StatusCode::NOT_FOUND, None, &token, Some(gone))
        }
        Err(AppError::Conflict { msg, .. }) => verify_page(
            &req,
            &csrf,
            StatusCode::CONFLICT,
            None,
            &token,
            Some(msg.get(lang).to_string()),
        ),
        Err(e) => Err(e),
    }
}
