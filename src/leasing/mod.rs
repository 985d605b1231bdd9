//! Leasing capacity: plans, a province's leases over time, and subscription requests.

pub mod plans;
pub mod subscriptions;

use chrono::NaiveDate;
use diesel::prelude::*;

use crate::db::schema::{leases, tenants};
use crate::error::AppError;
use crate::lang::Msg;
use crate::tenancy::TenantId;

/// Records that `plan` is leased from `starts_on` (control-plane door). A lease runs until the
/// next one starts (or its `last_day`); history is kept for proration. A lease put again on
/// the same day replaces that one, open-ended. A lease starting today or earlier also
/// becomes the tenant's current plan (which the rate limit and hard caps read).
pub fn start_lease(
    conn: &mut PgConnection,
    tenant: TenantId,
    plan: &str,
    starts_on: NaiveDate,
    actor: &str,
) -> Result<(), AppError> {
    diesel::insert_into(leases::table)
        .values((
            leases::tenant_id.eq(tenant.0),
            leases::plan_code.eq(plan),
            leases::starts_on.eq(starts_on),
            leases::created_by.eq(actor),
        ))
        .on_conflict((leases::tenant_id, leases::starts_on))
        .do_update()
        .set((
            leases::plan_code.eq(plan),
            leases::created_by.eq(actor),
            leases::created_at.eq(diesel::dsl::now),
            leases::last_day.eq(None::<NaiveDate>),
            leases::lapse_suspended_at.eq(None::<chrono::DateTime<chrono::Utc>>),
        ))
        .execute(conn)?;
    sync_current_plan(conn, tenant, crate::clock::today_vn())
}

/// Ends the province's latest lease: `last_day` is the last day billed. Refused (422
/// `last_day`) without a lease, or before the latest lease starts (a lease scheduled after
/// the day would still start: it is not this one to end). Ending again moves the day, and the
/// suspension the day after it is due again ([`lapsed`]).
pub fn end_lease(
    conn: &mut PgConnection,
    tenant: TenantId,
    last_day: NaiveDate,
) -> Result<(), AppError> {
    let latest: Option<(i64, NaiveDate)> = leases::table
        .filter(leases::tenant_id.eq(tenant.0))
        .order(leases::starts_on.desc())
        .select((leases::id, leases::starts_on))
        .for_update()
        .first(conn)
        .optional()?;
    let Some((id, starts_on)) = latest else {
        return Err(AppError::invalid(
            "last_day",
            Msg::new(
                "Tỉnh này chưa thuê gói nào để kết thúc.",
                "This province has no lease to end.",
            ),
        ));
    };
    if last_day < starts_on {
        return Err(AppError::invalid(
            "last_day",
            Msg::owned(
                format!(
                    "Ngày cuối phải từ ngày bắt đầu của lần thuê gần nhất ({}) trở đi.",
                    starts_on.format("%d/%m/%Y")
                ),
                format!(
                    "The last day cannot be before the latest lease starts ({}).",
                    starts_on.format("%d/%m/%Y")
                ),
            ),
        ));
    }
    diesel::update(leases::table.find(id))
        .set((
            leases::last_day.eq(Some(last_day)),
            leases::lapse_suspended_at.eq(None::<chrono::DateTime<chrono::Utc>>),
        ))
        .execute(conn)?;
    Ok(())
}

/// A province whose lease ended: its latest lease's last day is past and no later lease
/// starts, and the plan job has not suspended it for this end yet.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct Lapsed {
    #[diesel(sql_type = diesel::sql_types::Int8)]
    pub lease_id: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub slug: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub status: String,
    #[diesel(sql_type = diesel::sql_types::Date)]
    pub last_day: NaiveDate,
}

/// The provinces that are no longer leased on `today` ([`Lapsed`]), locked, by slug.
pub fn lapsed(conn: &mut PgConnection, today: NaiveDate) -> Result<Vec<Lapsed>, AppError> {
    Ok(diesel::sql_query(
        "SELECT l.id AS lease_id, t.slug, t.status, l.last_day \
           FROM tenants t \
           JOIN LATERAL (SELECT id, last_day, lapse_suspended_at FROM leases \
                          WHERE tenant_id = t.id \
                          ORDER BY starts_on DESC LIMIT 1) l ON true \
          WHERE l.last_day < $1 AND l.lapse_suspended_at IS NULL \
          ORDER BY t.slug \
          FOR UPDATE OF t",
    )
    .bind::<diesel::sql_types::Date, _>(today)
    .load(conn)?)
}

