//! What every request can reach: the application ([`App`], free of HTTP) and what only the
//! HTTP surface needs (token keys, metrics, rate limits, the API-call counter).

use crate::accounts::jwt::Jwt;
use crate::app::App;
use crate::metrics::Metrics;

pub struct AppState {
    pub app: App,
    pub jwt: Jwt,
    pub metrics: Metrics,
    /// Each province's token bucket at its leased rate.
    pub limiter: crate::metering::limiter::RateLimiter,
    /// Per-client buckets: account doors on every site, each client's share of its province.
    pub clients: crate::metering::clients::ClientLimits,
    /// API calls counted in memory until the next flush.
    pub api_calls: crate::metering::api_calls::ApiCallCounter,
    /// Each province's anonymous home page, pre-rendered per language.
    pub home_pages: crate::web::home_pages::HomePages,
}

/// Handlers read the application's parts directly (`state.db`, `state.registry`).
impl std::ops::Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.app
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("app", &self.app).finish()
    }
}
