//! Resumable uploads of a draft's documents (docs/uploads.md): a citizen on a weak line sends
//! a document in pieces and, after a dropped connection, goes on from the last byte the
//! province kept. On the last byte the whole file passes the same checks as a form's upload
//! (type by content, size, cut, damaged or blank refused) and becomes the draft's file for
//! that document, once.

use chrono::{DateTime, Utc};

use crate::app::documents;
use crate::db::TenantDb;
use crate::dossiers::drafts::{self, DraftFile};
use crate::dossiers::resumable::{self, NewUpload, Upload};
use crate::error::AppError;
use crate::ids::CitizenId;
use crate::lang::Msg;

/// Unfinished uploads one citizen may have at once in one province (each draft's document
/// has at most one: a new one replaces it). A client that opens more is refused with 429.
pub const MAX_OPEN_PER_CITIZEN: i64 = 4;

/// An upload nobody adds to for this long is abandoned: it answers 404 and is swept.
pub fn lifetime() -> chrono::Duration {
    chrono::Duration::hours(24)
}

/// All the documents of one draft together, kept and promised: what the page's form takes in
/// one request (four times the site's largest file).
pub fn draft_budget(site_max: u64) -> u64 {
    site_max.saturating_mul(4)
}

/// A new upload, as asked.
#[derive(Debug)]
pub struct Start {
    pub citizen: CitizenId,
    pub procedure_code: String,
    pub field: String,
    pub given_name: String,
    pub length: u64,
}

/// Where an upload stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub id: uuid::Uuid,
    pub offset: u64,
    pub length: u64,
    pub expires_at: DateTime<Utc>,
}

impl From<&Upload> for Progress {
    fn from(u: &Upload) -> Progress {
        Progress {
            id: u.id,
            offset: u.received.max(0) as u64,
            length: u.length.max(0) as u64,
            expires_at: u.expires_at,
        }
    }
}

fn too_many(retry_after_secs: u64) -> AppError {
    AppError::TooMany {
        code: "too_many_uploads",
        msg: Msg::new(
            "Bạn đang có quá nhiều tệp tải lên dở dang. Vui lòng hoàn tất hoặc huỷ bớt rồi thử lại.",
            "You have too many unfinished uploads. Please finish or cancel some, then try again.",
        ),
        retry_after_secs,
    }
}

fn draft_too_large(budget: u64) -> AppError {
    let size = documents::human_size(budget);
    AppError::TooLarge(Msg::owned(
        format!("Tổng dung lượng tài liệu của hồ sơ quá lớn: tối đa {size}."),
        format!("The documents of this application are too large together: {size} at most."),
    ))
}

/// 413: bytes past the length the upload declared.
pub fn past_length() -> AppError {
    AppError::TooLarge(Msg::new(
        "Dữ liệu gửi vượt quá độ dài tệp đã khai báo.",
        "The bytes sent go past the file's declared length.",
    ))
}

/// 409: the client's idea of the offset is not the province's (it asks again and resumes).
pub fn offset_mismatch(offset: u64) -> AppError {
    AppError::conflict(
        "offset_mismatch",
        Msg::owned(
            format!(
                "Vị trí tải lên không khớp: máy chủ đã nhận {offset} byte. Vui lòng tiếp tục từ đó."
            ),
            format!(
                "The upload offset does not match: the server has {offset} bytes. Please resume from there."
            ),
        ),
    )
}

/// 409: the upload has all its bytes.
pub fn already_complete() -> AppError {
    AppError::conflict(
        "upload_complete",
        Msg::new(
            "Tệp này đã được tải lên đầy đủ.",
            "This file has already been uploaded in full.",
        ),
    )
}

/// Opens an upload of `start.length` bytes for a document of the citizen's draft of an
/// offered procedure (the draft is made if needed). Refused: no such document (422), over the
/// document's limit or the draft's budget (413), too many unfinished uploads (429).
pub async fn create(
    db: &TenantDb,
    site_max: u64,
    now: DateTime<Utc>,
    start: Start,
) -> Result<Progress, AppError> {
    db.run(move |conn| {
        let procedure = super::drafts::offered(conn, &start.procedure_code)?;
        let field = documents::document(procedure, &start.field)?;
        let max = documents::limit(Some(field), site_max);
        if start.length == 0 {
            return Err(AppError::invalid(
                "file",
                Msg::new("Tệp rỗng.", "The file is empty."),
            ));
        }
        if start.length > max {
            return Err(documents::too_large(max));
        }
        // One start at a time per citizen, or two at once both find room under the cap.
        resumable::lock_starts(conn, start.citizen)?;
        // Abandoned uploads go whenever a new one starts (and with the hourly sweep).
        resumable::sweep_expired(conn, now)?;
        let draft = drafts::ensure(conn, start.citizen, &start.procedure_code)?;
        let (open, earliest) =
            resumable::open_uploads(conn, start.citizen, draft.id, &field.name, now)?;
        if open >= MAX_OPEN_PER_CITIZEN {
            let wait = earliest.map_or(60, |at| (at - now).num_seconds().max(1) as u64);
            return Err(too_many(wait));
        }
        let budget = draft_budget(site_max);
        let used = resumable::draft_bytes(conn, draft.id, &field.name)?.max(0) as u64;
        if used.saturating_add(start.length) > budget {
            return Err(draft_too_large(budget));
        }
        let expires_at = now + lifetime();
        let length = start.length as i64;
        let id = resumable::create(
            conn,
            &NewUpload {
                citizen: start.citizen,
                draft_id: draft.id,
                field: &field.name,
                name: &start.given_name,
                length,
                expires_at,
            },
        )?;
        Ok(Progress {
            id,
            offset: 0,
            length: start.length,
            expires_at,
        })
    })
    .await
}

