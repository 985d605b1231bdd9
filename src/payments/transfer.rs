//! Fees paid by bank transfer to the province's receiving account: the account the province
//! admin sets, a transfer opened for one dossier (a unique reference for the transfer's
//! content, the VietQR code), and a bank statement line matched against it: the reference and
//! the exact amount mark the fee paid (the `pay` move, which issues the e-receipt in the same
//! transaction); anything else is refused and reported, and a line seen before changes nothing.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::{MoveContext, record, vietqr};
use crate::db::schema::{payment_account, payments};
use crate::dossiers::moves::{self, Move};
use crate::dossiers::status::{Action, Actor, Status};
use crate::dossiers::store::{self, DossierRow};
use crate::error::{AppError, FieldErrors};
use crate::lang::Msg;

/// The provider name of bank transfers in `payments`.
pub const PROVIDER: &str = "bank_transfer";

/// The receiving account as sent by the admin (`PUT /api/v1/manage/payment-account`).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct AccountInput {
    pub bank_bin: String,
    pub account_number: String,
    pub account_name: String,
}

/// The province's receiving bank account, checked: the bank's 6-digit NAPAS BIN, an account
/// number of 4 to 19 letters or digits, and the holder's name as banks print it (capitals
/// without diacritics, at most 50 characters).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ReceivingAccount {
    pub bank_bin: String,
    pub account_number: String,
    pub account_name: String,
}

impl ReceivingAccount {
    pub fn parse(input: &AccountInput) -> Result<ReceivingAccount, AppError> {
        let mut errors = FieldErrors::new();
        let bin = input.bank_bin.trim();
        if bin.len() != 6 || !bin.bytes().all(|b| b.is_ascii_digit()) {
            errors.insert(
                "bank_bin".into(),
                Msg::new(
                    "Mã ngân hàng (BIN) gồm đúng 6 chữ số, ví dụ 970436.",
                    "The bank's BIN is exactly 6 digits, e.g. 970436.",
                ),
            );
        }
        let number: String = input
            .account_number
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        if !(4..=19).contains(&number.len()) || !number.bytes().all(|b| b.is_ascii_alphanumeric()) {
            errors.insert(
                "account_number".into(),
                Msg::new(
                    "Số tài khoản gồm 4 đến 19 chữ số hoặc chữ cái, không dấu cách.",
                    "The account number has 4 to 19 digits or letters, without spaces.",
                ),
            );
        }
        let name = crate::catalog::fold_vietnamese(input.account_name.trim())
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_ascii_uppercase();
        if name.is_empty()
            || name.len() > 50
            || !name
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' ')
        {
            errors.insert(
                "account_name".into(),
                Msg::new(
                    "Tên chủ tài khoản: tối đa 50 ký tự chữ và số, như ngân hàng in trên sao kê.",
                    "The account holder: at most 50 letters and digits, as the bank prints it.",
                ),
            );
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        Ok(ReceivingAccount {
            bank_bin: bin.to_string(),
            account_number: number,
            account_name: name,
        })
    }
}

/// The province's receiving account, if its admin set one.
pub fn load_account(conn: &mut PgConnection) -> Result<Option<ReceivingAccount>, AppError> {
    Ok(payment_account::table
        .select((
            payment_account::bank_bin,
            payment_account::account_number,
            payment_account::account_name,
        ))
        .first::<(String, String, String)>(conn)
        .optional()?
        .map(
            |(bank_bin, account_number, account_name)| ReceivingAccount {
                bank_bin,
                account_number,
                account_name,
            },
        ))
}

