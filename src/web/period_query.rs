//! `?period=YYYY-MM` on the operator's and the province admin's usage (API and pages).

use serde::Deserialize;

use crate::error::AppError;
use crate::period::Period;

#[derive(Debug, Deserialize)]
pub struct PeriodQuery {
    pub period: Option<String>,
}

/// The asked period, or this month when none is given; a bad one is 422 on `period`.
pub fn period_or_now(q: &PeriodQuery) -> Result<Period, AppError> {
    match q.period.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => Period::parse(p).map_err(|m| AppError::invalid("period", m)),
        None => Ok(Period::of(crate::clock::today_vn())),
    }
}
