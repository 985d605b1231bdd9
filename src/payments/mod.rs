//! Paying a dossier's fee (the citizen's `pay` move) through a provider.

use diesel::prelude::*;

use crate::db::schema::payments;
use crate::error::AppError;

/// What a provider says when the citizen starts paying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentStart {
    /// Paid already (sandbox, or a saved method): the dossier moves on now.
    Confirmed { reference: String },
    /// The citizen pays on the provider's page; a webhook confirms later.
    Redirect { reference: String, url: String },
}

/// A way to take a dossier fee. Runs outside the database transaction (it may call out).
pub trait FeeProvider: Send + Sync {
    fn name(&self) -> &'static str;
    fn start(&self, tracking_code: &str, amount_vnd: i64) -> Result<PaymentStart, AppError>;
}

/// The default provider: confirms at once. For pilots and demos; production sets a real one.
#[derive(Debug, Default, Clone, Copy)]
pub struct Sandbox;

impl FeeProvider for Sandbox {
    fn name(&self) -> &'static str {
        "sandbox"
    }

    fn start(&self, tracking_code: &str, _amount_vnd: i64) -> Result<PaymentStart, AppError> {
        Ok(PaymentStart::Confirmed {
            reference: format!("sandbox-{tracking_code}-{}", uuid::Uuid::new_v4().simple()),
        })
    }
}

/// Records a payment (inside the tenant door). The (provider, reference) pair is unique, so a
/// replayed confirmation is recorded once.
pub fn record(
    conn: &mut PgConnection,
    dossier_id: i64,
    amount_vnd: i64,
    provider: &str,
    reference: &str,
    status: &str,
) -> Result<bool, AppError> {
    let inserted = diesel::insert_into(payments::table)
        .values((
            payments::id.eq(uuid::Uuid::new_v4()),
            payments::dossier_id.eq(dossier_id),
            payments::amount_vnd.eq(amount_vnd),
            payments::provider.eq(provider),
            payments::reference.eq(reference),
            payments::status.eq(status),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok(inserted == 1)
}
