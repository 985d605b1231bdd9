//! Applying a move of the contract's table to a stored dossier: check, change, history, mail.

use diesel::prelude::*;

use super::deadlines::{WorkingDays, due_after_pause, due_on_acceptance};
use super::mail::MailKind;
use super::status::{Action, Actor, MoveError, Status, next};
use super::store::{self, DossierChanges, DossierRow};
use super::submit::notify_citizen;
use crate::clock::today_vn;
use crate::error::AppError;
use crate::ids::StaffId;
use crate::lang::Msg;
use crate::notify::messages::MailContext;
use crate::tenancy::Tenant;

/// A requested move and what comes with it.
#[derive(Debug)]
pub struct Move {
    pub action: Action,
    pub actor: Actor,
    /// Who, for the history: `citizen:<id>` or `staff:<id>`.
    pub by: String,
    pub note: Option<String>,
    /// New answers, for `supplement`.
    pub answers: Option<serde_json::Map<String, serde_json::Value>>,
    /// The new, later due date, for `extend`.
    pub due_on: Option<chrono::NaiveDate>,
    /// The fee asked, for `request_payment`.
    pub fee_vnd: Option<i64>,
    /// The staff member, for `accept` (they answer for the deadline).
    pub staff_id: Option<StaffId>,
}

impl Move {
    pub fn new(action: Action, actor: Actor, by: String) -> Move {
        Move {
            action,
            actor,
            by,
            note: None,
            answers: None,
            due_on: None,
            fee_vnd: None,
            staff_id: None,
        }
    }
}

/// Applies the move to the (locked) dossier.
pub fn apply(
    conn: &mut PgConnection,
    tenant: &Tenant,
    ctx: &MailContext,
    cal: &dyn WorkingDays,
    dossier: &DossierRow,
    mv: &Move,
) -> Result<DossierRow, AppError> {
    let (action, actor) = (mv.action, mv.actor);
    let from = dossier.status();
    let to = next(from, action, actor).map_err(|e| match e {
        MoveError::WrongActor => AppError::forbidden(),
        MoveError::InvalidTransition => invalid_transition(from, action),
    })?;
    let note = mv.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    let rule = action.rule().ok_or(AppError::NotFound)?;
    if rule.note_required && note.is_none() {
        return Err(AppError::invalid(
            "note",
            Msg::new("Cần ghi rõ lý do.", "A note giving the reason is required."),
        ));
    }
    if let Some(n) = note
        && n.chars().count() > 2000
    {
        return Err(AppError::invalid(
            "note",
            Msg::new(
                "Ghi chú tối đa 2000 ký tự.",
                "A note has at most 2000 characters.",
            ),
        ));
    }
    if action == Action::Accept {
        // The one place the rule lives: API, pages and every other caller meet it here.
        let files = super::attachments::list(conn, dossier.id)?;
        super::documents::require_all(dossier, &files)?;
    }
    let mut changes = DossierChanges {
        status: Some(to.as_str().to_string()),
        ..DossierChanges::default()
    };
    if action == Action::Supplement {
        changes.answers = Some(merged_answers(dossier, mv.answers.as_ref())?);
    }
    deadline_changes(&mut changes, cal, dossier, mv)?;
    if to.is_final() {
        changes.decided_at = Some(Some(crate::clock::now()));
    }
    let updated = store::update(conn, dossier.id, &changes)?;
    store::append_event(conn, dossier.id, &action.as_str(), to, note, &mv.by)?;
    let kind = match to {
        Status::Resolved | Status::Returned => MailKind::ResultReady,
        _ if action == Action::Extend => MailKind::Extended,
        _ => MailKind::StatusChanged,
    };
    notify_citizen(conn, tenant, ctx, &updated, kind, note)?;
    Ok(updated)
}

