//! `portal index refresh --since YYYY-MM`: recompute the stored evaluation index from history.

use super::{Failure, Outcome};
use crate::app::App;
use crate::config::Settings;
use crate::period::Period;

pub fn refresh(settings: &Settings, since: &str) -> Outcome {
    let since = Period::parse(since).map_err(|m| Failure::new(2, format!("--since: {}", m.en)))?;
    let now = Period::of(crate::clock::today_vn());
    if since > now {
        return Err(Failure::new(
            2,
            format!("--since: {since} is after this month ({now})"),
        ));
    }
    let app = App::for_cli(settings)?;
    let done = crate::app::index::refresh_since(&app, since)?.ok_or_else(|| {
        Failure::new(
            1,
            "the index job is running right now; try again in a minute",
        )
    })?;
    println!(
        "index refreshed from {since} to {now}: {} row(s) for {} month(s) of {} province(s)",
        done.rows, done.months, done.provinces
    );
    Ok(())
}
