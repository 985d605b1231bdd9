//! Prometheus metrics for `/metrics`. Labels are bounded: site kind, status, and provinces up
//! to [`PROVINCE_LABELS`] (the registry bounds them; any beyond share the label `other`).

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Distinct province labels at most; a country has a few dozen provinces.
pub const PROVINCE_LABELS: usize = 100;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub site: &'static str,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SiteLabel {
    pub site: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ProvinceLabels {
    pub province: String,
    /// `2xx`, `3xx`, `4xx` or `5xx`.
    pub class: &'static str,
}

pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub latency: Family<SiteLabel, Histogram>,
    pub province_requests: Family<ProvinceLabels, Counter>,
    province_names: Mutex<HashSet<String>>,
    province_limit: usize,
    pub pool_in_use: Gauge,
    pub pool_idle: Gauge,
    pub pool_waiting: Gauge,
    pub pool_max: Gauge,
    pub pool_timeouts: Counter,
    pub tenants: Gauge,
    pub outbox_unsent: Gauge,
    pub outbox_failed: Gauge,
    pub outbox_oldest_age: Gauge<f64, AtomicU64>,
    pub usage_unflushed: Gauge,
    pub usage_flush_lag: Gauge<f64, AtomicU64>,
    /// When the outbox gauges were last read from the database (they cost a query per
    /// province, so scrapes refresh them at most every few seconds).
    pub outbox_read_at: Mutex<Option<std::time::Instant>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::with_province_limit(PROVINCE_LABELS)
    }
}

impl Metrics {
    pub fn with_province_limit(province_limit: usize) -> Metrics {
        let mut registry = Registry::with_prefix("portal");
        let m = Metrics {
            requests: Family::default(),
            latency: Family::new_with_constructor(|| {
                Histogram::new(exponential_buckets(0.0005, 2.0, 16))
            }),
            province_requests: Family::default(),
            province_names: Mutex::default(),
            province_limit,
            pool_in_use: Gauge::default(),
            pool_idle: Gauge::default(),
            pool_waiting: Gauge::default(),
            pool_max: Gauge::default(),
            pool_timeouts: Counter::default(),
            tenants: Gauge::default(),
            outbox_unsent: Gauge::default(),
            outbox_failed: Gauge::default(),
            outbox_oldest_age: Gauge::default(),
            usage_unflushed: Gauge::default(),
            usage_flush_lag: Gauge::default(),
            outbox_read_at: Mutex::default(),
            registry: Registry::default(),
        };
        registry.register(
            "http_requests",
            "HTTP requests by site and status",
            m.requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by site",
            m.latency.clone(),
        );
        registry.register(
            "province_http_requests",
            "HTTP requests per province and status class (provinces beyond the label limit count as `other`)",
            m.province_requests.clone(),
        );
        registry.register(
            "db_pool_in_use",
            "Pooled connections in use",
            m.pool_in_use.clone(),
        );
        registry.register(
            "db_pool_idle",
            "Pooled connections idle",
            m.pool_idle.clone(),
        );
        registry.register(
            "db_pool_waiting",
            "Threads waiting for a pooled connection",
            m.pool_waiting.clone(),
        );
        registry.register("db_pool_max", "Pool size", m.pool_max.clone());
        registry.register(
            "db_pool_timeouts",
            "Checkouts that gave up waiting (answered 503)",
            m.pool_timeouts.clone(),
        );
        registry.register(
            "tenants",
            "Tenants known to this replica",
            m.tenants.clone(),
        );
        registry.register(
            "outbox_unsent",
            "Mails not sent yet, national and every province's",
            m.outbox_unsent.clone(),
        );
        registry.register(
            "outbox_failed",
            "Mails given up after their last attempt (or imported unsent): never sent by themselves",
            m.outbox_failed.clone(),
        );
        registry.register(
            "outbox_oldest_unsent_age_seconds",
            "Age of the oldest unsent mail (0 when none)",
            m.outbox_oldest_age.clone(),
        );
        registry.register(
            "usage_unflushed_api_calls",
            "API calls counted by this replica and not yet written as usage",
            m.usage_unflushed.clone(),
        );
        registry.register(
            "usage_flush_lag_seconds",
            "Time since this replica last wrote every API call it counted",
            m.usage_flush_lag.clone(),
        );
        Metrics { registry, ..m }
    }

    pub fn observe(&self, site: &'static str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels { site, status })
            .inc();
        self.latency
            .get_or_create(&SiteLabel { site })
            .observe(seconds);
    }

    /// Counts a request of a province under its slug, or `other` past the label limit.
    pub fn observe_province(&self, slug: &str, status: u16) {
        let province = {
            let mut names = self
                .province_names
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if names.contains(slug) || names.len() < self.province_limit {
                names.insert(slug.to_string());
                slug.to_string()
            } else {
                "other".to_string()
            }
        };
        let class = match status {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        self.province_requests
            .get_or_create(&ProvinceLabels { province, class })
            .inc();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provinces_past_the_label_limit_share_the_label_other() {
        let m = Metrics::with_province_limit(2);
        for slug in ["ha-noi", "hue", "ca-mau", "ha-noi", "da-nang"] {
            m.observe_province(slug, 200);
        }
        m.observe_province("hue", 404);
        let text = m.render();
        assert!(
            text.contains(
                r#"portal_province_http_requests_total{province="ha-noi",class="2xx"} 2"#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#"portal_province_http_requests_total{province="hue",class="2xx"} 1"#)
        );
        assert!(
            text.contains(r#"portal_province_http_requests_total{province="hue",class="4xx"} 1"#)
        );
        assert!(
            text.contains(r#"portal_province_http_requests_total{province="other",class="2xx"} 2"#)
        );
        assert!(!text.contains("ca-mau") && !text.contains("da-nang"));
    }
}
