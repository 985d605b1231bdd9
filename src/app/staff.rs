//! The staff's work on a province's dossiers: the queue, reading a dossier, every staff move
//! and registering a dossier received at the counter. The JSON API
//! (`/api/v1/manage/dossiers…`) and the staff pages (`/manage…`) both call these.

use std::sync::Arc;

use chrono::NaiveDate;
use serde_json::{Map, Value};

pub use super::workspace::Desk;
use super::{Actor, App};
use crate::accounts::Email;
use crate::accounts::staff::StaffRole;
use crate::catalog;
use crate::db::TenantDb;
use crate::dossiers::attachments::{self, AttachmentMeta, BlobStore, SchemaBlobs};
use crate::dossiers::moves::{self, Move};
use crate::dossiers::queue::{self, QueueFilter};
use crate::dossiers::status::{self, Action};
use crate::dossiers::store::{self, DossierRow, EventRow};
use crate::dossiers::submit::{Channel, Submission, submit};
use crate::dossiers::tracking;
use crate::dossiers::units as dossier_units;
use crate::dossiers::view::DossierView;
use crate::error::{AppError, FieldErrors};
use crate::lang::{Lang, Msg};
use crate::tenancy::Tenant;
use crate::units::scope::{Access, UnitScope};

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
    /// Received at the reader's unit, decided by another: only the receipt is shown.
    pub receipt_only: bool,
    /// Units and staff by name (read by [`dossier`] for the page; empty after a move).
    pub desk: Desk,
    /// The result, once attached.
    pub result: Option<crate::dossiers::results::ResultRow>,
    /// The fee receipt in force, once paid.
    pub fee_receipt: Option<crate::dossiers::fee_receipts::FeeReceiptView>,
    /// Where the fee stands (read by [`dossier`] for the page, with full access; `None` after
    /// a move, or when no fee was asked).
    pub fee: Option<crate::payments::state::FeeState>,
}

impl ManagedDossier {
    pub(super) fn read(
        conn: &mut diesel::PgConnection,
        dossier: DossierRow,
    ) -> Result<Self, AppError> {
        Ok(ManagedDossier {
            events: store::events(conn, dossier.id)?,
            files: attachments::list(conn, dossier.id)?,
            result: crate::dossiers::results::find(conn, dossier.id)?,
            fee_receipt: crate::dossiers::fee_receipts::FeeReceiptView::current(conn, dossier.id)?,
            dossier,
            receipt_only: false,
            desk: Desk::default(),
            fee: None,
        })
    }

    /// The JSON view (with `missing_documents`).
    pub fn view(self, lang: Lang) -> DossierView {
        if self.receipt_only {
            return DossierView::receipt(self.dossier, lang);
        }
        DossierView::new(self.dossier, self.events, self.files, lang)
            .with_result(self.result)
            .with_fee_receipt(self.fee_receipt)
    }
}

/// The staff member's reach, read in the caller's transaction: the one place the unit rule is
/// applied to a request.
fn scope_of(conn: &mut diesel::PgConnection, actor: &Actor) -> Result<UnitScope, AppError> {
    let (id, role) = actor.staff_member()?;
    UnitScope::of_staff(conn, id, role == StaffRole::Admin)
}

/// The queue, filtered and paged by the caller, within the staff member's units.
pub async fn queue(
    app: &App,
    actor: &Actor,
    tenant: &Tenant,
    filter: QueueFilter,
) -> Result<Vec<DossierRow>, AppError> {
    actor.staff()?;
    let actor = actor.clone();
    door(app, tenant)
        .run(move |conn| {
            let scope = scope_of(conn, &actor)?;
            queue::list(conn, &scope, &filter)
        })
        .await
}

/// The workspace page: how many dossiers each status holds, how many the filtered view holds,
/// and one page of it.
pub struct QueuePage {
    pub counts: Vec<(String, i64)>,
    pub total: i64,
    pub rows: Vec<DossierRow>,
    pub scope: UnitScope,
    /// Units and staff by name, for the filters and the rows.
    pub desk: Desk,
}

