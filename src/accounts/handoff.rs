//! One sign-in for every site (#17.3): the national site hands a signed-in citizen to a
//! province's site with a one-time code, never with a token. The code is stored hashed, lives
//! a minute, is for one province and one browser (the hash of a nonce the province keeps in a
//! cookie of its own), and is spent by the first attempt to redeem it, right or wrong.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use rand::Rng;
use sha2::{Digest, Sha256};

use crate::db::schema::session_handoffs;
use crate::error::AppError;
use crate::ids::{CitizenId, TenantId};

/// How long a handoff code can be redeemed: the browser follows the redirect at once.
pub const CODE_TTL_SECS: i64 = 60;

/// A browser nonce or a code as it travels: 64 lowercase hex characters (32 random bytes).
/// Anything else is refused before a query.
pub fn well_formed(value: &str) -> bool {
    value.len() == 64
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// 32 random bytes, hex: a new code or nonce.
pub fn random_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn digest(value: &str) -> Vec<u8> {
    Sha256::digest(value.as_bytes()).to_vec()
}

/// Who a redeemed code signs in, and how strongly they signed in on the national site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handoff {
    pub citizen: CitizenId,
    pub loa: u8,
    /// The account's token version when the code was made: a sign-out in between spoils it.
    pub token_version: i64,
}

/// A stored code's row: citizen, tenant, nonce hash, level, token version, expiry.
type StoredCode = (uuid::Uuid, uuid::Uuid, Vec<u8>, i16, i64, DateTime<Utc>);

/// Stores a new code for `handoff` to `tenant`, in the browser that holds `nonce`, and returns
/// it. Expired codes are swept on the way (an index on `expires_at` keeps that cheap).
pub fn mint(
    conn: &mut PgConnection,
    handoff: &Handoff,
    tenant: TenantId,
    nonce: &str,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    if !well_formed(nonce) {
        return Err(AppError::internal("handoff nonce not checked before mint"));
    }
    diesel::delete(session_handoffs::table.filter(session_handoffs::expires_at.lt(now)))
        .execute(conn)?;
    let code = random_token();
    diesel::insert_into(session_handoffs::table)
        .values((
            session_handoffs::code_hash.eq(digest(&code)),
            session_handoffs::citizen_id.eq(handoff.citizen.0),
            session_handoffs::tenant_id.eq(tenant.0),
            session_handoffs::nonce_hash.eq(digest(nonce)),
            session_handoffs::loa.eq(i16::from(handoff.loa)),
            session_handoffs::token_version.eq(handoff.token_version),
            session_handoffs::expires_at.eq(now + chrono::Duration::seconds(CODE_TTL_SECS)),
        ))
        .execute(conn)?;
    Ok(code)
}

/// Spends `code` and returns its handoff when it was made for `tenant`, for the browser that
/// holds `nonce`, and has not expired. Any attempt spends the code, also one from a browser
/// with no nonce or a malformed one: the browser a code was sent to is the first to present
/// it, and whatever it answers, nobody can use that URL afterwards (the nonce may be the
/// attacker's own, chosen when they sent the victim to the national half).
pub fn redeem(
    conn: &mut PgConnection,
    code: &str,
    tenant: TenantId,
    nonce: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<Handoff>, AppError> {
    if !well_formed(code) {
        return Ok(None);
    }
    let row: Option<StoredCode> = diesel::delete(session_handoffs::table.find(digest(code)))
        .returning((
            session_handoffs::citizen_id,
            session_handoffs::tenant_id,
            session_handoffs::nonce_hash,
            session_handoffs::loa,
            session_handoffs::token_version,
            session_handoffs::expires_at,
        ))
        .get_result(conn)
        .optional()?;
    let Some((citizen, for_tenant, nonce_hash, loa, token_version, expires_at)) = row else {
        return Ok(None);
    };
    // Hashes of 32 random bytes: comparing them in variable time tells an attacker nothing.
    let browser = nonce.is_some_and(|n| well_formed(n) && nonce_hash == digest(n));
    if for_tenant != tenant.0 || !browser || expires_at < now {
        return Ok(None);
    }
    Ok(Some(Handoff {
        citizen: CitizenId(citizen),
        loa: u8::try_from(loa).unwrap_or(1),
        token_version,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_64_lowercase_hex_is_well_formed() {
        assert!(well_formed(&random_token()));
        assert!(!well_formed(""));
        assert!(!well_formed(&"A".repeat(64)));
        assert!(!well_formed(&"a".repeat(63)));
        assert!(!well_formed(&format!("{}'", "a".repeat(63))));
    }
}
