//! Moving a province's rows into its successor's schema: every tenant table, in foreign-key
//! order, ids that could collide renumbered consistently, unit codes that collide prefixed.
//! Runs inside the caller's control-plane transaction, which it leaves as it found it
//! (`public`, the login role); the rows leave the merged schema in the same transaction, so a
//! reader sees them in one place or the other, never both or neither.

use std::collections::{BTreeMap, BTreeSet};

use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{BigInt, Text};

use crate::db::{TenantRef, quote_ident, tenant_enter, tenant_leave};
use crate::error::AppError;

/// What a merge does with a tenant table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Treatment {
    /// Moved as is: UUID keys, or keys that are moved rows' keys.
    Move,
    /// Moved with `id` (a bigserial) shifted past the successor's ids.
    Renumber,
    /// Moved unless the successor has a row with the same key: the successor's choice wins
    /// (a procedure switched off or assigned to a unit).
    SuccessorWins,
    /// Not moved: the successor's own site look (one row); the merged province's stays
    /// behind in its schema, unserved.
    Kept,
}

/// Every table of a tenant schema, in the order rows can be inserted (parents first). A test
/// compares it with the tables the tenant migrations create, so a new table cannot be
/// forgotten; a merge also refuses a schema holding a table that is not here.
pub const TABLES: &[(&str, Treatment)] = &[
    ("branding", Treatment::Kept),
    ("logo", Treatment::Kept),
    // The successor's receiving account is where its fees go; the merged one's stays behind.
    ("payment_account", Treatment::Kept),
    ("blobs", Treatment::Move),
    ("units", Treatment::Move),
    ("staff", Treatment::Move),
    ("staff_invitations", Treatment::Move),
    ("staff_units", Treatment::Move),
    ("procedure_settings", Treatment::SuccessorWins),
    ("procedure_units", Treatment::SuccessorWins),
    ("dossiers", Treatment::Renumber),
    ("dossier_events", Treatment::Renumber),
    ("attachments", Treatment::Move),
    // Its verification code stays indexed under the issuing (merged) province, which still
    // names the issuer on the verify page.
    ("dossier_results", Treatment::Move),
    ("payments", Treatment::Move),
    // Receipts keep their series and numbers (the merged province's series is its own, so
    // they cannot collide); only their ids move past the successor's.
    ("fee_receipt_counters", Treatment::Move),
    ("fee_receipts", Treatment::Renumber),
    ("ratings", Treatment::Move),
    ("outbox", Treatment::Renumber),
    // Renumbered; a citizen's draft of a procedure the successor also holds a draft of (one
    // per citizen and procedure) stays behind, whole, in the merged schema (see `move_rows`).
    ("drafts", Treatment::Renumber),
    ("draft_files", Treatment::Move),
    // Unfinished resumable uploads are not moved: they name the merged province's drafts, and
    // a citizen whose upload answers 404 after the merge simply sends the file again.
    ("uploads", Treatment::Kept),
    ("upload_parts", Treatment::Kept),
    ("tracking_failures", Treatment::Renumber),
];

/// Diesel's own bookkeeping, present in every tenant schema and never moved.
const MIGRATIONS_TABLE: &str = "__diesel_schema_migrations";

/// Columns that hold a unit code (renamed when it collides).
const UNIT_COLUMNS: &[(&str, &str)] = &[
    ("units", "code"),
    ("staff_units", "unit_code"),
    ("procedure_units", "unit_code"),
    ("dossiers", "received_at_unit"),
    ("dossiers", "competent_unit"),
];

