//! The national list of provinces and commune-level units since 1 July 2025 (Decision
//! 19/2025), compiled in from `reference/admin-units-2025.csv` and kept in the control plane
//! (`admin_provinces`, `admin_units`) so every node and every query sees the same list.

use std::sync::OnceLock;

use chrono::NaiveDate;
use diesel::prelude::*;

use super::{UnitCode, UnitKind};
use crate::db::schema::{admin_provinces, admin_units};
use crate::error::AppError;

/// The day the two-tier organisation took effect.
pub fn effective_2025() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 7, 1).expect("a valid date")
}

/// One commune-level unit of the national list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NationalUnit {
    pub code: UnitCode,
    pub name: String,
    pub kind: UnitKind,
    pub province_code: String,
    pub province_name: String,
}

/// The list compiled into this binary, in file order; checked by a unit test, so a bad file
/// fails the build's tests rather than a server's start.
pub fn list() -> &'static [NationalUnit] {
    static LIST: OnceLock<Vec<NationalUnit>> = OnceLock::new();
    LIST.get_or_init(|| {
        parse(include_str!("../../reference/admin-units-2025.csv"))
            .unwrap_or_else(|e| panic!("reference/admin-units-2025.csv is invalid: {e}"))
    })
}

/// The units of one province (by its two-digit national code), in file order.
pub fn of_province(province_code: &str) -> impl Iterator<Item = &'static NationalUnit> {
    list()
        .iter()
        .filter(move |u| u.province_code == province_code)
}

/// A province's name in the national list, if the code is one.
pub fn province_name(province_code: &str) -> Option<&'static str> {
    list()
        .iter()
        .find(|u| u.province_code == province_code)
        .map(|u| u.province_name.as_str())
}

fn kind_of(text: &str) -> Option<UnitKind> {
    match text {
        "xã" => Some(UnitKind::Commune),
        "phường" => Some(UnitKind::Ward),
        "đặc khu" => Some(UnitKind::SpecialZone),
        _ => None,
    }
}

#[derive(serde::Deserialize)]
struct Row {
    province_code: String,
    province_name: String,
    #[allow(dead_code)]
    province_type: String,
    unit_code: String,
    unit_name: String,
    unit_type: String,
}

fn parse(text: &str) -> Result<Vec<NationalUnit>, String> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let mut units = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, row) in reader.deserialize::<Row>().enumerate() {
        let line = i + 2;
        let row = row.map_err(|e| format!("line {line}: {e}"))?;
        let code = UnitCode::parse(&row.unit_code)
            .ok()
            .filter(UnitCode::is_national)
            .ok_or_else(|| format!("line {line}: unit code {:?}", row.unit_code))?;
        let kind = kind_of(&row.unit_type)
            .ok_or_else(|| format!("line {line}: unit type {:?}", row.unit_type))?;
        if row.province_code.len() != 2 || !row.province_code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "line {line}: province code {:?}",
                row.province_code
            ));
        }
        if !seen.insert(code.clone()) {
            return Err(format!("line {line}: unit code {code} twice"));
        }
        units.push(NationalUnit {
            code,
            name: row.unit_name.trim().to_string(),
            kind,
            province_code: row.province_code,
            province_name: row.province_name.trim().to_string(),
        });
    }
    Ok(units)
}

/// Makes the control plane's copy equal to the compiled list (idempotent: inserts what is
/// missing, corrects names and kinds; a unit a later reorganisation retired keeps its
/// `valid_to`). Called by `portal migrate`, so `up` on a fresh database has the list.
pub fn load(conn: &mut PgConnection) -> Result<usize, AppError> {
    let from = effective_2025();
    let mut provinces: Vec<(&str, &str)> = list()
        .iter()
        .map(|u| (u.province_code.as_str(), u.province_name.as_str()))
        .collect();
    provinces.dedup();
    for (code, name) in provinces {
        diesel::insert_into(admin_provinces::table)
            .values((
                admin_provinces::code.eq(code),
                admin_provinces::name.eq(name),
                admin_provinces::valid_from.eq(from),
            ))
            .on_conflict(admin_provinces::code)
            .do_update()
            .set(admin_provinces::name.eq(name))
            .execute(conn)?;
    }
    let mut changed = 0;
    // In chunks: one statement per 500 units keeps a fresh load to a few round trips.
    for chunk in list().chunks(500) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|u| {
                (
                    admin_units::code.eq(u.code.as_str()),
                    admin_units::name.eq(&u.name),
                    admin_units::kind.eq(u.kind.as_str()),
                    admin_units::province_code.eq(&u.province_code),
                    admin_units::valid_from.eq(from),
                )
            })
            .collect();
        changed += diesel::insert_into(admin_units::table)
            .values(rows)
            .on_conflict(admin_units::code)
            .do_update()
            .set((
                admin_units::name.eq(diesel::upsert::excluded(admin_units::name)),
                admin_units::kind.eq(diesel::upsert::excluded(admin_units::kind)),
            ))
            .execute(conn)?;
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiled_list_has_34_provinces_and_3321_units() {
        let units = list();
        assert_eq!(units.len(), 3321);
        let mut provinces: Vec<&str> = units.iter().map(|u| u.province_code.as_str()).collect();
        provinces.sort();
        provinces.dedup();
        assert_eq!(provinces.len(), 34);
        let count = |kind| units.iter().filter(|u| u.kind == kind).count();
        assert_eq!(count(UnitKind::Commune), 2621);
        assert_eq!(count(UnitKind::Ward), 687);
        assert_eq!(count(UnitKind::SpecialZone), 13);
        assert_eq!(of_province("01").count(), 126);
        assert_eq!(of_province("79").count(), 168);
        assert_eq!(province_name("79"), Some("Thành phố Hồ Chí Minh"));
    }

    #[test]
    fn a_bad_line_is_named() {
        let head = "province_code,province_name,province_type,unit_code,unit_name,unit_type\n";
        let bad = format!("{head}01,Hà Nội,x,00004,Ba Đình,phường\n01,Hà Nội,x,0005,Y,xã\n");
        assert!(parse(&bad).unwrap_err().contains("line 3"));
        let twice = format!("{head}01,Hà Nội,x,00004,A,phường\n01,Hà Nội,x,00004,B,xã\n");
        assert!(parse(&twice).unwrap_err().contains("twice"));
        let kind = format!("{head}01,Hà Nội,x,00004,A,huyện\n");
        assert!(parse(&kind).unwrap_err().contains("unit type"));
    }
}
