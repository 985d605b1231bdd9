//! A province's units in its own schema: its commune-level units (from the national list) and
//! the departments and service points it declares. Units are retired, never deleted.

use diesel::prelude::*;

use super::{Unit, UnitCode, UnitKind};
use crate::db::schema::{procedure_units, staff_units, units};
use crate::error::AppError;
use crate::ids::StaffId;

type UnitTuple = (
    String,
    String,
    String,
    bool,
    Option<chrono::DateTime<chrono::Utc>>,
);

fn from_row(r: UnitTuple) -> Result<Unit, AppError> {
    let kind = UnitKind::parse(&r.2)
        .ok_or_else(|| AppError::internal(format!("unit {}: unknown kind {:?}", r.0, r.2)))?;
    Ok(Unit {
        code: UnitCode::from_db(r.0),
        name: r.1,
        kind,
        receives: r.3,
        retired: r.4.is_some(),
    })
}

fn columns() -> (
    units::code,
    units::name,
    units::kind,
    units::receives,
    units::retired_at,
) {
    (
        units::code,
        units::name,
        units::kind,
        units::receives,
        units::retired_at,
    )
}

/// Every unit, retired ones too when asked: the province's own first (centre, branches,
/// departments), then the commune level by name.
pub fn list(conn: &mut PgConnection, with_retired: bool) -> Result<Vec<Unit>, AppError> {
    let mut q = units::table.select(columns()).into_boxed();
    if !with_retired {
        q = q.filter(units::retired_at.is_null());
    }
    let rows: Vec<UnitTuple> = q.order(units::code).load(conn)?;
    let mut list = rows
        .into_iter()
        .map(from_row)
        .collect::<Result<Vec<_>, _>>()?;
    // Each name folded once (a comparator folding both sides folded 3,328 names ~80,000 times:
    // most of the staff queue page's time with the national list loaded, BENCHMARKS.md).
    list.sort_by_cached_key(|u| {
        let rank = match u.kind {
            UnitKind::Centre => 0,
            UnitKind::Branch => 1,
            UnitKind::Department => 2,
            _ => 3,
        };
        (rank, crate::catalog::fold_vietnamese(&u.name))
    });
    Ok(list)
}

