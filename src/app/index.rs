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
