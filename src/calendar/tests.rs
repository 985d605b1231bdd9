//! Table-driven checks of the calendar against the days off the Government announced.

use chrono::NaiveDate;

use super::{Calendar, DayKind, DayOverride, parse_file};
use crate::lang::Lang;

pub(super) fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// The rules plus the shipped file of 2026 decisions.
pub(super) fn calendar_2026() -> Calendar {
    let days = parse_file(include_str!("../../calendar/2026.toml")).expect("calendar/2026.toml");
    Calendar::with_overrides(days)
}

#[test]
fn the_shipped_2026_file_holds_the_announced_swaps() {
    let cal = calendar_2026();
    assert_eq!(cal.override_of(d(2026, 1, 2)), Some(DayKind::Holiday));
    assert_eq!(cal.override_of(d(2026, 1, 10)), Some(DayKind::Working));
    assert_eq!(cal.override_of(d(2026, 8, 31)), Some(DayKind::Holiday));
    assert_eq!(cal.override_of(d(2026, 8, 22)), Some(DayKind::Working));
}

#[test]
fn add_working_days_across_the_holidays_of_2026_and_2027() {
    let cal = calendar_2026();
    let stat = Calendar::statutory();
    // (what, calendar, accepted on, processing days, due on)
    let cases: [(&str, &Calendar, NaiveDate, u32, NaiveDate); 20] = [
        ("n = 0 is the start", &cal, d(2026, 3, 4), 0, d(2026, 3, 4)),
        (
            "n = 0 on a holiday",
            &cal,
            d(2026, 2, 17),
            0,
            d(2026, 2, 17),
        ),
        ("a plain week", &cal, d(2026, 3, 2), 5, d(2026, 3, 9)),
        ("Friday to Monday", &cal, d(2026, 3, 6), 1, d(2026, 3, 9)),
        // Tết 2026: off Sat 14 – Sun 22 Feb.
        ("into Tết", &cal, d(2026, 2, 12), 1, d(2026, 2, 13)),
        ("across Tết", &cal, d(2026, 2, 12), 2, d(2026, 2, 23)),
        (
            "accepted during Tết",
            &cal,
            d(2026, 2, 18),
            1,
            d(2026, 2, 23),
        ),
        // New Year 2026: Fri 2 Jan off, Saturday 10 Jan worked instead.
        ("year end, swapped", &cal, d(2025, 12, 31), 1, d(2026, 1, 5)),
        (
            "year end, rules only",
            &stat,
            d(2025, 12, 31),
            1,
            d(2026, 1, 2),
        ),
        (
            "onto the worked Saturday",
            &cal,
            d(2026, 1, 9),
            1,
            d(2026, 1, 10),
        ),
        (
            "across the worked Saturday",
            &cal,
            d(2026, 1, 9),
            2,
            d(2026, 1, 12),
        ),
        // Hùng Kings' day on Sunday 26 Apr 2026, compensated Monday 27.
        ("across Hùng Kings", &cal, d(2026, 4, 24), 1, d(2026, 4, 28)),
        // 30 April – 1 May 2026 (Thu–Fri), then the weekend.
        (
            "across 30 Apr – 1 May",
            &cal,
            d(2026, 4, 29),
            1,
            d(2026, 5, 4),
        ),
        (
            "Hùng Kings then 30 Apr",
            &cal,
            d(2026, 4, 24),
            3,
            d(2026, 5, 4),
        ),
        // National Day 2026: off Sat 29 Aug – Wed 2 Sep, Saturday 22 Aug worked.
        (
            "onto Saturday 22 Aug",
            &cal,
            d(2026, 8, 21),
            1,
            d(2026, 8, 22),
        ),
        ("across 2 September", &cal, d(2026, 8, 28), 1, d(2026, 9, 3)),
        (
            "2 Sep, rules only",
            &stat,
            d(2026, 8, 28),
            1,
            d(2026, 8, 31),
        ),
        (
            "year end into 2027",
            &stat,
            d(2026, 12, 30),
            2,
            d(2027, 1, 4),
        ),
        // Tết 2027 by the rule: Fri 5 – Tue 9 Feb, Sat 6 and Sun 7 compensated Wed 10, Thu 11.
        ("across Tết 2027", &stat, d(2027, 2, 4), 1, d(2027, 2, 12)),
        // 2 Sep 2027 is a Thursday; the second day defaults to 1 Sep.
        ("across 2 Sep 2027", &stat, d(2027, 8, 31), 1, d(2027, 9, 3)),
    ];
    for (what, cal, start, n, due) in cases {
        assert_eq!(cal.add_working_days(start, n), due, "{what}");
        assert_eq!(cal.working_days_between(start, due), n, "{what}");
    }
}

