//! The request pipeline: observe (id, span, metrics) → render errors → resolve the site.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse, web};
use tracing::Instrument;

use crate::error::AppError;
use crate::lang::Lang;
use crate::metering::clients::ClientKey;
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
        path = %redact_path(req.path()),
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
/// The path as logged: an invitation link's token (a credential until it is used) replaced
/// by `[redacted]`, for the page (`/invitations/{token}`) and the API
/// (`/api/v1/auth/invitations/{token}`).
pub fn redact_path(path: &str) -> std::borrow::Cow<'_, str> {
    for prefix in ["/invitations/", "/api/v1/auth/invitations/"] {
        if let Some(rest) = path.strip_prefix(prefix)
            && !rest.is_empty()
            && rest != "accepted"
        {
            return format!("{prefix}[redacted]").into();
        }
    }
    path.into()
}

fn is_api(path: &str) -> bool {
    path == "/api"
        || path.starts_with("/api/")
        || matches!(path, "/healthz" | "/readyz" | "/metrics")
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
        AppError::AssuranceRequired { required } => AppError::AssuranceRequired {
            required: *required,
        },
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
        AppError::RequestTimeout => AppError::RequestTimeout,
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
            }
            if let Err(refused) = admit(&req, &state, &site) {
                return Ok(req.error_response(refused));
            }
            // Billed: a province's API calls that carry this site's token and succeed.
            let billed = match &site {
                Site::Province(t) if is_api(req.path()) => {
                    crate::web::extract::bearer(req.request()).map(|token| (t.id, token))
                }
                _ => None,
            };
            let audience = site.audience();
            req.extensions_mut().insert(site);
            let res = next.call(req).await?;
            if let Some((tenant, token)) = billed
                && res.status().is_success()
                && state.jwt.verify(&token, &audience).is_ok()
            {
                state.api_calls.hit(tenant);
            }
            Ok(res.map_into_boxed_body())
        }
        Resolution::Suspended(t) => {
            tracing::Span::current().record("province", t.slug.as_str());
            Ok(req.error_response(AppError::Suspended))
        }
        Resolution::Moved(successor) => {
            // The same path on the successor's host, for good: bookmarks and links of a
            // merged province keep working (#18).
            let host = format!("{}.{}", successor.slug, state.registry.base_domain());
            let target = match req.uri().path_and_query() {
                Some(pq) => format!("{}{}", state.settings.url_for_host(&host), pq.as_str()),
                None => state.settings.url_for_host(&host),
            };
            let res = actix_web::HttpResponse::MovedPermanently()
                .insert_header((actix_web::http::header::LOCATION, target))
                .finish();
            Ok(req.into_response(res))
        }
        Resolution::Unknown => Ok(req.error_response(AppError::NotFound)),
    }
}

/// The buckets a request draws on, narrowest first, so a refused request costs the wider
/// ones nothing: the client's at an account door (any site), the client's share of its
/// province, the province's own at its leased rate.
fn admit(req: &ServiceRequest, state: &AppState, site: &Site) -> Result<(), AppError> {
    let limits = &state.settings.limits;
    let client = limits
        .enabled
        .then(|| client_of(req, state))
        .flatten()
        .map(ClientKey::of);
    if let Some(client) = client
        && is_account_door(req.method().as_str(), req.path())
    {
        state
            .clients
            .admit_account(client, limits)
            .map_err(|wait| AppError::TooMany {
                code: "too_many_requests",
                msg: crate::lang::Msg::new(
                    "Có quá nhiều yêu cầu đăng nhập, đăng ký hoặc gửi đề nghị từ địa chỉ của bạn. Vui lòng chờ một lát rồi thử lại.",
                    "Too many sign-in, registration or request attempts from your address. Please wait a moment and try again.",
                ),
                retry_after_secs: secs(wait),
            })?;
    }
    let Site::Province(t) = site else {
        return Ok(());
    };
    let (rps, burst) = (f64::from(t.rate_limit_rps), f64::from(t.rate_burst));
    if let Some(client) = client {
        state
            .clients
            .admit_share(t.id, client, rps, burst, limits)
            .map_err(|wait| AppError::TooMany {
                code: "rate_limited",
                msg: crate::lang::Msg::new(
                    "Bạn đang gửi quá nhiều yêu cầu tới cổng của tỉnh. Vui lòng thử lại sau giây lát.",
                    "You are sending this province's portal too many requests. Please try again in a moment.",
                ),
                retry_after_secs: secs(wait),
            })?;
    }
    // Fair sharing: the province's own bucket, at its leased rate.
    state
        .limiter
        .admit(t.id, rps, burst)
        .map_err(|wait| AppError::TooMany {
            code: "rate_limited",
            msg: crate::lang::Msg::new(
                "Tỉnh đang nhận quá nhiều yêu cầu. Vui lòng thử lại sau giây lát.",
                "This province is receiving too many requests. Please try again in a moment.",
            ),
            retry_after_secs: secs(wait),
        })
}

