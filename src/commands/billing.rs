//! `portal billing close --period YYYY-MM`.

use chrono::Datelike;

use super::{Failure, Outcome, cli_actor};
use crate::billing::close;
use crate::billing::money::Vnd;
use crate::config::Settings;
use crate::db::Db;
use crate::dossiers::deadlines::today_vn;
use crate::period::Period;

pub fn close_period(settings: &Settings, period: &str) -> Outcome {
    let period =
        Period::parse(period).map_err(|m| Failure::new(2, format!("--period: {}", m.en)))?;
    let db = Db::new(&settings.database);
    let actor = cli_actor();
    let invoices = db.control(|conn| close::close(conn, period, &actor, today_vn()))?;
    for i in &invoices {
        println!(
            "{}  {:<16} {:>18}  {}",
            i.number,
            i.tenant,
            Vnd(i.total_vnd).to_string(),
            i.status
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
