//! Moving units from one province to another (#18), the primitive under `move_units` and
//! `split`: the units, the staff who work only in them (accounts and passwords as they are),
//! the dossiers they decide (hence their queue) with everything hanging from a dossier
//! (history, attachments and their blobs, results, payments, receipts, ratings, mail), ids
//! renumbered past the receiver's as a merge does, colliding unit codes prefixed as a merge
//! does. The old province goes on serving everything else. Runs inside the caller's
//! control-plane transaction, which it leaves as it found it; the rows leave the old schema in
//! the same transaction, so a reader sees them in one place or the other.
//!
//! What stays with the old province, and why:
//! - drafts (the pages' applications in progress name no unit: they belong to the province),
//!   procedure settings, receipt counters (its series go on there), tracking failures, its
//!   site look and fee account;
//! - a moved unit's row when a dossier left behind still names it (handed in at its counter,
//!   decided elsewhere): retired there, since "a unit is retired, never deleted";
//! - the old province's procedure assignments to a moved unit go with it (the receiver's own
//!   assignment of the same procedure wins); the old province then decides that procedure at
//!   province level until its admin assigns another unit (the preview says which).
//!
//! A moved dossier keeps its tracking code (the old province's prefix): `public.moved_dossiers`
//! says where it is now, and tracking looks there first.

use std::collections::{BTreeMap, BTreeSet};

use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{Array, BigInt, Date, Nullable, Text};

use super::merge::{
    TABLES, Treatment, column_expr, columns, exec, literal, lock_tables, renumber_offsets,
    reset_sequences, set_role, unit_renames,
};
use crate::db::{TenantRef, quote_ident, tenant_enter, tenant_leave};
use crate::error::AppError;

/// Tables a move never touches (see the module's comment).
pub const STAYS: &[&str] = &[
    "branding",
    "logo",
    "payment_account",
    "procedure_settings",
    "fee_receipt_counters",
    "drafts",
    "draft_files",
    // Unfinished resumable uploads belong to drafts, which stay.
    "uploads",
    "upload_parts",
    "tracking_failures",
];

/// What moves, read from the old province before anything is written.
#[derive(Debug, Clone, Default)]
pub struct MoveSet {
    pub units: Vec<String>,
    pub dossiers: Vec<i64>,
    pub tracking_codes: Vec<String>,
    pub citizens: Vec<uuid::Uuid>,
    /// Of the moved dossiers, those not decided yet.
    pub open: i64,
    /// Staff who work only in moved units: their accounts move.
    pub staff: Vec<uuid::Uuid>,
    pub staff_emails: BTreeSet<String>,
    /// Staff who work in a moved unit and in one that stays: (email, their units). A move
    /// refuses them (which province keeps the account is a decision for people).
    pub mixed_staff: Vec<(String, Vec<String>)>,
    pub blobs: Vec<uuid::Uuid>,
    /// Units of the old province (not moved) where a moved dossier was handed in: the receiver
    /// gets a retired copy so the dossier still names where it was received.
    pub received_elsewhere: Vec<String>,
    /// Procedures the old province assigned to a moved unit.
    pub procedures: Vec<String>,
}

#[derive(QueryableByName)]
struct Dossier {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    tracking_code: String,
    #[diesel(sql_type = Nullable<diesel::sql_types::Uuid>)]
    citizen_id: Option<uuid::Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    received_at_unit: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    open: bool,
}

#[derive(QueryableByName)]
struct StaffUnits {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: uuid::Uuid,
    #[diesel(sql_type = Text)]
    email: String,
    #[diesel(sql_type = Array<Text>)]
    units: Vec<String>,
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: uuid::Uuid,
}

