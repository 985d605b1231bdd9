//! `portal billing close --period YYYY-MM`.

use chrono::Datelike;

use super::{Failure, Outcome, cli_actor};
use crate::billing::money::Vnd;
use crate::billing::{close, invoice};
use crate::clock::today_vn;
use crate::config::Settings;
use crate::db::Db;
use crate::period::Period;

pub fn close_period(settings: &Settings, period: &str) -> Outcome {
    let period =
        Period::parse(period).map_err(|m| Failure::new(2, format!("--period: {}", m.en)))?;
    let db = Db::new(&settings.database);
    let actor = cli_actor();
    db.control(|conn| close::close(conn, period, &actor, crate::clock::now()))?;
    // Committed: push to the payment provider (Stripe) when one is configured. A failure is
    // recorded on the invoice and shown below; `POST /api/v1/invoices/{number}/send` or the
    // billing job retries it with the same idempotency keys.
    let provider = crate::billing::provider::from_settings(&settings.stripe)
        .map_err(|e| Failure::new(1, format!("stripe: {e}")))?;
    if provider.name() != "offline" {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Failure::new(1, format!("runtime: {e}")))?;
        let pushed = runtime.block_on(crate::billing::send::push_unsent(
            &db,
            provider.as_ref(),
            Some(period.to_string()),
            i32::MAX,
        ))?;
        println!("{pushed} invoice(s) pushed to {}", provider.name());
    }
    let p = period.to_string();
    let invoices = db.control(|conn| invoice::for_period(conn, &p))?;
    for i in &invoices {
        println!(
            "{}  {:<16} {:>18}  {}",
            i.number,
            i.tenant,
            Vnd(i.total_vnd).to_string(),
            match i.provider_status.as_deref() {
                Some(p) => format!("{} ({p})", i.status),
                None => i.status.clone(),
            }
        );
    }
    let total: i64 = invoices.iter().map(|i| i.total_vnd).sum();
    println!(
        "{period}: {} invoice(s), {} in total (year {})",
        invoices.len(),
        Vnd(total),
        today_vn().year()
    );
    Ok(())
}
