//! Closes the previous month automatically on the 1st, after a grace of hours (late usage
//! flushes and samples land first), once across replicas (the close takes its own lock).

use chrono::{DateTime, Datelike, Duration, Timelike, Utc};
use diesel::prelude::*;

use crate::billing::provider::InvoiceProvider;
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
            crate::app::billing::close_in(
                conn,
                &crate::app::Actor::Job("billing-close"),
                period,
                now,
            )?
            .len(),
        ))
    })
}

/// Pushes to the provider what is still owed to it (closed by this job, by the CLI, or a failed
/// attempt), once across replicas; at most `MAX_ATTEMPTS` tries per invoice, then the operator
/// retries by hand (the console shows the error).
pub fn push_due(
    db: &Db,
    provider: &dyn InvoiceProvider,
    runtime: &tokio::runtime::Runtime,
) -> Result<usize, AppError> {
    const MAX_ATTEMPTS: i32 = 5;
    if provider.name() == "offline" {
        return Ok(0);
    }
    let pushed = super::with_lock(db, super::BILLING_PUSH, || {
        runtime.block_on(crate::billing::send::push_unsent(
            db,
            provider,
            None,
            MAX_ATTEMPTS,
        ))
    })?;
    Ok(pushed.unwrap_or(0))
}
