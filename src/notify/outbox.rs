//! The outbox table: written with the event it announces, drained by the worker.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{Integer, Text};

use crate::db::schema::outbox;
use crate::error::AppError;
use crate::ids::TenantId;

/// The channel that wakes the mail worker; the payload is the tenant id.
pub const CHANNEL: &str = "portal_outbox";

/// Asks for a wake-up of the mail worker for `tenant` once the current transaction commits.
///
/// Why not `pg_notify` inside the transaction: PostgreSQL serialises the commits of every
/// transaction that issued a NOTIFY (one lock for the whole cluster, held through the WAL
/// flush), which capped dossier submissions at a few hundred per second. Sent after the
/// commit, by the server's notifier (gathered with others, off the request's path;
/// `db::notify_after_commit`), it needs no WAL flush and holds that lock for an instant.
pub(crate) fn wake_after_commit(tenant: TenantId) {
    crate::db::notify_after_commit(CHANNEL, tenant.to_string());
}

#[derive(Debug)]
pub struct NewMail<'a> {
    pub kind: &'a str,
    pub dossier_id: Option<i64>,
    pub to: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
}

/// Queues a mail that must go at most once: a second call with the same key does nothing.
/// Returns whether it was queued now.
pub fn enqueue_once(
    conn: &mut PgConnection,
    tenant: TenantId,
    key: &str,
    mail: &NewMail<'_>,
) -> Result<bool, AppError> {
    let inserted = diesel::insert_into(outbox::table)
        .values((
            outbox::kind.eq(mail.kind),
            outbox::dossier_id.eq(mail.dossier_id),
            outbox::to_email.eq(mail.to),
            outbox::subject.eq(mail.subject),
            outbox::body.eq(mail.body),
            outbox::dedup_key.eq(key),
        ))
        .on_conflict(outbox::dedup_key)
        .do_nothing()
        .execute(conn)?;
    if inserted == 1 {
        wake_after_commit(tenant);
    }
    Ok(inserted == 1)
}

/// Queues a mail in the caller's transaction and wakes the worker when it commits.
pub fn enqueue(
    conn: &mut PgConnection,
    tenant: TenantId,
    mail: &NewMail<'_>,
) -> Result<(), AppError> {
    diesel::insert_into(outbox::table)
        .values((
            outbox::kind.eq(mail.kind),
            outbox::dossier_id.eq(mail.dossier_id),
            outbox::to_email.eq(mail.to),
            outbox::subject.eq(mail.subject),
            outbox::body.eq(mail.body),
        ))
        .execute(conn)?;
    wake_after_commit(tenant);
    Ok(())
}

#[derive(Debug, Clone, QueryableByName)]
pub struct ClaimedMail {
    #[diesel(sql_type = diesel::sql_types::Int8)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub to_email: String,
    #[diesel(sql_type = Text)]
    pub subject: String,
    #[diesel(sql_type = Text)]
    pub body: String,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    pub claimed_until: DateTime<Utc>,
}

/// Claims up to `limit` due mails for `claim_ms`; other workers skip them meanwhile. The
/// claim commits before any mail is sent, so no transaction stays open during SMTP. A mail
/// marked failed (`next_attempt_at = 'infinity'`) is never due.
pub fn claim_due(
    conn: &mut PgConnection,
    limit: i64,
    claim_ms: i64,
) -> Result<Vec<ClaimedMail>, AppError> {
    Ok(sql_query(
        "UPDATE outbox SET claimed_until = now() + $2 * interval '1 millisecond' \
         WHERE id IN (SELECT id FROM outbox \
                      WHERE sent_at IS NULL AND next_attempt_at <= now() \
                        AND (claimed_until IS NULL OR claimed_until < now()) \
                      ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) \
         RETURNING id, to_email, subject, body, attempts, claimed_until",
    )
    .bind::<diesel::sql_types::Int8, _>(limit)
    .bind::<diesel::sql_types::Int8, _>(claim_ms)
    .load(conn)?)
}

#[derive(QueryableByName)]
struct Until {
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    claimed_until: DateTime<Utc>,
}

/// Re-checks the claim `claimed_until` on mail `id` and extends it by `claim_ms`; `None` when
/// the claim is not this worker's any more (it lapsed and another worker took the mail, or
/// the mail was sent or given up meanwhile): then the mail is not this worker's to send.
pub fn renew_claim(
    conn: &mut PgConnection,
    id: i64,
    claimed_until: DateTime<Utc>,
    claim_ms: i64,
) -> Result<Option<DateTime<Utc>>, AppError> {
    Ok(sql_query(
        "UPDATE outbox SET claimed_until = now() + $3 * interval '1 millisecond' \
         WHERE id = $1 AND claimed_until = $2 AND sent_at IS NULL \
           AND next_attempt_at < 'infinity' \
         RETURNING claimed_until",
    )
    .bind::<diesel::sql_types::Int8, _>(id)
    .bind::<diesel::sql_types::Timestamptz, _>(claimed_until)
    .bind::<diesel::sql_types::Int8, _>(claim_ms)
    .get_result::<Until>(conn)
    .optional()?
    .map(|u| u.claimed_until))
}

