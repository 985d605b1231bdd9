//! The isolation rule between units, in one place (as the tenant door is for provinces): what a
//! staff member may see and move. Staff without units, and province admins, work at the
//! province level and see every dossier of the province. Staff of units see and move the
//! dossiers their units decide; the dossiers received at their units they see read-only (the
//! receipt part). Everything else is 404, never 403, so a code's existence does not leak.

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable};

use super::{UnitCode, store};
use crate::db::schema::dossiers;
use crate::error::AppError;

/// A staff member's reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitScope {
    Province,
    Units(Vec<UnitCode>),
}

/// What a staff member may do with one dossier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Read all of it and make moves.
    Full,
    /// Received at one of the staff member's units and decided elsewhere: the receipt only.
    Receipt,
    /// Not theirs: 404.
    None,
}

impl UnitScope {
    /// Reads a staff member's scope in the caller's transaction (so a change of units takes
    /// effect on the next request). Admins always work at the province level.
    pub fn of_staff(
        conn: &mut PgConnection,
        staff_id: crate::ids::StaffId,
        province_admin: bool,
    ) -> Result<UnitScope, AppError> {
        if province_admin {
            return Ok(UnitScope::Province);
        }
        let units = store::of_staff(conn, staff_id)?;
        Ok(if units.is_empty() {
            UnitScope::Province
        } else {
            UnitScope::Units(units)
        })
    }

    /// The rule for one dossier, from where it is decided and where it was received.
    pub fn access(&self, competent: Option<&str>, received_at: Option<&str>) -> Access {
        let UnitScope::Units(units) = self else {
            return Access::Full;
        };
        let ours = |code: Option<&str>| code.is_some_and(|c| units.iter().any(|u| u.as_str() == c));
        if ours(competent) {
            Access::Full
        } else if ours(received_at) {
            Access::Receipt
        } else {
            Access::None
        }
    }

    /// The same rule as a condition on `dossiers`: the rows `access` does not answer `None`
    /// for. A test checks the two agree.
    pub fn predicate(
        &self,
    ) -> Box<dyn BoxableExpression<dossiers::table, Pg, SqlType = Nullable<Bool>>> {
        match self {
            UnitScope::Province => Box::new(Some(true).into_sql::<Nullable<Bool>>()),
            UnitScope::Units(units) => {
                let codes: Vec<String> = units.iter().map(|u| u.to_string()).collect();
                Box::new(
                    dossiers::competent_unit
                        .eq_any(codes.clone())
                        .or(dossiers::received_at_unit.eq_any(codes)),
                )
            }
        }
    }

    /// A query of `dossiers` limited to what the scope may see.
    pub fn visible<'a>(&self, q: dossiers::BoxedQuery<'a, Pg>) -> dossiers::BoxedQuery<'a, Pg> {
        q.filter(self.predicate())
    }

    /// Only the dossiers the scope decides (the work queue's "to do" view).
    pub fn decided_here<'a>(
        &self,
        q: dossiers::BoxedQuery<'a, Pg>,
    ) -> dossiers::BoxedQuery<'a, Pg> {
        match self {
            UnitScope::Province => q,
            UnitScope::Units(units) => {
                let codes: Vec<String> = units.iter().map(|u| u.to_string()).collect();
                q.filter(dossiers::competent_unit.eq_any(codes))
            }
        }
    }

    /// The units, for a staff member of units; `None` at the province level.
    pub fn units(&self) -> Option<&[UnitCode]> {
        match self {
            UnitScope::Province => None,
            UnitScope::Units(u) => Some(u),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(codes: &[&str]) -> UnitScope {
        UnitScope::Units(codes.iter().map(|c| UnitCode::parse(c).unwrap()).collect())
    }

    #[test]
    fn a_commune_sees_what_it_decides_and_the_receipt_of_what_it_received() {
        let a = units(&["00004"]);
        assert_eq!(a.access(Some("00004"), None), Access::Full);
        assert_eq!(a.access(Some("00004"), Some("00008")), Access::Full);
        assert_eq!(a.access(Some("00008"), Some("00004")), Access::Receipt);
        assert_eq!(a.access(Some("00008"), None), Access::None);
        assert_eq!(a.access(Some("00008"), Some("00008")), Access::None);
        // Decided by the province itself: not a commune's business.
        assert_eq!(a.access(None, None), Access::None);
    }

    #[test]
    fn the_province_level_sees_everything() {
        let p = UnitScope::Province;
        assert_eq!(p.access(Some("00008"), None), Access::Full);
        assert_eq!(p.access(None, None), Access::Full);
    }
}
