//! A province as the buyer of its e-invoices, kept in the control plane (`einvoice_buyers`).
//! Stored as the operator gives it, possibly incomplete; [`BuyerDetails::to_buyer`] says what
//! the law still needs.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::model::{BudgetUnitCode, Buyer, BuyerId, TaxCode, text};
use crate::db::schema::einvoice_buyers;
use crate::error::{AppError, FieldErrors};
use crate::lang::Msg;

/// What the operator keeps about a province as a buyer (`GET|PUT /api/v1/tenants/{slug}/buyer`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BuyerDetails {
    /// The buyer's legal name (e.g. "Văn phòng Ủy ban nhân dân tỉnh Lào Cai").
    #[serde(default)]
    pub name: String,
    /// 10 digits, or 10-3 for a branch.
    #[serde(default)]
    pub tax_code: Option<String>,
    /// The budget-relationship unit code (mã ĐVQHNS): 7 digits.
    #[serde(default)]
    pub budget_unit_code: Option<String>,
    #[serde(default)]
    pub address: String,
    /// Where the lookup code of each e-invoice is mailed.
    #[serde(default)]
    pub email: Option<String>,
}

fn blank(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

impl BuyerDetails {
    /// Trims, checks each given value's form (422 naming the field), keeps what is missing
    /// missing: an incomplete buyer may be saved, an ill-formed one may not.
    pub fn checked(self) -> Result<BuyerDetails, AppError> {
        let mut errors = FieldErrors::new();
        let name = self.name.trim().to_string();
        let address = self.address.trim().to_string();
        if name.chars().count() > 400 || name.chars().any(char::is_control) {
            errors.insert(
                "name".into(),
                Msg::new("Tên tối đa 400 ký tự.", "At most 400 characters."),
            );
        }
        if address.chars().count() > 400 || address.chars().any(char::is_control) {
            errors.insert(
                "address".into(),
                Msg::new("Địa chỉ tối đa 400 ký tự.", "At most 400 characters."),
            );
        }
        let tax_code = blank(&self.tax_code);
        if let Some(t) = &tax_code {
            if TaxCode::parse(t).is_err() {
                errors.insert(
                    "tax_code".into(),
                    Msg::new(
                        "Mã số thuế gồm 10 chữ số (hoặc 10 chữ số, gạch ngang và 3 chữ số).",
                        "A tax code is 10 digits (or 10 digits, a dash and 3 digits).",
                    ),
                );
            }
        }
        let budget_unit_code = blank(&self.budget_unit_code);
        if let Some(c) = &budget_unit_code {
            if BudgetUnitCode::parse(c).is_err() {
                errors.insert(
                    "budget_unit_code".into(),
                    Msg::new(
                        "Mã ĐVQHNS gồm 7 chữ số.",
                        "A budget-relationship unit code is 7 digits.",
                    ),
                );
            }
        }
        let email = blank(&self.email);
        if let Some(e) = &email {
            let ok = e.len() <= 254
                && !e.chars().any(|c| c.is_whitespace() || c.is_control())
                && e.split_once('@')
                    .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.contains('@'));
            if !ok {
                errors.insert(
                    "email".into(),
                    Msg::new("Địa chỉ thư không hợp lệ.", "Not an e-mail address."),
                );
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        Ok(BuyerDetails {
            name,
            tax_code,
            budget_unit_code,
            address,
            email,
        })
    }

    /// The buyer of the XML, or what the law still needs, by field (`buyer.name`,
    /// `buyer.tax_code` — a tax code or a budget-relationship unit code —, `buyer.address`).
    pub fn to_buyer(&self) -> Result<Buyer, FieldErrors> {
        let mut missing = FieldErrors::new();
        if self.name.trim().is_empty() {
            missing.insert(
                "buyer.name".into(),
                Msg::new("Thiếu tên đơn vị mua.", "The buyer's name is missing."),
            );
        }
        if self.address.trim().is_empty() {
            missing.insert(
                "buyer.address".into(),
                Msg::new(
                    "Thiếu địa chỉ đơn vị mua.",
                    "The buyer's address is missing.",
                ),
            );
        }
        let tax = blank(&self.tax_code).and_then(|t| TaxCode::parse(&t).ok());
        let unit = blank(&self.budget_unit_code).and_then(|c| BudgetUnitCode::parse(&c).ok());
        let id = match (tax, unit) {
            (Some(t), Some(u)) => Some(BuyerId::Both(t, u)),
            (Some(t), None) => Some(BuyerId::TaxCode(t)),
            (None, Some(u)) => Some(BuyerId::BudgetUnit(u)),
            (None, None) => None,
        };
        if id.is_none() {
            missing.insert(
                "buyer.tax_code".into(),
                Msg::new(
                    "Thiếu mã số thuế hoặc mã đơn vị có quan hệ với ngân sách (mã ĐVQHNS).",
                    "Neither a tax code nor a budget-relationship unit code is given.",
                ),
            );
        }
        match id {
            Some(id) if missing.is_empty() => Ok(Buyer {
                name: text("buyer name", &self.name, 400).map_err(|_| missing.clone())?,
                id,
                address: text("buyer address", &self.address, 400).map_err(|_| missing.clone())?,
                email: blank(&self.email),
            }),
            _ => Err(missing),
        }
    }
}

/// (name, tax code, budget unit code, address, e-mail).
type Row = (
    String,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
);

/// The province's buyer details; all empty when none were ever given.
pub fn get(conn: &mut PgConnection, tenant_id: uuid::Uuid) -> Result<BuyerDetails, AppError> {
    let row: Option<Row> = einvoice_buyers::table
        .find(tenant_id)
        .select((
            einvoice_buyers::name,
            einvoice_buyers::tax_code,
            einvoice_buyers::budget_unit_code,
            einvoice_buyers::address,
            einvoice_buyers::email,
        ))
        .first(conn)
        .optional()?;
    Ok(row
        .map(
            |(name, tax_code, budget_unit_code, address, email)| BuyerDetails {
                name,
                tax_code,
                budget_unit_code,
                address,
                email,
            },
        )
        .unwrap_or_default())
}

/// Replaces the province's buyer details with `d` (already [`BuyerDetails::checked`]).
pub fn put(
    conn: &mut PgConnection,
    tenant_id: uuid::Uuid,
    d: &BuyerDetails,
    actor: &str,
) -> Result<(), AppError> {
    diesel::insert_into(einvoice_buyers::table)
        .values((
            einvoice_buyers::tenant_id.eq(tenant_id),
            einvoice_buyers::name.eq(&d.name),
            einvoice_buyers::tax_code.eq(&d.tax_code),
            einvoice_buyers::budget_unit_code.eq(&d.budget_unit_code),
            einvoice_buyers::address.eq(&d.address),
            einvoice_buyers::email.eq(&d.email),
            einvoice_buyers::updated_by.eq(actor),
        ))
        .on_conflict(einvoice_buyers::tenant_id)
        .do_update()
        .set((
            einvoice_buyers::name.eq(&d.name),
            einvoice_buyers::tax_code.eq(&d.tax_code),
            einvoice_buyers::budget_unit_code.eq(&d.budget_unit_code),
            einvoice_buyers::address.eq(&d.address),
            einvoice_buyers::email.eq(&d.email),
            einvoice_buyers::updated_by.eq(actor),
            einvoice_buyers::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    Ok(())
}
