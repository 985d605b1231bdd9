//! Pushing a finalized invoice to the payment provider, never inside a database transaction:
//! read (one short transaction), call out, record the outcome (another). A failure is recorded
//! on the invoice and the next attempt reuses the same idempotency keys.

use diesel::prelude::*;

use super::invoice::{self, Invoice, InvoiceStatus};
use super::provider::{InvoiceProvider, Outgoing, ProviderError, Pushed};
use crate::db::Db;
use crate::db::schema::{invoices, provider_customers};
use crate::error::AppError;
use crate::lang::Msg;

/// What a push did.
#[derive(Debug)]
pub enum Sent {
    /// Created at the provider now, or earlier (nothing sent twice).
    Pushed(Invoice),
    /// Over Stripe's VND cap: never sent, payable by bank transfer only.
    BankTransferOnly(Invoice),
    /// The provider pushes nothing (offline).
    NotPushed(Invoice),
    /// Not finalized (paid or void): nothing to send.
    NotPayable(Invoice),
    /// Void here, and now void at the provider too.
    Voided(Invoice),
}

/// Pushes invoice `number` to `provider`. Provider failures are recorded and returned as
/// `Err(AppError::Unavailable)`.
pub async fn push(db: &Db, provider: &dyn InvoiceProvider, number: &str) -> Result<Sent, AppError> {
    let name = provider.name();
    let n = number.to_string();
    let (inv, tenant_id, customer) = db
        .control_async(move |conn| {
            let inv = invoice::by_number(conn, &n)?.ok_or(AppError::NotFound)?;
            let tenant_id: uuid::Uuid = invoices::table
                .filter(invoices::number.eq(&n))
                .select(invoices::tenant_id)
                .first(conn)?;
            let customer: Option<String> = provider_customers::table
                .filter(provider_customers::tenant_id.eq(tenant_id))
                .filter(provider_customers::provider.eq(name))
                .select(provider_customers::customer_ref)
                .first(conn)
                .optional()?;
            Ok((inv, tenant_id, customer))
        })
        .await?;
    if inv.status == InvoiceStatus::Void && name != "offline" && inv.provider_ref.is_some() {
        return void_at_provider(db, provider, inv).await;
    }
    if !inv.status.is_open() {
        return Ok(Sent::NotPayable(inv));
    }
    if name == "offline" {
        return Ok(Sent::NotPushed(inv));
    }
    if !inv.within_stripe_cap() {
        let n = number.to_string();
        let inv = db
            .control_async(move |conn| {
                diesel::update(invoices::table.filter(invoices::number.eq(&n)))
                    .set(invoices::provider_status.eq("bank_transfer_only"))
                    .execute(conn)?;
                invoice::by_number(conn, &n)?.ok_or(AppError::NotFound)
            })
            .await?;
        return Ok(Sent::BankTransferOnly(inv));
    }
    if inv.provider_status.as_deref() == Some("sent") {
        return Ok(Sent::Pushed(inv));
    }
    let mut items: Vec<(String, i64)> = inv
        .lines
        .iter()
        .map(|l| (l.description.clone(), l.amount_vnd))
        .collect();
    if inv.vat_vnd != 0 {
        items.push((format!("VAT {}", inv.vat_rate_percent), inv.vat_vnd));
    }
    let out = Outgoing {
        number: inv.number.clone(),
        period: inv.period.clone(),
        tenant_slug: inv.tenant.clone(),
        tenant_name: inv.tenant_name.clone(),
        customer_ref: customer,
        invoice_ref: inv.provider_ref.clone(),
        items,
        total_vnd: inv.total_vnd,
    };
    let result = provider.push(&out).await;
    let n = number.to_string();
    let recorded = result.clone();
    let inv = db
        .control_async(move |conn| {
            record(conn, &n, tenant_id, name, &recorded)?;
            invoice::by_number(conn, &n)?.ok_or(AppError::NotFound)
        })
        .await?;
    match result {
        Ok(_) => Ok(Sent::Pushed(inv)),
        Err(e) => {
            tracing::warn!(invoice = number, error = %e, "pushing the invoice to {name} failed");
            Err(AppError::Unavailable(format!("{name}: {e}")))
        }
    }
}

/// Voids at the provider an invoice voided here that was sent there (once: `voided` is
/// recorded, and the provider's call carries the idempotency key `{number}:void`).
async fn void_at_provider(
    db: &Db,
    provider: &dyn InvoiceProvider,
    inv: Invoice,
) -> Result<Sent, AppError> {
    let Some(invoice_ref) = inv.provider_ref.clone() else {
        return Ok(Sent::NotPayable(inv));
    };
    if inv.provider_status.as_deref() == Some("voided") {
        return Ok(Sent::Voided(inv));
    }
    let result = provider.void(&inv.number, &invoice_ref).await;
    let n = inv.number.clone();
    let failure = result
        .as_ref()
        .err()
        .map(|e| e.message.chars().take(1000).collect::<String>());
    let inv = db
        .control_async(move |conn| {
            let status = if failure.is_some() {
                "void_failed"
            } else {
                "voided"
            };
            diesel::update(invoices::table.filter(invoices::number.eq(&n)))
                .set((
                    invoices::provider_status.eq(status),
                    invoices::provider_error.eq(failure),
                    invoices::provider_attempts.eq(invoices::provider_attempts + 1),
                ))
                .execute(conn)?;
            invoice::by_number(conn, &n)?.ok_or(AppError::NotFound)
        })
        .await?;
    match result {
        Ok(()) => Ok(Sent::Voided(inv)),
        Err(e) => {
            tracing::warn!(invoice = %inv.number, error = %e, "voiding the invoice at {} failed", provider.name());
            Err(AppError::Unavailable(format!("{}: {e}", provider.name())))
        }
    }
}

