//! The province admin's look: branding (checked by `Branding::parse`, field by field) and the
//! logo (PNG or JPEG by its bytes, 200 KB at most). Changes show on the next page load.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use super::{CsrfForm, labelled_errors, layout};
use crate::app::{App, province_admin};
use crate::error::{AppError, FieldErrors};
use crate::lang::{Lang, Msg};
use crate::tenancy::branding::BrandingInput;
use crate::tenancy::logo;
use crate::web::AppState;
use crate::web::extract::StaffUser;
use crate::web::pages::{Layout, tr};
use crate::web::province::citizen_pages::view::{ErrorLink, FieldView};
use crate::web::province::upload_form;
use crate::web::session::{self, Csrf, PageAdmin};

#[derive(Template)]
#[template(path = "staff/admin.html")]
struct AdminPage {
    layout: Layout,
    errors: Vec<ErrorLink>,
    notice: String,
    fields: Vec<FieldView>,
    /// The current logo's address, if any.
    logo: Option<String>,
    logo_error: String,
}

/// What the page shows besides the stored branding.
#[derive(Default)]
struct Shown {
    /// The form as sent, when it was refused.
    input: Option<BrandingInput>,
    errors: FieldErrors,
    logo_error: Option<Msg>,
    notice: String,
    status: Option<StatusCode>,
}

async fn render(
    req: &HttpRequest,
    app: &App,
    admin: &StaffUser,
    csrf: &Csrf,
    lang: Lang,
    shown: Shown,
) -> Result<HttpResponse, AppError> {
    let stored = province_admin::branding(app, &admin.province.tenant).await?;
    let input = shown.input.unwrap_or_else(|| stored.to_input());
    let err = |k: &str| shown.errors.get(k).map(|m| m.get(lang).to_string());
    let field = |name: &str, input_type: &'static str, value: &str, max: usize, required: bool| {
        let mut f = FieldView::plain(
            name,
            tr(lang, &format!("brand_{name}")),
            input_type,
            "off",
            value,
            err(name).as_deref(),
        )
        .with_hint(tr(lang, &format!("brand_{name}_hint")));
        f.maxlength = max;
        f.required = required;
        f
    };
    let fields = vec![
        field("display_name", "text", &input.display_name, 80, true),
        field("accent_color", "text", &input.accent_color, 7, true),
        field("hotline", "tel", &input.hotline, 30, false),
        field("address", "text", &input.address, 200, false),
        field("banner", "text", &input.banner, 280, false),
    ];
    let mut errors = labelled_errors(&fields, &shown.errors, lang);
    if let Some(m) = &shown.logo_error {
        errors.push(ErrorLink {
            href: "#logo".into(),
            message: m.get(lang).to_string(),
        });
    }
    let status = shown.status.unwrap_or(if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    });
    let page = AdminPage {
        layout: layout(req, &stored, csrf, admin),
        errors,
        notice: shown.notice,
        fields,
        logo: stored.logo_version.map(|v| format!("/logo?v={v}")),
        logo_error: shown
            .logo_error
            .map(|m| m.get(lang).to_string())
            .unwrap_or_default(),
    };
    session::page(req, status, &page, csrf)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SavedQuery {
    saved: Option<String>,
}

#[get("/manage/admin")]
pub async fn show_admin(
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
        Some("branding") => tr(lang, "saved_branding"),
        Some("logo") => tr(lang, "saved_logo"),
        Some("logo_removed") => tr(lang, "removed_logo"),
        _ => "",
    };
    let shown = Shown {
        notice: notice.to_string(),
        ..Shown::default()
    };
    render(&req, &state, &admin, &csrf, lang, shown).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BrandingForm {
    csrf: Option<String>,
    display_name: String,
    accent_color: String,
    hotline: String,
    address: String,
    banner: String,
}

/// Saves the branding when every field passes, as `PUT /api/v1/manage/branding` does.
#[post("/manage/admin/branding")]
pub async fn save_branding_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: PageAdmin,
    csrf: Csrf,
    lang: Lang,
    form: web::Form<BrandingForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    csrf.verify(form.csrf.as_deref())?;
    let Some(admin) = who.0 else {
        return Ok(session::sign_in_then("/manage/admin"));
    };
    let input = BrandingInput {
        display_name: form.display_name,
        accent_color: form.accent_color,
        hotline: form.hotline,
        address: form.address,
        banner: form.banner,
    };
    let (actor, tenant) = (admin.actor(), &admin.province.tenant);
    match province_admin::save_branding(&state, &actor, tenant, &input).await {
        Ok(_) => Ok(session::see_other("/manage/admin?saved=branding")),
        Err(AppError::Invalid(errors)) => {
            let shown = Shown {
                input: Some(input),
                errors,
                ..Shown::default()
            };
            render(&req, &state, &admin, &csrf, lang, shown).await
        }
        Err(e) => Err(e),
    }
}

/// Replaces the logo: 413 over 200 KB, 422 for anything but PNG or JPEG, shown on the page.
#[post("/manage/admin/logo")]
pub async fn upload_logo_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: PageAdmin,
    csrf: Csrf,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    // Who and the form token first: the body of a stranger's request is never read.
    let Some(admin) = who.0 else {
        return Ok(session::sign_in_then("/manage/admin"));
    };
    let max = logo::MAX_BYTES as u64;
    let parts = upload_form::read_page_form(&req, &csrf, payload, max, |name| {
        (name == "file").then_some(max)
    })
    .await?;
    let refused = if parts.too_large.is_some() {
        Some((logo::too_large(), StatusCode::PAYLOAD_TOO_LARGE))
    } else {
        match parts.files.into_iter().find(|f| f.field == "file") {
            None => Some((
                AppError::invalid(
                    "file",
                    Msg::new("Vui lòng chọn tệp logo.", "Please choose a logo file."),
                ),
                StatusCode::UNPROCESSABLE_ENTITY,
            )),
            Some(file) => match province_admin::store_logo(
                &state,
                &admin.actor(),
                &admin.province.tenant,
                file.bytes()?,
            )
            .await
            {
                Ok(_) => None,
                Err(e @ AppError::Invalid(_)) => Some((e, StatusCode::UNPROCESSABLE_ENTITY)),
                Err(e) => return Err(e),
            },
        }
    };
    let Some((error, status)) = refused else {
        return Ok(session::see_other("/manage/admin?saved=logo"));
    };
    let msg = match error {
        AppError::Invalid(fields) => fields.into_values().next(),
        other => Some(other.message()),
    };
    let shown = Shown {
        logo_error: msg,
        status: Some(status),
        ..Shown::default()
    };
    render(&req, &state, &admin, &csrf, lang, shown).await
}

#[post("/manage/admin/logo/delete")]
pub async fn remove_logo_form(
    state: web::Data<AppState>,
    who: PageAdmin,
    csrf: Csrf,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(form.csrf.as_deref())?;
    let Some(admin) = who.0 else {
        return Ok(session::sign_in_then("/manage/admin"));
    };
    province_admin::delete_logo(&state, &admin.actor(), &admin.province.tenant).await?;
    Ok(session::see_other("/manage/admin?saved=logo_removed"))
}
