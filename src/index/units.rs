//! The index per unit inside a province: the same counts as a province's, per commune, ward,
//! special zone, department, provincial centre and branch, computed from the province's dossier
//! history by the index job (in the same run as the province's) and kept in
//! `public.unit_stats`, so the national host reads the drill-down without entering a schema.
//!
//! Who a dossier counts for (docs/index.md):
//! - `received`, `received_online`, `informed`: the unit that received it (a dossier handed in
//!   at the counter of commune A for commune B counts in A's); an online dossier, in its
//!   competent unit's; one received at the province's own counter, at the province level.
//! - `decided`, `decided_on_time`, `fee_requested`, `paid_online`, `rated`, `satisfied`: the
//!   competent unit (the one the dossier names now: a transfer moves it).
//!
//! Each dossier counts in exactly one place for each count, so the units' counts (with the
//! province-level line: dossiers with no unit) add up to the province's. Fairness: a unit with
//! fewer decided dossiers in the month than the minimum sample gets no score and no rank.

use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{Array, Bool, Date, Int4, Nullable, Text};
use serde::Serialize;

use super::{Counts, Rates};
use crate::error::AppError;
use crate::period::Period;
use crate::tenancy::TenantId;
use crate::units::{UnitCode, UnitKind};

/// The name the province-level line carries (dossiers decided by the province itself).
pub const PROVINCE_LEVEL: &str = "Cấp tỉnh (hồ sơ không thuộc đơn vị nào)";

/// A unit as one month's line names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitTag {
    pub code: UnitCode,
    pub kind: UnitKind,
}

/// One line of a province's month: a unit (or, with `unit` absent, the province level).
#[derive(Debug, Clone, PartialEq)]
pub struct UnitStat {
    pub unit: Option<UnitTag>,
    pub name: String,
    pub retired: bool,
    pub counts: Counts,
}

#[derive(QueryableByName)]
struct CountsRow {
    #[diesel(sql_type = Nullable<Text>)]
    unit: Option<String>,
    #[diesel(embed)]
    counts: Counts,
}

