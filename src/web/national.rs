//! The national site: the list of provinces with a search box (more comes with the
//! evaluation index).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};

use crate::app;
use crate::dossiers::tracking;
use crate::error::AppError;
use crate::lang::Lang;
use crate::web::AppState;
use crate::web::client_addr::ClientAddr;
use crate::web::extract::CitizenToken;
// The province's tracking inputs, read the same way on the national host.
use crate::web::pages::{Layout, NationalHomePage, ProvinceLink};
use crate::web::province::dossier_api::{TrackingForm, TrackingQuery, digits};
use crate::web::session;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(national_home)
        .service(list_provinces)
        .service(search)
        .service(my_dossiers)
        .service(track_dossier)
        .service(track_dossier_post)
        .configure(super::national_catalog::routes)
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
struct SearchApiQuery {
    q: String,
}

/// `GET /api/v1/search?q=` → `{provinces, procedures}`: provinces by current, former (2025
/// merger) and common names; procedures of every province, with the provinces offering them.
#[get("/api/v1/search")]
async fn search(
    state: web::Data<AppState>,
    lang: Lang,
    query: web::Query<SearchApiQuery>,
) -> Result<HttpResponse, AppError> {
    let found = app::national::search(&state, &query.q, lang).await?;
    Ok(HttpResponse::Ok().json(found))
}

/// `GET /api/v1/me/dossiers` (a citizen's national token): every dossier of the account in
/// every province, newest first.
#[get("/api/v1/me/dossiers")]
async fn my_dossiers(
    token: CitizenToken,
    state: web::Data<AppState>,
    lang: Lang,
) -> Result<HttpResponse, AppError> {
    let mine = app::national::my_dossiers_by_token(&state, token.session, lang).await?;
    Ok(HttpResponse::Ok().json(mine.dossiers))
}

/// `GET /api/v1/tracking/{code}?id_number=` on the national host, for any province's code.
#[get("/api/v1/tracking/{code}")]
async fn track_dossier(
    state: web::Data<AppState>,
    client: ClientAddr,
    code: web::Path<String>,
    query: web::Query<TrackingQuery>,
) -> Result<HttpResponse, AppError> {
    let lookup = app::citizen::TrackingLookup {
        code: tracking::normalize(&code),
        id_number: digits(&query.id_number),
        client: client.0,
    };
    Ok(HttpResponse::Ok().json(app::national::track(&state, lookup).await?))
}

/// `POST /api/v1/tracking` `{tracking_code, id_number}` on the national host.
#[post("/api/v1/tracking")]
async fn track_dossier_post(
    state: web::Data<AppState>,
    client: ClientAddr,
    form: web::Json<TrackingForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let lookup = app::citizen::TrackingLookup {
        code: tracking::normalize(&form.tracking_code),
        id_number: digits(&form.id_number),
        client: client.0,
    };
    Ok(HttpResponse::Ok().json(app::national::track(&state, lookup).await?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SearchQuery {
    q: Option<String>,
}

/// `GET /` (`?q=` filters by name, ignoring case and diacritics: "quang ninh" finds
/// "Tỉnh Quảng Ninh", and lists the procedures it finds). Works without JavaScript: the box is
/// a plain GET form.
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
    let layout = Layout::national(&req);
    let (shown, procedures) = match query.is_empty() {
        true => (state.registry.active(), Vec::new()),
        false => super::national_catalog::search(&state, &query, layout.lang).await?,
    };
    let base = state.registry.base_domain();
    let page = NationalHomePage {
        provinces: shown
            .iter()
            .map(|t| ProvinceLink {
                name: t.name.clone(),
                url: state.settings.url_for_host(&format!("{}.{base}", t.slug)),
            })
            .collect(),
        query,
        procedures,
        layout,
    };
    session::page_without_form(&req, StatusCode::OK, &page)
}
