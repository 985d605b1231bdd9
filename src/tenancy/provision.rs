//! Creating a province: registry rows, role, schema, tables and seed rows in ONE transaction,
//! so a failure at any step leaves nothing behind.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_query;
use serde_json::json;

use super::branding::{self, Branding};
use super::host::{HostKind, classify, normalize};
use super::{Slug, Tenant, TenantId, TenantStatus, store};
use crate::audit;
use crate::db::migrate::{
    TENANT_MIGRATIONS, TENANT_SQL, apply_new_tenant_schema, apply_tenant_migrations, latest_version,
};
use crate::db::schema::tenants;
use crate::db::{TenantRef, quote_ident};
use crate::error::{AppError, FieldErrors};
use crate::lang::Msg;

/// Serialises provisioning (an advisory lock key, stable across releases).
const PROVISION_LOCK: i64 = crate::db::locks::PROVISION;
/// How long provisioning may wait for the one-at-a-time lock and run its migrations.
const PROVISION_STATEMENT_TIMEOUT: &str = "120s";

/// A province to create, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTenant {
    pub slug: Slug,
    pub name: String,
    pub plan: String,
    pub custom_domains: Vec<String>,
    pub branding: Branding,
    /// The tracking-code prefix; derived from the slug when not given.
    pub code: Option<String>,
}

impl NewTenant {
    /// Validates raw input; every bad field is reported at once.
    pub fn parse(
        slug: &str,
        name: &str,
        plan: &str,
        custom_domains: &[String],
        base_domain: &str,
    ) -> Result<NewTenant, FieldErrors> {
        let mut errors = BTreeMap::new();
        let slug = Slug::parse(slug)
            .map_err(|m| errors.insert("slug".into(), m))
            .ok();
        let name = name.trim();
        if let Err(m) = tenant_name(name) {
            errors.insert("name".into(), m);
        }
        if Slug::parse(plan).is_err() {
            errors.insert(
                "plan".into(),
                Msg::new(
                    "Mã gói dịch vụ không hợp lệ.",
                    "The plan code is not valid.",
                ),
            );
        }
        let mut domains = Vec::new();
        for d in custom_domains {
            match custom_domain(d, base_domain) {
                Ok(host) => domains.push(host),
                Err(m) => {
                    errors.insert("domains".into(), m);
                }
            }
        }
        domains.sort();
        domains.dedup();
        match slug {
            Some(slug) if errors.is_empty() => Ok(NewTenant {
                branding: Branding::default_for(name),
                slug,
                name: name.to_string(),
                plan: plan.to_string(),
                custom_domains: domains,
                code: None,
            }),
            _ => Err(errors),
        }
    }
}

pub fn tenant_name(name: &str) -> Result<(), Msg> {
    let len = name.chars().count();
    if len == 0 || len > 120 {
        return Err(Msg::new(
            "Tên tỉnh có từ 1 đến 120 ký tự.",
            "A province name has 1 to 120 characters.",
        ));
    }
    if name.contains(['<', '>']) || name.chars().any(char::is_control) {
        return Err(Msg::new(
            "Tên tỉnh không được chứa mã HTML hay ký tự điều khiển.",
            "A province name may not contain markup or control characters.",
        ));
    }
    Ok(())
}

/// A custom domain is a full host outside the platform's own base domain.
fn custom_domain(input: &str, base_domain: &str) -> Result<String, Msg> {
    let bad = || {
        Msg::owned(
            format!("Tên miền \"{input}\" không hợp lệ."),
            format!("\"{input}\" is not a valid custom domain."),
        )
    };
    let host = normalize(input)
        .filter(|h| h.contains('.'))
        .ok_or_else(bad)?;
    if input.contains(':') {
        return Err(bad());
    }
    match classify(&host, base_domain) {
        HostKind::Custom(h) => Ok(h),
        _ => Err(Msg::owned(
            format!("\"{input}\" thuộc tên miền của hệ thống; hãy dùng mã tỉnh."),
            format!("\"{input}\" is under the platform's own domain; use the slug instead."),
        )),
    }
}

