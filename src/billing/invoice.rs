//! Invoices as the API shows them, and the queries that read them.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::schema::{invoice_lines, invoices, tenants};
use crate::error::AppError;
use crate::lang::Msg;

/// Where an invoice stands: a closed set (the table's CHECK). Issued `finalized` (immutable,
/// unpaid), then `paid` (a transfer or the provider's confirmation) or `void` (with a credit
/// note); nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    Finalized,
    Paid,
    Void,
}

impl InvoiceStatus {
    pub const ALL: [InvoiceStatus; 3] = [
        InvoiceStatus::Finalized,
        InvoiceStatus::Paid,
        InvoiceStatus::Void,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceStatus::Finalized => "finalized",
            InvoiceStatus::Paid => "paid",
            InvoiceStatus::Void => "void",
        }
    }

    /// A status read from the database; anything else is an error, never a fallback (an
    /// invoice must not look unpaid, or paid, because of a typo in a manual UPDATE).
    pub fn parse(s: &str) -> Result<InvoiceStatus, AppError> {
        InvoiceStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| AppError::internal(format!("unknown invoice status {s:?}")))
    }

    /// A status a user asks to filter by (`?status=`): an unknown one is 422.
    pub fn parse_filter(s: &str) -> Result<InvoiceStatus, AppError> {
        InvoiceStatus::parse(s).map_err(|_| {
            AppError::invalid(
                "status",
                Msg::new(
                    "Trạng thái là finalized, paid hoặc void.",
                    "The status is finalized, paid or void.",
                ),
            )
        })
    }

    /// Unpaid and not void: it can still be paid, voided or sent.
    pub fn is_open(self) -> bool {
        self == InvoiceStatus::Finalized
    }

    /// The key of its label in the UI strings (`inv_finalized`, …).
    pub fn label_key(self) -> &'static str {
        match self {
            InvoiceStatus::Finalized => "inv_finalized",
            InvoiceStatus::Paid => "inv_paid",
            InvoiceStatus::Void => "inv_void",
        }
    }
}

impl std::fmt::Display for InvoiceStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Stripe takes at most 99,999,999 ₫ in one VND payment: above that, bank transfer only.
pub const STRIPE_VND_CAP: i64 = 99_999_999;

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[schema(as = InvoiceLine)]
pub struct Line {
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
    pub quantity: i64,
    pub unit_price_vnd: i64,
    pub amount_vnd: i64,
}

/// The contract's INVOICE, plus what a finance clerk needs beside it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Invoice {
    pub number: String,
    pub tenant: String,
    pub tenant_name: String,
    pub period: String,
    pub status: InvoiceStatus,
    pub lines: Vec<Line>,
    pub subtotal_vnd: i64,
    pub vat_rate_percent: String,
    pub vat_vnd: i64,
    pub total_vnd: i64,
    pub issued_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    pub payment_reference: Option<String>,
    /// `bank_transfer` always; `stripe` too when the total is within Stripe's VND cap.
    #[schema(value_type = Vec<String>)]
    pub payable_by: Vec<&'static str>,
    /// The payment provider's id for this invoice once pushed (Stripe `in_…`).
    pub provider_ref: Option<String>,
    /// The last push: absent (never tried), `sent`, `failed`, or `bank_transfer_only`.
    pub provider_status: Option<String>,
    /// Why the last push failed.
    pub provider_error: Option<String>,
}

impl Invoice {
    /// Whether Stripe may take this invoice (Stripe's VND cap).
    pub fn within_stripe_cap(&self) -> bool {
        self.total_vnd <= STRIPE_VND_CAP
    }
}

type Head = (
    uuid::Uuid,
    String,
    String,
    String,
    String,
    i64,
    i32,
    i64,
    i64,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn heads() -> invoices::BoxedQuery<'static, diesel::pg::Pg> {
    invoices::table.into_boxed()
}

