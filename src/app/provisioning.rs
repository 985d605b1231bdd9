//! Creating a province, whichever way it comes (operator's API and CLI, an approved
//! subscription, a manifest, an import, the tests): `tenancy::provision` creates its rows,
//! role, schema, tables and seed rows, and its plan is leased (`leasing::start_lease`), all in
//! ONE control-plane transaction, so a failure at any step leaves nothing behind.

use diesel::PgConnection;

use crate::db::Db;
use crate::error::AppError;
use crate::tenancy::provision::{NewTenant, create_as};
use crate::tenancy::{Tenant, TenantId};

/// Creates the province.
pub fn provision(db: &Db, new: &NewTenant, actor: &str) -> Result<Tenant, AppError> {
    provision_with(db, new, actor, |_| Ok(()))
}

/// [`provision`] with a hook that runs right after the schema exists; tests inject failures
/// there to prove that nothing is left behind.
pub fn provision_with<F>(
    db: &Db,
    new: &NewTenant,
    actor: &str,
    after_schema: F,
) -> Result<Tenant, AppError>
where
    F: FnOnce(&mut PgConnection) -> Result<(), AppError>,
{
    db.control(|conn| provision_in(conn, new, actor, after_schema))
}

/// Provisioning inside the caller's control-plane transaction (a subscription's approval
/// provisions, leases and invites in one transaction).
pub fn provision_in<F>(
    conn: &mut PgConnection,
    new: &NewTenant,
    actor: &str,
    after_schema: F,
) -> Result<Tenant, AppError>
where
    F: FnOnce(&mut PgConnection) -> Result<(), AppError>,
{
    let id = TenantId(uuid::Uuid::new_v4());
    // Roles are cluster-wide: a UUID keeps them unique across databases.
    let role = format!("pt_{}", id.0.simple());
    provision_as(conn, new, id, &role, actor, after_schema)
}

/// [`provision_in`] with a given tenant id and role name: an imported province keeps its id
/// (usage and tokens name it) and gets a role of its own (roles are cluster-wide, and the
/// exporting installation may share the cluster).
pub fn provision_as<F>(
    conn: &mut PgConnection,
    new: &NewTenant,
    id: TenantId,
    role: &str,
    actor: &str,
    after_schema: F,
) -> Result<Tenant, AppError>
where
    F: FnOnce(&mut PgConnection) -> Result<(), AppError>,
{
    let tenant = create_as(conn, new, id, role, actor, after_schema)?;
    // Its plan from today: the lease makes `tenants.plan_code` (already the plan) current.
    crate::leasing::start_lease(conn, id, &new.plan, crate::clock::today_vn(), actor)?;
    Ok(tenant)
}
