//! Billing actions of the operator: closing a period (console, API, CLI and the monthly job).

use chrono::{DateTime, Utc};
use diesel::PgConnection;
use serde_json::json;

use super::{Actor, App};
use crate::audit::{self, Action};
use crate::billing::close;
use crate::billing::invoice::{self, Invoice};
use crate::error::AppError;
use crate::period::Period;

/// Closes `period` inside the caller's control-plane transaction, issued at `issued_at`, and
/// writes its audit row there: the same row whoever closed it (an operator, the CLI, the job).
pub fn close_in(
    conn: &mut PgConnection,
    actor: &Actor,
    period: Period,
    issued_at: DateTime<Utc>,
) -> Result<Vec<Invoice>, AppError> {
    let name = actor.audit_name();
    let invoices = close::close(conn, period, &name, issued_at)?;
    audit::record(
        conn,
        &name,
        Action::BillingClose,
        &period.to_string(),
        json!({ "invoices": invoices.len() }),
    )?;
    Ok(invoices)
}

/// A closed period: its invoices, and how many of them this close pushed to the provider.
#[derive(Debug)]
pub struct Closed {
    pub invoices: Vec<Invoice>,
    pub pushed: usize,
}

/// Closes `period` now, then (committed) pushes its invoices to the payment provider outside
/// any transaction. A push failure is recorded on the invoice and retried by `send` or the
/// billing job with the same idempotency keys; the invoices returned show it.
pub async fn close_period(app: &App, actor: Actor, period: Period) -> Result<Closed, AppError> {
    app.db
        .control_async(move |conn| close_in(conn, &actor, period, crate::clock::now()))
        .await?;
    let pushed = crate::billing::send::push_unsent(
        &app.db,
        app.invoices.as_ref(),
        Some(period.to_string()),
        i32::MAX,
    )
    .await?;
    let p = period.to_string();
    let invoices = app
        .db
        .control_async(move |conn| invoice::for_period(conn, &p))
        .await?;
    Ok(Closed { invoices, pushed })
}

/// What closing `period` today would issue, per province, without writing anything (the
/// console shows it before the operator confirms [`close_period`]).
pub async fn preview_close(app: &App, period: Period) -> Result<Vec<close::PreviewRow>, AppError> {
    let today = crate::clock::today_vn();
    app.db
        .control_async(move |conn| close::preview(conn, period, today))
        .await
}

/// Whether `period` has been closed before (by anyone, any entry point).
pub async fn is_closed(app: &App, period: Period) -> Result<bool, AppError> {
    use diesel::prelude::*;
    let p = period.to_string();
    app.db
        .control_async(move |conn| {
            use crate::db::schema::period_closes;
            Ok(diesel::select(diesel::dsl::exists(
                period_closes::table.filter(period_closes::period.eq(p)),
            ))
            .get_result::<bool>(conn)?)
        })
        .await
}
