//! Plans: a monthly fee, a request rate, and per metric an allowance, a unit price, a cap.

use std::collections::BTreeMap;

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::schema::{plan_metrics, plans};
use crate::error::{AppError, FieldErrors};
use crate::lang::Msg;
use crate::metering::Metric;
use crate::tenancy::Slug;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct MetricTerms {
    pub included: i64,
    pub unit_price_vnd: i64,
    pub hard_cap: Option<i64>,
}

/// The contract's plan: `{code, name, monthly_fee_vnd, rate_limit_rps, metrics: {METRIC: …}}`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Plan {
    pub code: String,
    pub name: String,
    pub monthly_fee_vnd: i64,
    pub rate_limit_rps: i32,
    pub rate_burst: i32,
    pub metrics: BTreeMap<String, MetricTerms>,
}

/// `PUT /api/v1/plans/{code}`: the same shape; `rate_burst` defaults to twice the rate.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct PlanInput {
    pub name: String,
    pub monthly_fee_vnd: i64,
    pub rate_limit_rps: i32,
    pub rate_burst: Option<i32>,
    pub metrics: BTreeMap<String, MetricTerms>,
}

impl PlanInput {
    pub fn validate(&self, code: &str) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        if Slug::parse(code).is_err() {
            e.insert(
                "code".into(),
                Msg::new("Mã gói không hợp lệ.", "The plan code is not valid."),
            );
        }
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 80 || name.contains(['<', '>']) {
            e.insert(
                "name".into(),
                Msg::new(
                    "Tên gói có từ 1 đến 80 ký tự.",
                    "A plan name has 1 to 80 characters.",
                ),
            );
        }
        if !(0..=100_000_000_000).contains(&self.monthly_fee_vnd) {
            e.insert(
                "monthly_fee_vnd".into(),
                Msg::new("Phí tháng không hợp lệ.", "The monthly fee is not valid."),
            );
        }
        if !(1..=100_000).contains(&self.rate_limit_rps) {
            e.insert(
                "rate_limit_rps".into(),
                Msg::new(
                    "Tốc độ từ 1 đến 100000 yêu cầu/giây.",
                    "The rate is 1 to 100000 requests/s.",
                ),
            );
        }
        if self
            .rate_burst
            .is_some_and(|b| !(1..=1_000_000).contains(&b))
        {
            e.insert(
                "rate_burst".into(),
                Msg::new("Mức đột biến không hợp lệ.", "The burst is not valid."),
            );
        }
        for metric in Metric::ALL {
            match self.metrics.get(metric.as_str()) {
                None => {
                    e.insert(
                        format!("metrics.{}", metric.as_str()),
                        Msg::new(
                            "Thiếu điều khoản cho chỉ số này.",
                            "Terms for this metric are missing.",
                        ),
                    );
                }
                Some(t)
                    if t.included < 0
                        || t.unit_price_vnd < 0
                        || t.hard_cap.is_some_and(|c| c < 0) =>
                {
                    e.insert(
                        format!("metrics.{}", metric.as_str()),
                        Msg::new("Giá trị không được âm.", "Values may not be negative."),
                    );
                }
                Some(_) => {}
            }
        }
        for key in self.metrics.keys() {
            if Metric::parse(key).is_none() {
                e.insert(
                    format!("metrics.{key}"),
                    Msg::new("Không có chỉ số này.", "Unknown metric."),
                );
            }
        }
        if e.is_empty() { Ok(()) } else { Err(e) }
    }
}

pub fn list(conn: &mut PgConnection) -> Result<Vec<Plan>, AppError> {
    let heads: Vec<(String, String, i64, i32, i32)> = plans::table
        .order(plans::monthly_fee_vnd.asc())
        .select((
            plans::code,
            plans::name,
            plans::monthly_fee_vnd,
            plans::rate_limit_rps,
            plans::rate_burst,
        ))
        .load(conn)?;
    let terms: Vec<(String, String, i64, i64, Option<i64>)> = plan_metrics::table
        .select((
            plan_metrics::plan_code,
            plan_metrics::metric,
            plan_metrics::included,
            plan_metrics::unit_price_vnd,
            plan_metrics::hard_cap,
        ))
        .load(conn)?;
    Ok(heads
        .into_iter()
        .map(
            |(code, name, monthly_fee_vnd, rate_limit_rps, rate_burst)| Plan {
                metrics: terms
                    .iter()
                    .filter(|t| t.0 == code)
                    .map(|t| {
                        (
                            t.1.clone(),
                            MetricTerms {
                                included: t.2,
                                unit_price_vnd: t.3,
                                hard_cap: t.4,
                            },
                        )
                    })
                    .collect(),
                code,
                name,
                monthly_fee_vnd,
                rate_limit_rps,
                rate_burst,
            },
        )
        .collect())
}

pub fn get(conn: &mut PgConnection, code: &str) -> Result<Option<Plan>, AppError> {
    Ok(list(conn)?.into_iter().find(|p| p.code == code))
}

/// Creates or replaces a plan and its terms (one transaction, the caller's).
pub fn put(conn: &mut PgConnection, code: &str, input: &PlanInput) -> Result<Plan, AppError> {
    input.validate(code).map_err(AppError::Invalid)?;
    let burst = input
        .rate_burst
        .unwrap_or(input.rate_limit_rps.saturating_mul(2));
    let values = (
        plans::name.eq(input.name.trim()),
        plans::monthly_fee_vnd.eq(input.monthly_fee_vnd),
        plans::rate_limit_rps.eq(input.rate_limit_rps),
        plans::rate_burst.eq(burst),
        plans::updated_at.eq(diesel::dsl::now),
    );
    diesel::insert_into(plans::table)
        .values((plans::code.eq(code), values))
        .on_conflict(plans::code)
        .do_update()
        .set(values)
        .execute(conn)?;
    for (metric, t) in &input.metrics {
        let terms = (
            plan_metrics::included.eq(t.included),
            plan_metrics::unit_price_vnd.eq(t.unit_price_vnd),
            plan_metrics::hard_cap.eq(t.hard_cap),
        );
        diesel::insert_into(plan_metrics::table)
            .values((
                plan_metrics::plan_code.eq(code),
                plan_metrics::metric.eq(metric),
                terms,
            ))
            .on_conflict((plan_metrics::plan_code, plan_metrics::metric))
            .do_update()
            .set(terms)
            .execute(conn)?;
    }
    get(conn, code)?.ok_or_else(|| AppError::internal("plan vanished"))
}
