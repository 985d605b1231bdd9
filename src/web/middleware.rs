//! The request pipeline: observe (id, span, metrics) → render errors → resolve the site.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse, web};
use tracing::Instrument;

use crate::error::AppError;
use crate::lang::Lang;
use crate::tenancy::Site;
use crate::tenancy::registry::Resolution;
use crate::web::AppState;
use crate::web::pages;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The global payload limit (`server.max_body_bytes`), on every route: a body announced over
/// it is refused with 413 before any of it is read; a body sent without a length (chunked)
/// fails as too large when it passes the limit. Handlers keep their own, smaller limits.
pub async fn limit_body(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let Some(max) = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.settings.server.max_body_bytes)
    else {
        return next.call(req).await;
    };
    let announced = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match announced {
        Some(n) if n > max => return Err(body_too_large().into()),
        Some(_) => {}
        None => {
            use futures_util::StreamExt;
            let mut seen: u64 = 0;
            let limited = req.take_payload().map(move |chunk| {
                let chunk = chunk?;
                seen += chunk.len() as u64;
                if seen > max {
                    return Err(actix_web::error::PayloadError::Overflow);
                }
                Ok(chunk)
            });
            req.set_payload(actix_web::dev::Payload::Stream {
                payload: Box::pin(limited),
            });
        }
    }
    next.call(req).await
}

/// The 413 of the global payload limit.
pub fn body_too_large() -> AppError {
    AppError::TooLarge(crate::lang::Msg::new(
        "Yêu cầu quá lớn.",
        "The request is too large.",
    ))
}

/// Gives each request an id and a span (with site and province once known), records metrics.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %req.path(),
        site = tracing::field::Empty,
        province = tracing::field::Empty,
    );
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let started = Instant::now();
    let mut res = next.call(req).instrument(span.clone()).await?;
    let elapsed = started.elapsed();
    let status = res.status().as_u16();
    let (site, province) = match res.request().extensions().get::<Site>() {
        Some(Site::Province(t)) => ("province", Some(t.slug.clone())),
        Some(other) => (other.kind(), None),
        None => ("none", None),
    };
    if let Some(state) = state {
        state.metrics.observe(site, status, elapsed.as_secs_f64());
        if let Some(slug) = province {
            state.metrics.observe_province(&slug, status);
        }
    }
    span.in_scope(|| {
        tracing::info!(
            status,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            "request done"
        )
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(res)
}

/// Every error leaves as the contract's JSON envelope under `/api/` (in the request's
/// language) and as a page in the national layout elsewhere. Faults are logged here, once.
pub async fn render_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    // Take what we need now: actix's router needs the only reference to the request.
    let lang = Lang::of(req.request());
    let api = is_api(req.path());
    // An `Err` here comes from actix itself, after our layers; it renders as JSON on its own.
    let res = next.call(req).await?;
    let Some(error) = res.response().error().map(|e| {
        e.as_error::<AppError>()
            .map(clone_error)
            .unwrap_or_else(|| AppError::from_status(e.as_response_error().status_code()))
    }) else {
        return Ok(res.map_into_boxed_body());
    };
    match &error {
        AppError::Internal(reason) => tracing::error!(error = %reason, "request failed"),
        AppError::Unavailable(reason) => tracing::warn!(error = %reason, "dependency unavailable"),
        _ => {}
    }
    let (http_req, _) = res.into_parts();
    let response = if api {
        error.json_response(lang)
    } else {
        pages::error_page(&http_req, &error, lang)
    };
    Ok(ServiceResponse::new(http_req, response))
}

/// The API and the probes answer JSON; everything else is a page.
fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/") || matches!(path, "/healthz" | "/readyz")
}

/// `AppError` holds no handles, so rebuilding it from its parts is exact.
fn clone_error(e: &AppError) -> AppError {
    match e {
        AppError::BadRequest { code, msg } => AppError::BadRequest {
            code,
            msg: msg.clone(),
        },
        AppError::Unauthorized(m) => AppError::Unauthorized(m.clone()),
        AppError::Forbidden(m) => AppError::Forbidden(m.clone()),
        AppError::NotFound => AppError::NotFound,
        AppError::MethodNotAllowed => AppError::MethodNotAllowed,
        AppError::Conflict { code, msg, fields } => AppError::Conflict {
            code,
            msg: msg.clone(),
            fields: fields.clone(),
        },
        AppError::TooLarge(m) => AppError::TooLarge(m.clone()),
        AppError::Invalid(f) => AppError::Invalid(f.clone()),
        AppError::TooMany {
            code,
            msg,
            retry_after_secs,
        } => AppError::TooMany {
            code,
            msg: msg.clone(),
            retry_after_secs: *retry_after_secs,
        },
        AppError::Suspended => AppError::Suspended,
        AppError::Unavailable(r) => AppError::Unavailable(r.clone()),
        AppError::Internal(r) => AppError::Internal(r.clone()),
    }
}

/// Paths that answer on any host, before any site is chosen.
pub fn is_site_free(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics") || path.starts_with("/static/")
}

/// Maps the Host header to a site: unknown → 404, suspended → 503, never another site.
pub async fn resolve_site(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if is_site_free(req.path()) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(req.error_response(AppError::internal("application state missing")));
    };
    // HTTP/1.1 sends Host; HTTP/2 sends :authority, which actix exposes through the URI.
    let header_host = req
        .headers()
        .get(actix_web::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string);
    let uri_host = req.uri().host().map(str::to_string);
    // An absolute target (`GET http://a/ HTTP/1.1`) naming another host than Host: a proxy
    // may route by one while we would serve the other, so neither is trusted.
    if let (Some(h), Some(u)) = (&header_host, &uri_host)
        && crate::tenancy::host::normalize(h) != crate::tenancy::host::normalize(u)
    {
        return Ok(req.error_response(AppError::bad_request(
            "malformed",
            crate::lang::Msg::new(
                "Địa chỉ trong dòng yêu cầu khác với tiêu đề Host.",
                "The request target names another host than the Host header.",
            ),
        )));
    }
    let host = header_host.or(uri_host).unwrap_or_default();
    match state.registry.resolve(&host) {
        Resolution::Site(site) => {
            let span = tracing::Span::current();
            span.record("site", site.kind());
            if let Site::Province(t) = &site {
                span.record("province", t.slug.as_str());
                // Fair sharing: the province's own bucket, at its leased rate.
                let admitted =
                    state
                        .limiter
                        .admit(t.id, f64::from(t.rate_limit_rps), f64::from(t.rate_burst));
                if let Err(wait) = admitted {
                    return Ok(req.error_response(AppError::TooMany {
                        code: "rate_limited",
                        msg: crate::lang::Msg::new(
                            "Tỉnh đang nhận quá nhiều yêu cầu. Vui lòng thử lại sau giây lát.",
                            "This province is receiving too many requests. Please try again in a moment.",
                        ),
                        retry_after_secs: wait.as_secs().max(1),
                    }));
                }
                if is_api(req.path()) {
                    state.api_calls.hit(t.id);
                }
            }
            req.extensions_mut().insert(site);
            next.call(req)
                .await
                .map(ServiceResponse::map_into_boxed_body)
        }
        Resolution::Suspended(t) => {
            tracing::Span::current().record("province", t.slug.as_str());
            Ok(req.error_response(AppError::Suspended))
        }
        Resolution::Unknown => Ok(req.error_response(AppError::NotFound)),
    }
}

/// For `default_service`: no route matched on this site.
pub async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}
