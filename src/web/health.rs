//! Probes (answered on any host) and metrics (the operator host only, with a token).

use actix_web::{HttpRequest, HttpResponse, get, web};
use secrecy::ExposeSecret;

use crate::error::AppError;
use crate::notify::outbox;
use crate::web::AppState;

/// How stale the outbox gauges may be.
const OUTBOX_READ_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(healthz)
        .service(readyz)
        .service(metrics_text)
        .service(stylesheet)
        .service(print_script)
        .service(uploads_script);
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
    crate::web::in_span(move || db.ping()).await??;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "status": "ready" })))
}

/// Who may read `/metrics` (CONTRACT.md): the operator host (`ops.<base>`) only, with
/// `Authorization: Bearer` and either the scraper's token `server.metrics_token` or a signed-in
/// operator's token. Any other host: 404, as if there were no such page; the operator host
/// without either: 401.
async fn metrics_allowed(req: &HttpRequest, state: &AppState) -> Result<(), AppError> {
    let host = req
        .headers()
        .get(actix_web::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().host().map(str::to_string))
        .unwrap_or_default();
    let operator_host = matches!(
        crate::tenancy::host::classify(&host, &state.settings.server.base_domain),
        crate::tenancy::host::HostKind::Operator
    );
    if !operator_host {
        return Err(AppError::NotFound);
    }
    let sent = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_string();
    if sent.is_empty() {
        return Err(AppError::unauthorized());
    }
    if let Some(token) = state.settings.server.metrics_token.as_ref() {
        let want = token.expose_secret();
        if !want.is_empty()
            && crate::web::session::constant_time_eq(sent.as_bytes(), want.as_bytes())
        {
            return Ok(());
        }
    }
    // An operator's own token, resolved as every session is (active, not signed out).
    let site = crate::tenancy::Site::Operator;
    let claims = state.jwt.verify(&sent, &site.audience())?;
    crate::app::auth::resume(state, &site, &claims)
        .await?
        .ok_or_else(AppError::unauthorized)?;
    Ok(())
}

#[get("/metrics")]
async fn metrics_text(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    metrics_allowed(&req, &state).await?;
    Ok(render_metrics(&state).await)
}

/// `GET /metrics` on the separate metrics listener (`server.metrics_bind`): no host, no token.
pub async fn metrics_private(state: web::Data<AppState>) -> HttpResponse {
    render_metrics(&state).await
}

/// Refreshes the gauges and renders the Prometheus text.
async fn render_metrics(state: &web::Data<AppState>) -> HttpResponse {
    let m = &state.metrics;
    let pool = state.db.pool_state();
    m.pool_in_use.set(i64::from(pool.in_use));
    m.pool_idle.set(i64::from(pool.idle));
    m.pool_waiting.set(pool.waiting);
    m.pool_max.set(i64::from(pool.max));
    m.pool_timeouts
        .inc_by(pool.timeouts.saturating_sub(m.pool_timeouts.get()));
    m.tenants.set(state.registry.active().len() as i64);
    m.usage_unflushed
        .set(i64::try_from(state.api_calls.unflushed()).unwrap_or(i64::MAX));
    m.usage_flush_lag
        .set(state.api_calls.flush_lag().as_secs_f64());
    // The outbox costs a query per province: read at most every few seconds.
    let due = {
        let mut read_at = m.outbox_read_at.lock().unwrap_or_else(|p| p.into_inner());
        let due = read_at.is_none_or(|at| at.elapsed() >= OUTBOX_READ_EVERY);
        if due {
            *read_at = Some(std::time::Instant::now());
        }
        due
    };
    if due {
        let st = state.clone();
        let read =
            crate::web::in_span(move || outbox::backlog_everywhere(&st.db, &st.registry)).await;
        match read {
            Ok(Ok(outbox::Backlog {
                unsent,
                oldest,
                failed,
            })) => {
                m.outbox_unsent.set(unsent);
                m.outbox_failed.set(failed);
                let age = oldest.map_or(0.0, |at| {
                    (chrono::Utc::now() - at).num_milliseconds().max(0) as f64 / 1000.0
                });
                m.outbox_oldest_age.set(age);
            }
            // The gauges keep their last values; the database may be away.
            Ok(Err(e)) => tracing::warn!(error = %e, "outbox gauges not refreshed"),
            Err(e) => tracing::warn!(error = %e, "outbox gauges not refreshed"),
        }
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(m.render())
}

/// The one stylesheet of the national layout, compiled into the binary.
#[get("/static/portal.css")]
async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(include_str!("../../static/portal.css"))
}

/// The print button's one line of script (the CSP allows scripts from this site only).
#[get("/static/print.js")]
async fn print_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(include_str!("../../static/print.js"))
}

/// The documents page's resumable uploads with a progress bar (docs/uploads.md).
#[get("/static/uploads.js")]
async fn uploads_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(include_str!("../../static/uploads.js"))
}
