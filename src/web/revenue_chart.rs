//! The console's revenue chart: invoiced and paid per month as server-drawn SVG columns (no
//! script), with a title, a description and a table of the same figures for screen readers
//! and narrow screens.

use crate::billing::revenue::MonthRevenue;
use crate::lang::Lang;
use crate::web::close_pages::money;
use crate::web::pages::tr;

/// The drawing's coordinates (`viewBox="0 0 360 185"`): 30 units a month, columns standing
/// on `BASELINE`, the tallest reaching `BASELINE - PLOT_HEIGHT`.
const MONTH_WIDTH: i64 = 30;
const BAR_WIDTH: i64 = 12;
pub const BASELINE: i64 = 150;
pub const PLOT_HEIGHT: i64 = 130;

/// One column.
pub struct Bar {
    pub x: i64,
    pub y: i64,
    pub height: i64,
    /// The amount it stands for (also in `data-vnd`, which the tests read).
    pub vnd: i64,
    pub period: String,
    /// `bar-invoiced` or `bar-paid`.
    pub class: &'static str,
    /// Its tooltip: the period and the amount.
    pub title: String,
}

/// One month in the table (and its label under the columns).
pub struct MonthView {
    pub period: String,
    /// The month (`10`) under its columns; 30 units hold no more at a readable size.
    pub label: String,
    /// The year (`2026`) under the first month and every January.
    pub year: Option<String>,
    pub label_x: i64,
    pub invoiced: String,
    pub paid: String,
    pub outstanding: String,
}

pub struct RevenueChart {
    pub title: String,
    pub desc: String,
    /// The top grid line's amount.
    pub highest: String,
    pub bars: Vec<Bar>,
    pub months: Vec<MonthView>,
    /// Nothing invoiced in any of the months.
    pub empty: bool,
}

/// `amount` of `max` as a column height, rounded to the nearest unit.
pub fn height(amount: i64, max: i64) -> i64 {
    if max <= 0 || amount <= 0 {
        return 0;
    }
    let h = (i128::from(amount) * i128::from(PLOT_HEIGHT) * 2 + i128::from(max))
        / (2 * i128::from(max));
    h as i64
}

fn month_label(m: &MonthRevenue) -> String {
    m.period.first_day().format("%m/%y").to_string()
}

pub fn chart(months: &[MonthRevenue], lang: Lang) -> RevenueChart {
    let max = months
        .iter()
        .map(|m| m.invoiced_vnd.max(m.paid_vnd))
        .max()
        .unwrap_or(0);
    let mut bars = Vec::new();
    for (i, m) in months.iter().enumerate() {
        let left = i as i64 * MONTH_WIDTH + 3;
        for (offset, vnd, class, key) in [
            (0, m.invoiced_vnd, "bar-invoiced", "rev_invoiced"),
            (BAR_WIDTH, m.paid_vnd, "bar-paid", "rev_paid"),
        ] {
            let h = height(vnd, max);
            bars.push(Bar {
                x: left + offset,
                y: BASELINE - h,
                height: h,
                vnd,
                period: m.period.to_string(),
                class,
                title: format!(
                    "{} · {}: {}",
                    month_label(m),
                    tr(lang, key),
                    money(vnd, lang)
                ),
            });
        }
    }
    let span = match (months.first(), months.last()) {
        (Some(a), Some(b)) => format!(
            "{} {} {} {}",
            tr(lang, "rev_from_to"),
            a.period.first_day().format("%m/%Y"),
            tr(lang, "rev_to"),
            b.period.first_day().format("%m/%Y")
        ),
        _ => String::new(),
    };
    let top = months.iter().max_by_key(|m| m.invoiced_vnd);
    let highest = match top {
        Some(m) if m.invoiced_vnd > 0 => format!(
            " {}: {} ({}).",
            tr(lang, "rev_highest"),
            money(m.invoiced_vnd, lang),
            m.period.first_day().format("%m/%Y")
        ),
        _ => String::new(),
    };
    RevenueChart {
        title: format!("{}, {span}", tr(lang, "rev_title")),
        desc: format!("{}{highest}", tr(lang, "rev_desc")),
        highest: money(max, lang),
        empty: max == 0,
        months: months
            .iter()
            .enumerate()
            .map(|(i, m)| MonthView {
                period: m.period.to_string(),
                label: m.period.first_day().format("%m").to_string(),
                year: (i == 0 || m.period.first_day().format("%m").to_string() == "01")
                    .then(|| m.period.first_day().format("%Y").to_string()),
                label_x: i as i64 * MONTH_WIDTH + 15,
                invoiced: money(m.invoiced_vnd, lang),
                paid: money(m.paid_vnd, lang),
                outstanding: money(m.invoiced_vnd - m.paid_vnd, lang),
            })
            .collect(),
        bars,
    }
}

#[cfg(test)]
mod tests {
    use super::height;

    #[test]
    fn columns_are_proportional_and_rounded() {
        assert_eq!(height(0, 100), 0);
        assert_eq!(height(100, 100), super::PLOT_HEIGHT);
        assert_eq!(height(50, 100), 65);
        assert_eq!(height(1, 1_000_000), 0);
        assert_eq!(height(5, 0), 0);
        // No overflow at the largest amounts.
        assert_eq!(height(i64::MAX, i64::MAX), super::PLOT_HEIGHT);
    }
}
