//! The operator's e-invoice actions: a province's buyer details, the XML of an invoice, and
//! (see `issue`) issuing through the provider.

use chrono::NaiveDate;
use diesel::PgConnection;
use diesel::prelude::*;
use serde_json::json;

use super::{Actor, App};
use crate::audit::{self, Action};
use crate::billing::invoice::{self, InvoiceStatus};
use crate::db::schema::{credit_notes, einvoices, invoices};
use crate::einvoice::buyer::{self, BuyerDetails};
use crate::einvoice::model::{Correction, EInvoice, Related, Series};
use crate::einvoice::store::{IssuedEInvoice, Kind};
use crate::einvoice::{build, provider, store, xml};
use crate::error::{AppError, FieldErrors};
use crate::lang::Msg;
use crate::notify::outbox::{self, NewMail};

fn tenant_id(conn: &mut diesel::PgConnection, slug: &str) -> Result<uuid::Uuid, AppError> {
    Ok(crate::tenancy::store::find_by_slug(conn, slug)?
        .ok_or(AppError::NotFound)?
        .id
        .0)
}

/// The province's buyer details and what the law still needs of them (`missing`).
pub async fn get_buyer(app: &App, slug: &str) -> Result<serde_json::Value, AppError> {
    let slug = slug.to_string();
    let d = app
        .db
        .control_async(move |conn| {
            let id = tenant_id(conn, &slug)?;
            buyer::get(conn, id)
        })
        .await?;
    Ok(with_missing(d))
}

fn with_missing(d: BuyerDetails) -> serde_json::Value {
    let missing: Vec<String> = d
        .to_buyer()
        .err()
        .map(|m| m.into_keys().collect())
        .unwrap_or_default();
    let mut v = serde_json::to_value(&d).unwrap_or_default();
    v["missing"] = json!(missing);
    v
}

/// Replaces the province's buyer details (checked, audited, one transaction).
pub async fn put_buyer(
    app: &App,
    actor: &Actor,
    slug: &str,
    details: BuyerDetails,
) -> Result<serde_json::Value, AppError> {
    let d = details.checked()?;
    let (slug, name) = (slug.to_string(), actor.audit_name());
    let saved = app
        .db
        .control_async(move |conn| {
            let id = tenant_id(conn, &slug)?;
            buyer::put(conn, id, &d, &name)?;
            audit::record(
                conn,
                &name,
                Action::EinvoiceBuyerPut,
                &slug,
                json!({ "tax_code": d.tax_code, "budget_unit_code": d.budget_unit_code }),
            )?;
            Ok(d)
        })
        .await?;
    Ok(with_missing(saved))
}

pub(crate) fn incomplete(fields: FieldErrors) -> AppError {
    AppError::conflict_with_fields(
        "einvoice_incomplete",
        Msg::new(
            "Chưa đủ thông tin để lập hoá đơn điện tử.",
            "An e-invoice cannot be made yet: details are missing.",
        ),
        fields,
    )
}

pub(crate) fn invalid(e: crate::einvoice::EinvoiceError) -> AppError {
    AppError::conflict_with_fields(
        "einvoice_invalid",
        Msg::new(
            "Hoá đơn điện tử không hợp lệ nên không được lập.",
            "The e-invoice would not be valid, so it is not made.",
        ),
        FieldErrors::from([(
            "einvoice".to_string(),
            Msg::owned(e.to_string(), e.to_string()),
        )]),
    )
}

/// The seller and the buyer, or 409 `einvoice_incomplete` naming everything missing.
pub(crate) fn parties(
    app: &App,
    conn: &mut diesel::PgConnection,
    tenant_id: uuid::Uuid,
) -> Result<
    (
        crate::einvoice::model::Seller,
        crate::einvoice::model::Buyer,
    ),
    AppError,
> {
    let seller = build::seller(&app.settings.seller);
    let buyer = buyer::get(conn, tenant_id)?.to_buyer();
    match (seller, buyer) {
        (Ok(s), Ok(b)) => Ok((s, b)),
        (s, b) => {
            let mut fields = s.err().unwrap_or_default();
            fields.extend(b.err().unwrap_or_default());
            Err(incomplete(fields))
        }
    }
}

