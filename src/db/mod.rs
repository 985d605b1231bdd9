//! The database doors. Handlers never see the pool: control-plane work goes through
//! [`Db::control`], a province's data only through [`TenantDb::tx`].

pub mod admin;
mod after_commit;
pub mod citus;
pub mod locks;
pub mod migrate;
mod notifier;
pub mod schema;
pub mod statements;
mod tenant;

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::sql_query;
use secrecy::ExposeSecret;

pub use after_commit::{after_commit, notify_after_commit};
pub use tenant::{Entered, Entry, TenantDb, TenantRef};

/// Enters a tenant inside a control-plane transaction (provisioning, manifests, import): the
/// role and path are transaction-local as in the door, and the transaction keeps its own
/// statement timeout (it used to be set to 0, no limit, for the rest of the transaction).
pub fn tenant_enter(conn: &mut PgConnection, tenant: &TenantRef) -> QueryResult<()> {
    tenant::enter_keeping_timeout(conn, tenant)
}

/// Leaves the tenant entered with [`tenant_enter`], back to `public` and the login role.
pub fn tenant_leave(conn: &mut PgConnection) -> QueryResult<()> {
    tenant::leave(conn)
}

use crate::config::DatabaseSettings;
use crate::error::AppError;

pub type PgPool = Pool<ConnectionManager<PgConnection>>;
pub type PooledConn = PooledConnection<ConnectionManager<PgConnection>>;

/// Runs when the pool opens a physical connection (not at each checkout): code that forgets
/// the door finds no tables at all rather than somebody else's. Behind PgBouncer the SET
/// reaches one server connection only: PgBouncer's `connect_query` must set it on every one
/// (docs/architecture.md, PgBouncer). Also turns diesel's statement cache off when configured.
#[derive(Debug)]
struct FailClosed {
    statement_cache: bool,
}

impl CustomizeConnection<PgConnection, diesel::r2d2::Error> for FailClosed {
    fn on_acquire(&self, conn: &mut PgConnection) -> Result<(), diesel::r2d2::Error> {
        if !self.statement_cache {
            conn.set_prepared_statement_cache_size(diesel::connection::CacheSize::Disabled);
        }
        sql_query("SET search_path = pg_catalog")
            .execute(conn)
            .map(|_| ())
            .map_err(diesel::r2d2::Error::QueryError)
    }
}

thread_local! {
    /// Set by the tenant door for the transaction it runs on this thread.
    static ONE_NODE_STATEMENTS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the tenant transaction running on this thread must send statements that each
/// stay on one node. On a Citus coordinator a statement whose writable CTEs feed each other
/// (the one-statement submission) is planned in steps whose intermediate results Citus
/// broadcasts to **every** worker: one dead worker then fails every province's submissions,
/// not only its own (`citus::a_worker_dies_and_only_its_provinces_wait_until_it_is_back`).
/// Plain statements on one province's tables are routed to its worker alone.
pub fn one_node_statements() -> bool {
    ONE_NODE_STATEMENTS.with(std::cell::Cell::get)
}

/// Marks this thread's tenant transaction for [`one_node_statements`] until dropped.
pub(crate) struct OneNodeStatements(bool);

impl OneNodeStatements {
    pub(crate) fn set(on: bool) -> OneNodeStatements {
        OneNodeStatements(ONE_NODE_STATEMENTS.with(|c| c.replace(on)))
    }
}

impl Drop for OneNodeStatements {
    fn drop(&mut self) {
        ONE_NODE_STATEMENTS.with(|c| c.set(self.0));
    }
}

/// The process's database: a pool and the settings every transaction applies.
#[derive(Clone)]
pub struct Db {
    pool: PgPool,
    statement_timeout: String,
    /// Threads waiting for a pooled connection now, and checkouts that timed out (for
    /// `/metrics`; r2d2's own state counts neither).
    waiting: Arc<AtomicI64>,
    timeouts: Arc<AtomicU64>,
    /// The database is a Citus coordinator (`[citus] workers` set): see [`one_node_statements`].
    citus: bool,
    /// The notifier's queue once [`Db::start_notifier`] has run (shared by every clone).
    notifier: Arc<OnceLock<Sender<Vec<notifier::Note>>>>,
}

/// The pool as `/metrics` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolState {
    pub in_use: u32,
    pub idle: u32,
    pub waiting: i64,
    pub max: u32,
    pub timeouts: u64,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("state", &self.pool.state())
            .finish()
    }
}

