//! Issues the previous month's e-invoices from the 1st to `[einvoice] issue_by_day` (the law's
//! 7th): every finalized (or paid) invoice of that period without an issued e-invoice, once
//! across replicas. A province whose buyer details are incomplete is skipped and logged (the
//! next run tries again once the operator fills them in); a provider failure is logged and
//! retried at the next run under the same number and key (`app::einvoices::issue`).

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::Text;

use crate::app::einvoices::{Ask, issue};
use crate::app::{Actor, App};
use crate::error::AppError;
use crate::period::Period;

/// What one run did, by invoice number.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Run {
    /// Given their e-invoice by this run.
    pub issued: Vec<String>,
    /// Left for missing buyer (or seller) details.
    pub incomplete: Vec<String>,
    /// Left for another error (the provider's, mostly); retried at the next run.
    pub failed: Vec<String>,
}

/// `None` outside the window, with e-invoices off, or when another replica holds the lock.
pub fn issue_due(
    app: &App,
    runtime: &tokio::runtime::Runtime,
    today: NaiveDate,
) -> Result<Option<Run>, AppError> {
    if app.einvoices.is_none() || today.day() > app.settings.einvoice.issue_by_day {
        return Ok(None);
    }
    let period = Period::of(today).prev();
    super::with_lock(&app.db, super::EINVOICE_ISSUE, || {
        let numbers = app.db.control(|conn| due(conn, period))?;
        let actor = Actor::Job("einvoice-issue");
        let mut run = Run::default();
        for number in numbers {
            match runtime.block_on(issue(app, &actor, &number, Ask::Original)) {
                Ok(_) => run.issued.push(number),
                Err(AppError::Conflict {
                    code: "einvoice_incomplete",
                    fields,
                    ..
                }) => {
                    tracing::warn!(invoice = %number, missing = ?fields, "e-invoice not issued: details incomplete");
                    run.incomplete.push(number);
                }
                Err(e) => {
                    tracing::warn!(invoice = %number, error = %e, "e-invoice not issued; retrying at the next run");
                    run.failed.push(number);
                }
            }
        }
        Ok(run)
    })
}

#[derive(QueryableByName)]
struct Number {
    #[diesel(sql_type = Text)]
    number: String,
}

/// The period's live invoices without an issued e-invoice (an original still pending is
/// retried; an invoice with a replacement e-invoice has its own already).
fn due(conn: &mut PgConnection, period: Period) -> Result<Vec<String>, AppError> {
    let rows: Vec<Number> = sql_query(
        "SELECT i.number FROM invoices i \
         WHERE i.period = $1 AND i.status IN ('finalized', 'paid') \
         AND NOT EXISTS (SELECT 1 FROM einvoices e WHERE e.invoice_id = i.id \
                         AND (e.status = 'issued' OR e.kind <> 'original')) \
         ORDER BY i.number",
    )
    .bind::<Text, _>(period.to_string())
    .load(conn)?;
    Ok(rows.into_iter().map(|r| r.number).collect())
}
