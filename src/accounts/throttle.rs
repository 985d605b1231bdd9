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