/// Sets the receiving account (one row per province). Transfers opened before keep the
/// account they showed: their payload is rebuilt from the account in force, so the admin
/// changes it only when the old one can no longer receive.
pub fn save_account(conn: &mut PgConnection, a: &ReceivingAccount) -> Result<(), AppError> {
    diesel::insert_into(payment_account::table)
        .values((
            payment_account::id.eq(1i64),
            payment_account::bank_bin.eq(&a.bank_bin),
            payment_account::account_number.eq(&a.account_number),
            payment_account::account_name.eq(&a.account_name),
            payment_account::updated_at.eq(crate::clock::now()),
        ))
        .on_conflict(payment_account::id)
        .do_update()
        .set((
            payment_account::bank_bin.eq(&a.bank_bin),
            payment_account::account_number.eq(&a.account_number),
            payment_account::account_name.eq(&a.account_name),
            payment_account::updated_at.eq(crate::clock::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// What the citizen needs to pay by transfer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Transfer {
    /// The transfer's content: the bank statement shows it, and reconciliation matches on it.
    pub reference: String,
    pub amount_vnd: i64,
    pub account: ReceivingAccount,
    /// The VietQR payload (EMVCo), to render as a QR code.
    pub qr_payload: String,
}

impl Transfer {
    fn new(reference: String, amount_vnd: i64, account: ReceivingAccount) -> Transfer {
        let payee = vietqr::Payee {
            bank_bin: &account.bank_bin,
            account_number: &account.account_number,
        };
        let qr_payload = vietqr::payload(&payee, amount_vnd, &reference);
        Transfer {
            reference,
            amount_vnd,
            account,
            qr_payload,
        }
    }
}

/// No receiving account: the province takes no transfers yet.
fn no_account() -> AppError {
    AppError::conflict(
        "transfer_unavailable",
        Msg::new(
            "Tỉnh chưa công bố tài khoản nhận chuyển khoản. Mời chọn cách thanh toán khác.",
            "The province has not published an account for transfers yet. Please choose another way to pay.",
        ),
    )
}

/// Letters and digits nobody confuses when typing them into a banking app (no 0/O, 1/I/L).
const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// A new reference: `LP` (lệ phí) and 8 characters of [`ALPHABET`] from a random UUID.
fn new_reference() -> String {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    let tail: String = bytes[..8]
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    format!("LP{tail}")
}

/// The transfer still open for the dossier's fee, if the citizen chose transfer before.
pub fn pending(conn: &mut PgConnection, d: &DossierRow) -> Result<Option<Transfer>, AppError> {
    if d.status() != Status::PaymentRequested {
        return Ok(None);
    }
    let Some(account) = load_account(conn)? else {
        return Ok(None);
    };
    let reference: Option<String> = payments::table
        .filter(payments::dossier_id.eq(d.id))
        .filter(payments::provider.eq(PROVIDER))
        .filter(payments::status.eq("pending"))
        .filter(payments::amount_vnd.eq(d.fee_vnd))
        .order(payments::created_at.desc())
        .select(payments::reference)
        .first(conn)
        .optional()?;
    Ok(reference.map(|r| Transfer::new(r, d.fee_vnd, account)))
}

/// Opens (or, chosen again, shows again) the transfer of the dossier's fee: one pending
/// transfer per dossier and amount, so reloading the page never makes a second reference.
/// `d` is locked by the caller.
pub fn open(conn: &mut PgConnection, d: &DossierRow) -> Result<Transfer, AppError> {
    if d.status() != Status::PaymentRequested {
        return Err(moves::invalid_transition(d.status(), Action::Pay));
    }
    if let Some(t) = pending(conn, d)? {
        return Ok(t);
    }
    let account = load_account(conn)?.ok_or_else(no_account)?;
    // A clash of 8 characters from 31 is beyond unlikely; the unique key would refuse it.
    let reference = new_reference();
    if !record(conn, d.id, d.fee_vnd, PROVIDER, &reference, "pending")? {
        return Err(AppError::internal("transfer reference clash"));
    }
    Ok(Transfer::new(reference, d.fee_vnd, account))
}

/// One line of the bank's statement: the transfer's content and the amount received.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct StatementLine {
    pub reference: String,
    pub amount_vnd: i64,
}

/// What became of one statement line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LineOutcome {
    /// Matched: the fee is paid, the dossier moved on, the receipt issued.
    Paid,
    /// Matched a transfer confirmed before (the same line again): nothing changed.
    AlreadyPaid,
    /// The reference matches but not the amount: refused, nothing changed.
    AmountMismatch,
    /// No open transfer has this reference: nothing changed.
    UnknownReference,
    /// The dossier no longer awaits this payment (withdrawn): refused, to refund.
    NotAwaitingPayment,
}

/// The report of one line.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LineResult {
    pub reference: String,
    pub amount_vnd: i64,
    pub outcome: LineOutcome,
    /// The dossier the reference belongs to, when it belongs to one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking_code: Option<String>,
    /// The amount the transfer was opened for, when it differs or is unknown to the line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_vnd: Option<i64>,
}

