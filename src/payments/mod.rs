//! Paying a dossier's fee (the citizen's `pay` move) through a provider.
//!
//! The provider is called outside any database transaction: read the dossier (one short tenant
//! transaction), ask the provider, then record the outcome (another). The sandbox confirms at
//! once; Stripe answers with a Checkout page and its webhook confirms later ([`settle`]).

pub mod state;
pub mod stripe;
pub mod transfer;
pub mod vietqr;

use std::sync::Arc;

use diesel::prelude::*;
use futures_util::future::BoxFuture;

use crate::db::schema::{dossier_events, payments};
use crate::dossiers::moves::{self, Move};
use crate::dossiers::status::{Action, Actor, Status};
use crate::dossiers::store::{self, DossierRow};
use crate::error::AppError;
use crate::lang::Msg;
use crate::notify::messages::MailContext;
use crate::tenancy::Tenant;

/// What a provider needs to take one fee.
#[derive(Debug, Clone)]
pub struct FeeRequest {
    pub tenant_slug: String,
    pub tracking_code: String,
    /// The procedure's name, shown on the provider's page.
    pub description: String,
    pub amount_vnd: i64,
    /// The dossier's page: where the citizen comes back to.
    pub return_url: String,
    /// Stable for one payment request of one dossier, so a retried start creates one session.
    pub idempotency_key: String,
}

/// What a provider says when the citizen starts paying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentStart {
    /// Paid already (sandbox): the dossier moves on now.
    Confirmed { reference: String },
    /// The citizen pays on the provider's page; a webhook confirms later.
    Redirect { reference: String, url: String },
}

/// A way to take a dossier fee.
pub trait FeeProvider: Send + Sync {
    fn name(&self) -> &'static str;
    /// Whether it takes a fee online now (card or wallet); the sandbox that does not confirm
    /// takes nothing, and the pages then offer only transfer and counter.
    fn online(&self) -> bool {
        true
    }
    fn start<'a>(
        &'a self,
        request: &'a FeeRequest,
    ) -> BoxFuture<'a, Result<PaymentStart, AppError>>;
    /// Closes the provider's open payment page `reference` (a withdrawn dossier's), so it can
    /// no longer be paid. Providers without pages have nothing to close.
    fn expire<'a>(&'a self, _reference: &'a str) -> BoxFuture<'a, Result<(), AppError>> {
        Box::pin(async { Ok(()) })
    }
}

/// The provider without Stripe. It confirms each fee at once only when told to
/// (`stripe.sandbox_confirms_fees`, which `portal up --demo` sets): demos and pilots. Otherwise
/// it takes nothing and the `pay` move answers how to pay at the desk (409 `pay_at_desk`).
#[derive(Debug, Default, Clone, Copy)]
pub struct Sandbox {
    pub confirms: bool,
}

impl FeeProvider for Sandbox {
    fn name(&self) -> &'static str {
        "sandbox"
    }

    fn online(&self) -> bool {
        self.confirms
    }

    fn start<'a>(
        &'a self,
        request: &'a FeeRequest,
    ) -> BoxFuture<'a, Result<PaymentStart, AppError>> {
        if !self.confirms {
            let refused = pay_at_desk(request);
            return Box::pin(async move { Err(refused) });
        }
        let reference = format!(
            "sandbox-{}-{}",
            request.tracking_code,
            uuid::Uuid::new_v4().simple()
        );
        Box::pin(async move { Ok(PaymentStart::Confirmed { reference }) })
    }
}

/// How to pay when the portal takes no payment online: at the province's one-stop desk.
pub fn pay_at_desk(request: &FeeRequest) -> AppError {
    let amount = crate::billing::money::Vnd(request.amount_vnd);
    let code = &request.tracking_code;
    AppError::conflict(
        "pay_at_desk",
        Msg::owned(
            format!(
                "Cổng chưa nhận thanh toán trực tuyến. Mời nộp lệ phí {amount} cho hồ sơ {code} trực tiếp tại bộ phận một cửa của tỉnh, theo hướng dẫn của cán bộ."
            ),
            format!(
                "This portal takes no online payment. Please pay the fee of {amount} for dossier {code} in person at the province's one-stop desk, as its officials instruct."
            ),
        ),
    )
}

/// The provider the settings ask for: Stripe Checkout when `stripe.fee_payments` is on (with a
/// secret key), else the sandbox (confirming only with `stripe.sandbox_confirms_fees`).
pub fn from_settings(
    settings: &crate::config::StripeSettings,
) -> Result<Arc<dyn FeeProvider>, String> {
    use secrecy::ExposeSecret;
    match &settings.secret_key {
        Some(key) if settings.fee_payments && !key.expose_secret().is_empty() => Ok(Arc::new(
            stripe::StripeCheckout::new(key, &settings.api_base, settings.timeout())?,
        )),
        _ if settings.fee_payments => {
            Err("stripe.fee_payments is on but stripe.secret_key is not set".into())
        }
        _ => Ok(Arc::new(Sandbox {
            confirms: settings.sandbox_confirms_fees,
        })),
    }
}