/// Whole seconds to wait, at least one (`Retry-After` has no fractions).
fn secs(wait: std::time::Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

/// The client's address: the peer, or what our trusted proxies say it is.
fn client_of(req: &ServiceRequest, state: &AppState) -> Option<std::net::IpAddr> {
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok());
    crate::metering::clients::client_ip(
        req.peer_addr().map(|a| a.ip()),
        forwarded,
        &state.clients.trusted,
    )
}

/// The doors an anonymous client knocks on to get an account or a session, or to make the
/// operator read a request: sign-in, registration, invitation and password links,
/// subscription requests, on every site, pages and API alike. Each costs a password hash,
/// a row or a mail, so each client gets a small budget of them.
pub fn is_account_door(method: &str, path: &str) -> bool {
    if method != "POST" {
        return false;
    }
    let path = path.trim_end_matches('/');
    path.starts_with("/api/v1/auth/")
        || path == "/api/v1/subscriptions"
        || matches!(path, "/sign-in" | "/register" | "/subscribe")
        || path.starts_with("/subscribe/")
        || path.starts_with("/invitations/")
        || path.starts_with("/password")
        || path.starts_with("/auth/")
}

/// A request's body must arrive whole within `server.request_body_timeout_secs` of its head;
/// a client that dribbles it (slow POST) gets 408 and the connection is closed, whatever the
/// handler made of the cut-off body.
pub async fn body_deadline(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let payload = req.take_payload();
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        req.set_payload(payload);
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    if matches!(payload, Payload::None) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    let expired = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let limit = std::time::Duration::from_secs(state.settings.server.request_body_timeout_secs);
    let timed = Deadline {
        inner: payload,
        sleep: Box::pin(tokio::time::sleep(limit)),
        expired: expired.clone(),
    };
    req.set_payload(Payload::Stream {
        payload: Box::pin(timed),
    });
    let lang = Lang::of(req.request());
    let api = is_api(req.path());
    let res = next.call(req).await?;
    if !expired.load(std::sync::atomic::Ordering::Relaxed) {
        return Ok(res.map_into_boxed_body());
    }
    tracing::info!(
        limit_secs = limit.as_secs(),
        "request body not received in time"
    );
    let (http_req, _) = res.into_parts();
    let error = AppError::RequestTimeout;
    let mut response = if api {
        error.json_response(lang)
    } else {
        pages::error_page(&http_req, &error, lang)
    };
    response
        .head_mut()
        .set_connection_type(actix_web::http::ConnectionType::Close);
    Ok(ServiceResponse::new(http_req, response))
}

/// A request body that ends in an error once its deadline has passed.
struct Deadline {
    inner: Payload,
    sleep: std::pin::Pin<Box<tokio::time::Sleep>>,
    expired: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl futures_util::Stream for Deadline {
    type Item = Result<actix_web::web::Bytes, actix_web::error::PayloadError>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        if self.expired.load(std::sync::atomic::Ordering::Relaxed) {
            return Poll::Ready(None);
        }
        if std::future::Future::poll(self.sleep.as_mut(), cx).is_ready() {
            self.expired
                .store(true, std::sync::atomic::Ordering::Relaxed);
            return Poll::Ready(Some(Err(actix_web::error::PayloadError::Io(
                std::io::Error::new(std::io::ErrorKind::TimedOut, "request body too slow"),
            ))));
        }
        futures_util::Stream::poll_next(std::pin::Pin::new(&mut self.inner), cx)
    }
}

/// For `default_service`: no route matched on this site.
pub async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}
