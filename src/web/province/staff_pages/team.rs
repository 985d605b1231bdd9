//! The province's staff for its admin: who they are, inviting a new official or admin (the
//! link goes out by mail, through the outbox), deactivating and reactivating accounts.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use super::{CsrfForm, labelled_errors, layout};
use crate::accounts::staff::{self, StaffAccount};
use crate::app::App;
use crate::app::province_admin::{self, InviteInput};
use crate::error::{AppError, FieldErrors};
use crate::lang::Lang;
use crate::web::AppState;
use crate::web::extract::StaffUser;
use crate::web::pages::{Layout, tr};
use crate::web::province::citizen_pages::view::{ErrorLink, FieldView, OptionView};
use crate::web::session::{self, Csrf, PageAdmin};

struct Member {
    id: crate::ids::StaffId,
    name: String,
    email: String,
    role: String,
    /// The names of the units they work in (empty: the province level).
    units: String,
    active: bool,
    invited: bool,
    /// The admin looking: no button to lock themselves out.
    me: bool,
}

#[derive(Template)]
#[template(path = "staff/team.html")]
struct TeamPage {
    layout: Layout,
    errors: Vec<ErrorLink>,
    notice: String,
    members: Vec<Member>,
    fields: Vec<FieldView>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InviteFormData {
    csrf: Option<String>,
    email: String,
    full_name: String,
    role: String,
    /// The unit the staff member works in (blank: the province level).
    #[serde(default)]
    unit: Option<String>,
}

struct Shown<'a> {
    form: &'a InviteFormData,
    errors: FieldErrors,
    notice: String,
    status: StatusCode,
}

/// The unit select of the invitation: blank is the province level.
fn unit_field(
    desk: &crate::app::staff::Desk,
    form: &InviteFormData,
    error: Option<&str>,
    lang: Lang,
) -> FieldView {
    let asked = form.unit.clone().unwrap_or_default();
    let mut f = FieldView::plain("unit", tr(lang, "unit_of_staff"), "text", "", &asked, error)
        .with_hint(tr(lang, "unit_of_staff_hint"));
    f.control = "select";
    f.required = false;
    let mut options = vec![OptionView {
        id: "unit-none".into(),
        value: String::new(),
        label: tr(lang, "province_level").to_string(),
        selected: asked.is_empty(),
    }];
    options.extend(desk.units().filter(|u| !u.retired).map(|u| OptionView {
        id: format!("unit-{}", u.code),
        value: u.code.to_string(),
        label: u.name.clone(),
        selected: asked == u.code.as_str(),
    }));
    f.options = options;
    f
}

fn role_word(role: staff::StaffRole, lang: Lang) -> &'static str {
    role.label(lang)
}