pub async fn queue_page(
    app: &App,
    actor: &Actor,
    tenant: &Tenant,
    filter: QueueFilter,
) -> Result<QueuePage, AppError> {
    actor.staff()?;
    let actor = actor.clone();
    let door = door(app, tenant);
    let directory = super::workspace::units_of(app, &door).await?;
    door.run(move |conn| {
        let scope = scope_of(conn, &actor)?;
        let counts = queue::counts(conn, &scope)?;
        let total = match queue::total_from_counts(&counts, &filter) {
            Some(total) => total,
            None => queue::count(conn, &scope, &filter)?,
        };
        Ok(QueuePage {
            counts,
            total,
            rows: queue::list(conn, &scope, &filter)?,
            desk: Desk::read(conn, &directory)?,
            scope,
        })
    })
    .await
}

/// The whole filtered view (capped), for the CSV export: the same query as the page, with
/// the units and staff by name.
pub async fn queue_export(
    app: &App,
    actor: &Actor,
    tenant: &Tenant,
    filter: QueueFilter,
) -> Result<(Vec<DossierRow>, Desk), AppError> {
    actor.staff()?;
    let actor = actor.clone();
    let door = door(app, tenant);
    let directory = super::workspace::units_of(app, &door).await?;
    door.run(move |conn| {
        let scope = scope_of(conn, &actor)?;
        Ok((
            queue::export(conn, &scope, &filter)?,
            Desk::read(conn, &directory)?,
        ))
    })
    .await
}

/// The dossier if the unit rule lets the staff member see it (else 404), with the access.
pub(super) fn reach(
    conn: &mut diesel::PgConnection,
    actor: &Actor,
    d: Option<DossierRow>,
) -> Result<(DossierRow, Access), AppError> {
    let d = d.ok_or(AppError::NotFound)?;
    let scope = scope_of(conn, actor)?;
    match scope.access(d.competent_unit.as_deref(), d.received_at_unit.as_deref()) {
        Access::None => Err(AppError::NotFound),
        access => Ok((d, access)),
    }
}

/// The dossier locked for a move, if the staff member's units decide it (else 404).
pub(super) fn lock_full(
    conn: &mut diesel::PgConnection,
    actor: &Actor,
    code: &str,
) -> Result<DossierRow, AppError> {
    let found = store::lock_by_code(conn, code)?;
    match reach(conn, actor, found)? {
        (d, Access::Full) => Ok(d),
        _ => Err(AppError::NotFound),
    }
}

