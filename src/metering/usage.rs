//! Usage as the operator and the province admin see it: per metric, used against included.

use std::collections::BTreeMap;

use diesel::prelude::*;
use serde::Serialize;

use super::Metric;
use crate::db::schema::{plan_metrics, tenants, usage_daily, usage_period};
use crate::error::AppError;
use crate::period::Period;
use crate::tenancy::TenantId;

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct MetricUsage {
    pub used: i64,
    pub included: i64,
}

/// The contract's shape: `{period, metrics: {METRIC: {used, included}}}`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Usage {
    #[schema(value_type = String, example = "2026-11")]
    pub period: Period,
    #[schema(value_type = BTreeMap<String, MetricUsage>)]
    pub metrics: BTreeMap<&'static str, MetricUsage>,
}

/// A period's usage (control-plane door); `included` is the current plan's allowance.
pub fn for_period(
    conn: &mut PgConnection,
    tenant: TenantId,
    period: Period,
) -> Result<Usage, AppError> {
    let used: Vec<(String, i64)> = usage_period::table
        .filter(usage_period::tenant_id.eq(tenant.0))
        .filter(usage_period::period.eq(period.to_string()))
        .select((usage_period::metric, usage_period::quantity))
        .load(conn)?;
    let included: Vec<(String, i64)> = plan_metrics::table
        .inner_join(tenants::table.on(tenants::plan_code.eq(plan_metrics::plan_code)))
        .filter(tenants::id.eq(tenant.0))
        .select((plan_metrics::metric, plan_metrics::included))
        .load(conn)?;
    let metrics = Metric::ALL
        .iter()
        .map(|m| {
            let find = |rows: &[(String, i64)]| {
                rows.iter()
                    .find(|(k, _)| k == m.as_str())
                    .map(|(_, v)| *v)
                    .unwrap_or(0)
            };
            (
                m.as_str(),
                MetricUsage {
                    used: find(&used),
                    included: find(&included),
                },
            )
        })
        .collect();
    Ok(Usage { period, metrics })
}

/// Day by day over a period, for the charts: metric → [(day, quantity)].
pub fn daily(
    conn: &mut PgConnection,
    tenant: TenantId,
    period: Period,
) -> Result<BTreeMap<String, Vec<(chrono::NaiveDate, i64)>>, AppError> {
    let rows: Vec<(String, chrono::NaiveDate, i64)> = usage_daily::table
        .filter(usage_daily::tenant_id.eq(tenant.0))
        .filter(usage_daily::day.ge(period.first_day()))
        .filter(usage_daily::day.lt(period.end()))
        .order((usage_daily::metric, usage_daily::day))
        .select((usage_daily::metric, usage_daily::day, usage_daily::quantity))
        .load(conn)?;
    let mut out: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for (metric, day, q) in rows {
        out.entry(metric).or_default().push((day, q));
    }
    Ok(out)
}