fn load(
    conn: &mut PgConnection,
    query: invoices::BoxedQuery<'static, diesel::pg::Pg>,
) -> Result<Vec<Invoice>, AppError> {
    let rows: Vec<(Head, String)> = query
        .inner_join(tenants::table)
        .order(invoices::number.asc())
        .select((
            (
                invoices::id,
                invoices::number,
                tenants::slug,
                invoices::period,
                invoices::status,
                invoices::subtotal_vnd,
                invoices::vat_rate_bp,
                invoices::vat_vnd,
                invoices::total_vnd,
                invoices::issued_at,
                invoices::paid_at,
                invoices::payment_reference,
                invoices::provider_ref,
                invoices::provider_status,
                invoices::provider_error,
            ),
            tenants::name,
        ))
        .load(conn)?;
    let ids: Vec<uuid::Uuid> = rows.iter().map(|(h, _)| h.0).collect();
    let lines: Vec<(uuid::Uuid, String, Option<String>, i64, i64, i64)> = invoice_lines::table
        .filter(invoice_lines::invoice_id.eq_any(&ids))
        .order((invoice_lines::invoice_id, invoice_lines::position))
        .select((
            invoice_lines::invoice_id,
            invoice_lines::description,
            invoice_lines::metric,
            invoice_lines::quantity,
            invoice_lines::unit_price_vnd,
            invoice_lines::amount_vnd,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(h, tenant_name)| {
            let (
                id,
                number,
                tenant,
                period,
                status,
                subtotal,
                rate_bp,
                vat,
                total,
                issued_at,
                paid_at,
                reference,
                provider_ref,
                provider_status,
                provider_error,
            ) = h;
            Ok(Invoice {
                lines: lines
                    .iter()
                    .filter(|l| l.0 == id)
                    .map(|l| Line {
                        description: l.1.clone(),
                        metric: l.2.clone(),
                        quantity: l.3,
                        unit_price_vnd: l.4,
                        amount_vnd: l.5,
                    })
                    .collect(),
                number,
                tenant,
                tenant_name,
                period,
                status: InvoiceStatus::parse(&status)?,
                subtotal_vnd: subtotal,
                vat_rate_percent: format!("{}%", f64::from(rate_bp) / 100.0),
                vat_vnd: vat,
                total_vnd: total,
                issued_at,
                paid_at,
                payment_reference: reference,
                payable_by: if total <= STRIPE_VND_CAP {
                    vec!["bank_transfer", "stripe"]
                } else {
                    vec!["bank_transfer"]
                },
                provider_ref,
                provider_status,
                provider_error,
            })
        })
        .collect()
}

pub fn for_period(conn: &mut PgConnection, period: &str) -> Result<Vec<Invoice>, AppError> {
    load(
        conn,
        heads().filter(invoices::period.eq(period.to_string())),
    )
}

pub fn for_tenant(conn: &mut PgConnection, tenant: uuid::Uuid) -> Result<Vec<Invoice>, AppError> {
    load(conn, heads().filter(invoices::tenant_id.eq(tenant)))
}

pub fn by_number(conn: &mut PgConnection, number: &str) -> Result<Option<Invoice>, AppError> {
    Ok(load(
        conn,
        heads().filter(invoices::number.eq(number.to_string())),
    )?
    .into_iter()
    .next())
}

/// Locks invoice `number` until the end of the caller's transaction and returns its id and
/// status: a state change is decided on the state read under the lock, so a void and a
/// payment (or six voids) arriving at once are applied one after the other, and each sees
/// what the one before it did.
fn lock(conn: &mut PgConnection, number: &str) -> Result<(uuid::Uuid, InvoiceStatus), AppError> {
    let (id, status): (uuid::Uuid, String) = invoices::table
        .filter(invoices::number.eq(number))
        .select((invoices::id, invoices::status))
        .for_update()
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)?;
    Ok((id, InvoiceStatus::parse(&status)?))
}