/// One dossier of the province by its tracking code (any spelling), else 404; the receipt
/// only when it was received at the staff member's unit and is decided by another.
pub async fn dossier(
    app: &App,
    actor: &Actor,
    tenant: &Tenant,
    code: &str,
) -> Result<ManagedDossier, AppError> {
    actor.staff()?;
    let code = tracking::normalize(code);
    let actor = actor.clone();
    let door = door(app, tenant);
    let directory = super::workspace::units_of(app, &door).await?;
    door.run(move |conn| {
        let found = store::find_by_code(conn, &code)?;
        let mut found = match reach(conn, &actor, found)? {
            (d, Access::Full) => {
                let fee = crate::payments::state::of_dossier(conn, &d)?;
                ManagedDossier {
                    fee,
                    ..ManagedDossier::read(conn, d)?
                }
            }
            (d, _) => ManagedDossier {
                dossier: d,
                events: Vec::new(),
                files: Vec::new(),
                receipt_only: true,
                desk: Desk::default(),
                result: None,
                fee_receipt: None,
                fee: None,
            },
        };
        found.desk = Desk::read(conn, &directory)?;
        Ok(found)
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
    let actor = actor.clone();
    door(app, tenant)
        .run(move |conn| {
            let found = store::find_by_code(conn, &code)?;
            let (d, access) = reach(conn, &actor, found)?;
            if access != Access::Full {
                return Err(AppError::NotFound);
            }
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
    /// For `transfer`: the unit that decides the dossier from now on.
    pub unit_code: Option<String>,
    /// For `assign`: the official of the unit.
    pub assignee_id: Option<uuid::Uuid>,
    /// For `refuse` and `request_supplement`: what is missing or wrong, one row per item.
    pub deficiencies: Vec<crate::dossiers::deficiencies::DeficiencyInput>,
    /// For a second `request_supplement`: a head of unit's reason.
    pub override_reason: Option<String>,
}

/// What a receiving officer may do: take dossiers in (accept, refuse, ask for a supplement at
/// intake) and hand results back. Deciding is for processing officials and heads of unit.
fn role_may(role: StaffRole, action: Action) -> bool {
    match role {
        StaffRole::Receiver => matches!(
            action,
            Action::Accept | Action::Refuse | Action::RequestSupplement | Action::ReturnResult
        ),
        StaffRole::Official | StaffRole::Head | StaffRole::Admin => true,
    }
}

/// Moves a dossier to another competent unit (a head of unit of the unit that decides it, or
/// an admin): the new unit must decide the procedure (422 on `unit_code`); a finished dossier
/// stays where it was decided (409). A history row names both units; the assignment ends.
pub async fn transfer(
    app: &App,
    actor: &Actor,
    tenant: &Arc<Tenant>,
    code: &str,
    unit_code: &str,
    note: Option<String>,
) -> Result<ManagedDossier, AppError> {
    let (_, role) = actor.staff_member()?;
    if !role.leads() {
        return Err(AppError::forbidden());
    }
    let code = tracking::normalize(code);
    let unit_code = unit_code.to_string();
    let actor = actor.clone();
    door(app, tenant)
        .run(move |conn| {
            let d = lock_full(conn, &actor, &code)?;
            let d = dossier_units::transfer(
                conn,
                &d,
                &unit_code,
                note.as_deref(),
                &actor.audit_name(),
            )?;
            ManagedDossier::read(conn, d)
        })
        .await
}

/// Assigns a dossier to a named official (a head of unit or an admin); the official must be
/// active and, if the dossier is decided by a unit, work in it (422 on `assignee_id`).
pub async fn assign(
    app: &App,
    actor: &Actor,
    tenant: &Arc<Tenant>,
    code: &str,
    to: crate::ids::StaffId,
) -> Result<ManagedDossier, AppError> {
    let (_, role) = actor.staff_member()?;
    if !role.leads() {
        return Err(AppError::forbidden());
    }
    let code = tracking::normalize(code);
    let actor = actor.clone();
    door(app, tenant)
        .run(move |conn| {
            let d = lock_full(conn, &actor, &code)?;
            let d = dossier_units::assign(conn, &d, to, &actor.audit_name())?;
            ManagedDossier::read(conn, d)
        })
        .await
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
    let (staff_id, role) = actor.staff_member()?;
    match input.action.trim() {
        "transfer" => {
            let unit = input.unit_code.clone().unwrap_or_default();
            return transfer(app, actor, tenant, code, &unit, input.note).await;
        }
        "assign" => {
            let to = input.assignee_id.ok_or_else(|| {
                AppError::invalid(
                    "assignee_id",
                    Msg::new("Chọn cán bộ được giao.", "Choose the official to assign."),
                )
            })?;
            return assign(app, actor, tenant, code, crate::ids::StaffId(to)).await;
        }
        _ => {}
    }
    let action = parse_action(&input.action)?;
    if !role_may(role, action) {
        return Err(AppError::forbidden());
    }
    let cx = app.move_context(tenant.clone()).await?;
    let mut mv = Move::new(action, status::Actor::Staff, actor.audit_name());
    mv.note = input.note;
    mv.due_on = input.due_on;
    mv.fee_vnd = input.fee_vnd;
    mv.staff_id = Some(staff_id);
    mv.deficiencies = input.deficiencies;
    // Only a head of unit (or an admin) may ask for a second supplement; anyone else's reason
    // is not passed on, so their second request meets the 409.
    mv.override_reason = input.override_reason.filter(|_| role.leads());
    let code = tracking::normalize(code);
    let actor = actor.clone();
    door(app, tenant)
        .run(move |conn| {
            let d = lock_full(conn, &actor, &code)?;
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
    /// The competent unit, if the citizen named one (else the province's default).
    pub unit_code: Option<String>,
    /// The service point receiving it (default: the staff member's first one).
    pub received_at: Option<String>,
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
    let (staff_id, role) = actor.staff_member()?;
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
        unit_code: input.unit_code,
        received_at: None,
        assurance_level: None,
        offered: None,
        unit_mapping: None,
    };
    let asked_point = input.received_at;
    door(app, tenant)
        .run(move |conn| {
            let scope = UnitScope::of_staff(conn, staff_id, role == StaffRole::Admin)?;
            let point = dossier_units::service_point(conn, &scope, asked_point.as_deref())?;
            let sub = Submission {
                received_at: point,
                ..sub
            };
            submit(conn, &t, &ctx, &sub)
        })
        .await
}
