//! The citizen's pages on the national site (#17.3, #17.4): sign in (password or VNeID),
//! register, sign out, and "my dossiers" across every province. The forms are the provinces'
//! own (`citizen_pages::account`), served here in the national layout.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;

use crate::app;
use crate::dossiers::status::Status;
use crate::error::AppError;
use crate::lang::Lang;
use crate::tenancy::Site;
use crate::web::AppState;
use crate::web::pages::Layout;
use crate::web::province::citizen_pages::account::{self, AccountForm, At, NextQuery};
use crate::web::province::citizen_pages::view::{date, local_time};
use crate::web::session::{self, Csrf, HANDOFF_START_PATH, PageCitizen, percent_encode};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(show_sign_in)
        .service(sign_in)
        .service(show_register)
        .service(register)
        .service(account::sign_out_citizen)
        .service(my_dossiers);
}

#[get("/sign-in")]
async fn show_sign_in(
    req: HttpRequest,
    who: PageCitizen,
    csrf: Csrf,
    lang: Lang,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, AppError> {
    account::empty_account_page(
        &req,
        At::National,
        &who,
        &csrf,
        lang,
        query.into_inner(),
        false,
    )
    .await
}

#[post("/sign-in")]
async fn sign_in(
    req: HttpRequest,
    site: Site,
    state: web::Data<AppState>,
    csrf: Csrf,
    lang: Lang,
    form: web::Form<AccountForm>,
) -> Result<HttpResponse, AppError> {
    account::sign_in_form(
        &req,
        At::National,
        &site,
        &state,
        &csrf,
        lang,
        form.into_inner(),
    )
    .await
}

#[get("/register")]
async fn show_register(
    req: HttpRequest,
    who: PageCitizen,
    csrf: Csrf,
    lang: Lang,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, AppError> {
    account::empty_account_page(
        &req,
        At::National,
        &who,
        &csrf,
        lang,
        query.into_inner(),
        true,
    )
    .await
}

#[post("/register")]
async fn register(
    req: HttpRequest,
    site: Site,
    state: web::Data<AppState>,
    csrf: Csrf,
    lang: Lang,
    form: web::Form<AccountForm>,
) -> Result<HttpResponse, AppError> {
    account::register_form(
        &req,
        At::National,
        &site,
        &state,
        &csrf,
        lang,
        form.into_inner(),
    )
    .await
}

struct Line {
    code: String,
    province_name: String,
    unit_name: String,
    procedure: String,
    status: String,
    status_key: String,
    submitted: String,
    due: String,
    /// The dossier's page on its province's site, through the handoff: the citizen arrives
    /// signed in there.
    href: String,
}

#[derive(Template)]
#[template(path = "national_dossiers.html")]
struct MyDossiersPage {
    layout: Layout,
    dossiers: Vec<Line>,
}

/// `GET /dossiers`: every dossier of the account in every province, newest first (the same
/// action as `GET /api/v1/me/dossiers`).
#[get("/dossiers")]
async fn my_dossiers(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: PageCitizen,
    csrf: Csrf,
    lang: Lang,
) -> Result<HttpResponse, AppError> {
    let Some(citizen) = who.0 else {
        return Ok(session::to_sign_in(&req));
    };
    let mine = app::national::my_dossiers(&state, citizen.id, lang).await?;
    let base = state.registry.base_domain();
    let dossiers = mine
        .dossiers
        .into_iter()
        .map(|d| {
            let status = Status::parse(&d.status).ok();
            let unit_name = d.unit_name.unwrap_or_default();
            let next = format!("/dossiers/{}", d.tracking_code);
            Line {
                href: format!(
                    "{}{HANDOFF_START_PATH}?next={}",
                    state
                        .settings
                        .url_for_host(&format!("{}.{base}", d.province)),
                    percent_encode(&next)
                ),
                province_name: d.province_name,
                unit_name,
                procedure: d.procedure_name,
                status: status
                    .map(|s| s.label(lang))
                    .unwrap_or_default()
                    .to_string(),
                status_key: d.status,
                submitted: local_time(d.submitted_at),
                due: d.due_on.map(date).unwrap_or_default(),
                code: d.tracking_code,
            }
        })
        .collect();
    let page = MyDossiersPage {
        layout: Layout::national(&req).with_session(csrf.token(), Some(&citizen.full_name)),
        dossiers,
    };
    session::page(&req, StatusCode::OK, &page, &csrf)
}