#[derive(QueryableByName)]
struct Code {
    #[diesel(sql_type = Text)]
    code: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn text_array(items: &[String]) -> String {
    let list: Vec<String> = items.iter().map(|i| literal(i)).collect();
    format!("ARRAY[{}]::text[]", list.join(","))
}

fn uuid_array(ids: &[uuid::Uuid]) -> String {
    let list: Vec<String> = ids.iter().map(uuid::Uuid::to_string).collect();
    format!("'{{{}}}'::uuid[]", list.join(","))
}

/// The set, with the old province entered.
fn read_set(conn: &mut PgConnection, units: &[String]) -> Result<MoveSet, AppError> {
    let mut set = MoveSet {
        units: units.to_vec(),
        ..MoveSet::default()
    };
    let dossiers: Vec<Dossier> = sql_query(
        "SELECT id, tracking_code, citizen_id, received_at_unit, decided_at IS NULL AS open \
         FROM dossiers WHERE competent_unit = ANY($1) ORDER BY id",
    )
    .bind::<Array<Text>, _>(units)
    .load(conn)?;
    let mut elsewhere = BTreeSet::new();
    let mut citizens = BTreeSet::new();
    for d in dossiers {
        set.dossiers.push(d.id);
        set.tracking_codes.push(d.tracking_code);
        set.open += i64::from(d.open);
        citizens.extend(d.citizen_id);
        if let Some(u) = d.received_at_unit
            && !units.contains(&u)
        {
            elsewhere.insert(u);
        }
    }
    set.citizens = citizens.into_iter().collect();
    set.received_elsewhere = elsewhere.into_iter().collect();
    let staff: Vec<StaffUnits> = sql_query(
        "SELECT s.id, s.email, array_agg(su.unit_code ORDER BY su.unit_code) AS units \
         FROM staff s JOIN staff_units su ON su.staff_id = s.id \
         GROUP BY s.id, s.email HAVING bool_or(su.unit_code = ANY($1)) ORDER BY s.email",
    )
    .bind::<Array<Text>, _>(units)
    .load(conn)?;
    for s in staff {
        if s.units.iter().all(|u| units.contains(u)) {
            set.staff.push(s.id);
            set.staff_emails.insert(s.email);
        } else {
            set.mixed_staff.push((s.email, s.units));
        }
    }
    let ids = super::merge::id_array(&set.dossiers);
    set.blobs = sql_query(format!(
        "SELECT blob_id AS id FROM attachments WHERE dossier_id = ANY({ids}) \
         UNION SELECT blob_id FROM dossier_results WHERE dossier_id = ANY({ids}) \
           AND blob_id IS NOT NULL"
    ))
    .load::<Id>(conn)?
    .into_iter()
    .map(|i| i.id)
    .collect();
    set.procedures = sql_query(
        "SELECT procedure_code AS code FROM procedure_units WHERE unit_code = ANY($1) ORDER BY 1",
    )
    .bind::<Array<Text>, _>(units)
    .load::<Code>(conn)?
    .into_iter()
    .map(|c| c.code)
    .collect();
    Ok(set)
}

/// What moving `units` out of `from` would move (reads only).
pub fn move_set(
    conn: &mut PgConnection,
    from: &TenantRef,
    units: &[String],
) -> Result<MoveSet, AppError> {
    tenant_enter(conn, from)?;
    let set = read_set(conn, units);
    tenant_leave(conn)?;
    set
}

/// The rows of `table` a move takes (`s` is the old province's row); `None`: the table stays.
fn filter(table: &str, set: &MoveSet) -> Option<String> {
    let dossiers = super::merge::id_array(&set.dossiers);
    Some(match table {
        "blobs" => format!("s.id = ANY({})", uuid_array(&set.blobs)),
        "units" => format!("s.code = ANY({})", text_array(&set.units)),
        "staff" => format!("s.id = ANY({})", uuid_array(&set.staff)),
        "staff_invitations" | "staff_units" => {
            format!("s.staff_id = ANY({})", uuid_array(&set.staff))
        }
        "procedure_units" => format!("s.unit_code = ANY({})", text_array(&set.units)),
        "dossiers" => format!("s.id = ANY({dossiers})"),
        "dossier_events" | "attachments" | "dossier_results" | "payments" | "fee_receipts"
        | "ratings" | "outbox" => format!("s.dossier_id = ANY({dossiers})"),
        _ => return None,
    })
}

/// Rows per table the move takes from `from` (reads only).
pub fn counts(
    conn: &mut PgConnection,
    from: &TenantRef,
    set: &MoveSet,
) -> Result<BTreeMap<&'static str, i64>, AppError> {
    tenant_enter(conn, from)?;
    let mut out = BTreeMap::new();
    for (table, _) in TABLES {
        if let Some(f) = filter(table, set) {
            let c: Count = sql_query(format!(
                "SELECT count(*) AS n FROM {} s WHERE {f}",
                quote_ident(table)
            ))
            .get_result(conn)?;
            out.insert(*table, c.n);
        }
    }
    tenant_leave(conn)?;
    Ok(out)
}

/// What a move did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Moved {
    pub rows: BTreeMap<&'static str, i64>,
    /// Moved units kept in the old province as retired records (a dossier there names them).
    pub units_kept_retired: Vec<String>,
    pub units_renamed: BTreeMap<String, String>,
    pub tracking_codes: Vec<String>,
    pub citizens: Vec<uuid::Uuid>,
}

