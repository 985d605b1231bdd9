//! Embedded migrations: `public` first, then every tenant schema with bounded parallelism.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use diesel::connection::SimpleConnection;
use diesel::migration::MigrationSource;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::Text;
use diesel_migrations::MigrationHarness;

use super::Db;
use super::statements::SqlMigrations;
use super::tenant::{TenantRef, enter, leave};
use crate::ids::TenantId;

/// (folder, `up.sql`) of each migration, embedded by `build.rs`.
pub(crate) const PUBLIC_SQL: &[(&str, &str)] =
    include!(concat!(env!("OUT_DIR"), "/public_migrations.rs"));
pub(crate) const TENANT_SQL: &[(&str, &str)] =
    include!(concat!(env!("OUT_DIR"), "/tenant_migrations.rs"));

/// Run one statement at a time (see `db::statements`: Citus needs it).
pub const PUBLIC_MIGRATIONS: SqlMigrations = SqlMigrations::new(PUBLIC_SQL);
pub const TENANT_MIGRATIONS: SqlMigrations = SqlMigrations::new(TENANT_SQL);

/// Held while `public` is migrated, so two replicas starting at once take turns.
const PUBLIC_LOCK_KEY: i64 = super::locks::PUBLIC_MIGRATIONS;

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("cannot connect: {0}")]
    Connect(#[from] diesel::ConnectionError),
    #[error("database: {0}")]
    Db(#[from] diesel::result::Error),
    #[error("migration failed: {0}")]
    Migration(String),
}

/// The newest version a migration source knows ("" when it has none).
pub fn latest_version<S: MigrationSource<Pg>>(source: &S) -> Result<String, MigrateError> {
    let migrations = source
        .migrations()
        .map_err(|e| MigrateError::Migration(e.to_string()))?;
    Ok(migrations
        .iter()
        .map(|m| m.name().version().to_string())
        .max()
        .unwrap_or_default())
}

/// Applies the control-plane migrations on a dedicated connection; returns what ran.
pub fn run_public(database_url: &str) -> Result<Vec<String>, MigrateError> {
    let mut conn = PgConnection::establish(database_url)?;
    sql_query("SELECT pg_advisory_lock($1)")
        .bind::<diesel::sql_types::Int8, _>(PUBLIC_LOCK_KEY)
        .execute(&mut conn)?;
    sql_query("SET search_path = public").execute(&mut conn)?;
    let result = conn
        .run_pending_migrations(PUBLIC_MIGRATIONS)
        .map(|done| done.iter().map(|v| v.to_string()).collect())
        .map_err(|e| MigrateError::Migration(e.to_string()));
    // The session ends with this connection; unlocking explicitly keeps logs clean.
    let _ = sql_query("SELECT pg_advisory_unlock_all()").execute(&mut conn);
    result
}

/// Inside the caller's transaction: enters the tenant, applies pending migrations, leaves.
/// Used by provisioning (the whole set) and by [`migrate_tenants`].
pub fn apply_tenant_migrations<S: MigrationSource<Pg>>(
    conn: &mut PgConnection,
    tenant: &TenantRef,
    source: S,
) -> Result<(), MigrateError> {
    // No statement timeout: a migration over a big province may take a while.
    enter(conn, tenant, "0")?;
    conn.run_pending_migrations(source)
        .map_err(|e| MigrateError::Migration(e.to_string()))?;
    leave(conn)?;
    Ok(())
}

/// Inside the caller's transaction, for a tenant schema made in this very transaction (so
/// still empty and, on Citus, not yet distributed): every migration of `sql` and diesel's
/// record of them (`__diesel_schema_migrations`, as its harness writes it) sent as ONE
/// message, instead of one round trip per statement plus four per migration. The statements
/// and their order are those of [`apply_tenant_migrations`]; `portal migrate` then finds the
/// schema up to date. Provisioning on one PostgreSQL uses it; on Citus provisioning keeps the
/// harness (statement by statement, `db::statements`).
pub fn apply_new_tenant_schema(
    conn: &mut PgConnection,
    tenant: &TenantRef,
    sql: &[(&str, &str)],
) -> Result<(), MigrateError> {
    enter(conn, tenant, "0")?;
    conn.batch_execute(&new_schema_batch(sql))
        .map_err(|e| MigrateError::Migration(format!("tenant migrations in one batch: {e}")))?;
    leave(conn)?;
    Ok(())
}

/// The text [`apply_new_tenant_schema`] sends: diesel's table, each statement of each
/// migration in version order, and one insert of every version.
fn new_schema_batch(sql: &[(&str, &str)]) -> String {
    let mut migrations: Vec<&(&str, &str)> = sql.iter().collect();
    migrations.sort_by_key(|(name, _)| *name);
    let mut batch = String::from(diesel::migration::CREATE_MIGRATIONS_TABLE);
    batch.push('\n');
    let mut versions = Vec::with_capacity(migrations.len());
    for (name, up) in migrations {
        for statement in super::statements::split(up) {
            batch.push_str(statement.trim());
            if !statement.trim_end().ends_with(';') {
                batch.push(';');
            }
            batch.push('\n');
        }
        // As diesel names a version: the folder's prefix before `_`, without dashes.
        let version = name.split('_').next().unwrap_or("").replace('-', "");
        versions.push(super::literal(&version));
    }
    if !versions.is_empty() {
        batch.push_str(&format!(
            "INSERT INTO __diesel_schema_migrations (version) VALUES ({});\n",
            versions.join("), (")
        ));
    }
    batch
}

/// Lends a migration source by reference (diesel takes sources by value and neither embedded
/// nor file-based sources are `Clone`).
struct Borrowed<'a, S>(&'a S);

