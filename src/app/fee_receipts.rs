//! Fee e-receipts (issue 19.2): reading them (owner, staff) and voiding one, which issues its
//! replacement. Receipts are issued by the move that marks a fee paid
//! ([`crate::dossiers::fee_receipts::issue_for_payment`]), whichever way it was paid.

use std::sync::Arc;

use super::staff::{ManagedDossier, lock_full, reach};
use super::{Actor, App};
use crate::audit;
use crate::db::{TenantDb, tenant_enter, tenant_leave};
use crate::dossiers::fee_receipts::{self, FeeReceiptRow, VoidReason};
use crate::dossiers::store::{self, DossierRow};
use crate::dossiers::tracking;
use crate::error::AppError;
use crate::ids::CitizenId;
use crate::tenancy::Tenant;
use crate::units::scope::Access;

/// A dossier's receipts, for the pages: every one issued, oldest first (voided ones too, so a
/// replacement can name what it replaces).
#[derive(Debug)]
pub struct FeeReceipts {
    pub dossier: DossierRow,
    pub receipts: Vec<FeeReceiptRow>,
}

impl FeeReceipts {
    /// The receipt in force (the newest not voided).
    pub fn current(&self) -> Option<&FeeReceiptRow> {
        self.receipts.iter().rev().find(|r| r.voided_at.is_none())
    }

    /// The receipt with id `id`, among this dossier's.
    pub fn by_id(&self, id: i64) -> Option<&FeeReceiptRow> {
        self.receipts.iter().find(|r| r.id == id)
    }
}

/// The owner's receipts (another citizen's dossier, or one without a receipt: 404).
pub async fn for_owner(
    db: &TenantDb,
    citizen: CitizenId,
    code: &str,
) -> Result<FeeReceipts, AppError> {
    let code = tracking::normalize(code);
    db.run(move |conn| {
        let dossier = store::find_owned(conn, &code, citizen)?;
        let receipts = fee_receipts::of_dossier(conn, dossier.id)?;
        if receipts.is_empty() {
            return Err(AppError::NotFound);
        }
        Ok(FeeReceipts { dossier, receipts })
    })
    .await
}

/// The receipts of a dossier the staff member's units decide (else 404, also for a code of
/// another province: the door is this province's).
pub async fn for_staff(
    app: &App,
    actor: &Actor,
    tenant: &Tenant,
    code: &str,
) -> Result<FeeReceipts, AppError> {
    actor.staff()?;
    let code = tracking::normalize(code);
    let actor = actor.clone();
    super::staff::door(app, tenant)
        .run(move |conn| {
            let found = store::find_by_code(conn, &code)?;
            let dossier = match reach(conn, &actor, found)? {
                (d, Access::Full) => d,
                _ => return Err(AppError::NotFound),
            };
            let receipts = fee_receipts::of_dossier(conn, dossier.id)?;
            if receipts.is_empty() {
                return Err(AppError::NotFound);
            }
            Ok(FeeReceipts { dossier, receipts })
        })
        .await
}

/// Voids the dossier's receipt in force and issues its replacement (the next number, naming
/// the voided one). The void, the replacement and the audit row are one transaction: the
/// province's rows through its door entered on the control connection, then the audit row.
pub async fn void(
    app: &App,
    actor: &Actor,
    tenant: &Arc<Tenant>,
    code: &str,
    reason: &str,
) -> Result<ManagedDossier, AppError> {
    actor.staff()?;
    let reason = VoidReason::parse(reason)?;
    let code = tracking::normalize(code);
    let (actor, tenant) = (actor.clone(), tenant.clone());
    app.db
        .control_async(move |conn| {
            tenant_enter(conn, &tenant.db_ref())?;
            let by = actor.audit_name();
            let d = lock_full(conn, &actor, &code)?;
            let (voided, replacement) =
                fee_receipts::void_and_replace(conn, &tenant, &d, &by, &reason)?;
            let managed = ManagedDossier::read(conn, d)?;
            tenant_leave(conn)?;
            audit::record(
                conn,
                &by,
                audit::Action::FeeReceiptVoid,
                &format!("{}:{}", tenant.slug, managed.dossier.tracking_code),
                serde_json::json!({
                    "voided": {"symbol": voided.symbol(), "number": voided.number},
                    "replacement": {"symbol": replacement.symbol(), "number": replacement.number},
                    "reason": reason.as_str(),
                }),
            )?;
            Ok(managed)
        })
        .await
}
