//! Extractors for the current site and the signed-in person; no handler checks a role by hand.

use std::future::{Ready, ready};
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use crate::accounts::operators::{self, OperatorAccount, OperatorRole};
use crate::error::AppError;
use crate::tenancy::{Site, Tenant};
use crate::web::AppState;

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, AppError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::internal("application state missing"))
}

/// The token from `Authorization: Bearer …`.
pub fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// The site chosen by the Host header (set by the site resolver).
impl FromRequest for Site {
    type Error = AppError;
    type Future = Ready<Result<Site, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<Site>()
                .cloned()
                .ok_or(AppError::NotFound),
        )
    }
}

/// The province of a province site, with its database door.
#[derive(Debug, Clone)]
pub struct Province {
    pub tenant: Arc<Tenant>,
    pub db: crate::db::TenantDb,
}

impl Province {
    /// Its branding and switched-off procedures, from the site cache.
    pub async fn site(
        &self,
        state: &AppState,
    ) -> Result<Arc<crate::tenancy::site_cache::SiteData>, AppError> {
        state
            .registry
            .sites()
            .get(&self.tenant.schema, &self.db)
            .await
    }
}

impl FromRequest for Province {
    type Error = AppError;
    type Future = Ready<Result<Province, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let result = match (req.extensions().get::<Site>(), state(req)) {
            (Some(Site::Province(t)), Ok(state)) => Ok(Province {
                db: state.db.tenant(t.db_ref()),
                tenant: t.clone(),
            }),
            (_, Err(e)) => Err(e),
            _ => Err(AppError::NotFound),
        };
        ready(result)
    }
}

/// Signed-in operator staff of any role, on the operator site.
#[derive(Debug, Clone)]
pub struct OperatorUser(pub OperatorAccount);

impl FromRequest for OperatorUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<OperatorUser, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let site = req.extensions().get::<Site>().cloned();
        let token = bearer(req);
        let state = state(req);
        Box::pin(async move {
            let state = state?;
            if !matches!(site, Some(Site::Operator)) {
                return Err(AppError::forbidden());
            }
            let token = token.ok_or_else(AppError::unauthorized)?;
            let claims = state.jwt.verify(&token, &Site::Operator.audience())?;
            let id = uuid::Uuid::parse_str(&claims.sub).map_err(|_| AppError::unauthorized())?;
            // Read on every request so a deactivated account stops at once.
            let account = state
                .db
                .control_async(move |conn| operators::find_active(conn, id))
                .await?
                .ok_or_else(AppError::unauthorized)?;
            Ok(OperatorUser(account))
        })
    }
}

/// Operator staff with role `operator`: may change tenants, plans and leases.
#[derive(Debug, Clone)]
pub struct OperatorAdmin(pub OperatorAccount);

impl FromRequest for OperatorAdmin {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<OperatorAdmin, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let user = OperatorUser::from_request(req, payload);
        Box::pin(async move {
            let OperatorUser(account) = user.await?;
            if account.role != OperatorRole::Operator {
                return Err(AppError::forbidden());
            }
            Ok(OperatorAdmin(account))
        })
    }
}

/// Any valid token issued by the current site (audience checked); the basis of `/api/v1/me`.
#[derive(Debug, Clone)]
pub struct SiteToken(pub crate::accounts::jwt::Claims);

impl FromRequest for SiteToken {
    type Error = AppError;
    type Future = Ready<Result<SiteToken, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let result = (|| {
            let state = state(req)?;
            let site = req
                .extensions()
                .get::<Site>()
                .cloned()
                .ok_or(AppError::NotFound)?;
            let token = bearer(req).ok_or_else(AppError::unauthorized)?;
            Ok(SiteToken(state.jwt.verify(&token, &site.audience())?))
        })();
        ready(result)
    }
}

/// A signed-in citizen (national account) on the current site.
#[derive(Debug, Clone)]
pub struct CitizenUser(pub crate::accounts::citizens::Citizen);

impl FromRequest for CitizenUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<CitizenUser, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let token = SiteToken::from_request(req, payload).into_inner();
        let state = state(req);
        Box::pin(async move {
            let SiteToken(claims) = token?;
            let state = state?;
            if claims.role != "citizen" {
                return Err(AppError::forbidden());
            }
            let id = uuid::Uuid::parse_str(&claims.sub).map_err(|_| AppError::unauthorized())?;
            let citizen = state
                .db
                .control_async(move |conn| crate::accounts::citizens::find_active(conn, id))
                .await?
                .ok_or_else(AppError::unauthorized)?;
            Ok(CitizenUser(citizen))
        })
    }
}

/// A signed-in official or admin of the current province, checked active on every request.
#[derive(Debug, Clone)]
pub struct StaffUser {
    pub account: crate::accounts::staff::StaffAccount,
    pub province: Province,
}

impl StaffUser {
    /// For the history: `staff:<id>`.
    pub fn label(&self) -> String {
        format!("staff:{}", self.account.id)
    }

    /// Who acts, for the application layer.
    pub fn actor(&self) -> crate::app::Actor {
        crate::app::Actor::Staff {
            id: self.account.id,
            role: self.account.role,
        }
    }
}

impl FromRequest for StaffUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<StaffUser, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let token = SiteToken::from_request(req, payload).into_inner();
        let province = Province::from_request(req, payload).into_inner();
        Box::pin(async move {
            let SiteToken(claims) = token?;
            let province = province?;
            if claims.role != "official" && claims.role != "admin" {
                return Err(AppError::forbidden());
            }
            let id = uuid::Uuid::parse_str(&claims.sub).map_err(|_| AppError::unauthorized())?;
            // Deactivation takes effect on the very next request.
            let account = province
                .db
                .run(move |conn| crate::accounts::staff::find_active(conn, id))
                .await?
                .ok_or_else(AppError::unauthorized)?;
            Ok(StaffUser { account, province })
        })
    }
}

/// A province admin: branding, procedures, staff.
#[derive(Debug, Clone)]
pub struct AdminUser(pub StaffUser);

impl FromRequest for AdminUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<AdminUser, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let staff = StaffUser::from_request(req, payload);
        Box::pin(async move {
            let staff = staff.await?;
            if staff.account.role != crate::accounts::staff::StaffRole::Admin {
                return Err(AppError::forbidden());
            }
            Ok(AdminUser(staff))
        })
    }
}
