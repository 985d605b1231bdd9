//! What every request can reach: settings, the database doors, the registry, the token keys.

use std::sync::Arc;

use crate::accounts::jwt::Jwt;
use crate::config::Settings;
use crate::db::Db;
use crate::metrics::Metrics;
use crate::tenancy::Registry;

#[derive(Debug)]
pub struct AppState {
    pub settings: Settings,
    pub db: Db,
    pub registry: Arc<Registry>,
    pub jwt: Jwt,
    pub metrics: Metrics,
}
