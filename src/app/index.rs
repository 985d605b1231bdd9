//! Reading the evaluation index (the national pages and API): stored figures only, computed by
//! the index job from each province's history.

use super::App;
use crate::error::AppError;
use crate::index::{self, Counts};
use crate::period::Period;
use crate::tenancy::TenantId;

/// Every province's stored figures for `period`.
pub async fn period(app: &App, period: Period) -> Result<Vec<(uuid::Uuid, Counts)>, AppError> {
    app.db
        .control_async(move |conn| index::load_period(conn, period))
        .await
}

/// One province's figures over `periods`.
pub async fn trend(
    app: &App,
    tenant: TenantId,
    periods: Vec<Period>,
) -> Result<Vec<(Period, Counts)>, AppError> {
    app.db
        .control_async(move |conn| index::load_trend(conn, tenant, &periods))
        .await
}

/// One province's units for `period`, scored and ranked with the configured minimum sample.
pub async fn units(
    app: &App,
    tenant: TenantId,
    period: Period,
) -> Result<Vec<index::units::Scored>, AppError> {
    let min = app.settings.index.min_decided;
    let lines = app
        .db
        .control_async(move |conn| index::units::load(conn, tenant, period))
        .await?;
    Ok(index::units::score(lines, min))
}

/// What `portal index refresh` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refreshed {
    pub provinces: usize,
    pub months: usize,
    pub rows: usize,
}

/// Recomputes the stored monthly rows (province and units) from `since` to this month for
/// every province the index job computes (merged provinces keep their history; a successor's
/// months before its merge stay as stored), under the job's lock. `None`: the job holds the
/// lock right now.
pub fn refresh_since(app: &App, since: Period) -> Result<Option<Refreshed>, AppError> {
    let now = Period::of(crate::clock::today_vn());
    let months = index::job::months(since, now);
    app.registry.reload()?;
    let tenants = app.registry.all();
    crate::db::locks::with_lock(&app.db, crate::db::locks::INDEX_REFRESH, || {
        let rows = index::job::refresh(&app.db, &tenants, &months)?;
        Ok(Refreshed {
            provinces: tenants.len(),
            months: months.len(),
            rows,
        })
    })
}
