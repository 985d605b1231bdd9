//! The province admin's API: branding, procedures on and off, staff; and accepting an
//! invitation (public: the one-time token is the credential).

use actix_multipart::Multipart;
use actix_web::{HttpResponse, delete, get, post, put, web};
use serde::Deserialize;
use serde_json::json;

use super::dossier_api::mail_context;
use crate::accounts::citizens::check_password;
use crate::accounts::staff::{self, StaffRole};
use crate::accounts::{Email, password};
use crate::catalog;
use crate::dossiers::store;
use crate::error::AppError;
use crate::lang::{Lang, Msg};
use crate::notify::invitation::invitation_mail;
use crate::notify::outbox::{self, NewMail};
use crate::tenancy::branding::{self, Branding, BrandingInput};
use crate::tenancy::logo;
use crate::web::AppState;
use crate::web::extract::{AdminUser, Province, StaffUser};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(get_branding)
        .service(update_branding)
        .service(list_managed_procedures)
        .service(toggle_procedure)
        .service(list_staff)
        .service(invite_staff)
        .service(deactivate_staff)
        .service(activate_staff)
        .service(accept_invitation)
        .service(get_own_usage)
        .service(show_logo)
        .service(upload_logo)
        .service(delete_logo);
}

#[get("/api/v1/manage/branding")]
async fn get_branding(AdminUser(admin): AdminUser) -> Result<HttpResponse, AppError> {
    let b = admin.province.db.run(branding::load).await?;
    Ok(HttpResponse::Ok().json(b))
}

/// `PUT /api/v1/manage/branding`: every field checked (colour contrast, length, no markup).
#[put("/api/v1/manage/branding")]
async fn update_branding(
    AdminUser(admin): AdminUser,
    state: web::Data<AppState>,
    form: web::Json<BrandingInput>,
) -> Result<HttpResponse, AppError> {
    let b = Branding::parse(&form.into_inner()).map_err(AppError::Invalid)?;
    let saved = b.clone();
    admin
        .province
        .db
        .run(move |conn| branding::save(conn, &saved))
        .await?;
    state.registry.sites().forget(&admin.province.tenant.schema);
    Ok(HttpResponse::Ok().json(b))
}

