//! The province's home (its catalog, with search) and one procedure's page.

use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, get, web};
use askama::Template;
use serde::Deserialize;

use super::layout;
use super::view::{self, procedure_card};
use crate::accounts::citizens::Citizen;
use crate::catalog;
use crate::error::AppError;
use crate::lang::Lang;
use crate::tenancy::site_cache::SiteData;
use crate::web::AppState;
use crate::web::extract::Province;
use crate::web::pages::{Layout, ProcedureGroup, ProvinceHomePage};
use crate::web::session::{self, Csrf, PageCitizen};

#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
}

/// `GET /` (`?q=` searches): the enabled procedures, by group. Anonymous and without a
/// query, the page is the province's pre-rendered one (`web::home_pages`); only a signed-in
/// citizen's page has a form (sign-out), so only it sets the CSRF cookie.
#[get("/")]
pub async fn show_home(
    req: HttpRequest,
    province: Province,
    lang: Lang,
    query: web::Query<SearchQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let site = province.site(&state).await?;
    let query: String = query
        .into_inner()
        .q
        .unwrap_or_default()
        .trim()
        .chars()
        .take(100)
        .collect();
    if req.cookie(session::SESSION_COOKIE).is_none() {
        if req.query_string().is_empty() {
            let html =
                state
                    .home_pages
                    .get_or_render(&province.tenant.schema, lang, &site, || {
                        session::render(&home_page(&req, &site, lang, query, None, ""))
                    })?;
            return Ok(session::html(StatusCode::OK, html));
        }
        let page = home_page(&req, &site, lang, query, None, "");
        return session::page_without_form(&req, StatusCode::OK, &page);
    }
    let PageCitizen(who) = PageCitizen::extract(&req).await?;
    let Ok(csrf) = Csrf::extract(&req).await;
    let page = home_page(&req, &site, lang, query, who.as_ref(), csrf.token());
    match who {
        Some(_) => session::page(&req, StatusCode::OK, &page, &csrf),
        None => session::page_without_form(&req, StatusCode::OK, &page),
    }
}

/// The home page's content: the search's hits or the catalog by group, for `who` (with the
/// sign-out form's token) or for anybody.
fn home_page(
    req: &HttpRequest,
    site: &SiteData,
    lang: Lang,
    query: String,
    who: Option<&Citizen>,
    csrf: &str,
) -> ProvinceHomePage {
    let national = catalog::national();
    let enabled = |code: &str| site.enabled(code);
    let results = (!query.is_empty()).then(|| {
        national
            .search(&query, lang)
            .into_iter()
            .filter(|p| enabled(&p.code))
            .map(|p| procedure_card(p, lang))
            .collect()
    });
    let groups = national
        .groups()
        .into_iter()
        .map(|(group, procedures)| ProcedureGroup {
            name: group.get(lang).to_string(),
            procedures: procedures
                .into_iter()
                .filter(|p| enabled(&p.code))
                .map(|p| procedure_card(p, lang))
                .collect(),
        })
        .filter(|g| !g.procedures.is_empty())
        .collect();
    ProvinceHomePage {
        layout: Layout::province(req, &site.branding.display_name, &site.branding)
            .with_session(csrf, who.map(|c| c.full_name.as_str())),
        branding: site.branding.clone(),
        query,
        groups,
        results,
    }
}

#[derive(Template)]
#[template(path = "citizen/procedure.html")]
struct ProcedurePage {
    layout: Layout,
    code: String,
    name: String,
    level: u8,
    /// For a procedure that needs national sign-in at level 2: the row's label and text.
    assurance: Option<(String, String)>,
    fee: String,
    days: u32,
    agency: String,
    documents: Vec<String>,
    /// The files the form asks for, with their limits.
    uploads: Vec<String>,
}

/// `GET /procedures/{code}`: what the citizen needs before starting.
#[get("/procedures/{code}")]
pub async fn show_procedure(
    req: HttpRequest,
    province: Province,
    who: PageCitizen,
    csrf: Csrf,
    lang: Lang,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let code = code.into_inner();
    let site = province.site(&state).await?;
    let p = catalog::national()
        .get(&code)
        .filter(|p| site.enabled(&p.code))
        .ok_or(AppError::NotFound)?;
    let branding = &site.branding;
    let uploads = p
        .file_fields()
        .map(|f| match &f.kind {
            catalog::FieldKind::File { accept, max_bytes } => format!(
                "{} ({}, {} {})",
                f.label.get(lang),
                view::type_names(accept),
                crate::web::pages::tr(lang, "at_most"),
                view::human_size((*max_bytes).min(state.settings.storage.max_upload_bytes))
            ),
            _ => f.label.get(lang).to_string(),
        })
        .collect();
    let page = ProcedurePage {
        layout: layout(&req, branding, &csrf, who.0.as_ref()),
        code: p.code.clone(),
        name: p.name.get(lang).to_string(),
        level: p.level,
        assurance: (p.assurance_level > 1).then(|| {
            let label = crate::lang::Msg::new("Đăng nhập", "Sign-in");
            let text = crate::lang::Msg::owned(
                format!(
                    "Cần đăng nhập bằng tài khoản định danh điện tử (VNeID) mức {}",
                    p.assurance_level
                ),
                format!(
                    "Needs sign-in with the national electronic identity (VNeID) at level {}",
                    p.assurance_level
                ),
            );
            (label.get(lang).to_string(), text.get(lang).to_string())
        }),
        fee: view::vnd(p.fee_vnd, lang),
        days: p.processing_days,
        agency: p.agency.get(lang).to_string(),
        documents: p
            .documents
            .iter()
            .map(|d| d.get(lang).to_string())
            .collect(),
        uploads,
    };
    session::page(&req, StatusCode::OK, &page, &csrf)
}
