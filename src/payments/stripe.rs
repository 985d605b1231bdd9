//! Citizens' fees through Stripe Checkout: a hosted payment page in Vietnamese, one session per
//! payment request (the idempotency key makes a repeated `pay` return the same page), confirmed
//! by the `checkout.session.completed` webhook.

use futures_util::future::BoxFuture;
use secrecy::SecretString;
use stripe_checkout::CheckoutSessionLocale;
use stripe_checkout::CheckoutSessionMode;
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionLineItemsPriceData,
    ExpireCheckoutSession, ProductData,
};
use stripe_types::Currency;

use super::{FeeProvider, FeeRequest, PaymentStart};
use crate::error::AppError;
use crate::stripe_api::StripeApi;

#[derive(Debug)]
pub struct StripeCheckout {
    api: StripeApi,
}

impl StripeCheckout {
    pub fn new(
        key: &SecretString,
        api_base: &str,
        timeout: std::time::Duration,
    ) -> Result<StripeCheckout, String> {
        Ok(StripeCheckout {
            api: StripeApi::new(key, api_base, timeout)?,
        })
    }
}

/// The session's parameters (VND is zero-decimal: đồng as they are, never ×100).
fn session(request: &FeeRequest) -> CreateCheckoutSession {
    let mut price = CreateCheckoutSessionLineItemsPriceData::new(Currency::VND);
    price.unit_amount = Some(request.amount_vnd);
    price.product_data = Some(ProductData::new(format!(
        "{} ({})",
        request.description, request.tracking_code
    )));
    let mut item = CreateCheckoutSessionLineItems::new();
    item.price_data = Some(price);
    item.quantity = Some(1);
    let metadata: std::collections::HashMap<String, String> = [
        ("kind", "dossier_fee"),
        ("tenant", request.tenant_slug.as_str()),
        ("tracking_code", request.tracking_code.as_str()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    CreateCheckoutSession::new()
        .mode(CheckoutSessionMode::Payment)
        .locale(CheckoutSessionLocale::Vi)
        .line_items(vec![item])
        .client_reference_id(request.tracking_code.as_str())
        .success_url(format!("{}?payment=done", request.return_url))
        .cancel_url(format!("{}?payment=cancelled", request.return_url))
        .metadata(metadata)
}

impl FeeProvider for StripeCheckout {
    fn name(&self) -> &'static str {
        "stripe"
    }

    fn start<'a>(
        &'a self,
        request: &'a FeeRequest,
    ) -> BoxFuture<'a, Result<PaymentStart, AppError>> {
        Box::pin(async move {
            if request.amount_vnd > crate::billing::invoice::STRIPE_VND_CAP {
                return Err(super::over_provider_limit());
            }
            let created = self
                .api
                .create(&session(request), &request.idempotency_key)
                .await
                .map_err(|e| {
                    tracing::warn!(error = %e, dossier = %request.tracking_code, "Stripe Checkout failed");
                    AppError::Unavailable(format!("stripe: {e}"))
                })?;
            let url = created.url.ok_or_else(|| {
                AppError::Unavailable("stripe: the Checkout Session has no url".into())
            })?;
            Ok(PaymentStart::Redirect {
                reference: created.id,
                url,
            })
        })
    }

    /// `POST /v1/checkout/sessions/{id}/expire`, once (`{id}:expire` is the idempotency key).
    fn expire<'a>(&'a self, reference: &'a str) -> BoxFuture<'a, Result<(), AppError>> {
        Box::pin(async move {
            self.api
                .create(
                    &ExpireCheckoutSession::new(reference),
                    &format!("{reference}:expire"),
                )
                .await
                .map(|_| ())
                .map_err(|e| AppError::Unavailable(format!("stripe: {e}")))
        })
    }
}
