//! Provisioning creates a whole province or nothing.

use std::sync::{Arc, Mutex};

use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{BigInt, Text};
use portal::app::provisioning::{provision, provision_with};
use portal::error::AppError;
use portal::tenancy::provision::NewTenant;

use crate::helpers::{TestApp, error_code};

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(conn: &mut PgConnection, sql: &str, arg: &str) -> i64 {
    sql_query(sql)
        .bind::<Text, _>(arg)
        .get_result::<Count>(conn)
        .unwrap()
        .n
}

#[tokio::test]
async fn a_failure_after_the_schema_exists_leaves_nothing_behind() {
    let app = TestApp::spawn().await;
    let db = app.database().clone();
    let seen_role = Arc::new(Mutex::new(String::new()));
    let seen = seen_role.clone();
    let result = tokio::task::spawn_blocking(move || {
        let new =
            NewTenant::parse("bac-ninh", "Tỉnh Bắc Ninh", "standard", &[], "localhost").unwrap();
        provision_with(&db, &new, "test", |conn| {
            #[derive(QueryableByName)]
            struct Role {
                #[diesel(sql_type = Text)]
                role_name: String,
            }
            let role: Role = sql_query("SELECT role_name FROM tenants WHERE slug = 'bac-ninh'")
                .get_result(conn)?;
            // Inside the transaction the schema and the role exist.
            assert_eq!(
                count(
                    conn,
                    "SELECT count(*) AS n FROM pg_namespace WHERE nspname = $1",
                    "t_bac_ninh"
                ),
                1
            );
            *seen.lock().unwrap() = role.role_name;
            Err(AppError::internal("injected failure"))
        })
    })
    .await
    .unwrap();
    assert!(matches!(result, Err(AppError::Internal(_))));

    let role = seen_role.lock().unwrap().clone();
    assert!(role.starts_with("pt_"), "the hook saw the role: {role}");
    let mut conn = app.raw_connection();
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM pg_namespace WHERE nspname = $1",
            "t_bac_ninh"
        ),
        0
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM pg_roles WHERE rolname = $1",
            &role
        ),
        0
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM public.tenants WHERE slug = $1",
            "bac-ninh"
        ),
        0
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM public.tenant_domains WHERE host = $1",
            "bac-ninh"
        ),
        0
    );
    // And the slug is free again.
    app.create_tenant("bac-ninh", "Tỉnh Bắc Ninh").await;
}

#[tokio::test]
async fn a_custom_domain_owned_by_another_province_refuses_the_whole_tenant() {
    let app = TestApp::spawn().await;
    let db = app.database().clone();
    let result = tokio::task::spawn_blocking(move || {
        let domains = vec!["dichvucong.quangninh.gov.vn".to_string()];
        let a = NewTenant::parse(
            "quang-ninh",
            "Tỉnh Quảng Ninh",
            "standard",
            &domains,
            "localhost",
        )
        .unwrap();
        provision(&db, &a, "test").unwrap();
        let b = NewTenant::parse("ha-long", "Hạ Long", "standard", &domains, "localhost").unwrap();
        provision(&db, &b, "test")
    })
    .await
    .unwrap();
    assert!(matches!(
        result,
        Err(AppError::Conflict {
            code: "domain_taken",
            ..
        })
    ));
    let mut conn = app.raw_connection();
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM pg_namespace WHERE nspname = $1",
            "t_ha_long"
        ),
        0
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM public.tenants WHERE slug = $1",
            "ha-long"
        ),
        0
    );
}

