//! A dossier between units: where a counter receives it, a transfer to another competent unit,
//! an assignment to a named official. The rules of who may do these are in `app::staff`; the
//! rules of what may be seen are in `units::scope`.

use diesel::prelude::*;

use super::store::{self, DossierRow};
use crate::accounts::staff as staff_accounts;
use crate::catalog;
use crate::db::schema::{dossiers, staff_units};
use crate::error::AppError;
use crate::lang::Msg;
use crate::units::scope::UnitScope;
use crate::units::{Unit, routing, store as unit_store};

/// The service point a counter dossier is received at: the one asked (a unit of the staff
/// member's, or for province-level staff any service point of the province), else the staff
/// member's first service point, else none (the province itself). 422 on `received_at`.
pub fn service_point(
    conn: &mut PgConnection,
    scope: &UnitScope,
    asked: Option<&str>,
) -> Result<Option<Unit>, AppError> {
    let not_a_point = || {
        AppError::invalid(
            "received_at",
            Msg::new(
                "Đơn vị này không phải nơi tiếp nhận hồ sơ của bạn.",
                "This unit is not a service point you work at.",
            ),
        )
    };
    match asked.map(str::trim).filter(|t| !t.is_empty()) {
        Some(text) => {
            let unit = routing::unit_of_province(conn, "received_at", text)?;
            let mine = scope.units().is_none_or(|u| u.contains(&unit.code));
            if !unit.receives || !mine {
                return Err(not_a_point());
            }
            Ok(Some(unit))
        }
        None => {
            let Some(units) = scope.units() else {
                return Ok(None);
            };
            for code in units {
                if let Some(u) = unit_store::find_active(conn, code)?
                    && u.receives
                {
                    return Ok(Some(u));
                }
            }
            Err(not_a_point())
        }
    }
}

/// Moves the (locked, reachable) dossier to another competent unit.
pub fn transfer(
    conn: &mut PgConnection,
    d: &DossierRow,
    unit_code: &str,
    note: Option<&str>,
    by: &str,
) -> Result<DossierRow, AppError> {
    if d.status().is_final() {
        return Err(AppError::conflict(
            "invalid_transition",
            Msg::new(
                "Hồ sơ đã kết thúc, không thể chuyển đơn vị.",
                "The dossier is finished and cannot be transferred.",
            ),
        ));
    }
    let note = note
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            AppError::invalid(
                "note",
                Msg::new(
                    "Cần ghi rõ lý do chuyển.",
                    "A note giving the reason is required.",
                ),
            )
        })?;
    if note.chars().count() > 2000 {
        return Err(AppError::invalid(
            "note",
            Msg::new(
                "Ghi chú tối đa 2000 ký tự.",
                "A note has at most 2000 characters.",
            ),
        ));
    }
    if unit_code.trim().is_empty() {
        return Err(AppError::invalid(
            "unit_code",
            Msg::new("Chọn đơn vị nhận hồ sơ.", "Choose the unit to transfer to."),
        ));
    }
    let unit = routing::unit_of_province(conn, "unit_code", unit_code)?;
    let procedure = catalog::national()
        .get(&d.procedure_code)
        .ok_or_else(|| AppError::internal(format!("dossier {}: unknown procedure", d.id)))?;
    let mapped = unit_store::procedure_unit(conn, &procedure.code)?;
    // The province may move a department-level dossier to any department or the centre when
    // the mapped unit cannot decide this case; commune-level ones go to a commune.
    let allowed = routing::handles(&unit, procedure, mapped.as_ref())
        || routing::handles(&unit, procedure, None);
    if !allowed {
        return Err(routing::not_competent());
    }
    if d.competent_unit.as_deref() == Some(unit.code.as_str()) {
        return Err(AppError::invalid(
            "unit_code",
            Msg::new(
                "Hồ sơ đã thuộc đơn vị này.",
                "The dossier is already decided by this unit.",
            ),
        ));
    }
    let row = diesel::update(dossiers::table.find(d.id))
        .set((
            dossiers::competent_unit.eq(unit.code.as_str()),
            dossiers::assignee_id.eq(None::<uuid::Uuid>),
            dossiers::updated_at.eq(crate::clock::now()),
        ))
        .returning(DossierRow::as_returning())
        .get_result(conn)?;
    let from = d.competent_unit.as_deref().unwrap_or("—");
    store::append_event(
        conn,
        d.id,
        "transfer",
        d.status(),
        Some(&format!("{from} → {}: {note}", unit.code)),
        by,
    )?;
    Ok(row)
}

/// Assigns the (locked, reachable) dossier to an active official who works in its unit.
pub fn assign(
    conn: &mut PgConnection,
    d: &DossierRow,
    to: crate::ids::StaffId,
    by: &str,
) -> Result<DossierRow, AppError> {
    let bad = || {
        AppError::invalid(
            "assignee_id",
            Msg::new(
                "Cán bộ này không làm việc tại đơn vị giải quyết hồ sơ.",
                "This official does not work in the unit that decides the dossier.",
            ),
        )
    };
    let official = staff_accounts::find_active(conn, to)?.ok_or_else(bad)?;
    if let Some(unit) = &d.competent_unit {
        let works_there: bool = diesel::select(diesel::dsl::exists(
            staff_units::table
                .filter(staff_units::staff_id.eq(to.0))
                .filter(staff_units::unit_code.eq(unit)),
        ))
        .get_result(conn)?;
        if !works_there {
            return Err(bad());
        }
    }
    let row = diesel::update(dossiers::table.find(d.id))
        .set((
            dossiers::assignee_id.eq(Some(to.0)),
            dossiers::updated_at.eq(crate::clock::now()),
        ))
        .returning(DossierRow::as_returning())
        .get_result(conn)?;
    store::append_event(
        conn,
        d.id,
        "assign",
        d.status(),
        Some(&official.full_name),
        by,
    )?;
    Ok(row)
}
