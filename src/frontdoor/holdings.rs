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

/// The holdings this replica has already recorded (or found recorded), so that a citizen's
/// next dossier in the same province skips the control-plane transaction (four round trips of
/// a submission). Safe to keep for the process's life: a holding is only ever removed with its
/// province (a merge moves it to the successor; a deleted tenant takes its rows along) or its
/// account, after which no dossier is filed there under that key again. Bounded: forgotten all
/// at once past [`Seen::MAX`] entries (it then only costs the round trips again).
#[derive(Debug, Default)]
pub struct Seen(std::sync::Mutex<std::collections::HashSet<(CitizenId, TenantId)>>);

impl Seen {
    const MAX: usize = 200_000;

    pub fn contains(&self, citizen: CitizenId, tenant: TenantId) -> bool {
        self.0
            .lock()
            .is_ok_and(|set| set.contains(&(citizen, tenant)))
    }

    pub fn insert(&self, citizen: CitizenId, tenant: TenantId) {
        if let Ok(mut set) = self.0.lock() {
            if set.len() >= Self::MAX {
                set.clear();
            }
            set.insert((citizen, tenant));
        }
    }
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

/// [`of`] for a citizen's token, with its account check (active, token of the current version,
/// as `accounts::citizens::find_session` makes it) in the same statement: `None` when the token
/// no longer holds, else the provinces (one round trip instead of two).
pub fn of_session(
    conn: &mut PgConnection,
    citizen: CitizenId,
    token_version: i64,
) -> Result<Option<Vec<TenantId>>, AppError> {
    use crate::db::schema::citizens;
    let rows: Vec<Option<uuid::Uuid>> = citizens::table
        .left_join(citizen_provinces::table.on(citizen_provinces::citizen_id.eq(citizens::id)))
        .filter(citizens::id.eq(citizen.0))
        .filter(citizens::active.eq(true))
        .filter(citizens::token_version.eq(token_version))
        .select(citizen_provinces::tenant_id.nullable())
        .load(conn)?;
    if rows.is_empty() {
        return Ok(None);
    }
    Ok(Some(rows.into_iter().flatten().map(TenantId).collect()))
}
