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
    #[serde(default)]
    pub export: ExportSettings,
    pub limits: LimitsSettings,
    pub tracking: TrackingSettings,
    pub subscriptions: SubscriptionSettings,
    pub index: IndexSettings,
    #[serde(default)]
    pub oidc: OidcSettings,
    #[serde(default)]
    pub citus: CitusSettings,
    pub einvoice: EinvoiceSettings,
    #[serde(default)]
    pub seller: SellerSettings,
}

/// Legal e-invoices (`[einvoice]`, docs/einvoice.md): the series and the provider that signs
/// and registers them (the seller is `[seller]`).
#[derive(Debug, Clone, Deserialize)]
pub struct EinvoiceSettings {
    /// `mock` (in-process: numbers and lookup codes made up, for development), `viettel`
    /// (Viettel S-Invoice's JSON API at `api_base`), or `off` (nothing is issued).
    pub provider: String,
    /// The issuer's two characters closing the series (`C26TPO` → `PO`).
    pub series_suffix: String,
    /// The provider's template code (Viettel `templateCode`), e.g. `1/001`.
    pub template_code: String,
    /// `HTTToan`, e.g. "Chuyển khoản".
    pub payment_method: String,
    /// The provider's own tax code (`MSTTCGP`).
    pub provider_tax_code: String,
    /// Issue the previous month's invoices up to this day of the month (the law's 7th).
    pub issue_by_day: u32,
    pub api_base: String,
    pub username: String,
    pub password: Option<SecretString>,
    pub timeout_secs: u64,
    /// Viettel S-Invoice paths under `api_base`; `{tax_code}` is the seller's tax code.
    pub create_path: String,
    pub search_path: String,
    pub pdf_path: String,
}

impl EinvoiceSettings {
    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.timeout_secs)
    }
}

/// The operator as the seller on its invoices (the printable invoice; the e-invoice's seller).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SellerSettings {
    pub name: String,
    pub tax_code: String,
    pub address: String,
    pub bank_account: String,
    pub bank_name: String,
}

/// Running on a Citus coordinator (docs/scaling.md, section 3): `up` and `migrate` prepare the
/// database (extension, worker registration) when workers are listed. Empty: plain PostgreSQL.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CitusSettings {
    /// The workers, `host:port` each: a list in a file, or comma-separated in
    /// `PORTAL__CITUS__WORKERS`.
    #[serde(deserialize_with = "list_or_commas")]
    pub workers: Vec<String>,
    /// How the workers reach the coordinator, `host:port`; empty: the database URL's.
    pub coordinator: String,
}

impl CitusSettings {
    pub fn enabled(&self) -> bool {
        !self.workers.is_empty()
    }
}

fn list_or_commas<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        List(Vec<String>),
        Text(String),
    }
    let items = match Either::deserialize(d)? {
        Either::List(l) => l,
        Either::Text(t) => t.split(',').map(str::to_string).collect(),
    };
    Ok(items
        .into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect())
}

/// National sign-in (OpenID Connect relying party, #17.1): on when issuer, client id and
/// secret are all set (`PORTAL__OIDC__ISSUER`, `__CLIENT_ID`, `__CLIENT_SECRET`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct OidcSettings {
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
    /// How far the provider's clock may be off ours when checking `exp` and `iat`.
    pub clock_skew_secs: u64,
    /// Each call to the provider (discovery, keys, token) gives up after this long.
    pub timeout_secs: u64,
    /// How long a started sign-in may take at the provider before its return is refused.
    pub flow_ttl_secs: i64,
}

impl Default for OidcSettings {
    fn default() -> Self {
        OidcSettings {
            issuer: None,
            client_id: None,
            client_secret: None,
            clock_skew_secs: 60,
            timeout_secs: 5,
            flow_ttl_secs: 600,
        }
    }
}

impl OidcSettings {
    /// Issuer, client id and secret when all three are set and not empty.
    pub fn enabled(&self) -> Option<(&str, &str, &SecretString)> {
        match (&self.issuer, &self.client_id, &self.client_secret) {
            (Some(i), Some(c), Some(s))
                if !i.is_empty() && !c.is_empty() && !s.expose_secret().is_empty() =>
            {
                Some((i, c, s))
            }
            _ => None,
        }
    }
}

/// The evaluation index (docs/index.md).
#[derive(Debug, Clone, Deserialize)]
pub struct IndexSettings {
    /// A unit inside a province with fewer decided dossiers in the month gets no score and no
    /// rank ("not enough data"); its rates are still shown.
    pub min_decided: u32,
}

/// `portal tenant export|import`: files are signed with an operator key (HMAC-SHA256).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ExportSettings {
    /// Secret; only from the environment (`PORTAL__EXPORT__SIGNING_KEY`) or a mounted file.
    /// Required by export and import (a clear error when missing), at least 32 characters.
    pub signing_key: Option<SecretString>,
}

/// Limits on one client (an address) and one account, inside the province's leased rate.
#[derive(Debug, Clone, Deserialize)]
pub struct LimitsSettings {
    /// Every per-client and per-account limit below; off for a deployment whose gateway
    /// limits clients itself, and for benchmarks and functional tests from one address.
    pub enabled: bool,
    /// Proxies (addresses or CIDR blocks, comma-separated) whose `X-Forwarded-For` names the
    /// client; empty: the connection's peer is the client.
    pub trusted_proxies: String,
    /// Clients each limiter remembers at most; the least recently seen go first.
    pub max_clients: usize,
    /// Sign-in, registration, invitation and password links, subscription requests.
    pub account_burst: u32,
    pub account_per_minute: u32,
    /// A client's bucket inside its province's, in percent of the plan's rate and burst.
    pub client_share_percent: u32,
    /// Dossiers one citizen files online in one province.
    pub submissions_per_hour: u32,
    pub submissions_per_day: u32,
    /// Dossiers of one procedure one citizen may have open (not yet finished) at once.
    pub open_per_procedure: u32,
}