/// The month's counts per unit from the province's own tables (inside its door): one line per
/// unit in force, per retired unit with something to count, and the province level when it has
/// something to count. Definitions as [`super::compute`]'s, attributed as the module says.
pub fn compute(conn: &mut PgConnection, period: Period) -> Result<Vec<UnitStat>, AppError> {
    // `facts`' columns are named in its first branch, not in a list after its name: Citus 13.2
    // sends the query to the worker without such a list, which then fails with "column unit
    // does not exist" (citus::a_provinces_every_write_path_works_while_the_other_worker_is_down).
    let rows: Vec<CountsRow> = sql_query(
        "WITH b AS (SELECT ($1::date::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh') AS lo,
                           ($2::date::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh') AS hi),
              decision AS (SELECT e.dossier_id, min(e.at) AS at FROM dossier_events e
                           WHERE e.action IN ('resolve', 'refuse', 'stop') GROUP BY e.dossier_id),
              facts AS (
                SELECT CASE WHEN d.received_at_unit IS NOT NULL THEN d.received_at_unit
                            WHEN d.channel = 'online' THEN d.competent_unit END AS unit,
                       1 AS received, (d.channel = 'online')::int AS received_online,
                       (d.contact_email IS NOT NULL)::int AS informed,
                       0 AS decided, 0 AS decided_on_time, 0 AS fee_requested,
                       0 AS paid_online, 0 AS rated, 0 AS satisfied
                  FROM dossiers d, b WHERE d.submitted_at >= b.lo AND d.submitted_at < b.hi
                UNION ALL
                SELECT d.competent_unit, 0, 0, 0, 1,
                       (d.due_on IS NULL OR (x.at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date <= d.due_on)::int,
                       0, 0, 0, 0
                  FROM decision x JOIN dossiers d ON d.id = x.dossier_id, b
                 WHERE x.at >= b.lo AND x.at < b.hi
                UNION ALL
                SELECT d.competent_unit, 0, 0, 0, 0, 0, 1, 0, 0, 0 FROM dossiers d
                 WHERE d.id IN (SELECT e.dossier_id FROM dossier_events e, b
                                 WHERE e.action = 'request_payment' AND e.at >= b.lo AND e.at < b.hi)
                UNION ALL
                SELECT d.competent_unit, 0, 0, 0, 0, 0, 0, 1, 0, 0 FROM dossiers d
                 WHERE d.id IN (SELECT p.dossier_id FROM payments p, b
                                 WHERE p.status = 'confirmed' AND p.created_at >= b.lo AND p.created_at < b.hi)
                UNION ALL
                SELECT d.competent_unit, 0, 0, 0, 0, 0, 0, 0, 1, (r.score >= 4)::int
                  FROM ratings r JOIN dossiers d ON d.id = r.dossier_id, b
                 WHERE r.created_at >= b.lo AND r.created_at < b.hi)
         SELECT unit,
                sum(received)::int4 AS received, sum(received_online)::int4 AS received_online,
                sum(informed)::int4 AS informed, sum(decided)::int4 AS decided,
                sum(decided_on_time)::int4 AS decided_on_time,
                sum(fee_requested)::int4 AS fee_requested, sum(paid_online)::int4 AS paid_online,
                sum(rated)::int4 AS rated, sum(satisfied)::int4 AS satisfied
           FROM facts GROUP BY unit",
    )
    .bind::<Date, _>(period.first_day())
    .bind::<Date, _>(period.end())
    .load(conn)?;
    let mut counted: Vec<(Option<String>, Counts)> =
        rows.into_iter().map(|r| (r.unit, r.counts)).collect();
    let mut lines = Vec::new();
    for u in crate::units::store::list(conn, true)? {
        let at = counted
            .iter()
            .position(|(c, _)| c.as_deref() == Some(u.code.as_str()));
        let counts = at.map(|i| counted.swap_remove(i).1).unwrap_or_default();
        if !u.retired || !counts.is_empty() {
            lines.push(UnitStat {
                unit: Some(UnitTag {
                    code: u.code,
                    kind: u.kind,
                }),
                name: u.name,
                retired: u.retired,
                counts,
            });
        }
    }
    for (code, counts) in counted {
        match code {
            None if !counts.is_empty() => lines.push(UnitStat {
                unit: None,
                name: PROVINCE_LEVEL.into(),
                retired: false,
                counts,
            }),
            None => {}
            // Dossiers name units by foreign key: a code without a unit is a broken schema.
            Some(c) => return Err(AppError::internal(format!("index: unknown unit {c}"))),
        }
    }
    Ok(lines)
}

/// The province's month: the sum of its lines (each dossier counts in one line per count).
pub fn total(lines: &[UnitStat]) -> Counts {
    lines
        .iter()
        .fold(Counts::default(), |sum, l| sum.plus(&l.counts))
}

/// Makes the stored lines of (province, month) exactly these (control-plane door). A line
/// that did not change is not rewritten.
pub fn store(
    conn: &mut PgConnection,
    tenant: TenantId,
    period: Period,
    lines: &[UnitStat],
) -> Result<(), AppError> {
    let codes: Vec<Option<String>> = lines
        .iter()
        .map(|l| l.unit.as_ref().map(|u| u.code.to_string()))
        .collect();
    let kinds: Vec<Option<String>> = lines
        .iter()
        .map(|l| l.unit.as_ref().map(|u| u.kind.as_str().to_string()))
        .collect();
    let names: Vec<&str> = lines.iter().map(|l| l.name.as_str()).collect();
    let retired: Vec<bool> = lines.iter().map(|l| l.retired).collect();
    let count = |f: fn(&Counts) -> i32| lines.iter().map(|l| f(&l.counts)).collect::<Vec<_>>();
    sql_query(
        "DELETE FROM unit_stats WHERE tenant_id = $1 AND period = $2
            AND coalesce(unit_code, '') <> ALL (SELECT coalesce(c, '') FROM unnest($3::text[]) AS c)",
    )
    .bind::<diesel::sql_types::Uuid, _>(tenant.0)
    .bind::<Text, _>(period.to_string())
    .bind::<Array<Nullable<Text>>, _>(&codes)
    .execute(conn)?;
    sql_query(
        "INSERT INTO unit_stats AS s (tenant_id, period, unit_code, unit_kind, unit_name, retired,
                received, received_online, informed, decided, decided_on_time, fee_requested,
                paid_online, rated, satisfied)
         SELECT $1, $2, u.* FROM unnest($3::text[], $4::text[], $5::text[], $6::bool[],
                $7::int4[], $8::int4[], $9::int4[], $10::int4[], $11::int4[], $12::int4[],
                $13::int4[], $14::int4[], $15::int4[]) AS u
         ON CONFLICT (tenant_id, period, unit_code) DO UPDATE SET
                unit_kind = excluded.unit_kind, unit_name = excluded.unit_name,
                retired = excluded.retired, received = excluded.received,
                received_online = excluded.received_online, informed = excluded.informed,
                decided = excluded.decided, decided_on_time = excluded.decided_on_time,
                fee_requested = excluded.fee_requested, paid_online = excluded.paid_online,
                rated = excluded.rated, satisfied = excluded.satisfied, computed_at = now()
          WHERE (s.unit_kind, s.unit_name, s.retired, s.received, s.received_online, s.informed,
                 s.decided, s.decided_on_time, s.fee_requested, s.paid_online, s.rated,
                 s.satisfied)
                IS DISTINCT FROM
                (excluded.unit_kind, excluded.unit_name, excluded.retired, excluded.received,
                 excluded.received_online, excluded.informed, excluded.decided,
                 excluded.decided_on_time, excluded.fee_requested, excluded.paid_online,
                 excluded.rated, excluded.satisfied)",
    )
    .bind::<diesel::sql_types::Uuid, _>(tenant.0)
    .bind::<Text, _>(period.to_string())
    .bind::<Array<Nullable<Text>>, _>(&codes)
    .bind::<Array<Nullable<Text>>, _>(&kinds)
    .bind::<Array<Text>, _>(&names)
    .bind::<Array<Bool>, _>(&retired)
    .bind::<Array<Int4>, _>(count(|c| c.received))
    .bind::<Array<Int4>, _>(count(|c| c.received_online))
    .bind::<Array<Int4>, _>(count(|c| c.informed))
    .bind::<Array<Int4>, _>(count(|c| c.decided))
    .bind::<Array<Int4>, _>(count(|c| c.decided_on_time))
    .bind::<Array<Int4>, _>(count(|c| c.fee_requested))
    .bind::<Array<Int4>, _>(count(|c| c.paid_online))
    .bind::<Array<Int4>, _>(count(|c| c.rated))
    .bind::<Array<Int4>, _>(count(|c| c.satisfied))
    .execute(conn)?;
    Ok(())
}

#[derive(QueryableByName)]
struct StoredRow {
    #[diesel(sql_type = Nullable<Text>)]
    unit_code: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    unit_kind: Option<String>,
    #[diesel(sql_type = Text)]
    unit_name: String,
    #[diesel(sql_type = Bool)]
    retired: bool,
    #[diesel(embed)]
    counts: Counts,
}

const STORED: &str = "unit_code, unit_kind, unit_name, retired, received, received_online, \
                      informed, decided, decided_on_time, fee_requested, paid_online, rated, \
                      satisfied";

/// The stored lines of one province's month. A month the job has not computed (older than
/// its 12, or before its first run) has the units of the latest computed month, counting
/// nothing, as the national page shows such a month's provinces at zero.
pub fn load(
    conn: &mut PgConnection,
    tenant: TenantId,
    period: Period,
) -> Result<Vec<UnitStat>, AppError> {
    let mut rows: Vec<StoredRow> = sql_query(format!(
        "SELECT {STORED} FROM unit_stats WHERE tenant_id = $1 AND period = $2"
    ))
    .bind::<diesel::sql_types::Uuid, _>(tenant.0)
    .bind::<Text, _>(period.to_string())
    .load(conn)?;
    if rows.is_empty() {
        rows = sql_query(format!(
            "SELECT {STORED} FROM unit_stats
              WHERE tenant_id = $1 AND NOT retired AND unit_code IS NOT NULL
                AND period = (SELECT max(period) FROM unit_stats WHERE tenant_id = $1)"
        ))
        .bind::<diesel::sql_types::Uuid, _>(tenant.0)
        .load(conn)?;
        for r in &mut rows {
            r.counts = Counts::default();
        }
    }
    rows.into_iter()
        .map(|r| {
            let unit = match (r.unit_code, r.unit_kind) {
                (Some(code), Some(kind)) => Some(UnitTag {
                    code: UnitCode::from_db(code),
                    kind: UnitKind::parse(&kind).ok_or_else(|| {
                        AppError::internal(format!("unit_stats: unknown kind {kind:?}"))
                    })?,
                }),
                _ => None,
            };
            Ok(UnitStat {
                unit,
                name: r.unit_name,
                retired: r.retired,
                counts: r.counts,
            })
        })
        .collect()
}

/// A line with its rates, its score (none below the minimum sample) and its rank among the
/// province's units (none below the minimum, and none for the province level, which is not a
/// unit).
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub stat: UnitStat,
    pub rates: Rates,
    pub enough_data: bool,
    pub score: Option<f64>,
    pub rank: Option<u32>,
}

