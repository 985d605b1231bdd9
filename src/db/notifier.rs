//! Notifications (`pg_notify`) asked for by a committed transaction, sent off the request's
//! path: gathered for a few milliseconds and sent in one statement on a connection of the pool.
//!
//! Why: a submission used to send its mail worker's wake-up on its own connection after the
//! commit, one more round trip and one more transaction per filing on the request's path.
//! A wake-up only shortens a wait (the mail worker also sweeps every minute), so a few
//! milliseconds' delay costs nothing, and 16 filings gathered cost one statement.
//! Processes that never start the notifier (the CLI) send them as before, after the commit on
//! the transaction's own connection.

use std::collections::BTreeSet;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{Array, Text};

use super::PgPool;

/// One notification: channel and payload.
pub(super) type Note = (&'static str, String);

/// How long the notifier gathers after the first notification before it sends.
const GATHER: Duration = Duration::from_millis(10);

/// Starts the notifier's thread; it ends when every sender (every clone of the `Db`) is gone.
pub(super) fn spawn(pool: PgPool) -> Option<Sender<Vec<Note>>> {
    let (tx, rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("pg-notifier".into())
        .spawn(move || run(&pool, &rx));
    match spawned {
        Ok(_) => Some(tx),
        Err(e) => {
            tracing::error!(error = %e, "could not start the notifier; notifications go inline");
            None
        }
    }
}

fn run(pool: &PgPool, rx: &Receiver<Vec<Note>>) {
    while let Ok(first) = rx.recv() {
        let mut notes: BTreeSet<Note> = first.into_iter().collect();
        let until = Instant::now() + GATHER;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(more) => notes.extend(more),
                Err(RecvTimeoutError::Timeout) => break,
                // The process is shutting down: send what was gathered, then stop.
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        let (channels, payloads): (Vec<&str>, Vec<String>) = notes.into_iter().unzip();
        let sent = pool
            .get()
            .map_err(|e| e.to_string())
            .and_then(|mut conn| send(&mut conn, &channels, &payloads).map_err(|e| e.to_string()));
        if let Err(e) = sent {
            // A lost wake-up costs a delay, not a mail: the mail worker sweeps every minute.
            tracing::warn!(error = %e, count = channels.len(), "notifications not sent");
        }
    }
}

/// Sends every notification in one statement.
pub(super) fn send(
    conn: &mut PgConnection,
    channels: &[&str],
    payloads: &[String],
) -> QueryResult<usize> {
    sql_query("SELECT pg_notify(c, p) FROM unnest($1::text[], $2::text[]) AS n(c, p)")
        .bind::<Array<Text>, _>(channels)
        .bind::<Array<Text>, _>(payloads)
        .execute(conn)
}
