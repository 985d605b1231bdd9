//! What the API shows of a dossier: everything to its owner and staff, almost nothing to an
//! anonymous tracker.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::attachments::AttachmentMeta;
use super::documents::{MissingDocument, missing_for_view};
use super::store::{DossierRow, EventRow};
use crate::catalog;
use crate::lang::Lang;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HistoryItem {
    pub status: String,
    pub action: String,
    pub at: DateTime<Utc>,
    pub note: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DossierView {
    pub tracking_code: String,
    pub procedure_code: String,
    pub procedure_name: String,
    pub status: String,
    pub channel: String,
    pub submitted_at: DateTime<Utc>,
    pub due_on: Option<NaiveDate>,
    pub fee_vnd: i64,
    pub applicant_name: String,
    pub answers: serde_json::Value,
    pub history: Vec<HistoryItem>,
    pub attachments: Vec<AttachmentMeta>,
    /// The procedure's required documents no attachment answers yet (`accept` waits for them).
    pub missing_documents: Vec<MissingDocument>,
}

impl DossierView {
    pub fn new(
        d: DossierRow,
        events: Vec<EventRow>,
        attachments: Vec<AttachmentMeta>,
        lang: Lang,
    ) -> DossierView {
        let fee_vnd = d.fee_shown();
        DossierView {
            missing_documents: missing_for_view(&d, &attachments, lang),
            procedure_name: procedure_name(&d.procedure_code, lang),
            tracking_code: d.tracking_code,
            procedure_code: d.procedure_code,
            status: d.status.as_str().to_string(),
            channel: d.channel,
            submitted_at: d.submitted_at,
            due_on: d.due_on,
            fee_vnd,
            applicant_name: d.applicant_name,
            answers: d.answers,
            history: events
                .into_iter()
                .map(|e| HistoryItem {
                    status: e.status,
                    action: e.action,
                    at: e.at,
                    note: e.note,
                })
                .collect(),
            attachments,
        }
    }
}

/// One line of "my dossiers".
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DossierSummary {
    pub tracking_code: String,
    pub procedure_code: String,
    pub procedure_name: String,
    pub status: String,
    pub submitted_at: DateTime<Utc>,
    pub due_on: Option<NaiveDate>,
}

impl DossierSummary {
    pub fn new(d: DossierRow, lang: Lang) -> DossierSummary {
        DossierSummary {
            procedure_name: procedure_name(&d.procedure_code, lang),
            tracking_code: d.tracking_code,
            procedure_code: d.procedure_code,
            status: d.status.as_str().to_string(),
            submitted_at: d.submitted_at,
            due_on: d.due_on,
        }
    }
}

/// Tracking without sign-in: no personal data.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TrackingView {
    pub tracking_code: String,
    pub procedure_code: String,
    pub status: String,
    pub due_on: Option<NaiveDate>,
}

impl From<DossierRow> for TrackingView {
    fn from(d: DossierRow) -> TrackingView {
        TrackingView {
            tracking_code: d.tracking_code,
            procedure_code: d.procedure_code,
            status: d.status.as_str().to_string(),
            due_on: d.due_on,
        }
    }
}

pub fn procedure_name(code: &str, lang: Lang) -> String {
    catalog::national()
        .get(code)
        .map(|p| p.name.get(lang).to_string())
        .unwrap_or_else(|| code.to_string())
}