fn record(
    conn: &mut PgConnection,
    number: &str,
    tenant_id: uuid::Uuid,
    provider: &str,
    result: &Result<Option<Pushed>, ProviderError>,
) -> Result<(), AppError> {
    let (customer, invoice_ref, status, error) = match result {
        Ok(Some(p)) => (
            Some(p.customer_ref.clone()),
            Some(p.invoice_ref.clone()),
            "sent",
            None,
        ),
        Ok(None) => return Ok(()),
        Err(e) => (
            e.customer_ref.clone(),
            e.invoice_ref.clone(),
            "failed",
            Some(e.message.chars().take(1000).collect::<String>()),
        ),
    };
    if let Some(customer) = customer {
        diesel::insert_into(provider_customers::table)
            .values((
                provider_customers::tenant_id.eq(tenant_id),
                provider_customers::provider.eq(provider),
                provider_customers::customer_ref.eq(customer),
            ))
            .on_conflict_do_nothing()
            .execute(conn)?;
    }
    let target = invoices::table.filter(invoices::number.eq(number));
    if let Some(r) = invoice_ref {
        diesel::update(target)
            .set(invoices::provider_ref.eq(r))
            .execute(conn)?;
    }
    diesel::update(target)
        .set((
            invoices::provider_status.eq(status),
            invoices::provider_error.eq(error),
            invoices::provider_attempts.eq(invoices::provider_attempts + 1),
        ))
        .execute(conn)?;
    if status == "sent" {
        diesel::update(target)
            .set(invoices::provider_sent_at.eq(diesel::dsl::now))
            .execute(conn)?;
    }
    Ok(())
}

/// After an invoice is voided here: voids it at the provider when it was sent there. A provider
/// failure is recorded on the invoice (`void_failed`, retried by `/send` and the billing job),
/// not returned: the void itself stands.
pub async fn after_void(
    db: &Db,
    provider: &dyn InvoiceProvider,
    number: &str,
) -> Result<Invoice, AppError> {
    match push(db, provider, number).await {
        Ok(_) | Err(AppError::Unavailable(_)) => {}
        Err(e) => return Err(e),
    }
    let n = number.to_string();
    db.control_async(move |conn| invoice::by_number(conn, &n)?.ok_or(AppError::NotFound))
        .await
}

/// Invoices still owed to the provider, oldest first: finalized and never sent or failed, or
/// void here and not yet at the provider; `period` narrows it to one month. Attempts stop
/// after `max_attempts` (the operator retries from the console or the API).
pub fn unsent(
    conn: &mut PgConnection,
    period: Option<&str>,
    max_attempts: i32,
) -> Result<Vec<String>, AppError> {
    let mut q = invoices::table
        .filter(
            invoices::status
                .eq(InvoiceStatus::Finalized.as_str())
                .and(
                    invoices::provider_status
                        .is_null()
                        .or(invoices::provider_status.eq("failed")),
                )
                .or(invoices::status.eq(InvoiceStatus::Void.as_str()).and(
                    invoices::provider_ref.is_not_null().and(
                        invoices::provider_status
                            .ne("voided")
                            .or(invoices::provider_status.is_null()),
                    ),
                )),
        )
        .filter(invoices::provider_attempts.lt(max_attempts))
        .select(invoices::number)
        .order(invoices::number)
        .into_boxed();
    if let Some(p) = period {
        q = q.filter(invoices::period.eq(p.to_string()));
    }
    Ok(q.load(conn)?)
}

/// Pushes (or voids) what [`unsent`] lists; returns how many went through.
pub async fn push_unsent(
    db: &Db,
    provider: &dyn InvoiceProvider,
    period: Option<String>,
    max_attempts: i32,
) -> Result<usize, AppError> {
    if provider.name() == "offline" {
        return Ok(0);
    }
    let numbers = db
        .control_async(move |conn| unsent(conn, period.as_deref(), max_attempts))
        .await?;
    let mut done = 0;
    for number in &numbers {
        match push(db, provider, number).await {
            Ok(Sent::Pushed(_) | Sent::Voided(_)) => done += 1,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(invoice = %number, error = %e, "invoice not pushed; retried later")
            }
        }
    }
    Ok(done)
}

/// The 409 for an invoice over Stripe's cap.
pub fn bank_transfer_only() -> AppError {
    AppError::conflict(
        "bank_transfer_only",
        Msg::new(
            "Hoá đơn vượt 99.999.999 ₫, mức tối đa Stripe nhận: chỉ thanh toán bằng chuyển khoản ngân hàng.",
            "The invoice exceeds Stripe's 99,999,999 ₫ limit: it is payable by bank transfer only.",
        ),
    )
}
