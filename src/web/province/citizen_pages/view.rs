//! What the citizen's templates show: ready-made, escaped-by-askama text (money, dates, sizes)
//! and the form controls a catalog field becomes.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

use crate::catalog::{Field, FieldKind, Procedure};
use crate::error::{AppError, FieldErrors};
use crate::lang::Lang;
use crate::web::pages::{ProcedureCard, tr};

/// One line of the error summary: a link to the field (`#name`) and why it was refused.
#[derive(Debug, Clone)]
pub struct ErrorLink {
    pub href: String,
    pub message: String,
}

/// The summary's links, in the given field order (the order on the page).
pub fn error_links(order: &[&str], errors: &FieldErrors, lang: Lang) -> Vec<ErrorLink> {
    order
        .iter()
        .filter_map(|name| {
            errors.get(*name).map(|m| ErrorLink {
                href: format!("#{name}"),
                message: m.get(lang).to_string(),
            })
        })
        .collect()
}

/// The field errors of a refusal, or the refusal itself when it is not about fields.
pub fn field_errors(e: AppError) -> Result<FieldErrors, AppError> {
    match e {
        AppError::Invalid(fields) => Ok(fields),
        other => Err(other),
    }
}

/// A money amount as Vietnamese write it: `135.000 đ`; nothing to pay reads "free".
pub fn vnd(amount: i64, lang: Lang) -> String {
    if amount == 0 {
        return tr(lang, "free").to_string();
    }
    let digits = amount.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('.');
        }
        out.push(c);
    }
    let sign = if amount < 0 { "-" } else { "" };
    format!("{sign}{out} đ")
}

fn vietnam() -> FixedOffset {
    // Asia/Ho_Chi_Minh has kept UTC+7 without daylight saving since 1975.
    FixedOffset::east_opt(7 * 3600).unwrap_or_else(|| FixedOffset::east_opt(0).expect("UTC"))
}

/// `dd/mm/yyyy HH:MM` in Vietnam's time.
pub fn local_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&vietnam())
        .format("%d/%m/%Y %H:%M")
        .to_string()
}

