//! Where an invoice is paid: `offline` (bank transfer, the default: nothing is pushed, the
//! operator records the transfer's reference) or `stripe` (the invoice is created at Stripe
//! with `collection_method=send_invoice`; Stripe's `invoice.paid` webhook marks it paid).
//!
//! The Stripe client is a small hand-written one over `reqwest` speaking Stripe's
//! form-encoded API. Every request carries an `Idempotency-Key` derived from OUR invoice
//! number (`{number}:customer`, `{number}:invoice`, `{number}:item:{n}`, `{number}:finalize`),
//! so a retry after a failure never creates anything twice. VND is a zero-decimal currency at
//! Stripe: amounts are sent in đồng as they are, never ×100.

use futures_util::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};

/// What a provider needs to bill one invoice.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub number: String,
    pub period: String,
    pub tenant_slug: String,
    pub tenant_name: String,
    /// The province's customer at the provider, when one exists already.
    pub customer_ref: Option<String>,
    /// The provider's invoice, when an earlier attempt created it.
    pub invoice_ref: Option<String>,
    /// (description, amount in đồng): the invoice's lines, then VAT.
    pub items: Vec<(String, i64)>,
    pub total_vnd: i64,
}

/// What the provider made of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    pub customer_ref: String,
    pub invoice_ref: String,
}

/// A failed push; whatever was created before the failure is kept so the next attempt
/// continues from there (with the same idempotency keys).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ProviderError {
    pub message: String,
    pub customer_ref: Option<String>,
    pub invoice_ref: Option<String>,
}

impl ProviderError {
    fn new(message: impl Into<String>) -> ProviderError {
        ProviderError {
            message: message.into(),
            customer_ref: None,
            invoice_ref: None,
        }
    }
}

/// A way invoices are paid. `push` runs outside any database transaction (it calls out).
pub trait InvoiceProvider: Send + Sync {
    fn name(&self) -> &'static str;
    /// Creates the invoice at the provider; `Ok(None)` when this provider pushes nothing.
    fn push<'a>(
        &'a self,
        invoice: &'a Outgoing,
    ) -> BoxFuture<'a, Result<Option<Pushed>, ProviderError>>;
}

/// Bank transfer only: nothing leaves the portal.
#[derive(Debug, Default, Clone, Copy)]
pub struct Offline;

impl InvoiceProvider for Offline {
    fn name(&self) -> &'static str {
        "offline"
    }

    fn push<'a>(
        &'a self,
        _invoice: &'a Outgoing,
    ) -> BoxFuture<'a, Result<Option<Pushed>, ProviderError>> {
        Box::pin(async { Ok(None) })
    }
}

/// Stripe's API (or anything that speaks it, such as a local mock).
pub struct Stripe {
    http: reqwest::Client,
    base: String,
    key: SecretString,
}

impl std::fmt::Debug for Stripe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stripe").field("base", &self.base).finish()
    }
}

