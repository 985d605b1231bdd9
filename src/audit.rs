//! The operator's audit log: who changed what, in the same transaction as the change.
//!
//! One vocabulary: each action has one verb here, written the same from every surface (API,
//! console, CLI, job). A new action adds a variant; nothing else spells an action's name.

use diesel::prelude::*;

use crate::db::schema::audit_log;
use crate::error::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    TenantCreate,
    TenantAdminRequested,
    TenantApply,
    TenantImport,
    TenantSuspend,
    TenantResume,
    TenantLease,
    PlanPut,
    SubscriptionApprove,
    SubscriptionDecline,
    BillingClose,
    InvoicePaid,
    InvoiceVoid,
    InvoiceSend,
    OperatorCreate,
    CalendarImport,
    Reorganise,
    FeeReceiptVoid,
    TenantMove,
    PaymentAccountSet,
    PaymentReconcile,
    EinvoiceBuyerPut,
    EinvoiceIssue,
    TenantLeaseEnd,
}

impl Action {
    pub const ALL: [Action; 24] = [
        Action::TenantCreate,
        Action::TenantAdminRequested,
        Action::TenantApply,
        Action::TenantImport,
        Action::TenantSuspend,
        Action::TenantResume,
        Action::TenantLease,
        Action::PlanPut,
        Action::SubscriptionApprove,
        Action::SubscriptionDecline,
        Action::BillingClose,
        Action::InvoicePaid,
        Action::InvoiceVoid,
        Action::InvoiceSend,
        Action::OperatorCreate,
        Action::CalendarImport,
        Action::Reorganise,
        Action::FeeReceiptVoid,
        Action::TenantMove,
        Action::PaymentAccountSet,
        Action::PaymentReconcile,
        Action::EinvoiceBuyerPut,
        Action::EinvoiceIssue,
        Action::TenantLeaseEnd,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::TenantCreate => "tenant.create",
            Action::TenantAdminRequested => "tenant.admin_requested",
            Action::TenantApply => "tenant.apply",
            Action::TenantImport => "tenant.import",
            Action::TenantSuspend => "tenant.suspend",
            Action::TenantResume => "tenant.resume",
            Action::TenantLease => "tenant.lease",
            Action::PlanPut => "plan.put",
            Action::SubscriptionApprove => "subscription.approve",
            Action::SubscriptionDecline => "subscription.decline",
            Action::BillingClose => "billing.close",
            Action::InvoicePaid => "invoice.paid",
            Action::InvoiceVoid => "invoice.void",
            Action::InvoiceSend => "invoice.send",
            Action::OperatorCreate => "operator.create",
            Action::CalendarImport => "calendar.import",
            Action::Reorganise => "tenants.reorganise",
            Action::FeeReceiptVoid => "fee_receipt.void",
            Action::TenantMove => "tenant.move",
            Action::PaymentAccountSet => "payment_account.set",
            Action::PaymentReconcile => "payments.reconcile",
            Action::EinvoiceBuyerPut => "einvoice.buyer_put",
            Action::EinvoiceIssue => "einvoice.issue",
            Action::TenantLeaseEnd => "tenant.lease_end",
        }
    }
}

pub fn record(
    conn: &mut PgConnection,
    actor: &str,
    action: Action,
    target: &str,
    details: serde_json::Value,
) -> Result<(), AppError> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::actor.eq(actor),
            audit_log::action.eq(action.as_str()),
            audit_log::target.eq(target),
            audit_log::details.eq(details),
        ))
        .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Action;

    #[test]
    fn every_action_has_its_own_verb() {
        let mut names: Vec<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Action::ALL.len());
    }
}
