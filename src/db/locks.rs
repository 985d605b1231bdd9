//! Every PostgreSQL advisory lock key the program takes, in one place so that no two uses
//! share a key by accident (they are arbitrary constants, stable across releases), and the
//! one-run-at-a-time wrapper the jobs take them with.

use diesel::prelude::*;
use diesel::sql_query;

use super::Db;
use crate::error::AppError;

/// `portal migrate`'s public-schema migrations (session lock).
pub const PUBLIC_MIGRATIONS: i64 = 0x706f_7274_616c_0001;
/// Jobs, one run at a time across replicas (transaction locks, `jobs::with_lock`).
pub const INDEX_REFRESH: i64 = 0x706f_7274_0002;
pub const OVERDUE_WATCH: i64 = 0x706f_7274_0003;
pub const USAGE_SAMPLING: i64 = 0x706f_7274_0004;
/// A period's close (held for its transaction).
pub const BILLING_CLOSE: i64 = 0x706f_7274_0005;
/// Provisioning a tenant (held for its transaction).
pub const PROVISION: i64 = 0x706f_7274_0006;
/// Pushing invoices to the payment provider (the billing job).
pub const BILLING_PUSH: i64 = 0x706f_7274_0007;
/// Making each province's current plan the lease in force today (the plan job).
pub const PLAN_REFRESH: i64 = 0x706f_7274_006d;
/// Issuing the previous month's e-invoices (the e-invoice job).
pub const EINVOICE_ISSUE: i64 = 0x706f_7274_0008;
/// Suspending the provinces whose lease ended (the plan job).
pub const LEASE_LAPSE: i64 = 0x706f_7274_0009;
/// One citizen's online submissions, as the first key of a two-key transaction lock (the
/// second is a hash of the citizen's id). Two-key locks never meet the one-key ones above.
pub const CITIZEN_SUBMISSIONS: i32 = 0x7375_626d;
/// One citizen's starts of resumable uploads, counted against the cap one at a time (two-key
/// transaction lock: this class, `hashtext(citizen id)`).
pub const CITIZEN_UPLOADS: i32 = 0x7570_6c64;
/// Anonymous tracking lookups, one at a time per code and per client (transaction locks of
/// the two-key form: this class, `hashtext(code or client)`).
pub const TRACKING_CODE: i32 = 0x7472_6b31;
pub const TRACKING_CLIENT: i32 = 0x7472_6b32;
/// Unverified subscription requests, counted one at a time per contact address and per client.
pub const SUBSCRIPTION_EMAIL: i32 = 0x7375_6231;
pub const SUBSCRIPTION_CLIENT: i32 = 0x7375_6232;

/// Runs `f` if this process wins the lock `key`; `Ok(None)` when another holds it. The lock is
/// transaction-scoped on its own connection, so it works behind PgBouncer in transaction
/// mode and dies with the connection if the process does.
pub fn with_lock<T>(
    db: &Db,
    key: i64,
    f: impl FnOnce() -> Result<T, AppError>,
) -> Result<Option<T>, AppError> {
    let mut conn = db.checkout()?;
    conn.transaction(|conn| {
        #[derive(QueryableByName)]
        struct Got {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            locked: bool,
        }
        let got: Got = sql_query("SELECT pg_try_advisory_xact_lock($1) AS locked")
            .bind::<diesel::sql_types::Int8, _>(key)
            .get_result(conn)?;
        if !got.locked {
            return Ok(None);
        }
        f().map(Some)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_key_is_different() {
        let mut keys = [
            super::PUBLIC_MIGRATIONS,
            super::INDEX_REFRESH,
            super::OVERDUE_WATCH,
            super::USAGE_SAMPLING,
            super::BILLING_CLOSE,
            super::PROVISION,
            super::BILLING_PUSH,
            super::PLAN_REFRESH,
            super::EINVOICE_ISSUE,
            super::LEASE_LAPSE,
        ];
        keys.sort();
        assert!(keys.windows(2).all(|w| w[0] != w[1]));
    }
}
