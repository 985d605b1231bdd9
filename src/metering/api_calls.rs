//! API calls: summed in memory per province (a database write per call would cost more than
//! the call), flushed every few seconds and at shutdown, each flush under its own key.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{Metric, record};
use crate::db::Db;
use crate::error::AppError;
use crate::tenancy::{Registry, TenantId};

#[derive(Debug)]
pub struct ApiCallCounter {
    /// This process: flush keys from two replicas never collide.
    replica: uuid::Uuid,
    counts: Mutex<HashMap<TenantId, u64>>,
    /// Counts taken out for a flush that has not been confirmed yet, with their key: a retry
    /// uses the same key, so a flush whose commit was lost is never counted twice.
    pending: Mutex<HashMap<TenantId, (String, u64)>>,
    seq: AtomicU64,
    /// When every count was last written (or the process started): the flush lag.
    flushed_at: Mutex<std::time::Instant>,
}

impl Default for ApiCallCounter {
    fn default() -> ApiCallCounter {
        ApiCallCounter {
            replica: uuid::Uuid::new_v4(),
            counts: Mutex::default(),
            pending: Mutex::default(),
            seq: AtomicU64::new(0),
            flushed_at: Mutex::new(std::time::Instant::now()),
        }
    }
}

impl ApiCallCounter {
    pub fn hit(&self, tenant: TenantId) {
        *self
            .counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(tenant)
            .or_default() += 1;
    }

    /// Calls counted but not yet flushed (for /metrics and tests).
    pub fn unflushed(&self) -> u64 {
        let counts: u64 = self
            .counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .sum();
        let pending: u64 = self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .map(|(_, n)| n)
            .sum();
        counts + pending
    }

    /// Time since the last flush that left nothing pending (or since the process started).
    pub fn flush_lag(&self) -> std::time::Duration {
        self.flushed_at
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .elapsed()
    }

    /// Writes every province's calls as one usage event each. Returns the calls written.
    pub fn flush(&self, db: &Db, registry: &Registry) -> Result<u64, AppError> {
        let taken: HashMap<TenantId, u64> =
            std::mem::take(&mut *self.counts.lock().unwrap_or_else(|p| p.into_inner()));
        {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            for (tenant, n) in taken {
                match pending.get_mut(&tenant) {
                    // A failed flush is waiting: new calls go with the next one.
                    Some(_) => {
                        *self
                            .counts
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .entry(tenant)
                            .or_default() += n
                    }
                    None => {
                        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
                        pending.insert(tenant, (format!("api:{}:{seq}", self.replica.simple()), n));
                    }
                }
            }
        }
        let work: Vec<(TenantId, String, u64)> = self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(t, (k, n))| (*t, k.clone(), *n))
            .collect();
        let mut written = 0;
        let mut first_error = None;
        for (tenant_id, key, n) in work {
            let Some(tenant) = registry.get(tenant_id) else {
                self.pending
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&tenant_id);
                continue;
            };
            let result = db.tenant(tenant.db_ref()).tx(|conn| {
                record(
                    conn,
                    &tenant,
                    Metric::ApiCalls,
                    n as i64,
                    &key,
                    crate::clock::now(),
                )
            });
            match result {
                Ok(_) => {
                    self.pending
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .remove(&tenant_id);
                    written += n;
                }
                Err(e) => {
                    tracing::warn!(tenant = %tenant.slug, error = %e, "api-call flush failed; will retry with the same key");
                    first_error.get_or_insert(e);
                }
            }
        }
        if first_error.is_none() {
            *self.flushed_at.lock().unwrap_or_else(|p| p.into_inner()) = std::time::Instant::now();
        }
        match first_error {
            Some(e) if written == 0 => Err(e),
            _ => Ok(written),
        }
    }
}
