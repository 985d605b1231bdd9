//! The one Stripe client (async-stripe), shared by invoices and citizens' fees.
//!
//! Requests are async-stripe's typed builders; every call carries an `Idempotency-Key` that
//! WE derive from our own identifiers (an invoice number, a dossier code), so a retry after a
//! failure or a timeout never creates anything twice. Of Stripe's answer we read only what we
//! keep (the object's id and, for a Checkout Session, its url): decoding the whole object would
//! tie us to one API version's required fields for nothing.

use secrecy::{ExposeSecret, SecretString};
use stripe::{IdempotencyKey, RequestStrategy, StripeError, StripeRequest};

/// The part of a created Stripe object we keep.
#[derive(Debug, Clone, miniserde::Deserialize)]
pub struct Created {
    pub id: String,
    pub url: Option<String>,
}

/// Stripe's API, or anything that speaks it (a local mock in tests).
#[derive(Clone)]
pub struct StripeApi {
    client: stripe::Client,
    base: String,
}

impl std::fmt::Debug for StripeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeApi")
            .field("base", &self.base)
            .finish()
    }
}

impl StripeApi {
    /// `api_base` is the server's root (`https://api.stripe.com/`); requests go to `v1/…`.
    /// `timeout` bounds each call (`stripe.timeout_secs`): a call that runs out of it fails as
    /// `timed out` and is retried later with the same idempotency key.
    pub fn new(
        key: &SecretString,
        api_base: &str,
        timeout: std::time::Duration,
    ) -> Result<StripeApi, String> {
        install_crypto_provider();
        // async-stripe appends `v1/…` to the base as it is: it must end with one slash.
        let base = format!("{}/", api_base.trim_end_matches('/'));
        let client = stripe::ClientBuilder::new(key.expose_secret())
            .url(base.clone())
            .timeout(timeout)
            .build()
            .map_err(|e| format!("stripe client: {e}"))?;
        Ok(StripeApi { client, base })
    }

    /// Sends `request` once with `idempotency_key`; a failure says what and why in one line.
    pub async fn create<R: StripeRequest>(
        &self,
        request: &R,
        idempotency_key: &str,
    ) -> Result<Created, String> {
        let built = request.build();
        let what = format!("{:?} {}", built.method, built.path);
        let key = IdempotencyKey::new(idempotency_key).map_err(|e| format!("{what}: {e}"))?;
        built
            .customize::<Created>()
            .request_strategy(RequestStrategy::Idempotent(key))
            .send(&self.client)
            .await
            .map_err(|e| format!("{what}: {}", describe(&e)))
    }
}

/// One line for the operator: Stripe's own message and status where there is one.
fn describe(e: &StripeError) -> String {
    match e {
        StripeError::Stripe(errors, status) => format!(
            "{status}: {}",
            errors.message.as_deref().unwrap_or("no message")
        ),
        StripeError::Timeout => "timed out".into(),
        other => other.to_string(),
    }
}

/// rustls with ring, process-wide (lettre's provider); a no-op when one is installed already.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
