//! The statutory days off of one Gregorian year, before the operator's overrides.
//!
//! Labour Code 2019 (Bộ luật Lao động 45/2019/QH14), art. 112(1): New Year 1 Jan; Tết 5 days;
//! Hùng Kings' day 10/3 lunar; 30 April; 1 May; National Day 2 September and one day before or
//! after it. Art. 111(3): a holiday that falls on the weekly rest day (Saturday or Sunday for
//! the civil service's five-day week, Decision 188/1999/QĐ-TTg) is compensated on the next working
//! day. The Government announces each year where exactly Tết and the National Day's second day
//! fall (and any swapped days); what it announced is tabulated below where known, the rest comes
//! from the rules and the overrides in `calendar_days`.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::{Datelike, Days, NaiveDate, Weekday};

use super::lunar;
use crate::lang::Lang;

/// Which statutory holiday a day off belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Feast {
    NewYear,
    Tet,
    HungKings,
    Reunification,
    Labour,
    NationalDay,
}

/// A statutory day off: the holiday itself, or the day that compensates it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Holiday {
    pub feast: Feast,
    pub compensatory: bool,
}

impl Holiday {
    pub fn name(self, lang: Lang) -> String {
        let (vi, en) = match self.feast {
            Feast::NewYear => ("Tết Dương lịch", "New Year's Day"),
            Feast::Tet => ("Tết Nguyên đán", "Lunar New Year (Tết)"),
            Feast::HungKings => ("Giỗ Tổ Hùng Vương", "Hùng Kings' Commemoration Day"),
            Feast::Reunification => (
                "Ngày Giải phóng miền Nam, thống nhất đất nước",
                "Reunification Day",
            ),
            Feast::Labour => ("Ngày Quốc tế Lao động", "International Workers' Day"),
            Feast::NationalDay => ("Quốc khánh", "National Day"),
        };
        match (lang, self.compensatory) {
            (Lang::Vi, false) => vi.to_string(),
            (Lang::En, false) => en.to_string(),
            (Lang::Vi, true) => format!("Nghỉ bù {vi}"),
            (Lang::En, true) => format!("Compensatory day off for {en}"),
        }
    }
}

/// (month, day) in a year given beside it.
type MonthDay = (u32, u32);

/// The Government's Tết days off for the civil service, as announced (first and last day,
/// weekends and compensatory days included). Years not listed use the rule: the last day of
/// the lunar year (29 or 30 Tháng Chạp) through 4 Tháng Giêng, compensated per art. 111(3).
/// None of these years had a swapped Saturday.
const OFFICIAL_TET: [(i32, MonthDay, MonthDay); 7] = [
    (2020, (1, 23), (1, 29)), // 29 Chạp Kỷ Hợi – 5 Giêng Canh Tý
    (2021, (2, 10), (2, 16)), // 29 Chạp Canh Tý – 5 Giêng Tân Sửu
    (2022, (1, 29), (2, 6)),  // 27 Chạp Tân Sửu – 6 Giêng Nhâm Dần
    (2023, (1, 20), (1, 26)), // 29 Chạp Nhâm Dần – 5 Giêng Quý Mão
    (2024, (2, 8), (2, 14)),  // 29 Chạp Quý Mão – 5 Giêng Giáp Thìn
    (2025, (1, 25), (2, 2)),  // 26 Chạp Giáp Thìn – 5 Giêng Ất Tỵ
    (2026, (2, 14), (2, 22)), // 27 Chạp Ất Tỵ – 6 Giêng Bính Ngọ (VPCP, Oct 2025)
];

/// The National Day's second day as announced (1 or 3 September). Unknown years use
/// 1 September; before 2021 (Labour Code 2012) the National Day was one day only.
const NATIONAL_DAY_SECOND: [(i32, u32); 6] = [
    (2021, 3),
    (2022, 1),
    (2023, 1),
    (2024, 3),
    (2025, 1),
    (2026, 1), // 29 Aug – 2 Sep 2026, with 31 Aug swapped for Saturday 22 Aug (an override)
];

fn ymd(year: i32, (month, day): MonthDay) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("a valid tabulated date")
}

pub(crate) fn is_weekend(day: NaiveDate) -> bool {
    matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}

fn next(day: NaiveDate) -> NaiveDate {
    day.checked_add_days(Days::new(1)).expect("date in range")
}

/// Every statutory day off of `year` (not counting plain weekends), in date order.
pub(crate) fn year_holidays(year: i32) -> BTreeMap<NaiveDate, Holiday> {
    let plain = |feast| Holiday {
        feast,
        compensatory: false,
    };
    let mut days: BTreeMap<NaiveDate, Holiday> = BTreeMap::new();
    // Days whose weekend share is already compensated inside an announced range.
    let mut settled: Vec<NaiveDate> = Vec::new();

    let mut add = |day: Option<NaiveDate>, feast| {
        if let Some(day) = day {
            days.entry(day).or_insert(plain(feast));
        }
    };
    add(NaiveDate::from_ymd_opt(year, 1, 1), Feast::NewYear);
    add(lunar::hung_kings(year), Feast::HungKings);
    add(NaiveDate::from_ymd_opt(year, 4, 30), Feast::Reunification);
    add(NaiveDate::from_ymd_opt(year, 5, 1), Feast::Labour);
    add(NaiveDate::from_ymd_opt(year, 9, 2), Feast::NationalDay);
    if year >= 2021 {
        let second = NATIONAL_DAY_SECOND
            .iter()
            .find(|(y, _)| *y == year)
            .map_or(1, |(_, d)| *d);
        add(NaiveDate::from_ymd_opt(year, 9, second), Feast::NationalDay);
    }
    if let Some((_, first, last)) = OFFICIAL_TET.iter().find(|(y, ..)| *y == year) {
        let (mut day, last) = (ymd(year, *first), ymd(year, *last));
        while day <= last {
            days.insert(day, plain(Feast::Tet));
            settled.push(day);
            day = next(day);
        }
    } else if let Some(tet) = lunar::tet(year) {
        let mut day = tet.pred_opt().expect("date in range");
        for _ in 0..5 {
            days.insert(day, plain(Feast::Tet));
            day = next(day);
        }
    }

    // Art. 111(3): each holiday on a Saturday or Sunday gives the next working day off.
    let on_weekend: Vec<(NaiveDate, Holiday)> = days
        .iter()
        .filter(|(d, _)| is_weekend(**d) && !settled.contains(d))
        .map(|(d, h)| (*d, *h))
        .collect();
    for (day, holiday) in on_weekend {
        let mut candidate = next(day);
        while is_weekend(candidate) || days.contains_key(&candidate) {
            candidate = next(candidate);
        }
        days.insert(
            candidate,
            Holiday {
                feast: holiday.feast,
                compensatory: true,
            },
        );
    }
    days
}

/// Years computed once and kept; others are computed on each call.
const CACHED_YEARS: std::ops::RangeInclusive<i32> = 1990..=2100;

fn cache() -> &'static BTreeMap<NaiveDate, Holiday> {
    static CACHE: OnceLock<BTreeMap<NaiveDate, Holiday>> = OnceLock::new();
    CACHE.get_or_init(|| CACHED_YEARS.flat_map(year_holidays).collect())
}

/// The statutory holiday on `day`, if any.
pub(crate) fn holiday(day: NaiveDate) -> Option<Holiday> {
    if CACHED_YEARS.contains(&day.year()) {
        cache().get(&day).copied()
    } else {
        year_holidays(day.year()).get(&day).copied()
    }
}
