//! Gauges sampled hourly: a province's stored documents and its active staff seats. Billing
//! takes the period's maximum, so one sample per hour is enough.

use diesel::prelude::*;

use super::{Metric, record};
use crate::db::Db;
use crate::db::locks::{USAGE_SAMPLING, with_lock};
use crate::error::AppError;
use crate::tenancy::{Registry, Tenant};

/// Bytes of the province's documents (dossier attachments and unsent drafts).
pub fn storage_bytes(conn: &mut PgConnection) -> Result<i64, AppError> {
    #[derive(QueryableByName)]
    struct Bytes {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        bytes: i64,
    }
    Ok(diesel::sql_query(
        "SELECT ((SELECT coalesce(sum(size), 0) FROM attachments) + (SELECT coalesce(sum(size), 0) FROM draft_files))::int8 AS bytes",
    )
    .get_result::<Bytes>(conn)?
    .bytes)
}

/// Active staff accounts.
pub fn seats(conn: &mut PgConnection) -> Result<i64, AppError> {
    use crate::db::schema::staff;
    Ok(staff::table
        .filter(staff::active.eq(true))
        .count()
        .get_result(conn)?)
}

pub fn sample(db: &Db, tenant: &Tenant) -> Result<(), AppError> {
    let now = crate::clock::now();
    let hour = now.format("%Y-%m-%dT%H").to_string();
    db.tenant(tenant.db_ref()).tx(|conn| {
        let bytes = storage_bytes(conn)?;
        record(
            conn,
            tenant,
            Metric::StorageBytes,
            bytes,
            &format!("sample:storage:{hour}"),
            now,
        )?;
        let seats = seats(conn)?;
        record(
            conn,
            tenant,
            Metric::Seats,
            seats,
            &format!("sample:seats:{hour}"),
            now,
        )?;
        Ok(())
    })
}

/// One run over every province, under the job's lock.
pub fn run_once(db: &Db, registry: &Registry) -> Result<Option<usize>, AppError> {
    with_lock(db, USAGE_SAMPLING, || {
        let mut n = 0;
        for t in registry.all() {
            match sample(db, &t) {
                Ok(()) => n += 1,
                // A province over its storage cap still gets sampled next hour; log and go on.
                Err(e) => tracing::warn!(tenant = %t.slug, error = %e, "usage sample failed"),
            }
        }
        Ok(n)
    })
}
