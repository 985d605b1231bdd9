//! Fee e-receipts (biên lai điện tử, Decree 123/2020): issued in the transaction that marks a
//! dossier's fee paid, numbered without gaps per province series and year, never edited. A
//! mistake is voided (who, why) and replaced by a receipt with the next number naming it.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;

use super::store::DossierRow;
use crate::billing::money::Vnd;
use crate::billing::words::in_words;
use crate::db::schema::{fee_receipt_counters, fee_receipts, payments};
use crate::error::AppError;
use crate::lang::Msg;
use crate::tenancy::Tenant;

/// The template of a fee receipt without a printed face value (mẫu số 01BLP0, Circular
/// 78/2021 as amended by Circular 32/2025), first version.
pub const TEMPLATE: &str = "01BLP0-001";

/// The law every fee and charge stands on, printed when the catalog names no narrower basis.
pub const GENERAL_BASIS: &str = "Luật Phí và lệ phí số 97/2015/QH13";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = fee_receipts)]
pub struct FeeReceiptRow {
    pub id: i64,
    pub dossier_id: i64,
    pub template: String,
    pub series: String,
    pub year: i32,
    pub number: i64,
    pub issued_on: NaiveDate,
    pub issued_at: DateTime<Utc>,
    pub issuer_name: String,
    pub payer_name: String,
    pub procedure_code: String,
    pub description: String,
    pub amount_vnd: i64,
    pub amount_words: String,
    pub legal_basis: String,
    pub payment_method: String,
    pub payment_reference: Option<String>,
    pub replaces_id: Option<i64>,
    pub voided_at: Option<DateTime<Utc>>,
    pub voided_by: Option<String>,
    pub void_reason: Option<String>,
}

impl FeeReceiptRow {
    /// As printed: `0000042` (seven digits).
    pub fn number_text(&self) -> String {
        format!("{:07}", self.number)
    }

    /// The receipt's symbol (ký hiệu): the province's series, the year's last two digits, `E`
    /// for electronic, e.g. `HNO-26E`.
    pub fn symbol(&self) -> String {
        format!("{}-{:02}E", self.series, self.year.rem_euclid(100))
    }
}

#[derive(Insertable)]
#[diesel(table_name = fee_receipts)]
struct NewFeeReceipt<'a> {
    dossier_id: i64,
    template: &'a str,
    series: &'a str,
    year: i32,
    number: i64,
    issued_on: NaiveDate,
    issued_at: DateTime<Utc>,
    issuer_name: &'a str,
    payer_name: &'a str,
    procedure_code: &'a str,
    description: &'a str,
    amount_vnd: i64,
    amount_words: &'a str,
    legal_basis: &'a str,
    payment_method: &'a str,
    payment_reference: Option<&'a str>,
    replaces_id: Option<i64>,
}

/// The next number of `series` in `year`. The upsert takes the counter row's lock until the
/// caller's transaction ends, so concurrent payments queue on it and a rolled-back payment
/// gives its number back: no gap, no duplicate.
fn next_number(conn: &mut PgConnection, series: &str, year: i32) -> Result<i64, AppError> {
    use fee_receipt_counters::dsl as c;
    Ok(diesel::insert_into(c::fee_receipt_counters)
        .values((
            c::series.eq(series),
            c::year.eq(i64::from(year)),
            c::last_number.eq(1i64),
        ))
        .on_conflict((c::series, c::year))
        .do_update()
        .set(c::last_number.eq(c::last_number + 1i64))
        .returning(c::last_number)
        .get_result(conn)?)
}

/// How the fee was paid, from the payment confirmed last: `transfer` to the province's account
/// (with its reference), `online` through a provider, else
/// `counter` (cash or card at the desk), with the provider's reference when there is one.
fn payment_of(
    conn: &mut PgConnection,
    dossier_id: i64,
) -> Result<(&'static str, Option<String>), AppError> {
    let confirmed: Option<(String, String)> = payments::table
        .filter(payments::dossier_id.eq(dossier_id))
        .filter(payments::status.eq("confirmed"))
        .order(payments::created_at.desc())
        .select((payments::provider, payments::reference))
        .first(conn)
        .optional()?;
    Ok(match confirmed {
        Some((provider, reference)) if provider == crate::payments::transfer::PROVIDER => {
            ("transfer", Some(reference))
        }
        Some((provider, reference)) if provider != "counter" => {
            ("online", Some(format!("{provider}:{reference}")))
        }
        Some((_, reference)) => ("counter", Some(reference)),
        None => ("counter", None),
    })
}

