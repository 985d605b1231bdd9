//! The operator's actions on one invoice (API and console alike): record a bank transfer,
//! void, send to the payment provider.

use chrono::Datelike;
use serde_json::json;

use super::{Actor, App};
use crate::audit::{self, Action};
use crate::billing::invoice::{self, Invoice, InvoiceStatus};
use crate::billing::send::{self, Sent};
use crate::error::AppError;
use crate::lang::Msg;

/// Records a bank transfer: checked reference, the invoice `finalized` → `paid`, its audit
/// row, one transaction.
pub fn record_transfer(
    app: &App,
    actor: &Actor,
    number: &str,
    reference: &str,
) -> Result<Invoice, AppError> {
    let reference = reference.trim();
    if reference.is_empty() || reference.chars().count() > 100 {
        return Err(AppError::invalid(
            "reference",
            Msg::new(
                "Cần số tham chiếu chuyển khoản.",
                "The bank reference is required.",
            ),
        ));
    }
    app.db.control(|conn| {
        let inv = invoice::mark_paid(conn, number, &format!("bank:{reference}"))?;
        audit::record(
            conn,
            &actor.audit_name(),
            Action::InvoicePaid,
            number,
            json!({ "reference": reference }),
        )?;
        Ok(inv)
    })
}

/// Voids an unpaid invoice with a credit note referring to it, audited, in one transaction;
/// then (committed) voids it at the provider when it was sent there. A provider failure is
/// recorded on the invoice and retried later: the void stands.
pub async fn void(
    app: &App,
    actor: &Actor,
    number: &str,
    reason: &str,
) -> Result<Invoice, AppError> {
    let (name, n, reason) = (actor.audit_name(), number.to_string(), reason.to_string());
    let year = crate::clock::today_vn().year();
    app.db
        .control_async(move |conn| {
            let inv = invoice::void(conn, &n, &reason, &name, year)?;
            audit::record(
                conn,
                &name,
                Action::InvoiceVoid,
                &n,
                json!({ "reason": reason.trim() }),
            )?;
            Ok(inv)
        })
        .await?;
    send::after_void(&app.db, app.invoices.as_ref(), number).await
}

/// Pushes a finalized invoice to the payment provider outside any transaction, then audits
/// the attempt with its outcome (also a failed one). Repeating it after a failure reuses the
/// same idempotency keys; after a success it changes nothing. Over Stripe's cap: 409
/// `bank_transfer_only`; offline provider: 409 `no_provider`; provider down: 503 (the failure
/// is recorded on the invoice).
pub async fn send(app: &App, actor: &Actor, number: &str) -> Result<Invoice, AppError> {
    let result = send::push(&app.db, app.invoices.as_ref(), number).await;
    let outcome = match &result {
        Ok(Sent::Pushed(_)) => "sent".to_string(),
        Ok(Sent::BankTransferOnly(_)) => "bank_transfer_only".to_string(),
        Ok(Sent::NotPushed(_)) => "no_provider".to_string(),
        Ok(Sent::NotPayable(_)) => "not_payable".to_string(),
        Ok(Sent::Voided(_)) => "voided".to_string(),
        Err(AppError::NotFound) => return Err(AppError::NotFound),
        Err(e) => format!("failed: {e}"),
    };
    let (name, n) = (actor.audit_name(), number.to_string());
    app.db
        .control_async(move |conn| {
            audit::record(
                conn,
                &name,
                Action::InvoiceSend,
                &n,
                json!({ "outcome": outcome }),
            )
        })
        .await?;
    match result? {
        Sent::Pushed(inv) | Sent::Voided(inv) => Ok(inv),
        Sent::BankTransferOnly(_) => Err(send::bank_transfer_only()),
        Sent::NotPushed(_) => Err(AppError::conflict(
            "no_provider",
            Msg::new(
                "Chưa cấu hình cổng thanh toán: hoá đơn được thanh toán bằng chuyển khoản.",
                "No payment provider is configured: invoices are paid by bank transfer.",
            ),
        )),
        Sent::NotPayable(_) => Err(AppError::conflict(
            "invalid_transition",
            Msg::new(
                "Chỉ gửi được hoá đơn chưa thanh toán.",
                "Only an unpaid invoice can be sent.",
            ),
        )),
    }
}

/// An invoice status to filter a list by (`?status=`): empty is none, unknown is 422.
pub fn parse_status(status: Option<&str>) -> Result<Option<InvoiceStatus>, AppError> {
    status
        .filter(|s| !s.is_empty())
        .map(InvoiceStatus::parse_filter)
        .transpose()
}

