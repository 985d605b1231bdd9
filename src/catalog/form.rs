//! A procedure's typed form: how the catalog file declares fields, and how answers are checked.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

use super::{Bilingual, Procedure};
use crate::accounts::Email;
use crate::error::FieldErrors;
use crate::lang::Msg;

/// One question of a form.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = FormField)]
pub struct Field {
    pub name: String,
    pub label: Bilingual,
    pub hint: Option<Bilingual>,
    #[serde(flatten)]
    pub kind: FieldKind,
    pub required: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FieldKind {
    Text { max_len: usize },
    Number { min: i64, max: i64 },
    Date,
    Choice { options: Vec<ChoiceOption> },
    Email,
    Phone,
    CitizenId,
    Address,
    File { accept: Vec<String>, max_bytes: u64 },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ChoiceOption {
    pub value: String,
    pub label: Bilingual,
}

const ADDRESS_MAX_LEN: usize = 200;
const MEDIA_TYPES: [&str; 3] = ["application/pdf", "image/jpeg", "image/png"];

impl Procedure {
    /// Validates submitted answers: returns the normalised answers (only known, non-file
    /// fields; optional empty ones omitted) or every field error at once.
    pub fn validate(
        &self,
        answers: &Map<String, Value>,
    ) -> Result<Map<String, Value>, FieldErrors> {
        let mut clean = Map::new();
        let mut errors = FieldErrors::new();
        for field in self.fields.iter().filter(|f| !f.is_file()) {
            match field.check(answers.get(&field.name)) {
                Ok(Some(value)) => {
                    clean.insert(field.name.clone(), value);
                }
                Ok(None) => {}
                Err(msg) => {
                    errors.insert(field.name.clone(), msg);
                }
            }
        }
        if errors.is_empty() {
            Ok(clean)
        } else {
            Err(errors)
        }
    }

    /// The documents to upload; checked at upload time, not by `validate`.
    pub fn file_fields(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|f| f.is_file())
    }
}

/// A present answer, before its kind is known to need a string or a number.
enum Answer<'a> {
    Str(&'a str),
    Num(&'a Number),
}

impl Answer<'_> {
    /// Forms may post numbers where text is expected (an ID typed into a numeric input).
    fn into_text(self) -> String {
        match self {
            Answer::Str(s) => s.to_string(),
            Answer::Num(n) => n.to_string(),
        }
    }
}

impl Field {
    pub fn is_file(&self) -> bool {
        matches!(self.kind, FieldKind::File { .. })
    }

    /// `Ok(None)` when an optional field was left empty.
    fn check(&self, value: Option<&Value>) -> Result<Option<Value>, Msg> {
        let Some(answer) = present(value)? else {
            return if self.required {
                Err(Msg::new(
                    "Vui lòng điền thông tin này.",
                    "Please fill in this field.",
                ))
            } else {
                Ok(None)
            };
        };
        let checked = match &self.kind {
            FieldKind::Number { min, max } => {
                return Ok(Some(check_number(answer, *min, *max)?.into()));
            }
            FieldKind::File { .. } => return Ok(None),
            FieldKind::Text { max_len } => check_text(answer.into_text(), *max_len),
            FieldKind::Address => check_text(answer.into_text(), ADDRESS_MAX_LEN),
            FieldKind::Date => check_date(&answer.into_text()),
            FieldKind::Choice { options } => check_choice(answer.into_text(), options),
            FieldKind::Email => Email::parse(&answer.into_text()).map(|e| e.as_str().to_string()),
            FieldKind::Phone => check_phone(&answer.into_text()),
            FieldKind::CitizenId => check_citizen_id(&answer.into_text()),
        };
        let value = Value::String(checked?);
        Ok(Some(value))
    }
}

/// `None` for a missing, null or blank answer; strings come back trimmed.
fn present(value: Option<&Value>) -> Result<Option<Answer<'_>>, Msg> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(Answer::Str(s.trim()))),
        Some(Value::Number(n)) => Ok(Some(Answer::Num(n))),
        Some(_) => Err(Msg::new(
            "Giá trị không hợp lệ: vui lòng nhập chữ hoặc số.",
            "This value is not valid: please enter text or a number.",
        )),
    }
}

