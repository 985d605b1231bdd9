//! Tracking codes: `HNI-2611-4F7K2Q`: province code, year and month, six characters that are
//! easy to read aloud (no 0/O, 1/I/L, U).

use chrono::{Datelike, Duration, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};
use rand::Rng;

use crate::db::schema::tracking_failures as tf;
use crate::error::AppError;
use crate::lang::Msg;

const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";

pub fn generate(province_code: &str, today: NaiveDate) -> String {
    let mut rng = rand::rng();
    let tail: String = (0..6)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    format!(
        "{province_code}-{:02}{:02}-{tail}",
        today.year() % 100,
        today.month()
    )
}

/// Upper-cases, trims and drops spaces, so a code read over the phone still matches.
pub fn normalize(input: &str) -> String {
    input
        .trim()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase()
}

/// How many failed lookups are allowed, per code (every client together) and per client,
/// within a window.
#[derive(Debug, Clone, Copy)]
pub struct FailureLimits {
    pub per_code: i64,
    pub per_client: i64,
    pub window_secs: i64,
}

/// Takes this transaction's locks on `code` and `client` (code first, always: no deadlock),
/// so that concurrent guesses are counted one after another, then refuses with 429 when
/// either has failed too often within the window. Counts only: a lookup that passes here
/// may still fail, and is then recorded by [`record_failure`] in the same transaction.
pub fn lock_and_check(
    conn: &mut PgConnection,
    code: &str,
    client: &str,
    limits: &FailureLimits,
) -> Result<(), AppError> {
    for (class, key) in [
        (crate::db::locks::TRACKING_CODE, code),
        (crate::db::locks::TRACKING_CLIENT, client),
    ] {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
            .bind::<Integer, _>(class)
            .bind::<Text, _>(key)
            .execute(conn)?;
    }
    let since = Utc::now() - Duration::seconds(limits.window_secs);
    let by_code = tf::table
        .filter(tf::tracking_code.eq(code))
        .filter(tf::at.gt(since))
        .select(tf::at)
        .order(tf::at.asc())
        .limit(limits.per_code)
        .load::<chrono::DateTime<Utc>>(conn)?;
    let by_client = tf::table
        .filter(tf::client.eq(client))
        .filter(tf::at.gt(since))
        .select(tf::at)
        .order(tf::at.asc())
        .limit(limits.per_client)
        .load::<chrono::DateTime<Utc>>(conn)?;
    // The window reopens when the oldest counted failure leaves it.
    let full = |rows: &[chrono::DateTime<Utc>], max: i64| {
        (rows.len() as i64 >= max.max(0)).then(|| {
            let reopens = rows.first().copied().unwrap_or_else(Utc::now)
                + Duration::seconds(limits.window_secs);
            (reopens - Utc::now()).num_seconds().max(1) as u64
        })
    };
    let wait = full(&by_code, limits.per_code).max(full(&by_client, limits.per_client));
    match wait {
        None => Ok(()),
        Some(retry_after_secs) => Err(AppError::TooMany {
            code: "too_many_attempts",
            msg: Msg::new(
                "Đã tra cứu sai quá nhiều lần. Vui lòng thử lại sau, hoặc đăng nhập để xem hồ sơ của bạn.",
                "Too many failed lookups. Please try again later, or sign in to see your dossiers.",
            ),
            retry_after_secs,
        }),
    }
}

/// Records a failed lookup of `code` by `client`, and forgets failures older than the window
/// (a few at a time, so the table stays small without a job of its own).
pub fn record_failure(
    conn: &mut PgConnection,
    code: &str,
    client: &str,
    limits: &FailureLimits,
) -> Result<(), AppError> {
    diesel::insert_into(tf::table)
        .values((tf::tracking_code.eq(code), tf::client.eq(client)))
        .execute(conn)?;
    let stale = Utc::now() - Duration::seconds(limits.window_secs);
    let old: Vec<i64> = tf::table
        .filter(tf::at.lt(stale))
        .select(tf::id)
        .order(tf::at.asc())
        .limit(100)
        .load(conn)?;
    if !old.is_empty() {
        diesel::delete(tf::table.filter(tf::id.eq_any(old))).execute(conn)?;
    }
    Ok(())
}

/// Whether `given` is the applicant's citizen ID, in time that depends only on `given`'s
/// length: every byte is compared, found or not (`stored` is `None` for a code that does not
/// exist, and is then compared with a stand-in).
pub fn id_matches(stored: Option<&str>, given: &str) -> bool {
    const STAND_IN: &[u8; 12] = b"\0\0\0\0\0\0\0\0\0\0\0\0";
    let found = stored.is_some();
    let stored = stored.map_or(&STAND_IN[..], str::as_bytes);
    let given = given.as_bytes();
    let mut diff = u8::from(stored.len() != given.len() || given.len() != 12);
    for (i, g) in given.iter().enumerate() {
        diff |= g ^ stored.get(i).copied().unwrap_or(0xff);
    }
    found & (diff == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_the_documented_shape() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let code = generate("HNI", d);
        assert!(code.starts_with("HNI-2611-"), "{code}");
        assert_eq!(code.len(), "HNI-2611-".len() + 6);
        assert!(code[9..].bytes().all(|b| ALPHABET.contains(&b)));
        assert_eq!(normalize(" hni-2611-4f7k2q "), "HNI-2611-4F7K2Q");
    }

    #[test]
    fn an_id_matches_only_itself_and_never_a_missing_code() {
        assert!(id_matches(Some("001090012345"), "001090012345"));
        assert!(!id_matches(Some("001090012345"), "001090012346"));
        assert!(!id_matches(Some("001090012345"), "00109001234"));
        assert!(!id_matches(Some("001090012345"), "0010900123456"));
        assert!(!id_matches(None, "001090012345"));
        assert!(!id_matches(None, "\0\0\0\0\0\0\0\0\0\0\0\0"));
    }
}
