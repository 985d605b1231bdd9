//! Subscription requests from the national site: pending until the operator approves
//! (provisioning, lease, first-admin invitation) or declines (with a reason, mailed).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::accounts::Email;
use crate::db::schema::subscription_requests as sr;
use crate::error::AppError;
use crate::lang::Msg;
use crate::tenancy::provision::{NewTenant, tenant_name};
use crate::tenancy::{Slug, store};

#[derive(Debug, Clone, Serialize, Queryable, Selectable, utoipa::ToSchema)]
#[schema(as = SubscriptionRequest)]
#[diesel(table_name = sr)]
pub struct Request {
    pub id: uuid::Uuid,
    pub province_name: String,
    pub slug: String,
    pub contact_email: String,
    #[serde(rename = "plan")]
    pub plan_code: String,
    pub status: String,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// Files a request (control-plane door). Refuses a slug that is a province already (409
/// `slug_taken`) or pending in another request (409 `request_pending`).
pub fn create(
    conn: &mut PgConnection,
    province_name: &str,
    slug: &str,
    contact_email: &str,
    plan: &str,
) -> Result<Request, AppError> {
    let mut errors = crate::error::FieldErrors::new();
    let name = province_name.trim();
    if let Err(m) = tenant_name(name) {
        errors.insert("province_name".into(), m);
    }
    if let Err(m) = Slug::parse(slug) {
        errors.insert("slug".into(), m);
    }
    let email = Email::parse(contact_email)
        .map_err(|m| errors.insert("contact_email".into(), m))
        .ok();
    if Slug::parse(plan).is_err() || !store::plan_exists(conn, plan)? {
        errors.insert(
            "plan".into(),
            Msg::new("Không có gói dịch vụ này.", "There is no such plan."),
        );
    }
    let Some(email) = email.filter(|_| errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    if store::find_by_slug(conn, slug)?.is_some() || store::domain_owner(conn, slug)?.is_some() {
        return Err(AppError::conflict(
            "slug_taken",
            Msg::new(
                "Mã tỉnh này đã được sử dụng.",
                "This slug is already taken.",
            ),
        ));
    }
    let inserted = diesel::insert_into(sr::table)
        .values((
            sr::id.eq(uuid::Uuid::new_v4()),
            sr::province_name.eq(name),
            sr::slug.eq(slug),
            sr::contact_email.eq(email.as_str()),
            sr::plan_code.eq(plan),
        ))
        .returning(Request::as_returning())
        .get_result(conn);
    match inserted {
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Err(AppError::conflict(
            "request_pending",
            Msg::new(
                "Đã có một yêu cầu đăng ký đang chờ duyệt cho mã tỉnh này.",
                "A request for this slug is already waiting for approval.",
            ),
        )),
        other => Ok(other?),
    }
}

pub fn list(conn: &mut PgConnection) -> Result<Vec<Request>, AppError> {
    Ok(sr::table
        .order(sr::created_at.desc())
        .limit(500)
        .select(Request::as_select())
        .load(conn)?)
}

/// Locks a pending request for a decision; 404 if unknown, 409 if already decided.
pub fn lock_pending(conn: &mut PgConnection, id: uuid::Uuid) -> Result<Request, AppError> {
    let r: Request = sr::table
        .find(id)
        .select(Request::as_select())
        .for_update()
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)?;
    if r.status != "pending" {
        return Err(AppError::conflict(
            "already_decided",
            Msg::new(
                "Yêu cầu này đã được xử lý.",
                "This request was decided already.",
            ),
        ));
    }
    Ok(r)
}

pub fn to_new_tenant(r: &Request, base_domain: &str) -> Result<NewTenant, AppError> {
    NewTenant::parse(&r.slug, &r.province_name, &r.plan_code, &[], base_domain)
        .map_err(AppError::Invalid)
}

pub fn mark(
    conn: &mut PgConnection,
    id: uuid::Uuid,
    status: &str,
    reason: Option<&str>,
    actor: &str,
    tenant: Option<uuid::Uuid>,
) -> Result<Request, AppError> {
    Ok(diesel::update(sr::table.find(id))
        .set((
            sr::status.eq(status),
            sr::reason.eq(reason),
            sr::decided_at.eq(diesel::dsl::now),
            sr::decided_by.eq(actor),
            sr::tenant_id.eq(tenant),
        ))
        .returning(Request::as_returning())
        .get_result(conn)?)
}
