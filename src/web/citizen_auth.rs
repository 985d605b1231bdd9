//! Registration and sign-in with a national account, on the national site and every province:
//! HTTP only; the work is in `app::auth`.

use actix_web::{HttpResponse, post, web};
use serde::Deserialize;

use crate::accounts::citizens::NewCitizen;
pub use crate::app::auth::SignedIn;
use crate::error::AppError;
use crate::tenancy::Site;
use crate::web::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RegisterForm {
    email: String,
    password: String,
    full_name: String,
}

/// `POST /api/v1/auth/register` → 201; taken email 409; weak password or bad email 422.
#[post("/api/v1/auth/register")]
pub async fn register_citizen(
    state: web::Data<AppState>,
    form: web::Json<RegisterForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let new = NewCitizen::parse(&form.email, &form.password, &form.full_name)?;
    let citizen = crate::app::auth::register(&state, new).await?;
    Ok(HttpResponse::Created().json(citizen))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TokenForm {
    email: String,
    password: String,
}

/// Signs in on a site (see `app::auth::sign_in`).
pub async fn sign_in(
    state: &AppState,
    site: &Site,
    email: String,
    password: String,
) -> Result<SignedIn, AppError> {
    crate::app::auth::sign_in(state, site, &email, &password).await
}

/// `POST /api/v1/auth/token` on the national and province sites; valid on this site only.
pub async fn citizen_token(
    site: Site,
    state: web::Data<AppState>,
    form: web::Json<TokenForm>,
) -> Result<HttpResponse, AppError> {
    let TokenForm { email, password } = form.into_inner();
    let who = sign_in(&state, &site, email, password).await?;
    let token = state.jwt.issue(
        &who.id.to_string(),
        &site.audience(),
        who.role,
        who.token_version,
    )?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": state.jwt.ttl_secs(),
    })))
}