/// The e-invoice XML of invoice `number`: the one issued, or (not yet issued) the one that
/// would be issued today with the series' next number. 409 `einvoice_incomplete` with
/// `fields` when the buyer (or the seller's settings) lacks what the law requires.
pub async fn xml_of(app: &App, number: &str) -> Result<Vec<u8>, AppError> {
    let (app2, number) = (app.clone(), number.to_string());
    let today = crate::clock::today_vn();
    app.db
        .control_async(move |conn| {
            let keys = store::invoice_keys(conn, &number)?.ok_or(AppError::NotFound)?;
            if let Some(e) = store::issued_for(conn, keys.id)? {
                return Ok(store::xml_of(conn, e.id)?.into_bytes());
            }
            let inv = invoice::by_number(conn, &number)?.ok_or(AppError::NotFound)?;
            if inv.status == InvoiceStatus::Void {
                return Err(not_for_void());
            }
            let (seller, buyer) = parties(&app2, conn, keys.tenant_id)?;
            let s = &app2.settings.einvoice;
            let series = build::series_on(s, today).map_err(invalid)?;
            let n = store::peek_number(conn, series.as_str())?;
            let e = build::einvoice(
                s,
                &inv,
                keys.vat_rate_bp,
                build::Parts {
                    seller,
                    buyer,
                    number: n as u32,
                    series,
                    issued_on: today,
                    related: None,
                },
            )
            .map_err(invalid)?;
            Ok(xml::write(&e))
        })
        .await
}

pub(crate) fn not_for_void() -> AppError {
    AppError::conflict(
        "invalid_transition",
        Msg::new(
            "Hoá đơn đã huỷ không được lập hoá đơn điện tử mới.",
            "A void invoice gets no e-invoice of its own.",
        ),
    )
}

/// Which e-invoice to issue for an invoice.
#[derive(Debug, Clone)]
pub enum Ask {
    /// The e-invoice of a finalized (or paid) invoice.
    Original,
    /// `TCHDon=2`: the credit of a voided invoice whose e-invoice was issued.
    Adjust,
    /// `TCHDon=1`: the e-invoice of invoice `by`, replacing the voided invoice's.
    Replace { by: String },
}

/// An e-invoice with its number taken, not yet registered.
struct Pending {
    id: uuid::Uuid,
    key: String,
    einvoice: EInvoice,
    xml: Vec<u8>,
    attempts: i32,
    tenant_id: uuid::Uuid,
}

enum Step {
    Done(Box<IssuedEInvoice>),
    Send(Box<Pending>),
}

fn lock_invoice(conn: &mut PgConnection, id: uuid::Uuid) -> Result<(), AppError> {
    invoices::table
        .find(id)
        .select(invoices::id)
        .for_update()
        .first::<uuid::Uuid>(conn)?;
    Ok(())
}

fn conflict(code: &'static str, vi: &'static str, en: &'static str) -> AppError {
    AppError::conflict(code, Msg::new(vi, en))
}

fn original_of(
    conn: &mut PgConnection,
    invoice_id: uuid::Uuid,
) -> Result<IssuedEInvoice, AppError> {
    match store::issued_for(conn, invoice_id)? {
        Some(e) if e.status == "issued" => Ok(e),
        _ => Err(conflict(
            "einvoice_not_issued",
            "Hoá đơn gốc chưa có hoá đơn điện tử đã phát hành.",
            "The original invoice has no issued e-invoice.",
        )),
    }
}

fn related(kind: Kind, orig: &IssuedEInvoice, number: &str) -> Result<Related, AppError> {
    let (correction, note) = match kind {
        Kind::Replacement => (
            Correction::Replacement,
            format!(
                "Thay thế hoá đơn {} số {} (hoá đơn {number} đã huỷ)",
                orig.series, orig.number
            ),
        ),
        _ => (
            Correction::Adjustment,
            format!(
                "Điều chỉnh giảm toàn bộ hoá đơn {} số {} do huỷ hoá đơn {number}",
                orig.series, orig.number
            ),
        ),
    };
    Ok(Related {
        correction,
        template: orig.template.clone(),
        series: Series::parse(&orig.series).map_err(invalid)?,
        number: orig.number as u32,
        issued_on: orig.issued_on,
        note,
    })
}

