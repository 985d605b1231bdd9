//! Legal deadlines: `due_on` from acceptance in working days, the clock stopped while the
//! province waits for the citizen, and moved by exactly the working days it stood still.

use chrono::NaiveDate;

/// What deadlines need of a calendar.
pub trait WorkingDays {
    /// `n` working days after `start` (`start` itself does not count).
    fn add_working_days(&self, start: NaiveDate, n: u32) -> NaiveDate;
    /// Working days in `(from, to]`.
    fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32;
}

/// The due date of a dossier accepted on `accepted_on`.
pub fn due_on_acceptance(
    cal: &dyn WorkingDays,
    accepted_on: NaiveDate,
    processing_days: u32,
) -> NaiveDate {
    cal.add_working_days(accepted_on, processing_days)
}

/// The due date after the clock stood still from `stopped_on` to `resumed_on`.
pub fn due_after_pause(
    cal: &dyn WorkingDays,
    due_on: NaiveDate,
    stopped_on: NaiveDate,
    resumed_on: NaiveDate,
) -> NaiveDate {
    let stood_still = cal.working_days_between(stopped_on, resumed_on);
    cal.add_working_days(due_on, stood_still)
}

/// Weekends off, nothing else: for tests of the rules above, independent of any holiday.
#[derive(Debug, Clone, Copy, Default)]
pub struct WeekdaysOnly;

impl WorkingDays for WeekdaysOnly {
    fn add_working_days(&self, start: NaiveDate, n: u32) -> NaiveDate {
        use chrono::Datelike;
        let mut day = start;
        let mut left = n;
        while left > 0 {
            day = day.succ_opt().unwrap_or(day);
            if day.weekday().number_from_monday() <= 5 {
                left -= 1;
            }
        }
        day
    }

    fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        use chrono::Datelike;
        from.iter_days()
            .skip(1)
            .take_while(|d| *d <= to)
            .filter(|d| d.weekday().number_from_monday() <= 5)
            .count() as u32
    }
}

/// The legal calendar (weekends, statutory holidays, the operator's overrides).
impl WorkingDays for crate::calendar::Calendar {
    fn add_working_days(&self, start: NaiveDate, n: u32) -> NaiveDate {
        crate::calendar::Calendar::add_working_days(self, start, n)
    }

    fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        crate::calendar::Calendar::working_days_between(self, from, to)
    }
}

/// The calendar, read through the control-plane door (tenant roles cannot read `public`) at
/// most once a minute per process, then handed into tenant transactions.
#[derive(Debug, Default)]
pub struct CalendarCache {
    cached: std::sync::RwLock<
        Option<(
            std::time::Instant,
            std::sync::Arc<crate::calendar::Calendar>,
        )>,
    >,
}

impl CalendarCache {
    const TTL: std::time::Duration = std::time::Duration::from_secs(60);

    pub async fn get(
        &self,
        db: &crate::db::Db,
    ) -> Result<std::sync::Arc<crate::calendar::Calendar>, crate::error::AppError> {
        if let Some((at, cal)) = self
            .cached
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            && at.elapsed() < Self::TTL
        {
            return Ok(cal.clone());
        }
        let cal = std::sync::Arc::new(db.control_async(crate::calendar::load).await?);
        *self.cached.write().unwrap_or_else(|p| p.into_inner()) =
            Some((std::time::Instant::now(), cal.clone()));
        Ok(cal)
    }

    /// Forget the cached copy (after an import in this process).
    pub fn invalidate(&self) {
        *self.cached.write().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn acceptance_and_pause_follow_the_calendar() {
        let cal = WeekdaysOnly;
        // Accepted Friday 2026-11-27, 5 working days: Mon 30 .. Fri 4 Dec.
        assert_eq!(due_on_acceptance(&cal, d("2026-11-27"), 5), d("2026-12-04"));
        // Stopped Tuesday 1 Dec, resumed Thursday 3 Dec: 2 working days stood still.
        assert_eq!(
            due_after_pause(&cal, d("2026-12-04"), d("2026-12-01"), d("2026-12-03")),
            d("2026-12-08")
        );
        // Stopped and resumed on the same day: nothing moves.
        assert_eq!(
            due_after_pause(&cal, d("2026-12-04"), d("2026-12-01"), d("2026-12-01")),
            d("2026-12-04")
        );
        // A pause over a weekend only: nothing moves.
        assert_eq!(
            due_after_pause(&cal, d("2026-12-04"), d("2026-12-04"), d("2026-12-06")),
            d("2026-12-04")
        );
    }
}