/// Moves `units` (in force in `from`; the caller checked) and what goes with them into `into`.
/// `prefix` is `from`'s tracking-code prefix, for unit codes that collide in `into`.
pub fn move_units(
    conn: &mut PgConnection,
    from: &TenantRef,
    into: &TenantRef,
    prefix: &str,
    units: &[String],
) -> Result<Moved, AppError> {
    let src = quote_ident(&from.schema);
    let dst = quote_ident(&into.schema);
    let moving: Vec<&'static str> = TABLES
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| !STAYS.contains(n))
        .collect();
    // As the old province: hold its tables still (readers go on reading the old state until
    // commit), read what moves, and let the receiver read it.
    set_role(conn, from)?;
    lock_tables(conn, &src, &moving)?;
    let set = read_set(conn, units)?;
    if !set.mixed_staff.is_empty() {
        // The plan's checks refuse this; a write between check and lock is the only way here.
        return Err(AppError::internal(format!(
            "staff work in moved and staying units of {}: {:?}",
            from.schema, set.mixed_staff
        )));
    }
    for sql in [
        format!("GRANT USAGE ON SCHEMA {src} TO {}", quote_ident(&into.role)),
        format!(
            "GRANT SELECT ON ALL TABLES IN SCHEMA {src} TO {}",
            quote_ident(&into.role)
        ),
    ] {
        exec(conn, &sql)?;
    }

    // As the receiver: hold its tables too, so no id is taken while we renumber.
    set_role(conn, into)?;
    lock_tables(conn, &dst, &moving)?;
    let taken: BTreeSet<String> = sql_query("SELECT code FROM units")
        .load::<Code>(conn)?
        .into_iter()
        .map(|c| c.code)
        .collect();
    let arriving: BTreeSet<String> = set
        .units
        .iter()
        .chain(&set.received_elsewhere)
        .cloned()
        .collect();
    let renames = unit_renames(&arriving, &taken, prefix).map_err(|codes| {
        AppError::internal(format!(
            "no free unit code for {codes:?} of {}",
            from.schema
        ))
    })?;
    let offsets = renumber_offsets(conn, &dst)?;
    let staff = uuid_array(&set.staff);
    let mut moved = Moved {
        units_renamed: renames.clone(),
        tracking_codes: set.tracking_codes.clone(),
        citizens: set.citizens.clone(),
        ..Moved::default()
    };
    for (table, treatment) in TABLES {
        let Some(f) = filter(table, &set) else {
            continue;
        };
        // As in a merge: keys the receiver could hold already are renumbered, the others are
        // UUIDs, unit codes (collisions renamed) or moved rows' keys.
        let treatment = *treatment;
        let cols = columns(conn, &into.schema, table)?;
        let names: Vec<String> = cols.iter().map(|c| quote_ident(c)).collect();
        let exprs = |retire: bool| -> Vec<String> {
            cols.iter()
                .map(|c| match (*table, c.as_str()) {
                    // An assignee who stays behind no longer works here: the dossier goes back
                    // to its unit's queue, unassigned.
                    ("dossiers", "assignee_id") => {
                        format!("CASE WHEN s.assignee_id = ANY({staff}) THEN s.assignee_id END")
                    }
                    ("units", "retired_at") if retire => {
                        "coalesce(s.retired_at, now())".to_string()
                    }
                    _ => column_expr(table, c, treatment, &offsets, &renames),
                })
                .collect()
        };
        let conflict = if treatment == Treatment::SuccessorWins {
            " ON CONFLICT DO NOTHING"
        } else {
            ""
        };
        let n = exec(
            conn,
            &format!(
                "INSERT INTO {dst}.{t} ({names}) SELECT {exprs} FROM {src}.{t} s WHERE {f}{conflict}",
                t = quote_ident(table),
                names = names.join(", "),
                exprs = exprs(false).join(", "),
            ),
        )? as i64;
        moved.rows.insert(*table, n);
        if *table == "units" && !set.received_elsewhere.is_empty() {
            // Where moved dossiers were handed in (a unit that stays): a retired copy, so the
            // dossier still names it in its new province.
            exec(
                conn,
                &format!(
                    "INSERT INTO {dst}.units ({names}) SELECT {exprs} FROM {src}.units s \
                     WHERE s.code = ANY({codes})",
                    names = names.join(", "),
                    exprs = exprs(true).join(", "),
                    codes = text_array(&set.received_elsewhere),
                ),
            )?;
        }
    }
    reset_sequences(conn, &dst)?;

    // As the old province again: take the moved rows out, children first.
    set_role(conn, from)?;
    // Its own dossiers assigned to an official who leaves go back to their unit's queue.
    exec(
        conn,
        &format!(
            "UPDATE dossiers SET assignee_id = NULL WHERE assignee_id = ANY({staff}) \
             AND NOT (id = ANY({}))",
            super::merge::id_array(&set.dossiers)
        ),
    )?;
    exec(
        conn,
        "ALTER TABLE dossier_events DISABLE TRIGGER dossier_events_no_change",
    )?;
    for (table, _) in TABLES.iter().rev() {
        let Some(f) = filter(table, &set) else {
            continue;
        };
        let extra = match *table {
            // A unit a dossier left behind still names stays, retired (below).
            "units" => {
                " AND NOT EXISTS (SELECT 1 FROM dossiers d \
                        WHERE d.received_at_unit = s.code OR d.competent_unit = s.code)"
            }
            // A blob another row still uses stays (it was copied).
            "blobs" => {
                " AND NOT EXISTS (SELECT 1 FROM attachments a WHERE a.blob_id = s.id) \
                        AND NOT EXISTS (SELECT 1 FROM dossier_results r WHERE r.blob_id = s.id)"
            }
            _ => "",
        };
        exec(
            conn,
            &format!(
                "DELETE FROM {src}.{} s WHERE {f}{extra}",
                quote_ident(table)
            ),
        )?;
    }
    exec(
        conn,
        "ALTER TABLE dossier_events ENABLE TRIGGER dossier_events_no_change",
    )?;
    moved.units_kept_retired = sql_query(format!(
        "UPDATE units SET retired_at = coalesce(retired_at, now()), updated_at = now() \
         WHERE code = ANY({}) RETURNING code",
        text_array(&set.units)
    ))
    .load::<Code>(conn)?
    .into_iter()
    .map(|c| c.code)
    .collect();
    for sql in [
        format!(
            "REVOKE SELECT ON ALL TABLES IN SCHEMA {src} FROM {}",
            quote_ident(&into.role)
        ),
        format!(
            "REVOKE USAGE ON SCHEMA {src} FROM {}",
            quote_ident(&into.role)
        ),
    ] {
        exec(conn, &sql)?;
    }
    tenant_leave(conn)?;
    Ok(moved)
}

