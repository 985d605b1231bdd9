//! The printable invoice's lines in one language: "29 ngày / 30 × 90.000.000 đ =
//! 84.193.548 đ" for a prorated lease fee, "12 × 1.200 đ = 14.400 đ" for overage, so every
//! line multiplies out as printed.

use crate::billing::invoice::Line;
use crate::lang::Lang;
use crate::web::pages::tr;

/// One line as printed.
pub struct LineView {
    pub description: String,
    /// "29 ngày / 30" (a share of the month) or a count of units.
    pub quantity: String,
    pub unit_price: String,
    pub amount: String,
    /// `quantity × unit price = amount`, written out.
    pub calc: String,
}

/// Money on an invoice: `90.000.000 đ`, and `0 đ` (never "free").
pub fn money(amount: i64) -> String {
    format!("{} đ", group(amount))
}

/// `1234567` → `1.234.567` (the Vietnamese grouping, in both languages of the page).
pub fn group(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('.');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// The stored description's half in `lang` (stored as "vi / en"; one text serves both).
fn half(description: &str, lang: Lang) -> &str {
    match (description.split_once(" / "), lang) {
        (Some((vi, _)), Lang::Vi) => vi,
        (Some((_, en)), Lang::En) => en,
        (None, _) => description,
    }
}

/// A lease fee line's dates, "01/10/2026 – 28/10/2026", from the stored description
/// ("… (01/10/2026 – 28/10/2026, 28/31 ngày)").
fn lease_dates(description: &str) -> Option<&str> {
    let open = description.rfind('(')?;
    let inside = &description[open + 1..];
    Some(inside.split(',').next()?.trim())
}

/// `l` printed in `lang`; `period_days` is the number of days of the invoice's month (a lease
/// fee is that share of the monthly fee).
pub fn line_view(l: &Line, period_days: Option<i64>, lang: Lang) -> LineView {
    let amount = money(l.amount_vnd);
    let lease = l.metric.is_none() && l.description.starts_with("Phí thuê gói");
    if let (true, Some(days)) = (lease, period_days) {
        let name = half(&l.description, lang);
        let name = name.split(" (").next().unwrap_or(name).trim();
        let description = match lease_dates(&l.description) {
            Some(dates) => format!("{name} ({dates})"),
            None => name.to_string(),
        };
        let quantity = format!("{} {} / {days}", l.quantity, tr(lang, "inv_days"));
        let unit_price = format!("{}/{}", money(l.unit_price_vnd), tr(lang, "inv_month"));
        let calc = format!("{quantity} × {} = {amount}", money(l.unit_price_vnd));
        return LineView {
            description,
            quantity,
            unit_price,
            amount,
            calc,
        };
    }
    let unit = match l.metric.as_deref() {
        Some("storage_bytes") => " GiB",
        _ => "",
    };
    let quantity = format!("{}{unit}", group(l.quantity));
    let unit_price = money(l.unit_price_vnd);
    LineView {
        description: half(&l.description, lang).to_string(),
        calc: format!("{quantity} × {unit_price} = {amount}"),
        quantity,
        unit_price,
        amount,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(days: i64, fee: i64, amount: i64) -> Line {
        Line {
            description: format!(
                "Phí thuê gói standard / Lease fee, plan standard (03/11/2026 – 30/11/2026, {days}/30 ngày)"
            ),
            metric: None,
            quantity: days,
            unit_price_vnd: fee,
            amount_vnd: amount,
        }
    }

    #[test]
    fn a_prorated_lease_line_shows_its_share_of_the_month_in_one_language() {
        let vi = line_view(&lease(29, 90_000_000, 87_000_000), Some(30), Lang::Vi);
        assert_eq!(vi.calc, "29 ngày / 30 × 90.000.000 đ = 87.000.000 đ");
        assert_eq!(
            vi.description,
            "Phí thuê gói standard (03/11/2026 – 30/11/2026)"
        );
        let en = line_view(&lease(29, 90_000_000, 87_000_000), Some(30), Lang::En);
        assert_eq!(en.calc, "29 days / 30 × 90.000.000 đ = 87.000.000 đ");
        assert_eq!(
            en.description,
            "Lease fee, plan standard (03/11/2026 – 30/11/2026)"
        );
        let over = Line {
            description: "Hồ sơ vượt mức / Dossiers over the allowance".into(),
            metric: Some("dossiers".into()),
            quantity: 1200,
            unit_price_vnd: 1500,
            amount_vnd: 1_800_000,
        };
        assert_eq!(
            line_view(&over, Some(30), Lang::En).calc,
            "1.200 × 1.500 đ = 1.800.000 đ"
        );
        assert_eq!(
            line_view(&over, Some(30), Lang::Vi).description,
            "Hồ sơ vượt mức"
        );
    }
}
