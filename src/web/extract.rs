//! Extractors for the current site and the signed-in person; no handler checks a role by hand.

use std::future::{Ready, ready};
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use crate::accounts::jwt::Claims;
use crate::accounts::operators::{OperatorAccount, OperatorRole};
use crate::app::auth::Account;
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

/// The bearer token of the request, verified for this site (signature, expiry, audience).
fn verified(req: &HttpRequest) -> Result<(Claims, Site, web::Data<AppState>), AppError> {
    let state = state(req)?;
    let site = req
        .extensions()
        .get::<Site>()
        .cloned()
        .ok_or(AppError::NotFound)?;
    let token = bearer(req).ok_or_else(AppError::unauthorized)?;
    let claims = state.jwt.verify(&token, &site.audience())?;
    Ok((claims, site, state))
}

/// The account the token speaks for, active and of the token's version (one read by primary
/// key, at most once per request: the result is kept in the request). 401 otherwise: a
/// sign-out, a new password or a deactivation on any replica ends the token at once.
async fn resumed(
    req: HttpRequest,
    state: &AppState,
    site: &Site,
    claims: &Claims,
) -> Result<Account, AppError> {
    if let Some(account) = req.extensions().get::<Account>() {
        return Ok(account.clone());
    }
    let account = crate::app::auth::resume(state, site, claims)
        .await?
        .ok_or_else(AppError::unauthorized)?;
    req.extensions_mut().insert(account.clone());
    Ok(account)
}

/// Signed-in operator staff of any role, on the operator site.
#[derive(Debug, Clone)]
pub struct OperatorUser(pub OperatorAccount);

impl FromRequest for OperatorUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<OperatorUser, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let on_ops = matches!(req.extensions().get::<Site>(), Some(Site::Operator));
        let verified = verified(req);
        let req = req.clone();
        Box::pin(async move {
            if !on_ops {
                return Err(AppError::forbidden());
            }
            let (claims, site, state) = verified?;
            match resumed(req, &state, &site, &claims).await? {
                Account::Operator(account) => Ok(OperatorUser(account)),
                _ => Err(AppError::unauthorized()),
            }
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

/// A valid token issued by the current site (audience checked) whose account is still active
/// and of the token's version; the basis of `/api/v1/me`.
#[derive(Debug, Clone)]
pub struct SiteToken(pub Claims);

impl FromRequest for SiteToken {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<SiteToken, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let verified = verified(req);
        let req = req.clone();
        Box::pin(async move {
            let (claims, site, state) = verified?;
            resumed(req, &state, &site, &claims).await?;
            Ok(SiteToken(claims))
        })
    }
}

/// A signed-in citizen (national account) on the current site.
#[derive(Debug, Clone)]
pub struct CitizenUser(pub crate::accounts::citizens::Citizen);

impl FromRequest for CitizenUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<CitizenUser, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let verified = verified(req);
        let req = req.clone();
        Box::pin(async move {
            let (claims, site, state) = verified?;
            if claims.role != "citizen" {
                return Err(AppError::forbidden());
            }
            match resumed(req, &state, &site, &claims).await? {
                Account::Citizen(citizen) => Ok(CitizenUser(citizen)),
                _ => Err(AppError::unauthorized()),
            }
        })
    }
}

/// A citizen's token for the current site, verified (signature, expiry, audience, role) but its
/// account not read: for the one action that reads the account in its own write transaction
/// (`app::citizen::submit_online`, which refuses a signed-out or deactivated account with 401
/// as [`CitizenUser`] does). Everything else takes [`CitizenUser`]. Carries the session's
/// assurance level (`loa`) of the same token.
#[derive(Debug, Clone, Copy)]
pub struct CitizenToken {
    pub session: crate::app::citizen::CitizenSession,
    pub level: u8,
}

impl FromRequest for CitizenToken {
    type Error = AppError;
    type Future = Ready<Result<CitizenToken, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = (|| {
            let (claims, site, _) = verified(req)?;
            if claims.role != "citizen" {
                return Err(AppError::forbidden());
            }
            // As `app::auth::resume`: a citizen's token speaks on a province or national site.
            if !matches!(site, Site::Province(_) | Site::National) {
                return Err(AppError::unauthorized());
            }
            let id = uuid::Uuid::parse_str(&claims.sub).map_err(|_| AppError::unauthorized())?;
            Ok(CitizenToken {
                session: crate::app::citizen::CitizenSession {
                    id: crate::ids::CitizenId(id),
                    version: claims.ver,
                },
                level: claims.loa,
            })
        })();
        ready(token)
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
        let verified = verified(req);
        let province = Province::from_request(req, payload).into_inner();
        let req = req.clone();
        Box::pin(async move {
            let (claims, site, state) = verified?;
            let province = province?;
            if crate::accounts::staff::StaffRole::parse(&claims.role).is_err() {
                return Err(AppError::forbidden());
            }
            // Deactivation (and sign-out) takes effect on the very next request.
            let Account::Staff(account) = resumed(req, &state, &site, &claims).await? else {
                return Err(AppError::unauthorized());
            };
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

/// The assurance level of the request's session (#17.2): the `loa` of its Bearer token, else
/// of its `session` cookie; 1 when neither verifies. Only a level: who signed in is for
/// [`CitizenUser`] or `PageCitizen`, which the same handler extracts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLevel(pub u8);

impl FromRequest for SessionLevel {
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<SessionLevel, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let level = (|| {
            let state = state(req).ok()?;
            let site = req.extensions().get::<Site>().cloned()?;
            let token = bearer(req).or_else(|| {
                req.cookie(crate::web::session::SESSION_COOKIE)
                    .map(|c| c.value().to_string())
            })?;
            state
                .jwt
                .verify(&token, &site.audience())
                .ok()
                .map(|c| c.loa)
        })();
        std::future::ready(Ok(SessionLevel(level.unwrap_or(1))))
    }
}
