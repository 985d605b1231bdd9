//! Dossier fees settled by the payment provider's events.

use super::App;
use crate::error::AppError;
use crate::payments::Settlement;

/// Applies a Stripe webhook event about a dossier fee (Checkout Session completed, paid later,
/// failed or expired) in the province's own door. `None` when the event is not about a fee.
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
        return Ok(Some("ignored: incomplete fee metadata".into()));
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
