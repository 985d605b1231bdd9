//! Declarative provinces: `tenants/*.toml` read and checked, and compared with the database;
//! `portal tenants apply` (`app::manifests`) applies the differences idempotently.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::branding::{self, Branding, BrandingInput};
use super::provision::NewTenant;
use super::store;
use crate::db::Db;
use crate::error::AppError;
use crate::units::sync::{UnitChange, UnitsSpec};
use crate::units::{self, Unit, UnitCode, UnitKind};

/// One file in `tenants/`, as written.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct ManifestFile {
    slug: String,
    name: String,
    #[serde(default = "default_plan")]
    plan: String,
    #[serde(default)]
    domains: Vec<String>,
    /// Tracking-code prefix, 2–4 capital letters (official abbreviation, e.g. HNI).
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    branding: Option<BrandingInput>,
    /// The two-digit national code: the province's communes come from the national list.
    #[serde(skip_serializing_if = "Option::is_none")]
    province_code: Option<String>,
    /// The province's departments, centre and branches.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    units: Vec<UnitFile>,
    /// Procedure code → the code of the unit that decides it.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    procedure_units: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct UnitFile {
    code: String,
    name: String,
    kind: String,
    /// Whether citizens hand dossiers in there (default: yes, except a department).
    #[serde(skip_serializing_if = "Option::is_none")]
    receives: Option<bool>,
}

fn default_plan() -> String {
    "standard".into()
}

/// A manifest that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub path: PathBuf,
    pub tenant: NewTenant,
    pub units: UnitsSpec,
}

impl Manifest {
    /// The manifest as a file would say it, normalised (trimmed name, lower-case sorted
    /// domains, the whole branding): parsing it gives this manifest back.
    pub fn to_toml(&self) -> String {
        let t = &self.tenant;
        let file = ManifestFile {
            slug: t.slug.to_string(),
            name: t.name.clone(),
            plan: t.plan.clone(),
            domains: t.custom_domains.clone(),
            code: t.code.clone(),
            branding: Some(t.branding.to_input()),
            province_code: self.units.province_code.clone(),
            units: self
                .units
                .own
                .iter()
                .map(|u| UnitFile {
                    code: u.code.to_string(),
                    name: u.name.clone(),
                    kind: u.kind.as_str().into(),
                    receives: Some(u.receives),
                })
                .collect(),
            procedure_units: self
                .units
                .procedure_units
                .iter()
                .map(|(p, u)| (p.clone(), u.to_string()))
                .collect(),
        };
        toml::to_string(&file).expect("a manifest of strings always serialises")
    }
}

/// Reads a manifest file or every `*.toml` in a folder. Errors name the file and the field.
pub fn load(path: &Path, base_domain: &str) -> Result<Vec<Manifest>, Vec<String>> {
    let files = if path.is_dir() {
        let entries =
            std::fs::read_dir(path).map_err(|e| vec![format!("{}: {e}", path.display())])?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        files
    } else {
        vec![path.to_path_buf()]
    };
    let mut manifests = Vec::new();
    let mut errors = Vec::new();
    for file in files {
        match parse_file(&file, base_domain) {
            Ok(m) => manifests.push(m),
            Err(e) => errors.extend(e),
        }
    }
    let mut seen = std::collections::HashMap::new();
    for m in &manifests {
        if let Some(first) = seen.insert(m.tenant.slug.to_string(), m.path.clone()) {
            errors.push(format!(
                "{}: slug: `{}` is also declared in {}",
                m.path.display(),
                m.tenant.slug,
                first.display()
            ));
        }
    }
    if errors.is_empty() {
        Ok(manifests)
    } else {
        Err(errors)
    }
}

pub fn parse_file(file: &Path, base_domain: &str) -> Result<Manifest, Vec<String>> {
    let shown = file.display();
    let text = std::fs::read_to_string(file).map_err(|e| vec![format!("{shown}: {e}")])?;
    parse_str(&text, file, base_domain)
}

