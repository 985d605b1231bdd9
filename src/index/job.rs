//! Keeps `province_stats` fresh: the current and previous month of every province each run,
//! and the last 12 months once per process start (a province's trend page needs them).

use crate::db::Db;
use crate::dossiers::deadlines::today_vn as deadlines_today;
use crate::error::AppError;
use crate::jobs::{INDEX_REFRESH, with_lock};
use crate::period::Period;
use crate::tenancy::Registry;

/// Recomputes `periods` for every province. Returns how many (province, month) rows it wrote.
pub fn refresh(db: &Db, registry: &Registry, periods: &[Period]) -> Result<usize, AppError> {
    let mut written = 0;
    for tenant in registry.all() {
        let door = db.tenant(tenant.db_ref());
        let counts: Vec<(Period, super::Counts)> = door.tx(|conn| {
            periods
                .iter()
                .map(|p| Ok((*p, super::compute(conn, *p)?)))
                .collect()
        })?;
        db.control(|conn| {
            for (p, c) in &counts {
                super::store(conn, tenant.id, *p, c)?;
            }
            Ok(())
        })?;
        written += counts.len();
    }
    Ok(written)
}

/// One run of the job, under its lock (another replica may be running it).
pub fn run_once(db: &Db, registry: &Registry, backfill: bool) -> Result<Option<usize>, AppError> {
    let now = Period::of(deadlines_today());
    let periods = if backfill {
        now.last(12)
    } else {
        vec![now.prev(), now]
    };
    with_lock(db, INDEX_REFRESH, || refresh(db, registry, &periods))
}
