//! Builds the running application; `main` and the tests both use it.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::web;
use secrecy::SecretString;

use crate::accounts::jwt::Jwt;
use crate::config::Settings;
use crate::db::Db;
use crate::metrics::Metrics;
use crate::notify::mailer::LettreMailer;
use crate::notify::worker::MailWorker;
use crate::tenancy::Registry;
use crate::web::AppState;

pub struct Application {
    port: u16,
    state: web::Data<AppState>,
    server: Server,
    /// `server.metrics_bind`: its port and its server (`/metrics` only).
    metrics: Option<(u16, Server)>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("configuration error: auth.jwt_secret: not set (PORTAL__AUTH__JWT_SECRET)")]
    NoJwtSecret,
    #[error("mail: {0}")]
    Mail(String),
    #[error("stripe: {0}")]
    Stripe(String),
    #[error("configuration error: {0}")]
    Oidc(String),
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
}

/// The background jobs of this replica; each takes its advisory lock per run.
fn spawn_jobs(state: &web::Data<AppState>) {
    if !state.settings.jobs.enabled {
        return;
    }
    let registry = Arc::downgrade(&state.registry);
    let jobs = &state.settings.jobs;
    let db = state.db.clone();
    let mut backfilled = false;
    let mut seen = crate::index::job::Seen::default();
    crate::jobs::every(
        "index-refresh",
        Duration::from_secs(jobs.index_refresh_secs),
        registry.clone(),
        move |reg| {
            // The first run of a process fills the last 12 months (trend pages need them).
            if crate::index::job::run_once(&db, reg, !backfilled, &mut seen)?.is_some() {
                backfilled = true;
            }
            Ok(())
        },
    );
    let st = state.clone();
    crate::jobs::every(
        "usage-flush",
        Duration::from_secs(jobs.usage_flush_secs),
        registry.clone(),
        move |reg| st.api_calls.flush(&st.db, reg).map(|_| ()),
    );
    let db = state.db.clone();
    crate::jobs::every(
        "usage-sampling",
        Duration::from_secs(jobs.usage_sample_secs),
        registry.clone(),
        move |reg| crate::metering::sampling::run_once(&db, reg).map(|_| ()),
    );
    let db = state.db.clone();
    let grace = jobs.billing_close_grace_hours;
    let invoices = state.invoices.clone();
    // Its own small runtime: the job thread calls the provider (async) between blocking steps.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| tracing::error!(error = %e, "no runtime for pushing invoices"))
        .ok();
    crate::jobs::every(
        "billing-close",
        Duration::from_secs(600),
        registry.clone(),
        move |_| {
            crate::jobs::billing::close_due(&db, grace, crate::clock::now())?;
            let Some(runtime) = &runtime else {
                return Ok(());
            };
            crate::jobs::billing::push_due(&db, invoices.as_ref(), runtime).map(|_| ())
        },
    );
    let app = state.app.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| tracing::error!(error = %e, "no runtime for issuing e-invoices"))
        .ok();
    crate::jobs::every(
        "einvoice-issue",
        Duration::from_secs(600),
        registry.clone(),
        move |_| {
            let Some(runtime) = &runtime else {
                return Ok(());
            };
            crate::jobs::einvoices::issue_due(&app, runtime, crate::clock::today_vn()).map(|_| ())
        },
    );
    let db = state.db.clone();
    let app = state.app.clone();
    crate::jobs::every(
        "plan-refresh",
        Duration::from_secs(jobs.plan_refresh_secs),
        registry.clone(),
        move |reg| {
            let today = crate::clock::today_vn();
            crate::jobs::plans::run_once(&db, reg, today)?;
            crate::jobs::plans::suspend_lapsed(&app, today).map(|_| ())
        },
    );
    let db = state.db.clone();
    // Abandoned resumable uploads (docs/uploads.md); idempotent, so no lock.
    crate::jobs::every(
        "upload-sweep",
        Duration::from_secs(3600),
        registry.clone(),
        move |reg| crate::app::resumable::sweep(&db, reg, crate::clock::now()).map(|_| ()),
    );
    let db = state.db.clone();
    crate::jobs::every(
        "overdue-watch",
        Duration::from_secs(jobs.overdue_watch_secs),
        registry,
        move |reg| {
            let cal = db.control(crate::calendar::load)?;
            crate::jobs::overdue::run_once(&db, reg, &cal, crate::clock::today_vn())?;
            Ok(())
        },
    );
}

