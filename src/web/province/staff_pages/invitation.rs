//! The invitation link from the mail: set a password once. An unknown, used or expired link
//! gets a friendly 404 page that says what to do.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use crate::accounts::staff;
use crate::app::province_admin;
use crate::error::AppError;
use crate::lang::Lang;
use crate::tenancy::branding::Branding;
use crate::web::AppState;
use crate::web::extract::Province;
use crate::web::pages::{Layout, tr};
use crate::web::province::citizen_pages::view::{ErrorLink, FieldView};
use crate::web::session::{self, Csrf};

#[derive(Template)]
#[template(path = "staff/invitation.html")]
struct InvitationPage {
    layout: Layout,
    errors: Vec<ErrorLink>,
    name: String,
    email: String,
    action: String,
    fields: Vec<FieldView>,
}

#[derive(Template)]
#[template(path = "staff/invitation_gone.html")]
struct InvitationGonePage {
    layout: Layout,
}

#[derive(Template)]
#[template(path = "staff/invitation_done.html")]
struct InvitationDonePage {
    layout: Layout,
}

fn plain_layout(req: &HttpRequest, branding: &Branding, csrf: &Csrf) -> Layout {
    Layout::province(req, &branding.display_name, branding).with_session(csrf.token(), None)
}

fn gone(req: &HttpRequest, branding: &Branding, csrf: &Csrf) -> Result<HttpResponse, AppError> {
    let page = InvitationGonePage {
        layout: plain_layout(req, branding, csrf),
    };
    session::page(req, StatusCode::NOT_FOUND, &page, csrf)
}

fn password_page(
    req: &HttpRequest,
    branding: &Branding,
    csrf: &Csrf,
    lang: Lang,
    account: &staff::StaffAccount,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let errors = error
        .iter()
        .map(|m| ErrorLink {
            href: "#password".into(),
            message: m.clone(),
        })
        .collect();
    let field = FieldView::plain(
        "password",
        tr(lang, "password"),
        "password",
        "new-password",
        "",
        error.as_deref(),
    )
    .with_hint(tr(lang, "password_hint"));
    let page = InvitationPage {
        layout: plain_layout(req, branding, csrf),
        errors,
        name: account.full_name.clone(),
        email: account.email.clone(),
        action: req.path().to_string(),
        fields: vec![field],
    };
    session::page(req, status, &page, csrf)
}

/// Who the link is for and the password form; or the friendly 404.
#[get("/invitations/{token}")]
pub async fn show_invitation(
    req: HttpRequest,
    state: web::Data<AppState>,
    province: Province,
    csrf: Csrf,
    lang: Lang,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let branding = province_admin::branding(&state, &province.tenant).await?;
    let account = province_admin::pending_invitation(&state, &province.tenant, &token).await?;
    match account {
        Some(account) => password_page(&req, &branding, &csrf, lang, &account, None),
        None => gone(&req, &branding, &csrf),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PasswordForm {
    csrf: Option<String>,
    password: String,
}

/// Sets the password through `staff::accept_invitation`, which spends the link.
#[post("/invitations/{token}")]
pub async fn set_invited_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    province: Province,
    csrf: Csrf,
    lang: Lang,
    token: web::Path<String>,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    csrf.verify(form.csrf.as_deref())?;
    let branding = province_admin::branding(&state, &province.tenant).await?;
    let accepted =
        province_admin::accept_invitation(&state, &province.tenant, &token, form.password).await;
    match accepted {
        Ok(_) => Ok(session::see_other("/invitations/accepted")),
        // Unknown, used or expired (also spent meanwhile): the same friendly page.
        Err(AppError::NotFound) => gone(&req, &branding, &csrf),
        // A weak password: the form again, with the reason beside it.
        Err(AppError::Invalid(fields)) => {
            let account = province_admin::pending_invitation(&state, &province.tenant, &token)
                .await?
                .ok_or(AppError::NotFound)?;
            let error = fields.get("password").map(|m| m.get(lang).to_string());
            password_page(&req, &branding, &csrf, lang, &account, error)
        }
        Err(e) => Err(e),
    }
}

#[get("/invitations/accepted")]
pub async fn show_invitation_done(
    req: HttpRequest,
    state: web::Data<AppState>,
    province: Province,
    csrf: Csrf,
) -> Result<HttpResponse, AppError> {
    let branding = province_admin::branding(&state, &province.tenant).await?;
    let page = InvitationDonePage {
        layout: plain_layout(&req, &branding, &csrf),
    };
    session::page(&req, StatusCode::OK, &page, &csrf)
}
