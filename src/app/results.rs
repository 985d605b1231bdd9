//! Results (issue 19): the official attaches the signed PDF or the paper decision's number and
//! pickup before `return_result`; the owner downloads the e-copy; anybody verifies a code on
//! any host. The JSON API and the pages both call these.

use std::sync::Arc;

use super::staff::{ManagedDossier, lock_full, reach};
use super::{Actor, App};
use crate::db::TenantDb;
use crate::dossiers::attachments::{BlobStore, SchemaBlobs};
use crate::dossiers::results::{
    self, IndexEntry, NewResult, PaperResult, ResultKind, ResultRow, VerificationCode, sha256_hex,
};
use crate::dossiers::status::Status;
use crate::dossiers::store;
use crate::dossiers::tracking;
use crate::error::AppError;
use crate::ids::CitizenId;
use crate::lang::Msg;
use crate::tenancy::Tenant;
use crate::units::scope::Access;

/// What the official attaches.
#[derive(Debug)]
pub enum ResultInput {
    /// The signed e-copy, as received (checked here: a PDF by its bytes).
    File { given_name: String, bytes: Vec<u8> },
    /// A paper decision, collected in person.
    Paper(PaperResult),
}

/// A result is attached while the dossier is decided or being decided, never after it left.
fn may_attach(status: Status) -> Result<(), AppError> {
    match status {
        Status::Processing | Status::Resolved => Ok(()),
        _ => Err(AppError::conflict(
            "invalid_transition",
            Msg::new(
                "Chỉ đính kèm kết quả khi hồ sơ đang xử lý hoặc đã có kết quả, trước khi trả kết quả.",
                "A result is attached while the dossier is processing or resolved, before it is returned.",
            ),
        )),
    }
}

/// The e-copy must be a PDF by its content (a signed PDF is what Decree 45/2020 makes valid):
/// anything else is 422 on `file` and nothing is stored.
fn check_pdf(bytes: &[u8]) -> Result<(), AppError> {
    match crate::sniff::content_type(bytes) {
        Some("application/pdf") => Ok(()),
        _ => Err(AppError::invalid(
            "file",
            Msg::new(
                "Kết quả điện tử phải là tệp PDF (kiểm tra theo nội dung tệp, không theo tên).",
                "The e-copy of the result must be a PDF file (checked by content, not by name).",
            ),
        )),
    }
}