/// The former names of the units that have any (a reorganisation renamed them or merged
/// others into them), by code.
pub fn former_names(
    conn: &mut PgConnection,
) -> Result<std::collections::HashMap<String, Vec<String>>, AppError> {
    let rows: Vec<(String, Vec<String>)> = units::table
        .filter(units::former_names.ne(Vec::<String>::new()))
        .select((units::code, units::former_names))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// The names of the units with these codes (retired ones too: an old dossier keeps its unit).
pub fn names(
    conn: &mut PgConnection,
    codes: &[&str],
) -> Result<std::collections::HashMap<String, String>, AppError> {
    if codes.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let rows: Vec<(String, String)> = units::table
        .filter(units::code.eq_any(codes))
        .select((units::code, units::name))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

pub fn find_active(conn: &mut PgConnection, code: &UnitCode) -> Result<Option<Unit>, AppError> {
    units::table
        .filter(units::code.eq(code.as_str()))
        .filter(units::retired_at.is_null())
        .select(columns())
        .first::<UnitTuple>(conn)
        .optional()?
        .map(from_row)
        .transpose()
}

/// One unit, retired or not.
pub fn find(conn: &mut PgConnection, code: &UnitCode) -> Result<Option<Unit>, AppError> {
    units::table
        .filter(units::code.eq(code.as_str()))
        .select(columns())
        .first::<UnitTuple>(conn)
        .optional()?
        .map(from_row)
        .transpose()
}

/// Creates the unit or brings it back to this state (un-retiring it).
pub fn upsert(conn: &mut PgConnection, u: &Unit) -> Result<(), AppError> {
    diesel::insert_into(units::table)
        .values((
            units::code.eq(u.code.as_str()),
            units::name.eq(&u.name),
            units::kind.eq(u.kind.as_str()),
            units::receives.eq(u.receives),
            units::updated_at.eq(diesel::dsl::now),
        ))
        .on_conflict(units::code)
        .do_update()
        .set((
            units::name.eq(&u.name),
            units::kind.eq(u.kind.as_str()),
            units::receives.eq(u.receives),
            units::retired_at.eq(None::<chrono::DateTime<chrono::Utc>>),
            // The inserted row's time, not `now()` again: Citus takes only immutable
            // functions in DO UPDATE on a province's (distributed) tables.
            units::updated_at.eq(diesel::upsert::excluded(units::updated_at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Many units at once (a province's communes on first load): one statement per 500.
pub fn insert_many(conn: &mut PgConnection, list: &[Unit]) -> Result<(), AppError> {
    for chunk in list.chunks(500) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|u| {
                (
                    units::code.eq(u.code.as_str()),
                    units::name.eq(&u.name),
                    units::kind.eq(u.kind.as_str()),
                    units::receives.eq(u.receives),
                )
            })
            .collect();
        diesel::insert_into(units::table)
            .values(rows)
            .on_conflict_do_nothing()
            .execute(conn)?;
    }
    Ok(())
}

/// Retires a unit: it keeps its code and name for the dossiers and history that name it, and
/// no longer receives, decides or appears in lists. The caller checks open dossiers first.
pub fn retire(conn: &mut PgConnection, code: &UnitCode) -> Result<(), AppError> {
    diesel::update(units::table.filter(units::code.eq(code.as_str())))
        .set((
            units::retired_at.eq(Some(crate::clock::now())),
            units::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    Ok(())
}

/// The unit the province chose to decide a procedure decided above the commune, if any.
pub fn procedure_unit(
    conn: &mut PgConnection,
    procedure: &str,
) -> Result<Option<UnitCode>, AppError> {
    Ok(procedure_units::table
        .filter(procedure_units::procedure_code.eq(procedure))
        .select(procedure_units::unit_code)
        .first::<String>(conn)
        .optional()?
        .map(UnitCode::from_db))
}

/// Every procedure's deciding unit, as the province set them.
pub fn procedure_units(conn: &mut PgConnection) -> Result<Vec<(String, UnitCode)>, AppError> {
    Ok(procedure_units::table
        .select((procedure_units::procedure_code, procedure_units::unit_code))
        .order(procedure_units::procedure_code)
        .load::<(String, String)>(conn)?
        .into_iter()
        .map(|(p, u)| (p, UnitCode::from_db(u)))
        .collect())
}

/// Sets (or, with `None`, clears) the unit that decides a procedure.
pub fn set_procedure_unit(
    conn: &mut PgConnection,
    procedure: &str,
    unit: Option<&UnitCode>,
) -> Result<(), AppError> {
    match unit {
        Some(u) => {
            diesel::insert_into(procedure_units::table)
                .values((
                    procedure_units::procedure_code.eq(procedure),
                    procedure_units::unit_code.eq(u.as_str()),
                ))
                .on_conflict(procedure_units::procedure_code)
                .do_update()
                .set(procedure_units::unit_code.eq(u.as_str()))
                .execute(conn)?;
        }
        None => {
            diesel::delete(
                procedure_units::table.filter(procedure_units::procedure_code.eq(procedure)),
            )
            .execute(conn)?;
        }
    }
    Ok(())
}

/// The units a staff member works in (none: the province level).
pub fn of_staff(conn: &mut PgConnection, staff_id: StaffId) -> Result<Vec<UnitCode>, AppError> {
    Ok(staff_units::table
        .filter(staff_units::staff_id.eq(staff_id.0))
        .select(staff_units::unit_code)
        .order(staff_units::unit_code)
        .load::<String>(conn)?
        .into_iter()
        .map(UnitCode::from_db)
        .collect())
}

/// Makes a staff member's units exactly these.
pub fn set_staff_units(
    conn: &mut PgConnection,
    staff_id: StaffId,
    list: &[UnitCode],
) -> Result<(), AppError> {
    diesel::delete(staff_units::table.filter(staff_units::staff_id.eq(staff_id.0)))
        .execute(conn)?;
    let rows: Vec<_> = list
        .iter()
        .map(|u| {
            (
                staff_units::staff_id.eq(staff_id.0),
                staff_units::unit_code.eq(u.as_str()),
            )
        })
        .collect();
    diesel::insert_into(staff_units::table)
        .values(rows)
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok(())
}

/// Every staff member's units, as `(staff id, unit code)` pairs (for the workspace's names).
pub fn all_staff_units(conn: &mut PgConnection) -> Result<Vec<(uuid::Uuid, UnitCode)>, AppError> {
    Ok(staff_units::table
        .select((staff_units::staff_id, staff_units::unit_code))
        .order((staff_units::staff_id, staff_units::unit_code))
        .load::<(uuid::Uuid, String)>(conn)?
        .into_iter()
        .map(|(s, u)| (s, UnitCode::from_db(u)))
        .collect())
}
