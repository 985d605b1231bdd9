//! Loading a province's export: provisioned through the ordinary path (tenants row, role,
//! schema, tenant migrations), then its rows, all in ONE control-plane transaction: a refused
//! or broken file leaves nothing behind.

use std::collections::BTreeMap;
use std::io::BufRead;

use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{BigInt, Text};

use super::{CONTROL_SECTIONS, FORMAT, Header, TableInfo, Trailer, applied_version, tenant_tables};
use crate::audit;
use crate::db::migrate::{TENANT_MIGRATIONS, latest_version};
use crate::db::{Db, TenantRef, quote_ident, tenant_enter, tenant_leave};
use crate::error::AppError;
use crate::lang::Msg;
use crate::tenancy::branding::Branding;
use crate::tenancy::provision::{NewTenant, provision_as};
use crate::tenancy::{Slug, Tenant, TenantId, store};

/// What an import loaded.
#[derive(Debug)]
pub struct ImportSummary {
    pub tenant: Tenant,
    pub counts: BTreeMap<String, u64>,
    /// National accounts of the file already present here (same id or same address): kept as
    /// they are here.
    pub citizens_kept: u64,
}

fn refused(en: String) -> AppError {
    AppError::conflict(
        "import_refused",
        Msg::owned(format!("Không thể nhập: {en}"), en),
    )
}

fn bad_file(en: impl std::fmt::Display) -> AppError {
    AppError::invalid(
        "file",
        Msg::owned(
            format!("Tệp xuất không hợp lệ: {en}"),
            format!("not a valid export: {en}"),
        ),
    )
}

#[derive(serde::Deserialize)]
struct RowLine {
    t: String,
    r: serde_json::Value,
}

/// Rows waiting to be inserted, one section at a time.
struct Batch {
    section: String,
    rows: Vec<String>,
    bytes: usize,
}