impl Db {
    /// Builds the pool without connecting: the server starts and answers 503 until the
    /// database is reachable.
    pub fn new(settings: &DatabaseSettings) -> Db {
        let manager = ConnectionManager::<PgConnection>::new(settings.url.expose_secret());
        let pool = Pool::builder()
            .max_size(settings.pool_size)
            .min_idle(Some(0))
            .connection_timeout(Duration::from_millis(settings.acquire_timeout_ms))
            .max_lifetime(Some(Duration::from_secs(settings.max_lifetime_secs)))
            .idle_timeout(Some(Duration::from_secs(300)))
            .test_on_check_out(false)
            .connection_customizer(Box::new(FailClosed {
                statement_cache: settings.statement_cache,
            }))
            .build_unchecked(manager);
        Db {
            pool,
            statement_timeout: format!("{}ms", settings.statement_timeout_ms),
            waiting: Arc::default(),
            timeouts: Arc::default(),
            citus: false,
            notifier: Arc::default(),
        }
    }

    /// Sends the notifications that committed transactions ask for ([`notify_after_commit`])
    /// from a thread of their own, gathered, instead of on each transaction's connection (the
    /// server does this; the CLI's one-off commands do not need to).
    pub fn start_notifier(&self) {
        if self.notifier.get().is_none()
            && let Some(tx) = notifier::spawn(self.pool.clone())
        {
            let _ = self.notifier.set(tx);
        }
    }

    /// The notifier's queue, if it runs (for the doors' [`after_commit::finish`]).
    fn notifier(&self) -> Option<&Sender<Vec<notifier::Note>>> {
        self.notifier.get()
    }

    /// The same pool, on a Citus coordinator (`[citus] workers` set) or not.
    pub fn on_citus(mut self, citus: bool) -> Db {
        self.citus = citus;
        self
    }

    /// A pooled connection with `search_path = pg_catalog`; for the doors and for tests.
    pub fn checkout(&self) -> Result<PooledConn, AppError> {
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let got = self.pool.get();
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        if got.is_err() {
            self.timeouts.fetch_add(1, Ordering::Relaxed);
        }
        Ok(got?)
    }

    /// Connections in use, idle and waited for, for `/metrics`.
    pub fn pool_state(&self) -> PoolState {
        let s = self.pool.state();
        PoolState {
            in_use: s.connections - s.idle_connections,
            idle: s.idle_connections,
            waiting: self.waiting.load(Ordering::Relaxed),
            max: self.pool.max_size(),
            timeouts: self.timeouts.load(Ordering::Relaxed),
        }
    }

    /// The control-plane door: one transaction on schema `public`.
    pub fn control<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, AppError>,
    {
        let mut conn = self.checkout()?;
        let setup = format!(
            "SELECT set_config('search_path', 'public', true), \
                    set_config('statement_timeout', {}, true)",
            literal(&self.statement_timeout)
        );
        let result = in_transaction(&mut conn, &setup, f);
        after_commit::finish(&mut conn, result.is_ok(), self.notifier());
        result
    }

    /// [`Db::control`] on the blocking thread pool, keeping the caller's tracing span.
    pub async fn control_async<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&mut PgConnection) -> Result<T, AppError> + Send + 'static,
    {
        let db = self.clone();
        crate::blocking::run(move || db.control(f)).await?
    }

    /// The door to one province's schema. Made from a registry entry, never from user input.
    pub fn tenant(&self, tenant: TenantRef) -> TenantDb {
        TenantDb::new(self.clone(), tenant)
    }

    /// `SELECT 1` within the acquire timeout: the readiness probe.
    pub fn ping(&self) -> Result<(), AppError> {
        let mut conn = self.checkout()?;
        sql_query("SELECT 1").execute(&mut conn)?;
        Ok(())
    }
}

/// Runs `f` in one transaction opened together with `setup` (the `set_config` calls that
/// enter the door) in one message, `BEGIN; <setup>`: one round trip instead of two. Commits if
/// `f` succeeds, rolls back otherwise, as diesel's `Connection::transaction` does. The setup is
/// sent in the simple protocol, which takes no parameters: its values go through [`literal`].
pub fn in_transaction<T, F>(conn: &mut PgConnection, setup: &str, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, AppError>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    AnsiTransactionManager::begin_transaction_sql(conn, &format!("BEGIN; {setup}"))?;
    match f(conn) {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => match AnsiTransactionManager::rollback_transaction(conn) {
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(e),
            Err(rollback) => Err(rollback.into()),
        },
    }
}

/// A string as an SQL literal (`'…'`, quotes doubled), for the simple protocol's setup of
/// [`in_transaction`]. Only ever called on values this program made (schema and role names
/// from a validated slug, a timeout from the settings); quoting makes any of them inert.
pub fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// Quotes an identifier for DDL, where PostgreSQL takes no parameters. Only ever called on
/// names this program generated from a validated [`crate::tenancy::Slug`] or a UUID.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