impl Stripe {
    pub fn new(key: SecretString, api_base: &str) -> Result<Stripe, ProviderError> {
        install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|e| ProviderError::new(format!("stripe client: {e}")))?;
        Ok(Stripe {
            http,
            base: api_base.trim_end_matches('/').to_string(),
            key,
        })
    }

    /// `POST {base}/v1/{path}` with a form body and an idempotency key; the JSON answer.
    async fn post(
        &self,
        path: &str,
        idempotency_key: &str,
        form: &[(String, String)],
    ) -> Result<serde_json::Value, String> {
        let res = self
            .http
            .post(format!("{}/v1/{path}", self.base))
            .bearer_auth(self.key.expose_secret())
            .header("Idempotency-Key", idempotency_key)
            .form(form)
            .send()
            .await
            .map_err(|e| format!("POST /v1/{path}: {e}"))?;
        let status = res.status();
        let body: serde_json::Value = res.json().await.unwrap_or(serde_json::Value::Null);
        if !status.is_success() {
            let why = body["error"]["message"].as_str().unwrap_or("no message");
            return Err(format!("POST /v1/{path}: {status}: {why}"));
        }
        Ok(body)
    }

    async fn post_id(
        &self,
        path: &str,
        idempotency_key: &str,
        form: &[(String, String)],
    ) -> Result<String, String> {
        let body = self.post(path, idempotency_key, form).await?;
        body["id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("POST /v1/{path}: the answer has no id"))
    }

    async fn run(&self, out: &Outgoing) -> Result<Pushed, ProviderError> {
        let n = &out.number;
        let fail =
            |message: String, customer: Option<&String>, invoice: Option<&String>| ProviderError {
                message,
                customer_ref: customer.cloned(),
                invoice_ref: invoice.cloned(),
            };
        let customer = match &out.customer_ref {
            Some(c) => c.clone(),
            None => self
                .post_id(
                    "customers",
                    &format!("{n}:customer"),
                    &form(&[
                        ("name", out.tenant_name.as_str()),
                        ("metadata[tenant]", out.tenant_slug.as_str()),
                    ]),
                )
                .await
                .map_err(|m| fail(m, None, None))?,
        };
        let invoice = match &out.invoice_ref {
            Some(i) => i.clone(),
            None => self
                .post_id(
                    "invoices",
                    &format!("{n}:invoice"),
                    &form(&[
                        ("customer", customer.as_str()),
                        ("currency", "vnd"),
                        ("collection_method", "send_invoice"),
                        ("days_until_due", "30"),
                        ("auto_advance", "false"),
                        ("pending_invoice_items_behavior", "exclude"),
                        (
                            "description",
                            &format!(
                                "Hoá đơn {n} kỳ {} / Invoice {n} for {}",
                                out.period, out.period
                            ),
                        ),
                        ("metadata[invoice_number]", n.as_str()),
                        ("metadata[tenant]", out.tenant_slug.as_str()),
                    ]),
                )
                .await
                .map_err(|m| fail(m, Some(&customer), None))?,
        };
        for (i, (description, amount)) in out.items.iter().enumerate() {
            self.post_id(
                "invoiceitems",
                &format!("{n}:item:{}", i + 1),
                &form(&[
                    ("customer", customer.as_str()),
                    ("invoice", invoice.as_str()),
                    ("currency", "vnd"),
                    // Zero-decimal currency: đồng as they are.
                    ("amount", &amount.to_string()),
                    ("description", description.as_str()),
                    ("metadata[invoice_number]", n.as_str()),
                ]),
            )
            .await
            .map_err(|m| fail(m, Some(&customer), Some(&invoice)))?;
        }
        self.post(
            &format!("invoices/{invoice}/finalize"),
            &format!("{n}:finalize"),
            &form(&[("auto_advance", "true")]),
        )
        .await
        .map_err(|m| fail(m, Some(&customer), Some(&invoice)))?;
        Ok(Pushed {
            customer_ref: customer,
            invoice_ref: invoice,
        })
    }
}

fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect()
}

impl InvoiceProvider for Stripe {
    fn name(&self) -> &'static str {
        "stripe"
    }

    fn push<'a>(
        &'a self,
        invoice: &'a Outgoing,
    ) -> BoxFuture<'a, Result<Option<Pushed>, ProviderError>> {
        Box::pin(async move {
            if invoice.total_vnd > super::invoice::STRIPE_VND_CAP {
                return Err(ProviderError::new(
                    "over Stripe's VND cap: payable by bank transfer only",
                ));
            }
            self.run(invoice).await.map(Some)
        })
    }
}

/// rustls with ring, process-wide (lettre's provider); a no-op when one is installed already.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The provider the settings ask for: Stripe when a secret key is set, else offline.
pub fn from_settings(
    settings: &crate::config::StripeSettings,
) -> Result<std::sync::Arc<dyn InvoiceProvider>, ProviderError> {
    match &settings.secret_key {
        Some(key) if !key.expose_secret().is_empty() => Ok(std::sync::Arc::new(Stripe::new(
            key.clone(),
            &settings.api_base,
        )?)),
        _ => Ok(std::sync::Arc::new(Offline)),
    }
}
