//! Work that must run only once the current transaction has committed (a NOTIFY, a cache
//! invalidation), on the same connection, and never after a rollback.
//!
//! A generic mechanism of the doors: the domain queues a hook with a key (the same key twice
//! runs once), and [`super::Db::control`] and [`super::TenantDb::tx`] run or drop the queue when
//! their transaction ends. Thread-local because a transaction runs on one blocking thread.

use std::cell::RefCell;
use std::sync::mpsc::{SendError, Sender};

use diesel::PgConnection;

use super::notifier::Note;

type Hook = Box<dyn FnOnce(&mut PgConnection)>;

thread_local! {
    static PENDING: RefCell<Vec<(String, Hook)>> = const { RefCell::new(Vec::new()) };
    static NOTES: RefCell<Vec<Note>> = const { RefCell::new(Vec::new()) };
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

/// Sends `pg_notify(channel, payload)` once the transaction open on this thread commits (the
/// same pair twice in one transaction goes once): through the process's notifier when it runs
/// (`super::notifier`, off the request's path), else on the transaction's connection.
pub fn notify_after_commit(channel: &'static str, payload: String) {
    NOTES.with(|n| {
        let mut n = n.borrow_mut();
        if !n.iter().any(|(c, p)| *c == channel && *p == payload) {
            n.push((channel, payload));
        }
    });
}

/// Called by the doors when a transaction has ended on `conn`; `notifier` is the process's
/// notifier, if it runs.
pub(super) fn finish(
    conn: &mut PgConnection,
    committed: bool,
    notifier: Option<&Sender<Vec<Note>>>,
) {
    let pending = PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()));
    let notes = NOTES.with(|n| std::mem::take(&mut *n.borrow_mut()));
    if !committed {
        return;
    }
    for (_, hook) in pending {
        hook(conn);
    }
    if notes.is_empty() {
        return;
    }
    let notes = match notifier {
        Some(tx) => match tx.send(notes) {
            Ok(()) => return,
            // The notifier's thread is gone: send them here.
            Err(SendError(notes)) => notes,
        },
        None => notes,
    };
    let (channels, payloads): (Vec<&str>, Vec<String>) = notes.into_iter().unzip();
    if let Err(e) = super::notifier::send(conn, &channels, &payloads) {
        // A lost wake-up costs a delay, not a mail: the mail worker sweeps every minute.
        tracing::warn!(error = %e, "notifications not sent after the commit");
    }
}
