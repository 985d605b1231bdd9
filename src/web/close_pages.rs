//! Closing a billing period from the operator console: a preview of what each province would
//! be invoiced (nothing written), then a confirmation form that closes through the same
//! application function as `POST /api/v1/billing/close`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use crate::billing::close::PreviewRow;
use crate::billing::money::Vnd;
use crate::error::AppError;
use crate::lang::Lang;
use crate::period::Period;
use crate::web::AppState;
use crate::web::operator_pages::PageOperator;
use crate::web::pages::Layout;
use crate::web::session::{self, Csrf};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(preview_close).service(confirm_close);
}

/// `vnd` with 0 written as "0 đ" (money on an invoice is never "free").
pub fn money(amount: i64, lang: Lang) -> String {
    if amount == 0 {
        return "0 đ".into();
    }
    crate::web::province::citizen_pages::view::vnd(amount, lang)
}

/// One province's row of the preview.
struct RowView {
    name: String,
    slug: String,
    issued: Option<String>,
    lines: usize,
    subtotal: String,
    vat: String,
    total: String,
}

#[derive(Template)]
#[template(path = "operator/close_preview.html")]
struct ClosePreviewPage {
    layout: Layout,
    period: String,
    rows: Vec<RowView>,
    /// Provinces closing would invoice now (not invoiced before).
    new_count: usize,
    closed_before: bool,
    subtotal: String,
    vat: String,
    total: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct CloseQuery {
    period: Option<String>,
}

/// The period asked, or last month (the one the monthly job closes).
fn period_or_last(p: Option<&str>) -> Result<Period, AppError> {
    match p.map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) => Period::parse(p).map_err(|m| AppError::invalid("period", m)),
        None => Ok(Period::of(crate::clock::today_vn()).prev()),
    }
}

/// `GET /billing/close?period=`: the totals per province that closing would issue, and the
/// form that confirms it. Reads only.
#[get("/billing/close")]
async fn preview_close(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: PageOperator,
    csrf: Csrf,
    lang: Lang,
    query: web::Query<CloseQuery>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = who.0 else {
        return Ok(session::see_other("/sign-in"));
    };
    let period = period_or_last(query.period.as_deref())?;
    let rows = crate::app::billing::preview_close(&state, period).await?;
    let closed_before = crate::app::billing::is_closed(&state, period).await?;
    let sum = |f: fn(&PreviewRow) -> Vnd| rows.iter().map(|r| f(r).0).sum::<i64>();
    let (subtotal, vat, total) = (sum(|r| r.subtotal), sum(|r| r.vat), sum(|r| r.total));
    let new_count = rows.iter().filter(|r| r.issued.is_none()).count();
    let rows = rows
        .into_iter()
        .map(|r| RowView {
            name: r.name,
            slug: r.slug,
            issued: r.issued,
            lines: r.lines,
            subtotal: money(r.subtotal.0, lang),
            vat: money(r.vat.0, lang),
            total: money(r.total.0, lang),
        })
        .collect();
    let layout = Layout::operator(&req).with_session(csrf.token(), Some(&user.email));
    let page = ClosePreviewPage {
        layout,
        period: period.to_string(),
        rows,
        new_count,
        closed_before,
        subtotal: money(subtotal, lang),
        vat: money(vat, lang),
        total: money(total, lang),
    };
    session::page(&req, StatusCode::OK, &page, &csrf)
}

#[derive(Debug, Default, Deserialize)]
pub struct CloseForm {
    csrf: Option<String>,
    #[serde(default)]
    period: String,
}

/// `POST /billing/close`: closes the period (the API's action, audited the same), then the
/// period's invoices with an acknowledgement.
#[post("/billing/close")]
async fn confirm_close(
    state: web::Data<AppState>,
    who: PageOperator,
    csrf: Csrf,
    form: web::Form<CloseForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(form.csrf.as_deref())?;
    let user = who.0.ok_or_else(AppError::unauthorized)?;
    let period = Period::parse(form.period.trim()).map_err(|m| AppError::invalid("period", m))?;
    let closed = crate::app::billing::close_period(&state, user.actor(), period).await?;
    Ok(session::see_other(&format!(
        "/invoices?period={period}&closed={}",
        closed.invoices.len()
    )))
}