/// Scores and ranks a province's month, best first; lines without a score follow, by name.
/// Equal scores share a rank (1, 2, 2, 4).
pub fn score(lines: Vec<UnitStat>, min_decided: u32) -> Vec<Scored> {
    let mut scored: Vec<Scored> = lines
        .into_iter()
        .map(|stat| {
            let rates = stat.counts.rates();
            let enough_data = i64::from(stat.counts.decided) >= i64::from(min_decided);
            let score = if enough_data { rates.score() } else { None };
            Scored {
                stat,
                rates,
                enough_data,
                score,
                rank: None,
            }
        })
        .collect();
    scored.sort_by(|a, b| {
        b.score
            .unwrap_or(-1.0)
            .total_cmp(&a.score.unwrap_or(-1.0))
            .then_with(|| {
                crate::catalog::fold_vietnamese(&a.stat.name)
                    .cmp(&crate::catalog::fold_vietnamese(&b.stat.name))
            })
    });
    let mut place = 0;
    let mut last: Option<(f64, u32)> = None;
    for s in scored.iter_mut().filter(|s| s.stat.unit.is_some()) {
        let Some(score) = s.score else { continue };
        place += 1;
        let rank = match last {
            Some((prev, r)) if prev == score => r,
            _ => place,
        };
        last = Some((score, rank));
        s.rank = Some(rank);
    }
    scored
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(code: Option<&str>, name: &str, decided: i32, on_time: i32) -> UnitStat {
        UnitStat {
            unit: code.map(|c| UnitTag {
                code: UnitCode::parse(c).unwrap(),
                kind: UnitKind::Commune,
            }),
            name: name.into(),
            retired: false,
            counts: Counts {
                decided,
                decided_on_time: on_time,
                ..Counts::default()
            },
        }
    }

    #[test]
    fn below_the_minimum_a_unit_has_rates_but_no_score_and_no_rank() {
        let out = score(
            vec![
                line(Some("00001"), "Xã Bé", 19, 19),
                line(Some("00002"), "Xã Vừa", 20, 10),
                line(Some("00003"), "Xã Lớn", 40, 30),
                line(Some("00004"), "Xã Đều", 20, 15),
                line(None, PROVINCE_LEVEL, 30, 30),
            ],
            20,
        );
        let by = |n: &str| out.iter().find(|s| s.stat.name == n).unwrap();
        let small = by("Xã Bé");
        assert!(!small.enough_data);
        assert_eq!((small.score, small.rank), (None, None));
        assert_eq!(small.rates.on_time_rate, Some(1.0));
        assert_eq!(by("Xã Lớn").score, Some(75.0));
        // Equal scores share a rank; the province level is scored but not ranked.
        assert_eq!(by("Xã Lớn").rank, Some(1));
        assert_eq!(by("Xã Đều").rank, Some(1));
        assert_eq!(by("Xã Vừa").rank, Some(3));
        assert_eq!(by(PROVINCE_LEVEL).score, Some(100.0));
        assert_eq!(by(PROVINCE_LEVEL).rank, None);
        // Best first, the unscored last.
        assert_eq!(out[0].stat.name, PROVINCE_LEVEL);
        assert_eq!(out.last().unwrap().stat.name, "Xã Bé");
    }
}
