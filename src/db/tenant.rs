//! The tenant transaction: the only way to reach a province's schema.

use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::Text;

use super::{Db, quote_ident};
use crate::error::AppError;
use crate::ids::TenantId;

/// What the door needs to know of a tenant; taken from the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantRef {
    pub id: TenantId,
    pub schema: String,
    pub role: String,
}

/// A handle on one province's data. Its one door is [`TenantDb::tx`].
#[derive(Debug, Clone)]
pub struct TenantDb {
    db: Db,
    tenant: TenantRef,
}

impl TenantDb {
    pub(super) fn new(db: Db, tenant: TenantRef) -> TenantDb {
        TenantDb { db, tenant }
    }

    pub fn id(&self) -> TenantId {
        self.tenant.id
    }

    /// The province's schema name (what the site cache is keyed by).
    pub fn schema(&self) -> &str {
        &self.tenant.schema
    }

    /// Runs `f` in one transaction whose `search_path` and role are the tenant's own. Both are
    /// transaction-local (`set_config(…, true)`), so they die with it: a pooled connection never
    /// carries one province's path into another's request, also behind PgBouncer.
    pub fn tx<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, AppError>,
    {
        let mut conn = self.db.checkout()?;
        let setup = enter_sql(&self.tenant, &self.db.statement_timeout);
        let _shape = super::OneNodeStatements::set(self.db.citus);
        let result = super::in_transaction(&mut conn, &setup, f);
        super::after_commit::finish(&mut conn, result.is_ok(), self.db.notifier());
        result
    }

    /// [`TenantDb::tx`] on the blocking thread pool, keeping the caller's tracing span.
    pub async fn run<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&mut PgConnection) -> Result<T, AppError> + Send + 'static,
    {
        let this = self.clone();
        crate::blocking::run(move || this.tx(f)).await?
    }

    /// [`TenantDb::tx`] for an action that must read one control-plane row in the same
    /// transaction before it touches the province (a submission reads the citizen's account):
    /// `first` runs as the login role, before the tenant is entered, and its one statement
    /// selects the row **and** [`Entry::columns`], so the row is read and the tenant entered in
    /// one round trip. It returns the row with the [`Entered`] read back from that statement,
    /// or its own refusal (then nothing else runs and the transaction rolls back). The door
    /// checks that the statement did enter the tenant's role before `then` runs.
    pub fn tx_entered_by<R, T, C, F>(&self, first: C, then: F) -> Result<T, AppError>
    where
        C: FnOnce(&mut PgConnection, &Entry) -> Result<(R, Entered), AppError>,
        F: FnOnce(&mut PgConnection, R) -> Result<T, AppError>,
    {
        let mut conn = self.db.checkout()?;
        let setup = format!(
            "SELECT set_config('statement_timeout', {}, true)",
            super::literal(&self.db.statement_timeout)
        );
        let entry = Entry(entry_columns(&self.tenant));
        let _shape = super::OneNodeStatements::set(self.db.citus);
        let result = super::in_transaction(&mut conn, &setup, |conn| {
            let (row, entered) = first(conn, &entry)?;
            if entered.portal_entered_role != self.tenant.role
                || entered.portal_entered_path != quote_ident(&self.tenant.schema)
            {
                return Err(AppError::internal(
                    "the first statement of a tenant transaction did not enter the tenant",
                ));
            }
            then(conn, row)
        });
        super::after_commit::finish(&mut conn, result.is_ok(), self.db.notifier());
        result
    }

    /// [`TenantDb::tx_entered_by`] on the blocking thread pool, keeping the caller's span.
    pub async fn run_entered_by<R, T, C, F>(&self, first: C, then: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        C: FnOnce(&mut PgConnection, &Entry) -> Result<(R, Entered), AppError> + Send + 'static,
        F: FnOnce(&mut PgConnection, R) -> Result<T, AppError> + Send + 'static,
    {
        let this = self.clone();
        crate::blocking::run(move || this.tx_entered_by(first, then)).await?
    }
}

