//! The operator's e-invoice actions: a province's buyer details, the XML of an invoice, and
//! (see `issue`) issuing through the provider.

use serde_json::json;

use super::{Actor, App};
use crate::audit::{self, Action};
use crate::billing::invoice::{self, InvoiceStatus};
use crate::einvoice::buyer::{self, BuyerDetails};
use crate::einvoice::{build, store, xml};
use crate::error::{AppError, FieldErrors};
use crate::lang::Msg;

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
