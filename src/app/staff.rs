//! The staff's work on a province's dossiers: the queue, reading a dossier, every staff move
//! and registering a dossier received at the counter. The JSON API
//! (`/api/v1/manage/dossiers…`) and the staff pages (`/manage…`) both call these.

use std::sync::Arc;

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::{Actor, App};
use crate::accounts::Email;
use crate::catalog;
use crate::db::TenantDb;
use crate::dossiers::attachments::{self, AttachmentMeta, BlobStore, SchemaBlobs};
use crate::dossiers::moves::{self, Move};
use crate::dossiers::queue::{self, QueueFilter};
use crate::dossiers::status::{self, Action};
use crate::dossiers::store::{self, DossierRow, EventRow};
use crate::dossiers::submit::{Channel, Submission, submit};
use crate::dossiers::tracking;
use crate::dossiers::view::DossierView;
use crate::error::{AppError, FieldErrors};
use crate::lang::{Lang, Msg};
use crate::tenancy::Tenant;

/// The province's door.
pub(crate) fn door(app: &App, tenant: &Tenant) -> TenantDb {
    app.db.tenant(tenant.db_ref())
}

/// A dossier as staff see it: the row, its history and its files, read in one transaction.
#[derive(Debug)]
pub struct ManagedDossier {
    pub dossier: DossierRow,
    pub events: Vec<EventRow>,
    pub files: Vec<AttachmentMeta>,
}

impl ManagedDossier {
    fn read(conn: &mut diesel::PgConnection, dossier: DossierRow) -> Result<Self, AppError> {
        Ok(ManagedDossier {
            events: store::events(conn, dossier.id)?,
            files: attachments::list(conn, dossier.id)?,
            dossier,
        })
    }

    /// The JSON view (with `missing_documents`).
    pub fn view(self, lang: Lang) -> DossierView {
        DossierView::new(self.dossier, self.events, self.files, lang)
    }
}

/// The queue, filtered (`status`, a search) and paged by the caller.
pub async fn queue(
    app: &App,
    actor: &Actor,
    tenant: &Tenant,
    filter: QueueFilter,
) -> Result<Vec<DossierRow>, AppError> {
    actor.staff()?;
    door(app, tenant)
        .run(move |conn| queue::list(conn, &filter))
        .await
}

/// The queue page: how many dossiers each status holds, and one page of the filtered queue.
pub async fn queue_with_counts(
    app: &App,
    actor: &Actor,
    tenant: &Tenant,
    filter: QueueFilter,
) -> Result<(Vec<(String, i64)>, Vec<DossierRow>), AppError> {
    actor.staff()?;
    door(app, tenant)
        .run(move |conn| Ok((queue::counts(conn)?, queue::list(conn, &filter)?)))
        .await
}

/// One dossier of the province by its tracking code (any spelling), else 404.
pub async fn dossier(
    app: &App,
    actor: &Actor,
    tenant: &Tenant,
    code: &str,
) -> Result<ManagedDossier, AppError> {
    actor.staff()?;
    let code = tracking::normalize(code);
    door(app, tenant)
        .run(move |conn| {
            let d = store::find_by_code(conn, &code)?.ok_or(AppError::NotFound)?;
            ManagedDossier::read(conn, d)
        })
        .await
}

/// One file of a dossier of the province, with its bytes.
pub async fn attachment(
    app: &App,
    actor: &Actor,
    tenant: &Tenant,
    code: &str,
    id: uuid::Uuid,
) -> Result<(AttachmentMeta, Vec<u8>), AppError> {
    actor.staff()?;
    let code = tracking::normalize(code);
    door(app, tenant)
        .run(move |conn| {
            let d = store::find_by_code(conn, &code)?.ok_or(AppError::NotFound)?;
            let meta = attachments::find(conn, d.id, id)?.ok_or(AppError::NotFound)?;
            let bytes = SchemaBlobs.get(conn, meta.blob_id)?;
            Ok((meta, bytes))
        })
        .await
}

/// A staff move as asked: the action by its contract name, and what may come with it.
#[derive(Debug, Clone, Default)]
pub struct MoveInput {
    pub action: String,
    pub note: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub fee_vnd: Option<i64>,
}

/// A staff action by its contract name; anything else (also `submit`) is 422 on `action`.
pub fn parse_action(text: &str) -> Result<Action, AppError> {
    Action::parse(text.trim())
        .filter(|a| *a != Action::Submit)
        .ok_or_else(|| {
            AppError::invalid(
                "action",
                Msg::new("Thao tác không hợp lệ.", "Unknown action."),
            )
        })
}

/// Makes one staff move on a dossier of the province: the contract's table (409
/// `invalid_transition`, 403 for a citizen's move), its required inputs (422), the required
/// documents before `accept` (409 `documents_missing`), history and the citizen's mail, all in
/// one transaction. Returns the dossier as it is after the move.
pub async fn move_dossier(
    app: &App,
    actor: &Actor,
    tenant: &Arc<Tenant>,
    code: &str,
    input: MoveInput,
) -> Result<ManagedDossier, AppError> {
    let staff_id = actor.staff()?;
    let action = parse_action(&input.action)?;
    let cx = app.move_context(tenant.clone()).await?;
    let mut mv = Move::new(action, status::Actor::Staff, actor.audit_name());
    mv.note = input.note;
    mv.due_on = input.due_on;
    mv.fee_vnd = input.fee_vnd;
    mv.staff_id = Some(staff_id);
    let code = tracking::normalize(code);
    door(app, tenant)
        .run(move |conn| {
            let d = store::lock_by_code(conn, &code)?.ok_or(AppError::NotFound)?;
            let d = moves::apply(conn, &cx.tenant, &cx.mail, cx.calendar.as_ref(), &d, &mv)?;
            ManagedDossier::read(conn, d)
        })
        .await
}

/// A dossier received at the counter, as the staff member typed it.
#[derive(Debug, Clone)]
pub struct CounterInput {
    pub procedure_code: String,
    pub answers: Map<String, Value>,
    /// The citizen's email for notices, if they gave one (blank is none).
    pub contact_email: Option<String>,
    /// The citizen's language for the mails.
    pub lang: Lang,
}

/// Registers a dossier received at the counter (`channel: counter`): every mistake at once
/// (the procedure, the form's fields, the email) as 422, else filed with its first history row
/// and the "received" mail in one transaction.
pub async fn register_at_counter(
    app: &App,
    actor: &Actor,
    tenant: &Arc<Tenant>,
    input: CounterInput,
) -> Result<DossierRow, AppError> {
    actor.staff()?;
    let mut errors = FieldErrors::new();
    match catalog::national().get(&input.procedure_code) {
        None => {
            errors.insert(
                "procedure_code".into(),
                Msg::new(
                    "Chọn một thủ tục tỉnh đang cung cấp.",
                    "Choose a procedure this province offers.",
                ),
            );
        }
        Some(p) => errors.extend(p.validate(&input.answers).err().unwrap_or_default()),
    }
    let contact_email = match input.contact_email.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => match Email::parse(text) {
            Ok(e) => Some(e.to_string()),
            Err(m) => {
                errors.insert("contact_email".into(), m);
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let ctx = app.mail_context(tenant);
    let t = tenant.clone();
    let sub = Submission {
        procedure_code: input.procedure_code,
        answers: input.answers,
        channel: Channel::Counter,
        citizen_id: None,
        contact_email,
        lang: input.lang,
        actor: actor.audit_name(),
        // Counter registrations by staff are exempt from a citizen's limits.
        limits: None,
    };
    door(app, tenant)
        .run(move |conn| submit(conn, &t, &ctx, &sub))
        .await
}
