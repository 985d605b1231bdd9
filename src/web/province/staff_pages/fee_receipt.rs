//! The fee e-receipt (biên lai điện tử) of a dossier, printable on A4 or A5: for its owner
//! and for the staff whose units decide it; staff void it behind a confirmation page that says
//! what will happen (a replacement with the next number; nothing is erased).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use super::layout;
use crate::app::{self, fee_receipts::FeeReceipts};
use crate::dossiers::fee_receipts::FeeReceiptRow;
use crate::dossiers::tracking;
use crate::error::{AppError, FieldErrors};
use crate::web::AppState;
use crate::web::extract::Province;
use crate::web::pages::{Layout, tr};
use crate::web::province::citizen_pages;
use crate::web::province::citizen_pages::view::{date, local_time, vnd};
use crate::web::session::{self, Csrf, PageCitizen, PageStaff};

/// `?paper=a5` prints on A5; anything else on A4.
#[derive(Debug, Deserialize)]
pub struct PaperQuery {
    paper: Option<String>,
}

impl PaperQuery {
    fn a5(&self) -> bool {
        self.paper.as_deref() == Some("a5")
    }
}

/// A voided receipt, as listed under the one in force.
struct VoidedLine {
    label: String,
    issued_on: String,
    voided_at: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "staff/fee_receipt.html")]
struct FeeReceiptPage {
    layout: Layout,
    back: String,
    here: String,
    a5: bool,
    province: String,
    issuer: String,
    template: String,
    symbol: String,
    number: String,
    issued_on: String,
    code: String,
    payer: String,
    description: String,
    amount: String,
    amount_words: String,
    legal_basis: String,
    payment_method: &'static str,
    /// "HNO-26E số 0000001", when this one replaces a voided receipt.
    replaces: String,
    voided: Vec<VoidedLine>,
    /// Staff only: the confirmation page of a void.
    void_href: String,
}

fn label(r: &FeeReceiptRow) -> String {
    format!("{} – {}", r.symbol(), r.number_text())
}

fn page(
    layout: Layout,
    province: String,
    back: String,
    here: String,
    found: &FeeReceipts,
    void_href: String,
    a5: bool,
) -> Result<FeeReceiptPage, AppError> {
    let lang = layout.lang;
    let r = found
        .current()
        .or(found.receipts.last())
        .ok_or(AppError::NotFound)?;
    let replaces = r
        .replaces_id
        .and_then(|id| found.by_id(id))
        .map(label)
        .unwrap_or_default();
    let voided = found
        .receipts
        .iter()
        .filter(|o| o.voided_at.is_some())
        .map(|o| VoidedLine {
            label: label(o),
            issued_on: date(o.issued_on),
            voided_at: o.voided_at.map(local_time).unwrap_or_default(),
            reason: o.void_reason.clone().unwrap_or_default(),
        })
        .collect();
    Ok(FeeReceiptPage {
        back,
        here,
        a5,
        province,
        issuer: r.issuer_name.clone(),
        template: r.template.clone(),
        symbol: r.symbol(),
        number: r.number_text(),
        issued_on: date(r.issued_on),
        code: found.dossier.tracking_code.clone(),
        payer: r.payer_name.clone(),
        description: r.description.clone(),
        amount: vnd(r.amount_vnd, lang),
        amount_words: r.amount_words.clone(),
        legal_basis: r.legal_basis.clone(),
        payment_method: match r.payment_method.as_str() {
            "online" => tr(lang, "fee_paid_online"),
            "transfer" => tr(lang, "fee_paid_transfer"),
            _ => tr(lang, "fee_paid_counter"),
        },
        replaces,
        voided,
        void_href: if r.voided_at.is_none() {
            void_href
        } else {
            String::new()
        },
        layout,
    })
}

/// `GET /manage/dossiers/{code}/fee-receipt[?paper=a5]`: staff whose units decide the dossier.
#[get("/manage/dossiers/{code}/fee-receipt")]
pub async fn show_staff_fee_receipt(
    req: HttpRequest,
    who: PageStaff,
    state: web::Data<AppState>,
    csrf: Csrf,
    code: web::Path<String>,
    paper: web::Query<PaperQuery>,
) -> Result<HttpResponse, AppError> {
    let Some(staff) = who.0 else {
        return Ok(session::to_sign_in(&req));
    };
    let tenant = &staff.province.tenant;
    let found = app::fee_receipts::for_staff(&state, &staff.actor(), tenant, &code).await?;
    let branding = app::province_admin::branding(&state, tenant).await?;
    let code = &found.dossier.tracking_code;
    let view = page(
        layout(&req, &branding, &csrf, &staff),
        branding.display_name.clone(),
        format!("/manage/dossiers/{code}"),
        format!("/manage/dossiers/{code}/fee-receipt"),
        &found,
        format!("/manage/dossiers/{code}/fee-receipt/void"),
        paper.a5(),
    )?;
    session::page(&req, StatusCode::OK, &view, &csrf)
}