pub fn parse_str(text: &str, file: &Path, base_domain: &str) -> Result<Manifest, Vec<String>> {
    let shown = file.display();
    let raw: ManifestFile = toml::from_str(text).map_err(|e| {
        vec![format!(
            "{shown}: {}",
            e.to_string().trim().replace('\n', " ")
        )]
    })?;
    let mut errors = Vec::new();
    let tenant = NewTenant::parse(&raw.slug, &raw.name, &raw.plan, &raw.domains, base_domain);
    let tenant = tenant
        .map_err(|fields| {
            for (field, msg) in fields {
                errors.push(format!("{shown}: {field}: {}", msg.en));
            }
        })
        .ok();
    let branding = match &raw.branding {
        None => None,
        Some(input) => Branding::parse(input)
            .map_err(|fields| {
                for (field, msg) in fields {
                    errors.push(format!("{shown}: branding.{field}: {}", msg.en));
                }
            })
            .ok(),
    };
    if let Some(code) = &raw.code
        && !super::valid_code(code)
    {
        errors.push(format!(
            "{shown}: code: must be 2 to 4 capital letters, e.g. HNI"
        ));
    }
    let units = parse_units(&raw, &mut |e| errors.push(format!("{shown}: {e}")));
    match tenant {
        Some(mut tenant) if errors.is_empty() => {
            if let Some(b) = branding {
                tenant.branding = b;
            }
            tenant.code = raw.code.clone();
            Ok(Manifest {
                path: file.to_path_buf(),
                tenant,
                units,
            })
        }
        _ => Err(errors),
    }
}

/// The manifest's units, every problem reported.
fn parse_units(raw: &ManifestFile, report: &mut dyn FnMut(String)) -> UnitsSpec {
    let mut spec = UnitsSpec {
        province_code: raw.province_code.clone(),
        ..UnitsSpec::default()
    };
    for (i, u) in raw.units.iter().enumerate() {
        let code =
            UnitCode::parse(&u.code).map_err(|m| report(format!("units[{i}].code: {}", m.en)));
        let kind = UnitKind::parse(&u.kind).ok_or_else(|| {
            report(format!(
                "units[{i}].kind: must be department, centre or branch, not {:?}",
                u.kind
            ))
        });
        let name = u.name.trim();
        if name.is_empty() || name.chars().count() > 160 {
            report(format!("units[{i}].name: 1 to 160 characters"));
        }
        if let (Ok(code), Ok(kind)) = (code, kind) {
            spec.own.push(Unit {
                code,
                name: name.to_string(),
                kind,
                receives: u.receives.unwrap_or(kind.receives_by_default()),
                retired: false,
            });
        }
    }
    for (procedure, unit) in &raw.procedure_units {
        match UnitCode::parse(unit) {
            Ok(code) => {
                spec.procedure_units.insert(procedure.clone(), code);
            }
            Err(m) => report(format!("procedure_units.{procedure}: {}", m.en)),
        }
    }
    for e in units::sync::check(&spec) {
        report(e);
    }
    spec
}

/// One difference between a manifest and the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Create,
    Name { from: String, to: String },
    Plan { from: String, to: String },
    Code { from: String, to: String },
    AddDomain(String),
    RemoveDomain(String),
    Branding,
    ProvinceCode { from: Option<String>, to: String },
    Unit(UnitChange),
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Create => write!(f, "create"),
            Change::Name { from, to } => write!(f, "name {from:?} -> {to:?}"),
            Change::Plan { from, to } => write!(f, "plan {from} -> {to}"),
            Change::Code { from, to } => write!(f, "code {from} -> {to}"),
            Change::AddDomain(h) => write!(f, "add domain {h}"),
            Change::RemoveDomain(h) => write!(f, "remove domain {h}"),
            Change::Branding => write!(f, "update branding"),
            Change::ProvinceCode { from, to } => {
                write!(
                    f,
                    "national province code {} -> {to}",
                    from.as_deref().unwrap_or("none")
                )
            }
            Change::Unit(c) => c.fmt(f),
        }
    }
}

