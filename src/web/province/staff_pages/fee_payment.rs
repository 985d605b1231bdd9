//! The fee on the staff's dossier page (issue 19): the "Thanh toán" block (amount, method,
//! transfer reference, state, e-receipt), and for a transfer the citizen chose, the page that
//! says what confirming it does and its post, which makes the same call as
//! `POST /api/v1/manage/dossiers/{code}/transfer-received` (`app::payments::confirm_transfer`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use super::layout;
use crate::app;
use crate::dossiers::fee_receipts::FeeReceiptView;
use crate::dossiers::tracking;
use crate::error::AppError;
use crate::lang::{Lang, Msg};
use crate::payments::state::{FeeMethod, FeeStage, FeeState};
use crate::payments::transfer::{LineOutcome, LineResult, StatementLine};
use crate::web::AppState;
use crate::web::extract::StaffUser;
use crate::web::pages::{Layout, tr};
use crate::web::province::citizen_pages::view::vnd;
use crate::web::session::{self, Csrf, PageStaff};

/// The block on the dossier page.
pub struct PaymentView {
    pub amount: String,
    pub method: &'static str,
    /// The transfer's content, for bank transfers.
    pub reference: String,
    pub state: &'static str,
    pub state_key: &'static str,
    /// "HNO-26E – 0000001", once the e-receipt is issued.
    pub receipt: String,
    /// A transfer awaits: the button to the confirmation page.
    pub confirm: bool,
}

/// The receipt as it is printed at its top: symbol and number.
pub fn receipt_label(r: &FeeReceiptView) -> String {
    format!("{} – {:07}", r.symbol, r.number)
}

pub fn payment_view(fee: &FeeState, receipt: Option<&FeeReceiptView>, lang: Lang) -> PaymentView {
    let method = match fee.method {
        FeeMethod::NotChosen => "fee_method_not_chosen",
        FeeMethod::Transfer => "fee_method_transfer",
        FeeMethod::Online => "fee_method_online",
        FeeMethod::Counter => "fee_method_counter",
    };
    PaymentView {
        amount: vnd(fee.amount_vnd, lang),
        method: tr(lang, method),
        reference: fee.reference.clone().unwrap_or_default(),
        state: tr(lang, &format!("fee_state_{}", fee.stage.as_str())),
        state_key: fee.stage.as_str(),
        receipt: match (fee.stage, receipt) {
            (FeeStage::Paid, Some(r)) => receipt_label(r),
            _ => String::new(),
        },
        confirm: fee.transfer_to_confirm().is_some(),
    }
}

#[derive(Template)]
#[template(path = "staff/transfer_received.html")]
struct TransferReceivedPage {
    layout: Layout,
    code: String,
    applicant: String,
    amount: String,
    /// The amount in đồng, for the form (the transfer's, as opened).
    amount_vnd: i64,
    reference: String,
    /// Why the post changed nothing (409), else empty.
    refusal: String,
    /// The form, while a transfer awaits confirmation.
    form: bool,
}

/// The confirmation page of the dossier's transfer, or `None` when no transfer awaits (the
/// dossier is paid, or the citizen has not chosen transfer). 404 as the API: a dossier the
/// staff member's units do not decide.
async fn confirmation(
    req: &HttpRequest,
    state: &AppState,
    staff: &StaffUser,
    csrf: &Csrf,
    code: &str,
) -> Result<(TransferReceivedPage, Option<String>), AppError> {
    let tenant = &staff.province.tenant;
    let found = app::staff::dossier(state, &staff.actor(), tenant, code).await?;
    if found.receipt_only {
        return Err(AppError::NotFound);
    }
    let branding = app::province_admin::branding(state, tenant).await?;
    let layout = layout(req, &branding, csrf, staff);
    let waiting = found
        .fee
        .as_ref()
        .and_then(|f| f.transfer_to_confirm().map(str::to_string));
    let amount_vnd = found
        .fee
        .as_ref()
        .map_or(found.dossier.fee_vnd, |f| f.amount_vnd);
    let page = TransferReceivedPage {
        code: found.dossier.tracking_code.clone(),
        applicant: found.dossier.applicant_name.clone(),
        amount: vnd(amount_vnd, layout.lang),
        amount_vnd,
        reference: waiting.clone().unwrap_or_default(),
        refusal: String::new(),
        form: waiting.is_some(),
        layout,
    };
    Ok((page, waiting))
}

