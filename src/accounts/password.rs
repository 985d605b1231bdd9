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
/// a hashing thread of lower priority and never while a pooled connection is held. A request that finds every
/// slot taken waits at most `wait`, then gets 429 `too_many_requests` with `Retry-After`: a
/// sign-in flood costs these cores and nothing else, and never queues without end.
#[derive(Debug)]
pub struct HashGate {
    slots: std::sync::Arc<tokio::sync::Semaphore>,
    wait: std::time::Duration,
    /// Jobs for the hashing threads (closed when the gate drops: the threads then end).
    jobs: std::sync::Mutex<std::sync::mpsc::Sender<Job>>,
}

type Job = Box<dyn FnOnce() + Send>;

/// How much lower than the serving threads the hashing threads run (Linux `nice`): when
/// hashes and requests want the same core, the requests win, so a sign-in flood slows
/// sign-ins, not a neighbour province's pages.
const HASHING_NICENESS: i32 = 10;

impl HashGate {
    /// `permits` 0 means every available core but one (at least one): a sign-in flood then
    /// always leaves a core to serve everyone else (with one per core, the national host's
    /// flood took a neighbour province's p99 to ×2.0–2.2 of quiet on 2 cores: BENCHMARKS.md).
    pub fn new(permits: usize, wait_ms: u64) -> HashGate {
        let permits = match permits {
            0 => {
                std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
            }
            n => n,
        };
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        for i in 0..permits {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("hashing-{i}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        // The lock is held only to take the next job, not while running it.
                        let job = match rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password-hashing thread");
            }
        }
        HashGate {
            slots: std::sync::Arc::new(tokio::sync::Semaphore::new(permits)),
            wait: std::time::Duration::from_millis(wait_ms),
            jobs: std::sync::Mutex::new(tx),
        }
    }

    /// Runs `f` (the hashing) on a hashing thread under one slot, in the caller's span.
    pub async fn run<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let permit = tokio::time::timeout(self.wait, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| busy())?
            .map_err(|_| busy())?;
        let (done, result) = tokio::sync::oneshot::channel();
        let span = tracing::Span::current();
        let job: Job = Box::new(move || {
            let _entered = span.enter();
            let _ = done.send(f());
        });
        self.jobs
            .lock()
            .map_err(|_| AppError::internal("the hashing queue is poisoned"))?
            .send(job)
            .map_err(|_| AppError::internal("no password-hashing thread is running"))?;
        let out = result
            .await
            .map_err(|_| AppError::internal("a password-hashing thread stopped"));
        drop(permit);
        out
    }

    /// Takes one slot until the guard drops (tests: a gate with every slot taken).
    pub fn try_hold(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.slots.clone().try_acquire_owned().ok()
    }
}

/// Lowers the calling thread's scheduling priority (Linux: `nice` is per thread). Best
/// effort: where it is refused, hashing runs at normal priority under the same bound.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: plain system calls on the calling thread, no pointers.
        let refused = unsafe {
            let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
            libc::setpriority(libc::PRIO_PROCESS, tid, HASHING_NICENESS) != 0
        };
        if refused {
            tracing::warn!("could not lower the priority of a password-hashing thread");
        }
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
