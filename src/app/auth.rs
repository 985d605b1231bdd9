//! Signing in, registering, sessions and signing out, written once for the three kinds of site
//! (a province, the national host, the operator host).
//!
//! A sign-in (#15.3, #15.4):
//! 1. reserves one attempt for the address under the lockout, in one short transaction (the
//!    check and the count are one step per key: a burst gets no more verifications than the
//!    window allows);
//! 2. reads the account(s) in short transactions and gives the connections back;
//! 3. verifies the password under the process's hashing bound ([`password::HashGate`]),
//!    holding no connection;
//! 4. forgets the reserved attempt when the password was right (or never checked).
//!
//! A session (#24.4) is a token carrying the account's token version; every authenticated
//! request reads the account by primary key with that version, so a sign-out, a new password
//! or a deactivation revokes every older token on every replica at once.

use super::App;
use crate::accounts::citizens::{self, Citizen, Credentials, NewCitizen};
use crate::accounts::jwt::Claims;
use crate::accounts::operators::{self, OperatorAccount};
use crate::accounts::staff::StaffRole;
use crate::accounts::staff::{self, StaffAccount};
use crate::accounts::{password, throttle};
use crate::error::AppError;
use crate::ids::{CitizenId, OperatorId, StaffId};
use crate::lang::Msg;
use crate::tenancy::Site;

/// Who signed in: the account id, the role and the token version the token must carry.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub id: uuid::Uuid,
    pub role: &'static str,
    pub token_version: i64,
}

/// 401 for a wrong address or password, saying neither which.
pub fn wrong_credentials() -> AppError {
    AppError::Unauthorized(Msg::new(
        "Email hoặc mật khẩu không đúng.",
        "Wrong email or password.",
    ))
}

/// Runs `check` under one reserved attempt of `key`: `Ok(Some)` releases it (the password was
/// right), `Ok(None)` keeps it as the failure it is, an error releases it (nothing was
/// verified, e.g. the hashing bound said 429).
async fn under_lockout<T, Fut>(app: &App, key: String, check: Fut) -> Result<Option<T>, AppError>
where
    Fut: std::future::Future<Output = Result<Option<T>, AppError>>,
{
    let attempt = app
        .db
        .control_async(move |conn| throttle::reserve(conn, &key))
        .await?;
    let outcome = check.await;
    if !matches!(outcome, Ok(None)) {
        let released = app
            .db
            .control_async(move |conn| throttle::release(conn, attempt))
            .await;
        if let Err(e) = released {
            tracing::warn!(error = %e, "sign-in attempt not released");
        }
    }
    outcome
}

/// Signs in on a province or the national site. On a province the province's staff come
/// first, then national citizen accounts; one lockout key counts both. A staff address with a
/// password that is not the staff one goes on to the national accounts: a national account made
/// with that address then signs in as itself, so its answer never tells that the address is
/// staff here. Both checks cost one verification each (a dummy where there is no account), so
/// timing does not tell either.
pub async fn sign_in(
    app: &App,
    site: &Site,
    email: &str,
    given: &str,
) -> Result<SignedIn, AppError> {
    let key = throttle::sign_in_key(email);
    let check = check_site(app, site, email.to_string(), given.to_string());
    under_lockout(app, key, check)
        .await?
        .ok_or_else(wrong_credentials)
}

async fn check_site(
    app: &App,
    site: &Site,
    email: String,
    given: String,
) -> Result<Option<SignedIn>, AppError> {
    let staff_row = match site {
        Site::Province(tenant) => {
            let e = email.clone();
            let found = app
                .db
                .tenant(tenant.db_ref())
                .run(move |conn| staff::credentials(conn, &e))
                .await?;
            Some(found)
        }
        _ => None,
    };
    let citizen_row = app
        .db
        .control_async(move |conn| citizens::credentials(conn, &email))
        .await?;
    let passwords_on = app.settings.auth.citizen_password_sign_in;
    app.hashing
        .run(move || {
            if let Some(staff_row) = staff_row {
                // The password is checked (or a dummy) before `active`, so a deactivated or
                // invited account takes the time of any other.
                let matches = match &staff_row {
                    Some((_, Some(hash), _)) => password::verify(&given, hash),
                    _ => {
                        password::verify_dummy(&given);
                        false
                    }
                };
                if let Some((account, _, version)) = staff_row
                    && matches
                    && account.active
                {
                    return Some(SignedIn {
                        id: account.id.0,
                        role: account.role.as_str(),
                        token_version: version,
                    });
                }
            }
            match citizen_row {
                // An account made by national sign-in has no password: refused like a
                // wrong one, after the same work. So is every citizen when password sign-in
                // is switched off (`auth.citizen_password_sign_in = false`).
                Some(Credentials {
                    citizen,
                    password_hash: Some(hash),
                    active,
                    token_version,
                }) if passwords_on => {
                    (password::verify(&given, &hash) && active).then_some(SignedIn {
                        id: citizen.id.0,
                        role: "citizen",
                        token_version,
                    })
                }
                _ => {
                    password::verify_dummy(&given);
                    None
                }
            }
        })
        .await
}

