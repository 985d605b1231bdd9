//! The national evaluation index: per province and month, computed only from dossier
//! history (never entered by hand), kept as counts in `public.province_stats`.
//!
//! Five groups, inspired by the national service index, with these weights (docs/index.md):
//! transparency 10 (dossiers whose applicant is told of every step), progress 30 (decided on
//! time), online service 20 (received online), payment 10 (fees paid online), satisfaction 30
//! (ratings of 4 or 5). A group with nothing to measure is left out and the others are
//! rescaled, so a province is never punished for what it had no chance to do.

pub mod job;
pub mod units;

use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{Date, Int4};
use serde::Serialize;

use crate::db::schema::province_stats;
use crate::error::AppError;
use crate::period::Period;
use crate::tenancy::TenantId;

/// What happened in one province in one month.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, QueryableByName, Queryable, Serialize)]
pub struct Counts {
    #[diesel(sql_type = Int4)]
    pub received: i32,
    #[diesel(sql_type = Int4)]
    pub received_online: i32,
    #[diesel(sql_type = Int4)]
    pub informed: i32,
    #[diesel(sql_type = Int4)]
    pub decided: i32,
    #[diesel(sql_type = Int4)]
    pub decided_on_time: i32,
    #[diesel(sql_type = Int4)]
    pub fee_requested: i32,
    #[diesel(sql_type = Int4)]
    pub paid_online: i32,
    #[diesel(sql_type = Int4)]
    pub rated: i32,
    #[diesel(sql_type = Int4)]
    pub satisfied: i32,
}

