//! Applying a payment provider's event exactly once.

use diesel::prelude::*;

use super::invoice;
use crate::db::schema::provider_events;
use crate::error::AppError;

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
            Some(number) => {
                let reference = format!("stripe:{}", object["id"].as_str().unwrap_or(id));
                match invoice::mark_paid(conn, number, &reference) {
                    Ok(_) => format!("invoice {number} paid"),
                    Err(AppError::NotFound) => format!("ignored: no invoice {number}"),
                    Err(AppError::Conflict { .. }) => {
                        format!("ignored: invoice {number} cannot be paid")
                    }
                    Err(e) => return Err(e),
                }
            }
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