/// Attaches (or replaces) the result of a dossier the staff member's units decide (else 404,
/// also for another province's code). The code goes into the control plane's index first, so
/// the result is never handed out unverifiable; if the dossier's write then fails, the code
/// (never shown to anybody) is taken out again. A replaced result's code stops verifying.
pub async fn attach_result(
    app: &App,
    actor: &Actor,
    tenant: &Arc<Tenant>,
    code: &str,
    input: ResultInput,
) -> Result<ManagedDossier, AppError> {
    actor.staff()?;
    if let ResultInput::File { bytes, .. } = &input {
        check_pdf(bytes)?;
    }
    let code = tracking::normalize(code);
    let door = super::staff::door(app, tenant);
    // Reach and status first, read-only: nothing enters the index for a dossier out of reach.
    let procedure_code = {
        let (actor, code) = (actor.clone(), code.clone());
        door.run(move |conn| {
            let found = store::find_by_code(conn, &code)?;
            match reach(conn, &actor, found)? {
                (d, Access::Full) => {
                    may_attach(d.status())?;
                    Ok(d.procedure_code)
                }
                _ => Err(AppError::NotFound),
            }
        })
        .await?
    };
    let verification = VerificationCode::generate();
    let issued_on = crate::clock::today_vn();
    let sha256 = match &input {
        ResultInput::File { bytes, .. } => sha256_hex(bytes),
        ResultInput::Paper(p) => p.sha256(),
    };
    let entry = IndexEntry {
        code_hash: verification.index_key(),
        tenant_id: tenant.id.0,
        procedure_code,
        issued_on,
        sha256: sha256.clone(),
    };
    app.db
        .control_async(move |conn| results::index(conn, &entry))
        .await?;
    let (t, by) = (tenant.clone(), actor.audit_name());
    let stored_code = verification.clone();
    let actor2 = actor.clone();
    let written = door
        .run(move |conn| {
            let d = lock_full(conn, &actor2, &code)?;
            may_attach(d.status())?;
            let before = results::find(conn, d.id)?;
            let (blob_id, file_name, size) = match &input {
                ResultInput::File { given_name, bytes } => (
                    Some(SchemaBlobs.put(conn, bytes)?),
                    Some(crate::sniff::safe_name(given_name, "application/pdf")),
                    Some(bytes.len() as i64),
                ),
                ResultInput::Paper(_) => (None, None, None),
            };
            let paper = match &input {
                ResultInput::Paper(p) => Some(p),
                ResultInput::File { .. } => None,
            };
            let kind = match paper {
                Some(_) => ResultKind::Paper,
                None => ResultKind::File,
            };
            results::put(
                conn,
                &NewResult {
                    dossier_id: d.id,
                    kind: kind.as_str(),
                    verification_code: stored_code.as_str(),
                    sha256: &sha256,
                    issued_on,
                    blob_id,
                    file_name: file_name.as_deref(),
                    size,
                    decision_number: paper.map(|p| p.decision_number.as_str()),
                    pickup: paper.map(|p| p.pickup.as_str()),
                    attached_by: &by,
                },
            )?;
            if blob_id.is_some() {
                // The e-copy counts towards the province's storage, as an upload does.
                let stored = crate::metering::sampling::storage_bytes(conn)?;
                crate::metering::record(
                    conn,
                    &t,
                    crate::metering::Metric::StorageBytes,
                    stored,
                    &format!("result:{}", stored_code.as_str()),
                    crate::clock::now(),
                )?;
            }
            let managed = ManagedDossier::read(conn, d)?;
            Ok((
                managed,
                before.map(|b| VerificationCode::read(&b.verification_code)),
            ))
        })
        .await;
    let (managed, replaced) = match written {
        Ok(w) => w,
        Err(e) => {
            let _ = app
                .db
                .control_async(move |conn| results::unindex(conn, &verification))
                .await;
            return Err(e);
        }
    };
    if let Some(old) = replaced {
        app.db
            .control_async(move |conn| results::unindex(conn, &old))
            .await?;
    }
    Ok(managed)
}

/// The owner's e-copy: (name, bytes). 404 for a paper result, no result, one not yet
/// returned, or somebody else's.
pub async fn result_file(
    db: &TenantDb,
    citizen: CitizenId,
    code: String,
) -> Result<(String, Vec<u8>), AppError> {
    db.run(move |conn| {
        let d = store::find_owned(conn, &code, citizen)?;
        let r = results::find_for_owner(conn, &d)?.ok_or(AppError::NotFound)?;
        let (Some(blob), Some(name)) = (r.blob_id, r.file_name) else {
            return Err(AppError::NotFound);
        };
        Ok((name, SchemaBlobs.get(conn, blob)?))
    })
    .await
}

/// The result of a dossier, if attached (read in the caller's tenant transaction).
pub fn of(conn: &mut diesel::PgConnection, dossier_id: i64) -> Result<Option<ResultRow>, AppError> {
    results::find(conn, dossier_id)
}

/// What the public verify page and `GET /api/v1/verify/{code}` show: no personal data.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Verification {
    /// The issuing province's name.
    pub province: String,
    pub procedure_code: String,
    pub issued_on: chrono::NaiveDate,
    pub sha256: String,
}

/// One lookup in the control plane's index, known code or not; unknown is 404.
pub async fn verify(app: &App, code: &str) -> Result<Verification, AppError> {
    let code = VerificationCode::read(code);
    let entry = app
        .db
        .control_async(move |conn| results::lookup(conn, &code))
        .await?
        .ok_or(AppError::NotFound)?;
    let province = app
        .registry
        .get(crate::ids::TenantId(entry.tenant_id))
        .map(|t| t.name.clone())
        .ok_or(AppError::NotFound)?;
    Ok(Verification {
        province,
        procedure_code: entry.procedure_code,
        issued_on: entry.issued_on,
        sha256: entry.sha256,
    })
}
