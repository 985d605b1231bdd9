//! Closes the previous month automatically on the 1st, after a grace of hours (late usage
//! flushes and samples land first), once across replicas (the close takes its own lock).

use chrono::{DateTime, Datelike, Duration, Timelike, Utc};
use diesel::prelude::*;

use crate::billing::close;
use crate::db::Db;
use crate::db::schema::period_closes;
use crate::error::AppError;
use crate::period::Period;

/// Returns the number of invoices made, `None` when nothing was due.
pub fn close_due(db: &Db, grace_hours: u32, now: DateTime<Utc>) -> Result<Option<usize>, AppError> {
    let local = now + Duration::hours(7);
    if local.day() != 1 || local.hour() < grace_hours {
        return Ok(None);
    }
    let period = Period::of(local.date_naive()).prev();
    db.control(|conn| {
        let done: bool = diesel::select(diesel::dsl::exists(
            period_closes::table.filter(period_closes::period.eq(period.to_string())),
        ))
        .get_result(conn)?;
        if done {
            return Ok(None);
        }
        Ok(Some(
            close::close(conn, period, "job:billing-close", local.date_naive())?.len(),
        ))
    })
}