/// Reads an export from `input` and creates the province it holds.
pub fn import(db: &Db, input: &mut dyn BufRead, actor: &str) -> Result<ImportSummary, AppError> {
    let mut line = String::new();
    input.read_line(&mut line).map_err(bad_file)?;
    let header: Header = serde_json::from_str(&line).map_err(bad_file)?;
    if header.portal_export != FORMAT {
        return Err(bad_file(format!(
            "format {} (this release reads {FORMAT})",
            header.portal_export
        )));
    }
    let field = |k: &str| header.tenant[k].as_str().map(str::to_string);
    let (Some(name), Some(plan), Some(code), Some(status)) = (
        field("name"),
        field("plan_code"),
        field("code"),
        field("status"),
    ) else {
        return Err(bad_file("the tenants row lacks name, plan, code or status"));
    };
    let slug = Slug::parse(&header.slug).map_err(|m| bad_file(m.en))?;
    let id = TenantId(header.tenant_id);

    db.control(|conn| {
        sql_query("SELECT set_config('statement_timeout', '0', true)").execute(conn)?;
        let here_public = applied_version(conn, "public.__diesel_schema_migrations")?;
        let here_tenant = latest_version(&TENANT_MIGRATIONS).map_err(AppError::internal)?;
        if header.public_schema_version != here_public
            || header.tenant_schema_version != here_tenant
        {
            return Err(refused(format!(
                "the export's schema versions (public {}, tenant {}) differ from this installation's (public {here_public}, tenant {here_tenant}); migrate both to the same release first",
                header.public_schema_version, header.tenant_schema_version
            )));
        }
        if store::find_by_slug(conn, slug.as_str())?.is_some() {
            return Err(refused(format!("a province \"{}\" exists here already", slug.as_str())));
        }
        let id_taken: i64 = crate::db::schema::tenants::table
            .find(id.0)
            .count()
            .get_result(conn)?;
        if id_taken > 0 {
            return Err(refused(format!("a province with id {id} exists here already")));
        }

        // The ordinary path: the same checks, role, schema, migrations and registry rows.
        let new = NewTenant {
            branding: Branding::default_for(&name),
            slug: slug.clone(),
            name: name.clone(),
            plan,
            custom_domains: Vec::new(),
            code: Some(code),
        };
        let role = format!("pt_{}", uuid::Uuid::new_v4().simple());
        let tenant = provision_as(conn, &new, id, &role, actor, |_| Ok(()))?;
        let door = tenant.db_ref();

        // What provisioning seeded gives way to the file's rows.
        tenant_enter(conn, &door)?;
        let tables = tenant_tables(conn, &door.schema)?;
        for t in tables.iter().rev() {
            sql_query(format!("DELETE FROM {}", quote_ident(&t.name))).execute(conn)?;
        }
        tenant_leave(conn)?;
        sql_query("DELETE FROM tenant_domains WHERE tenant_id = $1")
            .bind::<diesel::sql_types::Uuid, _>(id.0)
            .execute(conn)?;
        sql_query("DELETE FROM leases WHERE tenant_id = $1")
            .bind::<diesel::sql_types::Uuid, _>(id.0)
            .execute(conn)?;

        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        let mut kept = 0u64;
        let mut batch: Option<Batch> = None;
        let mut trailer: Option<Trailer> = None;
        loop {
            line.clear();
            if input.read_line(&mut line).map_err(bad_file)? == 0 {
                break;
            }
            if trailer.is_some() {
                return Err(bad_file("lines after the end"));
            }
            if line.starts_with("{\"end\"") {
                trailer = Some(serde_json::from_str(&line).map_err(bad_file)?);
                continue;
            }
            let row: RowLine = serde_json::from_str(&line).map_err(bad_file)?;
            let text = row.r.to_string();
            let same = batch.as_ref().is_some_and(|b| b.section == row.t);
            let full = batch
                .as_ref()
                .is_some_and(|b| b.rows.len() >= 500 || b.bytes > 8 << 20);
            if !same || full {
                if let Some(b) = batch.take() {
                    kept += load(conn, &door, &tables, &b, &mut counts)?;
                }
                batch = Some(Batch {
                    section: row.t,
                    rows: Vec::new(),
                    bytes: 0,
                });
            }
            let b = batch.as_mut().expect("a batch");
            b.bytes += text.len();
            b.rows.push(text);
        }
        if let Some(b) = batch.take() {
            kept += load(conn, &door, &tables, &b, &mut counts)?;
        }
        let Some(trailer) = trailer else {
            return Err(bad_file("the file ends before its last line (truncated?)"));
        };
        let mut expected = trailer.end;
        expected.retain(|_, n| *n > 0);
        if expected != counts {
            return Err(bad_file(format!(
                "row counts differ from the file's own: {expected:?} != {counts:?}"
            )));
        }

        finish(conn, &door, &tables)?;
        sql_query(
            "UPDATE tenants SET status = $2, created_at = ($3::json ->> 'created_at')::timestamptz \
             WHERE id = $1",
        )
        .bind::<diesel::sql_types::Uuid, _>(id.0)
        .bind::<Text, _>(&status)
        .bind::<Text, _>(header.tenant.to_string())
        .execute(conn)?;
        crate::leasing::sync_current_plan(conn, id, crate::clock::today_vn())?;
        audit::record(
            conn,
            actor,
            crate::audit::Action::TenantImport,
            slug.as_str(),
            serde_json::json!({ "exported_at": header.exported_at, "rows": counts }),
        )?;
        // Unsent mails of the province go from here now.
        sql_query("SELECT pg_notify($1, $2)")
            .bind::<Text, _>(crate::notify::outbox::CHANNEL)
            .bind::<Text, _>(id.to_string())
            .execute(conn)?;
        let tenant = store::find_by_slug(conn, slug.as_str())?
            .ok_or_else(|| AppError::internal("imported tenant vanished"))?;
        Ok(ImportSummary {
            tenant,
            counts,
            citizens_kept: kept,
        })
    })
}