/// Records a bank transfer (or a provider's confirmation) once: a finalized invoice becomes
/// paid; paying a paid invoice with the same reference is a no-op, anything else 409.
pub fn mark_paid(
    conn: &mut PgConnection,
    number: &str,
    reference: &str,
) -> Result<Invoice, AppError> {
    let (id, status) = lock(conn, number)?;
    let paid_before: Option<String> = invoices::table
        .find(id)
        .select(invoices::payment_reference)
        .first(conn)?;
    match status {
        InvoiceStatus::Finalized => {
            let changed = diesel::update(
                invoices::table
                    .find(id)
                    .filter(invoices::status.eq(InvoiceStatus::Finalized.as_str())),
            )
            .set((
                invoices::status.eq(InvoiceStatus::Paid.as_str()),
                invoices::paid_at.eq(diesel::dsl::now),
                invoices::payment_reference.eq(reference),
            ))
            .execute(conn)?;
            if changed != 1 {
                return Err(cannot_pay());
            }
        }
        InvoiceStatus::Paid if paid_before.as_deref() == Some(reference) => {}
        _ => return Err(cannot_pay()),
    }
    by_number(conn, number)?.ok_or(AppError::NotFound)
}

fn cannot_pay() -> AppError {
    AppError::conflict(
        "invalid_transition",
        crate::lang::Msg::new(
            "Hoá đơn này không thể ghi nhận thanh toán.",
            "This invoice cannot be marked paid.",
        ),
    )
}

/// Voids a finalized (unpaid) invoice with a credit note for its whole amount (`CN-YYYY-…`);
/// the invoice itself never changes but for its status.
pub fn void(
    conn: &mut PgConnection,
    number: &str,
    reason: &str,
    actor: &str,
    year: i32,
) -> Result<Invoice, AppError> {
    use crate::db::schema::{credit_notes, invoice_counters};
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 1000 {
        return Err(AppError::invalid(
            "reason",
            crate::lang::Msg::new("Cần nêu lý do.", "A reason is required."),
        ));
    }
    let (id, status) = lock(conn, number)?;
    if !status.is_open() {
        return Err(AppError::conflict(
            "invalid_transition",
            crate::lang::Msg::new(
                "Chỉ huỷ được hoá đơn chưa thanh toán.",
                "Only an unpaid invoice can be voided.",
            ),
        ));
    }
    let total_vnd: i64 = invoices::table
        .find(id)
        .select(invoices::total_vnd)
        .first(conn)?;
    // Credit notes have their own gapless series (year + 10000 in the counter table).
    let n: i32 = diesel::insert_into(invoice_counters::table)
        .values((
            invoice_counters::year.eq(year + 10_000),
            invoice_counters::last_number.eq(1),
        ))
        .on_conflict(invoice_counters::year)
        .do_update()
        .set(invoice_counters::last_number.eq(invoice_counters::last_number + 1))
        .returning(invoice_counters::last_number)
        .get_result(conn)?;
    // One per invoice, also in the database (`credit_notes_one_per_invoice`).
    diesel::insert_into(credit_notes::table)
        .values((
            credit_notes::id.eq(uuid::Uuid::new_v4()),
            credit_notes::number.eq(format!("CN-{year}-{n:06}")),
            credit_notes::invoice_id.eq(id),
            credit_notes::amount_vnd.eq(total_vnd),
            credit_notes::reason.eq(reason),
            credit_notes::created_by.eq(actor),
        ))
        .execute(conn)?;
    diesel::update(
        invoices::table
            .find(id)
            .filter(invoices::status.eq(InvoiceStatus::Finalized.as_str())),
    )
    .set((
        invoices::status.eq(InvoiceStatus::Void.as_str()),
        invoices::voided_at.eq(diesel::dsl::now),
        invoices::void_reason.eq(reason),
    ))
    .execute(conn)?;
    by_number(conn, number)?.ok_or(AppError::NotFound)
}

#[cfg(test)]
mod status_tests {
    use super::InvoiceStatus;

    #[test]
    fn an_unknown_status_is_an_error_not_a_fallback() {
        for s in InvoiceStatus::ALL {
            assert_eq!(InvoiceStatus::parse(s.as_str()).unwrap(), s);
            assert_eq!(
                serde_json::to_value(s).unwrap(),
                serde_json::Value::from(s.as_str())
            );
        }
        for bad in ["open", "Paid", "draft", "", "finalized "] {
            assert!(InvoiceStatus::parse(bad).is_err(), "{bad:?}");
            assert!(InvoiceStatus::parse_filter(bad).is_err(), "{bad:?}");
        }
    }
}
