//! Where a dossier's fee stands, as staff see it on the dossier page (issue 19): the amount
//! asked, how the citizen chose to pay, the transfer's reference, and whether it is paid.
//! Read from the payments the portal recorded and the receipt in force; nothing is written.

use diesel::prelude::*;

use super::transfer;
use crate::db::schema::payments;
use crate::dossiers::fee_receipts;
use crate::dossiers::status::Status;
use crate::dossiers::store::DossierRow;
use crate::error::AppError;

/// How the fee is (being) paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeeMethod {
    /// Nothing recorded yet: the citizen has not chosen, or pays at the desk.
    NotChosen,
    /// A bank transfer to the province's account (VietQR and reference).
    Transfer,
    /// A card or wallet through the payment provider.
    Online,
    /// In person at the one-stop desk.
    Counter,
}

/// Where the fee stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeeStage {
    /// Asked; no payment is open.
    AwaitingPayment,
    /// The citizen chose transfer: the province waits for the money on its account.
    AwaitingTransfer,
    /// Paying online: the provider has not confirmed yet.
    AwaitingProvider,
    /// Paid.
    Paid,
    /// Asked once, but the dossier no longer awaits it (withdrawn, stopped) and it was not paid.
    NotCollected,
}

impl FeeStage {
    /// A stable name, for CSS classes and tests (never shown as words).
    pub fn as_str(self) -> &'static str {
        match self {
            FeeStage::AwaitingPayment => "awaiting_payment",
            FeeStage::AwaitingTransfer => "awaiting_transfer",
            FeeStage::AwaitingProvider => "awaiting_provider",
            FeeStage::Paid => "paid",
            FeeStage::NotCollected => "not_collected",
        }
    }
}

/// A dossier's fee as staff see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeState {
    pub amount_vnd: i64,
    pub method: FeeMethod,
    /// The transfer's content (bank transfers only).
    pub reference: Option<String>,
    pub stage: FeeStage,
}

impl FeeState {
    /// Staff may confirm the transfer from their bank statement.
    pub fn transfer_to_confirm(&self) -> Option<&str> {
        match (self.stage, &self.reference) {
            (FeeStage::AwaitingTransfer, Some(r)) => Some(r),
            _ => None,
        }
    }
}

fn method_of(provider: &str) -> FeeMethod {
    match provider {
        transfer::PROVIDER => FeeMethod::Transfer,
        "counter" => FeeMethod::Counter,
        _ => FeeMethod::Online,
    }
}

/// The fee of `d` (read in the caller's transaction), or `None` when no fee was ever asked.
pub fn of_dossier(conn: &mut PgConnection, d: &DossierRow) -> Result<Option<FeeState>, AppError> {
    // Newest first: the latest attempt is the one that counts.
    let rows: Vec<(String, String, String, i64)> = payments::table
        .filter(payments::dossier_id.eq(d.id))
        .order(payments::created_at.desc())
        .select((
            payments::provider,
            payments::reference,
            payments::status,
            payments::amount_vnd,
        ))
        .load(conn)?;
    let reference_of = |provider: &str, reference: &str| {
        (provider == transfer::PROVIDER).then(|| reference.to_string())
    };
    if let Some((provider, reference, _, amount)) = rows.iter().find(|r| r.2 == "confirmed") {
        return Ok(Some(FeeState {
            amount_vnd: *amount,
            method: method_of(provider),
            reference: reference_of(provider, reference),
            stage: FeeStage::Paid,
        }));
    }
    if let Some(receipt) = fee_receipts::current(conn, d.id)? {
        // Paid without a payment the portal recorded: at the desk.
        return Ok(Some(FeeState {
            amount_vnd: receipt.amount_vnd,
            method: FeeMethod::Counter,
            reference: None,
            stage: FeeStage::Paid,
        }));
    }
    if d.status() == Status::PaymentRequested {
        let open = rows.iter().find(|r| r.2 == "pending" && r.3 == d.fee_vnd);
        return Ok(Some(match open {
            Some((provider, reference, _, _)) => FeeState {
                amount_vnd: d.fee_vnd,
                method: method_of(provider),
                reference: reference_of(provider, reference),
                stage: if provider == transfer::PROVIDER {
                    FeeStage::AwaitingTransfer
                } else {
                    FeeStage::AwaitingProvider
                },
            },
            None => FeeState {
                amount_vnd: d.fee_vnd,
                method: FeeMethod::NotChosen,
                reference: None,
                stage: FeeStage::AwaitingPayment,
            },
        }));
    }
    Ok(rows
        .first()
        .map(|(provider, reference, _, amount)| FeeState {
            amount_vnd: *amount,
            method: method_of(provider),
            reference: reference_of(provider, reference),
            stage: FeeStage::NotCollected,
        }))
}
