//! E-invoices in the control plane (`einvoices`, `einvoice_counters`): numbers taken gapless
//! per series, what the provider answered, and what the console shows
//! ([`issued_for`]).

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{einvoice_counters, einvoices, invoices};
use crate::error::AppError;

/// Which e-invoice a row is: a closed set (the table's CHECK).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The e-invoice of a finalized invoice.
    Original,
    /// `TCHDon=1`: the e-invoice of an invoice replacing a voided one's.
    Replacement,
    /// `TCHDon=2`: a voided invoice's credit, decreasing the original.
    Adjustment,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Original => "original",
            Kind::Replacement => "replacement",
            Kind::Adjustment => "adjustment",
        }
    }

    pub fn parse(s: &str) -> Result<Kind, AppError> {
        [Kind::Original, Kind::Replacement, Kind::Adjustment]
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| AppError::internal(format!("unknown e-invoice kind {s:?}")))
    }
}

/// One e-invoice as the console and the API show it (no XML, no PDF: those are downloads).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct IssuedEInvoice {
    pub id: uuid::Uuid,
    pub invoice_id: uuid::Uuid,
    pub kind: Kind,
    /// `KHMSHDon` (1: VAT invoice).
    pub template: String,
    /// `KHHDon`, e.g. `C26TPO`.
    pub series: String,
    /// `SHDon`, gapless per series.
    pub number: i32,
    pub issued_on: NaiveDate,
    /// `pending` (taken a number, not yet registered) or `issued`.
    pub status: String,
    pub provider: String,
    /// The provider's invoice number (Viettel `invoiceNo`).
    pub provider_number: Option<String>,
    /// The tax authority's code (`MCCQT`).
    pub authority_code: Option<String>,
    /// The code the buyer looks the invoice up with at the provider.
    pub lookup_code: Option<String>,
    pub xml_sha256: String,
    pub has_pdf: bool,
    /// Calls made to the provider so far.
    pub attempts: i32,
    pub last_error: Option<String>,
    pub issued_at: Option<DateTime<Utc>>,
}

type Row = (
    uuid::Uuid,
    uuid::Uuid,
    String,
    String,
    String,
    i32,
    NaiveDate,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    bool,
    i32,
    Option<String>,
    Option<DateTime<Utc>>,
);

fn from_row(r: Row) -> Result<IssuedEInvoice, AppError> {
    Ok(IssuedEInvoice {
        id: r.0,
        invoice_id: r.1,
        kind: Kind::parse(&r.2)?,
        template: r.3,
        series: r.4,
        number: r.5,
        issued_on: r.6,
        status: r.7,
        provider: r.8,
        provider_number: r.9,
        authority_code: r.10,
        lookup_code: r.11,
        xml_sha256: r.12,
        has_pdf: r.13,
        attempts: r.14,
        last_error: r.15,
        issued_at: r.16,
    })
}

fn rows(
    conn: &mut PgConnection,
    query: einvoices::BoxedQuery<'static, diesel::pg::Pg>,
) -> Result<Vec<IssuedEInvoice>, AppError> {
    let rows: Vec<Row> = query
        .order(einvoices::created_at.asc())
        .select((
            einvoices::id,
            einvoices::invoice_id,
            einvoices::kind,
            einvoices::template,
            einvoices::series,
            einvoices::number,
            einvoices::issued_on,
            einvoices::status,
            einvoices::provider,
            einvoices::provider_number,
            einvoices::authority_code,
            einvoices::lookup_code,
            einvoices::xml_sha256,
            einvoices::pdf.is_not_null(),
            einvoices::attempts,
            einvoices::last_error,
            einvoices::issued_at,
        ))
        .load(conn)?;
    rows.into_iter().map(from_row).collect()
}

