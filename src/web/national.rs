//! The national site: the list of provinces (more comes with the evaluation index).

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Serialize;

use crate::error::AppError;
use crate::state::AppState;
use crate::web::pages::{self, Layout, NationalHomePage, ProvinceLink};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(national_home)
        .service(list_provinces)
        .service(crate::web::citizen_auth::register_citizen)
        .route(
            "/api/v1/auth/token",
            web::post().to(crate::web::citizen_auth::citizen_token),
        );
}

#[derive(Debug, Serialize)]
struct ProvinceItem {
    slug: String,
    name: String,
    url: String,
}

fn provinces(state: &AppState) -> Vec<ProvinceItem> {
    let base = state.registry.base_domain();
    state
        .registry
        .active()
        .iter()
        .map(|t| ProvinceItem {
            slug: t.slug.clone(),
            name: t.name.clone(),
            url: state.settings.url_for_host(&format!("{}.{base}", t.slug)),
        })
        .collect()
}

#[get("/api/v1/provinces")]
async fn list_provinces(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(provinces(&state))
}

#[get("/")]
async fn national_home(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let layout = Layout::national(&req);
    let page = NationalHomePage {
        provinces: provinces(&state)
            .into_iter()
            .map(|p| ProvinceLink {
                name: p.name,
                url: p.url,
            })
            .collect(),
        layout,
    };
    pages::render(&page)
}
