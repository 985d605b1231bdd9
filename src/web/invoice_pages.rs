//! Invoices in the browser: the operator's invoices per period (filter by status, record a
//! bank transfer, void with a reason, send again to Stripe), a printable invoice in the national
//! layout, and the province admin's list with the same printable view.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use crate::app::invoices;
use crate::billing::invoice::{Invoice, InvoiceStatus};
use crate::clock::today_vn;
use crate::error::AppError;
use crate::lang::Lang;
use crate::period::Period;
use crate::web::AppState;
use crate::web::operator_pages::PageOperator;
use crate::web::pages::{Layout, tr};
use crate::web::province::citizen_pages::view::{local_time, vnd};
use crate::web::session::{self, Csrf, PageAdmin};

pub fn operator_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(show_invoices)
        .service(show_invoice)
        .service(pay_invoice_form)
        .service(void_invoice_form)
        .service(send_invoice_form);
}

pub fn province_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(show_own_invoices).service(show_own_invoice);
}

/// One line as printed.
pub struct LineView {
    pub description: String,
    pub quantity: i64,
    pub unit_price: String,
    pub amount: String,
}

/// An invoice with its money written the Vietnamese way.
pub struct InvoiceView {
    pub number: String,
    pub tenant: String,
    pub tenant_name: String,
    pub period: String,
    pub status: InvoiceStatus,
    pub status_label: &'static str,
    pub lines: Vec<LineView>,
    pub subtotal: String,
    pub vat_rate: String,
    pub vat: String,
    pub total: String,
    pub issued: String,
    pub paid: Option<String>,
    pub reference: Option<String>,
    pub bank_only: bool,
    pub provider_ref: Option<String>,
    pub provider_status: Option<String>,
    pub provider_error: Option<String>,
}

fn money(amount: i64, lang: Lang) -> String {
    if amount == 0 {
        return "0 đ".into();
    }
    vnd(amount, lang)
}

impl InvoiceView {
    pub fn new(inv: Invoice, lang: Lang) -> InvoiceView {
        InvoiceView {
            status_label: tr(lang, inv.status.label_key()),
            bank_only: !inv.within_stripe_cap(),
            lines: inv
                .lines
                .iter()
                .map(|l| LineView {
                    description: l.description.clone(),
                    quantity: l.quantity,
                    unit_price: money(l.unit_price_vnd, lang),
                    amount: money(l.amount_vnd, lang),
                })
                .collect(),
            subtotal: money(inv.subtotal_vnd, lang),
            vat: money(inv.vat_vnd, lang),
            total: money(inv.total_vnd, lang),
            issued: local_time(inv.issued_at),
            paid: inv.paid_at.map(local_time),
            number: inv.number,
            tenant: inv.tenant,
            tenant_name: inv.tenant_name,
            period: inv.period,
            status: inv.status,
            vat_rate: inv.vat_rate_percent,
            reference: inv.payment_reference,
            provider_ref: inv.provider_ref,
            provider_status: inv.provider_status,
            provider_error: inv.provider_error,
        }
    }
}

#[derive(Template)]
#[template(path = "operator/invoices.html")]
struct InvoicesPage {
    layout: Layout,
    period: String,
    /// The filter's selected status (`""`: all) and the choices.
    status: String,
    statuses: [InvoiceStatus; 3],
    invoices: Vec<InvoiceView>,
    stripe: bool,
    /// After a close from the console: how many invoices the period has.
    closed: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    period: Option<String>,
    status: Option<String>,
    /// Set by the close form's redirect: the acknowledgement.
    closed: Option<usize>,
}

fn period_or_last(p: Option<&str>) -> Result<Period, AppError> {
    match p.filter(|p| !p.is_empty()) {
        Some(p) => Period::parse(p).map_err(|m| AppError::invalid("period", m)),
        None => Ok(Period::of(today_vn()).prev()),
    }
}

#[get("/invoices")]
async fn show_invoices(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: PageOperator,
    csrf: Csrf,
    lang: Lang,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = who.0 else {
        return Ok(session::see_other("/sign-in"));
    };
    let period = period_or_last(query.period.as_deref())?;
    let status = invoices::parse_status(query.status.as_deref())?;
    let invoices = invoices::list(&state, period, status)
        .await?
        .into_iter()
        .map(|i| InvoiceView::new(i, lang))
        .collect();
    // The filter form's selected value.
    let status = status
        .map(InvoiceStatus::as_str)
        .unwrap_or_default()
        .to_string();
    let layout = Layout::operator(&req).with_session(csrf.token(), Some(&user.email));
    let page = InvoicesPage {
        layout,
        period: period.to_string(),
        status,
        statuses: InvoiceStatus::ALL,
        invoices,
        stripe: state.invoices.name() != "offline",
        closed: query.closed,
    };
    session::page(&req, StatusCode::OK, &page, &csrf)
}

