//! The national procedure catalog: compiled in from `catalog/procedures.toml`, checked once,
//! then shared read-only by every province (a province only enables or disables entries).

mod form;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::lang::Lang;

pub use form::{ChoiceOption, Field, FieldKind};

/// The same text in Vietnamese and English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Bilingual {
    pub vi: String,
    pub en: String,
}

impl Bilingual {
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Vi => &self.vi,
            Lang::En => &self.en,
        }
    }

    fn is_blank(&self) -> bool {
        self.vi.trim().is_empty() || self.en.trim().is_empty()
    }
}

/// One administrative procedure a citizen can file online.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Procedure {
    pub code: String,
    pub name: Bilingual,
    pub group: Bilingual,
    /// 4 = wholly online (toàn trình), 3 = partly online (một phần).
    pub level: u8,
    /// The assurance level of the national sign-in a citizen needs to file it online (#17.2):
    /// 1 (a password or VNeID level 1) or 2 (VNeID level 2).
    pub assurance_level: u8,
    pub fee_vnd: i64,
    /// Legal processing time, in working days.
    pub processing_days: u32,
    pub agency: Bilingual,
    /// Which level decides it since the 2025 reform.
    pub decided_at: DecisionLevel,
    pub documents: Vec<Bilingual>,
    pub fields: Vec<Field>,
    /// True when the fee or time is our estimate rather than a cited figure.
    pub placeholder: bool,
    /// The legal document the fee is collected under, printed on its e-receipt (`None`: the
    /// receipt cites the Law on Fees and Charges).
    pub fee_basis: Option<String>,
}

/// The level that decides a procedure: the commune the citizen names (commune, ward, special
/// zone), or a unit of the province (a department, or the provincial centre for procedures
/// decided above the province) that the province maps it to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionLevel {
    Commune,
    Department,
    Province,
}

impl DecisionLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionLevel::Commune => "commune",
            DecisionLevel::Department => "department",
            DecisionLevel::Province => "province",
        }
    }

    pub fn label(self) -> crate::lang::Msg {
        use crate::lang::Msg;
        match self {
            DecisionLevel::Commune => Msg::new("Cấp xã", "Commune level"),
            DecisionLevel::Department => Msg::new("Cấp sở, ngành", "Department level"),
            DecisionLevel::Province => Msg::new("Cấp tỉnh", "Province level"),
        }
    }
}

/// Every procedure, in file order, and the groups they are shown under.
#[derive(Debug, Clone)]
pub struct Catalog {
    procedures: Vec<Procedure>,
    groups: Vec<Bilingual>,
}

impl Catalog {
    pub fn all(&self) -> &[Procedure] {
        &self.procedures
    }

    pub fn get(&self, code: &str) -> Option<&Procedure> {
        self.procedures.iter().find(|p| p.code == code)
    }

    /// Non-empty groups in the order the file declares them, each with its procedures.
    pub fn groups(&self) -> Vec<(&Bilingual, Vec<&Procedure>)> {
        self.groups
            .iter()
            .map(|g| {
                (
                    g,
                    self.procedures.iter().filter(|p| &p.group == g).collect(),
                )
            })
            .filter(|(_, procs): &(_, Vec<_>)| !procs.is_empty())
            .collect()
    }

    /// Procedures whose code or name (either language) contains every word of `query`,
    /// ignoring case and Vietnamese diacritics. Matches in `lang`'s name or the code come first,
    /// so an English visitor sees English hits before ones found only in the Vietnamese name.
    /// An empty query returns everything.
    pub fn search(&self, query: &str, lang: Lang) -> Vec<&Procedure> {
        let folded = fold_vietnamese(query);
        let words: Vec<&str> = folded.split_whitespace().collect();
        let matches = |text: &str| {
            let text = fold_vietnamese(text);
            words.iter().all(|w| text.contains(w))
        };
        let other = match lang {
            Lang::Vi => Lang::En,
            Lang::En => Lang::Vi,
        };
        let (mut first, mut second) = (Vec::new(), Vec::new());
        for p in &self.procedures {
            if matches(&p.code) || matches(p.name.get(lang)) {
                first.push(p);
            } else if matches(p.name.get(other)) {
                second.push(p);
            }
        }
        first.extend(second);
        first
    }
}