fn check_text(s: String, max_len: usize) -> Result<String, Msg> {
    if s.chars().any(char::is_control) {
        return Err(Msg::new(
            "Nội dung không được chứa ký tự điều khiển hoặc xuống dòng.",
            "The text cannot contain control characters or line breaks.",
        ));
    }
    if s.chars().count() > max_len {
        return Err(Msg::owned(
            format!("Nội dung dài tối đa {max_len} ký tự."),
            format!("The text can be at most {max_len} characters long."),
        ));
    }
    Ok(s)
}

fn check_number(answer: Answer<'_>, min: i64, max: i64) -> Result<i64, Msg> {
    let n = match answer {
        Answer::Num(n) => n.as_i64(),
        Answer::Str(s) => s.parse::<i64>().ok(),
    }
    .ok_or_else(|| {
        Msg::new(
            "Vui lòng nhập một số nguyên.",
            "Please enter a whole number.",
        )
    })?;
    if n < min || n > max {
        return Err(Msg::owned(
            format!("Vui lòng nhập một số từ {min} đến {max}."),
            format!("Please enter a number from {min} to {max}."),
        ));
    }
    Ok(n)
}

fn check_date(s: &str) -> Result<String, Msg> {
    // The round trip refuses what chrono alone would take ("2020-1-5", "+2020-01-05").
    let date = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .filter(|d| d.format("%Y-%m-%d").to_string() == s)
        .ok_or_else(|| {
            Msg::new(
                "Ngày phải có dạng YYYY-MM-DD và là một ngày có thật.",
                "A date is written YYYY-MM-DD and must be a real calendar date.",
            )
        })?;
    if date < NaiveDate::from_ymd_opt(1900, 1, 1).expect("a valid constant date") {
        return Err(Msg::new(
            "Ngày không được trước 01/01/1900.",
            "The date cannot be before 1 January 1900.",
        ));
    }
    Ok(s.to_string())
}

fn check_choice(s: String, options: &[ChoiceOption]) -> Result<String, Msg> {
    if options.iter().any(|o| o.value == s) {
        return Ok(s);
    }
    let values: Vec<&str> = options.iter().map(|o| o.value.as_str()).collect();
    let list = values.join(", ");
    Err(Msg::owned(
        format!("Vui lòng chọn một trong các giá trị: {list}."),
        format!("Please choose one of: {list}."),
    ))
}

/// Vietnamese numbers: 9–11 digits in domestic form; a leading +84 stands for the leading 0.
fn check_phone(s: &str) -> Result<String, Msg> {
    let cleaned: String = s
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-'))
        .collect();
    let domestic_len = match cleaned.strip_prefix("+84") {
        Some(rest) if rest.bytes().all(|b| b.is_ascii_digit()) => Some(rest.len() + 1),
        Some(_) => None,
        None if cleaned.bytes().all(|b| b.is_ascii_digit()) => Some(cleaned.len()),
        None => None,
    };
    match domestic_len {
        Some(9..=11) => Ok(cleaned),
        _ => Err(Msg::new(
            "Số điện thoại gồm 9 đến 11 chữ số, có thể bắt đầu bằng +84 hoặc 0.",
            "A phone number has 9 to 11 digits and may start with +84 or 0.",
        )),
    }
}

fn check_citizen_id(s: &str) -> Result<String, Msg> {
    let digits: String = s.chars().filter(|c| *c != ' ').collect();
    if digits.len() != 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Msg::new(
            "Số định danh cá nhân gồm đúng 12 chữ số.",
            "A citizen ID number has exactly 12 digits.",
        ));
    }
    // The first three digits are the province of birth registration, 001–096.
    let province: u32 = digits[..3].parse().unwrap_or(0);
    if !(1..=96).contains(&province) {
        return Err(Msg::new(
            "Ba chữ số đầu của số định danh cá nhân phải là mã tỉnh (001–096).",
            "The first three digits of a citizen ID number must be a province code (001–096).",
        ));
    }
    Ok(digits)
}