impl<S: MigrationSource<Pg>> MigrationSource<Pg> for Borrowed<'_, S> {
    fn migrations(
        &self,
    ) -> diesel::migration::Result<Vec<Box<dyn diesel::migration::Migration<Pg>>>> {
        self.0.migrations()
    }
}

/// What `portal migrate` did to the tenant schemas.
#[derive(Debug, Default)]
pub struct TenantReport {
    pub total: usize,
    pub up_to_date: usize,
    pub migrated: Vec<String>,
    pub failed: Vec<(String, String)>,
}

#[derive(Debug, QueryableByName)]
struct StaleTenant {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: uuid::Uuid,
    #[diesel(sql_type = Text)]
    slug: String,
    #[diesel(sql_type = Text)]
    schema_name: String,
    #[diesel(sql_type = Text)]
    role_name: String,
}

/// Migrates every tenant whose `schema_version` is behind `source`, `parallelism` at a time.
/// A failing tenant is reported and rolled back; the others go on.
pub fn migrate_tenants<S>(
    db: &Db,
    source: &S,
    parallelism: usize,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<TenantReport, MigrateError>
where
    S: MigrationSource<Pg> + Sync,
{
    let latest = latest_version(source)?;
    let mut conn = db
        .checkout()
        .map_err(|e| MigrateError::Migration(e.to_string()))?;
    let total: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::Int8>(
        "(SELECT count(*) FROM public.tenants)",
    ))
    .get_result(&mut conn)?;
    // One query finds the tenants to migrate, however many there are.
    let stale: Vec<StaleTenant> = sql_query(
        "SELECT id, slug, schema_name, role_name FROM public.tenants \
         WHERE schema_version < $1 ORDER BY slug",
    )
    .bind::<Text, _>(&latest)
    .load(&mut conn)?;
    drop(conn);

    let report = Mutex::new(TenantReport {
        total: total as usize,
        up_to_date: total as usize - stale.len(),
        ..TenantReport::default()
    });
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..parallelism.min(stale.len()).max(1) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(t) = stale.get(i) else { break };
                    let result = migrate_one(db, t, source, &latest);
                    let mut r = report.lock().unwrap_or_else(|p| p.into_inner());
                    match result {
                        Ok(()) => r.migrated.push(t.slug.clone()),
                        Err(e) => r.failed.push((t.slug.clone(), e.to_string())),
                    }
                    drop(r);
                    progress(done.fetch_add(1, Ordering::Relaxed) + 1, stale.len());
                }
            });
        }
    });
    let mut report = report.into_inner().unwrap_or_else(|p| p.into_inner());
    report.migrated.sort();
    report.failed.sort();
    Ok(report)
}

fn migrate_one<S>(db: &Db, t: &StaleTenant, source: &S, latest: &str) -> Result<(), MigrateError>
where
    S: MigrationSource<Pg>,
{
    let tenant = TenantRef {
        id: TenantId(t.id),
        schema: t.schema_name.clone(),
        role: t.role_name.clone(),
    };
    let mut conn = db
        .checkout()
        .map_err(|e| MigrateError::Migration(e.to_string()))?;
    conn.transaction(|conn| {
        if super::citus::is_citus(conn)? {
            // Triggers on distributed tables: see `citus::begin_provisioning`.
            sql_query("SELECT set_config('citus.enable_unsafe_triggers', 'on', true)")
                .execute(conn)?;
        }
        apply_tenant_migrations(conn, &tenant, Borrowed(source))?;
        sql_query("UPDATE public.tenants SET schema_version = $1 WHERE id = $2")
            .bind::<Text, _>(latest)
            .bind::<diesel::sql_types::Uuid, _>(t.id)
            .execute(conn)?;
        Ok(())
    })
}

#[cfg(test)]
mod version_tests {
    use diesel::migration::MigrationSource;

    /// Two folders with the same date-and-number prefix share a version: diesel applies one and
    /// skips the other as already run (it happened when two branches each added `…000002`).
    #[test]
    fn every_migration_has_its_own_version() {
        for (name, source) in [
            ("public", super::PUBLIC_MIGRATIONS),
            ("tenant", super::TENANT_MIGRATIONS),
        ] {
            let migrations =
                MigrationSource::<diesel::pg::Pg>::migrations(&source).expect("migrations");
            let mut versions: Vec<String> = migrations
                .iter()
                .map(|m| m.name().version().to_string())
                .collect();
            let total = versions.len();
            versions.sort();
            versions.dedup();
            assert_eq!(
                versions.len(),
                total,
                "{name}: two migrations share a version"
            );
        }
    }
}
