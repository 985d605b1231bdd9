//! A province's units as its manifest declares them (`tenants apply`): its commune-level units
//! from the national list, the departments and service points it names, and which unit decides
//! each procedure decided above the commune. Compared first (a dry run prints the changes),
//! then applied in the province's own transaction; idempotent.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use diesel::prelude::*;

use super::{Unit, UnitCode, UnitKind, national, store};
use crate::db::schema::dossiers;
use crate::error::AppError;
use crate::lang::Msg;

/// The final statuses of a dossier (`dossiers::status::Status::is_final`; a test there keeps
/// the two equal). Units must not depend on the dossiers module, which depends on them.
pub const FINAL_STATUSES: [&str; 4] = ["returned", "refused", "stopped", "withdrawn"];

/// What a manifest says about units.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitsSpec {
    /// The national province code: its communes come from the national list.
    pub province_code: Option<String>,
    /// The province's own units (departments, the centre, branches).
    pub own: Vec<Unit>,
    /// Procedure code → the unit that decides it.
    pub procedure_units: BTreeMap<String, UnitCode>,
}

/// One difference between the spec and the province's schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitChange {
    /// The national list's communes that are missing (first load: all of them).
    AddNational(usize),
    Add(UnitCode),
    Update(UnitCode),
    Retire(UnitCode),
    Map {
        procedure: String,
        unit: UnitCode,
    },
    Unmap {
        procedure: String,
    },
}

impl fmt::Display for UnitChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnitChange::AddNational(n) => {
                write!(f, "add {n} commune-level unit(s) from the national list")
            }
            UnitChange::Add(c) => write!(f, "add unit {c}"),
            UnitChange::Update(c) => write!(f, "update unit {c}"),
            UnitChange::Retire(c) => write!(f, "retire unit {c}"),
            UnitChange::Map { procedure, unit } => {
                write!(f, "procedure {procedure} decided by {unit}")
            }
            UnitChange::Unmap { procedure } => {
                write!(f, "procedure {procedure} decided by the province")
            }
        }
    }
}

/// Checks a spec on its own (before any database): kinds, codes, duplicates, mappings to
/// units it declares or commune-level ones. Each problem as `field: why`.
pub fn check(spec: &UnitsSpec) -> Vec<String> {
    let mut errors = Vec::new();
    if let Some(code) = &spec.province_code
        && national::province_name(code).is_none()
    {
        errors.push(format!(
            "province_code: {code} is not a province of the national list"
        ));
    }
    let mut seen = HashMap::new();
    for (i, u) in spec.own.iter().enumerate() {
        if u.kind.is_commune_level() || u.code.is_national() {
            errors.push(format!(
                "units[{i}]: {} — communes, wards and special zones come from the national list; declare departments, the centre and branches",
                u.code
            ));
        }
        if seen.insert(u.code.clone(), i).is_some() {
            errors.push(format!("units[{i}]: code {} is declared twice", u.code));
        }
    }
    let catalog = crate::catalog::national();
    for (procedure, unit) in &spec.procedure_units {
        match catalog.get(procedure) {
            None => errors.push(format!("procedure_units: no procedure {procedure}")),
            Some(p) if p.decided_at == crate::catalog::DecisionLevel::Commune => errors.push(format!(
                "procedure_units.{procedure}: decided by the commune the citizen names, not mapped"
            )),
            Some(_) => {
                let declared = spec.own.iter().find(|u| &u.code == unit);
                match declared {
                    None => errors.push(format!(
                        "procedure_units.{procedure}: {unit} is not one of the units declared here"
                    )),
                    Some(u) if !matches!(u.kind, UnitKind::Department | UnitKind::Centre) => errors.push(format!(
                        "procedure_units.{procedure}: {unit} is a {} and decides nothing",
                        u.kind.as_str()
                    )),
                    Some(_) => {}
                }
            }
        }
    }
    errors
}

