//! What the citizen's dossier page offers now: the supplement form when asked (answers
//! pre-filled, files to add), paying the fee when asked, rating once finished, the letter of
//! apology after an extension; and the errors of a refused reply. The replies themselves are
//! in `replying.rs`.

use actix_web::http::StatusCode;
use serde_json::{Map, Value};

use super::apply::answer_str;
use super::view::{self, ErrorLink, FieldView, OptionView};
use crate::catalog::{self, Field, FieldKind};
use crate::dossiers::status::Status;
use crate::dossiers::store::{DossierRow, EventRow};
use crate::error::FieldErrors;
use crate::lang::{Lang, Msg};
use crate::web::AppState;
use crate::web::pages::tr;

/// A document the supplement may add.
pub struct FileInput {
    pub name: String,
    pub label: String,
    pub hint: String,
    pub error: String,
    pub accept: String,
}

pub struct SupplementForm {
    /// What the officer asked for.
    pub note: String,
    pub fields: Vec<FieldView>,
    pub files: Vec<FileInput>,
}

pub struct RatingForm {
    pub score: FieldView,
    pub comment: String,
    pub comment_error: String,
}

/// What the dossier page offers the citizen now.
#[derive(Default)]
pub struct Replies {
    pub supplement: Option<SupplementForm>,
    /// The fee to pay, formatted, while payment is asked.
    pub payment: Option<String>,
    pub rating: Option<RatingForm>,
    /// The score given, with its words.
    pub rated: Option<String>,
    pub apology: bool,
}

/// A reply that was refused: what was sent, and why.
pub struct Attempt {
    pub values: Map<String, Value>,
    pub errors: FieldErrors,
    /// Not about a field (409): shown at the top, linked to the reply's section.
    pub conflict: Option<(&'static str, Msg)>,
    pub status: StatusCode,
}

impl Default for Attempt {
    fn default() -> Attempt {
        Attempt {
            values: Map::new(),
            errors: FieldErrors::new(),
            conflict: None,
            status: StatusCode::OK,
        }
    }
}

/// The applicant cannot change who they are by a supplement.
pub(super) fn supplementable(f: &Field) -> bool {
    !f.is_file() && f.name != "full_name" && f.name != "id_number"
}

pub(super) fn accepted(f: &Field) -> &[String] {
    match &f.kind {
        FieldKind::File { accept, .. } => accept,
        _ => &[],
    }
}

/// The smaller of the document's own limit and the site's.
pub(super) fn limit(f: Option<&Field>, state: &AppState) -> u64 {
    crate::app::documents::limit(f, state.settings.storage.max_upload_bytes)
}

const SCORES: [(i64, &str); 5] = [
    (5, "score_5"),
    (4, "score_4"),
    (3, "score_3"),
    (2, "score_2"),
    (1, "score_1"),
];

/// The replies the dossier's status allows, with a refused attempt's values and errors.
pub fn build(
    d: &DossierRow,
    events: &[EventRow],
    rating: Option<i16>,
    attempt: &Attempt,
    state: &AppState,
    lang: Lang,
) -> Replies {
    let procedure = catalog::national().get(&d.procedure_code);
    let error = |name: &str| attempt.errors.get(name).map(|m| m.get(lang).to_string());
    let status = d.status();
    let supplement = match (status, procedure) {
        (Status::SupplementRequested, Some(p)) => {
            let stored = d.answers.as_object().cloned().unwrap_or_default();
            let values = if attempt.values.is_empty() {
                &stored
            } else {
                &attempt.values
            };
            Some(SupplementForm {
                note: events
                    .iter()
                    .rev()
                    .find(|e| e.action == "request_supplement")
                    .and_then(|e| e.note.clone())
                    .unwrap_or_default(),
                fields: p
                    .fields
                    .iter()
                    .filter(|f| supplementable(f))
                    .map(|f| {
                        let e = error(&f.name);
                        FieldView::new(f, &answer_str(values, &f.name), e.as_deref(), lang)
                    })
                    .collect(),
                files: p
                    .file_fields()
                    .map(|f| FileInput {
                        name: f.name.clone(),
                        label: f.label.get(lang).to_string(),
                        hint: format!(
                            "{} {} {}, {} {}.",
                            tr(lang, "supplement_file_hint"),
                            tr(lang, "file_types"),
                            view::type_names(accepted(f)),
                            tr(lang, "at_most"),
                            view::human_size(limit(Some(f), state))
                        ),
                        error: error(&f.name).unwrap_or_default(),
                        accept: accepted(f).join(","),
                    })
                    .collect(),
            })
        }
        _ => None,
    };
    let payment = (status == Status::PaymentRequested).then(|| view::vnd(d.fee_vnd, lang));
    let finished = matches!(status, Status::Returned | Status::Refused | Status::Stopped);
    let words = |score: i64| {
        SCORES
            .iter()
            .find(|(s, _)| *s == score)
            .map_or("", |(_, k)| tr(lang, k))
    };
    let rating_form = (finished && rating.is_none()).then(|| {
        let chosen = attempt
            .values
            .get("score")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mut score = FieldView::plain(
            "score",
            tr(lang, "rating_question"),
            "text",
            "",
            chosen,
            error("score").as_deref(),
        );
        score.control = "radios";
        score.options = SCORES
            .iter()
            .enumerate()
            .map(|(i, (s, key))| OptionView {
                id: if i == 0 {
                    "score".into()
                } else {
                    format!("score-{s}")
                },
                value: s.to_string(),
                label: format!("{s} – {}", tr(lang, key)),
                selected: chosen == s.to_string(),
            })
            .collect();
        RatingForm {
            score,
            comment: attempt
                .values
                .get("comment")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            comment_error: error("comment").unwrap_or_default(),
        }
    });
    Replies {
        supplement,
        payment,
        rating: rating_form,
        rated: rating.map(|s| format!("{s}/5 – {}", words(i64::from(s)))),
        apology: events.iter().any(|e| e.action == "extend"),
    }
}

/// The error summary's lines for a refused reply, in page order.
pub fn error_links(d: &DossierRow, attempt: &Attempt, lang: Lang) -> Vec<ErrorLink> {
    let mut links = Vec::new();
    if let Some((anchor, msg)) = &attempt.conflict {
        links.push(ErrorLink {
            href: format!("#{anchor}"),
            message: msg.get(lang).to_string(),
        });
    }
    let mut order: Vec<String> = catalog::national()
        .get(&d.procedure_code)
        .map(|p| p.fields.iter().map(|f| f.name.clone()).collect())
        .unwrap_or_default();
    order.extend(["score".to_string(), "comment".to_string()]);
    let label = |name: &str| {
        catalog::national()
            .get(&d.procedure_code)
            .and_then(|p| p.fields.iter().find(|f| f.name == name))
            .map(|f| f.label.get(lang).to_string())
    };
    for name in order {
        if let Some(m) = attempt.errors.get(&name) {
            let message = match label(&name) {
                Some(l) => format!("{l}: {}", m.get(lang)),
                None => m.get(lang).to_string(),
            };
            links.push(ErrorLink {
                href: format!("#{name}"),
                message,
            });
        }
    }
    links
}