/// The select list that enters the tenant (its path and role, transaction-local, as the door
/// does), for the first statement of [`TenantDb::tx_entered_by`]. Its values are literals:
/// names this program made from the registry.
#[derive(Debug)]
pub struct Entry(String);

impl Entry {
    /// `set_config(…) AS portal_entered_path, set_config(…) AS portal_entered_role`.
    pub fn columns(&self) -> &str {
        &self.0
    }
}

/// What a statement that selected [`Entry::columns`] read back: the role it entered. Only such
/// a statement makes one (`#[diesel(embed)]` it in the row), so holding one is the door's
/// proof that the tenant was entered (it compares both values with the tenant's).
#[derive(Debug, QueryableByName)]
pub struct Entered {
    #[diesel(sql_type = Text)]
    portal_entered_path: String,
    #[diesel(sql_type = Text)]
    portal_entered_role: String,
}

/// The tenant's path and role as `set_config` expressions with literal values, named for
/// [`Entered`].
fn entry_columns(tenant: &TenantRef) -> String {
    let role = super::literal(&tenant.role);
    format!(
        "set_config('search_path', {}, true) AS portal_entered_path, \
         set_config('role', CASE WHEN current_setting('portal.provisioning_role', true) = {role} \
                            THEN 'none' ELSE {role} END, true) AS portal_entered_role",
        super::literal(&quote_ident(&tenant.schema)),
    )
}

/// Switches the current transaction into the tenant: path, role and statement timeout, in
/// one round trip with every value bound as a parameter.
///
/// One exception, on Citus only: in the transaction that provisions a province
/// (`portal.provisioning_role` names its role), the role is not taken. Citus opens worker
/// connections as the current role, and a role created in this very transaction does not exist
/// on the workers yet for a connection of its own; so the new province's tables are made and
/// seeded as the login role (with the province's path), and handed to the province's role
/// before the transaction ends (`db::citus::hand_over`). Nothing else sets that setting.
pub(crate) fn enter(
    conn: &mut PgConnection,
    tenant: &TenantRef,
    statement_timeout: &str,
) -> QueryResult<()> {
    sql_query(
        "SELECT set_config('search_path', $1, true), \
                set_config('role', CASE WHEN current_setting('portal.provisioning_role', true) = $2 \
                                   THEN 'none' ELSE $2 END, true), \
                set_config('statement_timeout', $3, true)",
    )
    .bind::<Text, _>(quote_ident(&tenant.schema))
    .bind::<Text, _>(&tenant.role)
    .bind::<Text, _>(statement_timeout)
    .execute(conn)
    .map(|_| ())
}

/// [`enter`] as one statement with its values inlined as literals, sent with the `BEGIN` of
/// [`TenantDb::tx`] in one message (`db::in_transaction`).
fn enter_sql(tenant: &TenantRef, statement_timeout: &str) -> String {
    let role = super::literal(&tenant.role);
    format!(
        "SELECT set_config('search_path', {}, true), \
                set_config('role', CASE WHEN current_setting('portal.provisioning_role', true) = {role} \
                                   THEN 'none' ELSE {role} END, true), \
                set_config('statement_timeout', {}, true)",
        super::literal(&quote_ident(&tenant.schema)),
        super::literal(statement_timeout),
    )
}

/// Switches the current transaction into the tenant, path and role only: its statement
/// timeout stays what the enclosing transaction set.
pub(crate) fn enter_keeping_timeout(
    conn: &mut PgConnection,
    tenant: &TenantRef,
) -> QueryResult<()> {
    sql_query(
        "SELECT set_config('search_path', $1, true), \
                set_config('role', CASE WHEN current_setting('portal.provisioning_role', true) = $2 \
                                   THEN 'none' ELSE $2 END, true)",
    )
        .bind::<Text, _>(quote_ident(&tenant.schema))
        .bind::<Text, _>(&tenant.role)
        .execute(conn)
        .map(|_| ())
}

/// Leaves the tenant within the same transaction (back to the login role and `public`).
pub(crate) fn leave(conn: &mut PgConnection) -> QueryResult<()> {
    sql_query("SELECT set_config('role', 'none', true), set_config('search_path', 'public', true)")
        .execute(conn)
        .map(|_| ())
}