/// `GET /manage/dossiers/{code}/transfer-received`: what confirming does, the reference and
/// the amount to find on the statement, and the button; nothing changes. Without a transfer
/// to confirm, back to the dossier (303).
#[get("/manage/dossiers/{code}/transfer-received")]
pub async fn confirm_transfer_page(
    req: HttpRequest,
    who: PageStaff,
    state: web::Data<AppState>,
    csrf: Csrf,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let Some(staff) = who.0 else {
        return Ok(session::to_sign_in(&req));
    };
    let (page, waiting) = confirmation(&req, &state, &staff, &csrf, &code).await?;
    if waiting.is_none() {
        return Ok(session::see_other(&format!(
            "/manage/dossiers/{}",
            page.code
        )));
    }
    session::page(&req, StatusCode::OK, &page, &csrf)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TransferReceivedForm {
    csrf: Option<String>,
    reference: String,
    amount_vnd: i64,
}

/// Why a line changed nothing, in words.
fn refusal(r: &LineResult, code: &str, lang: Lang) -> Msg {
    let reference = &r.reference;
    match r.outcome {
        LineOutcome::Paid => Msg::new("", ""),
        LineOutcome::AlreadyPaid => Msg::owned(
            format!(
                "Khoản chuyển khoản {reference} đã được xác nhận trước đó: lệ phí đã thanh toán và biên lai đã được cấp. Không có gì thay đổi."
            ),
            format!(
                "Transfer {reference} was confirmed before: the fee is paid and its receipt issued. Nothing changed."
            ),
        ),
        LineOutcome::AmountMismatch => {
            let expected = r.expected_vnd.map(|e| vnd(e, lang)).unwrap_or_default();
            let got = vnd(r.amount_vnd, lang);
            Msg::owned(
                format!(
                    "Số tiền {got} không khớp với khoản chuyển khoản {reference} ({expected}). Không có gì thay đổi."
                ),
                format!("{got} does not match transfer {reference} ({expected}). Nothing changed."),
            )
        }
        LineOutcome::UnknownReference => Msg::owned(
            format!(
                "Hồ sơ {code} không có khoản chuyển khoản nào với nội dung {reference}. Không có gì thay đổi."
            ),
            format!(
                "Dossier {code} has no transfer with the reference {reference}. Nothing changed."
            ),
        ),
        LineOutcome::NotAwaitingPayment => Msg::owned(
            format!(
                "Hồ sơ {code} không còn chờ thanh toán; khoản chuyển khoản {reference} không được ghi nhận. Nếu tỉnh đã nhận tiền, cần hoàn trả cho công dân."
            ),
            format!(
                "Dossier {code} no longer awaits payment; transfer {reference} is not recorded. If the province received the money, it must be refunded."
            ),
        ),
    }
}

/// `POST /manage/dossiers/{code}/transfer-received` (CSRF as every staff form): confirms the
/// transfer shown on the confirmation page, then the dossier with the acknowledgement (303);
/// a transfer confirmed before, or any line that changes nothing, comes back refused (409).
#[post("/manage/dossiers/{code}/transfer-received")]
pub async fn confirm_transfer_received(
    req: HttpRequest,
    who: PageStaff,
    state: web::Data<AppState>,
    csrf: Csrf,
    code: web::Path<String>,
    form: web::Form<TransferReceivedForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    csrf.verify(form.csrf.as_deref())?;
    let code = tracking::normalize(&code);
    let Some(staff) = who.0 else {
        return Ok(session::sign_in_then(&format!(
            "/manage/dossiers/{code}/transfer-received"
        )));
    };
    let line = StatementLine {
        reference: form.reference,
        amount_vnd: form.amount_vnd,
    };
    let tenant = &staff.province.tenant;
    let r = app::payments::confirm_transfer(&state, &staff.actor(), tenant, &code, line).await?;
    if r.outcome == LineOutcome::Paid {
        return Ok(session::see_other(&format!(
            "/manage/dossiers/{code}?done=transfer_received"
        )));
    }
    let (mut page, _) = confirmation(&req, &state, &staff, &csrf, &code).await?;
    page.refusal = refusal(&r, &code, page.layout.lang)
        .get(page.layout.lang)
        .to_string();
    session::page(&req, StatusCode::CONFLICT, &page, &csrf)
}
