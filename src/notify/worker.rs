//! The mail worker: wakes on `NOTIFY portal_outbox` (payload: tenant id), sends what is due,
//! retries with backoff. Safe with many replicas: mails are claimed with SKIP LOCKED.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use chrono::Utc;
use diesel::prelude::*;
use secrecy::{ExposeSecret, SecretString};

use super::mailer::Mailer;
use super::outbox;
use crate::db::Db;
use crate::error::AppError;
use crate::tenancy::{Registry, Tenant, TenantId};

/// The pseudo-tenant of the control plane's outbox (NOTIFY payload and worker key).
pub const NATIONAL: TenantId = TenantId(uuid::Uuid::nil());

/// What else happens in the transaction that marks a province's mail (by its outbox id) sent:
/// the application counts it as the province's `emails` (`metering::count_sent_mail`). A hook,
/// so the outbox below metering never names it.
pub type OnSent = fn(&mut PgConnection, &Tenant, i64) -> Result<(), AppError>;

pub struct MailWorker {
    pub db: Db,
    pub registry: Weak<Registry>,
    pub mailer: Arc<dyn Mailer>,
    /// Direct to PostgreSQL (`database.direct_url`): LISTEN needs a session of its own.
    pub listen_url: SecretString,
    pub retry_base_ms: u64,
    /// Attempts at most per mail (`mail.max_attempts`); then the mail is marked failed.
    pub max_attempts: u32,
    /// A claim's length (`mail.claim_ms`): renewed before each send and while it lasts.
    pub claim_ms: u64,
    /// Runs in the transaction that marks a province's mail sent (not the national outbox's).
    pub on_sent: OnSent,
}

impl MailWorker {
    /// Runs on its own thread until the registry (the application) is dropped.
    pub fn spawn(self) {
        let spawned = std::thread::Builder::new()
            .name("mail-worker".into())
            .spawn(move || self.run());
        if let Err(e) = spawned {
            tracing::error!(error = %e, "could not start the mail worker");
        }
    }

