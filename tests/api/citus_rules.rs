//! The schema rules Citus schema-based sharding needs, read from the catalogs of a migrated
//! installation with two provinces. Each rule is also shown to catch a violation planted in a
//! rolled-back transaction, so a rule that passes is not a query that can never fail.

use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::Text;

use crate::helpers::TestApp;

#[derive(QueryableByName, Debug)]
struct Row {
    #[diesel(sql_type = Text)]
    v: String,
}

fn rows(conn: &mut PgConnection, sql: &str) -> Vec<String> {
    sql_query(sql)
        .load::<Row>(conn)
        .unwrap_or_else(|e| panic!("{e}: {sql}"))
        .into_iter()
        .map(|r| r.v)
        .collect()
}

/// Runs `check` after `plant` inside a transaction that is always rolled back.
fn with_planted(
    conn: &mut PgConnection,
    plant: &[&str],
    check: fn(&mut PgConnection) -> Vec<String>,
) -> Vec<String> {
    let mut found = Vec::new();
    let _ = conn.transaction::<(), diesel::result::Error, _>(|c| {
        for sql in plant {
            sql_query(*sql).execute(c)?;
        }
        found = check(c);
        Err(diesel::result::Error::RollbackTransaction)
    });
    found
}

async fn two_provinces() -> (TestApp, PgConnection) {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Hà Nội").await;
    app.create_tenant("quang-ninh", "Quảng Ninh").await;
    let conn = app.raw_connection();
    (app, conn)
}

/// Foreign keys that cross a schema boundary and touch a tenant schema, either way.
fn cross_schema_foreign_keys(conn: &mut PgConnection) -> Vec<String> {
    rows(
        conn,
        "SELECT format('%s.%s -> %s.%s (%s)', sn.nspname, s.relname, tn.nspname, t.relname, c.conname) AS v \
         FROM pg_constraint c \
         JOIN pg_class s ON s.oid = c.conrelid JOIN pg_namespace sn ON sn.oid = s.relnamespace \
         JOIN pg_class t ON t.oid = c.confrelid JOIN pg_namespace tn ON tn.oid = t.relnamespace \
         WHERE c.contype = 'f' AND sn.oid <> tn.oid \
           AND (sn.nspname LIKE 't\\_%' OR tn.nspname LIKE 't\\_%') \
         ORDER BY 1",
    )
}

#[tokio::test]
async fn no_foreign_key_crosses_into_or_out_of_a_tenant_schema() {
    let (_app, mut conn) = two_provinces().await;
    // The query sees the foreign keys inside a tenant schema (so it reads the right catalog).
    let inside = rows(
        &mut conn,
        "SELECT c.conname::text AS v FROM pg_constraint c \
         JOIN pg_class s ON s.oid = c.conrelid JOIN pg_namespace n ON n.oid = s.relnamespace \
         WHERE c.contype = 'f' AND n.nspname = 't_ha_noi'",
    );
    assert!(inside.len() >= 4, "tenant foreign keys: {inside:?}");

    let found = cross_schema_foreign_keys(&mut conn);
    assert!(found.is_empty(), "cross-schema foreign keys: {found:#?}");

    // Each direction would be caught: tenant → public, tenant → tenant, public → tenant.
    for plant in [
        "ALTER TABLE t_ha_noi.dossiers ADD CONSTRAINT planted FOREIGN KEY (procedure_code) REFERENCES public.plans (code)",
        "ALTER TABLE t_ha_noi.ratings ADD CONSTRAINT planted FOREIGN KEY (dossier_id) REFERENCES t_quang_ninh.dossiers (id)",
        "ALTER TABLE public.audit_log ADD CONSTRAINT planted FOREIGN KEY (id) REFERENCES t_ha_noi.dossiers (id) NOT VALID",
    ] {
        let caught = with_planted(&mut conn, &[plant], cross_schema_foreign_keys);
        assert_eq!(caught.len(), 1, "{plant}: {caught:?}");
        assert!(caught[0].ends_with("(planted)"), "{caught:?}");
    }
}

/// Every primary-key column of a tenant schema: `schema.table.column type [singleton]`.
fn tenant_key_columns(conn: &mut PgConnection) -> Vec<String> {
    rows(
        conn,
        "SELECT format('%s.%s.%s %s%s', n.nspname, cl.relname, a.attname, \
                       format_type(a.atttypid, a.atttypmod), \
                       CASE WHEN EXISTS (SELECT 1 FROM pg_constraint ck \
                                         WHERE ck.conrelid = cl.oid AND ck.contype = 'c' \
                                           AND pg_get_constraintdef(ck.oid) = format('CHECK ((%s = 1))', a.attname)) \
                            THEN ' singleton' ELSE '' END) AS v \
         FROM pg_constraint c \
         JOIN pg_class cl ON cl.oid = c.conrelid JOIN pg_namespace n ON n.oid = cl.relnamespace \
         JOIN pg_attribute a ON a.attrelid = cl.oid AND a.attnum = ANY (c.conkey) \
         WHERE c.contype = 'p' AND n.nspname LIKE 't\\_%' \
         ORDER BY 1",
    )
}

/// Key columns of a type Citus-era ids should not have: `integer`/`serial`, or `smallint`
/// unless the table is a one-row table pinned by `CHECK (id = 1)`.
fn narrow_keys(conn: &mut PgConnection) -> Vec<String> {
    tenant_key_columns(conn)
        .into_iter()
        .filter(|line| {
            let ty = line.split_once(' ').map(|(_, t)| t).unwrap_or("");
            // A one-row table's key may be wide too (`bigint … CHECK (id = 1)`).
            let base = ty.strip_suffix(" singleton").unwrap_or(ty);
            let wide = ["bigint", "uuid", "text", "character varying"]
                .iter()
                .any(|ok| base == *ok || base.starts_with(&format!("{ok}(")));
            !(wide || ty == "smallint singleton")
        })
        .collect()
}

