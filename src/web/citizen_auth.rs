//! Registration and sign-in with a national account, on the national site and every province.

use actix_web::{HttpResponse, post, web};
use serde::Deserialize;

use crate::accounts::citizens::{self, NewCitizen};
use crate::accounts::staff::{self, SignIn};
use crate::accounts::{password, throttle};
use crate::error::AppError;
use crate::tenancy::Site;
use crate::web::AppState;
use crate::web::operator::wrong_credentials;

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
    let db = state.db.clone();
    let citizen = crate::web::in_span(move || -> Result<_, AppError> {
        let hash = password::hash(&new.password)?;
        db.control(|conn| citizens::register(conn, &new, &hash))
    })
    .await??;
    Ok(HttpResponse::Created().json(citizen))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TokenForm {
    email: String,
    password: String,
}

/// Who signed in: the account id and the role the token carries.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub id: uuid::Uuid,
    pub role: &'static str,
}

/// Signs in on a site. On a province site the province's staff come first, then national
/// citizen accounts; one throttle counts failures per address for both. A staff address with
/// a password that is not the staff one goes on to the national accounts: a national account
/// made with that address (registration takes any address) then signs in as itself, so its
/// answer never tells that the address is staff here. Both checks always cost one password
/// verification each (a dummy where there is no account), so timing does not tell either.
pub async fn sign_in(
    state: &AppState,
    site: &Site,
    email: String,
    password: String,
) -> Result<SignedIn, AppError> {
    if let Site::Province(tenant) = site {
        let key = throttle::sign_in_key(&email);
        state
            .db
            .control_async(move |conn| throttle::check(conn, &key))
            .await?;
        let door = state.db.tenant(tenant.db_ref());
        let (e, p) = (email.clone(), password.clone());
        match door
            .run(move |conn| staff::authenticate(conn, &e, &p))
            .await?
        {
            SignIn::Accepted(account) => {
                return Ok(SignedIn {
                    id: account.id,
                    role: account.role.as_str(),
                });
            }
            // The national accounts' check below counts the failure, once.
            SignIn::Refused | SignIn::NotStaff => {}
        }
    }
    let citizen = state
        .db
        .control_async(move |conn| citizens::authenticate(conn, &email, &password))
        .await?
        .ok_or_else(wrong_credentials)?;
    Ok(SignedIn {
        id: citizen.id,
        role: "citizen",
    })
}

/// `POST /api/v1/auth/token` on the national and province sites; valid on this site only.
pub async fn citizen_token(
    site: Site,
    state: web::Data<AppState>,
    form: web::Json<TokenForm>,
) -> Result<HttpResponse, AppError> {
    let TokenForm { email, password } = form.into_inner();
    let who = sign_in(&state, &site, email, password).await?;
    let token = state
        .jwt
        .issue(&who.id.to_string(), &site.audience(), who.role)?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": state.jwt.ttl_secs(),
    })))
}
