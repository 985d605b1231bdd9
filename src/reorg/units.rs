//! Unit steps of a plan (#18): renaming a unit, and merging units inside one province (their
//! staff, dossiers, queue and procedure assignments move to the surviving unit; the merged
//! units are retired, never deleted, since old dossiers' history names them). Runs with the
//! province entered, inside the plan's transaction.

use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{Array, BigInt, Text};

use super::plan::{MergeUnits, RenameUnit};
use crate::error::AppError;
use crate::units::{UnitCode, store};

/// What a unit merge touches, read before it happens.
#[derive(Debug, Clone, Default, PartialEq, Eq, QueryableByName)]
pub struct Affected {
    /// Staff accounts working in a merged unit.
    #[diesel(sql_type = BigInt)]
    pub staff: i64,
    /// Dossiers a merged unit decides or received.
    #[diesel(sql_type = BigInt)]
    pub dossiers: i64,
    /// Of those it decides, the open ones: its queue.
    #[diesel(sql_type = BigInt)]
    pub open: i64,
    /// Procedures assigned to a merged unit.
    #[diesel(sql_type = BigInt)]
    pub procedures: i64,
}

fn codes(list: &[&UnitCode]) -> Vec<String> {
    list.iter().map(|c| c.to_string()).collect()
}

/// What merging `m` would move (reads only).
pub fn affected(conn: &mut PgConnection, m: &MergeUnits) -> Result<Affected, AppError> {
    let merged = codes(&m.merged().collect::<Vec<_>>());
    Ok(sql_query(
        "SELECT (SELECT count(DISTINCT staff_id) FROM staff_units WHERE unit_code = ANY($1)) AS staff,
                (SELECT count(*) FROM dossiers
                  WHERE competent_unit = ANY($1) OR received_at_unit = ANY($1)) AS dossiers,
                (SELECT count(*) FROM dossiers WHERE competent_unit = ANY($1)
                    AND status NOT IN ('returned', 'refused', 'stopped', 'withdrawn')) AS open,
                (SELECT count(*) FROM procedure_units WHERE unit_code = ANY($1)) AS procedures",
    )
    .bind::<Array<Text>, _>(&merged)
    .get_result(conn)?)
}

/// A unit's name (retired or not), for the preview.
pub fn name_of(conn: &mut PgConnection, code: &UnitCode) -> Result<String, AppError> {
    Ok(store::find(conn, code)?
        .map(|u| u.name)
        .unwrap_or_else(|| code.to_string()))
}

/// Sets a unit's name and adds the names it had (and `also`) to its former names, which the
/// unit list searches.
fn set_name(
    conn: &mut PgConnection,
    code: &UnitCode,
    name: &str,
    also: &[String],
) -> Result<(), AppError> {
    sql_query(
        "UPDATE units SET
            former_names = ARRAY(SELECT DISTINCT n FROM unnest(former_names || name || $3::text[]) AS n
                                  WHERE n <> $2 ORDER BY n),
            name = $2, updated_at = now()
          WHERE code = $1",
    )
    .bind::<Text, _>(code.as_str())
    .bind::<Text, _>(name)
    .bind::<Array<Text>, _>(also)
    .execute(conn)?;
    Ok(())
}

/// Applies a `rename_unit` step.
pub fn rename(conn: &mut PgConnection, r: &RenameUnit) -> Result<(), AppError> {
    set_name(conn, &r.unit, &r.name, &[])
}

/// Applies a `merge_units` step: staff, dossiers (the unit deciding them and the one they were
/// handed in at) and procedure assignments move to `into`; the merged units are retired and
/// their names (former ones too) find `into`.
pub fn merge(conn: &mut PgConnection, m: &MergeUnits) -> Result<Affected, AppError> {
    let before = affected(conn, m)?;
    let merged = codes(&m.merged().collect::<Vec<_>>());
    let into = m.into.as_str();
    sql_query(
        "INSERT INTO staff_units (staff_id, unit_code)
         SELECT DISTINCT staff_id, $2 FROM staff_units WHERE unit_code = ANY($1)
         ON CONFLICT DO NOTHING",
    )
    .bind::<Array<Text>, _>(&merged)
    .bind::<Text, _>(into)
    .execute(conn)?;
    sql_query("DELETE FROM staff_units WHERE unit_code = ANY($1)")
        .bind::<Array<Text>, _>(&merged)
        .execute(conn)?;
    for sql in [
        "UPDATE dossiers SET competent_unit = $2 WHERE competent_unit = ANY($1)",
        "UPDATE dossiers SET received_at_unit = $2 WHERE received_at_unit = ANY($1)",
        "UPDATE procedure_units SET unit_code = $2 WHERE unit_code = ANY($1)",
    ] {
        sql_query(sql)
            .bind::<Array<Text>, _>(&merged)
            .bind::<Text, _>(into)
            .execute(conn)?;
    }
    #[derive(QueryableByName)]
    struct Names {
        #[diesel(sql_type = Array<Text>)]
        names: Vec<String>,
    }
    let old: Names = sql_query(
        "SELECT coalesce(array_agg(n), '{}') AS names FROM (
            SELECT name AS n FROM units WHERE code = ANY($1)
            UNION SELECT unnest(former_names) FROM units WHERE code = ANY($1)) x",
    )
    .bind::<Array<Text>, _>(&merged)
    .get_result(conn)?;
    sql_query(
        "UPDATE units SET retired_at = coalesce(retired_at, now()), updated_at = now()
          WHERE code = ANY($1)",
    )
    .bind::<Array<Text>, _>(&merged)
    .execute(conn)?;
    let name = match &m.name {
        Some(n) => n.clone(),
        None => name_of(conn, &m.into)?,
    };
    set_name(conn, &m.into, &name, &old.names)?;
    Ok(before)
}
