//! One sign-in for every site (#17.3): the national site hands its signed-in citizen to a
//! province's site (see `accounts::handoff` for the code's rules, `web::handoff` for the
//! redirects). Signing out anywhere moves the account's token version on, which ends every
//! site's session at once and spoils any code not yet redeemed.

use super::App;
use super::auth::SignedIn;
use crate::accounts::citizens;
use crate::accounts::handoff::{self, Handoff};
use crate::accounts::jwt::Claims;
use crate::error::AppError;
use crate::ids::{CitizenId, TenantId};

/// A one-time code that signs the citizen of the national session `claims` in on `tenant`'s
/// site, in the browser holding `nonce`. `None` when the session is not (or no longer) a
/// citizen's valid session: the province then shows its own sign-in.
pub async fn hand_off(
    app: &App,
    claims: &Claims,
    tenant: TenantId,
    nonce: String,
) -> Result<Option<String>, AppError> {
    if claims.role != "citizen" || !handoff::well_formed(&nonce) {
        return Ok(None);
    }
    let Ok(id) = uuid::Uuid::parse_str(&claims.sub) else {
        return Ok(None);
    };
    let given = Handoff {
        citizen: CitizenId(id),
        loa: claims.loa.clamp(1, 2),
        token_version: claims.ver,
    };
    app.db
        .control_async(move |conn| {
            if citizens::find_session(conn, given.citizen, given.token_version)?.is_none() {
                return Ok(None);
            }
            handoff::mint(conn, &given, tenant, &nonce, chrono::Utc::now()).map(Some)
        })
        .await
}

/// Redeems a code on `tenant`'s site with the browser's nonce cookie, if it has one: who to
/// sign in and at which assurance level, or `None` (unknown, spent, expired, another
/// province's or another browser's code, or an account signed out or deactivated since). The
/// code is spent either way.
pub async fn take(
    app: &App,
    tenant: TenantId,
    code: String,
    nonce: Option<String>,
) -> Result<Option<(SignedIn, u8)>, AppError> {
    app.db
        .control_async(move |conn| {
            let now = chrono::Utc::now();
            let Some(h) = handoff::redeem(conn, &code, tenant, nonce.as_deref(), now)? else {
                return Ok(None);
            };
            if citizens::find_session(conn, h.citizen, h.token_version)?.is_none() {
                return Ok(None);
            }
            let who = SignedIn {
                id: h.citizen.0,
                role: "citizen",
                token_version: h.token_version,
            };
            Ok(Some((who, h.loa)))
        })
        .await
}