/// Takes the number (or finds the one taken) of the e-invoice `ask` names, in one
/// transaction with the invoice locked: concurrent requests and the job never take two.
#[allow(clippy::too_many_arguments)]
fn reserve(
    app: &App,
    conn: &mut PgConnection,
    ask: &Ask,
    number: &str,
    today: NaiveDate,
    provider: &str,
    actor: &str,
) -> Result<Step, AppError> {
    let keys = store::invoice_keys(conn, number)?.ok_or(AppError::NotFound)?;
    lock_invoice(conn, keys.id)?;
    let inv = invoice::by_number(conn, number)?.ok_or(AppError::NotFound)?;
    let (target_keys, target, kind, orig, key) = match ask {
        Ask::Original => {
            if inv.status == InvoiceStatus::Void && store::issued_for(conn, keys.id)?.is_none() {
                return Err(not_for_void());
            }
            (keys, inv, Kind::Original, None, keys.id.to_string())
        }
        Ask::Adjust | Ask::Replace { .. } => {
            if inv.status != InvoiceStatus::Void {
                return Err(conflict(
                    "invalid_transition",
                    "Chỉ điều chỉnh hoặc thay thế hoá đơn điện tử của hoá đơn đã huỷ.",
                    "Only a void invoice's e-invoice is adjusted or replaced.",
                ));
            }
            let orig = original_of(conn, keys.id)?;
            match ask {
                Ask::Replace { by } => {
                    let bk = store::invoice_keys(conn, by)?.ok_or(AppError::NotFound)?;
                    lock_invoice(conn, bk.id)?;
                    let binv = invoice::by_number(conn, by)?.ok_or(AppError::NotFound)?;
                    if bk.tenant_id != keys.tenant_id || binv.status == InvoiceStatus::Void {
                        return Err(conflict(
                            "invalid_replacement",
                            "Hoá đơn thay thế phải là hoá đơn chưa huỷ của cùng tỉnh.",
                            "The replacing invoice is a live invoice of the same province.",
                        ));
                    }
                    (bk, binv, Kind::Replacement, Some(orig), bk.id.to_string())
                }
                _ => {
                    let credit: uuid::Uuid = credit_notes::table
                        .filter(credit_notes::invoice_id.eq(keys.id))
                        .select(credit_notes::id)
                        .first(conn)?;
                    (keys, inv, Kind::Adjustment, Some(orig), credit.to_string())
                }
            }
        }
    };
    let existing = store::all_for(conn, target_keys.id)?
        .into_iter()
        .find(|e| (e.kind == Kind::Adjustment) == (kind == Kind::Adjustment));
    if let Some(e) = &existing {
        if e.kind != kind {
            return Err(conflict(
                "einvoice_exists",
                "Hoá đơn này đã có hoá đơn điện tử.",
                "This invoice has an e-invoice already.",
            ));
        }
        if e.status == "issued" {
            return Ok(Step::Done(Box::new(e.clone())));
        }
    }
    let (seller, buyer) = parties(app, conn, target_keys.tenant_id)?;
    let s = &app.settings.einvoice;
    let rel = orig
        .as_ref()
        .map(|o| related(kind, o, number))
        .transpose()?;
    let (id, series, n, issued_on, attempts) = match &existing {
        Some(e) => (
            e.id,
            Series::parse(&e.series).map_err(invalid)?,
            e.number,
            e.issued_on,
            e.attempts,
        ),
        None => {
            let series = build::series_on(s, today).map_err(invalid)?;
            let n = store::take_number(conn, series.as_str())?;
            (uuid::Uuid::new_v4(), series, n, today, 0)
        }
    };
    let e = build::einvoice(
        s,
        &target,
        target_keys.vat_rate_bp,
        build::Parts {
            seller,
            buyer,
            number: n as u32,
            series: series.clone(),
            issued_on,
            related: rel,
        },
    )
    .map_err(invalid)?;
    let xml_bytes = xml::write(&e);
    let text = String::from_utf8(xml_bytes.clone()).map_err(AppError::internal)?;
    let hash = crate::dossiers::results::sha256_hex(&xml_bytes);
    if existing.is_some() {
        // Not registered yet: it goes with the buyer's details as they are now.
        diesel::update(einvoices::table.find(id))
            .set((einvoices::xml.eq(&text), einvoices::xml_sha256.eq(&hash)))
            .execute(conn)?;
    } else {
        diesel::insert_into(einvoices::table)
            .values((
                einvoices::id.eq(id),
                einvoices::invoice_id.eq(target_keys.id),
                einvoices::kind.eq(kind.as_str()),
                einvoices::related_id.eq(orig.as_ref().map(|o| o.id)),
                einvoices::idempotency_key.eq(&key),
                einvoices::template.eq(&e.template),
                einvoices::series.eq(series.as_str()),
                einvoices::number.eq(n),
                einvoices::issued_on.eq(issued_on),
                einvoices::provider.eq(provider),
                einvoices::xml.eq(&text),
                einvoices::xml_sha256.eq(&hash),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            actor,
            Action::EinvoiceIssue,
            &target.number,
            json!({ "kind": kind.as_str(), "series": series.as_str(), "number": n }),
        )?;
    }
    Ok(Step::Send(Box::new(Pending {
        id,
        key,
        einvoice: e,
        xml: xml_bytes,
        attempts,
        tenant_id: target_keys.tenant_id,
    })))
}

fn no_provider() -> AppError {
    conflict(
        "no_einvoice_provider",
        "Chưa cấu hình nhà cung cấp hoá đơn điện tử.",
        "No e-invoice provider is configured.",
    )
}

/// Issues the e-invoice `ask` names for invoice `number`: the number is taken (or found) in
/// one transaction, the provider is called outside it (searching by our key first when an
/// earlier attempt may have reached it), and its answer is recorded; the buyer is mailed the
/// lookup code once. A provider failure is recorded and answered 503; the retry sends the same
/// number under the same key.
pub async fn issue(
    app: &App,
    actor: &Actor,
    number: &str,
    ask: Ask,
) -> Result<IssuedEInvoice, AppError> {
    let provider = app.einvoices.clone().ok_or_else(no_provider)?;
    let today = crate::clock::today_vn();
    let (app2, n, name, pname) = (
        app.clone(),
        number.to_string(),
        actor.audit_name(),
        provider.name(),
    );
    let step = app
        .db
        .control_async(move |conn| reserve(&app2, conn, &ask, &n, today, pname, &name))
        .await?;
    let p = match step {
        Step::Done(e) => return Ok(*e),
        Step::Send(p) => p,
    };
    let out = provider::Outgoing {
        key: &p.key,
        einvoice: &p.einvoice,
        xml: &p.xml,
    };
    let result = provider::register(provider.as_ref(), out, p.attempts > 0).await;
    let failed = result.as_ref().err().map(|e| e.to_string());
    let (id, tenant_id) = (p.id, p.tenant_id);
    let issued = app
        .db
        .control_async(move |conn| record(conn, id, tenant_id, result))
        .await?;
    match failed {
        Some(why) => Err(AppError::Unavailable(format!("e-invoice provider: {why}"))),
        None => Ok(issued),
    }
}

fn record(
    conn: &mut PgConnection,
    id: uuid::Uuid,
    tenant_id: uuid::Uuid,
    result: Result<provider::Registered, provider::ProviderError>,
) -> Result<IssuedEInvoice, AppError> {
    match result {
        Ok(r) => {
            diesel::update(einvoices::table.find(id))
                .set((
                    einvoices::status.eq("issued"),
                    einvoices::provider_number.eq(&r.provider_number),
                    einvoices::authority_code.eq(&r.authority_code),
                    einvoices::lookup_code.eq(&r.lookup_code),
                    einvoices::pdf.eq(&r.pdf),
                    einvoices::attempts.eq(einvoices::attempts + 1),
                    einvoices::last_error.eq(None::<String>),
                    einvoices::issued_at.eq(diesel::dsl::now),
                ))
                .execute(conn)?;
            mail_lookup_code(conn, id, tenant_id)?;
        }
        Err(e) => {
            diesel::update(einvoices::table.find(id))
                .set((
                    einvoices::attempts.eq(einvoices::attempts + 1),
                    einvoices::last_error.eq(e.to_string()),
                ))
                .execute(conn)?;
        }
    }
    store::by_id(conn, id)
}

/// Mails the buyer the lookup code, once per e-invoice (when the buyer has an address).
fn mail_lookup_code(
    conn: &mut PgConnection,
    id: uuid::Uuid,
    tenant_id: uuid::Uuid,
) -> Result<(), AppError> {
    let d = buyer::get(conn, tenant_id)?;
    let Some(to) = d.email else { return Ok(()) };
    let e = store::by_id(conn, id)?;
    let lookup = e.lookup_code.clone().unwrap_or_default();
    let subject = format!(
        "Hoá đơn điện tử {} số {} / E-invoice {} no. {}",
        e.series, e.number, e.series, e.number
    );
    let body = format!(
        "Kính gửi {name},\n\nHoá đơn điện tử ký hiệu {series} số {number} ngày {day} đã được phát hành.\n\
         Mã tra cứu: {lookup}\nSố hoá đơn của nhà cung cấp: {pn}\n\n---\n\n\
         Dear {name},\n\nE-invoice series {series} number {number} of {day} has been issued.\n\
         Lookup code: {lookup}\nProvider's invoice number: {pn}\n",
        name = d.name,
        series = e.series,
        number = e.number,
        day = e.issued_on.format("%d/%m/%Y"),
        pn = e.provider_number.clone().unwrap_or_default(),
    );
    let queued = outbox::enqueue_once(
        conn,
        crate::notify::worker::NATIONAL,
        &format!("einvoice:{id}"),
        &NewMail {
            kind: "einvoice_issued",
            dossier_id: None,
            to: &to,
            subject: &subject,
            body: &body,
        },
    )?;
    if queued {
        diesel::update(einvoices::table.find(id))
            .set(einvoices::mailed_at.eq(diesel::dsl::now))
            .execute(conn)?;
    }
    Ok(())
}
