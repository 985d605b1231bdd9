//! Writing a province's export: one REPEATABLE READ, READ ONLY transaction, rows streamed
//! through a cursor so big tables never sit in memory whole.

use std::collections::BTreeMap;
use std::io::Write;

use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::Text;

use super::signature::{self, SigningWriter};
use super::{FORMAT, Header, Trailer, applied_version, tenant_tables};
use crate::db::{Db, quote_ident, tenant_enter, tenant_leave};
use crate::error::AppError;
use crate::lang::Msg;
use crate::tenancy::store;

/// What an export wrote.
#[derive(Debug)]
pub struct ExportSummary {
    pub counts: BTreeMap<String, u64>,
    pub tenant_schema_version: String,
}

#[derive(QueryableByName)]
struct Json {
    #[diesel(sql_type = Text)]
    v: String,
}

fn write_err(e: std::io::Error) -> AppError {
    AppError::internal(format!("writing the export: {e}"))
}

/// Streams `select` (one column `v`: a row's JSON) into `out` as `{"t": section, "r": row}`.
fn dump(
    conn: &mut PgConnection,
    section: &str,
    select: &str,
    fetch: u32,
    out: &mut dyn Write,
    counts: &mut BTreeMap<String, u64>,
) -> Result<(), AppError> {
    sql_query(format!(
        "DECLARE portal_export NO SCROLL CURSOR FOR {select}"
    ))
    .execute(conn)?;
    let tag = serde_json::to_string(section).map_err(AppError::internal)?;
    let mut n = 0u64;
    loop {
        let rows: Vec<Json> =
            sql_query(format!("FETCH FORWARD {fetch} FROM portal_export")).load(conn)?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            writeln!(out, "{{\"t\":{tag},\"r\":{}}}", row.v).map_err(write_err)?;
            n += 1;
        }
    }
    sql_query("CLOSE portal_export").execute(conn)?;
    counts.insert(section.to_string(), n);
    Ok(())
}

