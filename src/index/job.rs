//! Keeps `province_stats` and `unit_stats` fresh: the current and previous month of every province whose
//! dossiers changed since the last run, and the last 12 months once per process start (a
//! province's trend page needs them).
//!
//! Reading every province's schema every minute cost a core for a minute at 3,400 provinces
//! and made each pooled PostgreSQL backend cache the catalog of every schema (1.3 GB of
//! PostgreSQL memory instead of 0.45). So each run first asks PostgreSQL's statistics, in one
//! query, how many rows of the tables the index reads were written in each schema, and
//! recomputes only the provinces whose count moved. Statistics reach that view within
//! seconds and can be reset, so a changed count in either direction means "recompute", and
//! every province is recomputed anyway at a new month and once an hour.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{BigInt, Text};

use crate::clock::today_vn as deadlines_today;
use crate::db::Db;
use crate::db::locks::{INDEX_REFRESH, with_lock};
use crate::error::AppError;
use crate::period::Period;
use crate::tenancy::{Registry, Tenant, TenantStatus};

/// Every province is recomputed at least this often, whatever the statistics say.
const FULL_EVERY: Duration = Duration::from_secs(3600);

/// What this replica's job saw at its last successful run.
#[derive(Debug, Default)]
pub struct Seen {
    /// Per schema: rows inserted, updated and deleted so far in the tables the index reads.
    writes: HashMap<String, i64>,
    /// The month of the last full run.
    period: Option<Period>,
    full_at: Option<Instant>,
}

/// Recomputes `periods` for the given provinces. Returns how many (province, month) rows it
/// wrote. A province that fails (a broken schema, a statement timeout) is logged and skipped:
/// the others are still indexed. Only when every province failed is it an error.
pub fn refresh(db: &Db, tenants: &[Arc<Tenant>], periods: &[Period]) -> Result<usize, AppError> {
    let (written, failed) = refresh_each(db, tenants, periods);
    match failed.into_iter().next_back() {
        Some((_, e)) if written == 0 && !tenants.is_empty() && !periods.is_empty() => Err(e),
        _ => Ok(written),
    }
}

/// [`refresh`], with the provinces that failed (schema, error).
fn refresh_each(
    db: &Db,
    tenants: &[Arc<Tenant>],
    periods: &[Period],
) -> (usize, Vec<(String, AppError)>) {
    let mut written = 0;
    let mut failed = Vec::new();
    let since = match db.control(successors_since) {
        Ok(s) => s,
        Err(e) => return (0, vec![("public".into(), e)]),
    };
    for tenant in tenants {
        // A merged province's schema is empty: recomputing it would wipe its history, which
        // it keeps under its own name (#18).
        if tenant.status == TenantStatus::Merged {
            continue;
        }
        // A successor holds the merged provinces' dossiers since the merge: its months
        // before the effective date would count them a second time, so they stay as stored
        // (its own figures then); its figures with them start at the effective date.
        let periods: Vec<Period> = match since.get(&tenant.id.0) {
            Some(from) => periods
                .iter()
                .copied()
                .filter(|p| p.first_day() >= *from)
                .collect(),
            None => periods.to_vec(),
        };
        if periods.is_empty() {
            continue;
        }
        match refresh_one(db, tenant, &periods) {
            Ok(n) => written += n,
            Err(e) => {
                tracing::error!(tenant = %tenant.slug, error = %e, "index: this province failed; the others go on");
                failed.push((tenant.schema.clone(), e));
            }
        }
    }
    (written, failed)
}

fn refresh_one(db: &Db, tenant: &Tenant, periods: &[Period]) -> Result<usize, AppError> {
    let door = db.tenant(tenant.db_ref());
    // One query per month gives the units' lines; the province's month is their sum, so the
    // drill-down always adds up to the national row, at the cost of one province-wide query
    // (docs/index.md, "Per unit"). Both are stored in one control-plane transaction.
    let counts: Vec<(Period, Vec<super::units::UnitStat>)> = door.tx(|conn| {
        periods
            .iter()
            .map(|p| Ok((*p, super::units::compute(conn, *p)?)))
            .collect()
    })?;
    db.control(|conn| {
        for (p, lines) in &counts {
            super::store(conn, tenant.id, *p, &super::units::total(lines))?;
            super::units::store(conn, tenant.id, *p, lines)?;
        }
        Ok(())
    })?;
    Ok(counts.len())
}

/// Recomputes one province's `periods` on a connection already in a control-plane transaction
/// (a reorganisation's): its schema entered for the counts, the stored rows (province and
/// units) written back in the same transaction, so they commit or roll back with it.
pub fn recount_in(
    conn: &mut PgConnection,
    tenant: &Tenant,
    periods: &[Period],
) -> Result<usize, AppError> {
    crate::db::tenant_enter(conn, &tenant.db_ref())?;
    let counts: Result<Vec<_>, AppError> = periods
        .iter()
        .map(|p| Ok((*p, super::units::compute(conn, *p)?)))
        .collect();
    crate::db::tenant_leave(conn)?;
    let counts = counts?;
    for (p, lines) in &counts {
        super::store(conn, tenant.id, *p, &super::units::total(lines))?;
        super::units::store(conn, tenant.id, *p, lines)?;
    }
    Ok(counts.len())
}

