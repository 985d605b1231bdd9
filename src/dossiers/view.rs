//! What the API shows of a dossier: everything to its owner and staff, almost nothing to an
//! anonymous tracker.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::attachments::AttachmentMeta;
use super::deficiencies::Deficiency;
use super::documents::{MissingDocument, missing_for_view};
use super::fee_receipts::FeeReceiptView;
use super::results::{ResultRow, ResultView};
use super::status::Status;
use super::store::{DossierRow, EventRow};
use crate::catalog;
use crate::lang::Lang;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HistoryItem {
    pub status: String,
    pub action: String,
    pub at: DateTime<Utc>,
    pub note: Option<String>,
    /// A refusal's or supplement request's reasons, one row per field or document.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deficiencies: Vec<Deficiency>,
    /// A head of unit's reason for a second supplement request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub override_reason: Option<String>,
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
    /// The unit that decides it (null: the province itself).
    pub competent_unit: Option<String>,
    /// The service point that received it, or `"online"` (null: a counter of the province
    /// itself, before units existed).
    pub received_at: Option<String>,
    /// The official it is assigned to, if any.
    pub assignee_id: Option<uuid::Uuid>,
    /// True when the reader sees only the receipt (received at their unit, decided by
    /// another): no answers, files or history.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub receipt_only: bool,
    /// While a supplement is requested or after a refusal: what is missing or wrong, per
    /// field or document (the last such move's rows).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deficiencies: Vec<Deficiency>,
    /// Once attached: `{verification_code, sha256, kind}` (and the paper details).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<ResultView>,
    /// Once the fee is paid: the e-receipt in force (a voided one's replacement).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fee_receipt: Option<FeeReceiptView>,
}

impl DossierView {
    pub fn new(
        d: DossierRow,
        events: Vec<EventRow>,
        attachments: Vec<AttachmentMeta>,
        lang: Lang,
    ) -> DossierView {
        let fee_vnd = d.fee_shown();
        let received_at = received_at(&d);
        let deficiencies = open_deficiencies(d.status, &events);
        DossierView {
            deficiencies,
            result: None,
            fee_receipt: None,
            missing_documents: missing_for_view(&d, &attachments, lang),
            competent_unit: d.competent_unit,
            received_at,
            assignee_id: d.assignee_id,
            receipt_only: false,
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
                    deficiencies: e.deficiencies(),
                    status: e.status,
                    action: e.action,
                    at: e.at,
                    note: e.note,
                    override_reason: e.override_reason,
                })
                .collect(),
            attachments,
        }
    }
}

/// The reasons the citizen must answer now: the last supplement request's while one is open,
/// the refusal's once refused; none otherwise.
pub fn open_deficiencies(status: Status, events: &[EventRow]) -> Vec<Deficiency> {
    let action = match status {
        Status::SupplementRequested => "request_supplement",
        Status::Refused => "refuse",
        _ => return Vec::new(),
    };
    events
        .iter()
        .rev()
        .find(|e| e.action == action)
        .map(EventRow::deficiencies)
        .unwrap_or_default()
}

impl DossierView {
    /// The result, once attached.
    pub fn with_result(mut self, result: Option<ResultRow>) -> DossierView {
        self.result = result.map(ResultView::from);
        self
    }

    /// The fee receipt in force, once paid.
    pub fn with_fee_receipt(mut self, receipt: Option<FeeReceiptView>) -> DossierView {
        self.fee_receipt = receipt;
        self
    }

    /// What the staff of the receiving unit see of a dossier another unit decides: the
    /// receipt (code, procedure, applicant, where received, who decides, status, due date).
    pub fn receipt(d: DossierRow, lang: Lang) -> DossierView {
        let mut view = DossierView::new(d, Vec::new(), Vec::new(), lang);
        view.answers = serde_json::Value::Object(Default::default());
        view.missing_documents = Vec::new();
        view.receipt_only = true;
        view
    }
}

/// Where a dossier was received, as the contract writes it: a unit code, or `"online"`.
pub fn received_at(d: &DossierRow) -> Option<String> {
    match (&d.received_at_unit, d.channel.as_str()) {
        (Some(unit), _) => Some(unit.clone()),
        (None, "online") => Some("online".into()),
        (None, _) => None,
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
