//! Subscription requests from the national site: unverified until the contact address follows
//! the link mailed to it, then pending until the operator approves (provisioning, lease,
//! first-admin invitation) or declines (with a reason, mailed).
//!
//! An unverified request is not listed to the operator, cannot be decided and holds no slug.
//! A verified pending request holds its slug for `subscriptions.hold_days`; then a newer
//! request for the slug may be verified, and the older one is marked `expired`.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};
use rand::Rng;
use serde::Serialize;
use sha2::{Digest, Sha256};

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
    /// When the contact address confirmed the request (listed requests always have it).
    pub verified_at: Option<DateTime<Utc>>,
}

/// The rules a new request meets: how long its link lives, how long a verified request holds
/// its slug, and the caps on unverified requests (`None`: that cap is off).
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    pub verify_ttl_secs: i64,
    pub hold_days: i64,
    pub unverified_per_email: i64,
    pub unverified_per_client_per_hour: Option<i64>,
}

/// A filed request and the one-time token of its verification link (only its hash is stored).
#[derive(Debug)]
pub struct Filed {
    pub request: Request,
    pub token: String,
}

fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn rate_limited(msg: Msg, retry_after_secs: i64) -> AppError {
    AppError::TooMany {
        code: "rate_limited",
        msg,
        retry_after_secs: retry_after_secs.max(1) as u64,
    }
}

fn request_pending() -> AppError {
    AppError::conflict(
        "request_pending",
        Msg::new(
            "Đã có một yêu cầu đăng ký đang chờ duyệt cho mã tỉnh này.",
            "A request for this slug is already waiting for approval.",
        ),
    )
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

/// Whether a verified pending request holds `slug` (verified less than `hold_days` ago).
fn held(conn: &mut PgConnection, slug: &str, hold_days: i64) -> Result<bool, AppError> {
    let since = Utc::now() - Duration::days(hold_days);
    Ok(diesel::select(diesel::dsl::exists(
        sr::table
            .filter(sr::slug.eq(slug))
            .filter(sr::status.eq("pending"))
            .filter(sr::verified_at.gt(since)),
    ))
    .get_result(conn)?)
}

/// Serialises the caps' counts for one key (transaction lock).
fn lock_key(conn: &mut PgConnection, class: i32, key: &str) -> Result<(), AppError> {
    diesel::sql_query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
        .bind::<Integer, _>(class)
        .bind::<Text, _>(key)
        .execute(conn)?;
    Ok(())
}

/// Refuses a new unverified request past the caps: live links waiting on one address, and
/// requests filed by one client in the last hour.
fn check_caps(
    conn: &mut PgConnection,
    email: &str,
    client: &str,
    rules: &Rules,
) -> Result<(), AppError> {
    let email_key = email.to_lowercase();
    lock_key(conn, crate::db::locks::SUBSCRIPTION_EMAIL, &email_key)?;
    let waiting: Vec<Option<DateTime<Utc>>> = sr::table
        .filter(sr::verified_at.is_null())
        .filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("lower(contact_email) = ")
                .bind::<Text, _>(&email_key),
        )
        .filter(sr::verify_expires_at.gt(Utc::now()))
        .select(sr::verify_expires_at)
        .order(sr::verify_expires_at.asc())
        .load(conn)?;
    if waiting.len() as i64 >= rules.unverified_per_email {
        let first = waiting.first().copied().flatten().unwrap_or_else(Utc::now);
        return Err(rate_limited(
            Msg::new(
                "Địa chỉ thư này đang có yêu cầu chờ xác nhận. Vui lòng mở thư đã nhận, hoặc thử lại sau.",
                "Requests for this address are waiting for confirmation. Open the mail sent to it, or try again later.",
            ),
            (first - Utc::now()).num_seconds(),
        ));
    }
    if let Some(max) = rules.unverified_per_client_per_hour {
        lock_key(conn, crate::db::locks::SUBSCRIPTION_CLIENT, client)?;
        let since = Utc::now() - Duration::hours(1);
        let recent: Vec<DateTime<Utc>> = sr::table
            .filter(sr::client.eq(client))
            .filter(sr::created_at.gt(since))
            .filter(sr::verified_at.is_null())
            .select(sr::created_at)
            .order(sr::created_at.asc())
            .load(conn)?;
        if recent.len() as i64 >= max {
            let reopens = recent[0] + Duration::hours(1);
            return Err(rate_limited(
                Msg::new(
                    "Quá nhiều yêu cầu từ máy của bạn. Vui lòng thử lại sau.",
                    "Too many requests from your address. Please try again later.",
                ),
                (reopens - Utc::now()).num_seconds(),
            ));
        }
    }
    Ok(())
}

