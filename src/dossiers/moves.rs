//! Applying a move of the contract's table to a stored dossier: check, change, history, mail.

use diesel::prelude::*;

use super::deadlines::{WorkingDays, due_after_pause, due_on_acceptance};
use super::deficiencies::{self, DeficiencyInput};
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
    /// For `refuse` and `request_supplement`: what is missing or wrong, as sent.
    pub deficiencies: Vec<DeficiencyInput>,
    /// For a second `request_supplement`: the reason of a head of unit (the caller passes it
    /// only for a head; anyone else's second request is refused).
    pub override_reason: Option<String>,
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
            deficiencies: Vec::new(),
            override_reason: None,
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
    let reasoned = matches!(action, Action::Refuse | Action::RequestSupplement);
    // A refusal or a supplement request gives its reasons as rows; a note alone (older
    // clients) becomes one row, so the note is not required on its own there.
    if rule.note_required && !reasoned && note.is_none() {
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
    let rows = if reasoned {
        let procedure = crate::catalog::national()
            .get(&dossier.procedure_code)
            .ok_or_else(|| AppError::internal("procedure left the catalog"))?;
        let rows = deficiencies::parse(procedure, &mv.deficiencies, note)?;
        Some(serde_json::to_value(rows).map_err(|e| AppError::internal(e.to_string()))?)
    } else {
        None
    };
    let override_reason = once_only(conn, dossier, mv)?;
    if action == Action::ReturnResult && super::results::find(conn, dossier.id)?.is_none() {
        return Err(AppError::conflict(
            "result_missing",
            Msg::new(
                "Chưa đính kèm kết quả: tải lên bản điện tử (PDF) hoặc nhập số quyết định và nơi nhận trước khi trả kết quả.",
                "No result is attached: upload the e-copy (PDF) or enter the decision number and pickup details before returning the result.",
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
    if action == Action::Pay {
        // Every way a fee becomes paid passes here: the receipt shares its transaction.
        super::fee_receipts::issue_for_payment(conn, tenant, &updated)?;
    }
    store::append_reasoned_event(
        conn,
        dossier.id,
        &action.as_str(),
        to,
        note,
        &mv.by,
        rows.as_ref(),
        override_reason.as_deref(),
    )?;
    let kind = match to {
        Status::Resolved | Status::Returned => MailKind::ResultReady,
        _ if action == Action::Extend => MailKind::Extended,
        _ if action == Action::Pay => MailKind::FeePaid,
        _ => MailKind::StatusChanged,
    };
    notify_citizen(conn, tenant, ctx, &updated, kind, note)?;
    Ok(updated)
}

/// One supplement request per dossier: a second one is 409 `supplement_already_requested`
/// unless a head of unit gives a reason (returned, for the history). Citizens lose time with
/// every round trip; the first request must say everything.
fn once_only(
    conn: &mut PgConnection,
    dossier: &DossierRow,
    mv: &Move,
) -> Result<Option<String>, AppError> {
    if mv.action != Action::RequestSupplement {
        return Ok(None);
    }
    let reason = mv
        .override_reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if store::count_moves(conn, dossier.id, &mv.action.as_str())? == 0 {
        return Ok(None);
    }
    match reason {
        Some(r) if r.chars().count() > 2000 => Err(AppError::invalid(
            "override_reason",
            Msg::new(
                "Lý do tối đa 2000 ký tự.",
                "The reason has at most 2000 characters.",
            ),
        )),
        Some(r) => Ok(Some(r.to_string())),
        None => Err(AppError::conflict(
            "supplement_already_requested",
            Msg::new(
                "Hồ sơ đã được yêu cầu bổ sung một lần. Chỉ trưởng đơn vị được yêu cầu bổ sung lần nữa, kèm lý do.",
                "A supplement was already requested for this dossier. Only a head of unit may ask again, giving a reason.",
            ),
        )),
    }
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
