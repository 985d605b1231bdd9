//! What each CLI command does; `main.rs` only parses arguments and calls these.

pub mod billing;
pub mod calendar;
pub mod demo;
pub mod index;
pub mod migrate;
pub mod operator;
pub mod reorg;
pub mod tenant;
pub mod up;
pub mod user;

use std::process::ExitCode;

/// A command's failure: the message to print and the exit code.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub code: u8,
}

impl Failure {
    pub fn new(code: u8, message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            code,
        }
    }
}

impl From<crate::config::ConfigError> for Failure {
    fn from(e: crate::config::ConfigError) -> Failure {
        Failure::new(2, e.to_string())
    }
}

impl From<crate::error::AppError> for Failure {
    fn from(e: crate::error::AppError) -> Failure {
        let detail = match &e {
            crate::error::AppError::Invalid(fields) => fields
                .iter()
                .map(|(k, v)| format!("{k}: {}", v.en))
                .collect::<Vec<_>>()
                .join("; "),
            crate::error::AppError::Internal(r) | crate::error::AppError::Unavailable(r) => {
                r.clone()
            }
            other => other.message().en.to_string(),
        };
        Failure::new(1, format!("error: {detail}"))
    }
}

pub type Outcome = Result<(), Failure>;

/// Prints the failure (one line, no backtrace) and maps it to the exit code.
pub fn finish(outcome: Outcome) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("{}", f.message);
            ExitCode::from(f.code)
        }
    }
}

/// Who the audit log names for a command-line change.
pub fn cli_actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    )
}

/// Starts the tracing subscriber: text or JSON per `log.format`, level from RUST_LOG.
pub fn init_tracing(format: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let _ = if format == "json" {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}
