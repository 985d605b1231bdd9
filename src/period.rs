//! `Period`: a calendar month `YYYY-MM`, the unit of the national index and of billing.

use std::fmt;

use chrono::{Datelike, NaiveDate};

use crate::lang::Msg;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    year: i32,
    month: u32,
}

impl Period {
    pub fn parse(input: &str) -> Result<Period, Msg> {
        let bad = || {
            Msg::new(
                "Kỳ phải có dạng YYYY-MM, ví dụ 2026-11.",
                "A period looks like YYYY-MM, e.g. 2026-11.",
            )
        };
        let (y, m) = input.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        if !(2000..=2100).contains(&year) || !(1..=12).contains(&month) {
            return Err(bad());
        }
        Ok(Period { year, month })
    }

    pub fn of(day: NaiveDate) -> Period {
        Period {
            year: day.year(),
            month: day.month(),
        }
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or_default()
    }

    /// The first day of the next period (exclusive end).
    pub fn end(self) -> NaiveDate {
        self.next().first_day()
    }

    pub fn next(self) -> Period {
        if self.month == 12 {
            Period {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Period {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    pub fn prev(self) -> Period {
        if self.month == 1 {
            Period {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Period {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    pub fn days(self) -> i64 {
        (self.end() - self.first_day()).num_days()
    }

    /// The `n` periods ending with this one, oldest first.
    pub fn last(self, n: usize) -> Vec<Period> {
        let mut out = vec![self];
        while out.len() < n {
            let earliest = out[out.len() - 1].prev();
            out.push(earliest);
        }
        out.reverse();
        out
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl serde::Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_steps() {
        let p = Period::parse("2026-12").unwrap();
        assert_eq!(p.next().to_string(), "2027-01");
        assert_eq!(p.prev().to_string(), "2026-11");
        assert_eq!(Period::parse("2024-02").unwrap().days(), 29);
        assert_eq!(
            p.last(3)
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["2026-10", "2026-11", "2026-12"]
        );
        for bad in [
            "", "2026", "2026-13", "2026-1", "26-11", "2026/11", "abcd-ef", "1999-01",
        ] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
    }
}
