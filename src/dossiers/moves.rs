//! Applying a move of the contract's table to a stored dossier: check, change, history, mail.

use diesel::prelude::*;

use super::status::{Action, Actor, MoveError, Status, next};
use super::store::{self, DossierChanges, DossierRow};
use super::submit::notify_citizen;
use crate::error::AppError;
use crate::lang::Msg;
use crate::notify::messages::{MailContext, MailKind};
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
}

/// Applies the move to the (locked) dossier.
pub fn apply(
    conn: &mut PgConnection,
    tenant: &Tenant,
    ctx: &MailContext,
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
    let mut changes = DossierChanges {
        status: Some(to.as_str().to_string()),
        ..DossierChanges::default()
    };
    if action == Action::Supplement {
        changes.answers = Some(merged_answers(dossier, mv.answers.as_ref())?);
    }
    if to.is_final() {
        changes.decided_at = Some(Some(chrono::Utc::now()));
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
