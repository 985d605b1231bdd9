//! Which provinces hold dossiers of a national account (`identity.citizen_provinces`).

use diesel::prelude::*;

use crate::db::schema::citizen_provinces;
use crate::error::AppError;
use crate::ids::{CitizenId, TenantId};

/// Notes that the province holds (or is about to hold) a dossier of the account; idempotent.
pub fn record(
    conn: &mut PgConnection,
    citizen: CitizenId,
    tenant: TenantId,
) -> Result<(), AppError> {
    diesel::insert_into(citizen_provinces::table)
        .values((
            citizen_provinces::citizen_id.eq(citizen.0),
            citizen_provinces::tenant_id.eq(tenant.0),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok(())
}

/// Many at once (an import): every account that has a dossier in the province.
pub fn record_many(
    conn: &mut PgConnection,
    citizens: &[CitizenId],
    tenant: TenantId,
) -> Result<(), AppError> {
    for chunk in citizens.chunks(1000) {
        // Only accounts that exist here (a dossier may outlive its account).
        let ids: Vec<uuid::Uuid> = chunk.iter().map(|c| c.0).collect();
        let existing: Vec<uuid::Uuid> = crate::db::schema::citizens::table
            .filter(crate::db::schema::citizens::id.eq_any(&ids))
            .select(crate::db::schema::citizens::id)
            .load(conn)?;
        let rows: Vec<_> = existing
            .iter()
            .map(|c| {
                (
                    citizen_provinces::citizen_id.eq(*c),
                    citizen_provinces::tenant_id.eq(tenant.0),
                )
            })
            .collect();
        diesel::insert_into(citizen_provinces::table)
            .values(rows)
            .on_conflict_do_nothing()
            .execute(conn)?;
    }
    Ok(())
}

/// The provinces that hold any dossier of the account.
pub fn of(conn: &mut PgConnection, citizen: CitizenId) -> Result<Vec<TenantId>, AppError> {
    Ok(citizen_provinces::table
        .filter(citizen_provinces::citizen_id.eq(citizen.0))
        .select(citizen_provinces::tenant_id)
        .load::<uuid::Uuid>(conn)?
        .into_iter()
        .map(TenantId)
        .collect())
}