/// Columns that hold the id of a renumbered table: (table, column, renumbered table).
const ID_REFERENCES: &[(&str, &str, &str)] = &[
    ("dossier_events", "dossier_id", "dossiers"),
    ("attachments", "dossier_id", "dossiers"),
    ("dossier_results", "dossier_id", "dossiers"),
    ("payments", "dossier_id", "dossiers"),
    ("fee_receipts", "dossier_id", "dossiers"),
    ("fee_receipts", "replaces_id", "fee_receipts"),
    ("ratings", "dossier_id", "dossiers"),
    ("outbox", "dossier_id", "dossiers"),
    ("draft_files", "draft_id", "drafts"),
];

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The tables of a schema (base tables, diesel's bookkeeping left out), sorted.
pub fn tables_of(conn: &mut PgConnection, schema: &str) -> Result<Vec<String>, AppError> {
    let rows: Vec<Name> = sql_query(
        "SELECT table_name::text AS name FROM information_schema.tables \
         WHERE table_schema = $1 AND table_type = 'BASE TABLE' AND table_name <> $2 \
         ORDER BY 1",
    )
    .bind::<Text, _>(schema)
    .bind::<Text, _>(MIGRATIONS_TABLE)
    .load(conn)?;
    Ok(rows.into_iter().map(|r| r.name).collect())
}

/// Tables of the schema a merge would not know what to do with (none, normally).
pub fn unknown_tables(
    conn: &mut PgConnection,
    tenant: &TenantRef,
) -> Result<Vec<String>, AppError> {
    tenant_enter(conn, tenant)?;
    let found = tables_of(conn, &tenant.schema);
    tenant_leave(conn)?;
    Ok(found?
        .into_iter()
        .filter(|t| !TABLES.iter().any(|(k, _)| k == t))
        .collect())
}

/// Rows per table of one province (every table of [`TABLES`]).
pub fn counts(
    conn: &mut PgConnection,
    tenant: &TenantRef,
) -> Result<BTreeMap<&'static str, i64>, AppError> {
    tenant_enter(conn, tenant)?;
    let mut out = BTreeMap::new();
    for (table, _) in TABLES {
        let c: Count = sql_query(format!("SELECT count(*) AS n FROM {}", quote_ident(table)))
            .get_result(conn)?;
        out.insert(*table, c.n);
    }
    tenant_leave(conn)?;
    Ok(out)
}

/// What a province holds that a preview and the checks need besides counts.
#[derive(Debug, Clone, Default)]
pub struct Holdings {
    pub unit_codes: BTreeSet<String>,
    pub staff_emails: BTreeSet<String>,
    /// (citizen, procedure) of each draft.
    pub draft_keys: BTreeSet<(uuid::Uuid, String)>,
    pub setting_codes: BTreeSet<String>,
    pub open_dossiers: i64,
}

pub fn holdings(conn: &mut PgConnection, tenant: &TenantRef) -> Result<Holdings, AppError> {
    use crate::db::schema::{dossiers, procedure_settings, staff, units};
    #[derive(QueryableByName)]
    struct DraftKey {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        citizen_id: uuid::Uuid,
        #[diesel(sql_type = Text)]
        procedure_code: String,
    }
    tenant_enter(conn, tenant)?;
    let h = Holdings {
        unit_codes: units::table
            .select(units::code)
            .load::<String>(conn)?
            .into_iter()
            .collect(),
        staff_emails: staff::table
            .select(staff::email)
            .load::<String>(conn)?
            .into_iter()
            .collect(),
        draft_keys: sql_query("SELECT citizen_id, procedure_code FROM drafts")
            .load::<DraftKey>(conn)?
            .into_iter()
            .map(|d| (d.citizen_id, d.procedure_code))
            .collect(),
        setting_codes: procedure_settings::table
            .select(procedure_settings::code)
            .load::<String>(conn)?
            .into_iter()
            .collect(),
        open_dossiers: dossiers::table
            .filter(dossiers::decided_at.is_null())
            .count()
            .get_result(conn)?,
    };
    tenant_leave(conn)?;
    Ok(h)
}

/// New codes for the merged province's units whose code the successor holds already:
/// `<PREFIX>-<code>` (its tracking prefix), shortened to the 20 characters a code may have.
/// Err lists the codes no free new code could be found for.
pub fn unit_renames(
    moving: &BTreeSet<String>,
    taken: &BTreeSet<String>,
    prefix: &str,
) -> Result<BTreeMap<String, String>, Vec<String>> {
    let mut out = BTreeMap::new();
    let mut used: BTreeSet<String> = taken.union(moving).cloned().collect();
    let mut failed = Vec::new();
    for code in moving.intersection(taken) {
        let room = 20usize.saturating_sub(prefix.len() + 1);
        let new = format!("{prefix}-{}", &code[..code.len().min(room)]);
        if used.contains(&new) || room == 0 {
            failed.push(code.clone());
            continue;
        }
        used.insert(new.clone());
        out.insert(code.clone(), new);
    }
    if failed.is_empty() {
        Ok(out)
    } else {
        Err(failed)
    }
}

