//! Billing on the operator site (roles operator and billing) and a province admin's invoices.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use serde_json::json;

use crate::app::invoices;
use crate::clock::today_vn;
use crate::error::AppError;
use crate::period::Period;
use crate::web::AppState;
use crate::web::extract::{AdminUser, OperatorUser};

pub fn operator_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(close_period)
        .service(list_invoices)
        .service(export_invoices)
        .service(get_invoice)
        .service(pay_invoice)
        .service(void_invoice)
        .service(send_invoice)
        .service(receive_provider_event);
}

pub fn province_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_own_invoices);
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CloseForm {
    period: String,
}

/// `POST /api/v1/billing/close` `{period}` → 200 `{invoices}`; the same result when repeated.
#[post("/api/v1/billing/close")]
async fn close_period(
    OperatorUser(user): OperatorUser,
    state: web::Data<AppState>,
    form: web::Json<CloseForm>,
) -> Result<HttpResponse, AppError> {
    let period = Period::parse(&form.period).map_err(|m| AppError::invalid("period", m))?;
    let invoices = crate::app::billing::close_period(&state, user.actor(), period)
        .await?
        .invoices;
    Ok(HttpResponse::Ok().json(json!({ "invoices": invoices })))
}

#[derive(Debug, Deserialize)]
pub struct PeriodQuery {
    period: Option<String>,
    /// `finalized`, `paid` or `void`; absent: all.
    status: Option<String>,
}

#[get("/api/v1/invoices")]
async fn list_invoices(
    _user: OperatorUser,
    state: web::Data<AppState>,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, AppError> {
    let period = match query.period.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => Period::parse(p).map_err(|m| AppError::invalid("period", m))?,
        None => Period::of(today_vn()).prev(),
    };
    let status = invoices::parse_status(query.status.as_deref())?;
    let list = invoices::list(&state, period, status).await?;
    Ok(HttpResponse::Ok().json(list))
}

#[derive(Debug, Deserialize)]
pub struct CsvQuery {
    period: Option<String>,
    status: Option<String>,
    /// Part of a province's name or slug.
    province: Option<String>,
}

/// `GET /api/v1/invoices.csv?period=` → the period's invoices (last month by default) as CSV
/// with a header row; `status` and `province` narrow it like the console's table.
#[get("/api/v1/invoices.csv")]
async fn export_invoices(
    _user: OperatorUser,
    state: web::Data<AppState>,
    query: web::Query<CsvQuery>,
) -> Result<HttpResponse, AppError> {
    let period = match query.period.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => Period::parse(p).map_err(|m| AppError::invalid("period", m))?,
        None => Period::of(today_vn()).prev(),
    };
    let filter = crate::billing::table::Filter {
        period: Some(period),
        status: invoices::parse_status(query.status.as_deref())?,
        province: query.province.clone(),
    };
    let rows = invoices::export(&state, filter, Default::default()).await?;
    crate::web::invoice_csv::response(&rows, &period.to_string())
}

#[get("/api/v1/invoices/{number}")]
async fn get_invoice(
    _user: OperatorUser,
    state: web::Data<AppState>,
    number: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let inv = invoices::find(&state, &number).await?;
    Ok(HttpResponse::Ok().json(inv))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PayForm {
    /// The bank transfer's reference.
    reference: String,
}

/// Records a bank transfer: `finalized` → `paid`.
#[post("/api/v1/invoices/{number}/pay")]
async fn pay_invoice(
    OperatorUser(user): OperatorUser,
    state: web::Data<AppState>,
    number: web::Path<String>,
    form: web::Json<PayForm>,
) -> Result<HttpResponse, AppError> {
    let (number, reference) = (number.into_inner(), form.into_inner().reference);
    let (app, actor) = (state.app.clone(), user.actor());
    let inv =
        crate::web::in_span(move || invoices::record_transfer(&app, &actor, &number, &reference))
            .await??;
    Ok(HttpResponse::Ok().json(inv))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct VoidForm {
    reason: String,
}

/// Voids an unpaid invoice with a credit note referring to it.
#[post("/api/v1/invoices/{number}/void")]
async fn void_invoice(
    OperatorUser(user): OperatorUser,
    state: web::Data<AppState>,
    number: web::Path<String>,
    form: web::Json<VoidForm>,
) -> Result<HttpResponse, AppError> {
    let reason = form.into_inner().reason;
    let inv = invoices::void(&state, &user.actor(), &number, &reason).await?;
    Ok(HttpResponse::Ok().json(inv))
}

/// `POST /api/v1/invoices/{number}/send`: pushes a finalized invoice to the payment provider
/// (see [`invoices::send`]); a provider failure is 503 here.
#[post("/api/v1/invoices/{number}/send")]
async fn send_invoice(
    OperatorUser(user): OperatorUser,
    state: web::Data<AppState>,
    number: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let inv = invoices::send(&state, &user.actor(), &number).await?;
    Ok(HttpResponse::Ok().json(inv))
}

/// `GET /api/v1/manage/invoices`: this province's invoices.
#[get("/api/v1/manage/invoices")]
async fn list_own_invoices(
    AdminUser(admin): AdminUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let id = admin.province.tenant.id;
    Ok(HttpResponse::Ok().json(invoices::of_province(&state, id).await?))
}

/// `POST /api/v1/stripe/webhook` (no token; the signature is the credential) → 200, also for
/// events we ignore and for replays; a bad signature is 400.
#[post("/api/v1/stripe/webhook")]
async fn receive_provider_event(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    use crate::billing::webhook;
    let header = req
        .headers()
        .get("Stripe-Signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let stripe = &state.settings.stripe;
    let secrets: Vec<&str> = [&stripe.webhook_secret, &stripe.webhook_previous_secret]
        .into_iter()
        .flatten()
        .map(secrecy::ExposeSecret::expose_secret)
        .collect();
    let bad = || {
        AppError::bad_request(
            "bad_signature",
            crate::lang::Msg::new(
                "Chữ ký webhook không hợp lệ.",
                "The webhook signature is not valid.",
            ),
        )
    };
    if secrets.is_empty() {
        return Err(bad());
    }
    webhook::verify(
        header,
        &body,
        &secrets,
        chrono::Utc::now().timestamp(),
        stripe.webhook_tolerance_secs,
    )
    .map_err(|_| bad())?;
    let event: serde_json::Value = serde_json::from_slice(&body).map_err(|_| {
        AppError::bad_request(
            "malformed",
            crate::lang::Msg::new("Sự kiện không đúng định dạng.", "The event is malformed."),
        )
    })?;
    let id = event["id"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            AppError::invalid(
                "id",
                crate::lang::Msg::new("Thiếu mã sự kiện.", "The event id is missing."),
            )
        })?
        .to_string();
    let outcome = invoices::apply_provider_event(&state, id, event).await?;
    Ok(HttpResponse::Ok().json(json!({ "received": true, "outcome": outcome })))
}