#[tokio::test]
async fn the_api_creates_a_tenant_that_serves_on_return() {
    let app = TestApp::spawn().await;
    let token = app.operator_token().await;
    let res = app
        .post_json(
            "ops.localhost",
            "/api/v1/tenants",
            Some(&token),
            &serde_json::json!({"slug": "ninh-binh", "name": "Tỉnh Ninh Bình", "plan": "basic", "admin_email": "admin@ninhbinh.gov.vn"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["slug"], "ninh-binh");
    assert_eq!(body["status"], "active");
    assert_eq!(body["plan"], "basic");
    assert!(
        body["url"]
            .as_str()
            .unwrap()
            .starts_with("http://ninh-binh.localhost")
    );
    assert!(body["created_at"].is_string());

    let home = app.get("ninh-binh.localhost", "/").await;
    assert_eq!(home.status(), 200);
    assert!(home.text().await.unwrap().contains("Tỉnh Ninh Bình"));

    // Taken slug: 409; unknown plan: 422.
    let again = app
        .post_json(
            "ops.localhost",
            "/api/v1/tenants",
            Some(&token),
            &serde_json::json!({"slug": "ninh-binh", "name": "X", "plan": "basic"}),
        )
        .await;
    assert_eq!(again.status(), 409);
    assert_eq!(error_code(again).await, "slug_taken");
    let no_plan = app
        .post_json(
            "ops.localhost",
            "/api/v1/tenants",
            Some(&token),
            &serde_json::json!({"slug": "hue", "name": "Huế", "plan": "gold"}),
        )
        .await;
    assert_eq!(no_plan.status(), 422);
    let body: serde_json::Value = no_plan.json().await.unwrap();
    assert!(body["error"]["fields"]["plan"].is_string(), "{body}");

    // Every change is in the audit log.
    let mut conn = app.raw_connection();
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM public.audit_log WHERE target = $1 AND action = 'tenant.create'",
            "ninh-binh"
        ),
        1
    );
}

#[tokio::test]
async fn bad_slugs_are_refused_with_422() {
    let app = TestApp::spawn().await;
    let token = app.operator_token().await;
    let cases = [
        ("upper case", "Ha-noi"),
        ("leading digit", "1ha-noi"),
        ("pg prefix", "pg_catalog"),
        ("pg prefix without underscore", "pgtenant"),
        ("single quote", "ha'noi"),
        ("double quote", "ha\"noi"),
        ("semicolon", "ha;drop"),
        ("space", "ha noi"),
        ("31 characters", "a234567890123456789012345678901"),
        ("Vietnamese letters", "hà-nội"),
        ("empty", ""),
        ("underscore", "ha_noi"),
        ("reserved", "ops"),
    ];
    for (why, slug) in cases {
        let res = app
            .post_json(
                "ops.localhost",
                "/api/v1/tenants",
                Some(&token),
                &serde_json::json!({"slug": slug, "name": "Tên", "plan": "basic"}),
            )
            .await;
        assert_eq!(res.status(), 422, "{why}: {slug:?}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "validation_failed", "{why}");
        assert!(body["error"]["fields"]["slug"].is_string(), "{why}: {body}");
    }
    let mut conn = app.raw_connection();
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM public.tenants WHERE slug <> $1",
            ""
        ),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_reload_racing_another_never_brings_back_an_older_list() {
    // Other reloads run all the time (as the listener's do on every NOTIFY); one that read the
    // tenants before a province was committed must not store its list after ours.
    let app = TestApp::spawn().await;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reloaders: Vec<_> = (0..8)
        .map(|_| {
            let (registry, stop) = (app.state.registry.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let _ = registry.reload();
                }
            })
        })
        .collect();
    for i in 0..20 {
        let slug = format!("tinh-dua-{i}");
        app.create_tenant(&slug, "Tỉnh Đua").await;
        assert!(
            app.state.registry.by_slug(&slug).is_some(),
            "{slug} is known on return from its reload"
        );
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for r in reloaders {
        r.join().unwrap();
    }
}

#[tokio::test]
async fn provinces_provisioned_at_the_same_time_all_succeed_with_distinct_codes() {
    let app = TestApp::spawn().await;
    let db = app.database().clone();
    // Eight at once, whose derived codes collide (all `XA…`), as two operators approving
    // subscriptions at the same moment would.
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let db = db.clone();
            tokio::task::spawn_blocking(move || {
                let new = NewTenant::parse(
                    &format!("xa-{i:02}"),
                    &format!("Xã {i}"),
                    "basic",
                    &[],
                    "localhost",
                )
                .unwrap();
                provision(&db, &new, "test").map(|t| t.code)
            })
        })
        .collect();
    let mut codes = Vec::new();
    for h in handles {
        codes.push(h.await.unwrap().expect("every provisioning succeeds"));
    }
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), 8, "{codes:?}");
    let mut conn = app.raw_connection();
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM tenants WHERE slug LIKE $1",
            "xa-%"
        ),
        8
    );
}

