//! Background jobs: each on its own thread, each run under a PostgreSQL advisory lock so that
//! with N replicas exactly one runs it at a time.

pub mod billing;
pub mod einvoices;
pub mod overdue;
pub mod plans;

use std::sync::Weak;
use std::time::Duration;

use crate::error::AppError;
use crate::tenancy::Registry;

/// Lock keys, one per job (all keys live in `db::locks`).
pub use crate::db::locks::{
    BILLING_PUSH, EINVOICE_ISSUE, INDEX_REFRESH, OVERDUE_WATCH, USAGE_SAMPLING, with_lock,
};

/// Calls `tick` every `every` until the registry (the application) is gone. A failing tick
/// is logged and retried at the next interval.
pub fn every(
    name: &'static str,
    every: Duration,
    registry: Weak<Registry>,
    mut tick: impl FnMut(&Registry) -> Result<(), AppError> + Send + 'static,
) {
    let spawned = std::thread::Builder::new().name(name.into()).spawn(move || {
        loop {
            {
                let Some(registry) = registry.upgrade() else { return };
                if let Err(e) = tick(&registry) {
                    tracing::warn!(job = name, error = %e, "job failed; retrying at the next interval");
                }
            }
            // Sleep in short steps so a stopped application ends its jobs promptly.
            let mut slept = Duration::ZERO;
            while slept < every {
                std::thread::sleep(Duration::from_millis(200));
                slept += Duration::from_millis(200);
                if registry.strong_count() == 0 {
                    return;
                }
            }
        }
    });
    if let Err(e) = spawned {
        tracing::error!(job = name, error = %e, "could not start job");
    }
}