/// `dd/mm/yyyy`.
pub fn date(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// `2 MB`, `64 KB`, `900 B`: for limits and uploaded files.
pub use crate::app::documents::human_size;

/// "PDF, JPEG", from media types, for people.
pub fn type_names(accept: &[String]) -> String {
    let names: Vec<&str> = accept
        .iter()
        .map(|t| match t.as_str() {
            "application/pdf" => "PDF",
            "image/jpeg" => "JPEG",
            "image/png" => "PNG",
            other => other,
        })
        .collect();
    names.join(", ")
}

/// One choice of a radio group or select.
#[derive(Debug, Clone)]
pub struct OptionView {
    pub id: String,
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// A catalog field as a form control, with its current answer, hint and error.
#[derive(Debug, Clone)]
pub struct FieldView {
    /// Also the control's `id`, so the error summary's `#name` lands on it.
    pub name: String,
    pub label: String,
    pub hint: String,
    pub error: String,
    pub value: String,
    pub required: bool,
    /// `input`, `radios` or `select`.
    pub control: &'static str,
    pub input_type: &'static str,
    pub inputmode: &'static str,
    pub autocomplete: &'static str,
    /// 0: no limit shown.
    pub maxlength: usize,
    pub options: Vec<OptionView>,
}

impl FieldView {
    pub fn new(field: &Field, value: &str, error: Option<&str>, lang: Lang) -> FieldView {
        let mut hint = field
            .hint
            .as_ref()
            .map(|h| h.get(lang).to_string())
            .unwrap_or_default();
        let (input_type, inputmode, autocomplete, maxlength) = match &field.kind {
            FieldKind::Text { max_len } if field.name == "full_name" => {
                ("text", "", "name", *max_len)
            }
            FieldKind::Text { max_len } => ("text", "", "", *max_len),
            FieldKind::Number { .. } => ("text", "numeric", "", 0),
            FieldKind::Date => {
                if hint.is_empty() {
                    hint = tr(lang, "date_hint").to_string();
                }
                ("date", "", "", 0)
            }
            FieldKind::Email => ("email", "", "email", 0),
            FieldKind::Phone => ("tel", "", "tel", 0),
            FieldKind::CitizenId => ("text", "numeric", "off", 12),
            FieldKind::Address => ("text", "", "street-address", 200),
            FieldKind::Choice { .. } | FieldKind::File { .. } => ("text", "", "", 0),
        };
        let options: Vec<OptionView> = match &field.kind {
            FieldKind::Choice { options } => options
                .iter()
                .enumerate()
                .map(|(i, o)| OptionView {
                    // The first radio carries the field's own id, for the summary's link.
                    id: if i == 0 {
                        field.name.clone()
                    } else {
                        format!("{}-{i}", field.name)
                    },
                    value: o.value.clone(),
                    label: o.label.get(lang).to_string(),
                    selected: o.value == value,
                })
                .collect(),
            _ => Vec::new(),
        };
        let control = match options.len() {
            0 => "input",
            1..=6 => "radios",
            _ => "select",
        };
        FieldView {
            name: field.name.clone(),
            label: field.label.get(lang).to_string(),
            hint,
            error: error.unwrap_or_default().to_string(),
            value: value.to_string(),
            required: field.required,
            control,
            input_type,
            inputmode,
            autocomplete,
            maxlength,
            options,
        }
    }

    /// A control that is not a catalog field (sign-in, registration, tracking).
    pub fn plain(
        name: &str,
        label: &str,
        input_type: &'static str,
        autocomplete: &'static str,
        value: &str,
        error: Option<&str>,
    ) -> FieldView {
        FieldView {
            name: name.to_string(),
            label: label.to_string(),
            hint: String::new(),
            error: error.unwrap_or_default().to_string(),
            value: value.to_string(),
            required: true,
            control: "input",
            input_type,
            inputmode: "",
            autocomplete,
            maxlength: 0,
            options: Vec::new(),
        }
    }

    pub fn with_hint(mut self, hint: &str) -> FieldView {
        self.hint = hint.to_string();
        self
    }

    pub fn numeric(mut self, maxlength: usize) -> FieldView {
        self.inputmode = "numeric";
        self.maxlength = maxlength;
        self
    }

    /// `aria-describedby`: the hint, then the error, when present.
    pub fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if !self.hint.is_empty() {
            ids.push(format!("{}-hint", self.name));
        }
        if !self.error.is_empty() {
            ids.push(format!("{}-error", self.name));
        }
        ids.join(" ")
    }
}

/// A stored answer as people read it: the option's label, a date as dd/mm/yyyy.
pub fn answer_text(field: &Field, value: &str, lang: Lang) -> String {
    match &field.kind {
        FieldKind::Choice { options } => options
            .iter()
            .find(|o| o.value == value)
            .map_or_else(|| value.to_string(), |o| o.label.get(lang).to_string()),
        FieldKind::Date => {
            NaiveDate::parse_from_str(value, "%Y-%m-%d").map_or_else(|_| value.to_string(), date)
        }
        _ => value.to_string(),
    }
}

/// A catalog entry as a line of the home page.
pub fn procedure_card(p: &Procedure, lang: Lang) -> ProcedureCard {
    ProcedureCard {
        code: p.code.clone(),
        name: p.name.get(lang).to_string(),
        level: p.level,
        fee: vnd(p.fee_vnd, lang),
        days: p.processing_days,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_dates_and_sizes_read_the_vietnamese_way() {
        assert_eq!(vnd(135_000, Lang::Vi), "135.000 đ");
        assert_eq!(vnd(1_500_000, Lang::Vi), "1.500.000 đ");
        assert_eq!(vnd(500, Lang::En), "500 đ");
        let at = DateTime::parse_from_rfc3339("2026-11-26T17:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(local_time(at), "27/11/2026 00:30");
        assert_eq!(human_size(2 * 1024 * 1024), "2 MB");
        assert_eq!(human_size(64 * 1024), "64 KB");
    }
}
