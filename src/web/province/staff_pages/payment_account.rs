//! The province admin's receiving bank account for fees paid by transfer (VietQR): the same
//! check and audit as `PUT /api/v1/manage/payment-account`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use super::{labelled_errors, layout};
use crate::app::{App, payments, province_admin};
use crate::error::{AppError, FieldErrors};
use crate::lang::Lang;
use crate::payments::transfer::AccountInput;
use crate::web::AppState;
use crate::web::extract::StaffUser;
use crate::web::pages::{Layout, tr};
use crate::web::province::citizen_pages::view::{ErrorLink, FieldView};
use crate::web::session::{self, Csrf, PageAdmin};

#[derive(Template)]
#[template(path = "staff/payment_account.html")]
struct PaymentAccountPage {
    layout: Layout,
    errors: Vec<ErrorLink>,
    notice: String,
    fields: Vec<FieldView>,
}

async fn render(
    req: &HttpRequest,
    app: &App,
    admin: &StaffUser,
    csrf: &Csrf,
    lang: Lang,
    (sent, errors): (Option<AccountInput>, FieldErrors),
    notice: &str,
) -> Result<HttpResponse, AppError> {
    let tenant = &admin.province.tenant;
    let branding = province_admin::branding(app, tenant).await?;
    let input = match sent {
        Some(i) => i,
        None => payments::account(app, tenant)
            .await?
            .map(|a| AccountInput {
                bank_bin: a.bank_bin,
                account_number: a.account_number,
                account_name: a.account_name,
            })
            .unwrap_or_default(),
    };
    let err = |k: &str| errors.get(k).map(|m| m.get(lang).to_string());
    let field = |name: &str, value: &str, max: usize| {
        let mut f = FieldView::plain(
            name,
            tr(lang, &format!("account_{name}")),
            "text",
            "off",
            value,
            err(name).as_deref(),
        )
        .with_hint(tr(lang, &format!("account_{name}_hint")));
        f.maxlength = max;
        f.required = true;
        f
    };
    let fields = vec![
        field("bank_bin", &input.bank_bin, 6),
        field("account_number", &input.account_number, 30),
        field("account_name", &input.account_name, 80),
    ];
    let errors = labelled_errors(&fields, &errors, lang);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = PaymentAccountPage {
        layout: layout(req, &branding, csrf, admin),
        errors,
        notice: notice.to_string(),
        fields,
    };
    session::page(req, status, &page, csrf)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SavedQuery {
    saved: Option<String>,
}

/// `GET /manage/admin/payment-account`: the account citizens' transfers go to.
#[get("/manage/admin/payment-account")]
pub async fn show_payment_account(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: PageAdmin,
    csrf: Csrf,
    lang: Lang,
    query: web::Query<SavedQuery>,
) -> Result<HttpResponse, AppError> {
    let Some(admin) = who.0 else {
        return Ok(session::to_sign_in(&req));
    };
    let notice = match query.saved.as_deref() {
        Some(_) => tr(lang, "account_saved"),
        None => "",
    };
    render(
        &req,
        &state,
        &admin,
        &csrf,
        lang,
        (None, FieldErrors::new()),
        notice,
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AccountForm {
    csrf: Option<String>,
    bank_bin: String,
    account_number: String,
    account_name: String,
}

/// `POST /manage/admin/payment-account`: saved when every field passes (422 on the page).
#[post("/manage/admin/payment-account")]
pub async fn save_payment_account(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: PageAdmin,
    csrf: Csrf,
    lang: Lang,
    form: web::Form<AccountForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    csrf.verify(form.csrf.as_deref())?;
    let Some(admin) = who.0 else {
        return Ok(session::sign_in_then("/manage/admin/payment-account"));
    };
    let input = AccountInput {
        bank_bin: form.bank_bin,
        account_number: form.account_number,
        account_name: form.account_name,
    };
    let (actor, tenant) = (admin.actor(), &admin.province.tenant);
    match payments::save_account(&state, &actor, tenant, &input).await {
        Ok(_) => Ok(session::see_other("/manage/admin/payment-account?saved=1")),
        Err(AppError::Invalid(errors)) => {
            render(&req, &state, &admin, &csrf, lang, (Some(input), errors), "").await
        }
        Err(e) => Err(e),
    }
}
