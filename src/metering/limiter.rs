//! Fair sharing: each province's requests pass a token bucket at its leased rate, so one
//! province's rush never takes another's share.
//!
//! Hand-written rather than `governor`: each province has its own rate, which changes when its
//! lease does, while governor's keyed limiter shares one quota between all keys.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::tenancy::TenantId;

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<TenantId, Bucket>>,
}

impl RateLimiter {
    /// Takes one token; `Err(wait)` when the bucket is empty.
    pub fn admit(&self, tenant: TenantId, rate_per_sec: f64, burst: f64) -> Result<(), Duration> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let b = buckets.entry(tenant).or_insert(Bucket {
            tokens: burst,
            last: now,
        });
        let elapsed = now.duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + elapsed * rate_per_sec).min(burst);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - b.tokens) / rate_per_sec.max(0.001),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_rate_holds() {
        let l = RateLimiter::default();
        let a = TenantId(uuid::Uuid::new_v4());
        let b = TenantId(uuid::Uuid::new_v4());
        for _ in 0..5 {
            assert!(l.admit(a, 1.0, 5.0).is_ok());
        }
        let wait = l.admit(a, 1.0, 5.0).unwrap_err();
        assert!(wait > Duration::from_millis(500) && wait <= Duration::from_secs(1));
        // Another province is untouched.
        assert!(l.admit(b, 1.0, 5.0).is_ok());
    }
}
