//! The one way to run blocking work (diesel, password hashing) from async code: on tokio's
//! blocking pool, inside the caller's tracing span, so a line logged there still names its
//! request (request id, site, province) or job.

use crate::error::AppError;

pub async fn run<T, F>(f: F) -> Result<T, AppError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(f))
        .await
        .map_err(|e| AppError::internal(format!("blocking task: {e}")))
}