/// Creates the province's rows, role, schema, tables and seed rows inside the caller's
/// control-plane transaction, with the given tenant id and role name, and its `tenant.create`
/// audit row. Its first lease is the caller's: `app::provisioning` (every way a province is
/// created goes through it) leases its plan in the same transaction. `after_schema` runs
/// right after the schema exists; tests inject failures there to prove that nothing is left
/// behind.
pub fn create_as<F>(
    conn: &mut PgConnection,
    new: &NewTenant,
    id: TenantId,
    role: &str,
    actor: &str,
    after_schema: F,
) -> Result<Tenant, AppError>
where
    F: FnOnce(&mut PgConnection) -> Result<(), AppError>,
{
    let latest = latest_version(&TENANT_MIGRATIONS).map_err(AppError::internal)?;
    // One provisioning at a time, cluster-wide, until this transaction ends: two at once
    // could draw the same free tracking-code prefix (and, before the group role, both
    // rewrote the usage functions' ACL: "tuple concurrently updated"). Provisioning is
    // rare; waiting is cheap. The wait and the schema's migrations are not a request's
    // query: under the request budget (5 s) the eighth of eight provinces approved at once
    // timed out in the queue on a busy machine, so provisioning has a budget of its own for
    // the rest of this transaction (only operators and the CLI provision).
    sql_query("SELECT set_config('statement_timeout', $1, true)")
        .bind::<diesel::sql_types::Text, _>(PROVISION_STATEMENT_TIMEOUT)
        .execute(conn)?;
    sql_query("SELECT pg_advisory_xact_lock($1)")
        .bind::<diesel::sql_types::Int8, _>(PROVISION_LOCK)
        .execute(conn)?;
    {
        if store::find_by_slug(conn, new.slug.as_str())?.is_some()
            || store::domain_owner(conn, new.slug.as_str())?.is_some()
        {
            return Err(slug_taken());
        }
        for host in &new.custom_domains {
            if store::domain_owner(conn, host)?.is_some() {
                return Err(AppError::conflict(
                    "domain_taken",
                    Msg::owned(
                        format!("Tên miền {host} đã thuộc về một tỉnh khác."),
                        format!("The domain {host} already belongs to another province."),
                    ),
                ));
            }
        }
        if !store::plan_exists(conn, &new.plan)? {
            return Err(AppError::invalid(
                "plan",
                Msg::owned(
                    format!("Không có gói dịch vụ \"{}\".", new.plan),
                    format!("There is no plan \"{}\".", new.plan),
                ),
            ));
        }

        let code = match &new.code {
            Some(code) if store::code_taken(conn, code)? => {
                return Err(AppError::conflict(
                    "code_taken",
                    Msg::owned(
                        format!("Mã viết tắt {code} đã thuộc về một tỉnh khác."),
                        format!("The code {code} already belongs to another province."),
                    ),
                ));
            }
            Some(code) => code.clone(),
            None => free_code(conn, new.slug.as_str())?,
        };
        let tenant = TenantRef {
            id,
            schema: new.slug.schema_name(),
            role: role.to_string(),
        };
        // The row first: its unique slug makes a concurrent twin wait here, then fail cleanly.
        let inserted = diesel::insert_into(tenants::table)
            .values((
                tenants::id.eq(id.0),
                tenants::slug.eq(new.slug.as_str()),
                tenants::name.eq(&new.name),
                tenants::status.eq(TenantStatus::Active.as_str()),
                tenants::plan_code.eq(&new.plan),
                tenants::schema_name.eq(&tenant.schema),
                tenants::role_name.eq(&tenant.role),
                tenants::schema_version.eq(&latest),
                tenants::code.eq(&code),
            ))
            .execute(conn);
        match inserted {
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => return Err(slug_taken()),
            other => other?,
        };

        let role = quote_ident(&tenant.role);
        let schema = quote_ident(&tenant.schema);
        // On Citus the role must reach the workers (Citus connects as the current role): it may
        // log in but has no password, and only the coordinator's address is let in as it
        // (pg_hba on the workers; docs/scaling.md). On one PostgreSQL it never logs in.
        let citus = crate::db::citus::is_citus(conn)?;
        let login = if citus {
            "LOGIN PASSWORD NULL"
        } else {
            "NOLOGIN"
        };
        sql_query(format!("CREATE ROLE {role} {login}")).execute(conn)?;
        // The app's login role may SET ROLE to it; it inherits nothing (see docs/operations.md).
        sql_query(format!("GRANT {role} TO CURRENT_USER")).execute(conn)?;
        if citus {
            crate::db::citus::begin_provisioning(conn, &tenant.role)?;
        }
        sql_query(format!("CREATE SCHEMA {schema} AUTHORIZATION {role}")).execute(conn)?;
        sql_query(format!("REVOKE ALL ON SCHEMA {schema} FROM PUBLIC")).execute(conn)?;
        // Its one way to count usage, for itself only: the group holds EXECUTE on the usage
        // functions (see the tenant_group migration: one ACL entry, not one per province).
        sql_query(format!("GRANT portal_tenants TO {role}")).execute(conn)?;
        after_schema(conn)?;

        // The new schema's tables in one message (a round trip per statement was most of a
        // provisioning's time); on Citus statement by statement, as `portal migrate` does.
        if citus {
            apply_tenant_migrations(conn, &tenant, TENANT_MIGRATIONS)
        } else {
            apply_new_tenant_schema(conn, &tenant, TENANT_SQL)
        }
        .map_err(|e| AppError::internal(format!("tenant migrations: {e}")))?;
        crate::db::tenant_enter(conn, &tenant)?;
        branding::save(conn, &new.branding)?;
        crate::db::tenant_leave(conn)?;
        if citus {
            crate::db::citus::hand_over(conn, &tenant.schema, &tenant.role)?;
            crate::db::citus::distribute(conn, &tenant.schema)?;
            crate::db::citus::place_new(tenant.schema.clone());
        }

        store::add_domain(conn, id, new.slug.as_str(), "subdomain")?;
        for host in &new.custom_domains {
            store::add_domain(conn, id, host, "custom")?;
        }
        audit::record(
            conn,
            actor,
            crate::audit::Action::TenantCreate,
            new.slug.as_str(),
            json!({ "name": new.name, "plan": new.plan, "domains": new.custom_domains }),
        )?;
        store::find_by_slug(conn, new.slug.as_str())?
            .ok_or_else(|| AppError::internal("provisioned tenant vanished"))
    }
}