/// The months from `from` to `to`, both included (none when `from` is later).
pub fn months(from: Period, to: Period) -> Vec<Period> {
    let mut out = Vec::new();
    let mut p = from;
    while p <= to {
        out.push(p);
        p = p.next();
    }
    out
}

/// One run of the job, under its lock (another replica may be running it): every province
/// with `backfill`, at a new month or an hour after the last full run; else only those
/// whose tables were written since `seen`.
pub fn run_once(
    db: &Db,
    registry: &Registry,
    backfill: bool,
    seen: &mut Seen,
) -> Result<Option<usize>, AppError> {
    let now = Period::of(deadlines_today());
    let periods = if backfill {
        now.last(12)
    } else {
        vec![now.prev(), now]
    };
    with_lock(db, INDEX_REFRESH, || {
        // Read before recomputing: a write landing meanwhile moves the count past what is
        // stored here, and the next run picks it up.
        let writes = db.control(writes_per_schema)?;
        let full = backfill
            || seen.period != Some(now)
            || seen.full_at.is_none_or(|at| at.elapsed() >= FULL_EVERY);
        let due: Vec<Arc<Tenant>> = registry
            .all()
            .into_iter()
            .filter(|t| full || writes.get(&t.schema) != seen.writes.get(&t.schema))
            .collect();
        let (written, failed) = refresh_each(db, &due, &periods);
        if !due.is_empty() && written == 0 && !failed.is_empty() {
            return Err(failed
                .into_iter()
                .next_back()
                .map(|(_, e)| e)
                .unwrap_or_else(|| AppError::internal("index: every province failed")));
        }
        // A province that failed is not marked seen: the next run tries it again.
        let mut writes = writes;
        for (schema, _) in &failed {
            writes.remove(schema);
        }
        seen.writes = writes;
        if full {
            seen.period = Some(now);
            seen.full_at = Some(Instant::now());
        }
        Ok(written)
    })
}

/// Per successor, the effective date of the last merge into it.
fn successors_since(
    conn: &mut PgConnection,
) -> Result<HashMap<uuid::Uuid, chrono::NaiveDate>, AppError> {
    use crate::db::schema::tenants;
    let rows: Vec<(Option<uuid::Uuid>, Option<chrono::NaiveDate>)> = tenants::table
        .filter(tenants::successor_id.is_not_null())
        .group_by(tenants::successor_id)
        .select((tenants::successor_id, diesel::dsl::max(tenants::merged_on)))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(s, d)| Some((s?, d?)))
        .collect())
}

/// The written-rows counters of the tables the index reads, per schema, on this node. On a
/// Citus worker a province's tables are shards named `<table>_<shard id>`; the shell tables of
/// the same name stay empty there and on the coordinator, so they count nothing but do no harm.
const WRITES_HERE: &str = "SELECT n.nspname::text AS schema_name, \
        sum(pg_catalog.pg_stat_get_tuples_inserted(c.oid) \
          + pg_catalog.pg_stat_get_tuples_updated(c.oid) \
          + pg_catalog.pg_stat_get_tuples_deleted(c.oid))::int8 AS writes \
   FROM pg_catalog.pg_class c \
   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
  WHERE c.relkind = 'r' \
    AND (c.relname IN ('dossiers', 'dossier_events', 'payments', 'ratings', 'units') \
         OR c.relname ~ '^(dossiers|dossier_events|payments|ratings|units)_[0-9]+$') \
  GROUP BY n.nspname";

/// One query over the catalog and the statistics, whatever the number of provinces. On a
/// Citus coordinator the rows are written on the workers, whose statistics the coordinator's
/// own never see: the same query runs on every worker (`run_command_on_workers`, one round
/// trip each) and the sums are added up. A worker that does not answer counts nothing, so its
/// provinces look changed, are tried, fail and are tried again at the next run.
fn writes_per_schema(conn: &mut PgConnection) -> Result<HashMap<String, i64>, AppError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        schema_name: String,
        #[diesel(sql_type = BigInt)]
        writes: i64,
    }
    let sql = if crate::db::citus::is_citus(conn)? {
        format!(
            "SELECT schema_name, sum(writes)::int8 AS writes FROM ( \
               {WRITES_HERE} \
               UNION ALL \
               SELECT x.schema_name, x.writes \
                 FROM run_command_on_workers($q$ \
                        SELECT coalesce(json_agg(w), '[]') FROM ({WRITES_HERE}) w $q$) r, \
                      json_to_recordset(CASE WHEN r.success THEN r.result ELSE '[]' END::json) \
                        AS x(schema_name text, writes int8) \
             ) a GROUP BY schema_name"
        )
    } else {
        WRITES_HERE.to_string()
    };
    let rows: Vec<Row> = sql_query(sql).load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| (r.schema_name, r.writes))
        .collect())
}