/// Every catalog procedure with this province's switch.
#[get("/api/v1/manage/procedures")]
async fn list_managed_procedures(
    AdminUser(admin): AdminUser,
    lang: Lang,
) -> Result<HttpResponse, AppError> {
    let disabled = admin.province.db.run(store::disabled_procedures).await?;
    let list: Vec<_> = catalog::national()
        .all()
        .iter()
        .map(|p| json!({ "code": p.code, "name": p.name.get(lang), "level": p.level, "enabled": !disabled.contains(&p.code) }))
        .collect();
    Ok(HttpResponse::Ok().json(list))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ToggleForm {
    enabled: bool,
}

/// `PUT /api/v1/manage/procedures/{code}` `{enabled}`.
#[put("/api/v1/manage/procedures/{code}")]
async fn toggle_procedure(
    AdminUser(admin): AdminUser,
    state: web::Data<AppState>,
    code: web::Path<String>,
    form: web::Json<ToggleForm>,
) -> Result<HttpResponse, AppError> {
    let code = code.into_inner();
    catalog::national().get(&code).ok_or(AppError::NotFound)?;
    let enabled = form.enabled;
    let c = code.clone();
    admin
        .province
        .db
        .run(move |conn| store::set_procedure_enabled(conn, &c, enabled))
        .await?;
    state.registry.sites().forget(&admin.province.tenant.schema);
    Ok(HttpResponse::Ok().json(json!({ "code": code, "enabled": enabled })))
}

#[get("/api/v1/manage/users")]
async fn list_staff(AdminUser(admin): AdminUser) -> Result<HttpResponse, AppError> {
    let list = admin.province.db.run(staff::list).await?;
    Ok(HttpResponse::Ok().json(list))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct InviteForm {
    email: String,
    full_name: String,
    role: String,
}

/// `POST /api/v1/manage/users` `{email, full_name, role}` → 201; the invitation is mailed in
/// the same transaction (outbox).
#[post("/api/v1/manage/users")]
async fn invite_staff(
    AdminUser(admin): AdminUser,
    state: web::Data<AppState>,
    form: web::Json<InviteForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let account = invite(&admin, &state, &form.email, &form.full_name, &form.role).await?;
    Ok(HttpResponse::Created().json(account))
}

/// Invites a new official or admin and queues the mail with the one-time link, in one tenant
/// transaction (the API and the admin's page both come here).
pub async fn invite(
    admin: &StaffUser,
    state: &AppState,
    email: &str,
    full_name: &str,
    role: &str,
) -> Result<staff::StaffAccount, AppError> {
    let form = InviteForm {
        email: email.to_string(),
        full_name: full_name.to_string(),
        role: role.to_string(),
    };
    let mut errors = std::collections::BTreeMap::new();
    let email = Email::parse(&form.email)
        .map_err(|m| errors.insert("email".into(), m))
        .ok();
    let role = StaffRole::parse(&form.role)
        .map_err(|m| errors.insert("role".into(), m))
        .ok();
    let (Some(email), Some(role)) = (email, role) else {
        return Err(AppError::Invalid(errors));
    };
    let ctx = mail_context(&admin.province, state);
    let tenant = admin.province.tenant.clone();
    let inviter = admin.account.full_name.clone();
    admin
        .province
        .db
        .run(move |conn| {
            let (account, token) = staff::invite(conn, &email, &form.full_name, role)?;
            crate::metering::record_seats(conn, &tenant, &format!("staff:{}:granted", account.id))?;
            let link = format!("{}/invitations/{token}", ctx.site_url);
            let (subject, body) =
                invitation_mail(&ctx.province, &inviter, &account.full_name, role, &link);
            outbox::enqueue(
                conn,
                tenant.id,
                &NewMail {
                    kind: "staff_invitation",
                    dossier_id: None,
                    to: &account.email,
                    subject: &subject,
                    body: &body,
                },
            )?;
            Ok(account)
        })
        .await
}

async fn set_staff_active(
    admin: AdminUser,
    id: uuid::Uuid,
    active: bool,
) -> Result<HttpResponse, AppError> {
    let AdminUser(admin) = admin;
    let account = set_active(&admin, id, active).await?;
    Ok(HttpResponse::Ok().json(account))
}

/// Deactivates or reactivates a staff account (never one's own deactivation: 409). Takes
/// effect on that account's next request.
pub async fn set_active(
    admin: &StaffUser,
    id: uuid::Uuid,
    active: bool,
) -> Result<staff::StaffAccount, AppError> {
    if id == admin.account.id && !active {
        return Err(AppError::conflict(
            "self_deactivation",
            Msg::new(
                "Không thể tự khóa tài khoản của mình.",
                "You cannot deactivate yourself.",
            ),
        ));
    }
    let tenant = admin.province.tenant.clone();
    admin
        .province
        .db
        .run(move |conn| {
            let account = staff::set_active(conn, id, active)?;
            if active {
                let key = format!(
                    "staff:{id}:activated:{}",
                    chrono::Utc::now().timestamp_millis()
                );
                crate::metering::record_seats(conn, &tenant, &key)?;
            }
            Ok(account)
        })
        .await
}

#[post("/api/v1/manage/users/{id}/deactivate")]
async fn deactivate_staff(
    admin: AdminUser,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, AppError> {
    set_staff_active(admin, id.into_inner(), false).await
}

#[post("/api/v1/manage/users/{id}/activate")]
async fn activate_staff(
    admin: AdminUser,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, AppError> {
    set_staff_active(admin, id.into_inner(), true).await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AcceptForm {
    password: String,
}

/// `POST /api/v1/auth/invitations/{token}` `{password}`: sets the password once.
#[post("/api/v1/auth/invitations/{token}")]
async fn accept_invitation(
    province: Province,
    token: web::Path<String>,
    form: web::Json<AcceptForm>,
) -> Result<HttpResponse, AppError> {
    let pw = form.into_inner().password;
    check_password(&pw, None).map_err(|m| AppError::invalid("password", m))?;
    let token = token.into_inner();
    let hash = crate::web::in_span(move || password::hash(&pw)).await??;
    let account = province
        .db
        .run(move |conn| staff::accept_invitation(conn, &token, &hash))
        .await?;
    Ok(HttpResponse::Ok().json(account))
}

/// `GET /api/v1/manage/usage?period=`: the operator's shape, for this province only.
#[get("/api/v1/manage/usage")]
async fn get_own_usage(
    AdminUser(admin): AdminUser,
    state: web::Data<AppState>,
    query: web::Query<crate::web::period_query::PeriodQuery>,
) -> Result<HttpResponse, AppError> {
    let period = crate::web::period_query::period_or_now(&query)?;
    let id = admin.province.tenant.id;
    let usage = state
        .db
        .control_async(move |conn| crate::metering::usage::for_period(conn, id, period))
        .await?;
    Ok(HttpResponse::Ok().json(usage))
}

/// `GET /logo`: the province's logo (404 when it has none). Cached briefly: pages link it with
/// its version, so a new logo shows on the next page load anyway.
#[get("/logo")]
async fn show_logo(province: Province) -> Result<HttpResponse, AppError> {
    let found = province
        .db
        .run(logo::load)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(found.content_type)
        .insert_header(("Cache-Control", "public, max-age=60"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(found.data))
}

/// Stores a logo that passed [`logo::check`] (the admin's page and the API both come here).
pub async fn store_logo(
    admin: &StaffUser,
    state: &AppState,
    bytes: Vec<u8>,
) -> Result<&'static str, AppError> {
    let kind = logo::check(&bytes)?;
    admin
        .province
        .db
        .run(move |conn| logo::save(conn, kind, &bytes))
        .await?;
    state.registry.sites().forget(&admin.province.tenant.schema);
    Ok(kind)
}

/// `PUT /api/v1/manage/logo` (multipart `file`): PNG or JPEG by its bytes, 200 KB at most
/// (else 413); anything else 422.
#[put("/api/v1/manage/logo")]
async fn upload_logo(
    AdminUser(admin): AdminUser,
    state: web::Data<AppState>,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    let max = logo::MAX_BYTES as u64;
    let parts =
        super::upload_form::read(payload, max, |name| (name == "file").then_some(max)).await?;
    if parts.too_large.is_some() {
        return Err(logo::too_large());
    }
    let mut files = parts.files.into_iter().filter(|f| f.field == "file");
    let file = files.next().ok_or_else(|| {
        AppError::invalid("file", Msg::new("Chưa chọn tệp.", "No file was sent."))
    })?;
    if files.next().is_some() {
        return Err(AppError::bad_request(
            "malformed",
            Msg::new("Chỉ gửi một tệp logo.", "Send one logo file only."),
        ));
    }
    let size = file.bytes.len();
    let kind = store_logo(&admin, &state, file.bytes).await?;
    Ok(HttpResponse::Ok().json(json!({ "content_type": kind, "size": size, "url": "/logo" })))
}

/// `DELETE /api/v1/manage/logo` → 204; 404 when there was none.
#[delete("/api/v1/manage/logo")]
async fn delete_logo(
    AdminUser(admin): AdminUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let deleted = admin.province.db.run(logo::delete).await?;
    state.registry.sites().forget(&admin.province.tenant.schema);
    if !deleted {
        return Err(AppError::NotFound);
    }
    Ok(HttpResponse::NoContent().finish())
}