    fn run(self) {
        let mut due: HashMap<TenantId, Instant> = HashMap::new();
        let mut unrecorded: HashMap<TenantId, Vec<Unrecorded>> = HashMap::new();
        let mut listener: Option<PgConnection> = None;
        let mut last_sweep = Instant::now() - Duration::from_secs(3600);
        loop {
            let Some(registry) = self.registry.upgrade() else {
                return;
            };
            // A full sweep at start and every minute catches anything a lost NOTIFY missed.
            if last_sweep.elapsed() > Duration::from_secs(60) {
                last_sweep = Instant::now();
                due.entry(NATIONAL).or_insert_with(Instant::now);
                for t in registry.all() {
                    due.entry(t.id).or_insert_with(Instant::now);
                }
            }
            if listener.is_none() {
                listener = self
                    .listen()
                    .map_err(|e| tracing::warn!(error = %e, "mail worker cannot listen"))
                    .ok();
            }
            if let Some(conn) = listener.as_mut() {
                let mut lost = false;
                for n in conn.notifications_iter() {
                    match n {
                        Ok(n) => {
                            if let Ok(id) = uuid::Uuid::parse_str(&n.payload) {
                                due.insert(TenantId(id), Instant::now());
                            }
                        }
                        Err(_) => {
                            lost = true;
                            break;
                        }
                    }
                }
                if lost {
                    listener = None;
                    last_sweep = Instant::now() - Duration::from_secs(3600);
                }
            }
            let now = Instant::now();
            let ready: Vec<TenantId> = due
                .iter()
                .filter(|(_, at)| **at <= now)
                .map(|(t, _)| *t)
                .collect();
            for tenant in ready {
                match self.drain(&registry, tenant, unrecorded.entry(tenant).or_default()) {
                    Ok(None) => {
                        due.remove(&tenant);
                    }
                    Ok(Some(next)) => {
                        let wait = (next - Utc::now()).to_std().unwrap_or_default();
                        due.insert(tenant, Instant::now() + wait);
                    }
                    Err(e) => {
                        tracing::warn!(tenant = %tenant, error = %e, "mail worker: tenant skipped");
                        due.insert(tenant, Instant::now() + Duration::from_secs(5));
                    }
                }
            }
            drop(registry);
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn listen(&self) -> Result<PgConnection, String> {
        let mut conn =
            PgConnection::establish(self.listen_url.expose_secret()).map_err(|e| e.to_string())?;
        diesel::sql_query(format!("LISTEN {}", outbox::CHANNEL))
            .execute(&mut conn)
            .map_err(|e| e.to_string())?;
        Ok(conn)
    }

    /// Sends every due mail of one tenant (or of the national outbox); returns when the next
    /// unsent one is due. First records what an earlier run could not (`unrecorded`): if the
    /// database goes away between a mail's SMTP conversation and its update, the outcome waits
    /// here instead of the mail being sent again when its claim lapses.
    fn drain(
        &self,
        registry: &Registry,
        tenant: TenantId,
        unrecorded: &mut Vec<Unrecorded>,
    ) -> Result<Option<chrono::DateTime<Utc>>, AppError> {
        let door = if tenant == NATIONAL {
            Door::National(self.db.clone())
        } else {
            let Some(t) = registry.get(tenant) else {
                // A province provisioned a moment ago may not be in this replica's registry yet.
                return Ok(Some(Utc::now() + chrono::Duration::seconds(1)));
            };
            Door::Province(self.db.tenant(t.db_ref()), t, self.on_sent)
        };
        while let Some(outcome) = unrecorded.first() {
            match door.tx(|conn| door.record(conn, outcome)) {
                Ok(()) => {}
                Err(e @ AppError::Unavailable(_)) => return Err(e),
                // Not the database being away: give up on it (the claim lapses as it would
                // have without this list).
                Err(e) => tracing::warn!(tenant = %tenant, error = %e, "mail outcome not recorded"),
            }
            unrecorded.remove(0);
        }
        let claim_ms = i64::try_from(self.claim_ms).unwrap_or(i64::MAX);
        loop {
            let batch = door.tx(|conn| outbox::claim_due(conn, 20, claim_ms))?;
            if batch.is_empty() {
                break;
            }
            let mut batch = batch.into_iter();
            while let Some(mail) = batch.next() {
                // The claim is re-checked and extended right before the send: a claim that
                // lapsed while this worker sent the mails before it may be another worker's
                // now, and then the mail is that worker's to send.
                let held = match door
                    .tx(|conn| outbox::renew_claim(conn, mail.id, mail.claimed_until, claim_ms))
                {
                    Ok(held) => held,
                    Err(e) => {
                        unrecorded.extend(batch.map(|m| Unrecorded::Untried {
                            id: m.id,
                            claimed_until: m.claimed_until,
                        }));
                        return Err(e);
                    }
                };
                let Some(claimed_until) = held else {
                    tracing::info!(tenant = %tenant, mail = mail.id, "mail claimed by another worker meanwhile; not sent here");
                    continue;
                };
                let message_id = format!(
                    "<outbox.{}.{}@{}>",
                    if tenant == NATIONAL {
                        "national".to_string()
                    } else {
                        tenant.to_string()
                    },
                    mail.id,
                    self.mailer.domain()
                );
                let result = self.send_holding_claim(&door, &mail, claimed_until, &message_id);
                let outcome = match result {
                    Ok(()) => Unrecorded::Sent { id: mail.id },
                    Err(error) => {
                        let attempt = u32::try_from(mail.attempts).unwrap_or(0) + 1;
                        let retry_in = (attempt < self.max_attempts)
                            .then(|| outbox::backoff(self.retry_base_ms, mail.attempts));
                        if retry_in.is_some() {
                            tracing::warn!(tenant = %tenant, mail = mail.id, attempt, %error, "mail not sent; will retry");
                        } else {
                            tracing::error!(tenant = %tenant, mail = mail.id, attempt, %error, "mail not sent after its last attempt; marked failed");
                        }
                        Unrecorded::Failed {
                            id: mail.id,
                            error,
                            retry_in,
                        }
                    }
                };
                if let Err(e) = door.tx(|conn| door.record(conn, &outcome)) {
                    unrecorded.push(outcome);
                    unrecorded.extend(batch.map(|m| Unrecorded::Untried {
                        id: m.id,
                        claimed_until: m.claimed_until,
                    }));
                    return Err(e);
                }
            }
        }
        door.tx(outbox::next_due)
    }
}

impl MailWorker {
    /// Sends one mail on a helper thread while this one renews the claim every third of its
    /// length, so a slow SMTP conversation never outlives the claim.
    fn send_holding_claim(
        &self,
        door: &Door,
        mail: &outbox::ClaimedMail,
        claimed_until: chrono::DateTime<Utc>,
        message_id: &str,
    ) -> Result<(), String> {
        let claim_ms = i64::try_from(self.claim_ms).unwrap_or(i64::MAX);
        let every = Duration::from_millis((self.claim_ms / 3).max(10));
        std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::channel();
            let mailer = &self.mailer;
            scope.spawn(move || {
                let _ = tx.send(mailer.send(&mail.to_email, &mail.subject, &mail.body, message_id));
            });
            let mut held = Some(claimed_until);
            loop {
                match rx.recv_timeout(every) {
                    Ok(result) => return result,
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                        return Err("the mail sender stopped".into());
                    }
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                        let Some(until) = held else { continue };
                        held = door
                            .tx(|conn| outbox::renew_claim(conn, mail.id, until, claim_ms))
                            .unwrap_or_else(|e| {
                                tracing::warn!(mail = mail.id, error = %e, "claim not renewed during a send");
                                None
                            });
                    }
                }
            }
        })
    }
}

/// A mail's outcome that the database did not take yet.
#[derive(Debug)]
enum Unrecorded {
    /// Handed to the mail server: mark it sent (and count it).
    Sent { id: i64 },
    /// Refused: record the attempt and when to try again (`None`: never, it was the last).
    Failed {
        id: i64,
        error: String,
        retry_in: Option<chrono::Duration>,
    },
    /// Claimed in the same batch but never tried: give the claim back.
    Untried {
        id: i64,
        claimed_until: chrono::DateTime<Utc>,
    },
}

/// Where a worker drains: the control plane's outbox (`public.outbox`, no metering) or a
/// province's (sent mail counted as its `emails` by the [`OnSent`] hook).
enum Door {
    National(Db),
    Province(crate::db::TenantDb, Arc<Tenant>, OnSent),
}

impl Door {
    fn tx<T>(
        &self,
        f: impl FnOnce(&mut PgConnection) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        match self {
            Door::National(db) => db.control(f),
            Door::Province(door, _, _) => door.tx(f),
        }
    }

    fn record(&self, conn: &mut PgConnection, outcome: &Unrecorded) -> Result<(), AppError> {
        match outcome {
            Unrecorded::Sent { id } => {
                outbox::mark_sent(conn, *id)?;
                if let Door::Province(_, t, on_sent) = self {
                    on_sent(conn, t, *id)?;
                }
                Ok(())
            }
            Unrecorded::Failed {
                id,
                error,
                retry_in,
            } => outbox::mark_failed(conn, *id, error, *retry_in),
            Unrecorded::Untried { id, claimed_until } => outbox::release(conn, *id, *claimed_until),
        }
    }
}