/// Files an unverified request (control-plane door) and makes its one-time verification
/// token. Refuses a slug that is a province already (409 `slug_taken`) or held by a verified
/// pending request (409 `request_pending`), and past the caps on unverified requests (429).
pub fn create(
    conn: &mut PgConnection,
    province_name: &str,
    slug: &str,
    contact_email: &str,
    plan: &str,
    client: &str,
    rules: &Rules,
) -> Result<Filed, AppError> {
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
        return Err(slug_taken());
    }
    if held(conn, slug, rules.hold_days)? {
        return Err(request_pending());
    }
    // Links nobody followed are forgotten a day after they expire.
    diesel::delete(
        sr::table
            .filter(sr::verified_at.is_null())
            .filter(sr::verify_expires_at.lt(Utc::now() - Duration::days(1))),
    )
    .execute(conn)?;
    check_caps(conn, email.as_str(), client, rules)?;
    let bytes: [u8; 32] = rand::rng().random();
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let request = diesel::insert_into(sr::table)
        .values((
            sr::id.eq(uuid::Uuid::new_v4()),
            sr::province_name.eq(name),
            sr::slug.eq(slug),
            sr::contact_email.eq(email.as_str()),
            sr::plan_code.eq(plan),
            sr::verify_token_hash.eq(hash_token(&token)),
            sr::verify_expires_at.eq(Utc::now() + Duration::seconds(rules.verify_ttl_secs)),
            sr::client.eq(client),
        ))
        .returning(Request::as_returning())
        .get_result(conn)?;
    Ok(Filed { request, token })
}

/// The request a verification token names while its link is live (unused, unexpired).
pub fn by_token(conn: &mut PgConnection, token: &str) -> Result<Request, AppError> {
    sr::table
        .filter(sr::verify_token_hash.eq(hash_token(token)))
        .filter(sr::verify_expires_at.gt(Utc::now()))
        .filter(sr::verified_at.is_null())
        .select(Request::as_select())
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)
}

/// Follows a verification link: the request is listed to the operator and holds its slug.
/// 404 for an unknown, used or expired link; 409 when the slug became a province
/// (`slug_taken`) or is held by another verified request (`request_pending`). A verified
/// request older than the hold loses its slug to this one and is marked `expired`.
pub fn verify(conn: &mut PgConnection, token: &str, hold_days: i64) -> Result<Request, AppError> {
    let r: Request = sr::table
        .filter(sr::verify_token_hash.eq(hash_token(token)))
        .filter(sr::verify_expires_at.gt(Utc::now()))
        .filter(sr::verified_at.is_null())
        .select(Request::as_select())
        .for_update()
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)?;
    if store::find_by_slug(conn, &r.slug)?.is_some() {
        return Err(slug_taken());
    }
    if held(conn, &r.slug, hold_days)? {
        return Err(request_pending());
    }
    let stale = Utc::now() - Duration::days(hold_days);
    diesel::update(
        sr::table
            .filter(sr::slug.eq(&r.slug))
            .filter(sr::status.eq("pending"))
            .filter(sr::verified_at.le(stale)),
    )
    .set((
        sr::status.eq("expired"),
        sr::decided_at.eq(diesel::dsl::now),
        sr::decided_by.eq("system"),
    ))
    .execute(conn)?;
    let verified = diesel::update(sr::table.find(r.id))
        .set((
            sr::verified_at.eq(diesel::dsl::now),
            sr::verify_token_hash.eq(None::<String>),
        ))
        .returning(Request::as_returning())
        .get_result(conn);
    match verified {
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Err(request_pending()),
        other => Ok(other?),
    }
}

/// Where a page of the operator's list starts: after this request (newest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: DateTime<Utc>,
    pub id: uuid::Uuid,
}

impl Cursor {
    /// `<microseconds since 1970>.<id>`, opaque to clients.
    pub fn encode(&self) -> String {
        format!(
            "{}.{}",
            self.created_at.timestamp_micros(),
            self.id.simple()
        )
    }

    pub fn parse(s: &str) -> Result<Cursor, AppError> {
        let bad = || {
            AppError::invalid(
                "cursor",
                Msg::new(
                    "Con trỏ trang không hợp lệ.",
                    "The page cursor is not valid.",
                ),
            )
        };
        let (micros, id) = s.split_once('.').ok_or_else(bad)?;
        let micros: i64 = micros.parse().map_err(|_| bad())?;
        Ok(Cursor {
            created_at: DateTime::from_timestamp_micros(micros).ok_or_else(bad)?,
            id: uuid::Uuid::parse_str(id).map_err(|_| bad())?,
        })
    }
}

/// One page of verified requests, newest first, and the cursor of the next page if any.
pub fn list_page(
    conn: &mut PgConnection,
    after: Option<Cursor>,
    limit: i64,
) -> Result<(Vec<Request>, Option<Cursor>), AppError> {
    let mut q = sr::table
        .filter(sr::verified_at.is_not_null())
        .order((sr::created_at.desc(), sr::id.desc()))
        .limit(limit + 1)
        .select(Request::as_select())
        .into_boxed();
    if let Some(c) = after {
        q = q.filter(
            sr::created_at
                .lt(c.created_at)
                .or(sr::created_at.eq(c.created_at).and(sr::id.lt(c.id))),
        );
    }
    let mut rows = q.load(conn)?;
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| Cursor {
            created_at: r.created_at,
            id: r.id,
        })
    } else {
        None
    };
    Ok((rows, next))
}

/// Verified requests waiting for a decision.
pub fn count_pending(conn: &mut PgConnection) -> Result<i64, AppError> {
    Ok(sr::table
        .filter(sr::verified_at.is_not_null())
        .filter(sr::status.eq("pending"))
        .count()
        .get_result(conn)?)
}

/// Locks a pending request for a decision; 404 if unknown or unverified (the operator never
/// saw it), 409 if already decided.
pub fn lock_pending(conn: &mut PgConnection, id: uuid::Uuid) -> Result<Request, AppError> {
    let r: Request = sr::table
        .find(id)
        .filter(sr::verified_at.is_not_null())
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