/// Rows moved per table, and what stayed behind because the successor's won.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Moved {
    pub rows: BTreeMap<&'static str, i64>,
    pub left_behind: BTreeMap<&'static str, i64>,
    pub units_renamed: BTreeMap<String, String>,
}

pub(crate) fn set_role(conn: &mut PgConnection, tenant: &TenantRef) -> Result<(), AppError> {
    tenant_enter(conn, tenant)?;
    Ok(())
}

pub(crate) fn exec(conn: &mut PgConnection, sql: &str) -> Result<usize, AppError> {
    Ok(sql_query(sql).execute(conn)?)
}

/// Holds `tables` of `schema` (quoted) still until commit: writers wait, readers go on
/// reading the state before the move.
pub(crate) fn lock_tables(
    conn: &mut PgConnection,
    schema: &str,
    tables: &[&str],
) -> Result<(), AppError> {
    let list: Vec<String> = tables
        .iter()
        .map(|t| format!("{schema}.{}", quote_ident(t)))
        .collect();
    exec(
        conn,
        &format!("LOCK TABLE {} IN EXCLUSIVE MODE", list.join(", ")),
    )?;
    Ok(())
}

/// The columns of a table, in order.
pub(crate) fn columns(
    conn: &mut PgConnection,
    schema: &str,
    table: &str,
) -> Result<Vec<String>, AppError> {
    let cols: Vec<Name> = sql_query(
        "SELECT column_name::text AS name FROM information_schema.columns \
         WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
    )
    .bind::<Text, _>(schema)
    .bind::<Text, _>(table)
    .load(conn)?;
    Ok(cols.into_iter().map(|c| c.name).collect())
}

/// Per renumbered table of `dst` (a quoted schema name), the offset for moved ids: past both
/// the highest id and the sequence, so neither a moved row nor a later insert can meet an
/// existing id. Run as `dst`'s role with its tables locked.
pub(crate) fn renumber_offsets(
    conn: &mut PgConnection,
    dst: &str,
) -> Result<BTreeMap<&'static str, i64>, AppError> {
    let mut offsets = BTreeMap::new();
    for (table, t) in TABLES {
        if *t != Treatment::Renumber {
            continue;
        }
        let seq: Name = sql_query("SELECT pg_get_serial_sequence($1, 'id') AS name")
            .bind::<Text, _>(format!("{dst}.{}", quote_ident(table)))
            .get_result(conn)?;
        let off: Count = sql_query(format!(
            "SELECT greatest((SELECT coalesce(max(id), 0) FROM {dst}.{t}), \
                             (SELECT last_value FROM {seq})) AS n",
            t = quote_ident(table),
            seq = seq.name
        ))
        .get_result(conn)?;
        offsets.insert(*table, off.n);
    }
    Ok(offsets)
}

/// Moves the sequences of `dst`'s renumbered tables past the rows moved in.
pub(crate) fn reset_sequences(conn: &mut PgConnection, dst: &str) -> Result<(), AppError> {
    for (table, t) in TABLES {
        if *t != Treatment::Renumber {
            continue;
        }
        let seq: Name = sql_query("SELECT pg_get_serial_sequence($1, 'id') AS name")
            .bind::<Text, _>(format!("{dst}.{}", quote_ident(table)))
            .get_result(conn)?;
        exec(
            conn,
            &format!(
                "SELECT setval('{seq}', greatest((SELECT coalesce(max(id), 1) FROM {dst}.{t}), \
                                                (SELECT last_value FROM {seq})))",
                seq = seq.name.replace('\'', "''"),
                t = quote_ident(table)
            ),
        )?;
    }
    Ok(())
}

