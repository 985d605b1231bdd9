//! HTTP: one actix-web app serving every site, chosen by the Host header.

pub mod billing_api;
pub mod citizen_auth;
pub mod client_addr;
pub mod close_pages;
pub mod einvoice_api;
mod error_http;
pub mod extract;
mod handoff;
mod health;
pub mod home_pages;
pub mod index_units;
pub mod invoice_csv;
pub mod invoice_pages;
pub mod invoice_print;
mod lang_http;
pub mod lease_pages;
pub mod leasing_api;
pub(crate) mod middleware;
mod national;
mod national_account;
mod national_catalog;
pub mod national_index;
mod national_subscribe;
pub mod oidc;
pub mod openapi;
pub mod operator;
pub mod operator_pages;
pub mod pages;
pub mod payments_api;
pub mod period_query;
pub mod plan_pages;
mod province;
pub mod qr;
pub mod revenue_chart;
pub mod session;
pub mod state;
mod verify;

pub use state::AppState;

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::guard::{self, GuardContext};
use actix_web::middleware::{Compress, DefaultHeaders, from_fn};
use actix_web::{App, HttpServer, web};

use crate::error::AppError;
use crate::tenancy::Site;

/// `web::block` that keeps the request's tracing span (request id, site, province), so a line
/// logged on the blocking thread still names its request.
pub async fn in_span<T, F>(f: F) -> Result<T, AppError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    crate::blocking::run(f).await
}

/// The metrics listener (`server.metrics_bind`): `GET /metrics` only, on any host, no token;
/// everything else 404. One worker: a scraper every few seconds.
pub fn serve_metrics(state: web::Data<AppState>, listener: TcpListener) -> std::io::Result<Server> {
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .wrap(from_fn(middleware::render_errors))
            .route("/metrics", web::get().to(health::metrics_private))
            .default_service(web::to(|| async {
                Err::<actix_web::HttpResponse, AppError>(AppError::NotFound)
            }))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .run())
}

/// Builds and starts the server on `listener` (port 0 in tests). `main` and the tests share it.
pub fn serve(state: web::Data<AppState>, listener: TcpListener) -> std::io::Result<Server> {
    let workers = match state.settings.server.workers {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    // Database work runs on the blocking pool, one connection per thread: more threads than
    // connections only wait for the pool, and each idle thread keeps its stack and malloc
    // arena (actix's default is 512 per process). A few extra for password hashing.
    let blocking = state.settings.database.pool_size as usize + 4;
    let json_limit = state.settings.server.json_limit_bytes;
    let head_timeout = state.settings.server.request_head_timeout_secs;
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(
                web::JsonConfig::default()
                    .limit(json_limit)
                    .error_handler(|err, _req| AppError::from_json(&err).into()),
            )
            .app_data(web::QueryConfig::default().error_handler(|err, _req| {
                AppError::bad_request(
                    "malformed",
                    crate::lang::Msg::owned(
                        format!("Tham số truy vấn không hợp lệ: {err}"),
                        format!("Invalid query parameters: {err}"),
                    ),
                )
                .into()
            }))
            .app_data(
                web::PathConfig::default().error_handler(|_err, _req| AppError::NotFound.into()),
            )
            .wrap(from_fn(middleware::body_deadline))
            .wrap(from_fn(middleware::limit_body))
            .wrap(from_fn(middleware::resolve_site))
            .wrap(from_fn(middleware::render_errors))
            .wrap(security_headers(&state.settings.server.public_scheme))
            .wrap(Compress::default())
            .wrap(from_fn(middleware::observe))
            .configure(health::routes)
            .configure(openapi::routes)
            .service(
                web::scope("")
                    .guard(guard::fn_guard(is_national))
                    .configure(national::routes)
                    .configure(national_account::routes)
                    .configure(handoff::national_routes)
                    .configure(oidc::routes)
                    .configure(national_index::routes)
                    .configure(leasing_api::national_routes)
                    .configure(national_subscribe::routes)
                    .configure(verify::national_routes),
            )
            .service(
                web::scope("")
                    .guard(guard::fn_guard(is_operator))
                    .configure(operator::routes)
                    .configure(leasing_api::operator_routes)
                    .configure(payments_api::operator_routes)
                    .configure(billing_api::operator_routes)
                    .configure(einvoice_api::operator_routes)
                    .configure(operator_pages::routes)
                    .configure(invoice_pages::operator_routes)
                    .configure(close_pages::routes)
                    .configure(plan_pages::routes)
                    .configure(lease_pages::routes),
            )
            .service(
                web::scope("")
                    .guard(guard::fn_guard(is_province))
                    .configure(province::citizen_pages::home_route)
                    // Here, not in `province`: the invoice pages use the province's layout,
                    // and the province needs nothing of them.
                    .configure(invoice_pages::province_routes)
                    .configure(oidc::routes)
                    .configure(handoff::province_routes)
                    .configure(verify::province_routes)
                    .configure(payments_api::province_routes)
                    .configure(province::routes),
            )
            .default_service(web::to(middleware::not_found))
    })
    .workers(workers)
    .worker_max_blocking_threads(blocking)
    .client_request_timeout(std::time::Duration::from_secs(head_timeout))
    .shutdown_timeout(20)
    .listen(listener)?
    .run();
    Ok(server)
}

fn site_of(ctx: &GuardContext<'_>) -> Option<Site> {
    ctx.req_data().get::<Site>().cloned()
}

fn is_national(ctx: &GuardContext<'_>) -> bool {
    matches!(site_of(ctx), Some(Site::National))
}

fn is_operator(ctx: &GuardContext<'_>) -> bool {
    matches!(site_of(ctx), Some(Site::Operator))
}

fn is_province(ctx: &GuardContext<'_>) -> bool {
    matches!(site_of(ctx), Some(Site::Province(_)))
}

/// Headers every response carries; pages add nothing inline, so the CSP needs no
/// `unsafe-inline`. HSTS only when the public address is https (set by configuration, never
/// by a request header): over plain http browsers ignore it, and a TLS proxy in front is what
/// `server.public_scheme = "https"` says.
fn security_headers(public_scheme: &str) -> DefaultHeaders {
    let headers = if public_scheme == "https" {
        DefaultHeaders::new().add((
            "Strict-Transport-Security",
            "max-age=31536000; includeSubDomains",
        ))
    } else {
        DefaultHeaders::new()
    };
    headers
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "strict-origin-when-cross-origin"))
        .add(("X-Frame-Options", "DENY"))
        .add((
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
        ))
}