#[tokio::test]
async fn the_usage_functions_acl_does_not_grow_with_the_provinces() {
    let app = TestApp::spawn().await;
    let mut conn = app.raw_connection();
    // One ACL entry per province made every provisioning rewrite a list that grew with the
    // provinces; the group role keeps it at a fixed size.
    let acl_entries = |conn: &mut PgConnection| {
        count(
            conn,
            "SELECT count(*) AS n FROM pg_proc p, aclexplode(p.proacl) a \
             WHERE p.pronamespace = 'public'::regnamespace AND p.proname = ANY(string_to_array($1, ','))",
            "record_usage,usage_threshold",
        )
    };
    let before = acl_entries(&mut conn);
    let db = app.database().clone();
    let roles = tokio::task::spawn_blocking(move || {
        (0..3)
            .map(|i| {
                let new = NewTenant::parse(&format!("xa-{i:02}"), "Xã", "basic", &[], "localhost")
                    .unwrap();
                provision(&db, &new, "test").unwrap();
                format!("xa-{i:02}")
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    assert_eq!(acl_entries(&mut conn), before);
    for slug in roles {
        // Each province may still count its usage, through the group.
        assert_eq!(
            count(
                &mut conn,
                "SELECT count(*) AS n FROM tenants \
                 WHERE slug = $1 \
                   AND has_function_privilege(role_name, \
                         'public.record_usage(text, bigint, text, timestamptz)', 'EXECUTE') \
                   AND has_function_privilege(role_name, \
                         'public.usage_threshold(text, timestamptz)', 'EXECUTE') \
                   AND pg_has_role(role_name, 'portal_tenants', 'USAGE')",
                &slug
            ),
            1,
            "{slug}"
        );
    }
}

/// Everything a tenant schema holds that the migrations make, one line each, with the
/// schema's and role's names written `S` and `R`: columns in order, relations with owner and
/// privileges, indexes, constraints, triggers, functions, rows per table (but `branding`,
/// which provisioning writes after the migrations) and the versions diesel recorded.
fn schema_fingerprint(conn: &mut PgConnection, schema: &str, role: &str) -> Vec<String> {
    #[derive(QueryableByName)]
    struct Line {
        #[diesel(sql_type = Text)]
        line: String,
    }
    let lines: Vec<Line> = sql_query(format!(
        "SELECT 'column ' || c.relname || ' ' || a.attnum || ' ' || a.attname || ' ' \
                || format_type(a.atttypid, a.atttypmod) || ' notnull=' || a.attnotnull \
                || ' default=' || coalesce(pg_get_expr(d.adbin, d.adrelid), '') AS line \
         FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 \
              AND NOT a.attisdropped \
         LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum \
         WHERE c.relnamespace = $1::regnamespace \
         UNION ALL \
         SELECT 'relation ' || c.relname || ' kind=' || c.relkind::text || ' owner=' \
                || pg_get_userbyid(c.relowner) || ' acl=' || coalesce(c.relacl::text, '') \
         FROM pg_class c WHERE c.relnamespace = $1::regnamespace \
         UNION ALL \
         SELECT 'index ' || pg_get_indexdef(i.indexrelid) \
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
         WHERE c.relnamespace = $1::regnamespace \
         UNION ALL \
         SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' \
                || pg_get_constraintdef(oid) \
         FROM pg_constraint WHERE connamespace = $1::regnamespace \
         UNION ALL \
         SELECT 'trigger ' || pg_get_triggerdef(t.oid) \
         FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
         WHERE c.relnamespace = $1::regnamespace AND NOT t.tgisinternal \
         UNION ALL \
         SELECT 'function ' || pg_get_functiondef(p.oid) || ' owner=' \
                || pg_get_userbyid(p.proowner) || ' acl=' || coalesce(p.proacl::text, '') \
         FROM pg_proc p WHERE p.pronamespace = $1::regnamespace \
         UNION ALL \
         SELECT 'schema owner=' || pg_get_userbyid(n.nspowner) || ' acl=' \
                || coalesce(n.nspacl::text, '') \
         FROM pg_namespace n WHERE n.oid = $1::regnamespace \
         UNION ALL \
         SELECT 'rows ' || c.relname || ' ' || (xpath('/row/n/text()', query_to_xml( \
                format('SELECT count(*) AS n FROM %I.%I', $2, c.relname), false, true, '')))[1]::text \
         FROM pg_class c WHERE c.relnamespace = $1::regnamespace AND c.relkind = 'r' \
              AND c.relname <> 'branding' \
         UNION ALL \
         SELECT 'migration ' || version FROM \"{schema}\".__diesel_schema_migrations"
    ))
    .bind::<Text, _>(format!("\"{schema}\""))
    .bind::<Text, _>(schema)
    .load(conn)
    .unwrap();
    let mut lines: Vec<String> = lines
        .into_iter()
        .map(|l| l.line.replace(schema, "S").replace(role, "R"))
        .collect();
    lines.sort();
    lines
}

/// Provisioning sends a new schema's migrations as one batch (`migrate::apply_new_tenant_schema`):
/// the schema must be exactly what diesel's harness makes statement by statement (what
/// `portal migrate` and provisioning on Citus do), and `portal migrate` must find it current.
#[tokio::test]
async fn a_province_made_in_one_batch_has_the_schema_the_migrations_make_one_by_one() {
    let app = TestApp::spawn().await;
    let db = app.database().clone();
    let made = tokio::task::spawn_blocking(move || {
        let new =
            NewTenant::parse("bac-ninh", "Tỉnh Bắc Ninh", "standard", &[], "localhost").unwrap();
        provision(&db, &new, "test").unwrap()
    })
    .await
    .unwrap();
    let mut conn = app.raw_connection();
    // The reference: a schema made and migrated one migration at a time by the harness.
    let id = uuid::Uuid::new_v4();
    let reference = portal::db::TenantRef {
        id: portal::tenancy::TenantId(id),
        schema: "t_one_by_one".into(),
        role: format!("pt_{}", id.simple()),
    };
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        let role = format!("\"{}\"", reference.role);
        for sql in [
            format!("CREATE ROLE {role} NOLOGIN"),
            format!("GRANT {role} TO CURRENT_USER"),
            format!("CREATE SCHEMA t_one_by_one AUTHORIZATION {role}"),
            "REVOKE ALL ON SCHEMA t_one_by_one FROM PUBLIC".into(),
            format!("GRANT portal_tenants TO {role}"),
        ] {
            sql_query(sql).execute(conn)?;
        }
        portal::db::migrate::apply_tenant_migrations(
            conn,
            &reference,
            portal::db::migrate::TENANT_MIGRATIONS,
        )
        .unwrap();
        Ok(())
    })
    .unwrap();
    let batch = schema_fingerprint(&mut conn, &made.schema, &made.role);
    let one_by_one = schema_fingerprint(&mut conn, "t_one_by_one", &reference.role);
    sql_query("DROP SCHEMA t_one_by_one CASCADE")
        .execute(&mut conn)
        .unwrap();
    sql_query(format!("DROP ROLE \"{}\"", reference.role))
        .execute(&mut conn)
        .unwrap();
    assert!(batch.iter().any(|l| l.starts_with("column dossiers ")));
    assert!(batch.iter().any(|l| l.starts_with("migration ")));
    let only_batch: Vec<_> = batch.iter().filter(|l| !one_by_one.contains(l)).collect();
    let only_harness: Vec<_> = one_by_one.iter().filter(|l| !batch.contains(l)).collect();
    assert!(
        only_batch.is_empty() && only_harness.is_empty(),
        "only in the batch: {only_batch:#?}\nonly by the harness: {only_harness:#?}"
    );
    // `portal migrate` finds nothing to do for it.
    let report = portal::db::migrate::migrate_tenants(
        app.database(),
        &portal::db::migrate::TENANT_MIGRATIONS,
        1,
        &|_, _| {},
    )
    .unwrap();
    assert!(
        report.migrated.is_empty() && report.failed.is_empty(),
        "{report:?}"
    );
}
