//! Paying a fee by bank transfer (issue 19.3): the province's receiving account (its admin
//! sets it), the transfer a citizen opens for a dossier, and the bank statement lines matched
//! against the open transfers, by staff for one dossier or by the province admin or an operator
//! for a whole statement. A match marks the fee paid and issues its e-receipt in one
//! transaction with the audit row; a line matched before changes nothing.

use std::sync::Arc;

use serde::Serialize;

use super::{Actor, App};
use crate::audit;
use crate::db::{TenantDb, tenant_enter, tenant_leave};
use crate::dossiers::store::{self, DossierRow};
use crate::dossiers::tracking;
use crate::error::AppError;
use crate::ids::CitizenId;
use crate::lang::Msg;
use crate::payments::transfer::{
    self, AccountInput, LineOutcome, LineResult, ReceivingAccount, StatementLine, Transfer,
};
use crate::tenancy::Tenant;

/// The receiving account, if the province set one.
pub async fn account(app: &App, tenant: &Tenant) -> Result<Option<ReceivingAccount>, AppError> {
    super::staff::door(app, tenant)
        .run(transfer::load_account)
        .await
}

/// Sets the receiving account (province admin), with an audit row.
pub async fn save_account(
    app: &App,
    actor: &Actor,
    tenant: &Arc<Tenant>,
    input: &AccountInput,
) -> Result<ReceivingAccount, AppError> {
    actor.province_admin()?;
    let account = transfer::ReceivingAccount::parse(input)?;
    let (saved, actor, tenant) = (account.clone(), actor.clone(), tenant.clone());
    app.db
        .control_async(move |conn| {
            tenant_enter(conn, &tenant.db_ref())?;
            transfer::save_account(conn, &saved)?;
            tenant_leave(conn)?;
            audit::record(
                conn,
                &actor.audit_name(),
                audit::Action::PaymentAccountSet,
                &tenant.slug.to_string(),
                serde_json::json!({
                    "bank_bin": saved.bank_bin,
                    "account_number": saved.account_number,
                    "account_name": saved.account_name,
                }),
            )?;
            Ok(())
        })
        .await?;
    Ok(account)
}

/// What the citizen's pay page shows: the dossier, the transfer already open, and whether the
/// province takes transfers.
#[derive(Debug)]
pub struct PayChoice {
    pub dossier: DossierRow,
    pub pending: Option<Transfer>,
    pub transfers: bool,
}

/// The citizen's own dossier for the pay page (reads only; nothing is charged).
pub async fn pay_choice(
    db: &TenantDb,
    citizen: CitizenId,
    code: String,
) -> Result<PayChoice, AppError> {
    db.run(move |conn| {
        let dossier = store::find_owned(conn, &code, citizen)?;
        let pending = transfer::pending(conn, &dossier)?;
        let transfers = transfer::load_account(conn)?.is_some();
        Ok(PayChoice {
            dossier,
            pending,
            transfers,
        })
    })
    .await
}

/// The citizen chooses to pay by transfer: the transfer opened (or the one already open).
pub async fn open_transfer(
    db: &TenantDb,
    citizen: CitizenId,
    code: String,
) -> Result<(DossierRow, Transfer), AppError> {
    db.run(move |conn| {
        let d = store::lock_owned(conn, &code, citizen)?;
        let t = transfer::open(conn, &d)?;
        Ok((d, t))
    })
    .await
}

/// The report of a statement: each line's outcome, and how many were paid or refused.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Reconciliation {
    pub lines: Vec<LineResult>,
    pub paid: usize,
    pub already_paid: usize,
    /// Lines that matched nothing or were refused (wrong amount, dossier no longer awaiting
    /// payment): money to look into, nothing changed.
    pub refused: usize,
}

/// Too many lines for one request: a statement is posted a day at a time.
const MAX_LINES: usize = 1000;

/// Matches a bank statement against the province's open transfers (province admin of this
/// province, or an operator). One transaction: the payments, moves, receipts and the audit row.
pub async fn reconcile(
    app: &App,
    actor: &Actor,
    tenant: &Arc<Tenant>,
    lines: Vec<StatementLine>,
) -> Result<Reconciliation, AppError> {
    match actor {
        Actor::Operator { .. } => {}
        _ => {
            actor.province_admin()?;
        }
    }
    if lines.is_empty() || lines.len() > MAX_LINES {
        return Err(AppError::invalid(
            "lines",
            Msg::owned(
                format!("Gửi từ 1 đến {MAX_LINES} dòng sao kê."),
                format!("Send 1 to {MAX_LINES} statement lines."),
            ),
        ));
    }
    run_lines(app, actor, tenant, lines, None).await
}

/// Staff confirm the transfer of one dossier they decide, as their bank statement shows it.
pub async fn confirm_transfer(
    app: &App,
    actor: &Actor,
    tenant: &Arc<Tenant>,
    code: &str,
    line: StatementLine,
) -> Result<LineResult, AppError> {
    actor.staff()?;
    let code = tracking::normalize(code);
    let r = run_lines(app, actor, tenant, vec![line], Some(code)).await?;
    r.lines
        .into_iter()
        .next()
        .ok_or_else(|| AppError::internal("one line in, none out"))
}

async fn run_lines(
    app: &App,
    actor: &Actor,
    tenant: &Arc<Tenant>,
    lines: Vec<StatementLine>,
    only: Option<String>,
) -> Result<Reconciliation, AppError> {
    let cx = app.move_context(tenant.clone()).await?;
    let (actor, tenant) = (actor.clone(), tenant.clone());
    app.db
        .control_async(move |conn| {
            tenant_enter(conn, &tenant.db_ref())?;
            let by = actor.audit_name();
            let only = match &only {
                Some(code) => Some(super::staff::lock_full(conn, &actor, code)?.id),
                None => None,
            };
            let mut results = Vec::with_capacity(lines.len());
            for line in &lines {
                results.push(transfer::reconcile_line(conn, &cx, line, only, &by)?);
            }
            tenant_leave(conn)?;
            let count = |o: LineOutcome| results.iter().filter(|r| r.outcome == o).count();
            let report = Reconciliation {
                paid: count(LineOutcome::Paid),
                already_paid: count(LineOutcome::AlreadyPaid),
                refused: results.len() - count(LineOutcome::Paid) - count(LineOutcome::AlreadyPaid),
                lines: results,
            };
            if report.paid + report.refused > 0 {
                audit::record(
                    conn,
                    &by,
                    audit::Action::PaymentReconcile,
                    &tenant.slug.to_string(),
                    serde_json::to_value(&report).map_err(|e| AppError::internal(e.to_string()))?,
                )?;
            }
            Ok(report)
        })
        .await
}