/// Inserts one batch; returns how many rows were skipped as already present (citizens only).
fn load(
    conn: &mut PgConnection,
    door: &TenantRef,
    tables: &[TableInfo],
    batch: &Batch,
    counts: &mut BTreeMap<String, u64>,
) -> Result<u64, AppError> {
    let json = format!("[{}]", batch.rows.join(","));
    let n = batch.rows.len() as u64;
    *counts.entry(batch.section.clone()).or_default() += n;
    if let Some(table) = batch.section.strip_prefix("tenant:") {
        if !tables.iter().any(|t| t.name == table) {
            return Err(bad_file(format!("no table {table:?} in a province here")));
        }
        let t = quote_ident(table);
        tenant_enter(conn, door)?;
        sql_query(format!(
            "INSERT INTO {t} SELECT * FROM json_populate_recordset(NULL::{t}, $1::json)"
        ))
        .bind::<Text, _>(&json)
        .execute(conn)?;
        tenant_leave(conn)?;
        return Ok(0);
    }
    if !CONTROL_SECTIONS.contains(&batch.section.as_str()) {
        return Err(bad_file(format!("unknown section {:?}", batch.section)));
    }
    let (table, columns, on_conflict) = match batch.section.as_str() {
        "public:tenant_domains" => ("public.tenant_domains", "*", ""),
        // Their own ids are this installation's to give.
        "public:leases" => (
            "public.leases",
            "tenant_id, plan_code, starts_on, created_at, created_by",
            "",
        ),
        "public:usage_events" => (
            "public.usage_events",
            "tenant_id, metric, quantity, occurred_at, received_at, idempotency_key",
            "",
        ),
        "public:usage_daily" => ("public.usage_daily", "*", ""),
        "public:usage_period" => ("public.usage_period", "*", ""),
        _ => ("identity.citizens", "*", "ON CONFLICT DO NOTHING"),
    };
    let into = if columns == "*" {
        String::new()
    } else {
        format!("({columns})")
    };
    let inserted = sql_query(format!(
        "INSERT INTO {table} {into} SELECT {columns} FROM json_populate_recordset(NULL::{table}, $1::json) {on_conflict}"
    ))
    .bind::<Text, _>(&json)
    .execute(conn)
    .map_err(|e| match &e {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ) if table == "public.tenant_domains" => {
            refused("a host of the province belongs to another province here".into())
        }
        _ => AppError::from(e),
    })?;
    Ok(n - inserted as u64)
}

#[derive(QueryableByName)]
struct Serial {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    sequence: String,
}

/// Every sequence of the schema continues after the highest id loaded.
fn finish(conn: &mut PgConnection, door: &TenantRef, tables: &[TableInfo]) -> Result<(), AppError> {
    tenant_enter(conn, door)?;
    let serials: Vec<Serial> = sql_query(
        "SELECT c.relname::text AS table_name, a.attname::text AS column_name, \
                pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname) AS sequence \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
         WHERE n.nspname = $1 AND c.relkind = 'r' \
           AND pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname) IS NOT NULL",
    )
    .bind::<Text, _>(&door.schema)
    .load(conn)?;
    for s in serials {
        if !tables.iter().any(|t| t.name == s.table_name) {
            continue;
        }
        #[derive(QueryableByName)]
        struct Next {
            #[diesel(sql_type = BigInt)]
            #[allow(dead_code)]
            next: i64,
        }
        sql_query(format!(
            "SELECT setval($1::regclass, coalesce(max({}), 0) + 1, false) AS next FROM {}",
            quote_ident(&s.column_name),
            quote_ident(&s.table_name)
        ))
        .bind::<Text, _>(&s.sequence)
        .get_result::<Next>(conn)?;
    }
    tenant_leave(conn)?;
    Ok(())
}
