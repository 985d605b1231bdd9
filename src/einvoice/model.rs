//! An e-invoice as the tax authority's message describes it (Decree 123/2020 as amended by
//! Decree 70/2025; message format 2.1.0). Every type checks itself on construction, so the
//! XML writer only writes: a value that exists is one the format accepts.

use chrono::NaiveDate;

use super::EinvoiceError;
use crate::billing::money::{Vnd, div_round};

/// The template symbol (`KHMSHDon`): 1 = value-added-tax invoice.
pub const TEMPLATE_VAT: &str = "1";
/// The message version (`PBan`).
pub const MESSAGE_VERSION: &str = "2.1.0";
/// The currency (`DVTTe`): the operator bills in đồng only.
pub const CURRENCY: &str = "VND";

fn bad(why: impl Into<String>) -> EinvoiceError {
    EinvoiceError::Invalid(why.into())
}

/// Trimmed text, non-empty and at most `max` characters (the field table's lengths).
pub fn text(field: &str, value: &str, max: usize) -> Result<String, EinvoiceError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(bad(format!("{field} is empty")));
    }
    if v.chars().count() > max {
        return Err(bad(format!("{field} is longer than {max} characters")));
    }
    if v.chars().any(|c| c.is_control()) {
        return Err(bad(format!("{field} holds a control character")));
    }
    Ok(v.to_string())
}

/// The 6-character series (`KHHDon`), e.g. `C26TPO`: `C` (the tax authority gives each
/// invoice a code), the year's last two digits, `T` (issued by a registered organisation),
/// then the issuer's own two characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Series(String);

impl Series {
    pub fn parse(s: &str) -> Result<Series, EinvoiceError> {
        let b = s.as_bytes();
        let ok = b.len() == 6
            && matches!(b[0], b'C' | b'K')
            && b[1].is_ascii_digit()
            && b[2].is_ascii_digit()
            && matches!(b[3], b'T' | b'D' | b'L' | b'M' | b'N' | b'B' | b'G' | b'H')
            && b[4..]
                .iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if ok {
            Ok(Series(s.to_string()))
        } else {
            Err(bad(format!("series {s:?} is not like C26TPO")))
        }
    }

    /// The series of `year` with the issuer's two characters `suffix` (`PO`).
    pub fn for_year(suffix: &str, year: i32) -> Result<Series, EinvoiceError> {
        Series::parse(&format!("C{:02}T{suffix}", year.rem_euclid(100)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A tax code (`MST`): 10 digits, or 10 digits, a dash and a 3-digit branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxCode(String);

impl TaxCode {
    pub fn parse(s: &str) -> Result<TaxCode, EinvoiceError> {
        let s = s.trim();
        let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|c| c.is_ascii_digit());
        let ok = match s.split_once('-') {
            None => digits(s, 10),
            Some((head, branch)) => digits(head, 10) && digits(branch, 3),
        };
        if ok {
            Ok(TaxCode(s.to_string()))
        } else {
            Err(bad(format!(
                "tax code {s:?} is not 10 digits (or 10-3 for a branch)"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A budget-relationship unit code (mã đơn vị có quan hệ với ngân sách, `MDVQHNSach`): the
/// 7 digits the State Treasury gives a state body that has no tax code of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetUnitCode(String);

impl BudgetUnitCode {
    pub fn parse(s: &str) -> Result<BudgetUnitCode, EinvoiceError> {
        let s = s.trim();
        if s.len() == 7 && s.bytes().all(|c| c.is_ascii_digit()) {
            Ok(BudgetUnitCode(s.to_string()))
        } else {
            Err(bad(format!("budget unit code {s:?} is not 7 digits")))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A line's VAT rate (`TSuat`) as the format spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VatRate {
    /// "KCT": not subject to VAT.
    Exempt,
    /// "8%": the reduced rate of Resolution 204/2025/QH15 (until the end of 2026).
    Eight,
    /// "10%": the standard rate.
    Ten,
}

impl VatRate {
    pub fn label(self) -> &'static str {
        match self {
            VatRate::Exempt => "KCT",
            VatRate::Eight => "8%",
            VatRate::Ten => "10%",
        }
    }

    /// The rate of an invoice (`vat_rate_bp`): 800, 1000, or 0 for not subject to VAT.
    pub fn from_bp(bp: i32) -> Result<VatRate, EinvoiceError> {
        match bp {
            0 => Ok(VatRate::Exempt),
            800 => Ok(VatRate::Eight),
            1000 => Ok(VatRate::Ten),
            _ => Err(bad(format!("no e-invoice VAT rate for {bp} basis points"))),
        }
    }

    pub fn bp(self) -> i32 {
        match self {
            VatRate::Exempt => 0,
            VatRate::Eight => 800,
            VatRate::Ten => 1000,
        }
    }

    /// The tax on `taxable` at this rate, rounded half away from zero as the invoice does.
    pub fn tax_on(self, taxable: i64) -> i64 {
        div_round(i128::from(taxable) * i128::from(self.bp()), 10_000) as i64
    }
}

/// A line's nature (`TChat`): 1 goods or service, 2 promotion, 3 trade discount, 4 note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nature {
    Service = 1,
    Promotion = 2,
    Discount = 3,
    Note = 4,
}

/// One line (`HHDVu`). `amount = quantity × unit_price` exactly: a line that does not
/// multiply out is never written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub nature: Nature,
    pub name: String,
    pub unit: String,
    pub quantity: i64,
    pub unit_price: i64,
    pub amount: i64,
    pub rate: VatRate,
}

impl Line {
    pub fn new(
        name: &str,
        unit: &str,
        quantity: i64,
        unit_price: i64,
        rate: VatRate,
    ) -> Result<Line, EinvoiceError> {
        let amount = quantity
            .checked_mul(unit_price)
            .ok_or_else(|| bad("a line's amount overflows"))?;
        if amount.unsigned_abs() >= 10u64.pow(15) {
            return Err(bad("a line's amount is over the format's 15 digits"));
        }
        Ok(Line {
            nature: Nature::Service,
            name: text("line name", name, 500)?,
            unit: text("line unit", unit, 50)?,
            quantity,
            unit_price,
            amount,
            rate,
        })
    }
}

/// The seller (`NBan`): the operator, from the settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seller {
    pub name: String,
    pub tax_code: TaxCode,
    pub address: String,
    pub bank_account: String,
    pub bank_name: String,
}

impl Seller {
    pub fn new(
        name: &str,
        tax_code: &str,
        address: &str,
        bank_account: &str,
        bank_name: &str,
    ) -> Result<Seller, EinvoiceError> {
        Ok(Seller {
            name: text("seller name", name, 400)?,
            tax_code: TaxCode::parse(tax_code)?,
            address: text("seller address", address, 400)?,
            bank_account: text("seller bank account", bank_account, 30)?,
            bank_name: text("seller bank name", bank_name, 400)?,
        })
    }
}

/// How the buyer is identified to the tax authority: a state body has a tax code or a
/// budget-relationship unit code; an e-invoice needs one of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuyerId {
    TaxCode(TaxCode),
    BudgetUnit(BudgetUnitCode),
    Both(TaxCode, BudgetUnitCode),
}

/// The buyer (`NMua`): the province.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buyer {
    pub name: String,
    pub id: BuyerId,
    pub address: String,
    pub email: Option<String>,
}

/// What makes an adjustment or a replacement (`TCHDon`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Correction {
    /// `TCHDon=1`: this invoice replaces the original.
    Replacement = 1,
    /// `TCHDon=2`: this invoice adjusts the original (amounts are the difference).
    Adjustment = 2,
}

/// The original an adjustment or a replacement names (`TTHDLQuan`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    pub correction: Correction,
    pub template: String,
    pub series: Series,
    pub number: u32,
    pub issued_on: NaiveDate,
    pub note: String,
}

/// One e-invoice, ready to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EInvoice {
    pub template: String,
    pub series: Series,
    /// Gapless per series and year, from 1 (`SHDon`, at most 8 digits).
    pub number: u32,
    pub issued_on: NaiveDate,
    pub payment_method: String,
    /// The provider's tax code (`MSTTCGP`).
    pub provider_tax_code: TaxCode,
    pub seller: Seller,
    pub buyer: Buyer,
    pub lines: Vec<Line>,
    pub related: Option<Related>,
}

/// The sums of one VAT rate (`LTSuat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateSum {
    pub rate: VatRate,
    pub taxable: i64,
    pub tax: i64,
}

/// The totals (`TToan`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Totals {
    pub per_rate: Vec<RateSum>,
    pub before_vat: i64,
    pub vat: i64,
    pub total: i64,
    pub in_words: String,
}

