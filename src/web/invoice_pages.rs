//! Invoices in the browser: the operator's invoices per period (filter by status, record a
//! bank transfer, void with a reason, send again to Stripe), a printable invoice in the national
//! layout, and the province admin's list with the same printable view.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use crate::app::invoices;
use crate::billing::invoice::{Invoice, InvoiceStatus};
use crate::billing::table::{Filter, Sort};
use crate::clock::today_vn;
use crate::error::AppError;
use crate::lang::Lang;
use crate::period::Period;
use crate::web::AppState;
use crate::web::invoice_print::{LineView, line_view, money as print_money};
use crate::web::operator_pages::PageOperator;
use crate::web::pages::{Layout, tr};
use crate::web::province::citizen_pages::view::{date, local_time, vnd};
use crate::web::session::{self, Csrf, PageAdmin};

pub fn operator_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(show_invoices)
        .service(export_invoices_page)
        .service(show_invoice)
        .service(pay_invoice_form)
        .service(void_invoice_form)
        .service(send_invoice_form);
}

pub fn province_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(show_own_invoices).service(show_own_invoice);
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
    /// The last day to pay (issue date + the payment days).
    pub due: String,
    /// The total in Vietnamese words ("Tám mươi tám triệu đồng").
    pub words: String,
    /// `10% × 80.000.000 đ = 8.000.000 đ`.
    pub vat_calc: String,
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
        let days = Period::parse(&inv.period).ok().map(Period::days);
        InvoiceView {
            status_label: tr(lang, inv.status.label_key()),
            bank_only: !inv.within_stripe_cap(),
            lines: inv.lines.iter().map(|l| line_view(l, days, lang)).collect(),
            due: date(crate::billing::table::due_on(inv.issued_at)),
            words: crate::billing::words::in_words(crate::billing::money::Vnd(inv.total_vnd)),
            vat_calc: format!(
                "{} × {} = {}",
                inv.vat_rate_percent,
                print_money(inv.subtotal_vnd),
                print_money(inv.vat_vnd)
            ),
            subtotal: money(inv.subtotal_vnd, lang),
            vat: money(inv.vat_vnd, lang),
            total: money(inv.total_vnd, lang),
            issued: local_date(inv.issued_at),
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

/// One invoice's row of the table.
struct TableRow {
    number: String,
    period: String,
    province: String,
    slug: String,
    status: InvoiceStatus,
    status_label: &'static str,
    total: String,
    paid: String,
    /// Paid on, and the transfer's reference.
    paid_on: Option<String>,
    reference: Option<String>,
    due: String,
    /// Unpaid past its due date.
    overdue: bool,
}

#[derive(Template)]
#[template(path = "operator/invoices.html")]
struct InvoicesPage {
    layout: Layout,
    /// The filters as typed (`period` empty: every period).
    period: String,
    status: String,
    statuses: [InvoiceStatus; 3],
    province: String,
    sort: String,
    sorts: [(Sort, &'static str); 3],
    rows: Vec<TableRow>,
    /// Over every matching invoice, not only this page.
    count: i64,
    total: String,
    paid: String,
    outstanding: String,
    /// `from`–`to` of `count` shown; the other pages' addresses.
    from: i64,
    to: i64,
    prev: Option<String>,
    next: Option<String>,
    csv: String,
    /// After a close from the console: how many invoices the period has.
    closed: Option<usize>,
    /// After recording a transfer or a void: which invoice.
    paid_notice: Option<String>,
    voided_notice: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    period: Option<String>,
    status: Option<String>,
    /// Part of a province's name or slug.
    province: Option<String>,
    sort: Option<String>,
    page: Option<i64>,
    /// Rows per page, 1..=200 (50 when absent).
    per: Option<i64>,
    /// Set by the close form's redirect: the acknowledgement.
    closed: Option<usize>,
    /// Set after recording a transfer or voiding: the invoice's number.
    paid: Option<String>,
    voided: Option<String>,
}

/// Absent: last month; empty: every period; else the period asked.
fn period_filter(p: Option<&str>) -> Result<Option<Period>, AppError> {
    match p.map(str::trim) {
        None => Ok(Some(Period::of(today_vn()).prev())),
        Some("") => Ok(None),
        Some(p) => Period::parse(p)
            .map(Some)
            .map_err(|m| AppError::invalid("period", m)),
    }
}

/// `?period=…&status=…` with the filters (and sort) kept, for links and the CSV.
fn filter_query(period: &str, status: &str, province: &str, sort: &str) -> String {
    use crate::web::session::percent_encode;
    format!(
        "period={}&status={}&province={}&sort={}",
        percent_encode(period),
        percent_encode(status),
        percent_encode(province),
        percent_encode(sort)
    )
}

/// A bank reference as stored (`bank:VCB-…`) in words.
fn reference_text(reference: &str, lang: Lang) -> String {
    match reference.split_once(':') {
        Some(("bank", r)) => format!("{} {r}", tr(lang, "inv_ref_bank")),
        Some(("stripe", r)) => format!("Stripe {r}"),
        _ => reference.to_string(),
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
    let period = period_filter(query.period.as_deref())?;
    let status = invoices::parse_status(query.status.as_deref())?;
    let sort = Sort::parse(query.sort.as_deref())?;
    let province = query.province.clone().unwrap_or_default();
    let per = query.per.unwrap_or(50).clamp(1, 200);
    let page_no = query.page.unwrap_or(1).max(1);
    let filter = Filter {
        period,
        status,
        province: Some(province.clone()),
    };
    let (rows, totals) = invoices::table(&state, filter, sort, page_no, per).await?;
    let today = today_vn();
    let rows = rows
        .into_iter()
        .map(|r| {
            let st = r.status()?;
            Ok(TableRow {
                status_label: tr(lang, st.label_key()),
                total: money(r.total_vnd, lang),
                paid: money(r.paid_vnd(), lang),
                paid_on: r.paid_at.map(local_date),
                reference: r
                    .payment_reference
                    .as_deref()
                    .map(|x| reference_text(x, lang)),
                due: date(r.due_on()),
                overdue: st.is_open() && r.due_on() < today,
                status: st,
                number: r.number,
                period: r.period,
                province: r.name,
                slug: r.slug,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    let period = period.map(|p| p.to_string()).unwrap_or_default();
    let status = status
        .map(InvoiceStatus::as_str)
        .unwrap_or_default()
        .to_string();
    let q = filter_query(&period, &status, &province, sort.as_str());
    let from = (page_no - 1) * per + 1;
    let to = (from - 1 + rows.len() as i64).max(0);
    let prev = (page_no > 1).then(|| format!("/invoices?{q}&per={per}&page={}", page_no - 1));
    let next = (to < totals.count).then(|| format!("/invoices?{q}&per={per}&page={}", page_no + 1));
    let layout = Layout::operator(&req).with_session(csrf.token(), Some(&user.email));
    let page = InvoicesPage {
        layout,
        csv: format!("/invoices.csv?{q}"),
        period,
        status,
        statuses: InvoiceStatus::ALL,
        province,
        sort: sort.as_str().to_string(),
        sorts: [
            (Sort::Number, "inv_sort_number"),
            (Sort::Province, "inv_sort_province"),
            (Sort::TotalDesc, "inv_sort_total"),
        ],
        from: if rows.is_empty() { 0 } else { from },
        to,
        rows,
        count: totals.count,
        total: money(totals.total_vnd, lang),
        paid: money(totals.paid_vnd, lang),
        outstanding: money(totals.total_vnd - totals.paid_vnd, lang),
        prev,
        next,
        closed: query.closed,
        paid_notice: query.paid.clone(),
        voided_notice: query.voided.clone(),
    };
    session::page(&req, StatusCode::OK, &page, &csrf)
}

/// `GET /invoices.csv?…`: exactly the table's invoices (every page), as a file.
#[get("/invoices.csv")]
async fn export_invoices_page(
    state: web::Data<AppState>,
    who: PageOperator,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    if who.0.is_none() {
        return Ok(session::see_other("/sign-in"));
    }
    let period = period_filter(query.period.as_deref())?;
    let filter = Filter {
        period,
        status: invoices::parse_status(query.status.as_deref())?,
        province: query.province.clone(),
    };
    let rows = invoices::export(&state, filter, Sort::parse(query.sort.as_deref())?).await?;
    let what = period.map_or_else(|| "tat-ca".to_string(), |p| p.to_string());
    crate::web::invoice_csv::response(&rows, &what)
}

#[derive(Template)]
#[template(path = "invoice_print.html")]
struct PrintPage {
    layout: Layout,
    inv: InvoiceView,
    back: String,
    /// The operator's forms under the document (never printed); none for a province admin.
    actions: bool,
    /// A payment provider is configured: its state and the send form are shown.
    stripe: bool,
    seller: crate::config::SellerSettings,
    einvoice: crate::einvoice::reference::EInvoiceRef,
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
        einvoice: invoices::einvoice_ref(&state, &inv.number).await?,
        inv: InvoiceView::new(inv, lang),
        back,
        actions: true,
        stripe: state.invoices.name() != "offline",
        seller: state.settings.seller.clone(),
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

/// Back to the period's list after a form, acknowledging what was done (`done`: `paid` or
/// `voided`) to invoice `number`.
async fn back_to_list(
    state: &AppState,
    number: String,
    done: &str,
) -> Result<HttpResponse, AppError> {
    let period = match invoices::find(state, &number).await {
        Ok(i) => i.period,
        Err(AppError::NotFound) => String::new(),
        Err(e) => return Err(e),
    };
    let number = crate::web::session::percent_encode(&number);
    Ok(session::see_other(&format!(
        "/invoices?period={period}&{done}={number}"
    )))
}

/// An invoice's date (issue, payment) in Vietnam.
fn local_date(at: chrono::DateTime<chrono::Utc>) -> String {
    date(crate::clock::vn_date(at))
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
    back_to_list(&state, number, "paid").await
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
    back_to_list(&state, number, "voided").await
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
    // A provider failure is recorded on the invoice and shown on its page: back there.
    match invoices::send(&state, &user.actor(), &number).await {
        Ok(_) | Err(AppError::Unavailable(_)) => {}
        Err(e) => return Err(e),
    }
    Ok(session::see_other(&format!(
        "/invoices/{}",
        crate::web::session::percent_encode(&number)
    )))
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
        einvoice: invoices::einvoice_ref(&state, &inv.number).await?,
        inv: InvoiceView::new(inv, lang),
        back: "/manage/admin/invoices".into(),
        actions: false,
        stripe: false,
        seller: state.settings.seller.clone(),
    };
    session::page(&req, StatusCode::OK, &page, &csrf)
}
