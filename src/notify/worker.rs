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
use crate::tenancy::{Registry, TenantId};

/// The pseudo-tenant of the control plane's outbox (NOTIFY payload and worker key).
pub const NATIONAL: TenantId = TenantId(uuid::Uuid::nil());

pub struct MailWorker {
    pub db: Db,
    pub registry: Weak<Registry>,
    pub mailer: Arc<dyn Mailer>,
    /// Direct to PostgreSQL (`database.direct_url`): LISTEN needs a session of its own.
    pub listen_url: SecretString,
    pub retry_base_ms: u64,
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
                match self.drain(&registry, tenant) {
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

    /// The control plane's own outbox (`public.outbox`): same table shape, no metering.
    fn drain_national(&self) -> Result<Option<chrono::DateTime<Utc>>, AppError> {
        loop {
            let batch = self.db.control(|conn| outbox::claim_due(conn, 20, 120))?;
            if batch.is_empty() {
                break;
            }
            for mail in batch {
                match self.mailer.send(&mail.to_email, &mail.subject, &mail.body) {
                    Ok(()) => self.db.control(|conn| outbox::mark_sent(conn, mail.id))?,
                    Err(error) => {
                        let retry_in = outbox::backoff(self.retry_base_ms, mail.attempts);
                        self.db
                            .control(|conn| outbox::mark_failed(conn, mail.id, &error, retry_in))?;
                    }
                }
            }
        }
        self.db.control(outbox::next_due)
    }

    fn listen(&self) -> Result<PgConnection, String> {
        let mut conn =
            PgConnection::establish(self.listen_url.expose_secret()).map_err(|e| e.to_string())?;
        diesel::sql_query(format!("LISTEN {}", outbox::CHANNEL))
            .execute(&mut conn)
            .map_err(|e| e.to_string())?;
        Ok(conn)
    }

    /// Sends every due mail of one tenant; returns when the next unsent one is due.
    fn drain(
        &self,
        registry: &Registry,
        tenant: TenantId,
    ) -> Result<Option<chrono::DateTime<Utc>>, AppError> {
        if tenant == NATIONAL {
            return self.drain_national();
        }
        let Some(t) = registry.get(tenant) else {
            // A province provisioned a moment ago may not be in this replica's registry yet.
            return Ok(Some(Utc::now() + chrono::Duration::seconds(1)));
        };
        let door = self.db.tenant(t.db_ref());
        loop {
            let batch = door.tx(|conn| outbox::claim_due(conn, 20, 120))?;
            if batch.is_empty() {
                break;
            }
            for mail in batch {
                match self.mailer.send(&mail.to_email, &mail.subject, &mail.body) {
                    Ok(()) => door.tx(|conn| {
                        outbox::mark_sent(conn, mail.id)?;
                        let key = format!("mail:{}:sent", mail.id);
                        crate::metering::record(
                            conn,
                            &t,
                            crate::metering::Metric::Emails,
                            1,
                            &key,
                            Utc::now(),
                        )
                        .map(|_| ())
                    })?,
                    Err(error) => {
                        tracing::warn!(tenant = %t.slug, mail = mail.id, %error, "mail not sent; will retry");
                        let retry_in = outbox::backoff(self.retry_base_ms, mail.attempts);
                        door.tx(|conn| outbox::mark_failed(conn, mail.id, &error, retry_in))?;
                    }
                }
            }
        }
        door.tx(outbox::next_due)
    }
}
