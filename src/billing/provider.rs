//! Where an invoice is paid: `offline` (bank transfer, the default: nothing is pushed, the
//! operator records the transfer's reference) or `stripe` (the invoice is created at Stripe
//! with `collection_method=send_invoice`; Stripe's `invoice.paid` webhook marks it paid).
//!
//! Stripe is reached through async-stripe ([`crate::stripe_api`]). Every request carries an
//! `Idempotency-Key` derived from OUR invoice number (`{number}:customer`, `{number}:invoice`,
//! `{number}:item:{n}`, `{number}:finalize`, `{number}:void`),
//! so a retry after a failure never creates anything twice. VND is a zero-decimal currency at
//! Stripe: amounts are sent in đồng as they are, never ×100.

use futures_util::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use stripe_billing::InvoiceCollectionMethod;
use stripe_billing::invoice::{
    CreateInvoice, CreateInvoicePendingInvoiceItemsBehavior, FinalizeInvoiceInvoice,
    VoidInvoiceInvoice,
};
use stripe_billing::invoice_item::CreateInvoiceItem;
use stripe_core::customer::CreateCustomer;
use stripe_types::Currency;

use crate::stripe_api::StripeApi;

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
    /// Voids the provider's invoice `invoice_ref` (ours is `number`), once.
    fn void<'a>(
        &'a self,
        number: &'a str,
        invoice_ref: &'a str,
    ) -> BoxFuture<'a, Result<(), ProviderError>>;
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

    fn void<'a>(
        &'a self,
        _number: &'a str,
        _invoice_ref: &'a str,
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(async { Ok(()) })
    }
}

/// Stripe's invoices (or anything that speaks Stripe's API, such as a local mock).
#[derive(Debug)]
pub struct Stripe {
    api: StripeApi,
}

impl Stripe {
    pub fn new(
        key: &SecretString,
        api_base: &str,
        timeout: std::time::Duration,
    ) -> Result<Stripe, ProviderError> {
        Ok(Stripe {
            api: StripeApi::new(key, api_base, timeout).map_err(ProviderError::new)?,
        })
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
            None => {
                let request = CreateCustomer::new()
                    .name(out.tenant_name.as_str())
                    .metadata(metadata(&[("tenant", &out.tenant_slug)]));
                self.api
                    .create(&request, &format!("{n}:customer"))
                    .await
                    .map_err(|m| fail(m, None, None))?
                    .id
            }
        };
        let invoice = match &out.invoice_ref {
            Some(i) => i.clone(),
            None => {
                let request = CreateInvoice::new()
                    .customer(customer.as_str())
                    .currency(Currency::VND)
                    .collection_method(InvoiceCollectionMethod::SendInvoice)
                    .days_until_due(super::table::PAYMENT_DAYS as u32)
                    .auto_advance(false)
                    .pending_invoice_items_behavior(
                        CreateInvoicePendingInvoiceItemsBehavior::Exclude,
                    )
                    .description(format!(
                        "Hoá đơn {n} kỳ {} / Invoice {n} for {}",
                        out.period, out.period
                    ))
                    .metadata(metadata(&[
                        ("invoice_number", n),
                        ("tenant", &out.tenant_slug),
                    ]));
                self.api
                    .create(&request, &format!("{n}:invoice"))
                    .await
                    .map_err(|m| fail(m, Some(&customer), None))?
                    .id
            }
        };
        for (i, (description, amount)) in out.items.iter().enumerate() {
            let request = CreateInvoiceItem::new()
                .customer(customer.as_str())
                .invoice(invoice.as_str())
                .currency(Currency::VND)
                // Zero-decimal currency: đồng as they are, never ×100.
                .amount(*amount)
                .description(description.as_str())
                .metadata(metadata(&[("invoice_number", n)]));
            self.api
                .create(&request, &format!("{n}:item:{}", i + 1))
                .await
                .map_err(|m| fail(m, Some(&customer), Some(&invoice)))?;
        }
        let request = FinalizeInvoiceInvoice::new(invoice.as_str()).auto_advance(true);
        self.api
            .create(&request, &format!("{n}:finalize"))
            .await
            .map_err(|m| fail(m, Some(&customer), Some(&invoice)))?;
        Ok(Pushed {
            customer_ref: customer,
            invoice_ref: invoice,
        })
    }
}

fn metadata(pairs: &[(&str, &String)]) -> std::collections::HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).clone()))
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

    fn void<'a>(
        &'a self,
        number: &'a str,
        invoice_ref: &'a str,
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(async move {
            let request = VoidInvoiceInvoice::new(invoice_ref);
            self.api
                .create(&request, &format!("{number}:void"))
                .await
                .map(|_| ())
                .map_err(|message| ProviderError {
                    message,
                    customer_ref: None,
                    invoice_ref: Some(invoice_ref.to_string()),
                })
        })
    }
}

pub use crate::stripe_api::install_crypto_provider;

/// The provider the settings ask for: Stripe when a secret key is set, else offline.
pub fn from_settings(
    settings: &crate::config::StripeSettings,
) -> Result<std::sync::Arc<dyn InvoiceProvider>, ProviderError> {
    match &settings.secret_key {
        Some(key) if !key.expose_secret().is_empty() => Ok(std::sync::Arc::new(Stripe::new(
            key,
            &settings.api_base,
            settings.timeout(),
        )?)),
        _ => Ok(std::sync::Arc::new(Offline)),
    }
}
