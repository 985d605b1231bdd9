//! The operator site: sign-in and the tenant API (plans, leases and billing come later).

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::app::tenants::CreateTenant;
use crate::error::AppError;
use crate::tenancy::{Site, Tenant, TenantStatus};
use crate::web::AppState;
use crate::web::extract::{OperatorAdmin, OperatorUser};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(issue_token)
        .service(who_am_i)
        .service(list_tenants)
        .service(create_tenant)
        .service(get_tenant)
        .service(suspend_tenant)
        .service(resume_tenant);
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TokenForm {
    email: String,
    password: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    access_token: String,
    #[schema(value_type = String, example = "Bearer")]
    token_type: &'static str,
    expires_in: u64,
}

#[post("/api/v1/auth/token")]
async fn issue_token(
    state: web::Data<AppState>,
    form: web::Json<TokenForm>,
) -> Result<HttpResponse, AppError> {
    let TokenForm { email, password } = form.into_inner();
    // The page's lockout (same key), so the API is no way round it.
    let (account, version) = crate::app::operators::sign_in(&state, &email, &password)
        .await?
        .ok_or_else(wrong_credentials)?;
    let token = state.jwt.issue(
        &account.id.to_string(),
        &Site::Operator.audience(),
        account.role.as_str(),
        version,
    )?;
    Ok(HttpResponse::Ok().json(TokenResponse {
        access_token: token,
        token_type: "Bearer",
        expires_in: state.jwt.ttl_secs(),
    }))
}

/// The signed-in operator account.
#[get("/api/v1/me")]
async fn who_am_i(OperatorUser(account): OperatorUser) -> HttpResponse {
    HttpResponse::Ok().json(account)
}

pub use crate::app::auth::wrong_credentials;

/// A tenant as the operator API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TenantView {
    slug: String,
    name: String,
    status: TenantStatus,
    plan: String,
    url: String,
    created_at: DateTime<Utc>,
    /// The province it was merged into (status `merged` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    successor: Option<String>,
}

impl TenantView {
    pub fn new(t: &Tenant, state: &AppState) -> TenantView {
        let host = format!("{}.{}", t.slug, state.registry.base_domain());
        TenantView {
            slug: t.slug.clone(),
            name: t.name.clone(),
            status: t.status,
            plan: t.plan.clone(),
            url: state.settings.url_for_host(&host),
            created_at: t.created_at,
            successor: t
                .successor
                .and_then(|id| state.registry.get(id))
                .map(|s| s.slug.clone()),
        }
    }
}

#[get("/api/v1/tenants")]
async fn list_tenants(
    _user: OperatorUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let tenants = crate::app::tenants::list(&state).await?;
    let views: Vec<TenantView> = tenants.iter().map(|t| TenantView::new(t, &state)).collect();
    Ok(HttpResponse::Ok().json(views))
}

#[get("/api/v1/tenants/{slug}")]
async fn get_tenant(
    _user: OperatorUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let tenant = crate::app::tenants::find(&state, &slug).await?;
    Ok(HttpResponse::Ok().json(TenantView::new(&tenant, &state)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreateTenantForm {
    slug: String,
    name: String,
    plan: String,
    admin_email: Option<String>,
}

#[post("/api/v1/tenants")]
async fn create_tenant(
    OperatorAdmin(user): OperatorAdmin,
    state: web::Data<AppState>,
    form: web::Json<CreateTenantForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let input = CreateTenant::parse(
        &form.slug,
        &form.name,
        &form.plan,
        form.admin_email.as_deref(),
        state.registry.base_domain(),
    )
    .map_err(AppError::Invalid)?;
    let (app, actor) = (state.app.clone(), user.actor());
    let tenant =
        crate::web::in_span(move || crate::app::tenants::create(&app, &actor, &input)).await??;
    Ok(HttpResponse::Created().json(TenantView::new(&tenant, &state)))
}

async fn change_status(
    state: web::Data<AppState>,
    actor: crate::app::Actor,
    slug: String,
    status: TenantStatus,
) -> Result<HttpResponse, AppError> {
    let app = state.app.clone();
    let tenant =
        crate::web::in_span(move || crate::app::tenants::set_status(&app, &actor, &slug, status))
            .await??;
    Ok(HttpResponse::Ok().json(TenantView::new(&tenant, &state)))
}

#[post("/api/v1/tenants/{slug}/suspend")]
async fn suspend_tenant(
    OperatorAdmin(user): OperatorAdmin,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    change_status(
        state,
        user.actor(),
        slug.into_inner(),
        TenantStatus::Suspended,
    )
    .await
}

#[post("/api/v1/tenants/{slug}/resume")]
async fn resume_tenant(
    OperatorAdmin(user): OperatorAdmin,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    change_status(state, user.actor(), slug.into_inner(), TenantStatus::Active).await
}
