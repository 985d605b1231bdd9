//! Backups of one province: `portal tenant export SLUG --out FILE` and `portal tenant import
//! FILE`, into this or another installation. The import itself is `app::tenant_import` (it
//! provisions and leases like every new province).
//!
//! One JSON-lines file, read in one REPEATABLE READ transaction so every line belongs to the
//! same instant:
//! 1. a header: format, slug, tenant id, the tenant and public schema versions, the `tenants` row;
//! 2. one line per row, `{"t": SECTION, "r": ROW}` (`row_to_json`, so bytea is `\x…` hex and
//!    jsonb stays JSON), sections in load order:
//!    `tenant:<table>` for every table of the tenant schema (parents before children; dossiers,
//!    history, attachments with their bytes in `blobs`, drafts, staff, outbox, logo, …), then
//!    `public:tenant_domains`, `public:leases`, `public:usage_events|usage_daily|usage_period`
//!    for the periods not yet invoiced, `public:moved_dossiers` for the dossiers it holds that
//!    were moved to it with their unit (#18: their codes keep another province's prefix, and
//!    tracking finds them by this table), and `identity:citizens` for the national accounts
//!    that filed in the province;
//! 3. a trailer `{"end": {SECTION: rows}, "signature": "hmac-sha256:…"}`: a file without it,
//!    with other counts, or whose signature does not check with `export.signing_key`, is
//!    refused (see [`signature`]).
//!
//! National accounts travel without their password hash: an imported citizen sets one anew.
//!
//! Not exported: invoices, credit notes and billed usage (they belong to the books of the
//! installation that issued them, under its gapless numbers), subscription requests, the audit
//! log, Stripe customers, and `province_stats` (recomputed by the index job).

pub mod export;
pub mod signature;

use std::collections::{BTreeMap, BTreeSet};

use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{Bool, Text};
use serde::{Deserialize, Serialize};

/// Bumped when the file's layout changes (not when the schemas do: those have versions).
pub const FORMAT: u32 = 1;

/// The control-plane and identity sections, in load order, after the tenant tables.
pub const CONTROL_SECTIONS: [&str; 7] = [
    "public:tenant_domains",
    "public:leases",
    "public:usage_events",
    "public:usage_daily",
    "public:usage_period",
    "public:moved_dossiers",
    "identity:citizens",
];

#[derive(Debug, Serialize, Deserialize)]
pub struct Header {
    pub portal_export: u32,
    pub slug: String,
    pub tenant_id: uuid::Uuid,
    /// Newest migration applied to the tenant schema.
    pub tenant_schema_version: String,
    /// Newest migration applied to `public`.
    pub public_schema_version: String,
    pub exported_at: chrono::DateTime<chrono::Utc>,
    /// The `tenants` row.
    pub tenant: serde_json::Value,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Trailer {
    pub end: BTreeMap<String, u64>,
    /// [`signature::SCHEME`] and the hex HMAC; `None` in an unsigned (refused) file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// A table of the tenant schema, as the catalogs describe it.
#[derive(Debug, Clone)]
pub struct TableInfo {
    pub name: String,
    /// Quoted primary-key columns, for a stable row order.
    pub order_by: String,
    pub has_bytes: bool,
}

#[derive(QueryableByName)]
struct TableRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    order_by: String,
    #[diesel(sql_type = Bool)]
    has_bytes: bool,
}

#[derive(QueryableByName)]
struct Edge {
    #[diesel(sql_type = Text)]
    child: String,
    #[diesel(sql_type = Text)]
    parent: String,
}

/// The tables of `schema` (diesel's bookkeeping aside), parents before the tables whose
/// foreign keys point at them; ties by name. Read from the catalogs, so a table added by a
/// later migration is exported without a code change.
pub fn tenant_tables(conn: &mut PgConnection, schema: &str) -> QueryResult<Vec<TableInfo>> {
    let tables: Vec<TableRow> = sql_query(
        "SELECT c.relname::text AS name, \
                coalesce((SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.ord) \
                          FROM pg_index i \
                          CROSS JOIN unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) \
                          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum \
                          WHERE i.indrelid = c.oid AND i.indisprimary), '1') AS order_by, \
                EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 \
                        AND a.atttypid = 'bytea'::regtype) AS has_bytes \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = $1 AND c.relkind = 'r' AND c.relname <> '__diesel_schema_migrations' \
         ORDER BY 1",
    )
    .bind::<Text, _>(schema)
    .load(conn)?;
    let edges: Vec<Edge> = sql_query(
        "SELECT s.relname::text AS child, t.relname::text AS parent \
         FROM pg_constraint k \
         JOIN pg_class s ON s.oid = k.conrelid JOIN pg_class t ON t.oid = k.confrelid \
         JOIN pg_namespace n ON n.oid = s.relnamespace \
         WHERE k.contype = 'f' AND n.nspname = $1 AND s.oid <> t.oid",
    )
    .bind::<Text, _>(schema)
    .load(conn)?;
    // Kahn's algorithm over names; the catalog rules (tests/api/citus_rules.rs) keep every
    // edge inside the schema.
    let mut waiting: BTreeMap<String, BTreeSet<String>> = tables
        .iter()
        .map(|t| (t.name.clone(), BTreeSet::new()))
        .collect();
    for e in edges {
        if let Some(parents) = waiting.get_mut(&e.child) {
            parents.insert(e.parent);
        }
    }
    let mut order = Vec::new();
    while !waiting.is_empty() {
        let ready: Vec<String> = waiting
            .iter()
            .filter(|(_, parents)| parents.iter().all(|p| !waiting.contains_key(p)))
            .map(|(name, _)| name.clone())
            .collect();
        if ready.is_empty() {
            // A cycle of foreign keys: keep the rest by name (the load would then fail loudly).
            order.extend(waiting.keys().cloned());
            break;
        }
        for name in ready {
            waiting.remove(&name);
            order.push(name);
        }
    }
    Ok(order
        .into_iter()
        .filter_map(|name| tables.iter().find(|t| t.name == name))
        .map(|t| TableInfo {
            name: t.name.clone(),
            order_by: t.order_by.clone(),
            has_bytes: t.has_bytes,
        })
        .collect())
}

#[derive(QueryableByName)]
struct Version {
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    v: Option<String>,
}

/// Newest migration applied to the schema on the current `search_path` ("" if none).
pub fn applied_version(conn: &mut PgConnection, migrations_table: &str) -> QueryResult<String> {
    Ok(sql_query(format!(
        "SELECT max(version)::text AS v FROM {migrations_table}"
    ))
    .get_result::<Version>(conn)?
    .v
    .unwrap_or_default())
}
