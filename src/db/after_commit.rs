//! Work that must run only once the current transaction has committed (a NOTIFY, a cache
//! invalidation), on the same connection, and never after a rollback.
//!
//! A generic mechanism of the doors: the domain queues a hook with a key (the same key twice
//! runs once), and [`super::Db::control`] and [`super::TenantDb::tx`] run or drop the queue when
//! their transaction ends. Thread-local because a transaction runs on one blocking thread.

use std::cell::RefCell;

use diesel::PgConnection;

type Hook = Box<dyn FnOnce(&mut PgConnection)>;

thread_local! {
    static PENDING: RefCell<Vec<(String, Hook)>> = const { RefCell::new(Vec::new()) };
}

/// Runs `hook` after the transaction open on this thread commits; a second hook with the same
/// `key` in the same transaction is dropped.
pub fn after_commit(key: String, hook: impl FnOnce(&mut PgConnection) + 'static) {
    PENDING.with(|p| {
        let mut p = p.borrow_mut();
        if !p.iter().any(|(k, _)| *k == key) {
            p.push((key, Box::new(hook)));
        }
    });
}

/// Called by the doors when a transaction has ended on `conn`.
pub(super) fn finish(conn: &mut PgConnection, committed: bool) {
    let pending = PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()));
    if committed {
        for (_, hook) in pending {
            hook(conn);
        }
    }
}