/// The catalog compiled into this binary.
pub fn national() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        // A unit test parses the same file, so this can only fire on a build that skipped it.
        parse(include_str!("../../catalog/procedures.toml"))
            .unwrap_or_else(|e| panic!("catalog/procedures.toml is invalid:\n{e}"))
    })
}

/// Lower-cases and strips Vietnamese diacritics (đ → d), precomposed or combining, so that
/// "doi giay phep" matches "Đổi giấy phép".
pub fn fold_vietnamese(text: &str) -> String {
    const BASES: [(char, &str); 7] = [
        ('a', "àáảãạăằắẳẵặâầấẩẫậ"),
        ('e', "èéẻẽẹêềếểễệ"),
        ('i', "ìíỉĩị"),
        ('o', "òóỏõọôồốổỗộơờớởỡợ"),
        ('u', "ùúủũụưừứửữự"),
        ('y', "ỳýỷỹỵ"),
        ('d', "đ"),
    ];
    text.chars()
        .flat_map(char::to_lowercase)
        // Decomposed input (some keyboards, copy-paste from PDFs) carries the marks separately.
        .filter(|c| !('\u{0300}'..='\u{036f}').contains(c))
        .map(|c| {
            BASES
                .iter()
                .find(|(_, marked)| marked.contains(c))
                .map_or(c, |(base, _)| *base)
        })
        .collect()
}

// ───── the file format: raw shapes, then checks that turn them into the public types ─────

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    group: Vec<RawGroup>,
    procedure: Vec<RawProcedure>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    key: String,
    vi: String,
    en: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProcedure {
    code: String,
    name: Bilingual,
    group: String,
    level: u8,
    #[serde(default = "level_one")]
    assurance_level: u8,
    fee_vnd: i64,
    processing_days: u32,
    agency: Bilingual,
    decided_at: DecisionLevel,
    #[serde(default)]
    documents: Vec<Bilingual>,
    #[serde(default)]
    placeholder: bool,
    /// Where a non-placeholder figure comes from; kept in the file for reviewers only.
    basis: Option<String>,
    /// The fee's legal basis as printed on the e-receipt.
    fee_basis: Option<String>,
    #[serde(default)]
    field: Vec<form::RawField>,
}

fn level_one() -> u8 {
    1
}

/// Parses and checks a catalog file; the error lists every problem found, one per line.
pub fn parse(toml_text: &str) -> Result<Catalog, String> {
    let raw: RawCatalog = toml::from_str(toml_text).map_err(|e| e.to_string())?;
    let mut errors = Vec::new();

    let mut group_keys = HashSet::new();
    for g in &raw.group {
        if !group_keys.insert(g.key.as_str()) {
            errors.push(format!("group {:?} is declared twice", g.key));
        }
    }

    let mut codes = HashSet::new();
    let mut procedures = Vec::new();
    for p in raw.procedure {
        if !codes.insert(p.code.clone()) {
            errors.push(format!("{}: the code is used twice", p.code));
        }
        let code = p.code.clone();
        match convert_procedure(p, &raw.group) {
            Ok(procedure) => procedures.push(procedure),
            Err(problems) => errors.extend(problems.into_iter().map(|e| format!("{code}: {e}"))),
        }
    }

    if !errors.is_empty() {
        return Err(errors.join("\n"));
    }
    let groups = raw
        .group
        .into_iter()
        .map(|g| Bilingual { vi: g.vi, en: g.en })
        .collect();
    Ok(Catalog { procedures, groups })
}

