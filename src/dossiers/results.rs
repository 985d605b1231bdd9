//! The result of a dossier: the signed PDF (an e-copy, legally valid under Decree 45/2020) or
//! a paper decision's number and where to pick it up; its verification code; and the control
//! plane's index of every province's codes, which the public verify page reads.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use rand::Rng;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::schema::{dossier_results, result_verifications};
use crate::error::AppError;
use crate::lang::Msg;

/// Easy to read aloud, as tracking codes (no 0/O, 1/I/L, U).
const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";
/// 30^16 ≈ 2^78 codes: not guessable, even with the verify page open to everybody.
const CODE_LEN: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResultKind {
    File,
    Paper,
}

impl ResultKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ResultKind::File => "file",
            ResultKind::Paper => "paper",
        }
    }
}

impl TryFrom<String> for ResultKind {
    type Error = AppError;

    fn try_from(s: String) -> Result<ResultKind, AppError> {
        match s.as_str() {
            "file" => Ok(ResultKind::File),
            "paper" => Ok(ResultKind::Paper),
            other => Err(AppError::internal(format!("unknown result kind {other:?}"))),
        }
    }
}

/// A verification code, as stored and printed: sixteen characters of [`ALPHABET`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationCode(String);

impl VerificationCode {
    pub fn generate() -> VerificationCode {
        let mut rng = rand::rng();
        VerificationCode(
            (0..CODE_LEN)
                .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
                .collect(),
        )
    }

