//! A reorganisation plan (#18): the operator's TOML file, parsed into checked steps. What can
//! be told from the file alone is checked here; what needs the database is in `validate.rs`.
//! Every problem is listed at once, so the operator fixes the plan in one go.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

use crate::lang::Msg;
use crate::tenancy::Slug;
use crate::units::UnitCode;

/// A checked plan: an effective date and its steps. Unit steps come first (each acts inside
/// its province as it is, before a merge moves that province's units), then moves of units
/// between provinces and splits, then merges, then renames, each kind in the file's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub effective: NaiveDate,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Merge(Merge),
    Rename(Rename),
    RenameUnit(RenameUnit),
    MergeUnits(MergeUnits),
    MoveUnits(MoveUnits),
    Split(Split),
}

/// Units of province `from` move to province `to` (in service), with their staff, their
/// dossiers and queue; `from` goes on serving everything else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveUnits {
    pub from: Slug,
    pub to: Slug,
    pub units: Vec<UnitCode>,
}

/// A province becomes several: each part receives the units listed for it, by a move. A part
/// may be the province itself (it keeps those units) or a province in service, or a new one,
/// created as a merge creates a new successor. Every unit in force is listed once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub province: Slug,
    pub parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub into: Slug,
    /// A new part's name (required for a new part; a part in service keeps its own).
    pub name: Option<String>,
    /// The plan a new part leases (default: the split province's).
    pub plan: Option<String>,
    pub units: Vec<UnitCode>,
}

impl Split {
    /// The parts that receive units by a move (every part but the province itself).
    pub fn moves(&self) -> impl Iterator<Item = &Part> {
        self.parts.iter().filter(move |p| p.into != self.province)
    }
}

/// A unit of a province (a commune, ward, special zone or one of its own) changes its name;
/// its old name still finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenameUnit {
    pub province: Slug,
    pub unit: UnitCode,
    pub name: String,
}

/// Units of one province become one, `into` (a unit in force of that province, listed in
/// `from` or not): their staff, dossiers and queue move to it, they are retired, and their
/// names find it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeUnits {
    pub province: Slug,
    pub from: Vec<UnitCode>,
    pub into: UnitCode,
    /// The surviving unit's name from the effective date (unchanged when absent).
    pub name: Option<String>,
}

impl MergeUnits {
    /// The units that are retired (every `from` but the survivor).
    pub fn merged(&self) -> impl Iterator<Item = &UnitCode> {
        self.from.iter().filter(move |c| **c != self.into)
    }
}

/// Provinces `from` become one, `into`: one of them (the others move into it) or a new
/// province created for the purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merge {
    pub from: Vec<Slug>,
    pub into: Slug,
    /// The successor's name from the effective date (unchanged when absent).
    pub name: Option<String>,
    /// The plan a new successor leases (default: the first `from`'s).
    pub plan: Option<String>,
}

impl Merge {
    /// The provinces that stop being served (every `from` but the successor).
    pub fn merged(&self) -> impl Iterator<Item = &Slug> {
        self.from.iter().filter(move |s| **s != self.into)
    }

    /// Whether the successor is created by the step.
    pub fn into_is_new(&self) -> bool {
        !self.from.contains(&self.into)
    }
}

/// A province's display name changes; its old name still finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rename {
    pub slug: Slug,
    pub name: String,
}

