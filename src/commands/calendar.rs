//! `portal calendar import FILE`: the Government's yearly decisions into `calendar_days`.

use std::collections::BTreeSet;
use std::path::Path;

use chrono::Datelike;

use super::{Failure, Outcome, cli_actor};
use crate::audit;
use crate::calendar::{self, Calendar, Change, DayKind, DayOverride, lunar};
use crate::config::Settings;
use crate::db::Db;

/// Reads and checks the file (exit 2 naming each bad entry and field), upserts its days in
/// one transaction, and prints what changed.
pub fn import(settings: &Settings, path: &Path) -> Outcome {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::new(2, format!("{}: {e}", path.display())))?;
    let days = calendar::parse_file(&text).map_err(|errors| {
        Failure::new(
            2,
            format!(
                "invalid calendar file {}:\n  {}",
                path.display(),
                errors.join("\n  ")
            ),
        )
    })?;
    let db = Db::new(&settings.database);
    let source = path.display().to_string();
    let changes = db.control(|conn| {
        let changes = calendar::import_changes(conn, &days)?;
        let (inserted, updated) = counts(&changes);
        if inserted + updated > 0 {
            audit::record(
                conn,
                &cli_actor(),
                crate::audit::Action::CalendarImport,
                "calendar",
                serde_json::json!({ "file": source, "inserted": inserted, "updated": updated }),
            )?;
        }
        Ok(changes)
    })?;

    for change in &changes {
        match change {
            Change::Inserted(d) => println!("+ {} {:<7} {}", d.day, d.kind.as_str(), d.note),
            Change::Updated { before, after } => println!(
                "~ {} {} → {:<7} {}",
                after.day,
                before.0.as_str(),
                after.kind.as_str(),
                after.note
            ),
            Change::Unchanged(_) => {}
        }
    }
    for note in notes(&days) {
        println!("note: {note}");
    }
    let (inserted, updated) = counts(&changes);
    println!(
        "{} day(s): {inserted} inserted, {updated} updated, {} unchanged",
        changes.len(),
        changes.len() - inserted - updated
    );
    Ok(())
}

fn counts(changes: &[Change]) -> (usize, usize) {
    let inserted = changes
        .iter()
        .filter(|c| matches!(c, Change::Inserted(_)))
        .count();
    let updated = changes
        .iter()
        .filter(|c| matches!(c, Change::Updated { .. }))
        .count();
    (inserted, updated)
}

/// Entries the rules already agree with, and years the lunar table does not cover.
fn notes(days: &[DayOverride]) -> Vec<String> {
    let rules = Calendar::statutory();
    let mut notes = Vec::new();
    for d in days {
        match (d.kind, rules.is_working_day(d.day)) {
            (DayKind::Holiday, false) => notes.push(format!(
                "{} is a day off by the statutory rules already",
                d.day
            )),
            (DayKind::Working, true) => notes.push(format!(
                "{} is a working day by the statutory rules already",
                d.day
            )),
            _ => {}
        }
    }
    let years: BTreeSet<i32> = days.iter().map(|d| d.day.year()).collect();
    for year in years.into_iter().filter(|y| !lunar::covers(*y)) {
        notes.push(format!(
            "{year} is outside the lunar table ({}–{}): Tết and Hùng Kings' day of {year} \
             count only if this file gives them as holidays",
            lunar::FIRST_YEAR,
            lunar::LAST_YEAR
        ));
    }
    notes
}