impl Application {
    /// Binds, loads the registry (the server starts even if the database is away; requests
    /// then get 503 until it returns) and starts serving.
    pub fn build(settings: Settings) -> Result<Application, StartError> {
        if let Some(day) = crate::clock::pinned() {
            tracing::warn!(%day, "the calendar clock is pinned by {}: tests only", crate::clock::PIN_VAR);
        }
        let addr = settings.server.bind;
        let listener =
            TcpListener::bind(addr).map_err(|source| StartError::Bind { addr, source })?;
        let port = listener.local_addr()?.port();
        let secret: SecretString = settings
            .auth
            .jwt_secret
            .clone()
            .ok_or(StartError::NoJwtSecret)?;
        let db = Db::new(&settings.database).on_citus(settings.citus.enabled());
        db.start_notifier();
        let registry = Registry::new(db.clone(), &settings.server.base_domain);
        if let Err(e) = registry.reload() {
            tracing::warn!(error = %e, "registry not loaded yet; the listener will retry");
        }
        registry.spawn_listener(settings.database.direct().clone());
        registry.spawn_reloader(Duration::from_millis(settings.database.registry_reload_ms));
        let mailer = LettreMailer::from_settings(&settings).map_err(StartError::Mail)?;
        // A background job like the others: a replica with `jobs.enabled = false` sends no mail
        // (unless `jobs.mail_worker` says otherwise).
        if settings.jobs.mail_worker() {
            MailWorker {
                db: db.clone(),
                registry: Arc::downgrade(&registry),
                mailer: Arc::new(mailer),
                listen_url: settings.database.direct().clone(),
                retry_base_ms: settings.mail.retry_base_ms,
                max_attempts: settings.mail.max_attempts,
                claim_ms: settings.mail.claim_ms,
                on_sent: crate::metering::count_sent_mail,
            }
            .spawn();
        } else {
            tracing::info!("jobs.enabled = false: no mail worker on this replica");
        }
        // One TLS crypto provider for the process (ring, as lettre uses), before any client.
        crate::billing::provider::install_crypto_provider();
        let invoices = crate::billing::provider::from_settings(&settings.stripe)
            .map_err(|e| StartError::Stripe(e.to_string()))?;
        let fees = crate::payments::from_settings(&settings.stripe).map_err(StartError::Stripe)?;
        let einvoices =
            crate::einvoice::provider::from_settings(&settings.einvoice, &settings.seller)
                .map_err(StartError::Oidc)?;
        let clients = crate::metering::clients::ClientLimits::new(&settings.limits);
        let national = crate::accounts::national::Provider::from_settings(&settings.oidc)
            .map_err(StartError::Oidc)?
            .map(Arc::new);
        let state = web::Data::new(AppState {
            jwt: Jwt::new(&secret, settings.auth.token_ttl_secs)
                .with_previous(settings.auth.jwt_previous_secret.as_ref()),
            app: crate::app::App {
                invoices,
                einvoices,
                hashing: Arc::new(crate::accounts::password::HashGate::new(
                    settings.auth.hash_concurrency,
                    settings.auth.hash_wait_ms,
                )),
                settings: Arc::new(settings),
                db,
                registry,
                fees,
                calendar: Default::default(),
                national,
                holdings_seen: Default::default(),
            },
            metrics: Metrics::default(),
            limiter: Default::default(),
            clients,
            api_calls: Default::default(),
            home_pages: Default::default(),
        });
        spawn_jobs(&state);
        let metrics = match state.settings.server.metrics_bind {
            Some(addr) => {
                let l =
                    TcpListener::bind(addr).map_err(|source| StartError::Bind { addr, source })?;
                let port = l.local_addr()?.port();
                Some((port, crate::web::serve_metrics(state.clone(), l)?))
            }
            None => None,
        };
        let server = crate::web::serve(state.clone(), listener)?;
        Ok(Application {
            port,
            metrics,
            state,
            server,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the metrics listener (`server.metrics_bind`), if there is one.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(p, _)| *p)
    }

    pub fn state(&self) -> Arc<AppState> {
        self.state.clone().into_inner()
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM/SIGINT, then drains in-flight requests (graceful shutdown) and
    /// flushes the API calls counted since the last flush, so a graceful stop loses none.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let metrics = self.metrics.map(|(_, server)| {
            let handle = server.handle();
            tokio::spawn(server);
            handle
        });
        let result = self.server.await;
        if let Some(handle) = metrics {
            handle.stop(true).await;
        }
        let state = self.state.clone();
        let flushed =
            actix_web::web::block(move || state.api_calls.flush(&state.db, &state.registry)).await;
        match flushed {
            Ok(Ok(n)) => tracing::info!(calls = n, "final usage flush"),
            Ok(Err(e)) => tracing::error!(error = %e, "final usage flush failed"),
            Err(e) => tracing::error!(error = %e, "final usage flush did not run"),
        }
        result
    }
}