/// A period's invoices, only those of `status` when given (API list and console page).
pub async fn list(
    app: &App,
    period: crate::period::Period,
    status: Option<InvoiceStatus>,
) -> Result<Vec<Invoice>, AppError> {
    let list = app
        .db
        .control_async(move |conn| invoice::for_period(conn, &period.to_string()))
        .await?;
    Ok(list
        .into_iter()
        .filter(|i| status.is_none_or(|s| i.status == s))
        .collect())
}

/// One invoice by number; 404 when there is none.
pub async fn find(app: &App, number: &str) -> Result<Invoice, AppError> {
    let number = number.to_string();
    app.db
        .control_async(move |conn| invoice::by_number(conn, &number)?.ok_or(AppError::NotFound))
        .await
}

/// A province's own invoices (its admin's API and pages).
pub async fn of_province(
    app: &App,
    tenant: crate::tenancy::TenantId,
) -> Result<Vec<Invoice>, AppError> {
    app.db
        .control_async(move |conn| invoice::for_tenant(conn, tenant.0))
        .await
}

/// Applies a payment provider's event `id` whose signature the caller checked: once (a replay
/// answers `duplicate: applied before`), and only when it matches what the portal created
/// (else `rejected: …`, stored and alerted, never applied). A dossier fee is settled in its province's door first
/// (idempotently: a concurrent delivery of the same event finds the payment confirmed and
/// changes nothing), then the event is stored; returns what it did.
pub async fn apply_provider_event(
    app: &App,
    id: String,
    event: serde_json::Value,
) -> Result<String, AppError> {
    use crate::billing::provider_events;
    let i = id.clone();
    if app
        .db
        .control_async(move |conn| provider_events::seen(conn, &i))
        .await?
    {
        return Ok("duplicate: applied before".into());
    }
    let settled = super::fees::settle_event(app, &event).await?;
    let kind = event["type"].as_str().unwrap_or_default().to_string();
    let i = id.clone();
    let outcome = app
        .db
        .control_async(move |conn| provider_events::apply(conn, &i, &event, settled))
        .await?;
    if outcome.starts_with("rejected:") {
        // Stored with its payload in `provider_events` (outcome `rejected: …`); Stripe gets its
        // 200 so it does not retry a mismatch forever. The alert is this line.
        tracing::error!(
            alert = "provider_event_rejected",
            event = %id,
            kind = %kind,
            outcome = %outcome,
            "a signed payment-provider event does not match what the portal created: recorded, not applied"
        );
    }
    Ok(outcome)
}

/// One page of the operator's invoice table, and the totals over every invoice the filter
/// matches (console page).
pub async fn table(
    app: &App,
    filter: crate::billing::table::Filter,
    sort: crate::billing::table::Sort,
    page: i64,
    per_page: i64,
) -> Result<
    (
        Vec<crate::billing::table::Row>,
        crate::billing::table::Totals,
    ),
    AppError,
> {
    app.db
        .control_async(move |conn| crate::billing::table::page(conn, &filter, sort, page, per_page))
        .await
}

/// Every invoice the filter matches, for the CSV export (console link and API alike).
pub async fn export(
    app: &App,
    filter: crate::billing::table::Filter,
    sort: crate::billing::table::Sort,
) -> Result<Vec<crate::billing::table::Row>, AppError> {
    app.db
        .control_async(move |conn| crate::billing::table::all(conn, &filter, sort))
        .await
}

/// The e-invoice of invoice `number` as its printable page shows it. The e-invoice store
/// (`einvoice::store::issued_for(conn, invoice_id)`) is where an issued one is read; until an
/// invoice has one, `issued` is `None` and the page says "not issued yet".
pub async fn einvoice_ref(
    app: &App,
    number: &str,
) -> Result<crate::einvoice::reference::EInvoiceRef, AppError> {
    let number = number.to_string();
    let stored = app
        .db
        .control_async(move |conn| crate::einvoice::store::issued_for_number(conn, &number))
        .await?;
    // A pending e-invoice has taken a number but is not registered yet: not issued.
    let issued = stored.filter(|e| e.status == "issued").map(|e| {
        crate::einvoice::reference::IssuedEInvoice {
            template: e.template,
            series: e.series,
            number: e.number.to_string(),
            authority_code: e.authority_code,
            lookup_code: e.lookup_code.unwrap_or_default(),
        }
    });
    Ok(crate::einvoice::reference::EInvoiceRef { issued })
}

/// Invoiced and paid per period, the last `n` periods up to last month (or the newest
/// period invoiced, when later): the console's revenue chart.
pub async fn monthly_revenue(
    app: &App,
    n: usize,
) -> Result<Vec<crate::billing::revenue::MonthRevenue>, AppError> {
    let last = crate::period::Period::of(crate::clock::today_vn()).prev();
    app.db
        .control_async(move |conn| crate::billing::revenue::monthly(conn, last, n))
        .await
}
