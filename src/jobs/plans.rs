//! Each province's current plan follows its leases: a lease dated in the future becomes the
//! plan (rate limit, hard caps) on its day in Vietnam, on every replica; and a province whose
//! lease ended is suspended the day after its last day, unless a later lease starts.

use chrono::NaiveDate;

use crate::db::Db;
use crate::error::AppError;
use crate::tenancy::Registry;

/// One run, once across replicas (`PLAN_REFRESH`): the plans changed for `today`, by slug
/// (`None` when another replica holds the lock). The change notifies every replica's registry
/// (the `tenants` trigger); this one reloads at once.
pub fn run_once(
    db: &Db,
    registry: &Registry,
    today: NaiveDate,
) -> Result<Option<Vec<String>>, AppError> {
    let changed = super::with_lock(db, crate::db::locks::PLAN_REFRESH, || {
        db.control(|conn| crate::leasing::refresh_current_plans(conn, today))
    })?;
    if changed.as_ref().is_some_and(|c| !c.is_empty()) {
        registry.reload()?;
    }
    Ok(changed)
}

/// The lease-end half, once across replicas (`LEASE_LAPSE`): the provinces suspended today
/// because their lease ended (`None` when another replica holds the lock).
pub fn suspend_lapsed(
    app: &crate::app::App,
    today: NaiveDate,
) -> Result<Option<Vec<String>>, AppError> {
    super::with_lock(&app.db, crate::db::locks::LEASE_LAPSE, || {
        crate::app::leasing::suspend_lapsed(app, today)
    })
}
