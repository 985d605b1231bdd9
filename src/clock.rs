//! The one clock for everything with a calendar meaning: "now" and "today in Vietnam" for
//! deadlines, periods, leases, invoices' issue dates and numbers, the index, submissions and
//! their history.
//!
//! Timers and expiries stay on real time (`Instant`, `Utc::now()` in the token, throttle,
//! invitation and outbox code): pinning the calendar must never make a token live for days or
//! a mail retry wait for weeks, and those compare with PostgreSQL's own `now()`.
//!
//! `PORTAL_TEST_TODAY=YYYY-MM-DD` pins the date for the whole process and the servers it
//! spawns: the time of day keeps running, the date is the one given. The suite runs at the
//! dates where calendars break (31 December, 1 January, 28/29 February, around Tết; see
//! `.ci/dates`). A server started with it logs a warning: it is never meant for production.

use std::sync::OnceLock;

use chrono::{DateTime, Duration, NaiveDate, Utc};

/// The environment variable that pins today's date.
pub const PIN_VAR: &str = "PORTAL_TEST_TODAY";

/// Vietnam's offset from UTC (no daylight saving).
const VN_OFFSET_HOURS: i64 = 7;

/// The offset applied to real time, read once per process.
fn offset() -> Duration {
    static OFFSET: OnceLock<Duration> = OnceLock::new();
    *OFFSET.get_or_init(|| match std::env::var(PIN_VAR) {
        Ok(v) if !v.trim().is_empty() => match pinned_offset(v.trim(), Utc::now()) {
            Ok(d) => d,
            // A typo here would silently run the suite at the real date: refuse instead.
            Err(e) => panic!("{PIN_VAR}: {e}"),
        },
        _ => Duration::zero(),
    })
}

/// The whole days to add to `real_now` so that it falls on `date` in Vietnam.
fn pinned_offset(date: &str, real_now: DateTime<Utc>) -> Result<Duration, String> {
    let pinned = NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .map_err(|_| format!("\"{date}\" is not a date (YYYY-MM-DD)"))?;
    Ok(Duration::days((pinned - vn_date(real_now)).num_days()))
}

/// The date pinned by `PORTAL_TEST_TODAY`, if any (for the start-up warning).
pub fn pinned() -> Option<NaiveDate> {
    (offset() != Duration::zero()).then(today_vn)
}

/// Now, on the calendar clock.
pub fn now() -> DateTime<Utc> {
    Utc::now() + offset()
}

/// Today in Vietnam (UTC+7): deadlines, periods and leases are local dates.
pub fn today_vn() -> NaiveDate {
    vn_date(now())
}

/// The date in Vietnam at instant `t`.
pub fn vn_date(t: DateTime<Utc>) -> NaiveDate {
    (t + Duration::hours(VN_OFFSET_HOURS)).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn vietnam_is_seven_hours_ahead() {
        let late_utc = Utc.with_ymd_and_hms(2026, 12, 31, 17, 0, 0).unwrap();
        assert_eq!(
            vn_date(late_utc),
            NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()
        );
        let early = Utc.with_ymd_and_hms(2026, 12, 31, 16, 59, 59).unwrap();
        assert_eq!(
            vn_date(early),
            NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()
        );
    }

    #[test]
    fn a_pinned_date_keeps_the_time_of_day() {
        let real = Utc.with_ymd_and_hms(2026, 12, 3, 20, 30, 0).unwrap(); // 4 Dec in Vietnam
        let off = pinned_offset("2028-02-29", real).unwrap();
        let shifted = real + off;
        assert_eq!(
            vn_date(shifted),
            NaiveDate::from_ymd_opt(2028, 2, 29).unwrap()
        );
        assert_eq!(shifted.time(), real.time());
        assert!(
            pinned_offset("2027-02-29", real).is_err(),
            "not a leap year"
        );
        assert!(pinned_offset("31/12/2026", real).is_err());
    }
}
