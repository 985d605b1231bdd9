//! The province admin's API: branding, procedures on and off, staff; and accepting an
//! invitation (public: the one-time token is the credential).

use actix_multipart::Multipart;
use actix_web::{HttpResponse, delete, get, post, put, web};
use serde::Deserialize;
use serde_json::json;

use crate::app::province_admin::{self, InviteInput};
use crate::error::AppError;
use crate::lang::{Lang, Msg};
use crate::tenancy::branding::BrandingInput;
use crate::tenancy::logo;
use crate::web::AppState;
use crate::web::extract::{AdminUser, Province};

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
async fn get_branding(
    AdminUser(admin): AdminUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let b = province_admin::branding(&state, &admin.province.tenant).await?;
    Ok(HttpResponse::Ok().json(b))
}

/// `PUT /api/v1/manage/branding`: every field checked (colour contrast, length, no markup).
#[put("/api/v1/manage/branding")]
async fn update_branding(
    AdminUser(admin): AdminUser,
    state: web::Data<AppState>,
    form: web::Json<BrandingInput>,
) -> Result<HttpResponse, AppError> {
    let b = province_admin::save_branding(
        &state,
        &admin.actor(),
        &admin.province.tenant,
        &form.into_inner(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(b))
}

/// Every catalog procedure with this province's switch.
#[get("/api/v1/manage/procedures")]
async fn list_managed_procedures(
    AdminUser(admin): AdminUser,
    state: web::Data<AppState>,
    lang: Lang,
) -> Result<HttpResponse, AppError> {
    let switches =
        province_admin::procedures(&state, &admin.actor(), &admin.province.tenant).await?;
    let list: Vec<_> = switches
        .into_iter()
        .map(|s| {
            let p = s.procedure;
            json!({ "code": p.code, "name": p.name.get(lang), "level": p.level, "enabled": s.enabled })
        })
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
    let enabled = form.enabled;
    let (actor, tenant) = (admin.actor(), &admin.province.tenant);
    province_admin::set_procedure_enabled(&state, &actor, tenant, &code, enabled).await?;
    Ok(HttpResponse::Ok().json(json!({ "code": code, "enabled": enabled })))
}

#[get("/api/v1/manage/users")]
async fn list_staff(
    AdminUser(admin): AdminUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let list = province_admin::team(&state, &admin.actor(), &admin.province.tenant).await?;
    Ok(HttpResponse::Ok().json(list))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct InviteForm {
    email: String,
    full_name: String,
    role: String,
    /// Unit codes the staff member works in (none: the province level).
    #[serde(default)]
    units: Vec<String>,
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
    let input = InviteInput {
        email: form.email,
        full_name: form.full_name,
        role: form.role,
        units: form.units,
    };
    let account = province_admin::invite(
        &state,
        &admin.actor(),
        &admin.province.tenant,
        &admin.account.full_name,
        input,
    )
    .await?;
    Ok(HttpResponse::Created().json(account))
}

async fn set_staff_active(
    AdminUser(admin): AdminUser,
    state: web::Data<AppState>,
    id: uuid::Uuid,
    active: bool,
) -> Result<HttpResponse, AppError> {
    let (actor, tenant) = (admin.actor(), &admin.province.tenant);
    let account =
        province_admin::set_active(&state, &actor, tenant, crate::ids::StaffId(id), active).await?;
    Ok(HttpResponse::Ok().json(account))
}

#[post("/api/v1/manage/users/{id}/deactivate")]
async fn deactivate_staff(
    admin: AdminUser,
    state: web::Data<AppState>,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, AppError> {
    set_staff_active(admin, state, id.into_inner(), false).await
}

#[post("/api/v1/manage/users/{id}/activate")]
async fn activate_staff(
    admin: AdminUser,
    state: web::Data<AppState>,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, AppError> {
    set_staff_active(admin, state, id.into_inner(), true).await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AcceptForm {
    password: String,
}

/// `POST /api/v1/auth/invitations/{token}` `{password}`: sets the password once.
#[post("/api/v1/auth/invitations/{token}")]
async fn accept_invitation(
    province: Province,
    state: web::Data<AppState>,
    token: web::Path<String>,
    form: web::Json<AcceptForm>,
) -> Result<HttpResponse, AppError> {
    let pw = form.into_inner().password;
    let account = province_admin::accept_invitation(&state, &province.tenant, &token, pw).await?;
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
    let (actor, tenant) = (admin.actor(), &admin.province.tenant);
    let (usage, _) = province_admin::usage(&state, &actor, tenant, period, false).await?;
    Ok(HttpResponse::Ok().json(usage))
}

/// `GET /logo`: the province's logo (404 when it has none). Cached briefly: pages link it with
/// its version, so a new logo shows on the next page load anyway.
#[get("/logo")]
async fn show_logo(
    province: Province,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let found = province_admin::logo(&state, &province.tenant)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(found.content_type)
        .insert_header(("Cache-Control", "public, max-age=60"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(found.data))
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
    let bytes = file.bytes()?;
    let size = bytes.len();
    let (actor, tenant) = (admin.actor(), &admin.province.tenant);
    let kind = province_admin::store_logo(&state, &actor, tenant, bytes).await?;
    Ok(HttpResponse::Ok().json(json!({ "content_type": kind, "size": size, "url": "/logo" })))
}

/// `DELETE /api/v1/manage/logo` → 204; 404 when there was none.
#[delete("/api/v1/manage/logo")]
async fn delete_logo(
    AdminUser(admin): AdminUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    province_admin::delete_logo(&state, &admin.actor(), &admin.province.tenant).await?;
    Ok(HttpResponse::NoContent().finish())
}
