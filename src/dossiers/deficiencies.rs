//! What a refusal or a supplement request says is missing or wrong: one row per item of the
//! procedure (a field or a document of its form), each with a closed set of problems. A
//! citizen sees them per field and document, so "hồ sơ chưa hợp lệ" alone is no longer a reason.

use serde::{Deserialize, Serialize};

use crate::catalog::Procedure;
use crate::error::{AppError, FieldErrors};
use crate::lang::{Lang, Msg};

/// The item naming the dossier as a whole (a note-only request from an older client).
pub const WHOLE_DOSSIER: &str = "dossier";

/// At most this many rows: a list longer than the form itself is a mistake.
const MAX_ROWS: usize = 50;
const MAX_NOTE: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    Missing,
    Illegible,
    Invalid,
    Expired,
    Other,
}

impl Problem {
    pub const ALL: [Problem; 5] = [
        Problem::Missing,
        Problem::Illegible,
        Problem::Invalid,
        Problem::Expired,
        Problem::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Problem::Missing => "missing",
            Problem::Illegible => "illegible",
            Problem::Invalid => "invalid",
            Problem::Expired => "expired",
            Problem::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<Problem> {
        Problem::ALL.into_iter().find(|p| p.as_str() == text.trim())
    }

    pub fn label(self, lang: Lang) -> &'static str {
        let (vi, en) = match self {
            Problem::Missing => ("Còn thiếu", "Missing"),
            Problem::Illegible => ("Không đọc được", "Illegible"),
            Problem::Invalid => ("Không hợp lệ", "Invalid"),
            Problem::Expired => ("Hết hiệu lực", "Expired"),
            Problem::Other => ("Khác", "Other"),
        };
        match lang {
            Lang::Vi => vi,
            Lang::En => en,
        }
    }
}

/// One row as a client sends it (`problem` still text, so a wrong one is a 422 naming the row).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct DeficiencyInput {
    #[serde(default)]
    pub item: String,
    #[serde(default)]
    pub problem: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// One checked row, as stored in the history (`dossier_events.deficiencies`) and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Deficiency {
    /// A field or document name of the procedure, or `dossier` for the whole dossier.
    pub item: String,
    pub problem: Problem,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Deficiency {
    /// The item's label in the procedure's form (its name when the procedure left the catalog).
    pub fn item_label(&self, procedure: Option<&Procedure>, lang: Lang) -> String {
        if self.item == WHOLE_DOSSIER {
            return Msg::new("Hồ sơ", "The dossier").get(lang).to_string();
        }
        procedure
            .and_then(|p| p.fields.iter().find(|f| f.name == self.item))
            .map(|f| f.label.get(lang).to_string())
            .unwrap_or_else(|| self.item.clone())
    }
}

/// The rows of a refusal or supplement request, checked against the procedure: each item is
/// one of its fields or documents (or `dossier`), each problem one of the five; every mistake
/// at once as 422 on `deficiencies[i].item` / `.problem` / `.note`. No rows but a note (an older
/// client) is one row `{dossier, other, note}`; neither is 422 on `deficiencies`.
pub fn parse(
    procedure: &Procedure,
    rows: &[DeficiencyInput],
    note: Option<&str>,
) -> Result<Vec<Deficiency>, AppError> {
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if rows.is_empty() {
        return match note {
            Some(n) => Ok(vec![Deficiency {
                item: WHOLE_DOSSIER.into(),
                problem: Problem::Other,
                note: Some(n.to_string()),
            }]),
            None => Err(AppError::invalid(
                "deficiencies",
                Msg::new(
                    "Liệt kê ít nhất một mục còn thiếu hoặc sai (mục, vấn đề, ghi chú).",
                    "List at least one item that is missing or wrong (item, problem, note).",
                ),
            )),
        };
    }
    if rows.len() > MAX_ROWS {
        return Err(AppError::invalid(
            "deficiencies",
            Msg::new("Tối đa 50 mục.", "At most 50 items."),
        ));
    }
    let mut errors = FieldErrors::new();
    let mut out = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let item = row.item.trim();
        let known = item == WHOLE_DOSSIER || procedure.fields.iter().any(|f| f.name == item);
        if !known {
            errors.insert(
                format!("deficiencies[{i}].item"),
                Msg::new(
                    "Chọn một trường hoặc giấy tờ của thủ tục.",
                    "Choose a field or document of the procedure.",
                ),
            );
        }
        let problem = Problem::parse(&row.problem);
        if problem.is_none() {
            errors.insert(
                format!("deficiencies[{i}].problem"),
                Msg::new(
                    "Vấn đề phải là: thiếu, không đọc được, không hợp lệ, hết hiệu lực hoặc khác.",
                    "The problem must be missing, illegible, invalid, expired or other.",
                ),
            );
        }
        let row_note = row.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
        if row_note.is_some_and(|n| n.chars().count() > MAX_NOTE) {
            errors.insert(
                format!("deficiencies[{i}].note"),
                Msg::new(
                    "Ghi chú mỗi mục tối đa 500 ký tự.",
                    "A row's note has at most 500 characters.",
                ),
            );
        }
        if let Some(problem) = problem.filter(|_| known) {
            out.push(Deficiency {
                item: item.to_string(),
                problem,
                note: row_note.map(str::to_string),
            });
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog;

    fn procedure() -> &'static Procedure {
        catalog::national()
            .all()
            .iter()
            .find(|p| !p.fields.is_empty())
            .unwrap()
    }

    fn row(item: &str, problem: &str) -> DeficiencyInput {
        DeficiencyInput {
            item: item.into(),
            problem: problem.into(),
            note: None,
        }
    }

    #[test]
    fn a_note_alone_is_one_row_about_the_dossier() {
        let got = parse(procedure(), &[], Some("  Thiếu ảnh ")).unwrap();
        assert_eq!(
            got,
            vec![Deficiency {
                item: "dossier".into(),
                problem: Problem::Other,
                note: Some("Thiếu ảnh".into())
            }]
        );
        assert!(parse(procedure(), &[], Some("  ")).is_err());
    }

    #[test]
    fn items_and_problems_come_from_closed_sets() {
        let p = procedure();
        let field = p.fields[0].name.as_str();
        let ok = parse(p, &[row(field, "illegible")], None).unwrap();
        assert_eq!(ok[0].problem, Problem::Illegible);
        let Err(AppError::Invalid(errors)) = parse(
            p,
            &[row("no_such_field", "missing"), row(field, "lost")],
            None,
        ) else {
            panic!("refused")
        };
        assert!(errors.contains_key("deficiencies[0].item"), "{errors:?}");
        assert!(errors.contains_key("deficiencies[1].problem"), "{errors:?}");
        assert_eq!(errors.len(), 2);
    }
}