/// Anonymous tracking lookups: failures allowed per code and per client within a window.
#[derive(Debug, Clone, Deserialize)]
pub struct TrackingSettings {
    pub failures_per_code: i64,
    pub failures_per_client: i64,
    pub failure_window_secs: i64,
    /// Every lookup answers no sooner than this.
    pub answer_floor_ms: u64,
}

/// Subscription requests: verification, the slug hold, the caps on unverified requests, the
/// operator's page size.
#[derive(Debug, Clone, Deserialize)]
pub struct SubscriptionSettings {
    pub verify_ttl_secs: i64,
    pub hold_days: i64,
    pub unverified_per_email: i64,
    pub unverified_per_client_per_hour: i64,
    pub page_size: i64,
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
    /// Without Stripe fees: whether the sandbox confirms each fee at once (demos, pilots;
    /// `portal up --demo` turns it on). Off: the `pay` move says how to pay at the desk.
    pub sandbox_confirms_fees: bool,
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
    /// How often each replica checks that every province's current plan is the lease in
    /// force today (a lease dated in the future takes effect on its day), and that no
    /// province is served after its ended lease's last day.
    pub plan_refresh_secs: u64,
    /// Run the mail worker on this replica; unset: it follows `enabled` like every job.
    #[serde(default)]
    pub mail_worker: Option<bool>,
}

impl JobSettings {
    /// Whether this replica drains the outboxes.
    pub fn mail_worker(&self) -> bool {
        self.mail_worker.unwrap_or(self.enabled)
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct MailSettings {
    /// Empty: write `.eml` files; otherwise an SMTP URL (may hold a password).
    pub smtp_url: SecretString,
    pub from: String,
    pub retry_base_ms: u64,
    /// Attempts at most per mail; then it is marked failed (kept, with its last error).
    pub max_attempts: u32,
    /// One SMTP conversation may take this long.
    pub smtp_timeout_ms: u64,
    /// A worker's claim on a mail; renewed before each send, longer than `smtp_timeout_ms`.
    pub claim_ms: u64,
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
    /// A request's body must arrive whole within this long after its head (slow POST guard).
    pub request_body_timeout_secs: u64,
    pub json_limit_bytes: usize,
    /// Bearer token of the scraper for `GET /metrics` on the operator host (a signed-in
    /// operator's token works too); unset: only operators' tokens.
    #[serde(default)]
    pub metrics_token: Option<SecretString>,
    /// A separate listener that serves `GET /metrics` only, on any host and without a token
    /// (bind it to a private address or a pod port no Service exposes); unset: none.
    #[serde(default)]
    pub metrics_bind: Option<SocketAddr>,
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
    /// The registry is read again this often whatever the LISTEN connection says, so a
    /// stalled listener leaves a change (a suspension) unseen for this long at most.
    pub registry_reload_ms: u64,
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
    /// Password hashes computed or verified at once in this process (0: every core but one, at least one). Beyond
    /// it a sign-in waits at most `hash_wait_ms`, then answers 429 with `Retry-After`.
    #[serde(default)]
    pub hash_concurrency: usize,
    #[serde(default = "default_hash_wait_ms")]
    pub hash_wait_ms: u64,
    /// Citizens may sign in with a password (accounts without a national identity); `false`
    /// leaves national sign-in only. Staff and operators always use their passwords.
    #[serde(default = "default_true")]
    pub citizen_password_sign_in: bool,
}

fn default_true() -> bool {
    true
}

fn default_hash_wait_ms() -> u64 {
    1000
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
        for w in &self.citus.workers {
            if let Err(why) = crate::db::citus::Node::parse(w) {
                return bad("citus.workers", &why);
            }
        }
        if !self.citus.coordinator.is_empty()
            && let Err(why) = crate::db::citus::Node::parse(&self.citus.coordinator)
        {
            return bad("citus.coordinator", &why);
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
            self.jobs.plan_refresh_secs,
        ]
        .contains(&0)
        {
            return bad("jobs", "intervals must be at least 1 second");
        }
        if self.mail.max_attempts == 0 {
            return bad("mail.max_attempts", "must be at least 1");
        }
        if self.mail.smtp_timeout_ms == 0 || self.mail.claim_ms <= self.mail.smtp_timeout_ms {
            return bad(
                "mail.claim_ms",
                "must be longer than mail.smtp_timeout_ms (a claim outlives one SMTP conversation)",
            );
        }
        if self.database.registry_reload_ms < 100 {
            return bad("database.registry_reload_ms", "must be at least 100");
        }
        if let Some(t) = &self.server.metrics_token
            && t.expose_secret().len() < 16
        {
            return bad("server.metrics_token", "must be at least 16 characters");
        }
        if let Some(k) = &self.export.signing_key
            && k.expose_secret().len() < 32
        {
            return bad("export.signing_key", "must be at least 32 characters");
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
        if self.server.request_body_timeout_secs == 0 {
            return bad(
                "server.request_body_timeout_secs",
                "must be at least 1 second",
            );
        }
        if let Err(e) = crate::net::parse_proxies(&self.limits.trusted_proxies) {
            return bad("limits.trusted_proxies", &e);
        }
        let l = &self.limits;
        if l.max_clients == 0
            || l.account_burst == 0
            || l.account_per_minute == 0
            || !(1..=100).contains(&l.client_share_percent)
            || l.submissions_per_hour == 0
            || l.submissions_per_day == 0
            || l.open_per_procedure == 0
        {
            return bad(
                "limits",
                "counts must be at least 1 and client_share_percent between 1 and 100",
            );
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