/// Which upload a request names: the signed-in citizen's, of their draft of that procedure.
#[derive(Debug, Clone)]
pub struct Target {
    pub citizen: CitizenId,
    pub procedure_code: String,
    pub id: uuid::Uuid,
}

/// The citizen's upload, or 404 (another citizen's, another procedure's or province's, expired).
fn owned(
    conn: &mut diesel::PgConnection,
    target: &Target,
    now: DateTime<Utc>,
    lock: bool,
) -> Result<Upload, AppError> {
    let draft =
        drafts::find(conn, target.citizen, &target.procedure_code)?.ok_or(AppError::NotFound)?;
    resumable::find(conn, target.id, target.citizen, draft.id, now, lock)?.ok_or(AppError::NotFound)
}

/// Where the citizen's upload stands (404 as [`owned`]).
pub async fn progress(
    db: &TenantDb,
    target: Target,
    now: DateTime<Utc>,
) -> Result<Progress, AppError> {
    db.run(move |conn| owned(conn, &target, now, false).map(|u| Progress::from(&u)))
        .await
}

/// What one append did.
#[derive(Debug)]
pub enum Appended {
    /// Kept; more to come.
    Partial(Progress),
    /// The last byte: the file passed its checks and is the draft's document now.
    Complete(Progress),
    /// The last byte, but the whole file failed its checks (cut, damaged, blank, wrong type:
    /// 422 with the reason); the upload is gone, the draft's previous file stays.
    Refused(AppError),
}

/// Adds `data` at `start`, which must be the bytes received so far (409 otherwise, also when
/// another request got there first), within the declared length (413); the upload lives on
/// for [`lifetime`] more. The last byte completes it in the same transaction.
pub async fn append(
    db: &TenantDb,
    site_max: u64,
    target: Target,
    start: u64,
    data: Vec<u8>,
    now: DateTime<Utc>,
) -> Result<Appended, AppError> {
    db.run(move |conn| {
        let id = target.id;
        let upload = owned(conn, &target, now, true)?;
        if upload.is_complete() {
            return Err(already_complete());
        }
        let offset = upload.received.max(0) as u64;
        if start != offset {
            return Err(offset_mismatch(offset));
        }
        if start.saturating_add(data.len() as u64) > upload.length.max(0) as u64 {
            return Err(past_length());
        }
        if data.is_empty() {
            return Ok(Appended::Partial(Progress::from(&upload)));
        }
        let expires_at = now + lifetime();
        let received = resumable::append(conn, id, upload.received, &data, expires_at)?;
        drop(data);
        let mut done = upload.clone();
        done.received = received;
        done.expires_at = expires_at;
        if !done.is_complete() {
            return Ok(Appended::Partial(Progress::from(&done)));
        }
        let bytes = resumable::contents(conn, id)?;
        let procedure = crate::catalog::national()
            .get(&target.procedure_code)
            .ok_or(AppError::NotFound)?;
        let field = documents::document(procedure, &done.field)?;
        match documents::check(Some(field), &bytes, site_max) {
            Ok(kind) => {
                let file = DraftFile {
                    field: done.field.clone(),
                    name: crate::sniff::safe_name(&done.name, kind),
                    content_type: kind.to_string(),
                    data: bytes,
                };
                drafts::put_file(conn, done.draft_id, &file)?;
                resumable::drop_parts(conn, id)?;
                Ok(Appended::Complete(Progress::from(&done)))
            }
            Err(why) => {
                resumable::delete(conn, id)?;
                Ok(Appended::Refused(why))
            }
        }
    })
    .await
}

/// Gives up the citizen's upload (404 as [`owned`]); a file it completed stays the draft's.
pub async fn cancel(db: &TenantDb, target: Target, now: DateTime<Utc>) -> Result<(), AppError> {
    db.run(move |conn| {
        owned(conn, &target, now, true)?;
        resumable::delete(conn, target.id)
    })
    .await
}

/// Every province's expired uploads removed (the hourly job; idempotent, so replicas running
/// it at once do no harm and need no lock). Returns how many.
pub fn sweep(
    db: &crate::db::Db,
    registry: &crate::tenancy::Registry,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    let mut swept = 0;
    for tenant in registry.all() {
        // One province failing (its Citus worker down) does not keep the others' uploads.
        match db
            .tenant(tenant.db_ref())
            .tx(|conn| resumable::sweep_expired(conn, now))
        {
            Ok(n) => swept += n,
            Err(e) => {
                tracing::warn!(tenant = %tenant.slug, error = %e, "upload sweep: this province failed; the others go on")
            }
        }
    }
    Ok(swept)
}
