//! What every request can reach: settings, the database doors, the registry, the token keys.

use std::sync::Arc;

use crate::accounts::jwt::Jwt;
use crate::config::Settings;
use crate::db::Db;
use crate::metrics::Metrics;
use crate::tenancy::Registry;

pub struct AppState {
    pub settings: Settings,
    pub db: Db,
    pub registry: Arc<Registry>,
    pub jwt: Jwt,
    pub metrics: Metrics,
    /// Each province's token bucket at its leased rate.
    pub limiter: crate::metering::limiter::RateLimiter,
    /// API calls counted in memory until the next flush.
    pub api_calls: crate::metering::api_calls::ApiCallCounter,
    /// The working-day calendar, cached.
    pub calendar: crate::dossiers::deadlines::CalendarCache,
    /// Takes dossier fees (the citizen's `pay` move).
    pub fees: std::sync::Arc<dyn crate::payments::FeeProvider>,
    /// Where invoices are paid: offline (bank transfer) or Stripe.
    pub invoices: std::sync::Arc<dyn crate::billing::provider::InvoiceProvider>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("db", &self.db)
            .field("registry", &self.registry)
            .finish()
    }
}
