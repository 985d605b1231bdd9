//! Registration and sign-in with a national account, on the national site and every province.

use actix_web::{HttpResponse, post, web};
use serde::Deserialize;

use crate::accounts::citizens::{self, NewCitizen};
use crate::accounts::password;
use crate::error::AppError;
use crate::state::AppState;
use crate::tenancy::Site;
use crate::web::operator::wrong_credentials;

#[derive(Debug, Deserialize)]
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
    let db = state.db.clone();
    let citizen = web::block(move || -> Result<_, AppError> {
        let hash = password::hash(&new.password)?;
        db.control(|conn| citizens::register(conn, &new, &hash))
    })
    .await??;
    Ok(HttpResponse::Created().json(citizen))
}

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    email: String,
    password: String,
}

/// `POST /api/v1/auth/token` for citizens; the token is valid on this site only.
pub async fn citizen_token(
    site: Site,
    state: web::Data<AppState>,
    form: web::Json<TokenForm>,
) -> Result<HttpResponse, AppError> {
    let TokenForm { email, password } = form.into_inner();
    let citizen = state
        .db
        .control_async(move |conn| citizens::authenticate(conn, &email, &password))
        .await?
        .ok_or_else(wrong_credentials)?;
    let token = state
        .jwt
        .issue(&citizen.id.to_string(), &site.audience(), "citizen")?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": state.jwt.ttl_secs(),
    })))
}