impl EInvoice {
    /// Checks what no single field can: lines present, numbers in range, negative amounts
    /// only on an adjustment (a decrease), the sums within the format's digits.
    pub fn check(&self) -> Result<(), EinvoiceError> {
        if self.lines.is_empty() || self.lines.len() > 999 {
            return Err(bad("an e-invoice has 1 to 999 lines"));
        }
        if self.number == 0 || self.number > 99_999_999 {
            return Err(bad("the number is 1 to 99999999"));
        }
        if self.template != TEMPLATE_VAT {
            return Err(bad("the template symbol is 1 (VAT invoice)"));
        }
        let adjustment = matches!(
            &self.related,
            Some(Related {
                correction: Correction::Adjustment,
                ..
            })
        );
        if !adjustment && self.lines.iter().any(|l| l.amount < 0) {
            return Err(bad("only an adjustment has negative amounts"));
        }
        if let Some(r) = &self.related {
            if r.number == 0 || r.issued_on > self.issued_on {
                return Err(bad("the related invoice is not an earlier one"));
            }
        }
        let t = self.totals();
        if t.total.unsigned_abs() >= 10u64.pow(15) {
            return Err(bad("the total is over the format's 15 digits"));
        }
        Ok(())
    }

    /// The per-rate sums and totals: each rate's tax on its own sum, in integer đồng.
    pub fn totals(&self) -> Totals {
        let mut per_rate: Vec<RateSum> = Vec::new();
        for rate in [VatRate::Ten, VatRate::Eight, VatRate::Exempt] {
            let lines: Vec<&Line> = self.lines.iter().filter(|l| l.rate == rate).collect();
            if lines.is_empty() {
                continue;
            }
            let taxable: i64 = lines.iter().map(|l| l.amount).sum();
            per_rate.push(RateSum {
                rate,
                taxable,
                tax: rate.tax_on(taxable),
            });
        }
        let before_vat = per_rate.iter().map(|r| r.taxable).sum();
        let vat = per_rate.iter().map(|r| r.tax).sum();
        let total = before_vat + vat;
        Totals {
            per_rate,
            before_vat,
            vat,
            total,
            in_words: crate::billing::words::in_words(Vnd(total)),
        }
    }
}