impl Step {
    /// How problems and the preview name the step: `merge 1`, `rename 2` (1-based, per kind).
    pub fn label(&self, n: usize) -> String {
        match self {
            Step::Merge(m) => format!(
                "merge {n} ({} -> {})",
                m.from
                    .iter()
                    .map(Slug::as_str)
                    .collect::<Vec<_>>()
                    .join(", "),
                m.into.as_str()
            ),
            Step::Rename(r) => format!("rename {n} ({})", r.slug.as_str()),
            Step::RenameUnit(r) => format!("rename_unit {n} ({} {})", r.province, r.unit),
            Step::MergeUnits(m) => format!(
                "merge_units {n} ({}: {} -> {})",
                m.province,
                m.from
                    .iter()
                    .map(UnitCode::as_str)
                    .collect::<Vec<_>>()
                    .join(", "),
                m.into
            ),
            Step::MoveUnits(m) => format!("move_units {n} ({} -> {})", m.from, m.to),
            Step::Split(sp) => format!(
                "split {n} ({} -> {})",
                sp.province,
                sp.parts
                    .iter()
                    .map(|p| p.into.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// Every province the step merges, creates or renames (unit steps act inside a province
    /// and are checked unit by unit instead).
    pub fn provinces(&self) -> Vec<&Slug> {
        match self {
            Step::Merge(m) => {
                let mut all: Vec<&Slug> = m.from.iter().collect();
                if m.into_is_new() {
                    all.push(&m.into);
                }
                all
            }
            Step::Rename(r) => vec![&r.slug],
            Step::RenameUnit(_) | Step::MergeUnits(_) => Vec::new(),
            Step::MoveUnits(m) => vec![&m.from, &m.to],
            Step::Split(sp) => {
                let mut all = vec![&sp.province];
                for p in &sp.parts {
                    if !all.contains(&&p.into) {
                        all.push(&p.into);
                    }
                }
                all
            }
        }
    }

    /// Every (province, unit) the step renames, merges or merges into.
    pub fn units(&self) -> Vec<(&Slug, &UnitCode)> {
        match self {
            Step::RenameUnit(r) => vec![(&r.province, &r.unit)],
            Step::MergeUnits(m) => {
                let mut all: Vec<(&Slug, &UnitCode)> =
                    m.from.iter().map(|c| (&m.province, c)).collect();
                if !m.from.contains(&m.into) {
                    all.push((&m.province, &m.into));
                }
                all
            }
            Step::MoveUnits(m) => m.units.iter().map(|u| (&m.from, u)).collect(),
            Step::Split(sp) => sp
                .parts
                .iter()
                .flat_map(|p| p.units.iter().map(|u| (&sp.province, u)))
                .collect(),
            Step::Merge(_) | Step::Rename(_) => Vec::new(),
        }
    }
}

impl Plan {
    /// The steps with their labels, as problems and the preview show them.
    pub fn labelled(&self) -> Vec<(String, &Step)> {
        let mut seen = [0usize; 6];
        self.steps
            .iter()
            .map(|s| {
                let kind = match s {
                    Step::Merge(_) => 0,
                    Step::Rename(_) => 1,
                    Step::RenameUnit(_) => 2,
                    Step::MergeUnits(_) => 3,
                    Step::MoveUnits(_) => 4,
                    Step::Split(_) => 5,
                };
                seen[kind] += 1;
                (s.label(seen[kind]), s)
            })
            .collect()
    }
}

/// One thing wrong with a plan, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The step (`merge 1 (…)`), or `plan` for the file as a whole.
    pub at: String,
    pub msg: Msg,
}

impl Problem {
    pub fn new(at: &str, vi: String, en: String) -> Problem {
        Problem {
            at: at.to_string(),
            msg: Msg::owned(vi, en),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.at, self.msg.en)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlan {
    effective: toml::Value,
    #[serde(default)]
    merge: Vec<RawMerge>,
    #[serde(default)]
    rename: Vec<RawRename>,
    #[serde(default)]
    rename_unit: Vec<RawRenameUnit>,
    #[serde(default)]
    merge_units: Vec<RawMergeUnits>,
    #[serde(default)]
    move_units: Vec<RawMoveUnits>,
    #[serde(default)]
    split: Vec<RawSplit>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMoveUnits {
    from: String,
    to: String,
    units: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSplit {
    province: String,
    into: Vec<RawPart>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPart {
    province: String,
    name: Option<String>,
    plan: Option<String>,
    units: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRenameUnit {
    province: String,
    unit: String,
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMergeUnits {
    province: String,
    from: Vec<String>,
    into: String,
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMerge {
    from: Vec<String>,
    into: String,
    name: Option<String>,
    plan: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRename {
    slug: String,
    name: String,
}

/// `2025-07-01`, quoted or as a TOML date.
fn effective_date(v: &toml::Value) -> Option<NaiveDate> {
    let text = match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Datetime(d) if d.time.is_none() && d.offset.is_none() => d.to_string(),
        _ => return None,
    };
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

fn slug(at: &str, field: &str, raw: &str, problems: &mut Vec<Problem>) -> Option<Slug> {
    match Slug::parse(raw) {
        Ok(s) => Some(s),
        Err(m) => {
            problems.push(Problem::new(
                at,
                format!("{field} \"{raw}\": {}", m.vi),
                format!("{field} \"{raw}\": {}", m.en),
            ));
            None
        }
    }
}

fn name(at: &str, raw: &str, problems: &mut Vec<Problem>) -> Option<String> {
    let trimmed = raw.trim();
    match crate::tenancy::provision::tenant_name(trimmed) {
        Ok(()) => Some(trimmed.to_string()),
        Err(m) => {
            problems.push(Problem::new(
                at,
                format!("tên \"{raw}\": {}", m.vi),
                format!("name \"{raw}\": {}", m.en),
            ));
            None
        }
    }
}

fn unit_code(at: &str, field: &str, raw: &str, problems: &mut Vec<Problem>) -> Option<UnitCode> {
    match UnitCode::parse(raw) {
        Ok(c) => Some(c),
        Err(m) => {
            problems.push(Problem::new(
                at,
                format!("{field} \"{raw}\": {}", m.vi),
                format!("{field} \"{raw}\": {}", m.en),
            ));
            None
        }
    }
}

/// A unit's name: as the units table holds them (1 to 160 characters, trimmed).
fn unit_name(at: &str, raw: &str, problems: &mut Vec<Problem>) -> Option<String> {
    let trimmed = raw.trim();
    let n = trimmed.chars().count();
    if (1..=160).contains(&n) {
        Some(trimmed.to_string())
    } else {
        problems.push(Problem::new(
            at,
            format!("tên đơn vị \"{raw}\" phải có từ 1 đến 160 ký tự."),
            format!("unit name \"{raw}\" must have 1 to 160 characters."),
        ));
        None
    }
}

/// The unit steps of the file: shapes, codes and names; a unit named twice in a merge, and a
/// merge of a unit into itself.
fn unit_steps(raw: &RawPlan, problems: &mut Vec<Problem>) -> Vec<Step> {
    let mut steps = Vec::new();
    for (i, r) in raw.rename_unit.iter().enumerate() {
        let at = format!("rename_unit {} ({} {})", i + 1, r.province, r.unit);
        let p = slug(&at, "province", &r.province, problems);
        let u = unit_code(&at, "unit", &r.unit, problems);
        let n = unit_name(&at, &r.name, problems);
        if let (Some(province), Some(unit), Some(name)) = (p, u, n) {
            steps.push(Step::RenameUnit(RenameUnit {
                province,
                unit,
                name,
            }));
        }
    }
    for (i, m) in raw.merge_units.iter().enumerate() {
        let at = format!(
            "merge_units {} ({}: {} -> {})",
            i + 1,
            m.province,
            m.from.join(", "),
            m.into
        );
        let before = problems.len();
        let province = slug(&at, "province", &m.province, problems);
        let from: Vec<Option<UnitCode>> = m
            .from
            .iter()
            .map(|f| unit_code(&at, "from", f, problems))
            .collect();
        let into = unit_code(&at, "into", &m.into, problems);
        let name = m.name.as_deref().and_then(|n| unit_name(&at, n, problems));
        let mut seen = std::collections::BTreeSet::new();
        for f in &m.from {
            if !seen.insert(f.trim()) {
                problems.push(Problem::new(
                    &at,
                    format!("đơn vị {f} có hai lần trong from."),
                    format!("unit {f} is named twice in from."),
                ));
            }
        }
        if m.from.iter().all(|f| f.trim() == m.into.trim()) {
            problems.push(Problem::new(
                &at,
                format!("from phải có ít nhất một đơn vị khác {}.", m.into),
                format!("from must name at least one unit other than {}.", m.into),
            ));
        }
        if problems.len() == before
            && let (Some(province), Some(into), Some(from)) =
                (province, into, from.into_iter().collect::<Option<Vec<_>>>())
        {
            steps.push(Step::MergeUnits(MergeUnits {
                province,
                from,
                into,
                name,
            }));
        }
    }
    steps
}

/// Unit codes of a list, each parsed; a code listed twice is a problem (`seen` spans the
/// list, or every part of a split).
fn unit_list<'a>(
    at: &str,
    field: &str,
    raw: &'a [String],
    seen: &mut std::collections::BTreeSet<&'a str>,
    problems: &mut Vec<Problem>,
) -> Vec<Option<UnitCode>> {
    let mut out = Vec::new();
    if raw.is_empty() {
        problems.push(Problem::new(
            at,
            format!("{field} không có đơn vị nào."),
            format!("{field} names no unit."),
        ));
    }
    for u in raw {
        if !seen.insert(u.trim()) {
            problems.push(Problem::new(
                at,
                format!("đơn vị {u} được liệt kê hai lần."),
                format!("unit {u} is listed twice."),
            ));
        }
        out.push(unit_code(at, field, u, problems));
    }
    out
}

/// The `move_units` and `split` steps of the file: shapes, codes, a unit listed twice, a move
/// to the province the units are in, a split into nothing but itself.
fn move_steps(raw: &RawPlan, problems: &mut Vec<Problem>) -> Vec<Step> {
    let mut steps = Vec::new();
    for (i, m) in raw.move_units.iter().enumerate() {
        let at = format!("move_units {} ({} -> {})", i + 1, m.from, m.to);
        let from = slug(&at, "from", &m.from, problems);
        let to = slug(&at, "to", &m.to, problems);
        let units = unit_list(&at, "units", &m.units, &mut Default::default(), problems);
        if m.from.trim() == m.to.trim() {
            problems.push(Problem::new(
                &at,
                format!("các đơn vị đã ở {}: from và to phải khác nhau.", m.to),
                format!(
                    "the units are in {} already: from and to must differ.",
                    m.to
                ),
            ));
        }
        // Kept (a unit listed twice once) when it can be checked against the database, so
        // that the units unknown there are listed with the file's problems.
        if let (Some(from), Some(to), Some(units)) =
            (from, to, units.into_iter().collect::<Option<Vec<_>>>())
            && from != to
            && !units.is_empty()
        {
            let mut unique: Vec<UnitCode> = Vec::new();
            for u in units {
                if !unique.contains(&u) {
                    unique.push(u);
                }
            }
            steps.push(Step::MoveUnits(MoveUnits {
                from,
                to,
                units: unique,
            }));
        }
    }
    for (i, sp) in raw.split.iter().enumerate() {
        let at = format!(
            "split {} ({} -> {})",
            i + 1,
            sp.province,
            sp.into
                .iter()
                .map(|p| p.province.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let before = problems.len();
        let province = slug(&at, "province", &sp.province, problems);
        let mut seen_units = std::collections::BTreeSet::new();
        let mut seen_parts = std::collections::BTreeSet::new();
        let mut parts = Vec::new();
        for p in &sp.into {
            if !seen_parts.insert(p.province.trim()) {
                problems.push(Problem::new(
                    &at,
                    format!("{} có hai lần trong into.", p.province),
                    format!("{} is named twice in into.", p.province),
                ));
            }
            let into = slug(&at, "into", &p.province, problems);
            let name = p.name.as_deref().and_then(|n| name(&at, n, problems));
            if let Some(plan) = &p.plan
                && Slug::parse(plan).is_err()
            {
                problems.push(Problem::new(
                    &at,
                    format!("mã gói \"{plan}\" không hợp lệ."),
                    format!("plan \"{plan}\" is not a valid plan code."),
                ));
            }
            let units = unit_list(&at, "units", &p.units, &mut seen_units, problems);
            if let (Some(into), Some(units)) = (into, units.into_iter().collect::<Option<Vec<_>>>())
            {
                parts.push(Part {
                    into,
                    name,
                    plan: p.plan.clone(),
                    units,
                });
            }
        }
        if sp
            .into
            .iter()
            .all(|p| p.province.trim() == sp.province.trim())
        {
            problems.push(Problem::new(
                &at,
                format!("{} phải được chia cho ít nhất một tỉnh khác.", sp.province),
                format!(
                    "{} must be split into at least one other province.",
                    sp.province
                ),
            ));
        }
        if problems.len() == before
            && let Some(province) = province
        {
            steps.push(Step::Split(Split { province, parts }));
        }
    }
    steps
}

/// Parses and checks a plan file: its shape, dates, slugs and names, merges into themselves,
/// a province named twice in one merge, and a province in two steps. All problems at once.
pub fn parse(text: &str) -> Result<Plan, Vec<Problem>> {
    match parse_partly(text)? {
        (plan, problems) if problems.is_empty() => Ok(plan),
        (_, problems) => Err(problems),
    }
}

/// [`parse`] that also returns the steps that did parse, so the database's problems with
/// them can be listed with the file's (Err only when the file cannot be read as a plan).
pub fn parse_partly(text: &str) -> Result<(Plan, Vec<Problem>), Vec<Problem>> {
    let raw: RawPlan = toml::from_str(text).map_err(|e| {
        let why = e.message().to_string();
        vec![Problem::new(
            "plan",
            format!("tệp kế hoạch không đọc được: {why}"),
            format!("the plan file cannot be read: {why}"),
        )]
    })?;
    let mut problems = Vec::new();
    let effective = effective_date(&raw.effective);
    if effective.is_none() {
        problems.push(Problem::new(
            "plan",
            "effective phải là một ngày dạng YYYY-MM-DD.".into(),
            "effective must be a date, YYYY-MM-DD.".into(),
        ));
    }
    // Billing closes and the index counts by calendar month: a reorganisation that took
    // effect mid-month would split a month between two provinces' figures.
    if let Some(day) = effective
        && day.day() != 1
    {
        problems.push(Problem::new(
            "plan",
            format!("ngày hiệu lực {day} phải là ngày đầu tháng."),
            format!("effective date {day} must be the first day of a month."),
        ));
    }
    if raw.merge.is_empty()
        && raw.rename.is_empty()
        && raw.rename_unit.is_empty()
        && raw.merge_units.is_empty()
        && raw.move_units.is_empty()
        && raw.split.is_empty()
    {
        problems.push(Problem::new(
            "plan",
            "kế hoạch không có bước nào.".into(),
            "the plan has no steps.".into(),
        ));
    }
    let mut steps = unit_steps(&raw, &mut problems);
    steps.extend(move_steps(&raw, &mut problems));
    for (i, m) in raw.merge.iter().enumerate() {
        let at = format!("merge {} ({} -> {})", i + 1, m.from.join(", "), m.into);
        let before = problems.len();
        let from: Vec<Option<Slug>> = m
            .from
            .iter()
            .map(|f| slug(&at, "from", f, &mut problems))
            .collect();
        let into = slug(&at, "into", &m.into, &mut problems);
        let new_name = m.name.as_deref().and_then(|n| name(&at, n, &mut problems));
        if let Some(plan) = &m.plan
            && Slug::parse(plan).is_err()
        {
            problems.push(Problem::new(
                &at,
                format!("mã gói \"{plan}\" không hợp lệ."),
                format!("plan \"{plan}\" is not a valid plan code."),
            ));
        }
        if m.from.is_empty() {
            problems.push(Problem::new(
                &at,
                "from không có tỉnh nào.".into(),
                "from names no province.".into(),
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for f in &m.from {
            if !seen.insert(f.as_str()) {
                problems.push(Problem::new(
                    &at,
                    format!("{f} có hai lần trong from."),
                    format!("{f} is named twice in from."),
                ));
            }
        }
        if !m.from.is_empty() && m.from.iter().all(|f| *f == m.into) {
            problems.push(Problem::new(
                &at,
                format!("không thể sáp nhập {} vào chính nó.", m.into),
                format!("{} cannot be merged into itself.", m.into),
            ));
        }
        if problems.len() == before
            && let (Some(into), Some(from)) = (into, from.into_iter().collect::<Option<Vec<_>>>())
        {
            steps.push(Step::Merge(Merge {
                from,
                into,
                name: new_name,
                plan: m.plan.clone(),
            }));
        }
    }
    for (i, r) in raw.rename.iter().enumerate() {
        let at = format!("rename {} ({})", i + 1, r.slug);
        let s = slug(&at, "slug", &r.slug, &mut problems);
        let n = name(&at, &r.name, &mut problems);
        if let (Some(slug), Some(name)) = (s, n) {
            steps.push(Step::Rename(Rename { slug, name }));
        }
    }
    let plan_steps = Plan {
        // An unreadable date (reported above) stands as the latest date there is, which no
        // check against billing finds a problem with: one problem, not a second made up.
        effective: effective.unwrap_or(NaiveDate::MAX),
        steps,
    };
    // A province in two steps: the second would act on what the first left, which the
    // preview could not show truthfully; the operator writes it as one step.
    let mut owner: BTreeMap<&str, String> = BTreeMap::new();
    for (label, step) in plan_steps.labelled() {
        for p in step.provinces() {
            match owner.get(p.as_str()) {
                Some(first) if *first != label => problems.push(Problem::new(
                    &label,
                    format!("{p} đã có trong bước {first}: mỗi tỉnh chỉ ở một bước."),
                    format!("{p} is already in {first}: a province may be in one step only."),
                )),
                Some(_) => {}
                None => {
                    owner.insert(p.as_str(), label.clone());
                }
            }
        }
    }
    // A unit in two unit steps: the same reason, unit by unit.
    let mut unit_owner: BTreeMap<(&str, &str), String> = BTreeMap::new();
    for (label, step) in plan_steps.labelled() {
        for (p, u) in step.units() {
            match unit_owner.get(&(p.as_str(), u.as_str())) {
                Some(first) if *first != label => problems.push(Problem::new(
                    &label,
                    format!(
                        "đơn vị {u} của {p} đã có trong bước {first}: mỗi đơn vị chỉ ở một bước."
                    ),
                    format!(
                        "unit {u} of {p} is already in {first}: a unit may be in one step only."
                    ),
                )),
                Some(_) => {}
                None => {
                    unit_owner.insert((p.as_str(), u.as_str()), label.clone());
                }
            }
        }
    }
    Ok((plan_steps, problems))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONTRACT: &str = r#"
effective = "2025-07-01"
[[merge]]
from = ["bac-giang", "bac-ninh"]
into = "bac-ninh"
name = "Bắc Ninh"
[[rename]]
slug = "hue"
name = "Thành phố Huế"
"#;

    #[test]
    fn the_contracts_example_parses() {
        let plan = parse(CONTRACT).unwrap();
        assert_eq!(plan.effective, NaiveDate::from_ymd_opt(2025, 7, 1).unwrap());
        assert_eq!(plan.steps.len(), 2);
        let Step::Merge(m) = &plan.steps[0] else {
            panic!("merge first")
        };
        assert_eq!(
            m.merged().map(Slug::as_str).collect::<Vec<_>>(),
            ["bac-giang"]
        );
        assert!(!m.into_is_new());
        assert_eq!(m.name.as_deref(), Some("Bắc Ninh"));
    }

    #[test]
    fn every_problem_of_a_bad_plan_is_listed_at_once() {
        let bad = r#"
effective = "2025-13-01"
[[merge]]
from = ["hue", "hue"]
into = "hue"
[[merge]]
from = ["Bad Slug", "bac-ninh"]
into = "bac-ninh"
[[rename]]
slug = "bac-ninh"
name = ""
"#;
        let problems = parse(bad).unwrap_err();
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        let all = text.join("\n");
        assert!(all.contains("effective must be a date"), "{all}");
        assert!(all.contains("hue is named twice"), "{all}");
        assert!(all.contains("hue cannot be merged into itself"), "{all}");
        assert!(all.contains("from \"Bad Slug\""), "{all}");
        assert!(all.contains("rename 1 (bac-ninh): name"), "{all}");
        assert_eq!(problems.len(), 5, "{all}");
    }

    #[test]
    fn a_province_in_two_steps_is_refused() {
        let plan = r#"
effective = 2025-07-01
[[merge]]
from = ["a-b", "c-d"]
into = "c-d"
[[merge]]
from = ["c-d", "e-f"]
into = "new-one"
[[rename]]
slug = "a-b"
name = "A B"
"#;
        let problems = parse(plan).unwrap_err();
        let all: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(problems.len(), 2, "{all:?}");
        assert!(all[0].starts_with("merge 2"), "{all:?}");
        assert!(all[0].contains("c-d is already in merge 1"), "{all:?}");
        assert!(all[1].starts_with("rename 1"), "{all:?}");
    }

    #[test]
    fn moves_and_splits_parse_and_their_file_problems_are_listed() {
        let plan = parse(
            r#"
effective = "2025-07-01"
[[move_units]]
from = "ha-noi"
to = "bac-ninh"
units = ["00004", "00008"]
[[split]]
province = "quang-nam"
[[split.into]]
province = "quang-nam"
units = ["20194"]
[[split.into]]
province = "quang-nam-tay"
name = "Tỉnh Quảng Nam Tây"
units = ["20200", "SO-TP"]
"#,
        )
        .unwrap();
        let labels: Vec<String> = plan.labelled().into_iter().map(|(l, _)| l).collect();
        assert_eq!(
            labels,
            [
                "move_units 1 (ha-noi -> bac-ninh)",
                "split 1 (quang-nam -> quang-nam, quang-nam-tay)"
            ]
        );
        let Step::Split(sp) = &plan.steps[1] else {
            panic!("split second")
        };
        assert_eq!(sp.moves().count(), 1);

        let bad = r#"
effective = "2025-07-01"
[[move_units]]
from = "ha-noi"
to = "ha-noi"
units = ["00004", "00004"]
[[split]]
province = "hue"
[[split.into]]
province = "hue"
units = ["19999", "bad code"]
[[split.into]]
province = "hue"
units = ["19999"]
"#;
        let problems = parse(bad).unwrap_err();
        let all: Vec<String> = problems.iter().map(ToString::to_string).collect();
        for needle in [
            "move_units 1 (ha-noi -> ha-noi): unit 00004 is listed twice",
            "move_units 1 (ha-noi -> ha-noi): the units are in ha-noi already",
            "split 1 (hue -> hue, hue): hue is named twice in into",
            "split 1 (hue -> hue, hue): unit 19999 is listed twice",
            "split 1 (hue -> hue, hue): units \"bad code\"",
            "split 1 (hue -> hue, hue): hue must be split into at least one other province",
        ] {
            assert!(
                all.iter().any(|p| p.starts_with(needle)),
                "{needle}: {all:#?}"
            );
        }
        assert_eq!(problems.len(), 6, "{all:#?}");
    }

    #[test]
    fn unknown_keys_and_an_empty_plan_are_refused() {
        assert!(parse("effective = \"2025-07-01\"\n[[split]]\nfrom = \"x\"\n").is_err());
        let empty = parse("effective = \"2025-07-01\"\n").unwrap_err();
        assert!(empty[0].to_string().contains("no steps"));
    }
}