/// Moves every row of `from` into `into` (both tenant schemas at the same migration version;
/// the caller checked). `prefix` is `from`'s tracking-code prefix, for renamed unit codes.
pub fn move_rows(
    conn: &mut PgConnection,
    from: &TenantRef,
    into: &TenantRef,
    prefix: &str,
) -> Result<Moved, AppError> {
    let src = quote_ident(&from.schema);
    let dst = quote_ident(&into.schema);
    let moved_tables: Vec<&'static str> = TABLES
        .iter()
        .filter(|(_, t)| *t != Treatment::Kept)
        .map(|(n, _)| *n)
        .collect();
    // As the merged province: hold its tables still (readers go on reading the old state
    // until commit) and let the successor read them.
    set_role(conn, from)?;
    lock_tables(conn, &src, &moved_tables)?;
    exec(
        conn,
        &format!("GRANT USAGE ON SCHEMA {src} TO {}", quote_ident(&into.role)),
    )?;
    exec(
        conn,
        &format!(
            "GRANT SELECT ON ALL TABLES IN SCHEMA {src} TO {}",
            quote_ident(&into.role)
        ),
    )?;
    let src_units: BTreeSet<String> = {
        use crate::db::schema::units;
        units::table
            .select(units::code)
            .load::<String>(conn)?
            .into_iter()
            .collect()
    };

    // As the successor: hold its tables too, so no id is taken while we renumber.
    set_role(conn, into)?;
    lock_tables(conn, &dst, &moved_tables)?;
    let dst_units: BTreeSet<String> = {
        use crate::db::schema::units;
        units::table
            .select(units::code)
            .load::<String>(conn)?
            .into_iter()
            .collect()
    };
    let renames = unit_renames(&src_units, &dst_units, prefix).map_err(|codes| {
        AppError::internal(format!(
            "no free unit code for {codes:?} of {}",
            from.schema
        ))
    })?;
    let offsets = renumber_offsets(conn, &dst)?;

    let mut moved = Moved::default();
    let mut copied_drafts: Vec<i64> = Vec::new();
    for (table, treatment) in TABLES {
        if *treatment == Treatment::Kept {
            continue;
        }
        let cols = columns(conn, &into.schema, table)?;
        let exprs: Vec<String> = cols
            .iter()
            .map(|c| column_expr(table, c, *treatment, &offsets, &renames))
            .collect();
        let names: Vec<String> = cols.iter().map(|c| quote_ident(c)).collect();
        let filter = match *table {
            "drafts" => format!(
                " WHERE NOT EXISTS (SELECT 1 FROM {dst}.drafts d \
                   WHERE d.citizen_id = s.citizen_id AND d.procedure_code = s.procedure_code)"
            ),
            "draft_files" => format!(
                " WHERE EXISTS (SELECT 1 FROM {dst}.drafts d WHERE d.id = s.draft_id + {})",
                offsets["drafts"]
            ),
            _ => String::new(),
        };
        let conflict = if *treatment == Treatment::SuccessorWins {
            " ON CONFLICT DO NOTHING"
        } else {
            ""
        };
        let insert = format!(
            "INSERT INTO {dst}.{t} ({names}) SELECT {exprs} FROM {src}.{t} s{filter}{conflict}",
            t = quote_ident(table),
            names = names.join(", "),
            exprs = exprs.join(", "),
        );
        let n = if *table == "drafts" {
            // The drafts that were copied, by their id in the merged schema: only these leave
            // it (with their files); the others stay there whole.
            #[derive(QueryableByName)]
            struct Id {
                #[diesel(sql_type = BigInt)]
                id: i64,
            }
            let ids: Vec<Id> = sql_query(format!(
                "{insert} RETURNING id - {} AS id",
                offsets["drafts"]
            ))
            .load(conn)?;
            copied_drafts = ids.into_iter().map(|r| r.id).collect();
            copied_drafts.len() as i64
        } else {
            exec(conn, &insert)? as i64
        };
        let total: Count = sql_query(format!(
            "SELECT count(*) AS n FROM {src}.{}",
            quote_ident(table)
        ))
        .get_result(conn)?;
        moved.rows.insert(table, n);
        if total.n > n {
            moved.left_behind.insert(table, total.n - n);
        }
    }
    reset_sequences(conn, &dst)?;
    // As the merged province again: empty it (history included: it lives on in the
    // successor), and take back the successor's access. A draft that was not copied (the
    // citizen has one of the same procedure in the successor, one per citizen and procedure)
    // is not deleted: it stays in this schema with its files, for the operator to hand back
    // (tenant export), rather than being lost. Deleting every row of `drafts` here once
    // destroyed those drafts (issue #18).
    set_role(conn, from)?;
    exec(
        conn,
        "ALTER TABLE dossier_events DISABLE TRIGGER dossier_events_no_change",
    )?;
    let copied = id_array(&copied_drafts);
    for table in moved_tables.iter().rev() {
        let only_copied = match *table {
            "draft_files" => format!(" WHERE draft_id = ANY({copied})"),
            "drafts" => format!(" WHERE id = ANY({copied})"),
            _ => String::new(),
        };
        exec(
            conn,
            &format!("DELETE FROM {src}.{}{only_copied}", quote_ident(table)),
        )?;
    }
    exec(
        conn,
        "ALTER TABLE dossier_events ENABLE TRIGGER dossier_events_no_change",
    )?;
    // No write reaches the emptied schema after commit: a request that had the province
    // from a registry not yet reloaded, or that waited on the lock above, is refused rather
    // than leaving rows where nobody will look (reads find nothing: the rows are in the
    // successor). The role owns its tables and may take its own privileges away.
    exec(
        conn,
        &format!(
            "REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA {src} FROM {}",
            quote_ident(&from.role)
        ),
    )?;
    exec(
        conn,
        &format!(
            "REVOKE SELECT ON ALL TABLES IN SCHEMA {src} FROM {}",
            quote_ident(&into.role)
        ),
    )?;
    exec(
        conn,
        &format!(
            "REVOKE USAGE ON SCHEMA {src} FROM {}",
            quote_ident(&into.role)
        ),
    )?;
    tenant_leave(conn)?;
    moved.units_renamed = renames;
    Ok(moved)
}

