//! The application journey of the pages: a draft's answers and files, kept per citizen and
//! procedure until the citizen submits it (the JSON API submits in one request instead).

use diesel::PgConnection;
use serde_json::{Map, Value};

use crate::app::documents::Received;
use crate::catalog::{self, Procedure};
use crate::db::TenantDb;
use crate::dossiers::attachments::{self, SchemaBlobs, Upload};
use crate::dossiers::drafts::{self, DraftFile, DraftFileMeta};
use crate::dossiers::limits::SubmissionLimits;
use crate::dossiers::submit::{Channel, Submission, submit};
use crate::error::{AppError, FieldErrors};
use crate::ids::CitizenId;
use crate::lang::{Lang, Msg};
use crate::notify::messages::MailContext;
use crate::tenancy::Tenant;
use crate::tenancy::procedures;

/// A procedure this province offers; anything else is a plain 404.
pub(crate) fn offered(conn: &mut PgConnection, code: &str) -> Result<&'static Procedure, AppError> {
    let procedure = catalog::national().get(code).ok_or(AppError::NotFound)?;
    if !procedures::procedure_enabled(conn, code)? {
        return Err(AppError::NotFound);
    }
    Ok(procedure)
}

/// The procedure when the province offers it, else 404.
pub async fn offered_procedure(
    db: &TenantDb,
    code: String,
) -> Result<&'static Procedure, AppError> {
    db.run(move |conn| offered(conn, &code)).await
}

/// The offered procedure and the answers of the citizen's draft so far (empty without one).
pub async fn answers(
    db: &TenantDb,
    citizen: CitizenId,
    code: String,
) -> Result<(&'static Procedure, Map<String, Value>), AppError> {
    db.run(move |conn| {
        let procedure = offered(conn, &code)?;
        let answers = drafts::find(conn, citizen, &code)?
            .map(|d| d.answers)
            .unwrap_or_default();
        Ok((procedure, answers))
    })
    .await
}

/// Keeps a page's answers in the citizen's draft (created on the first page).
pub async fn save_answers(
    db: &TenantDb,
    citizen: CitizenId,
    code: String,
    answers: Map<String, Value>,
) -> Result<(), AppError> {
    db.run(move |conn| drafts::save_answers(conn, citizen, &code, &answers).map(|_| ()))
        .await
}

/// The offered procedure and the files of the citizen's draft so far.
pub async fn files(
    db: &TenantDb,
    citizen: CitizenId,
    code: String,
) -> Result<(&'static Procedure, Vec<DraftFileMeta>), AppError> {
    db.run(move |conn| {
        let procedure = offered(conn, &code)?;
        let files = match drafts::find(conn, citizen, &code)? {
            Some(d) => drafts::files(conn, d.id)?,
            None => Vec::new(),
        };
        Ok((procedure, files))
    })
    .await
}

/// A received file whose type was checked by its bytes, with the name it is kept under.
#[derive(Debug)]
pub struct CheckedUpload {
    pub file: Received,
    pub name: String,
    pub content_type: &'static str,
}

/// Keeps checked files with the citizen's draft (one per document: a new one replaces the
/// old), all or none; returns every file the draft now has. Each file's bytes are read from
/// its spool file as it is stored, so only one is in memory at a time.
pub async fn put_files(
    db: &TenantDb,
    citizen: CitizenId,
    code: String,
    checked: Vec<CheckedUpload>,
) -> Result<Vec<DraftFileMeta>, AppError> {
    db.run(move |conn| {
        offered(conn, &code)?;
        let draft = drafts::ensure(conn, citizen, &code)?;
        for c in &checked {
            let file = DraftFile {
                field: c.file.field.clone(),
                name: c.name.clone(),
                content_type: c.content_type.to_string(),
                data: c.file.bytes()?,
            };
            drafts::put_file(conn, draft.id, &file)?;
        }
        drafts::files(conn, draft.id)
    })
    .await
}

/// What the check page shows: the procedure, the draft's answers and files.
#[derive(Debug)]
pub struct Review {
    pub procedure: &'static Procedure,
    pub answers: Map<String, Value>,
    pub files: Vec<DraftFileMeta>,
}

/// The citizen's draft to review; `None` when there is none (the journey starts again).
pub async fn review(
    db: &TenantDb,
    citizen: CitizenId,
    code: String,
) -> Result<Option<Review>, AppError> {
    db.run(move |conn| {
        let procedure = offered(conn, &code)?;
        let Some(draft) = drafts::find(conn, citizen, &code)? else {
            return Ok(None);
        };
        Ok(Some(Review {
            procedure,
            files: drafts::files(conn, draft.id)?,
            answers: draft.answers,
        }))
    })
    .await
}

/// Who submits a draft: the signed-in citizen.
#[derive(Debug, Clone)]
pub struct Applicant {
    pub id: crate::ids::CitizenId,
    pub email: Option<String>,
    /// The assurance level of the citizen's session (recorded; checked against the procedure).
    pub assurance_level: u8,
}

/// Submits the citizen's draft: the dossier, its files from the draft's and the draft's
/// removal, in one transaction. `None` when there is no draft (a second click). A required
/// document missing is 422 naming it.
pub async fn submit_draft(
    app: &super::App,
    tenant: std::sync::Arc<Tenant>,
    mail: MailContext,
    who: Applicant,
    code: String,
    lang: Lang,
    limits: Option<SubmissionLimits>,
) -> Result<Option<String>, AppError> {
    super::citizen::note_holding(app, who.id, tenant.id).await?;
    let db = app.db.tenant(tenant.db_ref());
    db.run(move |conn| {
        let procedure = offered(conn, &code)?;
        // Locked: a double click submits once; the second finds no draft.
        let Some(draft) = drafts::lock(conn, who.id, &code)? else {
            return Ok(None);
        };
        let files = drafts::file_contents(conn, draft.id)?;
        let missing: FieldErrors = procedure
            .file_fields()
            .filter(|f| f.required && !files.iter().any(|u| u.field == f.name))
            .map(|f| {
                let msg = Msg::new("Chưa tải lên tệp này.", "This file is not uploaded yet.");
                (f.name.clone(), msg)
            })
            .collect();
        if !missing.is_empty() {
            return Err(AppError::Invalid(missing));
        }
        let by = format!("citizen:{}", who.id);
        let sub = Submission {
            procedure_code: code,
            answers: draft.answers,
            channel: Channel::Online,
            citizen_id: Some(who.id),
            contact_email: who.email,
            lang,
            actor: by.clone(),
            limits,
            unit_code: None,
            received_at: None,
            assurance_level: Some(who.assurance_level),
            offered: None,
            unit_mapping: None,
        };
        let dossier = submit(conn, &tenant, &mail, &sub)?;
        for f in &files {
            let upload = Upload {
                procedure_code: &dossier.procedure_code,
                field: Some(&f.field),
                given_name: &f.name,
                content_type: &f.content_type,
                bytes: &f.data,
                uploaded_by: &by,
            };
            attachments::add_metered(conn, &tenant, &SchemaBlobs, dossier.id, &upload)?;
        }
        drafts::delete(conn, draft.id)?;
        Ok(Some(dossier.tracking_code))
    })
    .await
}