pub fn mark_sent(conn: &mut PgConnection, id: i64) -> Result<(), AppError> {
    diesel::update(outbox::table.find(id).filter(outbox::sent_at.is_null()))
        .set((
            outbox::sent_at.eq(diesel::dsl::now),
            outbox::claimed_until.eq(None::<DateTime<Utc>>),
            outbox::attempts.eq(outbox::attempts + 1),
        ))
        .execute(conn)?;
    Ok(())
}

/// Gives back a claim on a mail that was never tried, unless the claim lapsed and another
/// worker holds the mail now.
pub fn release(
    conn: &mut PgConnection,
    id: i64,
    claimed_until: DateTime<Utc>,
) -> Result<(), AppError> {
    diesel::update(
        outbox::table
            .find(id)
            .filter(outbox::sent_at.is_null())
            .filter(outbox::claimed_until.eq(claimed_until)),
    )
    .set(outbox::claimed_until.eq(None::<DateTime<Utc>>))
    .execute(conn)?;
    Ok(())
}

/// Records a failed attempt: tried again after `retry_in`, or (`None`: the last attempt)
/// never again, marked failed with its last error for an operator to see
/// (`portal_outbox_failed`; `UPDATE outbox SET next_attempt_at = now(), attempts = 0` retries).
pub fn mark_failed(
    conn: &mut PgConnection,
    id: i64,
    error: &str,
    retry_in: Option<Duration>,
) -> Result<(), AppError> {
    let error: String = error.chars().take(500).collect();
    sql_query(
        "UPDATE outbox SET attempts = attempts + 1, claimed_until = NULL, \
                next_attempt_at = CASE WHEN $3 THEN now() + $4 * interval '1 millisecond' \
                                       ELSE 'infinity' END, \
                last_error = CASE WHEN $3 THEN $2 \
                                  ELSE 'gave up after ' || (attempts + 1) || ' attempts: ' || $2 END \
         WHERE id = $1 AND sent_at IS NULL",
    )
    .bind::<diesel::sql_types::Int8, _>(id)
    .bind::<Text, _>(error)
    .bind::<diesel::sql_types::Bool, _>(retry_in.is_some())
    .bind::<diesel::sql_types::Int8, _>(retry_in.map_or(0, |d| d.num_milliseconds()))
    .execute(conn)?;
    Ok(())
}

#[derive(QueryableByName)]
struct Due {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>)]
    at: Option<DateTime<Utc>>,
}

/// When the next unsent mail is due (`None`: nothing left to send; failed mails never are).
pub fn next_due(conn: &mut PgConnection) -> Result<Option<DateTime<Utc>>, AppError> {
    Ok(sql_query(
        "SELECT min(next_attempt_at) AS at FROM outbox \
         WHERE sent_at IS NULL AND next_attempt_at < 'infinity'",
    )
    .get_result::<Due>(conn)?
    .at)
}

/// Exponential backoff from `base_ms`, at most an hour.
pub fn backoff(base_ms: u64, attempts: i32) -> Duration {
    let factor = 1u64 << attempts.clamp(0, 20);
    Duration::milliseconds(base_ms.saturating_mul(factor).min(3_600_000) as i64)
}

/// The outbox as `/metrics` shows it.
#[derive(Debug, Clone, Copy, Default, QueryableByName)]
pub struct Backlog {
    /// Mails waiting to be sent (not the failed ones).
    #[diesel(sql_type = diesel::sql_types::Int8)]
    pub unsent: i64,
    /// When the oldest of them was queued.
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>)]
    pub oldest: Option<DateTime<Utc>>,
    /// Mails given up after their last attempt (or imported unsent): never sent by themselves.
    #[diesel(sql_type = diesel::sql_types::Int8)]
    pub failed: i64,
}

/// [`Backlog`] of the outbox on the current path.
pub fn backlog(conn: &mut PgConnection) -> Result<Backlog, AppError> {
    Ok(sql_query(
        "SELECT count(*) FILTER (WHERE next_attempt_at < 'infinity') AS unsent, \
                min(created_at) FILTER (WHERE next_attempt_at < 'infinity') AS oldest, \
                count(*) FILTER (WHERE next_attempt_at = 'infinity') AS failed \
         FROM outbox WHERE sent_at IS NULL",
    )
    .get_result(conn)?)
}

/// [`backlog`] over the national outbox and every province's, in one transaction (each
/// province through its own role). A province that cannot be read is logged and left out.
pub fn backlog_everywhere(
    db: &crate::db::Db,
    registry: &crate::tenancy::Registry,
) -> Result<Backlog, AppError> {
    db.control(|conn| {
        let mut all = backlog(conn)?;
        for t in registry.all() {
            let one = conn.transaction(|conn| {
                crate::db::tenant_enter(conn, &t.db_ref())?;
                let r = backlog(conn)?;
                crate::db::tenant_leave(conn)?;
                Ok::<_, AppError>(r)
            });
            match one {
                Ok(b) => {
                    all.unsent += b.unsent;
                    all.failed += b.failed;
                    all.oldest = match (all.oldest, b.oldest) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                }
                Err(e) => tracing::warn!(tenant = %t.slug, error = %e, "outbox backlog unreadable"),
            }
        }
        Ok(all)
    })
}