/// The derived code if free; else the first free four-letter code that starts like it (one
/// query for every taken code, then a search in memory: thousands of communes stay fast).
fn free_code(conn: &mut PgConnection, slug: &str) -> Result<String, AppError> {
    let base = super::derive_code(slug);
    let taken: std::collections::HashSet<String> = store::all_codes(conn)?.into_iter().collect();
    let stems = [
        base.chars().take(3).collect::<String>(),
        base.chars().take(2).collect(),
        base.chars().take(1).collect(),
    ];
    let candidates = std::iter::once(base.clone()).chain(stems.into_iter().flat_map(move |stem| {
        let fill = 4 - stem.len();
        (0..26usize.pow(fill as u32)).map(move |mut n| {
            let mut code = stem.clone();
            for _ in 0..fill {
                code.push((b'A' + (n % 26) as u8) as char);
                n /= 26;
            }
            code
        })
    }));
    candidates
        .into_iter()
        .find(|c| super::valid_code(c) && !taken.contains(c))
        .ok_or_else(|| {
            AppError::conflict(
                "code_taken",
                Msg::new(
                    "Không tìm được mã viết tắt còn trống; hãy đặt mã trong tệp khai báo.",
                    "No free province code; set one in the manifest.",
                ),
            )
        })
}

fn slug_taken() -> AppError {
    AppError::conflict(
        "slug_taken",
        Msg::new(
            "Mã tỉnh này đã được sử dụng.",
            "This slug is already taken.",
        ),
    )
}
