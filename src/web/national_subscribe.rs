//! The national site's form for a province or commune to request the service.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use crate::app::leasing::SubscriptionRequest;
use crate::error::{AppError, FieldErrors};
use crate::lang::Lang;
use crate::leasing::plans::Plan;
use crate::web::AppState;
use crate::web::pages::Layout;
use crate::web::session::{self, Csrf};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(show_subscribe).service(submit_subscribe);
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