#[tokio::test]
async fn tenant_primary_keys_are_bigint_uuid_or_natural_text() {
    let (_app, mut conn) = two_provinces().await;
    let keys = tenant_key_columns(&mut conn);
    let hn: Vec<&String> = keys.iter().filter(|k| k.starts_with("t_ha_noi.")).collect();
    // What the tenant schema holds today (printed with --nocapture).
    println!("primary-key columns of t_ha_noi:\n{hn:#?}");
    for expected in [
        "t_ha_noi.dossiers.id bigint",
        "t_ha_noi.dossier_events.id bigint",
        "t_ha_noi.attachments.id uuid",
        "t_ha_noi.staff.id uuid",
        "t_ha_noi.procedure_settings.code text",
        "t_ha_noi.branding.id smallint singleton",
    ] {
        assert!(
            keys.iter().any(|k| k == expected),
            "{expected} in {keys:#?}"
        );
    }
    // Both provinces have the same keys.
    let qn = keys
        .iter()
        .filter(|k| k.starts_with("t_quang_ninh."))
        .count();
    assert_eq!(hn.len(), qn);

    let narrow = narrow_keys(&mut conn);
    assert!(narrow.is_empty(), "int4/serial keys: {narrow:#?}");

    let caught = with_planted(
        &mut conn,
        &["CREATE TABLE t_ha_noi.planted (id serial PRIMARY KEY)"],
        narrow_keys,
    );
    assert_eq!(caught, ["t_ha_noi.planted.id integer"]);
    let caught = with_planted(
        &mut conn,
        &["CREATE TABLE t_ha_noi.planted (id smallint PRIMARY KEY)"],
        narrow_keys,
    );
    assert_eq!(caught, ["t_ha_noi.planted.id smallint"]);
}

/// Sequences of a tenant schema that are not bigint or that back a column in another schema
/// (`citus_schema_move` moves a schema with its own sequences only).
fn stray_sequences(conn: &mut PgConnection) -> Vec<String> {
    rows(
        conn,
        "SELECT format('%s.%s %s owned by %s', sn.nspname, s.relname, format_type(q.seqtypid, NULL), \
                       coalesce(tn.nspname || '.' || t.relname, 'nothing')) AS v \
         FROM pg_sequence q \
         JOIN pg_class s ON s.oid = q.seqrelid JOIN pg_namespace sn ON sn.oid = s.relnamespace \
         LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid \
                              AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') \
         LEFT JOIN pg_class t ON t.oid = d.refobjid LEFT JOIN pg_namespace tn ON tn.oid = t.relnamespace \
         WHERE (sn.nspname LIKE 't\\_%' OR tn.nspname LIKE 't\\_%') \
           AND (q.seqtypid <> 'int8'::regtype OR tn.oid IS DISTINCT FROM sn.oid) \
         ORDER BY 1",
    )
}

#[tokio::test]
async fn tenant_sequences_are_bigint_and_belong_to_their_own_schema() {
    let (_app, mut conn) = two_provinces().await;
    let found = stray_sequences(&mut conn);
    assert!(found.is_empty(), "{found:#?}");
    let caught = with_planted(
        &mut conn,
        &["CREATE SEQUENCE t_ha_noi.planted AS integer"],
        stray_sequences,
    );
    assert_eq!(caught, ["t_ha_noi.planted integer owned by nothing"]);
}

/// Views (plain or materialised) that read a table or view of another schema, leaving out the
/// system catalogs that every schema may read.
fn cross_schema_views(conn: &mut PgConnection) -> Vec<String> {
    rows(
        conn,
        "SELECT DISTINCT format('%s.%s reads %s.%s', vn.nspname, v.relname, tn.nspname, t.relname) AS v \
         FROM pg_rewrite r \
         JOIN pg_class v ON v.oid = r.ev_class JOIN pg_namespace vn ON vn.oid = v.relnamespace \
         JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid \
                         AND d.refclassid = 'pg_class'::regclass \
         JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace \
         WHERE v.relkind IN ('v', 'm') AND t.oid <> v.oid AND vn.oid <> tn.oid \
           AND vn.nspname NOT IN ('pg_catalog', 'information_schema') \
           AND tn.nspname NOT IN ('pg_catalog', 'information_schema') \
         ORDER BY 1",
    )
}

#[tokio::test]
async fn no_view_reads_another_schemas_tables() {
    let (_app, mut conn) = two_provinces().await;
    let found = cross_schema_views(&mut conn);
    assert!(found.is_empty(), "cross-schema views: {found:#?}");

    // A view over its own schema is fine; one over public or another province is caught.
    let own = with_planted(
        &mut conn,
        &["CREATE VIEW t_ha_noi.planted AS SELECT id FROM t_ha_noi.dossiers"],
        cross_schema_views,
    );
    assert!(own.is_empty(), "{own:?}");
    for (plant, expected) in [
        (
            "CREATE VIEW t_ha_noi.planted AS SELECT slug FROM public.tenants",
            "t_ha_noi.planted reads public.tenants",
        ),
        (
            "CREATE MATERIALIZED VIEW public.planted AS SELECT id FROM t_quang_ninh.dossiers",
            "public.planted reads t_quang_ninh.dossiers",
        ),
    ] {
        let caught = with_planted(&mut conn, &[plant], cross_schema_views);
        assert_eq!(caught, [expected], "{plant}");
    }
}
