//! Properties of working-day arithmetic, over 2019–2037 (tabulated, announced and rule-derived
//! years, and years beyond the lunar table), with the shipped 2026 file or random overrides.

use chrono::{Days, NaiveDate};
use proptest::prelude::*;

use super::tests::{calendar_2026, d};
use super::{Calendar, DayKind, DayOverride};

fn start() -> impl Strategy<Value = NaiveDate> {
    (0u64..365 * 18).prop_map(|offset| d(2019, 1, 1) + Days::new(offset))
}

/// The rules alone, the shipped 2026 decisions, or up to 40 random overrides of either kind.
fn calendar() -> impl Strategy<Value = Calendar> {
    let random = prop::collection::vec((0u64..365 * 19, any::<bool>()), 0..40).prop_map(|days| {
        Calendar::with_overrides(days.into_iter().map(|(offset, holiday)| DayOverride {
            day: d(2019, 1, 1) + Days::new(offset),
            kind: if holiday {
                DayKind::Holiday
            } else {
                DayKind::Working
            },
            note: String::new(),
        }))
    });
    prop_oneof![Just(Calendar::statutory()), Just(calendar_2026()), random]
}

/// An independent model of a paused clock: the `n`-th day after `start` that is a working
/// day and lies outside the pause (p, r].
fn count_skipping_pause(
    cal: &Calendar,
    start: NaiveDate,
    n: u32,
    p: NaiveDate,
    r: NaiveDate,
) -> NaiveDate {
    start
        .iter_days()
        .skip(1)
        .filter(|day| cal.is_working_day(*day) && !(p < *day && *day <= r))
        .nth(n as usize - 1)
        .expect("a day")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// (a) A due date is always a working day.
    #[test]
    fn the_due_date_is_a_working_day(cal in calendar(), s in start(), n in 1u32..120) {
        let due = cal.add_working_days(s, n);
        prop_assert!(due > s);
        prop_assert!(cal.is_working_day(due));
    }

    /// (b) Counting back finds the processing days again.
    #[test]
    fn counting_back_gives_n(cal in calendar(), s in start(), n in 0u32..120) {
        prop_assert_eq!(cal.working_days_between(s, cal.add_working_days(s, n)), n);
    }

    /// (c) More processing days never give an earlier due date (strictly later for n ≥ 0 → n+k,
    /// k ≥ 1), and adding in two steps equals adding at once.
    #[test]
    fn add_is_monotonic_and_additive(cal in calendar(), s in start(), n in 0u32..100, k in 1u32..30) {
        let a = cal.add_working_days(s, n);
        let b = cal.add_working_days(s, n + k);
        prop_assert!(a < b);
        prop_assert_eq!(cal.add_working_days(a, k), b);
    }

    /// (d) Pausing. For a dossier accepted on `s` with `n` ≥ 1 processing days, due on
    /// `due = add(s, n)`, whose clock stops on `p` with s ≤ p < due and runs again on r ≥ p:
    /// moving the due date by working_days_between(p, r), i.e. add(due, that), equals the
    /// `n`-th working day after `s` when the days of (p, r] are not counted. (When p ≥ due the
    /// dossier is already late and the model and the rule part ways: moving the due date would
    /// extend it, skipping would not; the contract only pauses running clocks.)
    #[test]
    fn moving_due_on_by_a_pause_equals_skipping_it(
        cal in calendar(),
        s in start(),
        n in 1u32..60,
        stop in 0u64..1000,
        pause in 0u64..90,
    ) {
        let due = cal.add_working_days(s, n);
        let p = s + Days::new(stop % (due - s).num_days() as u64);
        let r = p + Days::new(pause);
        let moved = cal.add_working_days(due, cal.working_days_between(p, r));
        prop_assert_eq!(moved, count_skipping_pause(&cal, s, n, p, r));
    }
}