/// Records that the end of lease `lease_id` was acted on: the next runs leave the province be.
pub fn mark_lapse_handled(conn: &mut PgConnection, lease_id: i64) -> Result<(), AppError> {
    diesel::update(leases::table.find(lease_id))
        .set(leases::lapse_suspended_at.eq(Some(crate::clock::now())))
        .execute(conn)?;
    Ok(())
}

/// Sets `tenants.plan_code` to the lease in force on `today` (leases starting later wait).
pub fn sync_current_plan(
    conn: &mut PgConnection,
    tenant: TenantId,
    today: NaiveDate,
) -> Result<(), AppError> {
    let current: Option<String> = leases::table
        .filter(leases::tenant_id.eq(tenant.0))
        .filter(leases::starts_on.le(today))
        .order(leases::starts_on.desc())
        .select(leases::plan_code)
        .first(conn)
        .optional()?;
    if let Some(plan) = current {
        diesel::update(tenants::table.find(tenant.0))
            .set((
                tenants::plan_code.eq(plan),
                tenants::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Makes every tenant's current plan (`tenants.plan_code`: the rate limit in the registry, the
/// hard caps in `usage_add`) the lease in force on `today`, and returns the slugs it changed,
/// in order. A lease dated in the future thus takes effect on its day: the plan job runs this
/// on one replica at a time, and the `tenants` trigger's notification reloads every replica's
/// registry. Nothing is written (so nothing is notified) when every plan is current.
pub fn refresh_current_plans(
    conn: &mut PgConnection,
    today: NaiveDate,
) -> Result<Vec<String>, AppError> {
    #[derive(QueryableByName)]
    struct Due {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: uuid::Uuid,
        #[diesel(sql_type = diesel::sql_types::Text)]
        slug: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        plan_code: String,
    }
    let due: Vec<Due> = diesel::sql_query(
        "SELECT t.id, t.slug, l.plan_code \
           FROM tenants t \
           JOIN LATERAL (SELECT plan_code FROM leases \
                          WHERE tenant_id = t.id AND starts_on <= $1 \
                          ORDER BY starts_on DESC LIMIT 1) l ON true \
          WHERE l.plan_code <> t.plan_code \
          ORDER BY t.slug \
          FOR UPDATE OF t",
    )
    .bind::<diesel::sql_types::Date, _>(today)
    .load(conn)?;
    for d in &due {
        diesel::update(tenants::table.find(d.id))
            .set((
                tenants::plan_code.eq(&d.plan_code),
                tenants::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)?;
        tracing::info!(tenant = %d.slug, plan = %d.plan_code, %today, "the lease in force today is now the current plan");
    }
    Ok(due.into_iter().map(|d| d.slug).collect())
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct LeaseView {
    pub plan: String,
    pub starts_on: NaiveDate,
    pub created_by: String,
    /// The last day billed when the lease was ended; `null`: until the next lease starts.
    pub last_day: Option<NaiveDate>,
}

impl LeaseView {
    /// The first day this lease no longer runs (exclusive), given the lease after it:
    /// its `last_day` + 1 or the next start, whichever comes first; `None`: open-ended.
    pub fn ends(&self, next: Option<&LeaseView>) -> Option<NaiveDate> {
        let ended = self.last_day.and_then(|d| d.succ_opt());
        match (ended, next.map(|n| n.starts_on)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// A tenant's leases, oldest first.
pub fn history(conn: &mut PgConnection, tenant: TenantId) -> Result<Vec<LeaseView>, AppError> {
    let rows: Vec<(String, NaiveDate, String, Option<NaiveDate>)> = leases::table
        .filter(leases::tenant_id.eq(tenant.0))
        .order(leases::starts_on.asc())
        .select((
            leases::plan_code,
            leases::starts_on,
            leases::created_by,
            leases::last_day,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(plan, starts_on, created_by, last_day)| LeaseView {
            plan,
            starts_on,
            created_by,
            last_day,
        })
        .collect())
}