/// Checks an operator's credentials under one lockout (same key on the console and the API):
/// `None` for wrong credentials, which count as a failure; 429 while locked out or while the
/// hashing bound is full.
pub async fn operator_sign_in(
    app: &App,
    email: &str,
    given: &str,
) -> Result<Option<(OperatorAccount, i64)>, AppError> {
    let key = operators::sign_in_key(email);
    let (email, given) = (email.to_string(), given.to_string());
    let check = async {
        let row = app
            .db
            .control_async(move |conn| operators::credentials(conn, &email))
            .await?;
        app.hashing
            .run(move || match row {
                Some((account, hash, active, version)) => {
                    (password::verify(&given, &hash) && active).then_some((account, version))
                }
                None => {
                    password::verify_dummy(&given);
                    None
                }
            })
            .await
    };
    under_lockout(app, key, check).await
}

/// Creates a national account (hashing under the bound, then one short transaction); 409
/// `email_taken` when the address has one. A new account's tokens are of version 0.
pub async fn register(app: &App, new: NewCitizen) -> Result<Citizen, AppError> {
    let given = new.password.clone();
    let hash = app.hashing.run(move || password::hash(&given)).await??;
    app.db
        .control_async(move |conn| citizens::register(conn, &new, &hash))
        .await
}

/// The account a valid token speaks for.
#[derive(Debug, Clone)]
pub enum Account {
    Citizen(Citizen),
    Staff(StaffAccount),
    Operator(OperatorAccount),
}

/// The account behind `claims` on `site`, if it is still active and the token's version is
/// still its own: one read by primary key. `None` for a revoked, deactivated or foreign one.
pub async fn resume(app: &App, site: &Site, claims: &Claims) -> Result<Option<Account>, AppError> {
    let Ok(id) = uuid::Uuid::parse_str(&claims.sub) else {
        return Ok(None);
    };
    let version = claims.ver;
    match (claims.role.as_str(), site) {
        ("citizen", Site::Province(_) | Site::National) => Ok(app
            .db
            .control_async(move |conn| citizens::find_session(conn, CitizenId(id), version))
            .await?
            .map(Account::Citizen)),
        (role, Site::Province(tenant)) if StaffRole::parse(role).is_ok() => Ok(app
            .db
            .tenant(tenant.db_ref())
            .run(move |conn| staff::find_session(conn, StaffId(id), version))
            .await?
            .map(Account::Staff)),
        ("operator" | "billing", Site::Operator) => Ok(app
            .db
            .control_async(move |conn| operators::find_session(conn, OperatorId(id), version))
            .await?
            .map(Account::Operator)),
        _ => Ok(None),
    }
}

/// Signs the token's account out everywhere: every token issued to it so far stops working
/// on every replica at the next request. A token that does not resolve changes nothing.
pub async fn sign_out(app: &App, site: &Site, claims: &Claims) -> Result<(), AppError> {
    let Ok(id) = uuid::Uuid::parse_str(&claims.sub) else {
        return Ok(());
    };
    let version = claims.ver;
    match (claims.role.as_str(), site) {
        ("citizen", Site::Province(_) | Site::National) => {
            app.db
                .control_async(move |conn| citizens::revoke_tokens(conn, CitizenId(id), version))
                .await
        }
        (role, Site::Province(tenant)) if StaffRole::parse(role).is_ok() => {
            app.db
                .tenant(tenant.db_ref())
                .run(move |conn| staff::revoke_tokens(conn, StaffId(id), version))
                .await
        }
        ("operator" | "billing", Site::Operator) => {
            app.db
                .control_async(move |conn| operators::revoke_tokens(conn, OperatorId(id), version))
                .await
        }
        _ => Ok(()),
    }
}

/// Signs in a citizen the national identity provider vouched for (#17.1): the account linked
/// to the citizen ID, or a new one (no password) on first sign-in. An account that already
/// uses the provider's address is never merged: 409 `identity_conflict`. A deactivated
/// account is refused like a wrong password.
pub async fn national_sign_in(
    app: &App,
    who: citizens::NationalIdentity,
) -> Result<SignedIn, AppError> {
    let linked = app
        .db
        .control_async(move |conn| {
            use diesel::Connection;
            conn.transaction(
                |conn| match citizens::find_by_citizen_id(conn, &who.citizen_id)? {
                    Some(linked) => Ok(linked),
                    None => citizens::create_national(conn, &who),
                },
            )
        })
        .await?;
    if !linked.active {
        return Err(AppError::Forbidden(Msg::new(
            "Tài khoản này đã bị khóa. Vui lòng liên hệ bộ phận hỗ trợ.",
            "This account is deactivated. Please contact support.",
        )));
    }
    Ok(SignedIn {
        id: linked.citizen.id.0,
        role: "citizen",
        token_version: linked.token_version,
    })
}