/// After a move, in the control plane: the moved codes lead to `to` (tracking looks here
/// before the code's prefix), and "my dossiers" asks `to` for the citizens whose dossiers
/// moved.
pub fn record(
    conn: &mut PgConnection,
    from: uuid::Uuid,
    to: uuid::Uuid,
    moved: &Moved,
    effective: chrono::NaiveDate,
) -> Result<(), AppError> {
    for chunk in moved.tracking_codes.chunks(10_000) {
        sql_query(
            "INSERT INTO public.moved_dossiers (tracking_code, tenant_id, moved_on) \
             SELECT code, $2, $3 FROM unnest($1::text[]) AS code \
             ON CONFLICT (tracking_code) DO UPDATE \
             SET tenant_id = EXCLUDED.tenant_id, moved_on = EXCLUDED.moved_on",
        )
        .bind::<Array<Text>, _>(chunk)
        .bind::<diesel::sql_types::Uuid, _>(to)
        .bind::<Date, _>(effective)
        .execute(conn)?;
    }
    sql_query(
        "INSERT INTO identity.citizen_provinces (citizen_id, tenant_id, since) \
         SELECT citizen_id, $2, since FROM identity.citizen_provinces \
         WHERE tenant_id = $1 AND citizen_id = ANY($3) ON CONFLICT DO NOTHING",
    )
    .bind::<diesel::sql_types::Uuid, _>(from)
    .bind::<diesel::sql_types::Uuid, _>(to)
    .bind::<Array<diesel::sql_types::Uuid>, _>(&moved.citizens)
    .execute(conn)?;
    Ok(())
}

/// The province a moved dossier is in now (by the id it was moved to), if it was moved.
pub fn holder(
    conn: &mut PgConnection,
    tracking_code: &str,
) -> Result<Option<uuid::Uuid>, AppError> {
    #[derive(QueryableByName)]
    struct Holder {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        tenant_id: uuid::Uuid,
    }
    Ok(
        sql_query("SELECT tenant_id FROM public.moved_dossiers WHERE tracking_code = $1")
            .bind::<Text, _>(tracking_code)
            .get_result::<Holder>(conn)
            .optional()?
            .map(|h| h.tenant_id),
    )
}

/// The units in force of a province (entered).
pub fn units_in_force(conn: &mut PgConnection) -> Result<Vec<String>, AppError> {
    Ok(
        sql_query("SELECT code FROM units WHERE retired_at IS NULL ORDER BY code")
            .load::<Code>(conn)?
            .into_iter()
            .map(|c| c.code)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tenant_table_either_moves_with_a_filter_or_stays() {
        let set = MoveSet::default();
        for (table, _) in TABLES {
            assert!(
                filter(table, &set).is_some() != STAYS.contains(table),
                "{table}: a move must say whether it takes the table's rows"
            );
        }
    }

    #[test]
    fn arrays_are_literals_postgres_reads() {
        assert_eq!(
            text_array(&["00004".into(), "O'K".into()]),
            "ARRAY['00004','O''K']::text[]"
        );
        assert_eq!(uuid_array(&[]), "'{}'::uuid[]");
    }
}