/// Where a `pay` ended.
#[derive(Debug)]
pub enum FeeOutcome {
    /// Paid: the dossier moved on.
    Paid(DossierRow),
    /// The citizen pays on the provider's page, then the webhook moves the dossier on.
    PayAt { url: String, dossier: DossierRow },
}

/// Everything a move needs besides the connection.
#[derive(Clone)]
pub struct MoveContext {
    pub tenant: Arc<Tenant>,
    pub mail: MailContext,
    pub calendar: Arc<crate::calendar::Calendar>,
}

/// The citizen's `pay`: checks the dossier is theirs and awaits payment, asks the provider
/// (outside any transaction), then records the payment and, when confirmed, moves the dossier.
pub async fn pay(
    db: &crate::db::TenantDb,
    fees: Arc<dyn FeeProvider>,
    cx: MoveContext,
    code: String,
    citizen_id: crate::ids::CitizenId,
    return_url: String,
) -> Result<FeeOutcome, AppError> {
    let slug = cx.tenant.slug.to_string();
    let provider = fees.name();
    let c = code.clone();
    let request = db
        .run(move |conn| {
            let d = store::find_owned(conn, &c, citizen_id)?;
            if d.status() != Status::PaymentRequested {
                return Err(moves::invalid_transition(d.status(), Action::Pay));
            }
            let key = attempt_key(conn, &d, provider)?;
            let description = crate::catalog::national()
                .get(&d.procedure_code)
                .map(|p| p.name.get(d.lang()).to_string())
                .unwrap_or_else(|| d.procedure_code.clone());
            Ok(FeeRequest {
                idempotency_key: format!("fee:{slug}:{}:{key}", d.tracking_code),
                tenant_slug: slug,
                tracking_code: d.tracking_code,
                description,
                amount_vnd: d.fee_vnd,
                return_url,
            })
        })
        .await?;
    let started = fees.start(&request).await?;
    db.run(move |conn| {
        let d = store::lock_owned(conn, &code, citizen_id)?;
        match started {
            PaymentStart::Confirmed { reference } => {
                record(conn, d.id, d.fee_vnd, provider, &reference, "confirmed")?;
                let mv = Move::new(Action::Pay, Actor::Citizen, format!("citizen:{citizen_id}"));
                let d = moves::apply(conn, &cx.tenant, &cx.mail, cx.calendar.as_ref(), &d, &mv)?;
                Ok(FeeOutcome::Paid(d))
            }
            PaymentStart::Redirect { reference, url } => {
                record(conn, d.id, d.fee_vnd, provider, &reference, "pending")?;
                Ok(FeeOutcome::PayAt { url, dossier: d })
            }
        }
    })
    .await
}

/// One key per payment request and failed attempt: the latest `request_payment` in the
/// history and how many payments with this provider failed since.
fn attempt_key(
    conn: &mut PgConnection,
    d: &DossierRow,
    provider: &str,
) -> Result<String, AppError> {
    let asked: Option<i64> = dossier_events::table
        .filter(dossier_events::dossier_id.eq(d.id))
        .filter(dossier_events::action.eq(Action::RequestPayment.as_str()))
        .select(diesel::dsl::max(dossier_events::id))
        .first(conn)?;
    let failed: i64 = payments::table
        .filter(payments::dossier_id.eq(d.id))
        .filter(payments::provider.eq(provider))
        .filter(payments::status.eq("failed"))
        .count()
        .get_result(conn)?;
    Ok(format!("{}:{failed}", asked.unwrap_or(0)))
}

/// A provider's word on a payment, from its webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    /// Paid: the amount and currency the provider says it took.
    Paid {
        amount_vnd: i64,
        currency: String,
    },
    Failed,
}

/// The outcome of an event that does not match what the portal created (one wording for
/// invoices and fees; it lives with the provider events' log).
pub use crate::billing::provider_events::rejected;

