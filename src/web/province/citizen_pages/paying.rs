//! Paying a fee from the citizen's pages: a page that shows the amount and the ways to pay
//! (card or wallet through the provider, bank transfer with a VietQR code, at the counter) and
//! asks to confirm; nothing is charged before the confirmation is posted. The transfer's and
//! the counter's instructions follow.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use super::replies::Attempt;
use super::{branding, dossiers::render_dossier, layout, view};
use crate::app::payments;
use crate::dossiers::status::Status;
use crate::dossiers::tracking;
use crate::error::AppError;
use crate::lang::Lang;
use crate::payments::transfer::Transfer;
use crate::web::AppState;
use crate::web::extract::Province;
use crate::web::pages::Layout;
use crate::web::province::dossier_api::{PayMethod, move_context};
use crate::web::qr::QrSvg;
use crate::web::session::{self, Csrf, PageCitizen};

/// One way to pay, as a radio button.
struct MethodOption {
    value: &'static str,
    label: &'static str,
    hint: &'static str,
    checked: bool,
}

/// Which of the pay pages: the choice of method, a transfer's instructions, or the counter's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PayMode {
    Choose,
    Transfer,
    Counter,
}

#[derive(Template)]
#[template(path = "citizen/pay.html")]
struct PayPage {
    layout: Layout,
    code: String,
    procedure_name: String,
    amount: String,
    mode: PayMode,
    methods: Vec<MethodOption>,
    transfer: Option<TransferLines>,
    hotline: String,
    address: String,
    /// A transfer is open already: the choice page links to its instructions.
    has_transfer: bool,
}

/// The transfer's instructions, ready to show.
struct TransferLines {
    bank_bin: String,
    account_number: String,
    account_name: String,
    reference: String,
    qr: Option<QrSvg>,
}

impl TransferLines {
    fn new(t: Transfer) -> TransferLines {
        TransferLines {
            qr: crate::web::qr::svg(&t.qr_payload),
            bank_bin: t.account.bank_bin,
            account_number: t.account.account_number,
            account_name: t.account.account_name,
            reference: t.reference,
        }
    }
}

fn method_options(lang: Lang, online: bool, transfers: bool) -> Vec<MethodOption> {
    let t = |key| crate::web::pages::tr(lang, key);
    let mut out = Vec::new();
    if online {
        out.push(MethodOption {
            value: "card",
            label: t("pay_card"),
            hint: t("pay_card_hint"),
            checked: false,
        });
    }
    if transfers {
        out.push(MethodOption {
            value: "bank_transfer",
            label: t("pay_transfer"),
            hint: t("pay_transfer_hint"),
            checked: false,
        });
    }
    out.push(MethodOption {
        value: "counter",
        label: t("pay_counter"),
        hint: t("pay_counter_hint"),
        checked: false,
    });
    if let Some(first) = out.first_mut() {
        first.checked = true;
    }
    out
}

/// The page in `mode` for the citizen's dossier `code` (404 for another's).
/// The three pay routes differ only by `mode`: a signed-out visitor goes to sign in.
async fn pay_page(
    req: &HttpRequest,
    province: &Province,
    state: &AppState,
    who: PageCitizen,
    csrf: &Csrf,
    code: &str,
    mode: PayMode,
) -> Result<HttpResponse, AppError> {
    let Some(citizen) = who.0 else {
        return Ok(session::to_citizen_sign_in(req));
    };
    let citizen = &citizen;
    let code = tracking::normalize(code);
    let lang = Lang::of(req);
    let choice = payments::pay_choice(&province.db, citizen.id, code).await?;
    let d = &choice.dossier;
    // Only while the fee is asked for; afterwards the dossier page says what happened.
    if d.status() != Status::PaymentRequested {
        return Ok(session::see_other(&format!(
            "/dossiers/{}",
            d.tracking_code
        )));
    }
    let transfer = match mode {
        PayMode::Transfer => match choice.pending.clone() {
            Some(t) => Some(TransferLines::new(t)),
            None => {
                return Ok(session::see_other(&format!(
                    "/dossiers/{}/pay",
                    d.tracking_code
                )));
            }
        },
        _ => None,
    };
    let branding = branding(req, province).await?;
    let page = PayPage {
        layout: layout(req, &branding, csrf, Some(citizen)),
        procedure_name: crate::dossiers::view::procedure_name(&d.procedure_code, lang),
        amount: view::vnd(d.fee_vnd, lang),
        mode,
        methods: method_options(lang, state.fees.online(), choice.transfers),
        transfer,
        hotline: branding.hotline.clone(),
        address: branding.address.clone(),
        has_transfer: choice.pending.is_some(),
        code: d.tracking_code.clone(),
    };
    session::page(req, StatusCode::OK, &page, csrf)
}

