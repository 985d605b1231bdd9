//! `calendar_days`: reading the overrides and importing the operator's file. Both run in the
//! control-plane door (`Db::control`, search_path = public); tenant roles cannot read the table,
//! so load the calendar there and hand it to the tenant transaction.

use std::collections::BTreeMap;
use std::sync::Once;

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;

use super::{Calendar, DayKind, DayOverride, lunar};
use crate::db::schema::calendar_days;
use crate::error::AppError;

/// Reads every override and builds the calendar.
pub fn load(conn: &mut PgConnection) -> Result<Calendar, AppError> {
    let rows: Vec<(NaiveDate, String, String)> = calendar_days::table
        .select((calendar_days::day, calendar_days::kind, calendar_days::note))
        .order(calendar_days::day)
        .load(conn)?;
    let mut days = Vec::with_capacity(rows.len());
    for (day, kind, note) in rows {
        let kind = DayKind::parse(&kind).ok_or_else(|| {
            AppError::internal(format!("calendar_days {day}: unknown kind {kind:?}"))
        })?;
        days.push(DayOverride { day, kind, note });
    }
    warn_if_uncovered(crate::clock::today_vn().year() + 1);
    Ok(Calendar::with_overrides(days))
}

/// Once per process: next year's Tết and Hùng Kings' day are not in this build's lunar table.
fn warn_if_uncovered(year: i32) {
    static WARNED: Once = Once::new();
    if !lunar::covers(year) {
        WARNED.call_once(|| {
            tracing::warn!(
                year,
                last = lunar::LAST_YEAR,
                "calendar: the lunar table ends in {}; import Tết and Hùng Kings' day of {year} \
                 as holiday overrides (portal calendar import)",
                lunar::LAST_YEAR
            );
        });
    }
}

/// What importing one entry did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Inserted(DayOverride),
    /// The day's previous kind and note, then the new entry.
    Updated {
        before: (DayKind, String),
        after: DayOverride,
    },
    Unchanged(DayOverride),
}

/// Upserts the entries; returns what happened to each, in the given order (a later entry for
/// the same day wins).
pub fn import_changes(
    conn: &mut PgConnection,
    days: &[DayOverride],
) -> Result<Vec<Change>, AppError> {
    let wanted: Vec<NaiveDate> = days.iter().map(|d| d.day).collect();
    let mut existing: BTreeMap<NaiveDate, (String, String)> = calendar_days::table
        .filter(calendar_days::day.eq_any(&wanted))
        .select((calendar_days::day, calendar_days::kind, calendar_days::note))
        .load::<(NaiveDate, String, String)>(conn)?
        .into_iter()
        .map(|(day, kind, note)| (day, (kind, note)))
        .collect();
    let mut changes = Vec::with_capacity(days.len());
    for d in days {
        let change = match existing.get(&d.day) {
            Some((kind, note)) if kind == d.kind.as_str() && *note == d.note => {
                Change::Unchanged(d.clone())
            }
            Some((kind, note)) => {
                diesel::update(calendar_days::table.find(d.day))
                    .set((
                        calendar_days::kind.eq(d.kind.as_str()),
                        calendar_days::note.eq(&d.note),
                        calendar_days::updated_at.eq(diesel::dsl::now),
                    ))
                    .execute(conn)?;
                let before_kind = DayKind::parse(kind).ok_or_else(|| {
                    AppError::internal(format!("calendar_days {}: unknown kind {kind:?}", d.day))
                })?;
                Change::Updated {
                    before: (before_kind, note.clone()),
                    after: d.clone(),
                }
            }
            None => {
                diesel::insert_into(calendar_days::table)
                    .values((
                        calendar_days::day.eq(d.day),
                        calendar_days::kind.eq(d.kind.as_str()),
                        calendar_days::note.eq(&d.note),
                    ))
                    .execute(conn)?;
                Change::Inserted(d.clone())
            }
        };
        // A later entry for the same day sees this one.
        existing.insert(d.day, (d.kind.as_str().to_string(), d.note.clone()));
        changes.push(change);
    }
    Ok(changes)
}

/// Upserts the entries; returns (inserted, updated). Entries already as given count in neither.
pub fn import(conn: &mut PgConnection, days: &[DayOverride]) -> Result<(usize, usize), AppError> {
    let changes = import_changes(conn, days)?;
    let inserted = changes
        .iter()
        .filter(|c| matches!(c, Change::Inserted(_)))
        .count();
    let updated = changes
        .iter()
        .filter(|c| matches!(c, Change::Updated { .. }))
        .count();
    Ok((inserted, updated))
}
