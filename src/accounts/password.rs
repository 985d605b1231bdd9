//! Password hashing with argon2id (PHC strings).

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use crate::error::AppError;
use crate::lang::Msg;

pub fn hash(password: &str) -> Result<String, AppError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(format!("argon2: {e}")))
}

/// True when `password` matches `phc`. A malformed stored hash counts as a mismatch.
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Spends the time of one verification when the account does not exist, so sign-in timing
/// does not tell who has an account.
pub fn verify_dummy(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let phc =
        DUMMY.get_or_init(|| hash("not a real password, only for timing").unwrap_or_default());
    let _ = verify(password, phc);
}

/// The process's bound on password hashing (#15.3): at most `permits` hashes at once, each on
/// the blocking pool and never while a pooled connection is held. A request that finds every
/// slot taken waits at most `wait`, then gets 429 `too_many_requests` with `Retry-After`: a
/// sign-in flood costs these cores and nothing else, and never queues without end.
#[derive(Debug)]
pub struct HashGate {
    slots: std::sync::Arc<tokio::sync::Semaphore>,
    wait: std::time::Duration,
}

impl HashGate {
    /// `permits` 0 means one per available core.
    pub fn new(permits: usize, wait_ms: u64) -> HashGate {
        let permits = match permits {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        };
        HashGate {
            slots: std::sync::Arc::new(tokio::sync::Semaphore::new(permits)),
            wait: std::time::Duration::from_millis(wait_ms),
        }
    }

    /// Runs `f` (the hashing) on the blocking pool under one slot.
    pub async fn run<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let permit = tokio::time::timeout(self.wait, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| busy())?
            .map_err(|_| busy())?;
        let out = crate::blocking::run(f).await;
        drop(permit);
        out
    }

    /// Takes one slot until the guard drops (tests: a gate with every slot taken).
    pub fn try_hold(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.slots.clone().try_acquire_owned().ok()
    }
}

fn busy() -> AppError {
    AppError::TooMany {
        code: "too_many_requests",
        msg: Msg::new(
            "Hệ thống đang bận xử lý đăng nhập. Vui lòng thử lại sau giây lát.",
            "Too many sign-ins are being checked right now. Please try again in a moment.",
        ),
        retry_after_secs: 1,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip() {
        let h = super::hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(super::verify("correct horse battery", &h));
        assert!(!super::verify("wrong", &h));
        assert!(!super::verify("x", "not a hash"));
    }
}