#[test]
fn working_days_between_is_a_half_open_count() {
    let cal = calendar_2026();
    assert_eq!(cal.working_days_between(d(2026, 2, 13), d(2026, 2, 23)), 1);
    assert_eq!(cal.working_days_between(d(2026, 3, 4), d(2026, 3, 4)), 0);
    assert_eq!(cal.working_days_between(d(2026, 3, 9), d(2026, 3, 2)), 0);
    assert_eq!(cal.working_days_between(d(2026, 1, 9), d(2026, 1, 12)), 2);
    assert_eq!(
        cal.working_days_between(d(2025, 12, 31), d(2026, 12, 31)),
        250
    );
}

#[test]
fn the_rules_reproduce_the_announced_days_off_of_past_years() {
    let stat = Calendar::statutory();
    let off = [
        d(2023, 1, 2),  // New Year on Sunday
        d(2023, 1, 20), // Tết 2023: 20–26 Jan
        d(2023, 1, 26),
        d(2023, 5, 2), // Hùng Kings on Sat 29 Apr and 30 Apr on Sunday
        d(2023, 5, 3),
        d(2023, 9, 1), // National Day 2023: 1–4 Sep
        d(2023, 9, 4),
        d(2022, 4, 11), // Hùng Kings on Sunday 10 Apr 2022
        d(2024, 2, 8),  // Tết 2024: 8–14 Feb
        d(2024, 2, 14),
        d(2024, 9, 3),  // National Day 2024: 2–3 Sep
        d(2025, 1, 27), // Tết 2025: 25 Jan – 2 Feb
        d(2025, 1, 31),
        d(2025, 4, 7),
    ];
    for day in off {
        assert!(!stat.is_working_day(day), "{day} is a day off");
    }
    for day in [d(2023, 1, 27), d(2024, 2, 15), d(2024, 9, 4), d(2025, 2, 3)] {
        assert!(stat.is_working_day(day), "{day} is a working day");
    }
}

#[test]
fn outside_the_lunar_table_only_solar_holidays_and_overrides_count() {
    let stat = Calendar::statutory();
    // Tết 2036 would be Mon 28 Jan 2036: unknown to the table, so a working day...
    assert!(stat.is_working_day(d(2036, 1, 28)));
    // ...while the solar holidays still hold.
    assert!(!stat.is_working_day(d(2036, 1, 1)));
    assert!(!stat.is_working_day(d(2036, 4, 30)));
    assert!(!stat.is_working_day(d(2036, 9, 2)));
    let imported = Calendar::with_overrides([DayOverride {
        day: d(2036, 1, 28),
        kind: DayKind::Holiday,
        note: "Tết Bính Thìn".into(),
    }]);
    assert!(!imported.is_working_day(d(2036, 1, 28)));
}

#[test]
fn overrides_win_both_ways() {
    let cal = Calendar::with_overrides([
        DayOverride {
            day: d(2026, 2, 17),
            kind: DayKind::Working,
            note: String::new(),
        },
        DayOverride {
            day: d(2026, 3, 4),
            kind: DayKind::Holiday,
            note: String::new(),
        },
    ]);
    assert!(cal.is_working_day(d(2026, 2, 17)));
    assert!(!cal.is_working_day(d(2026, 3, 4)));
    assert!(cal.holiday_name(d(2026, 2, 17), Lang::Vi).is_none());
}

#[test]
fn holidays_have_names_in_both_languages() {
    let cal = calendar_2026();
    let name = |day, lang| cal.holiday_name(day, lang);
    assert_eq!(
        name(d(2026, 2, 17), Lang::Vi).as_deref(),
        Some("Tết Nguyên đán")
    );
    assert_eq!(
        name(d(2026, 9, 2), Lang::En).as_deref(),
        Some("National Day")
    );
    assert_eq!(
        name(d(2026, 4, 27), Lang::En).as_deref(),
        Some("Compensatory day off for Hùng Kings' Commemoration Day")
    );
    assert!(
        name(d(2026, 4, 27), Lang::Vi)
            .unwrap()
            .starts_with("Nghỉ bù")
    );
    assert!(
        name(d(2026, 1, 2), Lang::Vi)
            .unwrap()
            .contains("10/01/2026")
    );
    assert_eq!(name(d(2026, 1, 10), Lang::Vi), None, "a worked Saturday");
    assert_eq!(name(d(2026, 3, 7), Lang::Vi), None, "a plain Saturday");
    assert_eq!(name(d(2026, 3, 4), Lang::Vi), None, "a plain Wednesday");
}
