//! Money: whole đồng (VND has no minor unit), and the arithmetic invoices are made of.
//!
//! Rounding rule (one, documented): exact amounts are rational; a set of lines is rounded
//! *cumulatively*, each line being round(running exact total) − round(previous running total),
//! half away from zero. So the lines always add up to the rounded exact total, each line is
//! within 1 ₫ of its exact value, and a month split into any number of lease segments at the
//! same fee sums to exactly that fee.

use std::fmt;

use chrono::NaiveDate;
use serde::Serialize;

/// An amount in Vietnamese đồng.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
#[serde(transparent)]
pub struct Vnd(pub i64);

impl Vnd {
    /// `self + other`, `None` past `i64`'s range.
    pub fn checked_add(self, other: Vnd) -> Option<Vnd> {
        self.0.checked_add(other.0).map(Vnd)
    }
}

impl fmt::Display for Vnd {
    /// `1.234.567 ₫` (Vietnamese grouping).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.0.unsigned_abs().to_string();
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push('.');
            }
            grouped.push(c);
        }
        write!(f, "{}{grouped} ₫", if self.0 < 0 { "-" } else { "" })
    }
}

/// Why an amount could not be computed: never a wrap, never a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("amount out of range")]
    Overflow,
    #[error("absurd quantity {0}")]
    AbsurdQuantity(i64),
}

/// The most units one invoice line may bill (a trillion: far beyond any province's month).
pub const MAX_UNITS: i64 = 1_000_000_000_000;

/// `units × unit_price`: a quantity outside `0..=MAX_UNITS` is refused as absurd, a product
/// past `i64` is an overflow; never a wrapped or saturated amount.
pub fn line_amount(units: i64, unit_price: Vnd) -> Result<Vnd, MoneyError> {
    if !(0..=MAX_UNITS).contains(&units) {
        return Err(MoneyError::AbsurdQuantity(units));
    }
    units
        .checked_mul(unit_price.0)
        .map(Vnd)
        .ok_or(MoneyError::Overflow)
}

/// The exact sum of `amounts`, or an overflow when it leaves `i64`.
pub fn total(amounts: impl IntoIterator<Item = Vnd>) -> Result<Vnd, MoneyError> {
    let exact: i128 = amounts.into_iter().map(|v| i128::from(v.0)).sum();
    i64::try_from(exact)
        .map(Vnd)
        .map_err(|_| MoneyError::Overflow)
}

/// `num / den` rounded half away from zero (`den > 0`).
pub fn div_round(num: i128, den: i128) -> i128 {
    let q = num / den;
    let r = num % den;
    if 2 * r.abs() >= den {
        q + num.signum()
    } else {
        q
    }
}

/// Rounds exact rational amounts `(numerator, denominator)` cumulatively (see the module doc).
pub fn round_lines(exact: &[(i128, i128)]) -> Vec<i64> {
    let mut out = Vec::with_capacity(exact.len());
    // Running total as a fraction over the product of denominators would overflow; the
    // denominators here are all the period's day count, so a common one is passed in.
    let mut running_num: i128 = 0;
    let mut previous: i128 = 0;
    let den = exact.first().map(|e| e.1).unwrap_or(1);
    for &(num, d) in exact {
        debug_assert_eq!(d, den, "round_lines needs a common denominator");
        running_num += num;
        let rounded = div_round(running_num, den);
        out.push((rounded - previous) as i64);
        previous = rounded;
    }
    out
}

/// One plan in force over part of a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub plan: String,
    pub monthly_fee: Vnd,
    pub from: NaiveDate,
    /// Exclusive.
    pub until: NaiveDate,
}

/// The lease fee of each segment, prorated by days: fee × days / days in the month.
pub fn prorate(segments: &[Segment], days_in_period: i64) -> Vec<Vnd> {
    let exact: Vec<(i128, i128)> = segments
        .iter()
        .map(|s| {
            (
                i128::from(s.monthly_fee.0) * i128::from((s.until - s.from).num_days()),
                i128::from(days_in_period),
            )
        })
        .collect();
    round_lines(&exact).into_iter().map(Vnd).collect()
}

/// Bytes in one GiB: storage overage is billed per started GiB.
pub const GIB: i64 = 1 << 30;

/// Billable units over the allowance: counters count units, storage counts started GiB.
pub fn overage_units(metric: &str, used: i64, included: i64) -> i64 {
    let over = used.saturating_sub(included).max(0);
    if metric == "storage_bytes" {
        over / GIB + i64::from(over % GIB != 0)
    } else {
        over
    }
}

/// VAT as [`vat`], an overflow when it leaves `i64` (a rate over 100%, a subtotal near the
/// limit).
pub fn checked_vat(subtotal: Vnd, rate_bp: i32) -> Result<Vnd, MoneyError> {
    let exact = div_round(i128::from(subtotal.0) * i128::from(rate_bp), 10_000);
    i64::try_from(exact)
        .map(Vnd)
        .map_err(|_| MoneyError::Overflow)
}

