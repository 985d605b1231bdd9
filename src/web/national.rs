//! The national site: the list of provinces with a search box (more comes with the
//! evaluation index).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::{Deserialize, Serialize};

use crate::catalog::fold_vietnamese;
use crate::error::AppError;
use crate::web::AppState;
use crate::web::pages::{Layout, NationalHomePage, ProvinceLink};
use crate::web::session;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(national_home)
        .service(list_provinces)
        .service(crate::web::citizen_auth::register_citizen)
        .route(
            "/api/v1/auth/token",
            web::post().to(crate::web::citizen_auth::citizen_token),
        );
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProvinceItem {
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

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SearchQuery {
    q: Option<String>,
}

/// `GET /` (`?q=` filters by name, ignoring case and diacritics: "quang ninh" finds
/// "Tỉnh Quảng Ninh"). Works without JavaScript: the box is a plain GET form.
#[get("/")]
async fn national_home(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, AppError> {
    let query: String = query
        .into_inner()
        .q
        .unwrap_or_default()
        .trim()
        .chars()
        .take(100)
        .collect();
    let folded = fold_vietnamese(&query);
    let words: Vec<&str> = folded.split_whitespace().collect();
    let layout = Layout::national(&req);
    let page = NationalHomePage {
        provinces: provinces(&state)
            .into_iter()
            .filter(|p| {
                let name = fold_vietnamese(&format!("{} {}", p.name, p.slug.replace('-', " ")));
                words.iter().all(|w| name.contains(w))
            })
            .map(|p| ProvinceLink {
                name: p.name,
                url: p.url,
            })
            .collect(),
        query,
        layout,
    };
    session::page_without_form(&req, StatusCode::OK, &page)
}