#[derive(Template)]
#[template(path = "invoice_print.html")]
struct PrintPage {
    layout: Layout,
    inv: InvoiceView,
    back: String,
}

#[get("/invoices/{number}")]
async fn show_invoice(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: PageOperator,
    csrf: Csrf,
    lang: Lang,
    number: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = who.0 else {
        return Ok(session::see_other("/sign-in"));
    };
    let inv = invoices::find(&state, &number).await?;
    let back = format!("/invoices?period={}", inv.period);
    let layout = Layout::operator(&req).with_session(csrf.token(), Some(&user.email));
    let page = PrintPage {
        layout,
        inv: InvoiceView::new(inv, lang),
        back,
    };
    session::page(&req, StatusCode::OK, &page, &csrf)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ActionForm {
    csrf: Option<String>,
    reference: String,
    reason: String,
}

/// Back to the period's list after a form.
async fn back_to_list(state: &AppState, number: String) -> Result<HttpResponse, AppError> {
    let period = match invoices::find(state, &number).await {
        Ok(i) => i.period,
        Err(AppError::NotFound) => String::new(),
        Err(e) => return Err(e),
    };
    Ok(session::see_other(&format!("/invoices?period={period}")))
}

#[post("/invoices/{number}/pay")]
async fn pay_invoice_form(
    state: web::Data<AppState>,
    who: PageOperator,
    csrf: Csrf,
    number: web::Path<String>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(form.csrf.as_deref())?;
    let user = who.0.ok_or_else(AppError::unauthorized)?;
    let (app, actor, reference) = (state.app.clone(), user.actor(), form.reference.clone());
    let n = number.into_inner();
    let number = n.clone();
    crate::web::in_span(move || invoices::record_transfer(&app, &actor, &n, &reference)).await??;
    back_to_list(&state, number).await
}

#[post("/invoices/{number}/void")]
async fn void_invoice_form(
    state: web::Data<AppState>,
    who: PageOperator,
    csrf: Csrf,
    number: web::Path<String>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(form.csrf.as_deref())?;
    let user = who.0.ok_or_else(AppError::unauthorized)?;
    let number = number.into_inner();
    invoices::void(&state, &user.actor(), &number, &form.reason).await?;
    back_to_list(&state, number).await
}

#[post("/invoices/{number}/send")]
async fn send_invoice_form(
    state: web::Data<AppState>,
    who: PageOperator,
    csrf: Csrf,
    number: web::Path<String>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(form.csrf.as_deref())?;
    let user = who.0.ok_or_else(AppError::unauthorized)?;
    let number = number.into_inner();
    // A provider failure is recorded on the invoice and shown on the list: back there.
    match invoices::send(&state, &user.actor(), &number).await {
        Ok(_) | Err(AppError::Unavailable(_)) => {}
        Err(e) => return Err(e),
    }
    back_to_list(&state, number).await
}

#[derive(Template)]
#[template(path = "staff/invoices.html")]
struct OwnInvoicesPage {
    layout: Layout,
    invoices: Vec<InvoiceView>,
}

async fn own_invoices(
    admin: &crate::web::extract::StaffUser,
    state: &AppState,
) -> Result<Vec<Invoice>, AppError> {
    invoices::of_province(state, admin.province.tenant.id).await
}

#[get("/manage/admin/invoices")]
async fn show_own_invoices(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: PageAdmin,
    csrf: Csrf,
    lang: Lang,
) -> Result<HttpResponse, AppError> {
    let Some(admin) = who.0 else {
        return Ok(session::to_sign_in(&req));
    };
    let list = own_invoices(&admin, &state).await?;
    let branding = crate::app::province_admin::branding(&state, &admin.province.tenant).await?;
    let layout = crate::web::province::staff_pages::layout(&req, &branding, &csrf, &admin);
    let page = OwnInvoicesPage {
        layout,
        invoices: list
            .into_iter()
            .rev()
            .map(|i| InvoiceView::new(i, lang))
            .collect(),
    };
    session::page(&req, StatusCode::OK, &page, &csrf)
}

#[get("/manage/admin/invoices/{number}")]
async fn show_own_invoice(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: PageAdmin,
    csrf: Csrf,
    lang: Lang,
    number: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let Some(admin) = who.0 else {
        return Ok(session::to_sign_in(&req));
    };
    let number = number.into_inner();
    // Only this province's own invoices.
    let inv = own_invoices(&admin, &state)
        .await?
        .into_iter()
        .find(|i| i.number == number)
        .ok_or(AppError::NotFound)?;
    let branding = crate::app::province_admin::branding(&state, &admin.province.tenant).await?;
    let layout = crate::web::province::staff_pages::layout(&req, &branding, &csrf, &admin);
    let page = PrintPage {
        layout,
        inv: InvoiceView::new(inv, lang),
        back: "/manage/admin/invoices".into(),
    };
    session::page(&req, StatusCode::OK, &page, &csrf)
}