/// The month's counts from the province's own tables (inside its door), in one province-wide
/// query. The index job stores the sum of [`units::compute`]'s lines instead (the same counts,
/// split by unit, in one pass); this query is the reference that split is checked against
/// (tests/api/index_units.rs). Months are Vietnam's (UTC+7). A dossier is decided when it first reaches resolved, refused or stopped, and on
/// time when that day is on or before its `due_on` (a refusal before acceptance has no
/// deadline and counts as on time).
pub fn compute(conn: &mut PgConnection, period: Period) -> Result<Counts, AppError> {
    Ok(sql_query(
        "WITH b AS (SELECT ($1::date::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh') AS lo,
                           ($2::date::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh') AS hi),
              got AS (SELECT d.* FROM dossiers d, b WHERE d.submitted_at >= b.lo AND d.submitted_at < b.hi),
              decision AS (SELECT e.dossier_id, min(e.at) AS at FROM dossier_events e
                           WHERE e.action IN ('resolve', 'refuse', 'stop') GROUP BY e.dossier_id),
              decided AS (SELECT d.due_on, x.at FROM decision x JOIN dossiers d ON d.id = x.dossier_id, b
                          WHERE x.at >= b.lo AND x.at < b.hi)
         SELECT
           (SELECT count(*) FROM got)::int4 AS received,
           (SELECT count(*) FROM got WHERE channel = 'online')::int4 AS received_online,
           (SELECT count(*) FROM got WHERE contact_email IS NOT NULL)::int4 AS informed,
           (SELECT count(*) FROM decided)::int4 AS decided,
           (SELECT count(*) FROM decided
             WHERE due_on IS NULL OR (at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date <= due_on)::int4 AS decided_on_time,
           (SELECT count(DISTINCT e.dossier_id) FROM dossier_events e, b
             WHERE e.action = 'request_payment' AND e.at >= b.lo AND e.at < b.hi)::int4 AS fee_requested,
           (SELECT count(DISTINCT p.dossier_id) FROM payments p, b
             WHERE p.status = 'confirmed' AND p.created_at >= b.lo AND p.created_at < b.hi)::int4 AS paid_online,
           (SELECT count(*) FROM ratings r, b WHERE r.created_at >= b.lo AND r.created_at < b.hi)::int4 AS rated,
           (SELECT count(*) FROM ratings r, b
             WHERE r.score >= 4 AND r.created_at >= b.lo AND r.created_at < b.hi)::int4 AS satisfied",
    )
    .bind::<Date, _>(period.first_day())
    .bind::<Date, _>(period.end())
    .get_result(conn)?)
}

/// Stores the counts (control-plane door).
pub fn store(
    conn: &mut PgConnection,
    tenant: TenantId,
    period: Period,
    c: &Counts,
) -> Result<(), AppError> {
    use province_stats as ps;
    let values = (
        ps::received.eq(c.received),
        ps::received_online.eq(c.received_online),
        ps::informed.eq(c.informed),
        ps::decided.eq(c.decided),
        ps::decided_on_time.eq(c.decided_on_time),
        ps::fee_requested.eq(c.fee_requested),
        ps::paid_online.eq(c.paid_online),
        ps::rated.eq(c.rated),
        ps::satisfied.eq(c.satisfied),
        ps::computed_at.eq(diesel::dsl::now),
    );
    diesel::insert_into(ps::table)
        .values((
            ps::tenant_id.eq(tenant.0),
            ps::period.eq(period.to_string()),
            values,
        ))
        .on_conflict((ps::tenant_id, ps::period))
        .do_update()
        .set(values)
        .execute(conn)?;
    Ok(())
}

/// Every stored month of one period: (tenant, counts).
pub fn load_period(
    conn: &mut PgConnection,
    period: Period,
) -> Result<Vec<(uuid::Uuid, Counts)>, AppError> {
    use province_stats as ps;
    Ok(ps::table
        .filter(ps::period.eq(period.to_string()))
        .select((
            ps::tenant_id,
            (
                ps::received,
                ps::received_online,
                ps::informed,
                ps::decided,
                ps::decided_on_time,
                ps::fee_requested,
                ps::paid_online,
                ps::rated,
                ps::satisfied,
            ),
        ))
        .load(conn)?)
}

/// One province's months, oldest first.
pub fn load_trend(
    conn: &mut PgConnection,
    tenant: TenantId,
    periods: &[Period],
) -> Result<Vec<(Period, Counts)>, AppError> {
    use province_stats as ps;
    let names: Vec<String> = periods.iter().map(ToString::to_string).collect();
    let rows: Vec<(String, Counts)> = ps::table
        .filter(ps::tenant_id.eq(tenant.0))
        .filter(ps::period.eq_any(&names))
        .select((
            ps::period,
            (
                ps::received,
                ps::received_online,
                ps::informed,
                ps::decided,
                ps::decided_on_time,
                ps::fee_requested,
                ps::paid_online,
                ps::rated,
                ps::satisfied,
            ),
        ))
        .load(conn)?;
    Ok(periods
        .iter()
        .map(|p| {
            let c = rows
                .iter()
                .find(|(name, _)| *name == p.to_string())
                .map(|(_, c)| *c)
                .unwrap_or_default();
            (*p, c)
        })
        .collect())
}

/// Rates in 0..1, `None` when there is nothing to rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rates {
    pub on_time_rate: Option<f64>,
    pub online_rate: Option<f64>,
    pub online_payment_rate: Option<f64>,
    pub satisfaction_rate: Option<f64>,
    pub informed_rate: Option<f64>,
}

fn ratio(part: i32, whole: i32) -> Option<f64> {
    (whole > 0).then(|| f64::from(part) / f64::from(whole))
}

impl Counts {
    /// Nothing happened.
    pub fn is_empty(&self) -> bool {
        *self == Counts::default()
    }

    /// Both months' counts together (a province's from its units').
    pub fn plus(&self, o: &Counts) -> Counts {
        Counts {
            received: self.received + o.received,
            received_online: self.received_online + o.received_online,
            informed: self.informed + o.informed,
            decided: self.decided + o.decided,
            decided_on_time: self.decided_on_time + o.decided_on_time,
            fee_requested: self.fee_requested + o.fee_requested,
            paid_online: self.paid_online + o.paid_online,
            rated: self.rated + o.rated,
            satisfied: self.satisfied + o.satisfied,
        }
    }

    pub fn rates(&self) -> Rates {
        Rates {
            on_time_rate: ratio(self.decided_on_time, self.decided),
            online_rate: ratio(self.received_online, self.received),
            online_payment_rate: ratio(self.paid_online, self.fee_requested),
            satisfaction_rate: ratio(self.satisfied, self.rated),
            informed_rate: ratio(self.informed, self.received),
        }
    }
}

/// The weights of the five groups (sum 100).
pub const WEIGHTS: [(&str, f64); 5] = [
    ("transparency", 10.0),
    ("progress", 30.0),
    ("online", 20.0),
    ("payment", 10.0),
    ("satisfaction", 30.0),
];

impl Rates {
    /// 0..100, rounded to one decimal; `None` when no group has anything to measure.
    pub fn score(&self) -> Option<f64> {
        let parts = [
            self.informed_rate,
            self.on_time_rate,
            self.online_rate,
            self.online_payment_rate,
            self.satisfaction_rate,
        ];
        let (mut sum, mut weight) = (0.0, 0.0);
        for (rate, (_, w)) in parts.iter().zip(WEIGHTS) {
            if let Some(r) = rate {
                sum += r * w;
                weight += w;
            }
        }
        (weight > 0.0).then(|| (sum / weight * 1000.0).round() / 10.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_rescales_over_what_can_be_measured() {
        let all = Counts {
            received: 10,
            received_online: 5,
            informed: 10,
            decided: 4,
            decided_on_time: 3,
            fee_requested: 2,
            paid_online: 1,
            rated: 4,
            satisfied: 2,
        };
        // 10·1 + 30·0.75 + 20·0.5 + 10·0.5 + 30·0.5 = 62.5
        assert_eq!(all.rates().score(), Some(62.5));
        let few = Counts {
            received: 2,
            received_online: 2,
            informed: 2,
            ..Counts::default()
        };
        // Only transparency and online: (10·1 + 20·1) / 30 = 100.
        assert_eq!(few.rates().score(), Some(100.0));
        assert_eq!(Counts::default().rates().score(), None);
        assert_eq!(WEIGHTS.iter().map(|(_, w)| w).sum::<f64>(), 100.0);
    }
}