/// A `bigint[]` literal of ids (numbers only: nothing to quote).
pub(crate) fn id_array(ids: &[i64]) -> String {
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    format!("'{{{}}}'::bigint[]", list.join(","))
}

/// A text literal (unit codes are validated; quotes doubled all the same).
pub(crate) fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The SELECT expression that carries one column of a moved row.
pub(crate) fn column_expr(
    table: &str,
    column: &str,
    treatment: Treatment,
    offsets: &BTreeMap<&str, i64>,
    renames: &BTreeMap<String, String>,
) -> String {
    let col = format!("s.{}", quote_ident(column));
    if treatment == Treatment::Renumber && column == "id" {
        return format!("{col} + {}", offsets[table]);
    }
    if let Some((_, _, target)) = ID_REFERENCES
        .iter()
        .find(|(t, c, _)| *t == table && *c == column)
    {
        return format!("{col} + {}", offsets[target]);
    }
    // The renamed codes are written into the statement as literals: a temporary table for
    // them would belong to the first successor's role, which the next merge's successor may
    // not read (a plan with two merges failed on it).
    if UNIT_COLUMNS.contains(&(table, column)) && !renames.is_empty() {
        let arms: String = renames
            .iter()
            .map(|(old, new)| format!(" WHEN {} THEN {}", literal(old), literal(new)))
            .collect();
        return format!("CASE {col}{arms} ELSE {col} END");
    }
    col
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn colliding_unit_codes_get_the_prefix_and_others_keep_theirs() {
        let r = unit_renames(
            &set(&["TTHCC", "SO-TP", "26734"]),
            &set(&["TTHCC", "SO-YT"]),
            "BGG",
        )
        .unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r["TTHCC"], "BGG-TTHCC");
    }

    #[test]
    fn a_long_colliding_code_is_shortened_to_twenty_characters() {
        let long = "ABCDEFGHIJKLMNOPQRST";
        let r = unit_renames(&set(&[long]), &set(&[long]), "BGG").unwrap();
        assert_eq!(r[long].len(), 20);
        assert!(r[long].starts_with("BGG-ABCDEFGHIJKLMNOP"));
    }

    #[test]
    fn a_rename_that_would_collide_again_is_reported() {
        let err = unit_renames(&set(&["X1"]), &set(&["X1", "BGG-X1"]), "BGG").unwrap_err();
        assert_eq!(err, vec!["X1".to_string()]);
    }

    #[test]
    fn every_renumbered_reference_points_at_a_renumbered_table() {
        for (_, _, target) in ID_REFERENCES {
            assert!(TABLES.contains(&(target, Treatment::Renumber)), "{target}");
        }
    }
}
