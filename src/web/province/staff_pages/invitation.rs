//! The invitation link from the mail: set a password once. An unknown, used or expired link
//! gets a friendly 404 page that says what to do.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use crate::accounts::citizens::check_password;
use crate::accounts::{Email, password, staff};
use crate::error::AppError;
use crate::lang::Lang;
use crate::tenancy::branding::{self, Branding};
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
    province: Province,
    csrf: Csrf,
    lang: Lang,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let (branding, account) = province
        .db
        .run(move |conn| {
            Ok((
                branding::load(conn)?,
                staff::pending_invitation(conn, &token)?,
            ))
        })
        .await?;
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
    province: Province,
    csrf: Csrf,
    lang: Lang,
    token: web::Path<String>,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    csrf.verify(form.csrf.as_deref())?;
    let token = token.into_inner();
    let t = token.clone();
    let (branding, account) = province
        .db
        .run(move |conn| Ok((branding::load(conn)?, staff::pending_invitation(conn, &t)?)))
        .await?;
    let Some(account) = account else {
        return gone(&req, &branding, &csrf);
    };
    let email = Email::parse(&account.email).ok();
    if let Err(m) = check_password(&form.password, email.as_ref()) {
        let error = Some(m.get(lang).to_string());
        return password_page(&req, &branding, &csrf, lang, &account, error);
    }
    let pw = form.password;
    let hash = crate::web::in_span(move || password::hash(&pw)).await??;
    let accepted = province
        .db
        .run(move |conn| staff::accept_invitation(conn, &token, &hash))
        .await;
    match accepted {
        Ok(_) => Ok(session::see_other("/invitations/accepted")),
        // Spent between the two reads: the same friendly page.
        Err(AppError::NotFound) => gone(&req, &branding, &csrf),
        Err(e) => Err(e),
    }
}

#[get("/invitations/accepted")]
pub async fn show_invitation_done(
    req: HttpRequest,
    province: Province,
    csrf: Csrf,
) -> Result<HttpResponse, AppError> {
    let branding = province.db.run(branding::load).await?;
    let page = InvitationDonePage {
        layout: plain_layout(&req, &branding, &csrf),
    };
    session::page(&req, StatusCode::OK, &page, &csrf)
}
