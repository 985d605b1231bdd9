//! Where a dossier is decided (Decree 118/2025: received at any service point of the province,
//! processed by the competent unit). One function answers it for every surface: the citizen's
//! submission, the counter, and a transfer.

use diesel::PgConnection;

use super::{Unit, UnitCode, store};
use crate::catalog::{DecisionLevel, Procedure};
use crate::error::AppError;
use crate::lang::Msg;

/// Whether a unit may decide a procedure: the commune level decides commune-level procedures;
/// above it, the unit the province mapped the procedure to or, with no mapping, any department
/// or the provincial centre.
pub fn handles(unit: &Unit, procedure: &Procedure, mapped: Option<&UnitCode>) -> bool {
    if unit.retired {
        return false;
    }
    match procedure.decided_at {
        DecisionLevel::Commune => unit.kind.is_commune_level(),
        DecisionLevel::Department | DecisionLevel::Province => match mapped {
            Some(code) => *code == unit.code,
            None => matches!(
                unit.kind,
                super::UnitKind::Department | super::UnitKind::Centre
            ),
        },
    }
}

/// Reads a unit code the client sent for `field` and checks it names a unit in force of this
/// province: 422 on `field` otherwise, saying whether the code is in no list at all, in another
/// province, or retired.
pub fn unit_of_province(
    conn: &mut PgConnection,
    field: &str,
    text: &str,
) -> Result<Unit, AppError> {
    let code = UnitCode::parse(text).map_err(|m| AppError::invalid(field, m))?;
    if let Some(unit) = store::find(conn, &code)? {
        if unit.retired {
            return Err(AppError::invalid(
                field,
                Msg::new(
                    "Đơn vị này đã giải thể hoặc sáp nhập.",
                    "This unit has been dissolved or merged.",
                ),
            ));
        }
        return Ok(unit);
    }
    // Not one of ours: the national list tells a neighbour's commune from a made-up code. The
    // list is in the control plane, which the tenant's role cannot read; the compiled copy is
    // the same list.
    let elsewhere = code.is_national() && super::national::list().iter().any(|u| u.code == code);
    Err(AppError::invalid(
        field,
        if elsewhere {
            Msg::new(
                "Đơn vị này thuộc tỉnh, thành phố khác.",
                "This unit belongs to another province.",
            )
        } else {
            Msg::new(
                "Không có đơn vị hành chính với mã này.",
                "There is no administrative unit with this code.",
            )
        },
    ))
}

/// Reads the unit codes a client sent for `field` (a staff member's units): each must be a
/// unit in force of the province; duplicates are dropped. 422 on `field` naming the first bad one.
pub fn units_of_province(
    conn: &mut PgConnection,
    field: &str,
    texts: &[String],
) -> Result<Vec<UnitCode>, AppError> {
    let mut codes = Vec::new();
    for text in texts {
        let unit = unit_of_province(conn, field, text)?;
        if !codes.contains(&unit.code) {
            codes.push(unit.code);
        }
    }
    Ok(codes)
}

/// Where a dossier was received and who decides it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Placement {
    /// The service point that received it; `None` online.
    pub received_at: Option<UnitCode>,
    /// The unit that decides it; `None` for the province itself (a province that has not
    /// mapped the procedure, as before units existed).
    pub competent: Option<UnitCode>,
}

/// Places a new dossier: the competent unit the client asked for (checked), else the
/// province's mapping for the procedure, else (at a commune's counter, for a commune-level
/// procedure) the receiving commune, else the province. `received_at` is already checked by
/// the caller (the staff member's own service point). `known_mapping` is the province's mapping
/// for the procedure when the caller read it from the site cache; `None` reads it here.
pub fn place(
    conn: &mut PgConnection,
    procedure: &Procedure,
    asked: Option<&str>,
    received_at: Option<&Unit>,
    known_mapping: Option<Option<UnitCode>>,
) -> Result<Placement, AppError> {
    let mapped = match known_mapping {
        Some(mapped) => mapped,
        None => store::procedure_unit(conn, &procedure.code)?,
    };
    let competent = match asked.map(str::trim).filter(|t| !t.is_empty()) {
        Some(text) => {
            let unit = unit_of_province(conn, "unit_code", text)?;
            if !handles(&unit, procedure, mapped.as_ref()) {
                return Err(not_competent());
            }
            Some(unit.code)
        }
        None => match (mapped, received_at) {
            (Some(code), _) => Some(code),
            (None, Some(r))
                if procedure.decided_at == DecisionLevel::Commune && r.kind.is_commune_level() =>
            {
                Some(r.code.clone())
            }
            _ => None,
        },
    };
    Ok(Placement {
        received_at: received_at.map(|u| u.code.clone()),
        competent,
    })
}

/// The 422 for a unit that does not decide the procedure.
pub fn not_competent() -> AppError {
    AppError::invalid(
        "unit_code",
        Msg::new(
            "Đơn vị này không giải quyết thủ tục này.",
            "This unit does not decide this procedure.",
        ),
    )
}