/// VAT on a subtotal at `rate_bp` basis points (800 = 8%), rounded half away from zero.
pub fn vat(subtotal: Vnd, rate_bp: i32) -> Vnd {
    Vnd(div_round(i128::from(subtotal.0) * i128::from(rate_bp), 10_000) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn formats_like_vietnamese_invoices() {
        assert_eq!(Vnd(1_234_567).to_string(), "1.234.567 ₫");
        assert_eq!(Vnd(0).to_string(), "0 ₫");
        assert_eq!(Vnd(-5000).to_string(), "-5.000 ₫");
    }

    #[test]
    fn a_plan_change_mid_month_prorates_by_days() {
        let segments = [
            Segment {
                plan: "basic".into(),
                monthly_fee: Vnd(15_000_000),
                from: d("2026-11-01"),
                until: d("2026-11-16"),
            },
            Segment {
                plan: "premium".into(),
                monthly_fee: Vnd(90_000_000),
                from: d("2026-11-16"),
                until: d("2026-12-01"),
            },
        ];
        // 15M × 15/30 + 90M × 15/30
        assert_eq!(
            prorate(&segments, 30),
            vec![Vnd(7_500_000), Vnd(45_000_000)]
        );
    }

    #[test]
    fn vat_and_overage() {
        assert_eq!(vat(Vnd(1_000_000), 800), Vnd(80_000));
        assert_eq!(vat(Vnd(1_000_005), 800), Vnd(80_000));
        assert_eq!(vat(Vnd(1_000_007), 1000), Vnd(100_001));
        assert_eq!(overage_units("dossiers", 3100, 3000), 100);
        assert_eq!(overage_units("dossiers", 10, 3000), 0);
        assert_eq!(overage_units("storage_bytes", GIB * 5 + 1, GIB * 5), 1);
        assert_eq!(overage_units("storage_bytes", GIB * 7, GIB * 5), 2);
    }

    #[test]
    fn an_overflowing_amount_is_an_error_not_a_wrap() {
        assert_eq!(line_amount(3, Vnd(1_200)), Ok(Vnd(3_600)));
        assert_eq!(
            line_amount(MAX_UNITS, Vnd(i64::MAX / 2)),
            Err(MoneyError::Overflow)
        );
        assert_eq!(
            line_amount(MAX_UNITS + 1, Vnd(1)),
            Err(MoneyError::AbsurdQuantity(MAX_UNITS + 1))
        );
        assert_eq!(line_amount(-1, Vnd(1)), Err(MoneyError::AbsurdQuantity(-1)));
        assert_eq!(total([Vnd(1), Vnd(2)]), Ok(Vnd(3)));
        assert_eq!(total([Vnd(i64::MAX), Vnd(1)]), Err(MoneyError::Overflow));
        assert_eq!(Vnd(i64::MAX).checked_add(Vnd(1)), None);
        assert_eq!(
            checked_vat(Vnd(i64::MAX), 20_000),
            Err(MoneyError::Overflow)
        );
        assert_eq!(
            checked_vat(Vnd(i64::MAX), 1000),
            Ok(vat(Vnd(i64::MAX), 1000))
        );
        assert_eq!(checked_vat(Vnd(1_000_000), 800), Ok(Vnd(80_000)));
    }

    proptest! {
        /// Any quantity and price: the product is exact or an error, never a wrapped value.
        #[test]
        fn a_line_is_exact_or_refused(units in any::<i64>(), price in 0i64..=i64::MAX) {
            match line_amount(units, Vnd(price)) {
                Ok(v) => prop_assert_eq!(i128::from(v.0), i128::from(units) * i128::from(price)),
                Err(MoneyError::AbsurdQuantity(q)) => prop_assert!(!(0..=MAX_UNITS).contains(&q)),
                Err(MoneyError::Overflow) => prop_assert!(i128::from(units) * i128::from(price) > i128::from(i64::MAX)),
            }
        }

        /// A total is the exact sum or an error.
        #[test]
        fn a_total_is_exact_or_refused(amounts in proptest::collection::vec(any::<i64>(), 0..8)) {
            let exact: i128 = amounts.iter().map(|a| i128::from(*a)).sum();
            match total(amounts.iter().copied().map(Vnd)) {
                Ok(v) => prop_assert_eq!(i128::from(v.0), exact),
                Err(_) => prop_assert!(exact > i128::from(i64::MAX) || exact < i128::from(i64::MIN)),
            }
        }
    }

    proptest! {
        /// Any split of a month at one fee sums to exactly the fee.
        #[test]
        fn proration_over_any_split_sums_to_the_monthly_fee(fee in 0i64..1_000_000_000, cuts in proptest::collection::btree_set(1i64..31, 0..6)) {
            let start = d("2026-01-01");
            let mut bounds: Vec<i64> = vec![0];
            bounds.extend(cuts.iter().copied());
            bounds.push(31);
            let segments: Vec<Segment> = bounds.windows(2).map(|w| Segment {
                plan: "p".into(), monthly_fee: Vnd(fee),
                from: start + chrono::Duration::days(w[0]), until: start + chrono::Duration::days(w[1]),
            }).collect();
            let parts = prorate(&segments, 31);
            prop_assert_eq!(parts.iter().map(|v| v.0).sum::<i64>(), fee);
            for (p, s) in parts.iter().zip(&segments) {
                let exact = fee as f64 * (s.until - s.from).num_days() as f64 / 31.0;
                prop_assert!((p.0 as f64 - exact).abs() <= 1.0);
            }
        }

        /// Different fees: the lines add up to the rounded exact total, each within 1 ₫.
        #[test]
        fn lines_always_sum_to_the_rounded_total(fees in proptest::collection::vec(0i64..200_000_000, 1..6), days in 28i64..=31) {
            let n = fees.len() as i64;
            let start = d("2026-02-01");
            let segments: Vec<Segment> = fees.iter().enumerate().map(|(i, f)| {
                let a = i as i64 * days / n;
                let b = (i as i64 + 1) * days / n;
                Segment { plan: "p".into(), monthly_fee: Vnd(*f), from: start + chrono::Duration::days(a), until: start + chrono::Duration::days(b) }
            }).collect();
            let parts = prorate(&segments, days);
            let exact: i128 = segments.iter().map(|s| i128::from(s.monthly_fee.0) * i128::from((s.until - s.from).num_days())).sum();
            prop_assert_eq!(i128::from(parts.iter().map(|v| v.0).sum::<i64>()), div_round(exact, i128::from(days)));
        }
    }
}