// ───── the file format of a field ─────

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawField {
    pub(super) name: String,
    kind: String,
    label: Bilingual,
    hint: Option<Bilingual>,
    /// Absent means required.
    required: Option<bool>,
    max_len: Option<usize>,
    min: Option<i64>,
    max: Option<i64>,
    options: Option<Vec<RawOption>>,
    accept: Option<Vec<String>>,
    max_bytes: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOption {
    value: String,
    vi: String,
    en: String,
}

impl RawField {
    pub(super) fn into_field(self) -> Result<Field, String> {
        self.check_attributes()?;
        if self.label.is_blank() || self.hint.as_ref().is_some_and(Bilingual::is_blank) {
            return Err("label and hint need both languages".into());
        }
        let kind = match self.kind.as_str() {
            "text" => text_kind(self.max_len.unwrap_or(200))?,
            "number" => number_kind(self.min, self.max)?,
            "date" => FieldKind::Date,
            "choice" => choice_kind(self.options.unwrap_or_default())?,
            "email" => FieldKind::Email,
            "phone" => FieldKind::Phone,
            "citizen_id" => FieldKind::CitizenId,
            "address" => FieldKind::Address,
            "file" => file_kind(self.accept, self.max_bytes)?,
            other => return Err(format!("unknown kind {other:?}")),
        };
        Ok(Field {
            name: self.name,
            label: self.label,
            hint: self.hint,
            kind,
            required: self.required.unwrap_or(true),
        })
    }

    /// Refuses settings that mean nothing for the kind, so a typo cannot go unnoticed.
    fn check_attributes(&self) -> Result<(), String> {
        let allowed: &[&str] = match self.kind.as_str() {
            "text" => &["max_len"],
            "number" => &["min", "max"],
            "choice" => &["options"],
            "file" => &["accept", "max_bytes"],
            _ => &[],
        };
        let present = [
            ("max_len", self.max_len.is_some()),
            ("min", self.min.is_some()),
            ("max", self.max.is_some()),
            ("options", self.options.is_some()),
            ("accept", self.accept.is_some()),
            ("max_bytes", self.max_bytes.is_some()),
        ];
        match present
            .iter()
            .find(|(attr, set)| *set && !allowed.contains(attr))
        {
            Some((attr, _)) => Err(format!("{attr} does not apply to kind {:?}", self.kind)),
            None => Ok(()),
        }
    }
}

fn text_kind(max_len: usize) -> Result<FieldKind, String> {
    if !(1..=2000).contains(&max_len) {
        return Err("max_len must be within 1..=2000".into());
    }
    Ok(FieldKind::Text { max_len })
}

fn number_kind(min: Option<i64>, max: Option<i64>) -> Result<FieldKind, String> {
    match (min, max) {
        (Some(min), Some(max)) if min <= max => Ok(FieldKind::Number { min, max }),
        (Some(_), Some(_)) => Err("min must not exceed max".into()),
        _ => Err("a number needs both min and max".into()),
    }
}

fn choice_kind(raw: Vec<RawOption>) -> Result<FieldKind, String> {
    if raw.len() < 2 {
        return Err("a choice needs at least 2 options".into());
    }
    let mut seen = HashSet::new();
    let mut options = Vec::new();
    for o in raw {
        let label = Bilingual { vi: o.vi, en: o.en };
        // Answers are trimmed before comparison, so a padded value could never be chosen.
        let usable = !o.value.is_empty() && o.value.trim() == o.value && !label.is_blank();
        if !usable || !seen.insert(o.value.clone()) {
            return Err(format!(
                "option {:?}: blank, padded, repeated or unlabelled",
                o.value
            ));
        }
        options.push(ChoiceOption {
            value: o.value,
            label,
        });
    }
    Ok(FieldKind::Choice { options })
}

fn file_kind(accept: Option<Vec<String>>, max_bytes: Option<u64>) -> Result<FieldKind, String> {
    let accept = accept.unwrap_or_else(|| MEDIA_TYPES.map(String::from).to_vec());
    if accept.is_empty() || accept.iter().any(|t| !MEDIA_TYPES.contains(&t.as_str())) {
        return Err(format!("accept must be a subset of {MEDIA_TYPES:?}"));
    }
    let max_bytes = max_bytes.unwrap_or(5 * 1024 * 1024);
    if max_bytes == 0 {
        return Err("max_bytes must be positive".into());
    }
    Ok(FieldKind::File { accept, max_bytes })
}
