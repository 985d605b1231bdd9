//! A province's site: its home page, its look, public facts, and the citizen's API.

pub mod admin_api;
pub mod citizen_pages;
pub mod dossier_api;
pub mod manage_api;
pub mod queue_csv;
pub mod staff_pages;
mod upload_form;

use actix_web::{HttpResponse, get, web};
use serde::Serialize;

use crate::error::AppError;
use crate::tenancy::branding::Branding;
use crate::web::AppState;
use crate::web::extract::{Province, SiteToken};

pub fn routes(cfg: &mut web::ServiceConfig) {
    // The home page (`/`) is the catalog, among the citizen's pages.
    cfg.service(brand_stylesheet)
        .service(site_info)
        .service(who_am_i)
        .service(crate::web::citizen_auth::register_citizen)
        .route(
            "/api/v1/auth/token",
            web::post().to(crate::web::citizen_auth::citizen_token),
        )
        .configure(dossier_api::routes)
        .configure(manage_api::routes)
        .configure(admin_api::routes)
        .configure(crate::web::billing_api::province_routes)
        .configure(staff_pages::routes)
        .configure(citizen_pages::routes);
}

/// The signed-in account as the token says; a token of another site is refused (401).
#[get("/api/v1/me")]
async fn who_am_i(SiteToken(claims): SiteToken) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "id": claims.sub, "role": claims.role }))
}

/// The province's accent colour as a stylesheet, so pages carry no inline style.
#[get("/brand.css")]
async fn brand_stylesheet(
    province: Province,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let site = province.site(&state).await?;
    let branding = &site.branding;
    Ok(HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=60"))
        .body(format!(
            ":root{{--accent:{}}}\n",
            branding.accent_color.as_str()
        )))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SiteInfo {
    slug: String,
    name: String,
    url: String,
    branding: Branding,
}

/// Public facts for apps: who this province is and how it looks.
#[get("/api/v1/site")]
async fn site_info(
    province: Province,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let site = province.site(&state).await?;
    let branding = site.branding.clone();
    let host = format!("{}.{}", province.tenant.slug, state.registry.base_domain());
    Ok(HttpResponse::Ok().json(SiteInfo {
        slug: province.tenant.slug.clone(),
        name: province.tenant.name.clone(),
        url: state.settings.url_for_host(&host),
        branding,
    }))
}