    /// A code as somebody typed or scanned it: spaces and dashes dropped, upper-cased. Not
    /// checked further: an unknown or malformed code is looked up all the same, so both take
    /// the same path and answer the same 404.
    pub fn read(input: &str) -> VerificationCode {
        VerificationCode(
            input
                .chars()
                .filter(|c| !c.is_whitespace() && *c != '-')
                .take(64)
                .collect::<String>()
                .to_ascii_uppercase(),
        )
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The index's key: the code's SHA-256, so the index alone gives no working link.
    pub fn index_key(&self) -> String {
        hex(&Sha256::digest(self.0.as_bytes()))
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// A paper decision as the official types it: its number and where and when to collect it.
#[derive(Debug, Clone)]
pub struct PaperResult {
    pub decision_number: String,
    pub pickup: String,
}

impl PaperResult {
    /// Both required, number up to 100 characters, pickup up to 500; every mistake at once.
    pub fn parse(decision_number: &str, pickup: &str) -> Result<PaperResult, AppError> {
        let (number, pickup) = (decision_number.trim(), pickup.trim());
        let mut errors = crate::error::FieldErrors::new();
        if number.is_empty() || number.chars().count() > 100 {
            errors.insert(
                "decision_number".into(),
                Msg::new(
                    "Nhập số quyết định (tối đa 100 ký tự), ví dụ 123/QĐ-UBND.",
                    "Enter the decision number (at most 100 characters), e.g. 123/QĐ-UBND.",
                ),
            );
        }
        if pickup.is_empty() || pickup.chars().count() > 500 {
            errors.insert(
                "pickup".into(),
                Msg::new(
                    "Nhập nơi và thời gian nhận kết quả (tối đa 500 ký tự).",
                    "Enter where and when to collect the result (at most 500 characters).",
                ),
            );
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        Ok(PaperResult {
            decision_number: number.to_string(),
            pickup: pickup.to_string(),
        })
    }

    /// What the verify page's hash stands for on paper: the decision number as written, so
    /// whoever holds the paper can hash its number and compare.
    pub fn sha256(&self) -> String {
        sha256_hex(self.decision_number.as_bytes())
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = dossier_results)]
pub struct ResultRow {
    pub dossier_id: i64,
    #[diesel(deserialize_as = String)]
    pub kind: ResultKind,
    pub verification_code: String,
    pub sha256: String,
    pub issued_on: NaiveDate,
    pub blob_id: Option<uuid::Uuid>,
    pub file_name: Option<String>,
    pub size: Option<i64>,
    pub decision_number: Option<String>,
    pub pickup: Option<String>,
    pub attached_by: String,
    pub created_at: DateTime<Utc>,
}

/// What a dossier view shows of its result (owner and staff).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ResultView {
    pub verification_code: String,
    pub sha256: String,
    pub kind: ResultKind,
    pub issued_on: NaiveDate,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pickup: Option<String>,
}

impl From<ResultRow> for ResultView {
    fn from(r: ResultRow) -> ResultView {
        ResultView {
            verification_code: r.verification_code,
            sha256: r.sha256,
            kind: r.kind,
            issued_on: r.issued_on,
            file_name: r.file_name,
            decision_number: r.decision_number,
            pickup: r.pickup,
        }
    }
}

/// The row to store (inside the tenant door; the blob already stored for a file).
#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = dossier_results, treat_none_as_null = true)]
pub struct NewResult<'a> {
    pub dossier_id: i64,
    pub kind: &'a str,
    pub verification_code: &'a str,
    pub sha256: &'a str,
    pub issued_on: NaiveDate,
    pub blob_id: Option<uuid::Uuid>,
    pub file_name: Option<&'a str>,
    pub size: Option<i64>,
    pub decision_number: Option<&'a str>,
    pub pickup: Option<&'a str>,
    pub attached_by: &'a str,
}

pub fn find(conn: &mut PgConnection, dossier_id: i64) -> Result<Option<ResultRow>, AppError> {
    Ok(dossier_results::table
        .find(dossier_id)
        .select(ResultRow::as_select())
        .first(conn)
        .optional()?)
}

/// The result as its owner may have it: once the dossier is returned, else nothing. An
/// official attaches the result while the dossier is still processing (before a fee is paid,
/// before a head signs off, before `return_result`); handed out then, its e-copy and its code,
/// which verifies publicly as issued, would be the citizen's whatever became of the dossier.
pub fn find_for_owner(
    conn: &mut PgConnection,
    dossier: &super::store::DossierRow,
) -> Result<Option<ResultRow>, AppError> {
    if dossier.status() != super::status::Status::Returned {
        return Ok(None);
    }
    find(conn, dossier.id)
}

/// Stores the result, replacing an earlier one (the caller holds the dossier's lock).
pub fn put(conn: &mut PgConnection, new: &NewResult<'_>) -> Result<ResultRow, AppError> {
    Ok(diesel::insert_into(dossier_results::table)
        .values((new, dossier_results::created_at.eq(diesel::dsl::now)))
        .on_conflict(dossier_results::dossier_id)
        .do_update()
        // Not `now()` in DO UPDATE: Citus refuses non-immutable functions there.
        .set((
            new,
            dossier_results::created_at.eq(diesel::upsert::excluded(dossier_results::created_at)),
        ))
        .returning(ResultRow::as_returning())
        .get_result(conn)?)
}

/// One row of the control plane's index: what the public page may show, nothing more.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = result_verifications)]
pub struct IndexEntry {
    pub code_hash: String,
    /// [`crate::ids::TenantId`]'s UUID.
    pub tenant_id: uuid::Uuid,
    pub procedure_code: String,
    pub issued_on: NaiveDate,
    pub sha256: String,
}

/// Adds a code to the index (control-plane door).
pub fn index(conn: &mut PgConnection, entry: &IndexEntry) -> Result<(), AppError> {
    diesel::insert_into(result_verifications::table)
        .values(entry)
        .execute(conn)?;
    Ok(())
}

/// The index entries of every result of the province whose schema the connection is in
/// (an import rebuilds the control plane's index from them).
pub fn entries_here(
    conn: &mut PgConnection,
    tenant_id: uuid::Uuid,
) -> Result<Vec<IndexEntry>, AppError> {
    use crate::db::schema::dossiers;
    let rows: Vec<(String, String, NaiveDate, String)> = dossier_results::table
        .inner_join(dossiers::table.on(dossiers::id.eq(dossier_results::dossier_id)))
        .select((
            dossier_results::verification_code,
            dossiers::procedure_code,
            dossier_results::issued_on,
            dossier_results::sha256,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(code, procedure_code, issued_on, sha256)| IndexEntry {
            code_hash: VerificationCode::read(&code).index_key(),
            tenant_id,
            procedure_code,
            issued_on,
            sha256,
        })
        .collect())
}

/// Adds many codes to the index, keeping any already there (control-plane door).
pub fn index_many(conn: &mut PgConnection, entries: &[IndexEntry]) -> Result<(), AppError> {
    for chunk in entries.chunks(1000) {
        diesel::insert_into(result_verifications::table)
            .values(chunk)
            .on_conflict_do_nothing()
            .execute(conn)?;
    }
    Ok(())
}

/// Drops a code from the index (a replaced result, or one whose dossier write failed).
pub fn unindex(conn: &mut PgConnection, code: &VerificationCode) -> Result<(), AppError> {
    diesel::delete(result_verifications::table.find(code.index_key())).execute(conn)?;
    Ok(())
}

/// One primary-key lookup, whether the code exists or not.
pub fn lookup(
    conn: &mut PgConnection,
    code: &VerificationCode,
) -> Result<Option<IndexEntry>, AppError> {
    Ok(result_verifications::table
        .find(code.index_key())
        .select(IndexEntry::as_select())
        .first(conn)
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_as_printed_or_typed() {
        let code = VerificationCode::generate();
        assert_eq!(code.as_str().len(), CODE_LEN);
        let typed = format!(
            " {}-{} ",
            &code.as_str()[..8].to_lowercase(),
            &code.as_str()[8..]
        );
        assert_eq!(VerificationCode::read(&typed), code);
        assert_eq!(code.index_key(), VerificationCode::read(&typed).index_key());
        assert_ne!(code, VerificationCode::generate());
    }

    #[test]
    fn a_paper_result_needs_its_number_and_pickup() {
        let Err(AppError::Invalid(e)) = PaperResult::parse(" ", "") else {
            panic!()
        };
        assert!(e.contains_key("decision_number") && e.contains_key("pickup"));
        let p = PaperResult::parse(" 12/QĐ-UBND ", "Bộ phận một cửa").unwrap();
        assert_eq!(p.sha256(), sha256_hex("12/QĐ-UBND".as_bytes()));
    }
}
