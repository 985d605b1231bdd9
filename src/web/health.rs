//! Probes and metrics, answered on any host.

use actix_web::{HttpResponse, get, web};

use crate::error::AppError;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(healthz)
        .service(readyz)
        .service(metrics_text)
        .service(stylesheet);
}

/// The process is alive.
#[get("/healthz")]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// The database answers within the pool's acquire timeout.
#[get("/readyz")]
async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let db = state.db.clone();
    web::block(move || db.ping()).await??;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "status": "ready" })))
}

#[get("/metrics")]
async fn metrics_text(state: web::Data<AppState>) -> HttpResponse {
    let (in_use, idle) = state.db.pool_state();
    state.metrics.pool_in_use.set(i64::from(in_use));
    state.metrics.pool_idle.set(i64::from(idle));
    state
        .metrics
        .tenants
        .set(state.registry.active().len() as i64);
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render())
}

/// The one stylesheet of the national layout, compiled into the binary.
#[get("/static/portal.css")]
async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(include_str!("../../static/portal.css"))
}
