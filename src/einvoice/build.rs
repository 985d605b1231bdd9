//! From a finalized invoice, the seller's settings and the province's buyer details to the
//! [`EInvoice`] the XML writes. Nothing here reads the clock or the database: the caller
//! gives the number and the date.

use chrono::NaiveDate;

use super::EinvoiceError;
use super::model::{
    Correction, EInvoice, Line, Related, Seller, Series, TEMPLATE_VAT, TaxCode, VatRate,
};
use crate::billing::invoice::Invoice;
use crate::config::{EinvoiceSettings, SellerSettings};
use crate::error::FieldErrors;
use crate::lang::Msg;

/// The seller from `[seller]`, or the `seller.*` settings still missing or ill-formed.
pub fn seller(s: &SellerSettings) -> Result<Seller, FieldErrors> {
    let mut missing = FieldErrors::new();
    let fields = [
        ("seller.name", &s.name),
        ("seller.tax_code", &s.tax_code),
        ("seller.address", &s.address),
        ("seller.bank_account", &s.bank_account),
        ("seller.bank_name", &s.bank_name),
    ];
    for (key, value) in fields {
        if value.trim().is_empty() {
            missing.insert(
                key.to_string(),
                Msg::owned(
                    format!("Chưa cấu hình {key}."),
                    format!("{key} is not set."),
                ),
            );
        }
    }
    if !missing.is_empty() {
        return Err(missing);
    }
    Seller::new(
        &s.name,
        &s.tax_code,
        &s.address,
        &s.bank_account,
        &s.bank_name,
    )
    .map_err(|e| {
        let mut bad = FieldErrors::new();
        bad.insert(
            "seller".into(),
            Msg::owned(format!("Cấu hình người bán sai: {e}"), e.to_string()),
        );
        bad
    })
}

/// The unit of a line (`DVTinh`), in Vietnamese: a month of the lease, or the metric's unit.
fn unit(metric: Option<&str>) -> &'static str {
    match metric {
        None => "tháng",
        Some("dossiers") => "hồ sơ",
        Some("storage_bytes") => "byte",
        Some("api_calls") => "lượt gọi",
        Some("emails") => "thư",
        Some("seats") => "tài khoản",
        Some(_) => "lượt",
    }
}

/// The lines of `inv` at `rate`: quantity × unit price when that is the line's amount, else
/// one unit at the amount (a prorated month), so every line multiplies out. `sign` -1 makes
/// an adjustment's decrease.
pub fn lines(inv: &Invoice, rate: VatRate, sign: i64) -> Result<Vec<Line>, EinvoiceError> {
    inv.lines
        .iter()
        .map(|l| {
            let (q, p) = if l.quantity.checked_mul(l.unit_price_vnd) == Some(l.amount_vnd) {
                (l.quantity, l.unit_price_vnd)
            } else {
                (1, l.amount_vnd)
            };
            Line::new(&l.description, unit(l.metric.as_deref()), q, sign * p, rate)
        })
        .collect()
}

/// What one e-invoice needs beside the invoice.
pub struct Parts {
    pub seller: Seller,
    pub buyer: super::model::Buyer,
    pub number: u32,
    pub series: Series,
    pub issued_on: NaiveDate,
    pub related: Option<Related>,
}

/// The series of e-invoices issued on `day`.
pub fn series_on(s: &EinvoiceSettings, day: NaiveDate) -> Result<Series, EinvoiceError> {
    use chrono::Datelike;
    Series::for_year(&s.series_suffix, day.year())
}

/// The e-invoice of `inv` (VAT at `vat_rate_bp`), checked, its totals equal to the invoice's:
/// an e-invoice that says another amount than the invoice is never made.
pub fn einvoice(
    s: &EinvoiceSettings,
    inv: &Invoice,
    vat_rate_bp: i32,
    p: Parts,
) -> Result<EInvoice, EinvoiceError> {
    let rate = VatRate::from_bp(vat_rate_bp)?;
    let adjustment = matches!(
        &p.related,
        Some(Related {
            correction: Correction::Adjustment,
            ..
        })
    );
    let sign = if adjustment { -1 } else { 1 };
    let e = EInvoice {
        template: TEMPLATE_VAT.into(),
        series: p.series,
        number: p.number,
        issued_on: p.issued_on,
        payment_method: super::model::text("payment method", &s.payment_method, 50)?,
        provider_tax_code: TaxCode::parse(&s.provider_tax_code)?,
        seller: p.seller,
        buyer: p.buyer,
        lines: lines(inv, rate, sign)?,
        related: p.related,
    };
    e.check()?;
    let t = e.totals();
    if t.before_vat != sign * inv.subtotal_vnd || t.total != sign * inv.total_vnd {
        return Err(EinvoiceError::Invalid(format!(
            "the e-invoice's totals ({} + {}) are not invoice {}'s ({} + {})",
            t.before_vat, t.vat, inv.number, inv.subtotal_vnd, inv.vat_vnd
        )));
    }
    Ok(e)
}
