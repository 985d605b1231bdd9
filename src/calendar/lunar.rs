//! The two lunar dates the statutory holidays need, tabulated for 2020–2035 (no lunar crate).
//!
//! Source: the Vietnamese lunar calendar, which is computed for the meridian of UTC+7 (not
//! China's UTC+8), with Hồ Ngọc Đức's published algorithm ("Âm lịch Việt Nam", the
//! `amlich` programs), run for time zone +7. The years 2020–2026 agree with the Government's
//! holiday notices (which name the lunar dates, e.g. "14/2/2026, tức 27 tháng Chạp năm Ất Tỵ").
//! Because of the meridian the two calendars sometimes differ: Tết 1985 was 21 Jan 1985 in
//! Vietnam but 20 Feb 1985 in China, and in this table Tết 2030 is 2 Feb 2030 in Vietnam (the
//! new moon falls at about 23:07 UTC+7, 00:07 UTC+8) but 3 Feb 2030 in China.
//!
//! Confidence: every date below is listed because the new moon that starts its month lies at
//! least 50 minutes from local midnight, well beyond the algorithm's error of a few minutes.
//! The closest are Tết 2027 (about 22:56), Tết 2030 (23:09) and month 3 of 2033 (00:53).
//! Leap months change nothing here: 2023 has a leap 2nd month, so 10/3 is 10 days into the
//! month after it (29 Apr 2023); 2031 has a leap 3rd month and the commemoration falls in the
//! ordinary 3rd month, the first of the two (1 Apr 2031).
//!
//! Outside 2020–2035 these functions answer `None`: the calendar then knows weekends, the
//! solar holidays and the overrides the operator imports, but neither Tết nor Hùng Kings'
//! day, which must then be imported as overrides (see `calendar/README.md`).

use chrono::NaiveDate;

/// The first and last Gregorian years tabulated here.
pub const FIRST_YEAR: i32 = 2020;
pub const LAST_YEAR: i32 = 2035;

/// 1 Tháng Giêng (Tết Nguyên đán), year by year from [`FIRST_YEAR`]: (month, day).
const TET: [(u32, u32); 16] = [
    (1, 25), // 2020 Canh Tý
    (2, 12), // 2021 Tân Sửu
    (2, 1),  // 2022 Nhâm Dần
    (1, 22), // 2023 Quý Mão
    (2, 10), // 2024 Giáp Thìn
    (1, 29), // 2025 Ất Tỵ
    (2, 17), // 2026 Bính Ngọ
    (2, 6),  // 2027 Đinh Mùi
    (1, 26), // 2028 Mậu Thân
    (2, 13), // 2029 Kỷ Dậu
    (2, 2),  // 2030 Canh Tuất (China: 3 Feb)
    (1, 23), // 2031 Tân Hợi
    (2, 11), // 2032 Nhâm Tý
    (1, 31), // 2033 Quý Sửu
    (2, 19), // 2034 Giáp Dần
    (2, 8),  // 2035 Ất Mão
];

/// 10 Tháng Ba (Giỗ Tổ Hùng Vương), year by year from [`FIRST_YEAR`]: (month, day).
const HUNG_KINGS: [(u32, u32); 16] = [
    (4, 2),  // 2020
    (4, 21), // 2021
    (4, 10), // 2022
    (4, 29), // 2023 (after a leap 2nd month)
    (4, 18), // 2024
    (4, 7),  // 2025
    (4, 26), // 2026
    (4, 16), // 2027
    (4, 4),  // 2028
    (4, 23), // 2029
    (4, 12), // 2030
    (4, 1),  // 2031 (the ordinary 3rd month; a leap 3rd month follows)
    (4, 19), // 2032
    (4, 9),  // 2033
    (4, 28), // 2034
    (4, 17), // 2035
];

fn lookup(table: &[(u32, u32); 16], year: i32) -> Option<NaiveDate> {
    if !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
        return None;
    }
    let (month, day) = table[(year - FIRST_YEAR) as usize];
    NaiveDate::from_ymd_opt(year, month, day)
}

/// The Gregorian date of Tết (1 Tháng Giêng) in `year`, when tabulated.
pub fn tet(year: i32) -> Option<NaiveDate> {
    lookup(&TET, year)
}

/// The Gregorian date of Hùng Kings' day (10 Tháng Ba) in `year`, when tabulated.
pub fn hung_kings(year: i32) -> Option<NaiveDate> {
    lookup(&HUNG_KINGS, year)
}

/// Whether `year`'s lunar holidays are known to this build.
pub fn covers(year: i32) -> bool {
    (FIRST_YEAR..=LAST_YEAR).contains(&year)
}

#[cfg(test)]
mod tests {
    use chrono::Datelike;

    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn well_known_tet_and_hung_kings_days() {
        assert_eq!(tet(2024), Some(d(2024, 2, 10)));
        assert_eq!(tet(2025), Some(d(2025, 1, 29)));
        assert_eq!(tet(2026), Some(d(2026, 2, 17)));
        assert_eq!(hung_kings(2024), Some(d(2024, 4, 18)));
        assert_eq!(hung_kings(2025), Some(d(2025, 4, 7)));
        assert_eq!(hung_kings(2026), Some(d(2026, 4, 26)));
    }

    #[test]
    fn outside_the_table_there_is_no_answer() {
        assert_eq!(tet(2019), None);
        assert_eq!(tet(2036), None);
        assert_eq!(hung_kings(2036), None);
        assert!(covers(2020) && covers(2035) && !covers(2036));
    }

    #[test]
    fn the_table_is_plausible() {
        for year in FIRST_YEAR..=LAST_YEAR {
            let t = tet(year).unwrap();
            let h = hung_kings(year).unwrap();
            // Tết falls between 21 Jan and 20 Feb.
            assert!(t >= d(year, 1, 21) && t <= d(year, 2, 20), "{t}");
            // 10/3 is two or three lunar months and nine days after Tết (a leap 2nd month
            // adds one): 68 to 100 days.
            let gap = (h - t).num_days();
            assert!((68..=100).contains(&gap), "{year}: {gap}");
            // Successive New Years are 12 or 13 lunar months apart.
            if let Some(next) = tet(year + 1) {
                let len = (next - t).num_days();
                assert!((353..=385).contains(&len), "{year}: {len}");
            }
            assert_eq!(t.year(), year);
        }
    }
}
