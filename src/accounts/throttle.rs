//! Sign-in throttling: 5 failures in 15 minutes for one address → 429 with `Retry-After`.

use chrono::{Duration, Utc};
use diesel::prelude::*;

use crate::db::schema::sign_in_failures;
use crate::error::AppError;
use crate::lang::Msg;

pub const MAX_FAILURES: i64 = 5;
pub const WINDOW_MINUTES: i64 = 15;

/// The key for sign-ins with an email on province and national sites (staff or citizen).
pub fn sign_in_key(email: &str) -> String {
    format!("signin:{}", email.trim().to_lowercase())
}

/// Refuses when `key` failed too often recently.
pub fn check(conn: &mut PgConnection, key: &str) -> Result<(), AppError> {
    let since = Utc::now() - Duration::minutes(WINDOW_MINUTES);
    let recent: Vec<chrono::DateTime<Utc>> = sign_in_failures::table
        .filter(sign_in_failures::key.eq(key))
        .filter(sign_in_failures::at.gt(since))
        .select(sign_in_failures::at)
        .order(sign_in_failures::at.asc())
        .limit(MAX_FAILURES)
        .load(conn)?;
    if (recent.len() as i64) < MAX_FAILURES {
        return Ok(());
    }
    // The window reopens when the oldest of these failures leaves it.
    let reopens = recent[0] + Duration::minutes(WINDOW_MINUTES);
    let retry_after_secs = (reopens - Utc::now()).num_seconds().max(1) as u64;
    Err(AppError::TooMany {
        code: "too_many_attempts",
        msg: Msg::new(
            "Bạn đã nhập sai quá nhiều lần. Vui lòng thử lại sau ít phút.",
            "Too many failed sign-ins. Please try again in a few minutes.",
        ),
        retry_after_secs,
    })
}

/// Reserves one attempt for `key` before the password is checked (#15.4): under a lock on the
/// key (held to the end of the caller's transaction), refuses with 429 when the window is full,
/// else counts the attempt as a failure at once and returns its id. The check and the count
/// are one step, so a burst of simultaneous attempts gets no more verifications than the
/// window allows. A correct password then calls [`release`] with the id.
pub fn reserve(conn: &mut PgConnection, key: &str) -> Result<i64, AppError> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(7215, hashtext($1))")
        .bind::<diesel::sql_types::Text, _>(key)
        .execute(conn)?;
    check(conn, key)?;
    let id: i64 = diesel::insert_into(sign_in_failures::table)
        .values(sign_in_failures::key.eq(key))
        .returning(sign_in_failures::id)
        .get_result(conn)?;
    diesel::delete(
        sign_in_failures::table
            .filter(sign_in_failures::key.eq(key))
            .filter(sign_in_failures::at.lt(Utc::now() - Duration::days(1))),
    )
    .execute(conn)?;
    Ok(id)
}

/// Forgets a reserved attempt: the password was right, or it was never checked.
pub fn release(conn: &mut PgConnection, id: i64) -> Result<(), AppError> {
    diesel::delete(sign_in_failures::table.find(id)).execute(conn)?;
    Ok(())
}

pub fn record_failure(conn: &mut PgConnection, key: &str) -> Result<(), AppError> {
    diesel::insert_into(sign_in_failures::table)
        .values(sign_in_failures::key.eq(key))
        .execute(conn)?;
    // Keep the table small: forget failures older than a day.
    diesel::delete(
        sign_in_failures::table
            .filter(sign_in_failures::key.eq(key))
            .filter(sign_in_failures::at.lt(Utc::now() - Duration::days(1))),
    )
    .execute(conn)?;
    Ok(())
}