async fn render(
    req: &HttpRequest,
    app: &App,
    admin: &StaffUser,
    csrf: &Csrf,
    lang: Lang,
    shown: Shown<'_>,
) -> Result<HttpResponse, AppError> {
    let tenant = &admin.province.tenant;
    let branding = province_admin::branding(app, tenant).await?;
    let list = province_admin::team(app, &admin.actor(), tenant).await?;
    let (_, desk) = crate::app::workspace::desk(app, &admin.actor(), tenant).await?;
    let members = list
        .into_iter()
        .map(|a: StaffAccount| Member {
            units: desk
                .member(a.id.0)
                .map(|m| {
                    m.units
                        .iter()
                        .map(|u| desk.unit_name(u.as_str()))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default(),
            me: a.id == admin.account.id,
            id: a.id,
            role: role_word(a.role, lang).to_string(),
            active: a.active,
            invited: !a.has_password,
            name: a.full_name,
            email: a.email,
        })
        .collect();
    let err = |k: &str| shown.errors.get(k).map(|m| m.get(lang).to_string());
    let mut role = FieldView::plain(
        "role",
        tr(lang, "role"),
        "text",
        "",
        &shown.form.role,
        err("role").as_deref(),
    );
    role.control = "radios";
    role.options = staff::StaffRole::ALL
        .iter()
        .map(|r| r.as_str())
        .enumerate()
        .map(|(i, value)| OptionView {
            id: if i == 0 {
                "role".into()
            } else {
                format!("role-{i}")
            },
            value: value.to_string(),
            label: staff::StaffRole::parse(value)
                .map(|r| r.label(lang))
                .unwrap_or(value)
                .to_string(),
            selected: shown.form.role == value,
        })
        .collect();
    let fields = vec![
        FieldView::plain(
            "full_name",
            tr(lang, "full_name"),
            "text",
            "off",
            &shown.form.full_name,
            err("full_name").as_deref(),
        ),
        FieldView::plain(
            "email",
            tr(lang, "email"),
            "email",
            "off",
            &shown.form.email,
            err("email").as_deref(),
        )
        .with_hint(tr(lang, "invite_email_hint")),
        role,
        unit_field(&desk, shown.form, err("unit").as_deref(), lang),
    ];
    let page = TeamPage {
        layout: layout(req, &branding, csrf, admin),
        errors: labelled_errors(&fields, &shown.errors, lang),
        notice: shown.notice,
        members,
        fields,
    };
    session::page(req, shown.status, &page, csrf)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TeamQuery {
    done: Option<String>,
}

#[get("/manage/admin/staff")]
pub async fn show_team(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: PageAdmin,
    csrf: Csrf,
    lang: Lang,
    query: web::Query<TeamQuery>,
) -> Result<HttpResponse, AppError> {
    let Some(admin) = who.0 else {
        return Ok(session::to_sign_in(&req));
    };
    let notice = match query.done.as_deref() {
        Some("invited") => tr(lang, "invited"),
        Some("deactivated") => tr(lang, "deactivated"),
        Some("activated") => tr(lang, "activated"),
        _ => "",
    };
    let form = InviteFormData {
        role: "official".into(),
        ..InviteFormData::default()
    };
    let shown = Shown {
        form: &form,
        errors: FieldErrors::new(),
        notice: notice.to_string(),
        status: StatusCode::OK,
    };
    render(&req, &state, &admin, &csrf, lang, shown).await
}

/// Invites as `POST /api/v1/manage/users` does; a taken email is 409 beside the email.
#[post("/manage/admin/staff")]
pub async fn invite_member(
    req: HttpRequest,
    who: PageAdmin,
    state: web::Data<AppState>,
    csrf: Csrf,
    lang: Lang,
    form: web::Form<InviteFormData>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    csrf.verify(form.csrf.as_deref())?;
    let Some(admin) = who.0 else {
        return Ok(session::sign_in_then("/manage/admin/staff"));
    };
    let input = InviteInput {
        email: form.email.clone(),
        full_name: form.full_name.clone(),
        role: form.role.clone(),
        units: form
            .unit
            .iter()
            .filter(|u| !u.trim().is_empty())
            .cloned()
            .collect(),
    };
    let invited = province_admin::invite(
        &state,
        &admin.actor(),
        &admin.province.tenant,
        &admin.account.full_name,
        input,
    )
    .await;
    let (status, errors) = match invited {
        Ok(_) => return Ok(session::see_other("/manage/admin/staff?done=invited")),
        Err(AppError::Invalid(mut errors)) => {
            // The API's field is `units`; the form's select is `unit`.
            if let Some(m) = errors.remove("units") {
                errors.insert("unit".into(), m);
            }
            (StatusCode::UNPROCESSABLE_ENTITY, errors)
        }
        Err(AppError::Conflict { msg, .. }) => (
            StatusCode::CONFLICT,
            FieldErrors::from([("email".to_string(), msg)]),
        ),
        Err(e) => return Err(e),
    };
    let shown = Shown {
        form: &form,
        errors,
        notice: String::new(),
        status,
    };
    render(&req, &state, &admin, &csrf, lang, shown).await
}

async fn set_member_active(
    state: web::Data<AppState>,
    who: PageAdmin,
    csrf: Csrf,
    form: CsrfForm,
    id: uuid::Uuid,
    active: bool,
) -> Result<HttpResponse, AppError> {
    csrf.verify(form.csrf.as_deref())?;
    let Some(admin) = who.0 else {
        return Ok(session::sign_in_then("/manage/admin/staff"));
    };
    let (actor, tenant) = (admin.actor(), &admin.province.tenant);
    province_admin::set_active(&state, &actor, tenant, crate::ids::StaffId(id), active).await?;
    let done = if active { "activated" } else { "deactivated" };
    Ok(session::see_other(&format!(
        "/manage/admin/staff?done={done}"
    )))
}

#[post("/manage/admin/staff/{id}/deactivate")]
pub async fn deactivate_member(
    state: web::Data<AppState>,
    who: PageAdmin,
    csrf: Csrf,
    id: web::Path<uuid::Uuid>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AppError> {
    set_member_active(state, who, csrf, form.into_inner(), id.into_inner(), false).await
}

#[post("/manage/admin/staff/{id}/activate")]
pub async fn activate_member(
    state: web::Data<AppState>,
    who: PageAdmin,
    csrf: Csrf,
    id: web::Path<uuid::Uuid>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AppError> {
    set_member_active(state, who, csrf, form.into_inner(), id.into_inner(), true).await
}
