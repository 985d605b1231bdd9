//! Units inside a province (since 1 July 2025: no districts; communes, wards and special zones
//! under the province, plus its departments and the provincial centre with its branches).
//!
//! - `national`: the national list of commune-level units, compiled in from
//!   `reference/admin-units-2025.csv` and loaded into the control plane.
//! - `store`: a province's own units (its communes copied from the national list, and the
//!   departments and service points it declares), in its schema.
//! - `scope`: the one isolation rule between units: what a staff member may see and move.
//! - `routing`: which unit decides a procedure, and which units may.

pub mod national;
pub mod routing;
pub mod scope;
pub mod store;
pub mod sync;

use serde::Serialize;

use crate::lang::Msg;

/// A unit's code: the five-digit national code of a commune-level unit, or a code of the
/// province's choosing for a department or service point (`^[A-Z0-9-]{2,20}$`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct UnitCode(String);

impl UnitCode {
    pub fn parse(text: &str) -> Result<UnitCode, Msg> {
        let t = text.trim();
        let national = t.len() == 5 && t.bytes().all(|b| b.is_ascii_digit());
        let own = (2..=20).contains(&t.len())
            && t.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
        if national || own {
            Ok(UnitCode(t.to_string()))
        } else {
            Err(Msg::new(
                "Mã đơn vị không hợp lệ (5 chữ số theo danh mục quốc gia, hoặc 2–20 chữ in hoa, số, dấu gạch ngang).",
                "Not a unit code (five digits from the national list, or 2–20 capital letters, digits and hyphens).",
            ))
        }
    }

    /// A code read back from the database, where a CHECK constraint already holds it.
    pub(crate) fn from_db(code: String) -> UnitCode {
        UnitCode(code)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A code of the national list (five digits), as opposed to one the province chose.
    pub fn is_national(&self) -> bool {
        self.0.len() == 5 && self.0.bytes().all(|b| b.is_ascii_digit())
    }
}

impl std::fmt::Display for UnitCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a unit is. The first three are the commune level of the national list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    Commune,
    Ward,
    SpecialZone,
    Department,
    Centre,
    Branch,
}

impl UnitKind {
    pub const ALL: [UnitKind; 6] = [
        UnitKind::Commune,
        UnitKind::Ward,
        UnitKind::SpecialZone,
        UnitKind::Department,
        UnitKind::Centre,
        UnitKind::Branch,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Commune => "commune",
            UnitKind::Ward => "ward",
            UnitKind::SpecialZone => "special_zone",
            UnitKind::Department => "department",
            UnitKind::Centre => "centre",
            UnitKind::Branch => "branch",
        }
    }

    pub fn parse(text: &str) -> Option<UnitKind> {
        UnitKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// The commune level: decides commune-level procedures, comes from the national list.
    pub fn is_commune_level(self) -> bool {
        matches!(
            self,
            UnitKind::Commune | UnitKind::Ward | UnitKind::SpecialZone
        )
    }

    /// Whether a unit of this kind receives dossiers unless it says otherwise: every commune
    /// centre, the provincial centre and its branches; departments do not.
    pub fn receives_by_default(self) -> bool {
        self != UnitKind::Department
    }

    /// As a page shows it.
    pub fn label(self) -> Msg {
        match self {
            UnitKind::Commune => Msg::new("Xã", "Commune"),
            UnitKind::Ward => Msg::new("Phường", "Ward"),
            UnitKind::SpecialZone => Msg::new("Đặc khu", "Special zone"),
            UnitKind::Department => Msg::new("Sở, ngành", "Department"),
            UnitKind::Centre => {
                Msg::new("Trung tâm Phục vụ hành chính công", "Public service centre")
            }
            UnitKind::Branch => Msg::new("Chi nhánh Trung tâm", "Centre branch"),
        }
    }
}

/// One unit of a province, as its schema holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unit {
    pub code: UnitCode,
    pub name: String,
    pub kind: UnitKind,
    pub receives: bool,
    pub retired: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_codes_are_national_or_the_provinces_own() {
        for ok in ["00004", "SO-TP", "TTHCC", "CN-01"] {
            assert!(UnitCode::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "so-tp", "A", "SỞ", "A B", "ABCDEFGHIJKLMNOPQRSTU"] {
            assert!(UnitCode::parse(bad).is_err(), "{bad}");
        }
        assert!(UnitCode::parse("00004").unwrap().is_national());
        assert!(!UnitCode::parse("SO-TP").unwrap().is_national());
    }

    #[test]
    fn kinds_round_trip() {
        for k in UnitKind::ALL {
            assert_eq!(UnitKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(UnitKind::parse("district"), None);
    }
}
