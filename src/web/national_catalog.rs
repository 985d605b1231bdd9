//! The national catalog (#17.5): procedures of every province on the national home's search
//! and the full list (`/procedures`), and "where can I file this" (`/procedures/{code}`, and
//! `GET /api/v1/procedures/{code}/where`): the provinces that offer a procedure and, in each,
//! the units that decide it, with a link to the province's own page for it.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;

use crate::app::{self, national_catalog::WhereToFile};
use crate::catalog::{self, Procedure};
use crate::error::AppError;
use crate::lang::Lang;
use crate::tenancy::Tenant;
use crate::web::AppState;
use crate::web::pages::{Layout, NationalProcedureCard};
use crate::web::province::citizen_pages::view::vnd;
use crate::web::session;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_procedures)
        .service(where_page)
        .service(where_api);
}

fn card(p: &Procedure, provinces: usize, lang: Lang) -> NationalProcedureCard {
    NationalProcedureCard {
        code: p.code.clone(),
        name: p.name.get(lang).to_string(),
        field: p.group.get(lang).to_string(),
        decided_at: p.decided_at.label().get(lang).to_string(),
        level: p.level,
        fee: vnd(p.fee_vnd, lang),
        provinces,
    }
}

/// The national home's search: the provinces it names and the procedures it finds, each with
/// how many provinces offer it (`app::national::search`: cached switches, no query per
/// province once warm).
pub async fn search(
    state: &AppState,
    query: &str,
    lang: Lang,
) -> Result<(Vec<Arc<Tenant>>, Vec<NationalProcedureCard>), AppError> {
    let found = app::national::search(state, query, lang).await?;
    let provinces = state
        .registry
        .active()
        .into_iter()
        .filter(|t| found.provinces.iter().any(|p| p.slug == t.slug))
        .collect();
    let procedures = found
        .procedures
        .iter()
        .filter_map(|f| {
            catalog::national()
                .get(&f.code)
                .map(|p| card(p, f.provinces.len(), lang))
        })
        .collect();
    Ok((provinces, procedures))
}

#[derive(Template)]
#[template(path = "national_procedures.html")]
struct ProceduresPage {
    layout: Layout,
    procedures: Vec<NationalProcedureCard>,
}

/// `GET /procedures`: every procedure of the catalog, with how many provinces offer it.
#[get("/procedures")]
async fn list_procedures(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let layout = Layout::national(&req);
    let all: Vec<&Procedure> = catalog::national().all().iter().collect();
    let offered = app::national_catalog::offering(&state, &all).await?;
    let procedures = all
        .iter()
        .zip(&offered)
        .map(|(p, provinces)| card(p, provinces.len(), layout.lang))
        .collect();
    session::page_without_form(&req, StatusCode::OK, &ProceduresPage { layout, procedures })
}

/// A province on the "where" page: its name, the link to its page for the procedure, and the
/// units that decide it there.
struct ProvinceOffer {
    name: String,
    url: String,
    units: Vec<String>,
}

#[derive(Template)]
#[template(path = "national_procedure.html")]
struct WherePage {
    layout: Layout,
    card: NationalProcedureCard,
    days: u32,
    agency: String,
    /// Commune-level procedures: every commune of a province decides them, so the page folds
    /// the (long) list away.
    commune_level: bool,
    provinces: Vec<ProvinceOffer>,
}

/// `GET /procedures/{code}`: "where can I file this".
#[get("/procedures/{code}")]
async fn where_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let layout = Layout::national(&req);
    let lang = layout.lang;
    let found: WhereToFile = app::national_catalog::where_to_file(&state, &code, lang).await?;
    let p = catalog::national()
        .get(&found.code)
        .ok_or(AppError::NotFound)?;
    let base = state.registry.base_domain();
    let provinces = found
        .provinces
        .into_iter()
        .map(|o| ProvinceOffer {
            url: state.settings.url_for_host(&format!("{}.{base}", o.slug))
                + &format!("/procedures/{}", p.code),
            name: o.name,
            units: o.units.into_iter().map(|u| u.name).collect(),
        })
        .collect::<Vec<_>>();
    let page = WherePage {
        card: card(p, provinces.len(), lang),
        days: p.processing_days,
        agency: p.agency.get(lang).to_string(),
        commune_level: p.decided_at == catalog::DecisionLevel::Commune,
        provinces,
        layout,
    };
    session::page_without_form(&req, StatusCode::OK, &page)
}

/// `GET /api/v1/procedures/{code}/where` → `{code, name, provinces: [{slug, name, units:
/// [{code, name}]}]}`; an unknown code is 404.
#[get("/api/v1/procedures/{code}/where")]
async fn where_api(
    state: web::Data<AppState>,
    lang: Lang,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let found = app::national_catalog::where_to_file(&state, &code, lang).await?;
    Ok(HttpResponse::Ok().json(found))
}