/// Issues the receipt of the fee just paid on `dossier` (locked by the caller, in the
/// transaction that records the payment). A fee of 0 ₫ collects nothing and gets no receipt.
pub fn issue_for_payment(
    conn: &mut PgConnection,
    tenant: &Tenant,
    dossier: &DossierRow,
) -> Result<Option<FeeReceiptRow>, AppError> {
    if dossier.fee_vnd <= 0 {
        return Ok(None);
    }
    let (method, reference) = payment_of(conn, dossier.id)?;
    let procedure = crate::catalog::national().get(&dossier.procedure_code);
    let description = procedure
        .map(|p| format!("Phí, lệ phí: {}", p.name.vi))
        .unwrap_or_else(|| format!("Phí, lệ phí thủ tục {}", dossier.procedure_code));
    let basis = procedure
        .and_then(|p| p.fee_basis.clone())
        .unwrap_or_else(|| GENERAL_BASIS.to_string());
    let draft = Draft {
        dossier_id: dossier.id,
        issuer_name: tenant.name.clone(),
        payer_name: dossier.applicant_name.clone(),
        procedure_code: dossier.procedure_code.clone(),
        description,
        amount_vnd: dossier.fee_vnd,
        legal_basis: basis,
        payment_method: method.to_string(),
        payment_reference: reference,
        replaces_id: None,
    };
    insert(conn, tenant, &draft).map(Some)
}

/// What a receipt says, before it gets its number.
struct Draft {
    dossier_id: i64,
    issuer_name: String,
    payer_name: String,
    procedure_code: String,
    description: String,
    amount_vnd: i64,
    legal_basis: String,
    payment_method: String,
    payment_reference: Option<String>,
    replaces_id: Option<i64>,
}

fn insert(conn: &mut PgConnection, tenant: &Tenant, d: &Draft) -> Result<FeeReceiptRow, AppError> {
    let now = crate::clock::now();
    let issued_on = crate::clock::vn_date(now);
    let year = issued_on.year();
    let series = tenant.code.as_str();
    let number = next_number(conn, series, year)?;
    let words = in_words(Vnd(d.amount_vnd));
    Ok(diesel::insert_into(fee_receipts::table)
        .values(&NewFeeReceipt {
            dossier_id: d.dossier_id,
            template: TEMPLATE,
            series,
            year,
            number,
            issued_on,
            issued_at: now,
            issuer_name: &d.issuer_name,
            payer_name: &d.payer_name,
            procedure_code: &d.procedure_code,
            description: &d.description,
            amount_vnd: d.amount_vnd,
            amount_words: &words,
            legal_basis: &d.legal_basis,
            payment_method: &d.payment_method,
            payment_reference: d.payment_reference.as_deref(),
            replaces_id: d.replaces_id,
        })
        .returning(FeeReceiptRow::as_returning())
        .get_result(conn)?)
}

/// Every receipt of a dossier, oldest first.
pub fn of_dossier(
    conn: &mut PgConnection,
    dossier_id: i64,
) -> Result<Vec<FeeReceiptRow>, AppError> {
    Ok(fee_receipts::table
        .filter(fee_receipts::dossier_id.eq(dossier_id))
        .order(fee_receipts::id.asc())
        .select(FeeReceiptRow::as_select())
        .load(conn)?)
}

/// The dossier's receipt in force: the newest one not voided.
pub fn current(
    conn: &mut PgConnection,
    dossier_id: i64,
) -> Result<Option<FeeReceiptRow>, AppError> {
    Ok(fee_receipts::table
        .filter(fee_receipts::dossier_id.eq(dossier_id))
        .filter(fee_receipts::voided_at.is_null())
        .order(fee_receipts::id.desc())
        .select(FeeReceiptRow::as_select())
        .first(conn)
        .optional()?)
}

/// A void's reason: required, trimmed, at most 500 characters.
#[derive(Debug, Clone)]
pub struct VoidReason(String);

