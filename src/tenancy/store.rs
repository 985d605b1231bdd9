//! Control-plane queries on tenants and their domains. Callers hold the transaction.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::{Tenant, TenantId, TenantStatus};
use crate::db::schema::{tenant_domains, tenants};
use crate::error::AppError;

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = tenants)]
struct TenantRow {
    id: uuid::Uuid,
    slug: String,
    name: String,
    status: String,
    plan_code: String,
    schema_name: String,
    role_name: String,
    code: Option<String>,
    created_at: DateTime<Utc>,
    province_code: Option<String>,
    successor_id: Option<uuid::Uuid>,
    merged_on: Option<chrono::NaiveDate>,
    former_names: Vec<String>,
}

impl TryFrom<(TenantRow, i32, i32)> for Tenant {
    type Error = AppError;

    fn try_from(
        (r, rate_limit_rps, rate_burst): (TenantRow, i32, i32),
    ) -> Result<Tenant, AppError> {
        let code = r.code.unwrap_or_else(|| super::derive_code(&r.slug));
        Ok(Tenant {
            id: TenantId(r.id),
            slug: r.slug,
            name: r.name,
            status: TenantStatus::parse(&r.status)?,
            plan: r.plan_code,
            schema: r.schema_name,
            role: r.role_name,
            code,
            rate_limit_rps,
            rate_burst,
            created_at: r.created_at,
            province_code: r.province_code,
            successor: r.successor_id.map(TenantId),
            merged_on: r.merged_on,
            former_names: r.former_names,
        })
    }
}

type WithPlan = diesel::dsl::Select<
    diesel::dsl::InnerJoin<tenants::table, crate::db::schema::plans::table>,
    (
        diesel::dsl::AsSelect<TenantRow, diesel::pg::Pg>,
        crate::db::schema::plans::rate_limit_rps,
        crate::db::schema::plans::rate_burst,
    ),
>;

/// Tenants with their plan's rate: what the registry and the API show.
fn with_plan() -> WithPlan {
    use crate::db::schema::plans;
    tenants::table.inner_join(plans::table).select((
        TenantRow::as_select(),
        plans::rate_limit_rps,
        plans::rate_burst,
    ))
}

pub fn list(conn: &mut PgConnection) -> Result<Vec<Tenant>, AppError> {
    let rows: Vec<(TenantRow, i32, i32)> = with_plan().order(tenants::slug).load(conn)?;
    rows.into_iter().map(Tenant::try_from).collect()
}

pub fn find_by_slug(conn: &mut PgConnection, slug: &str) -> Result<Option<Tenant>, AppError> {
    let row: Option<(TenantRow, i32, i32)> = with_plan()
        .filter(tenants::slug.eq(slug))
        .first(conn)
        .optional()?;
    row.map(Tenant::try_from).transpose()
}

pub fn set_status(
    conn: &mut PgConnection,
    slug: &str,
    status: TenantStatus,
) -> Result<Tenant, AppError> {
    diesel::update(tenants::table.filter(tenants::slug.eq(slug)))
        .set((
            tenants::status.eq(status.as_str()),
            tenants::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    find_by_slug(conn, slug)?.ok_or(AppError::NotFound)
}

/// Which province of the national list the tenant is.
pub fn set_province_code(
    conn: &mut PgConnection,
    id: TenantId,
    province_code: &str,
) -> Result<(), AppError> {
    diesel::update(tenants::table.find(id.0))
        .set((
            tenants::province_code.eq(province_code),
            tenants::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn update_name_plan_code(
    conn: &mut PgConnection,
    id: TenantId,
    name: &str,
    plan: &str,
    code: &str,
) -> Result<(), AppError> {
    diesel::update(tenants::table.find(id.0))
        .set((
            tenants::name.eq(name),
            tenants::plan_code.eq(plan),
            tenants::code.eq(code),
            tenants::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    Ok(())
}

/// (host, kind, tenant) for every registered host.
pub fn all_domains(conn: &mut PgConnection) -> Result<Vec<(String, String, uuid::Uuid)>, AppError> {
    Ok(tenant_domains::table
        .select((
            tenant_domains::host,
            tenant_domains::kind,
            tenant_domains::tenant_id,
        ))
        .load(conn)?)
}

pub fn custom_domains(conn: &mut PgConnection, id: TenantId) -> Result<Vec<String>, AppError> {
    Ok(tenant_domains::table
        .filter(tenant_domains::tenant_id.eq(id.0))
        .filter(tenant_domains::kind.eq("custom"))
        .select(tenant_domains::host)
        .order(tenant_domains::host)
        .load(conn)?)
}

/// Who owns a host, if anyone.
pub fn domain_owner(conn: &mut PgConnection, host: &str) -> Result<Option<uuid::Uuid>, AppError> {
    Ok(tenant_domains::table
        .filter(tenant_domains::host.eq(host))
        .select(tenant_domains::tenant_id)
        .first(conn)
        .optional()?)
}

pub fn add_domain(
    conn: &mut PgConnection,
    id: TenantId,
    host: &str,
    kind: &str,
) -> Result<(), AppError> {
    diesel::insert_into(tenant_domains::table)
        .values((
            tenant_domains::host.eq(host),
            tenant_domains::tenant_id.eq(id.0),
            tenant_domains::kind.eq(kind),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn remove_domain(conn: &mut PgConnection, id: TenantId, host: &str) -> Result<(), AppError> {
    diesel::delete(
        tenant_domains::table
            .filter(tenant_domains::tenant_id.eq(id.0))
            .filter(tenant_domains::host.eq(host)),
    )
    .execute(conn)?;
    Ok(())
}

pub fn all_codes(conn: &mut PgConnection) -> Result<Vec<String>, AppError> {
    Ok(tenants::table
        .filter(tenants::code.is_not_null())
        .select(tenants::code.assume_not_null())
        .load(conn)?)
}

pub fn code_taken(conn: &mut PgConnection, code: &str) -> Result<bool, AppError> {
    Ok(diesel::select(diesel::dsl::exists(
        tenants::table.filter(tenants::code.eq(code)),
    ))
    .get_result(conn)?)
}

pub fn plan_exists(conn: &mut PgConnection, code: &str) -> Result<bool, AppError> {
    use crate::db::schema::plans;
    Ok(diesel::select(diesel::dsl::exists(
        plans::table.filter(plans::code.eq(code)),
    ))
    .get_result(conn)?)
}
