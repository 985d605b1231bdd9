//! Fees paid by bank transfer, over the API: the province's receiving account (its admin), a
//! transfer confirmed by staff from their statement, and a whole statement reconciled (the
//! province admin on its site, an operator on the console's host).

use actix_web::{HttpResponse, get, post, put, web};
use serde::Deserialize;

use crate::app::payments;
use crate::error::AppError;
use crate::payments::transfer::{AccountInput, StatementLine};
use crate::web::AppState;
use crate::web::extract::{AdminUser, OperatorAdmin, StaffUser};

pub fn province_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(get_payment_account)
        .service(put_payment_account)
        .service(reconcile_statement)
        .service(confirm_transfer);
}

pub fn operator_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(reconcile_tenant_statement);
}

/// `GET /api/v1/manage/payment-account` → `{bank_bin, account_number, account_name}`; 404
/// before the admin sets it.
#[get("/api/v1/manage/payment-account")]
async fn get_payment_account(
    AdminUser(admin): AdminUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let a = payments::account(&state, &admin.province.tenant)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok().json(a))
}

/// `PUT /api/v1/manage/payment-account` `{bank_bin, account_number, account_name}` → 200, the
/// account as stored (normalised); 422 with every bad field.
#[put("/api/v1/manage/payment-account")]
async fn put_payment_account(
    AdminUser(admin): AdminUser,
    state: web::Data<AppState>,
    form: web::Json<AccountInput>,
) -> Result<HttpResponse, AppError> {
    let a = payments::save_account(
        &state,
        &admin.actor(),
        &admin.province.tenant,
        &form.into_inner(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(a))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct StatementForm {
    lines: Vec<StatementLine>,
}

/// `POST /api/v1/manage/payments/reconcile` `{lines: [{reference, amount_vnd}]}` → 200
/// `{lines: [{reference, amount_vnd, outcome, tracking_code?, expected_vnd?}], paid,
/// already_paid, refused}`. `outcome` ∈ `paid`, `already_paid`, `amount_mismatch`,
/// `unknown_reference`, `not_awaiting_payment`.
#[post("/api/v1/manage/payments/reconcile")]
async fn reconcile_statement(
    AdminUser(admin): AdminUser,
    state: web::Data<AppState>,
    form: web::Json<StatementForm>,
) -> Result<HttpResponse, AppError> {
    let report = payments::reconcile(
        &state,
        &admin.actor(),
        &admin.province.tenant,
        form.into_inner().lines,
    )
    .await?;
    Ok(HttpResponse::Ok().json(report))
}

/// `POST /api/v1/tenants/{slug}/payments/reconcile` (operator) → the same report.
#[post("/api/v1/tenants/{slug}/payments/reconcile")]
async fn reconcile_tenant_statement(
    OperatorAdmin(user): OperatorAdmin,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    form: web::Json<StatementForm>,
) -> Result<HttpResponse, AppError> {
    let tenant = state.registry.by_slug(&slug).ok_or(AppError::NotFound)?;
    let report =
        payments::reconcile(&state, &user.actor(), &tenant, form.into_inner().lines).await?;
    Ok(HttpResponse::Ok().json(report))
}

/// `POST /api/v1/manage/dossiers/{code}/transfer-received` `{reference, amount_vnd}` (staff
/// who decide the dossier) → 200 the line's report; a reference of another dossier is
/// `unknown_reference`.
#[post("/api/v1/manage/dossiers/{code}/transfer-received")]
async fn confirm_transfer(
    staff: StaffUser,
    state: web::Data<AppState>,
    code: web::Path<String>,
    form: web::Json<StatementLine>,
) -> Result<HttpResponse, AppError> {
    let r = payments::confirm_transfer(
        &state,
        &staff.actor(),
        &staff.province.tenant,
        &code,
        form.into_inner(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(r))
}
