//! Typed settings: `config/default.toml` (compiled in) < `$PORTAL_CONFIG` < `PORTAL__…` env.

use std::net::SocketAddr;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

const DEFAULTS: &str = include_str!("../config/default.toml");

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    pub log: LogSettings,
    pub mail: MailSettings,
    pub storage: StorageSettings,
    pub jobs: JobSettings,
    pub stripe: StripeSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StripeSettings {
    pub secret_key: Option<SecretString>,
    pub api_base: String,
    pub webhook_secret: Option<SecretString>,
    pub webhook_previous_secret: Option<SecretString>,
    pub webhook_tolerance_secs: i64,
    /// Citizens' dossier fees through Stripe Checkout (needs `secret_key`); else the sandbox.
    pub fee_payments: bool,
    /// How long one call to Stripe may take before it counts as failed (and is retried later
    /// with the same idempotency key).
    pub timeout_secs: u64,
}

impl StripeSettings {
    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.timeout_secs)
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct JobSettings {
    pub enabled: bool,
    pub index_refresh_secs: u64,
    pub overdue_watch_secs: u64,
    pub usage_flush_secs: u64,
    pub usage_sample_secs: u64,
    pub billing_close_grace_hours: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MailSettings {
    /// Empty: write `.eml` files; otherwise an SMTP URL (may hold a password).
    pub smtp_url: SecretString,
    pub from: String,
    pub retry_base_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StorageSettings {
    pub data_dir: std::path::PathBuf,
    pub max_upload_bytes: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub bind: SocketAddr,
    pub base_domain: String,
    pub public_scheme: String,
    pub public_port: String,
    pub workers: usize,
    pub request_head_timeout_secs: u64,
    pub json_limit_bytes: usize,
    /// Largest request body of any kind (the global payload limit).
    pub max_body_bytes: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    pub url: SecretString,
    /// Direct to PostgreSQL (never PgBouncer): LISTEN and the migrator. Empty: `url`.
    pub direct_url: SecretString,
    /// Diesel's prepared-statement cache; off behind PgBouncer < 1.21 (transaction mode).
    pub statement_cache: bool,
    pub pool_size: u32,
    pub acquire_timeout_ms: u64,
    pub statement_timeout_ms: u64,
    pub max_lifetime_secs: u64,
    pub migrate_parallelism: usize,
}

impl DatabaseSettings {
    /// The URL for sessions of our own (LISTEN, session locks): `direct_url`, else `url`.
    pub fn direct(&self) -> &SecretString {
        if self.direct_url.expose_secret().is_empty() {
            &self.url
        } else {
            &self.direct_url
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    /// HMAC key for access tokens. Required by `serve`; `up` makes an ephemeral one if unset.
    pub jwt_secret: Option<SecretString>,
    /// The key before the last rotation: still accepted (never used to sign) until the tokens
    /// and sessions it signed have expired, so a rotation signs nobody out.
    pub jwt_previous_secret: Option<SecretString>,
    pub token_ttl_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    pub format: String,
}

/// A configuration problem, printed as one line naming the key.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(pub String);

impl Settings {
    /// Loads settings from the compiled-in defaults, `$PORTAL_CONFIG` and the environment.
    pub fn load() -> Result<Settings, ConfigError> {
        let mut builder = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml));
        if let Ok(path) = std::env::var("PORTAL_CONFIG") {
            builder = builder.add_source(config::File::with_name(&path).required(true));
        }
        builder = builder.add_source(
            config::Environment::with_prefix("PORTAL")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true),
        );
        if let Ok(url) = std::env::var("DATABASE_URL") {
            builder = builder
                .set_override("database.url", url)
                .map_err(|e| ConfigError(e.to_string()))?;
        }
        let settings: Settings = builder
            .build()
            .and_then(|c| c.try_deserialize())
            .map_err(|e| ConfigError(e.to_string()))?;
        settings.check()?;
        Ok(settings)
    }

    fn check(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, why: &str| Err(ConfigError(format!("{key}: {why}")));
        let base = &self.server.base_domain;
        if base.is_empty()
            || base != &base.to_ascii_lowercase()
            || !base
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        {
            return bad(
                "server.base_domain",
                "must be a lower-case host name such as `localhost` or `dichvucong.gov.vn`",
            );
        }
        if !matches!(self.server.public_scheme.as_str(), "http" | "https") {
            return bad("server.public_scheme", "must be `http` or `https`");
        }
        if !self.server.public_port.is_empty() && self.server.public_port.parse::<u16>().is_err() {
            return bad("server.public_port", "must be empty or a port number");
        }
        if self.database.pool_size == 0 {
            return bad("database.pool_size", "must be at least 1");
        }
        if self.database.migrate_parallelism == 0 {
            return bad("database.migrate_parallelism", "must be at least 1");
        }
        let url = self.database.url.expose_secret();
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return bad(
                "database.url",
                "must start with postgres:// (set DATABASE_URL or PORTAL__DATABASE__URL)",
            );
        }
        let direct = self.database.direct_url.expose_secret();
        if !(direct.is_empty()
            || direct.starts_with("postgres://")
            || direct.starts_with("postgresql://"))
        {
            return bad(
                "database.direct_url",
                "must be empty or start with postgres:// (PORTAL__DATABASE__DIRECT_URL)",
            );
        }
        if let Some(secret) = &self.auth.jwt_secret
            && secret.expose_secret().len() < 32
        {
            return bad("auth.jwt_secret", "must be at least 32 characters");
        }
        if let Some(secret) = &self.auth.jwt_previous_secret
            && !secret.expose_secret().is_empty()
            && secret.expose_secret().len() < 32
        {
            return bad(
                "auth.jwt_previous_secret",
                "must be empty or at least 32 characters",
            );
        }
        if self.mail.from.parse::<lettre::message::Mailbox>().is_err() {
            return bad(
                "mail.from",
                "must be a mailbox such as `Portal <no-reply@example.vn>`",
            );
        }
        let smtp = self.mail.smtp_url.expose_secret();
        if !(smtp.is_empty() || smtp.starts_with("smtp://") || smtp.starts_with("smtps://")) {
            return bad(
                "mail.smtp_url",
                "must be empty or start with smtp:// or smtps://",
            );
        }
        if [
            self.jobs.index_refresh_secs,
            self.jobs.overdue_watch_secs,
            self.jobs.usage_flush_secs,
            self.jobs.usage_sample_secs,
        ]
        .contains(&0)
        {
            return bad("jobs", "intervals must be at least 1 second");
        }
        if self.stripe.timeout_secs == 0 {
            return bad("stripe.timeout_secs", "must be at least 1 second");
        }
        if self.server.max_body_bytes == 0 {
            return bad("server.max_body_bytes", "must be at least 1");
        }
        if self.storage.max_upload_bytes == 0 {
            return bad("storage.max_upload_bytes", "must be at least 1");
        }
        if !matches!(self.log.format.as_str(), "text" | "json") {
            return bad("log.format", "must be `text` or `json`");
        }
        Ok(())
    }

    /// Absolute URL of a site host, e.g. `http://ha-noi.localhost:8080`.
    pub fn url_for_host(&self, host: &str) -> String {
        let port = &self.server.public_port;
        let default_port = matches!(
            (self.server.public_scheme.as_str(), port.as_str()),
            ("http", "80") | ("https", "443") | (_, "")
        );
        if default_port {
            format!("{}://{host}", self.server.public_scheme)
        } else {
            format!("{}://{host}:{port}", self.server.public_scheme)
        }
    }
}
