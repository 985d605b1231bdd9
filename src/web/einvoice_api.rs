//! E-invoices on the operator site: each province's buyer details and each invoice's XML.

use actix_web::{HttpResponse, get, post, put, web};
use serde::Deserialize;

use crate::app::einvoices::{self, Ask};
use crate::einvoice::buyer::BuyerDetails;
use crate::error::AppError;
use crate::web::AppState;
use crate::web::extract::OperatorUser;

pub fn operator_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(get_buyer)
        .service(put_buyer)
        .service(get_xml)
        .service(issue)
        .service(adjust)
        .service(replace);
}

/// `GET /api/v1/tenants/{slug}/buyer` → the buyer details and `missing`.
#[get("/api/v1/tenants/{slug}/buyer")]
async fn get_buyer(
    _user: OperatorUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(einvoices::get_buyer(&state, &slug).await?))
}

/// `PUT /api/v1/tenants/{slug}/buyer` `{name, tax_code?, budget_unit_code?, address, email?}`.
#[put("/api/v1/tenants/{slug}/buyer")]
async fn put_buyer(
    OperatorUser(user): OperatorUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    form: web::Json<BuyerDetails>,
) -> Result<HttpResponse, AppError> {
    let body = einvoices::put_buyer(&state, &user.actor(), &slug, form.into_inner()).await?;
    Ok(HttpResponse::Ok().json(body))
}

/// `GET /api/v1/invoices/{number}/einvoice.xml` → the e-invoice XML (message 2.1.0).
#[get("/api/v1/invoices/{number}/einvoice.xml")]
async fn get_xml(
    _user: OperatorUser,
    state: web::Data<AppState>,
    number: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let body = einvoices::xml_of(&state, &number).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/xml; charset=utf-8")
        .body(body))
}

/// `POST /api/v1/invoices/{number}/einvoice`: issues the invoice's e-invoice now (the same
/// answer when repeated); 503 when the provider fails (recorded, retried with the same key).
#[post("/api/v1/invoices/{number}/einvoice")]
async fn issue(
    OperatorUser(user): OperatorUser,
    state: web::Data<AppState>,
    number: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let e = einvoices::issue(&state, &user.actor(), &number, Ask::Original).await?;
    Ok(HttpResponse::Ok().json(e))
}

/// `POST /api/v1/invoices/{number}/einvoice/adjust`: a void invoice's credit as an
/// adjustment e-invoice (`TCHDon=2`) naming the original.
#[post("/api/v1/invoices/{number}/einvoice/adjust")]
async fn adjust(
    OperatorUser(user): OperatorUser,
    state: web::Data<AppState>,
    number: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let e = einvoices::issue(&state, &user.actor(), &number, Ask::Adjust).await?;
    Ok(HttpResponse::Ok().json(e))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ReplaceForm {
    /// The invoice whose e-invoice replaces the void one's.
    by: String,
}

/// `POST /api/v1/invoices/{number}/einvoice/replace` `{by}`: invoice `by`'s e-invoice
/// replaces void invoice `number`'s (`TCHDon=1`).
#[post("/api/v1/invoices/{number}/einvoice/replace")]
async fn replace(
    OperatorUser(user): OperatorUser,
    state: web::Data<AppState>,
    number: web::Path<String>,
    form: web::Json<ReplaceForm>,
) -> Result<HttpResponse, AppError> {
    let by = form.into_inner().by;
    let e = einvoices::issue(&state, &user.actor(), &number, Ask::Replace { by }).await?;
    Ok(HttpResponse::Ok().json(e))
}
