//! The application layer: every action a user can take, written once.
//!
//! Each action is a function taking the [`App`] (free of any HTTP type), the [`Actor`] and
//! typed input, and returning a typed result or the one [`AppError`]. It owns its
//! transactions, its audit row (one vocabulary, [`crate::audit::Action`]), its mail and its
//! after-commit work (registry reload, cache invalidation, provider calls). The JSON API, the
//! pages, the CLI and the jobs are adapters: they parse, call one function here, and render.

pub mod actor;
pub mod auth;
pub mod billing;
pub mod citizen;
pub mod documents;
pub mod drafts;
pub mod einvoices;
pub mod fee_receipts;
pub mod fees;
pub mod index;
pub mod invoices;
pub mod leasing;
pub mod manifests;
pub mod national;
pub mod national_catalog;
pub mod operators;
pub mod payments;
pub mod placement;
pub mod province_admin;
pub mod provisioning;
pub mod reorg;
pub mod reorg_preview;
pub mod results;
pub mod resumable;
pub mod session_handoff;
pub mod staff;
pub mod tenant_import;
pub mod tenants;
pub mod units;
pub mod workspace;

use std::sync::Arc;

pub use actor::Actor;

use crate::config::Settings;
use crate::db::Db;
use crate::error::AppError;
use crate::notify::messages::MailContext;
use crate::tenancy::{Registry, Tenant};

/// What every action can reach: settings, the database doors, the registry, the calendar and
/// the payment providers. Cheap to clone.
#[derive(Clone)]
pub struct App {
    pub settings: Arc<Settings>,
    pub db: Db,
    pub registry: Arc<Registry>,
    /// The working-day calendar, cached.
    pub calendar: Arc<crate::dossiers::deadlines::CalendarCache>,
    /// Takes dossier fees (the citizen's `pay` move).
    pub fees: Arc<dyn crate::payments::FeeProvider>,
    /// Where invoices are paid: offline (bank transfer) or Stripe.
    pub invoices: Arc<dyn crate::billing::provider::InvoiceProvider>,
    /// Where e-invoices are registered (`[einvoice] provider`); `None` when off.
    pub einvoices: Option<Arc<dyn crate::einvoice::provider::EinvoiceProvider>>,
    /// The bound on concurrent password hashing (`auth.hash_concurrency`).
    pub hashing: Arc<crate::accounts::password::HashGate>,
    /// The national identity provider (`oidc.*`), when national sign-in is on.
    pub national: Option<Arc<crate::accounts::national::Provider>>,
    /// Holdings (`identity.citizen_provinces`) already recorded, see `note_holding`.
    pub holdings_seen: Arc<crate::frontdoor::holdings::Seen>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("db", &self.db)
            .field("registry", &self.registry)
            .finish()
    }
}

impl App {
    /// For the command line: the same actions as the server, without its listener and jobs.
    /// The registry is not loaded until an action needs it.
    pub fn for_cli(settings: &Settings) -> Result<App, AppError> {
        crate::billing::provider::install_crypto_provider();
        let db = Db::new(&settings.database);
        Ok(App {
            registry: Registry::new(db.clone(), &settings.server.base_domain),
            invoices: crate::billing::provider::from_settings(&settings.stripe)
                .map_err(|e| AppError::internal(format!("stripe: {e}")))?,
            fees: crate::payments::from_settings(&settings.stripe).map_err(AppError::internal)?,
            einvoices: crate::einvoice::provider::from_settings(
                &settings.einvoice,
                &settings.seller,
            )
            .map_err(AppError::internal)?,
            calendar: Arc::default(),
            hashing: Arc::new(crate::accounts::password::HashGate::new(
                settings.auth.hash_concurrency,
                settings.auth.hash_wait_ms,
            )),
            settings: Arc::new(settings.clone()),
            db,
            national: None,
            holdings_seen: Arc::default(),
        })
    }

    /// The public address of a host of this platform (`<slug>.<base>`, `ops.<base>`).
    pub fn province_url(&self, tenant: &Tenant) -> String {
        let host = format!("{}.{}", tenant.slug, self.registry.base_domain());
        self.settings.url_for_host(&host)
    }

    /// What a dossier move needs besides the connection: the province, its mail context and
    /// the working-day calendar.
    pub async fn move_context(
        &self,
        tenant: Arc<Tenant>,
    ) -> Result<crate::payments::MoveContext, AppError> {
        Ok(crate::payments::MoveContext {
            mail: self.mail_context(&tenant),
            calendar: self.calendar.get(&self.db).await?,
            tenant,
        })
    }

    /// A province's name and site address, for its mails.
    pub fn mail_context(&self, tenant: &Tenant) -> MailContext {
        MailContext {
            province: tenant.name.clone(),
            site_url: self.province_url(tenant),
        }
    }
}