/// `GET /dossiers/{code}/pay`: the amount, the ways to pay, and the confirmation. Reads only.
#[get("/dossiers/{code}/pay")]
pub async fn show_pay(
    req: HttpRequest,
    province: Province,
    state: web::Data<AppState>,
    who: PageCitizen,
    csrf: Csrf,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    pay_page(&req, &province, &state, who, &csrf, &code, PayMode::Choose).await
}

/// `GET /dossiers/{code}/pay/transfer`: the open transfer's account, amount, reference and
/// VietQR code.
#[get("/dossiers/{code}/pay/transfer")]
pub async fn show_transfer(
    req: HttpRequest,
    province: Province,
    state: web::Data<AppState>,
    who: PageCitizen,
    csrf: Csrf,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    pay_page(
        &req,
        &province,
        &state,
        who,
        &csrf,
        &code,
        PayMode::Transfer,
    )
    .await
}

/// `GET /dossiers/{code}/pay/counter`: where and how much to pay in person.
#[get("/dossiers/{code}/pay/counter")]
pub async fn show_counter(
    req: HttpRequest,
    province: Province,
    state: web::Data<AppState>,
    who: PageCitizen,
    csrf: Csrf,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    pay_page(&req, &province, &state, who, &csrf, &code, PayMode::Counter).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PayForm {
    csrf: Option<String>,
    method: Option<String>,
}

/// `POST /dossiers/{code}/pay`: the confirmation. `card` (also without `method`, as the form
/// before methods sent it) pays through the provider as `POST …/pay` does; `bank_transfer`
/// opens the transfer and shows it; `counter` shows the desk's instructions.
#[post("/dossiers/{code}/pay")]
pub async fn pay_dossier_page(
    req: HttpRequest,
    province: Province,
    state: web::Data<AppState>,
    who: PageCitizen,
    csrf: Csrf,
    code: web::Path<String>,
    form: web::Form<PayForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    csrf.verify(form.csrf.as_deref())?;
    let code = tracking::normalize(&code);
    let Some(citizen) = who.0 else {
        return Ok(session::citizen_sign_in_then(
            &req,
            &format!("/dossiers/{code}"),
        ));
    };
    let conflict = |e: AppError| match e {
        AppError::Conflict { msg, .. } => Ok(Attempt {
            conflict: Some(("history", msg)),
            status: StatusCode::CONFLICT,
            ..Attempt::default()
        }),
        e => Err(e),
    };
    let method = match PayMethod::parse(form.method.as_deref()) {
        Ok(m) => m,
        Err(_) => return Ok(session::see_other(&format!("/dossiers/{code}/pay"))),
    };
    match method {
        PayMethod::BankTransfer => {
            match payments::open_transfer(&province.db, citizen.id, code.clone()).await {
                Ok(_) => {
                    return Ok(session::see_other(&format!(
                        "/dossiers/{code}/pay/transfer"
                    )));
                }
                Err(e) => {
                    let attempt = conflict(e)?;
                    return render_dossier(&req, &province, &state, &citizen, &csrf, code, attempt)
                        .await;
                }
            }
        }
        PayMethod::Counter => {
            return Ok(session::see_other(&format!("/dossiers/{code}/pay/counter")));
        }
        PayMethod::Card => {}
    }
    let cx = move_context(&province, &state).await?;
    let return_url = format!("{}/dossiers/{code}", cx.mail.site_url);
    let paid = crate::payments::pay(
        &province.db,
        state.fees.clone(),
        cx,
        code.clone(),
        citizen.id,
        return_url,
    )
    .await;
    match paid {
        Ok(crate::payments::FeeOutcome::Paid(_)) => {
            Ok(session::see_other(&format!("/dossiers/{code}")))
        }
        // Off to the provider's own page; its webhook moves the dossier on.
        Ok(crate::payments::FeeOutcome::PayAt { url, .. }) => Ok(HttpResponse::SeeOther()
            .insert_header((actix_web::http::header::LOCATION, url))
            .finish()),
        Err(e) => {
            let attempt = conflict(e)?;
            render_dossier(&req, &province, &state, &citizen, &csrf, code, attempt).await
        }
    }
}
