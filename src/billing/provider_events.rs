//! Applying a payment provider's event exactly once.

use diesel::prelude::*;

use super::invoice;
use crate::db::schema::provider_events;
use crate::error::AppError;

/// Why a paid Stripe invoice is not the one we created for invoice `number`, if it is not: an
/// event changes our state only when the provider's object id, its customer, its currency
/// and the amount paid are those we created and stored. The metadata alone (which anyone
/// creating an invoice in the account can set) proves nothing.
fn mismatch(
    conn: &mut PgConnection,
    number: &str,
    object: &serde_json::Value,
) -> Result<Option<String>, AppError> {
    use crate::db::schema::{invoices, provider_customers};
    let ours: Option<(uuid::Uuid, Option<String>, i64)> = invoices::table
        .filter(invoices::number.eq(number))
        .select((
            invoices::tenant_id,
            invoices::provider_ref,
            invoices::total_vnd,
        ))
        .first(conn)
        .optional()?;
    let Some((tenant, provider_ref, total)) = ours else {
        return Ok(Some("no such invoice".into()));
    };
    let id = object["id"].as_str().unwrap_or_default();
    let Some(provider_ref) = provider_ref else {
        return Ok(Some(format!(
            "never sent to Stripe, yet Stripe invoice {id} claims it"
        )));
    };
    if id != provider_ref {
        return Ok(Some(format!(
            "Stripe invoice {id} is not ours ({provider_ref})"
        )));
    }
    let customer: Option<String> = provider_customers::table
        .filter(provider_customers::tenant_id.eq(tenant))
        .filter(provider_customers::provider.eq("stripe"))
        .select(provider_customers::customer_ref)
        .first(conn)
        .optional()?;
    let theirs = object["customer"].as_str().unwrap_or_default();
    if customer.as_deref() != Some(theirs) {
        return Ok(Some(format!(
            "customer {theirs} is not the province's ({})",
            customer.as_deref().unwrap_or("none")
        )));
    }
    let currency = object["currency"].as_str().unwrap_or_default();
    if !currency.eq_ignore_ascii_case("vnd") {
        return Ok(Some(format!("paid in {currency:?}, invoiced in VND")));
    }
    // VND is zero-decimal at Stripe: the amount is in đồng as it is.
    let paid = object["amount_paid"].as_i64();
    if paid != Some(total) {
        return Ok(Some(format!(
            "{} ₫ paid, {total} ₫ invoiced",
            paid.map_or("no amount".to_string(), |p| p.to_string())
        )));
    }
    Ok(None)
}

/// Whether the event was stored (applied) before.
pub fn seen(conn: &mut PgConnection, id: &str) -> Result<bool, AppError> {
    Ok(diesel::select(diesel::dsl::exists(provider_events::table.find(id))).get_result(conn)?)
}

/// Stores the event by its id; a new event is applied in the same transaction, a replay is
/// acknowledged and changes nothing. `settled` is the outcome of an event applied already in a
/// province's own door (a dossier fee); it is only logged here. Returns what happened.
pub fn apply(
    conn: &mut PgConnection,
    id: &str,
    event: &serde_json::Value,
    settled: Option<String>,
) -> Result<String, AppError> {
    let kind = event["type"].as_str().unwrap_or_default().to_string();
    let inserted = diesel::insert_into(provider_events::table)
        .values((
            provider_events::id.eq(id),
            provider_events::provider.eq("stripe"),
            provider_events::kind.eq(&kind),
            provider_events::payload.eq(event),
            provider_events::outcome.eq("applying"),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    if inserted == 0 {
        return Ok("duplicate: applied before".into());
    }
    let object = &event["data"]["object"];
    let outcome = match kind.as_str() {
        _ if settled.is_some() => settled.unwrap_or_default(),
        "invoice.paid" => match object["metadata"]["invoice_number"].as_str() {
            Some(number) => match mismatch(conn, number, object)? {
                Some(why) => rejected(format!("invoice {number}: {why}")),
                None => {
                    let reference = format!("stripe:{}", object["id"].as_str().unwrap_or(id));
                    match invoice::mark_paid(conn, number, &reference) {
                        Ok(_) => format!("invoice {number} paid"),
                        Err(AppError::Conflict { .. }) => rejected(format!(
                            "invoice {number} cannot be paid (paid or void already)"
                        )),
                        Err(e) => return Err(e),
                    }
                }
            },
            None => "ignored: no invoice number".into(),
        },
        "invoice.payment_failed" => format!(
            "payment failed for {}",
            object["metadata"]["invoice_number"]
                .as_str()
                .unwrap_or("an unknown invoice")
        ),
        _ => "ignored".into(),
    };
    diesel::update(provider_events::table.find(id))
        .set(provider_events::outcome.eq(&outcome))
        .execute(conn)?;
    Ok(outcome)
}

/// The outcome of an event that does not match what the portal created: recorded with the
/// event and alerted, never applied.
pub fn rejected(why: impl std::fmt::Display) -> String {
    format!("rejected: {why}")
}
