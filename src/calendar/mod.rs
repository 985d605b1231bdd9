//! The legal working-day calendar: `due_on` counts a procedure's processing days in working
//! days, and a stopped clock moves it by the working days it stood still.
//!
//! A day is a working day unless it is a Saturday or Sunday or a statutory day off
//! ([`rules`]: the Labour Code's holidays, Tết and Hùng Kings' day from the lunar table in
//! [`lunar`], the compensatory days of art. 111(3), the Government's announced Tết ranges),
//! and an override from the `calendar_days` table wins over all of that: `holiday` makes any
//! day a day off (a bridge day), `working` makes any day a working day (a swapped Saturday).
//!
//! The lunar table covers 2020–2035 ([`lunar::FIRST_YEAR`]..=[`lunar::LAST_YEAR`]). Outside
//! it the calendar still answers, from weekends, the solar holidays and the overrides only:
//! Tết and Hùng Kings' day must then be imported (`portal calendar import`); [`load`] logs a
//! warning when next year is not covered.

mod file;
pub mod lunar;
#[cfg(test)]
mod props;
mod rules;
mod store;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};

pub use file::parse_file;
pub use store::{Change, import, import_changes, load};

use crate::lang::Lang;

/// What an override makes of its day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayKind {
    /// A day off: bridge days, compensatory days, a moved holiday.
    Holiday,
    /// A working day: a Saturday worked in exchange for a bridge day.
    Working,
}

impl DayKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::Working => "working",
        }
    }

    pub fn parse(text: &str) -> Option<DayKind> {
        match text {
            "holiday" => Some(DayKind::Holiday),
            "working" => Some(DayKind::Working),
            _ => None,
        }
    }
}

/// One Government decision about one day (a row of `calendar_days`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayOverride {
    pub day: NaiveDate,
    pub kind: DayKind,
    pub note: String,
}

/// The statutory rules plus the operator's overrides. Cheap to build; immutable.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    overrides: BTreeMap<NaiveDate, (DayKind, String)>,
}

impl Calendar {
    /// The rules alone, without any override.
    pub fn statutory() -> Calendar {
        Calendar::default()
    }

    /// The rules with these overrides; a later override of the same day wins.
    pub fn with_overrides(days: impl IntoIterator<Item = DayOverride>) -> Calendar {
        Calendar {
            overrides: days
                .into_iter()
                .map(|o| (o.day, (o.kind, o.note)))
                .collect(),
        }
    }

    /// The override of `day`, if the operator imported one.
    pub fn override_of(&self, day: NaiveDate) -> Option<DayKind> {
        self.overrides.get(&day).map(|(kind, _)| *kind)
    }

    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        match self.override_of(day) {
            Some(kind) => kind == DayKind::Working,
            None => !rules::is_weekend(day) && rules::holiday(day).is_none(),
        }
    }

    /// The name of the holiday on `day`, for pages; `None` on working days and on plain
    /// weekends. A statutory holiday keeps its own (translated) name; another day off named
    /// by an override shows the override's note, as written.
    pub fn holiday_name(&self, day: NaiveDate, lang: Lang) -> Option<String> {
        if self.override_of(day) == Some(DayKind::Working) {
            return None;
        }
        if let Some(holiday) = rules::holiday(day) {
            return Some(holiday.name(lang));
        }
        let (_, note) = self.overrides.get(&day)?;
        Some(if note.trim().is_empty() {
            match lang {
                Lang::Vi => "Ngày nghỉ theo quyết định của Chính phủ".to_string(),
                Lang::En => "Day off by Government decision".to_string(),
            }
        } else {
            note.clone()
        })
    }

    /// The due date of `n` working days counted from `start` (the acceptance day itself does
    /// not count; the first counted day is the next working day). n = 0 → start.
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> NaiveDate {
        let mut day = start;
        let mut left = n;
        while left > 0 {
            day = day.checked_add_days(Days::new(1)).expect("date in range");
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        day
    }

    /// Working days in (from, to]: how far a stopped clock moves `due_on`. 0 when to ≤ from.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        from.iter_days()
            .skip(1)
            .take_while(|d| *d <= to)
            .filter(|d| self.is_working_day(*d))
            .count() as u32
    }
}