/// Writes the export of province `slug` to `out`, signed with `key` (`export.signing_key`).
pub fn export(
    db: &Db,
    slug: &str,
    out: &mut dyn Write,
    key: &[u8],
) -> Result<ExportSummary, AppError> {
    let mut conn = db.checkout()?;
    let mut signed = SigningWriter {
        out,
        mac: signature::signer(key),
    };
    let out = &mut signed;
    conn.build_transaction()
        .repeatable_read()
        .read_only()
        .run(|conn| {
            sql_query(
                "SELECT set_config('search_path', 'public', true), \
                        set_config('statement_timeout', '0', true)",
            )
            .execute(conn)?;
            let tenant = store::find_by_slug(conn, slug)?.ok_or_else(|| {
                AppError::invalid(
                    "slug",
                    Msg::owned(
                        format!("Không có tỉnh \"{slug}\"."),
                        format!("There is no province \"{slug}\"."),
                    ),
                )
            })?;
            // Ids are UUIDs and formatted by us: safe to inline where a cursor needs literals.
            let id = tenant.id.0;
            let tenant_row: Json =
                sql_query("SELECT row_to_json(t)::text AS v FROM tenants t WHERE id = $1")
                    .bind::<diesel::sql_types::Uuid, _>(id)
                    .get_result(conn)?;
            let public_schema_version = applied_version(conn, "public.__diesel_schema_migrations")?;

            // The province's own rows, as its own role.
            let door = tenant.db_ref();
            tenant_enter(conn, &door)?;
            let tenant_schema_version = applied_version(conn, "__diesel_schema_migrations")?;
            let tables = tenant_tables(conn, &door.schema)?;
            let citizens: Vec<Json> = sql_query(
                "SELECT DISTINCT citizen_id::text AS v FROM \
                 (SELECT citizen_id FROM dossiers UNION SELECT citizen_id FROM drafts) c \
                 WHERE citizen_id IS NOT NULL",
            )
            .load(conn)?;
            let header = Header {
                portal_export: FORMAT,
                slug: tenant.slug.clone(),
                tenant_id: id,
                tenant_schema_version: tenant_schema_version.clone(),
                public_schema_version,
                exported_at: crate::clock::now(),
                tenant: serde_json::from_str(&tenant_row.v).map_err(AppError::internal)?,
            };
            let line = serde_json::to_string(&header).map_err(AppError::internal)?;
            writeln!(out, "{line}").map_err(write_err)?;
            let mut counts = BTreeMap::new();
            for t in &tables {
                let select = format!(
                    "SELECT row_to_json(x)::text AS v FROM {} x ORDER BY {}",
                    quote_ident(&t.name),
                    t.order_by
                );
                // Rows with file contents are fetched a few at a time.
                let fetch = if t.has_bytes { 4 } else { 500 };
                dump(conn, &format!("tenant:{}", t.name), &select, fetch, out, &mut counts)?;
            }
            tenant_leave(conn)?;

            // The province's control-plane rows. Usage only of periods not yet invoiced: the
            // invoiced ones stay with the installation that billed them.
            let open = format!(
                "NOT IN (SELECT period FROM invoices WHERE tenant_id = '{id}')"
            );
            let local_month = |col: &str| {
                format!("to_char(({col}) AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM')")
            };
            let ids: Vec<String> = citizens.into_iter().map(|c| c.v).collect();
            let control = [
                (
                    "public:tenant_domains",
                    format!("SELECT row_to_json(x)::text AS v FROM tenant_domains x WHERE tenant_id = '{id}' ORDER BY host"),
                ),
                (
                    "public:leases",
                    format!("SELECT row_to_json(x)::text AS v FROM leases x WHERE tenant_id = '{id}' ORDER BY starts_on"),
                ),
                (
                    "public:usage_events",
                    format!(
                        "SELECT row_to_json(x)::text AS v FROM usage_events x WHERE tenant_id = '{id}' AND {} {open} ORDER BY id",
                        local_month("occurred_at")
                    ),
                ),
                (
                    "public:usage_daily",
                    format!("SELECT row_to_json(x)::text AS v FROM usage_daily x WHERE tenant_id = '{id}' AND to_char(day, 'YYYY-MM') {open} ORDER BY metric, day"),
                ),
                (
                    "public:usage_period",
                    format!("SELECT row_to_json(x)::text AS v FROM usage_period x WHERE tenant_id = '{id}' AND period {open} ORDER BY metric, period"),
                ),
                (
                    // Dossiers moved to it with their unit: their codes keep the old prefix.
                    "public:moved_dossiers",
                    format!("SELECT row_to_json(x)::text AS v FROM moved_dossiers x WHERE tenant_id = '{id}' ORDER BY tracking_code"),
                ),
                (
                    "identity:citizens",
                    // Never a password hash: an imported citizen sets a new password.
                    format!(
                        "SELECT (to_jsonb(x) - 'password_hash')::text AS v FROM identity.citizens x WHERE id = ANY ('{{{}}}'::uuid[]) ORDER BY id",
                        ids.iter()
                            .filter(|v| uuid::Uuid::parse_str(v).is_ok())
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(",")
                    ),
                ),
            ];
            debug_assert!(control.iter().map(|c| c.0).eq(super::CONTROL_SECTIONS));
            for (section, select) in &control {
                dump(conn, section, select, 500, out, &mut counts)?;
            }
            let trailer = serde_json::to_string(&Trailer {
                signature: Some(signature::sign(out.mac.clone(), &counts)),
                end: counts.clone(),
            })
            .map_err(AppError::internal)?;
            // The trailer is not part of what it signs.
            writeln!(out.out, "{trailer}").map_err(write_err)?;
            out.flush().map_err(write_err)?;
            Ok(ExportSummary {
                counts,
                tenant_schema_version,
            })
        })
}