/// The changes that would make the schema match the spec.
pub fn diff(conn: &mut PgConnection, spec: &UnitsSpec) -> Result<Vec<UnitChange>, AppError> {
    let have: HashMap<UnitCode, Unit> = store::list(conn, true)?
        .into_iter()
        .map(|u| (u.code.clone(), u))
        .collect();
    let mut changes = Vec::new();
    if let Some(province) = &spec.province_code {
        let missing = national::of_province(province)
            .filter(|n| !have.contains_key(&n.code))
            .count();
        if missing > 0 {
            changes.push(UnitChange::AddNational(missing));
        }
    }
    for want in &spec.own {
        match have.get(&want.code) {
            None => changes.push(UnitChange::Add(want.code.clone())),
            Some(h) if h != want => changes.push(UnitChange::Update(want.code.clone())),
            Some(_) => {}
        }
    }
    for h in have.values() {
        let own_kind = !h.kind.is_commune_level();
        if own_kind && !h.retired && !spec.own.iter().any(|w| w.code == h.code) {
            changes.push(UnitChange::Retire(h.code.clone()));
        }
    }
    let mapped: BTreeMap<String, UnitCode> = store::procedure_units(conn)?.into_iter().collect();
    for (procedure, unit) in &spec.procedure_units {
        if mapped.get(procedure) != Some(unit) {
            changes.push(UnitChange::Map {
                procedure: procedure.clone(),
                unit: unit.clone(),
            });
        }
    }
    for procedure in mapped.keys() {
        if !spec.procedure_units.contains_key(procedure) {
            changes.push(UnitChange::Unmap {
                procedure: procedure.clone(),
            });
        }
    }
    changes.sort_by_key(|c| match c {
        UnitChange::AddNational(_) => 0,
        UnitChange::Add(_) | UnitChange::Update(_) => 1,
        UnitChange::Unmap { .. } | UnitChange::Map { .. } => 2,
        UnitChange::Retire(_) => 3,
    });
    Ok(changes)
}

/// How many open dossiers a unit decides.
pub fn open_dossiers(conn: &mut PgConnection, code: &UnitCode) -> Result<i64, AppError> {
    Ok(dossiers::table
        .filter(dossiers::competent_unit.eq(code.as_str()))
        .filter(dossiers::status.ne_all(FINAL_STATUSES))
        .count()
        .get_result(conn)?)
}

/// Retires a unit unless it still decides open dossiers (409 naming how many: transfer them
/// first) or a procedure is mapped to it.
pub fn retire(conn: &mut PgConnection, code: &UnitCode) -> Result<(), AppError> {
    let open = open_dossiers(conn, code)?;
    if open > 0 {
        return Err(AppError::conflict(
            "unit_has_open_dossiers",
            Msg::owned(
                format!(
                    "Đơn vị {code} còn {open} hồ sơ đang giải quyết: hãy chuyển chúng sang đơn vị khác trước."
                ),
                format!("Unit {code} still decides {open} open dossier(s): transfer them first."),
            ),
        ));
    }
    if store::procedure_units(conn)?.iter().any(|(_, u)| u == code) {
        return Err(AppError::conflict(
            "unit_decides_procedures",
            Msg::owned(
                format!(
                    "Đơn vị {code} đang được giao giải quyết thủ tục: hãy giao cho đơn vị khác trước."
                ),
                format!("Unit {code} is mapped to procedures: map them elsewhere first."),
            ),
        ));
    }
    store::retire(conn, code)
}

/// Applies the changes `diff` found, in the caller's (the province's) transaction.
pub fn apply(
    conn: &mut PgConnection,
    spec: &UnitsSpec,
    changes: &[UnitChange],
) -> Result<(), AppError> {
    for change in changes {
        match change {
            UnitChange::AddNational(_) => {
                let province = spec.province_code.as_deref().unwrap_or_default();
                let list: Vec<Unit> = national::of_province(province)
                    .map(|n| Unit {
                        code: n.code.clone(),
                        name: n.name.clone(),
                        kind: n.kind,
                        receives: true,
                        retired: false,
                    })
                    .collect();
                store::insert_many(conn, &list)?;
            }
            UnitChange::Add(code) | UnitChange::Update(code) => {
                if let Some(u) = spec.own.iter().find(|u| &u.code == code) {
                    store::upsert(conn, u)?;
                }
            }
            UnitChange::Map { procedure, unit } => {
                store::set_procedure_unit(conn, procedure, Some(unit))?
            }
            UnitChange::Unmap { procedure } => store::set_procedure_unit(conn, procedure, None)?,
            UnitChange::Retire(code) => retire(conn, code)?,
        }
    }
    Ok(())
}