/// Applies a provider's confirmation or failure to the dossier `code` (inside the tenant
/// door), only when it matches what the portal created and stored: a payment the portal opened
/// (`reference`, e.g. a Checkout session id) for this very dossier, still pending, in VND, for
/// the amount asked, on a dossier still awaiting payment. Anything else is refused
/// (`rejected: …`, recorded and alerted by the caller) and changes nothing. Idempotent: a
/// payment confirmed before changes nothing, so a replayed or concurrent delivery moves the
/// dossier once. Returns what happened, for the event log.
pub fn settle(
    conn: &mut PgConnection,
    cx: &MoveContext,
    provider: &str,
    code: &str,
    reference: &str,
    settlement: Settlement,
) -> Result<String, AppError> {
    let Some(d) = store::lock_by_code(conn, code)? else {
        return Ok(rejected(format!("no dossier {code}")));
    };
    let opened: Option<(i64, String, i64)> = payments::table
        .filter(payments::provider.eq(provider))
        .filter(payments::reference.eq(reference))
        .select((payments::dossier_id, payments::status, payments::amount_vnd))
        .for_update()
        .first(conn)
        .optional()?;
    let Some((dossier_id, current, amount_opened)) = opened else {
        return Ok(rejected(format!(
            "{provider} payment {reference} was not opened by the portal (dossier {code})"
        )));
    };
    if dossier_id != d.id {
        return Ok(rejected(format!(
            "{provider} payment {reference} belongs to another dossier than {code}"
        )));
    }
    if current == "confirmed" {
        return Ok(format!("dossier {code}: paid before"));
    }
    let target = payments::table
        .filter(payments::provider.eq(provider))
        .filter(payments::reference.eq(reference));
    match settlement {
        Settlement::Failed => {
            if current == "pending" {
                diesel::update(target)
                    .set(payments::status.eq("failed"))
                    .execute(conn)?;
            }
            Ok(format!("dossier {code}: payment failed"))
        }
        Settlement::Paid {
            amount_vnd,
            currency,
        } => {
            if current != "pending" {
                return Ok(rejected(format!(
                    "dossier {code}: {provider} payment {reference} is {current}, not pending ({amount_vnd} {currency} paid)"
                )));
            }
            if !currency.eq_ignore_ascii_case("vnd") {
                return Ok(rejected(format!(
                    "dossier {code}: paid in {currency}, the fee is in VND"
                )));
            }
            if amount_vnd != amount_opened || amount_vnd != d.fee_vnd {
                return Ok(rejected(format!(
                    "dossier {code} asks {} ₫ (payment opened for {amount_opened} ₫), {amount_vnd} ₫ paid",
                    d.fee_vnd
                )));
            }
            if d.status() != Status::PaymentRequested {
                return Ok(rejected(format!(
                    "dossier {code} is {}, not awaiting payment ({amount_vnd} ₫ paid)",
                    d.status().as_str()
                )));
            }
            diesel::update(target)
                .set(payments::status.eq("confirmed"))
                .execute(conn)?;
            let by = format!("{provider}:{reference}");
            let mv = Move::new(Action::Pay, Actor::Citizen, by);
            moves::apply(conn, &cx.tenant, &cx.mail, cx.calendar.as_ref(), &d, &mv)?;
            Ok(format!("dossier {code} paid"))
        }
    }
}

/// The payment pages still open for dossier `code` with `provider`, when the dossier no longer
/// awaits payment (withdrawn, or moved on otherwise): their references, to close at the
/// provider.
pub fn open_after_withdraw(
    conn: &mut PgConnection,
    provider: &str,
    code: &str,
) -> Result<Vec<String>, AppError> {
    let Some(d) = store::lock_by_code(conn, code)? else {
        return Ok(Vec::new());
    };
    if d.status() == Status::PaymentRequested {
        return Ok(Vec::new());
    }
    Ok(payments::table
        .filter(payments::dossier_id.eq(d.id))
        .filter(payments::provider.eq(provider))
        .filter(payments::status.eq("pending"))
        .select(payments::reference)
        .load(conn)?)
}

/// A pending payment closed at the provider: it can no longer be confirmed.
pub fn close_pending(
    conn: &mut PgConnection,
    provider: &str,
    reference: &str,
) -> Result<(), AppError> {
    diesel::update(
        payments::table
            .filter(payments::provider.eq(provider))
            .filter(payments::reference.eq(reference))
            .filter(payments::status.eq("pending")),
    )
    .set(payments::status.eq("failed"))
    .execute(conn)?;
    Ok(())
}

/// Records a payment. The (provider, reference) pair is unique, so a replay is recorded once.
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
            payments::created_at.eq(crate::clock::now()),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok(inserted == 1)
}

/// The 409 for a fee a provider cannot take.
pub fn over_provider_limit() -> AppError {
    AppError::conflict(
        "fee_over_provider_limit",
        Msg::new(
            "Lệ phí vượt mức tối đa cổng thanh toán nhận: mời nộp trực tiếp tại bộ phận một cửa.",
            "The fee exceeds what the payment provider accepts: please pay at the service desk.",
        ),
    )
}