/// What must change for the database to say what the manifest says: `[Create, …]` for a
/// province that does not exist. `app::manifests::apply` makes the changes.
pub fn diff(db: &Db, m: &Manifest) -> Result<Vec<Change>, AppError> {
    let want = &m.tenant;
    let found = db.control(|conn| {
        let Some(t) = store::find_by_slug(conn, want.slug.as_str())? else {
            return Ok(None);
        };
        let domains = store::custom_domains(conn, t.id)?;
        Ok(Some((t, domains)))
    })?;
    let Some((have, have_domains)) = found else {
        // A new province: created, then its units as a fresh schema would need them.
        let mut changes = vec![Change::Create];
        changes.extend(new_province_units(&m.units));
        return Ok(changes);
    };
    let mut changes = Vec::new();
    if have.name != want.name {
        changes.push(Change::Name {
            from: have.name.clone(),
            to: want.name.clone(),
        });
    }
    if have.plan != want.plan {
        changes.push(Change::Plan {
            from: have.plan.clone(),
            to: want.plan.clone(),
        });
    }
    if let Some(code) = &want.code
        && code != &have.code
    {
        changes.push(Change::Code {
            from: have.code.clone(),
            to: code.clone(),
        });
    }
    for h in &want.custom_domains {
        if !have_domains.contains(h) {
            changes.push(Change::AddDomain(h.clone()));
        }
    }
    for h in &have_domains {
        if !want.custom_domains.contains(h) {
            changes.push(Change::RemoveDomain(h.clone()));
        }
    }
    let have_branding = db.tenant(have.db_ref()).tx(branding::load)?;
    // The text and colour only: the logo is not a manifest's business.
    if have_branding.to_input() != want.branding.to_input() {
        changes.push(Change::Branding);
    }
    if let Some(to) = &m.units.province_code
        && have.province_code.as_ref() != Some(to)
    {
        changes.push(Change::ProvinceCode {
            from: have.province_code.clone(),
            to: to.clone(),
        });
    }
    let units = db
        .tenant(have.db_ref())
        .tx(|conn| units::sync::diff(conn, &m.units))?;
    changes.extend(units.into_iter().map(Change::Unit));
    Ok(changes)
}

/// The unit changes of a province that does not exist yet (its schema will be empty).
fn new_province_units(spec: &UnitsSpec) -> Vec<Change> {
    let mut changes = Vec::new();
    if let Some(code) = &spec.province_code {
        changes.push(Change::ProvinceCode {
            from: None,
            to: code.clone(),
        });
        changes.push(Change::Unit(UnitChange::AddNational(
            units::national::of_province(code).count(),
        )));
    }
    changes.extend(
        spec.own
            .iter()
            .map(|u| Change::Unit(UnitChange::Add(u.code.clone()))),
    );
    changes.extend(spec.procedure_units.iter().map(|(p, u)| {
        Change::Unit(UnitChange::Map {
            procedure: p.clone(),
            unit: u.clone(),
        })
    }));
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Manifest, Vec<String>> {
        parse_str(text, Path::new("tenants/x.toml"), "localhost")
    }

    #[test]
    fn parses_a_full_manifest() {
        let m = parse(
            r##"
            slug = "ha-noi"
            name = "Thành phố Hà Nội"
            plan = "premium"
            domains = ["DichVuCong.HaNoi.gov.vn"]
            [branding]
            display_name = "Hà Nội"
            accent_color = "#8b0000"
            "##,
        )
        .unwrap();
        assert_eq!(m.tenant.custom_domains, vec!["dichvucong.hanoi.gov.vn"]);
        assert_eq!(m.tenant.branding.display_name, "Hà Nội");
    }

    #[test]
    fn errors_name_the_file_and_field() {
        let cases = [
            ("slug = \"Ha Noi\"\nname = \"x\"", "tenants/x.toml: slug:"),
            ("slug = \"ha-noi\"\nname = \"\"", "tenants/x.toml: name:"),
            (
                "slug = \"ha-noi\"\nname = \"x\"\ncolour = 1",
                "unknown field `colour`",
            ),
            (
                "slug = \"ha-noi\"\nname = \"x\"\n[branding]\ndisplay_name = \"x\"\naccent_color = \"#ffffff\"",
                "tenants/x.toml: branding.accent_color:",
            ),
            (
                "slug = \"ha-noi\"\nname = \"x\"\ndomains = [\"ops.localhost\"]",
                "domains:",
            ),
            ("slug = ", "tenants/x.toml:"),
        ];
        for (text, want) in cases {
            let errors = parse(text).expect_err(text);
            assert!(
                errors.iter().any(|e| e.contains(want)),
                "{text:?} → {errors:?}"
            );
        }
    }
}
