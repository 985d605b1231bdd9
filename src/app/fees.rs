//! Dossier fees settled by the payment provider's events, and the provider's open pages closed
//! when a dossier stops awaiting payment.

use std::sync::Arc;

use super::App;
use crate::error::AppError;
use crate::payments::{Settlement, rejected};
use crate::tenancy::Tenant;

/// Applies a Stripe webhook event about a dossier fee (Checkout Session completed, paid later,
/// failed or expired) in the province's own door. `None` when the event is not about a fee.
/// The event changes something only when it matches the session the portal opened (see
/// [`crate::payments::settle`]); otherwise its outcome is `rejected: …`.
pub async fn settle_event(
    app: &App,
    event: &serde_json::Value,
) -> Result<Option<String>, AppError> {
    let object = &event["data"]["object"];
    if object["metadata"]["kind"].as_str() != Some("dossier_fee") {
        return Ok(None);
    }
    let settlement = match (
        event["type"].as_str().unwrap_or_default(),
        object["payment_status"].as_str(),
    ) {
        ("checkout.session.completed", Some("paid"))
        | ("checkout.session.async_payment_succeeded", _) => Settlement::Paid {
            amount_vnd: object["amount_total"].as_i64().unwrap_or(-1),
            currency: object["currency"].as_str().unwrap_or("none").to_string(),
        },
        ("checkout.session.expired", _) | ("checkout.session.async_payment_failed", _) => {
            Settlement::Failed
        }
        // Completed but not paid yet (a delayed method): its own event follows.
        _ => return Ok(Some("ignored: not settled yet".into())),
    };
    let (Some(slug), Some(code), Some(session)) = (
        object["metadata"]["tenant"].as_str(),
        object["metadata"]["tracking_code"].as_str(),
        object["id"].as_str(),
    ) else {
        return Ok(Some(rejected("incomplete fee metadata")));
    };
    let Some(tenant) = app.registry.by_slug(slug) else {
        return Ok(Some(format!("ignored: no province {slug}")));
    };
    let db = app.db.tenant(tenant.db_ref());
    let cx = app.move_context(tenant).await?;
    let (code, session) = (code.to_string(), session.to_string());
    let outcome = db
        .run(move |conn| crate::payments::settle(conn, &cx, "stripe", &code, &session, settlement))
        .await?;
    Ok(Some(outcome))
}

/// After a dossier stopped awaiting payment (the citizen withdrew it): closes at the provider
/// every payment page still open for it (a Stripe Checkout session is expired), so it can no
/// longer be paid, and marks those payments failed. Best effort after the move committed: a
/// provider failure is logged and the page stays pending (Stripe expires it within a day; a
/// payment made meanwhile is refused by [`settle_event`] and alerted). Returns how many closed.
pub async fn expire_open_sessions(app: &App, tenant: Arc<Tenant>, code: String) -> usize {
    let provider = app.fees.name();
    let db = app.db.tenant(tenant.db_ref());
    let c = code.clone();
    let open = match db
        .run(move |conn| crate::payments::open_after_withdraw(conn, provider, &c))
        .await
    {
        Ok(open) => open,
        Err(e) => {
            tracing::warn!(tenant = %tenant.slug, dossier = %code, error = %e, "could not read the dossier's open payments");
            return 0;
        }
    };
    let mut closed = 0;
    for reference in open {
        if let Err(e) = app.fees.expire(&reference).await {
            tracing::warn!(tenant = %tenant.slug, dossier = %code, session = %reference, error = %e, "could not expire the open payment page; it stays pending");
            continue;
        }
        let r = reference.clone();
        match db
            .run(move |conn| crate::payments::close_pending(conn, provider, &r))
            .await
        {
            Ok(()) => closed += 1,
            Err(e) => {
                tracing::warn!(tenant = %tenant.slug, dossier = %code, session = %reference, error = %e, "expired at the provider, not recorded")
            }
        }
    }
    closed
}