/// A reference as typed in a banking app: upper case, no spaces.
pub fn normalize_reference(reference: &str) -> String {
    reference
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase()
}

/// Matches one statement line (inside the province's door and the caller's transaction).
/// `only` restricts the match to one dossier (staff confirming the transfer of the dossier in
/// front of them); `by` names who confirmed, for the history.
pub fn reconcile_line(
    conn: &mut PgConnection,
    cx: &MoveContext,
    line: &StatementLine,
    only: Option<i64>,
    by: &str,
) -> Result<LineResult, AppError> {
    let reference = normalize_reference(&line.reference);
    let mut result = LineResult {
        reference: reference.clone(),
        amount_vnd: line.amount_vnd,
        outcome: LineOutcome::UnknownReference,
        tracking_code: None,
        expected_vnd: None,
    };
    let found: Option<(i64, String, i64)> = payments::table
        .filter(payments::provider.eq(PROVIDER))
        .filter(payments::reference.eq(&reference))
        .select((payments::dossier_id, payments::status, payments::amount_vnd))
        .first(conn)
        .optional()?;
    let Some((dossier_id, _, _)) = found else {
        return Ok(result);
    };
    if only.is_some_and(|id| id != dossier_id) {
        return Ok(result);
    }
    // The dossier first, then the payment: the order every move takes.
    let code: String = crate::db::schema::dossiers::table
        .find(dossier_id)
        .select(crate::db::schema::dossiers::tracking_code)
        .first(conn)?;
    let d = store::lock_by_code(conn, &code)?.ok_or(AppError::NotFound)?;
    let (status, opened): (String, i64) = payments::table
        .filter(payments::provider.eq(PROVIDER))
        .filter(payments::reference.eq(&reference))
        .select((payments::status, payments::amount_vnd))
        .for_update()
        .first(conn)?;
    result.tracking_code = Some(d.tracking_code.clone());
    if status == "confirmed" {
        result.outcome = LineOutcome::AlreadyPaid;
        return Ok(result);
    }
    if line.amount_vnd != opened || line.amount_vnd != d.fee_vnd {
        result.outcome = LineOutcome::AmountMismatch;
        result.expected_vnd = Some(opened);
        return Ok(result);
    }
    if status != "pending" || d.status() != Status::PaymentRequested {
        result.outcome = LineOutcome::NotAwaitingPayment;
        return Ok(result);
    }
    diesel::update(
        payments::table
            .filter(payments::provider.eq(PROVIDER))
            .filter(payments::reference.eq(&reference)),
    )
    .set(payments::status.eq("confirmed"))
    .execute(conn)?;
    let mv = Move::new(Action::Pay, Actor::Citizen, by.to_string());
    moves::apply(conn, &cx.tenant, &cx.mail, cx.calendar.as_ref(), &d, &mv)?;
    result.outcome = LineOutcome::Paid;
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(bin: &str, number: &str, name: &str) -> AccountInput {
        AccountInput {
            bank_bin: bin.into(),
            account_number: number.into(),
            account_name: name.into(),
        }
    }

    #[test]
    fn an_account_is_normalised_as_banks_print_it() {
        let a = ReceivingAccount::parse(&input(
            " 970436 ",
            "1023 456 789",
            "Văn phòng UBND  thành phố Hà Nội",
        ))
        .unwrap();
        assert_eq!(a.bank_bin, "970436");
        assert_eq!(a.account_number, "1023456789");
        assert_eq!(a.account_name, "VAN PHONG UBND THANH PHO HA NOI");
    }

    #[test]
    fn a_bad_account_names_every_field() {
        let Err(AppError::Invalid(errors)) =
            ReceivingAccount::parse(&input("97043", "12-34", "<b>x</b>"))
        else {
            panic!("refused");
        };
        let fields: Vec<&str> = errors.keys().map(String::as_str).collect();
        assert_eq!(fields, ["account_name", "account_number", "bank_bin"]);
    }

    #[test]
    fn references_are_unambiguous_and_distinct() {
        let a = new_reference();
        assert_eq!(a.len(), 10);
        assert!(a.starts_with("LP"));
        assert!(a[2..].bytes().all(|b| ALPHABET.contains(&b)));
        assert_ne!(a, new_reference());
        assert_eq!(normalize_reference(" lp ab cd "), "LPABCD");
    }
}