/// How the move changes the legal clock (see the contract's table).
fn deadline_changes(
    changes: &mut DossierChanges,
    cal: &dyn WorkingDays,
    d: &DossierRow,
    mv: &Move,
) -> Result<(), AppError> {
    let today = today_vn();
    match mv.action {
        Action::Accept => {
            let procedure = crate::catalog::national()
                .get(&d.procedure_code)
                .ok_or_else(|| AppError::internal("procedure left the catalog"))?;
            changes.due_on = Some(Some(due_on_acceptance(
                cal,
                today,
                procedure.processing_days,
            )));
            changes.handler_id = Some(mv.staff_id);
        }
        Action::RequestSupplement => changes.clock_stopped_on = Some(Some(today)),
        Action::RequestPayment => {
            let fee = mv.fee_vnd.ok_or_else(|| {
                AppError::invalid(
                    "fee_vnd",
                    Msg::new(
                        "Cần nhập số tiền phí, lệ phí (đồng).",
                        "The fee in VND is required.",
                    ),
                )
            })?;
            if !(0..=10_000_000_000).contains(&fee) {
                return Err(AppError::invalid(
                    "fee_vnd",
                    Msg::new("Số tiền không hợp lệ.", "The amount is not valid."),
                ));
            }
            changes.fee_vnd = Some(fee);
            changes.clock_stopped_on = Some(Some(today));
        }
        Action::Supplement | Action::Pay => {
            if let (Some(stopped), Some(due)) = (d.clock_stopped_on, d.due_on) {
                changes.due_on = Some(Some(due_after_pause(cal, due, stopped, today)));
            }
            changes.clock_stopped_on = Some(None);
            changes.due_flag = Some(None);
        }
        Action::Extend => {
            let later = mv
                .due_on
                .filter(|new| d.due_on.is_none_or(|due| *new > due) && *new > today);
            let later = later.ok_or_else(|| {
                AppError::invalid(
                    "due_on",
                    Msg::new(
                        "Ngày hẹn mới phải sau ngày hẹn hiện tại.",
                        "The new due date must be later than the current one.",
                    ),
                )
            })?;
            changes.due_on = Some(Some(later));
            changes.due_flag = Some(None);
        }
        _ => {}
    }
    Ok(())
}

/// A citizen's move (withdraw, supplement) on a dossier they own and hold locked. `pay` is not
/// one: it goes through the fee provider first ([`crate::payments::pay`]).
pub fn apply_by_citizen(
    conn: &mut PgConnection,
    tenant: &Tenant,
    ctx: &MailContext,
    cal: &dyn WorkingDays,
    dossier: &DossierRow,
    mv: &Move,
) -> Result<DossierRow, AppError> {
    if mv.action == Action::Pay {
        return Err(AppError::internal("pay goes through payments::pay"));
    }
    apply(conn, tenant, ctx, cal, dossier, mv)
}

pub fn invalid_transition(from: Status, action: Action) -> AppError {
    AppError::conflict(
        "invalid_transition",
        Msg::owned(
            format!(
                "Không thể thực hiện \"{}\" khi hồ sơ đang ở trạng thái \"{}\".",
                action.as_str(),
                from.label(crate::lang::Lang::Vi)
            ),
            format!(
                "\"{}\" is not possible while the dossier is \"{}\".",
                action.as_str(),
                from.as_str()
            ),
        ),
    )
}

/// The stored answers with the supplement's answers laid over them, validated as a whole.
fn merged_answers(
    dossier: &DossierRow,
    supplement: Option<&serde_json::Map<String, serde_json::Value>>,
) -> Result<serde_json::Value, AppError> {
    let procedure = crate::catalog::national()
        .get(&dossier.procedure_code)
        .ok_or_else(|| AppError::internal("procedure left the catalog"))?;
    let mut answers = dossier.answers.as_object().cloned().unwrap_or_default();
    for (k, v) in supplement.cloned().unwrap_or_default() {
        // The applicant cannot be changed by a supplement.
        if k != "full_name" && k != "id_number" {
            answers.insert(k, v);
        }
    }
    let valid = procedure.validate(&answers).map_err(AppError::Invalid)?;
    Ok(serde_json::Value::Object(valid))
}