fn convert_procedure(p: RawProcedure, groups: &[RawGroup]) -> Result<Procedure, Vec<String>> {
    let mut errors = Vec::new();
    if !is_valid_code(&p.code) {
        errors.push("the code must look like ABC-123 (2–4 capitals, a dash, 3 digits)".into());
    }
    if !matches!(p.level, 3 | 4) {
        errors.push(format!("level must be 3 or 4, not {}", p.level));
    }
    if !matches!(p.assurance_level, 1 | 2) {
        errors.push(format!(
            "assurance_level must be 1 or 2, not {}",
            p.assurance_level
        ));
    }
    if p.fee_vnd < 0 {
        errors.push("fee_vnd cannot be negative".into());
    }
    if p.processing_days < 1 {
        errors.push("processing_days must be at least 1".into());
    }
    if !p.placeholder && p.basis.as_deref().is_none_or(|b| b.trim().is_empty()) {
        errors.push("an entry that is not a placeholder must name its basis".into());
    }
    let blank_text = [&p.name, &p.agency]
        .into_iter()
        .chain(&p.documents)
        .any(Bilingual::is_blank);
    if blank_text {
        errors.push("a name, agency or document is blank in one language".into());
    }
    let group = groups.iter().find(|g| g.key == p.group);
    if group.is_none() {
        errors.push(format!("unknown group {:?}", p.group));
    }
    let fields = convert_form(p.field).unwrap_or_else(|problems| {
        errors.extend(problems);
        Vec::new()
    });

    match group {
        Some(g) if errors.is_empty() => Ok(Procedure {
            code: p.code,
            name: p.name,
            group: Bilingual {
                vi: g.vi.clone(),
                en: g.en.clone(),
            },
            level: p.level,
            assurance_level: p.assurance_level,
            fee_vnd: p.fee_vnd,
            processing_days: p.processing_days,
            agency: p.agency,
            decided_at: p.decided_at,
            documents: p.documents,
            fields,
            placeholder: p.placeholder,
            fee_basis: p.fee_basis.filter(|b| !b.trim().is_empty()),
        }),
        _ => Err(errors),
    }
}

/// Checks a whole form: the applicant comes first, names are unique and well formed.
fn convert_form(raw: Vec<form::RawField>) -> Result<Vec<Field>, Vec<String>> {
    let mut errors = Vec::new();
    let mut names = HashSet::new();
    let mut fields = Vec::new();
    for r in raw {
        if !is_valid_field_name(&r.name) {
            errors.push(format!(
                "field {:?}: names are lower-case snake_case, at most 40 characters",
                r.name
            ));
        }
        if !names.insert(r.name.clone()) {
            errors.push(format!("field {:?} appears twice", r.name));
        }
        let name = r.name.clone();
        match r.into_field() {
            Ok(f) => fields.push(f),
            Err(e) => errors.push(format!("field {name:?}: {e}")),
        }
    }
    if errors.is_empty() && !starts_with_applicant(&fields) {
        errors.push(
            "a form starts with full_name (text) then id_number (citizen_id), both required".into(),
        );
    }
    if errors.is_empty() {
        Ok(fields)
    } else {
        Err(errors)
    }
}

fn starts_with_applicant(fields: &[Field]) -> bool {
    match fields {
        [name, id, ..] => {
            name.name == "full_name"
                && matches!(name.kind, FieldKind::Text { .. })
                && name.required
                && id.name == "id_number"
                && id.kind == FieldKind::CitizenId
                && id.required
        }
        _ => false,
    }
}

/// `^[a-z][a-z0-9_]{0,39}$`
fn is_valid_field_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && name.len() <= 40
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// `^[A-Z]{2,4}-[0-9]{3}$`
fn is_valid_code(code: &str) -> bool {
    let Some((letters, digits)) = code.split_once('-') else {
        return false;
    };
    (2..=4).contains(&letters.len())
        && letters.bytes().all(|b| b.is_ascii_uppercase())
        && digits.len() == 3
        && digits.bytes().all(|b| b.is_ascii_digit())
}