impl VoidReason {
    pub fn parse(input: &str) -> Result<VoidReason, AppError> {
        let r = input.trim();
        if r.is_empty() || r.chars().count() > 500 {
            return Err(AppError::invalid(
                "reason",
                Msg::new(
                    "Nhập lý do hủy biên lai (tối đa 500 ký tự).",
                    "Give the reason for voiding the receipt (at most 500 characters).",
                ),
            ));
        }
        Ok(VoidReason(r.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Voids the dossier's receipt in force and issues its replacement (same content, the next
/// number, naming the voided one), in the caller's transaction. No receipt in force: 409.
pub fn void_and_replace(
    conn: &mut PgConnection,
    tenant: &Tenant,
    dossier: &DossierRow,
    by: &str,
    reason: &VoidReason,
) -> Result<(FeeReceiptRow, FeeReceiptRow), AppError> {
    let old: Option<FeeReceiptRow> = fee_receipts::table
        .filter(fee_receipts::dossier_id.eq(dossier.id))
        .filter(fee_receipts::voided_at.is_null())
        .order(fee_receipts::id.desc())
        .select(FeeReceiptRow::as_select())
        .for_update()
        .first(conn)
        .optional()?;
    let old = old.ok_or_else(|| {
        AppError::conflict(
            "no_fee_receipt",
            Msg::new(
                "Hồ sơ chưa có biên lai phí, lệ phí nào để hủy.",
                "The dossier has no fee receipt to void.",
            ),
        )
    })?;
    let voided = diesel::update(fee_receipts::table.find(old.id))
        .set((
            fee_receipts::voided_at.eq(Some(crate::clock::now())),
            fee_receipts::voided_by.eq(Some(by)),
            fee_receipts::void_reason.eq(Some(reason.as_str())),
        ))
        .returning(FeeReceiptRow::as_returning())
        .get_result(conn)?;
    // The payer is the dossier's applicant as it stands now: a misspelt name is the usual
    // reason for a void; the amount and basis are what was paid.
    let replacement = insert(
        conn,
        tenant,
        &Draft {
            dossier_id: old.dossier_id,
            issuer_name: tenant.name.clone(),
            payer_name: dossier.applicant_name.clone(),
            procedure_code: old.procedure_code.clone(),
            description: old.description.clone(),
            amount_vnd: old.amount_vnd,
            legal_basis: old.legal_basis.clone(),
            payment_method: old.payment_method.clone(),
            payment_reference: old.payment_reference.clone(),
            replaces_id: Some(old.id),
        },
    )?;
    Ok((voided, replacement))
}

/// The number and symbol of the receipt with id `id` (what a replacement names).
pub fn find(conn: &mut PgConnection, id: i64) -> Result<Option<FeeReceiptRow>, AppError> {
    Ok(fee_receipts::table
        .find(id)
        .select(FeeReceiptRow::as_select())
        .first(conn)
        .optional()?)
}

/// `fee_receipt` in the dossier JSON (owner and staff): the receipt in force.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FeeReceiptView {
    /// Mẫu số, e.g. `01BLP0-001`.
    pub template: String,
    /// Ký hiệu, e.g. `HNO-26E`.
    pub symbol: String,
    pub series: String,
    pub year: i32,
    /// Gapless per series and year, from 1.
    pub number: i64,
    pub issued_on: NaiveDate,
    pub issuer: String,
    pub payer: String,
    pub description: String,
    pub amount_vnd: i64,
    /// The amount in Vietnamese words.
    pub amount_in_words: String,
    pub legal_basis: String,
    /// `online` or `counter`.
    pub payment_method: String,
    /// The number of the voided receipt this one replaces.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaces_number: Option<i64>,
}

impl FeeReceiptView {
    pub fn new(r: &FeeReceiptRow, replaces: Option<&FeeReceiptRow>) -> FeeReceiptView {
        FeeReceiptView {
            template: r.template.clone(),
            symbol: r.symbol(),
            series: r.series.clone(),
            year: r.year,
            number: r.number,
            issued_on: r.issued_on,
            issuer: r.issuer_name.clone(),
            payer: r.payer_name.clone(),
            description: r.description.clone(),
            amount_vnd: r.amount_vnd,
            amount_in_words: r.amount_words.clone(),
            legal_basis: r.legal_basis.clone(),
            payment_method: r.payment_method.clone(),
            replaces_number: replaces.map(|o| o.number),
        }
    }

    /// The view of the dossier's receipt in force, if any.
    pub fn current(
        conn: &mut PgConnection,
        dossier_id: i64,
    ) -> Result<Option<FeeReceiptView>, AppError> {
        let Some(r) = current(conn, dossier_id)? else {
            return Ok(None);
        };
        let replaces = match r.replaces_id {
            Some(id) => find(conn, id)?,
            None => None,
        };
        Ok(Some(FeeReceiptView::new(&r, replaces.as_ref())))
    }
}

#[cfg(test)]
mod tests {
    use super::VoidReason;

    #[test]
    fn a_void_needs_a_reason_of_sensible_length() {
        assert!(VoidReason::parse("   ").is_err());
        assert!(VoidReason::parse(&"x".repeat(501)).is_err());
        assert_eq!(
            VoidReason::parse("  Sai tên người nộp ").unwrap().as_str(),
            "Sai tên người nộp"
        );
    }
}