/// `GET /dossiers/{code}/fee-receipt[?paper=a5]`: the dossier's owner (anyone else 404).
#[get("/dossiers/{code}/fee-receipt")]
pub async fn show_citizen_fee_receipt(
    req: HttpRequest,
    province: Province,
    who: PageCitizen,
    csrf: Csrf,
    code: web::Path<String>,
    paper: web::Query<PaperQuery>,
) -> Result<HttpResponse, AppError> {
    let Some(citizen) = who.0 else {
        return Ok(session::to_sign_in(&req));
    };
    let found = app::fee_receipts::for_owner(&province.db, citizen.id, &code).await?;
    let branding = citizen_pages::branding(&req, &province).await?;
    let code = &found.dossier.tracking_code;
    let view = page(
        citizen_pages::layout(&req, &branding, &csrf, Some(&citizen)),
        branding.display_name.clone(),
        format!("/dossiers/{code}"),
        format!("/dossiers/{code}/fee-receipt"),
        &found,
        String::new(),
        paper.a5(),
    )?;
    session::page(&req, StatusCode::OK, &view, &csrf)
}

#[derive(Template)]
#[template(path = "staff/fee_receipt_void.html")]
struct VoidPage {
    layout: Layout,
    code: String,
    label: String,
    amount: String,
    payer: String,
    reason: String,
    errors: FieldErrors,
}

impl VoidPage {
    fn error(&self, field: &str) -> String {
        self.errors
            .get(field)
            .map(|m| m.get(self.layout.lang).to_string())
            .unwrap_or_default()
    }
}

async fn void_page(
    req: &HttpRequest,
    state: &AppState,
    staff: &crate::web::extract::StaffUser,
    csrf: &Csrf,
    code: &str,
    reason: String,
    errors: FieldErrors,
) -> Result<VoidPage, AppError> {
    let tenant = &staff.province.tenant;
    let found = app::fee_receipts::for_staff(state, &staff.actor(), tenant, code).await?;
    let current = found.current().ok_or(AppError::NotFound)?;
    let branding = app::province_admin::branding(state, tenant).await?;
    let layout = layout(req, &branding, csrf, staff);
    Ok(VoidPage {
        label: label(current),
        amount: vnd(current.amount_vnd, layout.lang),
        payer: current.payer_name.clone(),
        code: found.dossier.tracking_code.clone(),
        layout,
        reason,
        errors,
    })
}

/// `GET /manage/dossiers/{code}/fee-receipt/void`: what a void does, the reason, confirm.
#[get("/manage/dossiers/{code}/fee-receipt/void")]
pub async fn confirm_void_fee_receipt(
    req: HttpRequest,
    who: PageStaff,
    state: web::Data<AppState>,
    csrf: Csrf,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let Some(staff) = who.0 else {
        return Ok(session::to_sign_in(&req));
    };
    let view = void_page(
        &req,
        &state,
        &staff,
        &csrf,
        &code,
        String::new(),
        FieldErrors::new(),
    )
    .await?;
    session::page(&req, StatusCode::OK, &view, &csrf)
}

#[derive(Debug, Deserialize)]
pub struct VoidForm {
    csrf: Option<String>,
    #[serde(default)]
    reason: String,
}

/// `POST /manage/dossiers/{code}/fee-receipt/void`: voids and replaces, then shows the
/// replacement (303); a missing reason comes back on the confirmation page (422).
#[post("/manage/dossiers/{code}/fee-receipt/void")]
pub async fn void_fee_receipt(
    req: HttpRequest,
    who: PageStaff,
    state: web::Data<AppState>,
    csrf: Csrf,
    code: web::Path<String>,
    form: web::Form<VoidForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    csrf.verify(form.csrf.as_deref())?;
    let code = tracking::normalize(&code);
    let Some(staff) = who.0 else {
        return Ok(session::sign_in_then(&format!(
            "/manage/dossiers/{code}/fee-receipt"
        )));
    };
    let tenant = &staff.province.tenant;
    match app::fee_receipts::void(&state, &staff.actor(), tenant, &code, &form.reason).await {
        Ok(d) => Ok(session::see_other(&format!(
            "/manage/dossiers/{}/fee-receipt",
            d.dossier.tracking_code
        ))),
        Err(AppError::Invalid(errors)) => {
            let view = void_page(&req, &state, &staff, &csrf, &code, form.reason, errors).await?;
            session::page(&req, StatusCode::UNPROCESSABLE_ENTITY, &view, &csrf)
        }
        Err(e) => Err(e),
    }
}
