//! Prometheus metrics for `/metrics`. Labels are bounded: site kind and status class only.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub site: &'static str,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SiteLabel {
    pub site: &'static str,
}

pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub latency: Family<SiteLabel, Histogram>,
    pub pool_in_use: Gauge,
    pub pool_idle: Gauge,
    pub tenants: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::with_prefix("portal");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<SiteLabel, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        let pool_in_use = Gauge::default();
        let pool_idle = Gauge::default();
        let tenants = Gauge::default();
        registry.register(
            "http_requests",
            "HTTP requests by site and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by site",
            latency.clone(),
        );
        registry.register(
            "db_pool_in_use",
            "Pooled connections in use",
            pool_in_use.clone(),
        );
        registry.register("db_pool_idle", "Pooled connections idle", pool_idle.clone());
        registry.register("tenants", "Tenants known to this replica", tenants.clone());
        Metrics {
            registry,
            requests,
            latency,
            pool_in_use,
            pool_idle,
            tenants,
        }
    }
}

impl Metrics {
    pub fn observe(&self, site: &'static str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels { site, status })
            .inc();
        self.latency
            .get_or_create(&SiteLabel { site })
            .observe(seconds);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