/// The e-invoice of invoice `invoice_id` itself (its original, or the replacement it is),
/// registered or still pending; `None` when none was made. For the console's invoice pages.
pub fn issued_for(
    conn: &mut PgConnection,
    invoice_id: uuid::Uuid,
) -> Result<Option<IssuedEInvoice>, AppError> {
    Ok(rows(
        conn,
        einvoices::table
            .filter(einvoices::invoice_id.eq(invoice_id))
            .filter(einvoices::kind.ne(Kind::Adjustment.as_str()))
            .into_boxed(),
    )?
    .into_iter()
    .next())
}

/// E-invoice `id`.
pub fn by_id(conn: &mut PgConnection, id: uuid::Uuid) -> Result<IssuedEInvoice, AppError> {
    rows(
        conn,
        einvoices::table.filter(einvoices::id.eq(id)).into_boxed(),
    )?
    .into_iter()
    .next()
    .ok_or(AppError::NotFound)
}

/// The stored PDF of e-invoice `id`, if the provider gave one.
pub fn pdf_of(conn: &mut PgConnection, id: uuid::Uuid) -> Result<Option<Vec<u8>>, AppError> {
    Ok(einvoices::table
        .find(id)
        .select(einvoices::pdf)
        .first(conn)?)
}

/// [`issued_for`] by our invoice number.
pub fn issued_for_number(
    conn: &mut PgConnection,
    number: &str,
) -> Result<Option<IssuedEInvoice>, AppError> {
    let id: Option<uuid::Uuid> = invoices::table
        .filter(invoices::number.eq(number))
        .select(invoices::id)
        .first(conn)
        .optional()?;
    match id {
        Some(id) => issued_for(conn, id),
        None => Ok(None),
    }
}

/// Every e-invoice of invoice `invoice_id`: its own, then an adjustment of it if any.
pub fn all_for(
    conn: &mut PgConnection,
    invoice_id: uuid::Uuid,
) -> Result<Vec<IssuedEInvoice>, AppError> {
    rows(
        conn,
        einvoices::table
            .filter(einvoices::invoice_id.eq(invoice_id))
            .into_boxed(),
    )
}

/// The number the next e-invoice of `series` would take (a preview: nothing is taken).
pub fn peek_number(conn: &mut PgConnection, series: &str) -> Result<i32, AppError> {
    let last: Option<i32> = einvoice_counters::table
        .find(series)
        .select(einvoice_counters::last_number)
        .first(conn)
        .optional()?;
    Ok(last.unwrap_or(0) + 1)
}

/// Takes the next number of `series` (gapless: the caller's transaction writes the row that
/// uses it, or rolls both back).
pub fn take_number(conn: &mut PgConnection, series: &str) -> Result<i32, AppError> {
    Ok(diesel::insert_into(einvoice_counters::table)
        .values((
            einvoice_counters::series.eq(series),
            einvoice_counters::last_number.eq(1),
        ))
        .on_conflict(einvoice_counters::series)
        .do_update()
        .set(einvoice_counters::last_number.eq(einvoice_counters::last_number + 1))
        .returning(einvoice_counters::last_number)
        .get_result(conn)?)
}

/// The stored XML of e-invoice `id`.
pub fn xml_of(conn: &mut PgConnection, id: uuid::Uuid) -> Result<String, AppError> {
    Ok(einvoices::table
        .find(id)
        .select(einvoices::xml)
        .first(conn)?)
}

/// What the e-invoice step reads of an invoice besides [`crate::billing::invoice::Invoice`].
#[derive(Debug, Clone, Copy)]
pub struct InvoiceKeys {
    pub id: uuid::Uuid,
    pub tenant_id: uuid::Uuid,
    pub vat_rate_bp: i32,
}

pub fn invoice_keys(
    conn: &mut PgConnection,
    number: &str,
) -> Result<Option<InvoiceKeys>, AppError> {
    let row: Option<(uuid::Uuid, uuid::Uuid, i32)> = invoices::table
        .filter(invoices::number.eq(number))
        .select((invoices::id, invoices::tenant_id, invoices::vat_rate_bp))
        .first(conn)
        .optional()?;
    Ok(row.map(|(id, tenant_id, vat_rate_bp)| InvoiceKeys {
        id,
        tenant_id,
        vat_rate_bp,
    }))
}
