//! `portal billing close --period YYYY-MM`.

use chrono::Datelike;

use super::{Failure, Outcome};
use crate::app::{Actor, App};
use crate::billing::money::Vnd;
use crate::clock::today_vn;
use crate::config::Settings;
use crate::period::Period;

pub fn close_period(settings: &Settings, period: &str) -> Outcome {
    let period =
        Period::parse(period).map_err(|m| Failure::new(2, format!("--period: {}", m.en)))?;
    let app = App::for_cli(settings)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(1, format!("runtime: {e}")))?;
    // The same action as the console's: closed, audited, then pushed to the provider (Stripe)
    // when one is configured; a failed push shows below and is retried by `send` or the job.
    let closed = runtime.block_on(crate::app::billing::close_period(
        &app,
        Actor::cli(),
        period,
    ))?;
    if app.invoices.name() != "offline" {
        println!(
            "{} invoice(s) pushed to {}",
            closed.pushed,
            app.invoices.name()
        );
    }
    let invoices = closed.invoices;
    for i in &invoices {
        println!(
            "{}  {:<16} {:>18}  {}",
            i.number,
            i.tenant,
            Vnd(i.total_vnd).to_string(),
            match i.provider_status.as_deref() {
                Some(p) => format!("{} ({p})", i.status),
                None => i.status.to_string(),
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
