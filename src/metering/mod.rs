//! Exact metering: every counted fact is one usage event with a key taken from the fact
//! itself, written in the same transaction as the fact (so the count can never disagree with
//! the data), through `public.record_usage`, which also enforces the plan's hard caps.

pub mod api_calls;
pub mod clients;
pub mod limiter;
pub mod sampling;
pub mod usage;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamptz};
use serde::Serialize;

use crate::accounts::staff;
use crate::error::AppError;
use crate::lang::Msg;
use crate::notify::outbox::{self, NewMail};
use crate::tenancy::Tenant;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Dossiers,
    StorageBytes,
    ApiCalls,
    Emails,
    Seats,
}

impl Metric {
    pub const ALL: [Metric; 5] = [
        Metric::Dossiers,
        Metric::StorageBytes,
        Metric::ApiCalls,
        Metric::Emails,
        Metric::Seats,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Dossiers => "dossiers",
            Metric::StorageBytes => "storage_bytes",
            Metric::ApiCalls => "api_calls",
            Metric::Emails => "emails",
            Metric::Seats => "seats",
        }
    }

    pub fn parse(s: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// Gauges keep the period's maximum; counters add up.
    pub fn is_gauge(self) -> bool {
        matches!(self, Metric::StorageBytes | Metric::Seats)
    }

    pub fn label(self, lang: crate::lang::Lang) -> &'static str {
        let (vi, en) = match self {
            Metric::Dossiers => ("Hồ sơ", "Dossiers"),
            Metric::StorageBytes => ("Dung lượng lưu trữ (byte)", "Storage (bytes)"),
            Metric::ApiCalls => ("Lượt gọi API", "API calls"),
            Metric::Emails => ("Thư điện tử", "Emails"),
            Metric::Seats => ("Tài khoản cán bộ", "Staff seats"),
        };
        match lang {
            crate::lang::Lang::Vi => vi,
            crate::lang::Lang::En => en,
        }
    }
}

#[derive(QueryableByName)]
struct Counted {
    #[diesel(sql_type = Nullable<BigInt>)]
    total: Option<i64>,
    /// The share of the allowance newly reached (80 or 100), else 0.
    #[diesel(sql_type = Integer)]
    level: i32,
}

/// Counts a fact inside the tenant's door. Returns the period's new total, or `None` when the
/// key was counted before. A hard cap refuses with 429 `quota_exceeded` and, being an error,
/// rolls back the whole transaction: the action it counted is not written either.
pub fn record(
    conn: &mut PgConnection,
    tenant: &Tenant,
    metric: Metric,
    quantity: i64,
    key: &str,
    at: DateTime<Utc>,
) -> Result<Option<i64>, AppError> {
    // One round trip: the count, then (only for a new event: the subquery is evaluated
    // first) whether it crossed 80% or 100% of the allowance.
    let counted = sql_query(
        "SELECT c.total, \
                CASE WHEN c.total IS NULL THEN 0 \
                     ELSE public.usage_threshold($1, $4) END AS level \
           FROM (SELECT public.record_usage($1, $2, $3, $4) AS total OFFSET 0) c",
    )
    .bind::<Text, _>(metric.as_str())
    .bind::<BigInt, _>(quantity)
    .bind::<Text, _>(key)
    .bind::<Timestamptz, _>(at)
    .get_result::<Counted>(conn)
    .map_err(quota_error)?;
    if counted.level != 0 {
        announce_threshold(conn, tenant, metric, at, counted.level)?;
    }
    Ok(counted.total)
}

/// `quota_exceeded:<metric>:<cap>` from the database → 429 naming the cap, in both languages.
pub(crate) fn quota_error(e: diesel::result::Error) -> AppError {
    if let diesel::result::Error::DatabaseError(_, info) = &e
        && let Some(rest) = info.message().strip_prefix("quota_exceeded:")
    {
        let (metric, cap) = rest.split_once(':').unwrap_or((rest, "?"));
        let m = Metric::parse(metric).unwrap_or(Metric::Dossiers);
        let next_month = crate::period::Period::of(crate::clock::today_vn()).end();
        let wait = (next_month - crate::clock::today_vn())
            .num_seconds()
            .max(60) as u64;
        return AppError::TooMany {
            code: "quota_exceeded",
            msg: Msg::owned(
                format!(
                    "Tỉnh đã dùng hết hạn mức tối đa của gói thuê cho \"{}\" ({cap}) trong tháng này. Vui lòng liên hệ quản trị viên của tỉnh.",
                    m.label(crate::lang::Lang::Vi)
                ),
                format!(
                    "This province has reached its plan's hard cap for \"{}\" ({cap}) this month. Please contact the province's administrator.",
                    m.label(crate::lang::Lang::En)
                ),
            ),
            retry_after_secs: wait,
        };
    }
    AppError::from(e)
}

/// At 80% and 100% of the allowance, once per period each, the province admins are mailed
/// (in the same transaction, so the notice and the mark agree).
pub(crate) fn announce_threshold(
    conn: &mut PgConnection,
    tenant: &Tenant,
    metric: Metric,
    at: DateTime<Utc>,
    level: i32,
) -> Result<(), AppError> {
    let period = crate::period::Period::of((at + chrono::Duration::hours(7)).date_naive());
    let (vi, en) = (
        metric.label(crate::lang::Lang::Vi),
        metric.label(crate::lang::Lang::En),
    );
    let subject = format!(
        "[{}] Đã dùng {level}% hạn mức \"{vi}\" / {level}% of the \"{en}\" allowance used ({period})",
        tenant.name
    );
    let body = format!(
        "{} đã dùng {level}% mức \"{vi}\" có trong gói thuê của tháng {period}.\n\
         Phần vượt mức được tính phí theo đơn giá của gói.\n\n\
         {} has used {level}% of the \"{en}\" included in its plan for {period}.\n\
         Usage over the allowance is billed at the plan's unit price.\n",
        tenant.name, tenant.name
    );
    for (id, email, role) in staff::active_emails(conn)? {
        if role != "admin" {
            continue;
        }
        let key = format!("quota:{}:{period}:{level}:{id}", metric.as_str());
        let mail = NewMail {
            kind: "quota_notice",
            dossier_id: None,
            to: &email,
            subject: &subject,
            body: &body,
        };
        outbox::enqueue_once(conn, tenant.id, &key, &mail)?;
    }
    Ok(())
}

/// A province's mail handed to the mail server (the mail worker's hook, in the transaction
/// that marks it sent): one of its `emails`, keyed by the outbox id.
pub fn count_sent_mail(
    conn: &mut PgConnection,
    tenant: &Tenant,
    mail_id: i64,
) -> Result<(), AppError> {
    let key = format!("mail:{mail_id}:sent");
    record(conn, tenant, Metric::Emails, 1, &key, crate::clock::now()).map(|_| ())
}

/// After a staff account is granted (or re-activated): the active seats as a gauge. The plan's
/// seat cap refuses the grant itself.
pub fn record_seats(conn: &mut PgConnection, tenant: &Tenant, key: &str) -> Result<(), AppError> {
    let seats = sampling::seats(conn)?;
    record(conn, tenant, Metric::Seats, seats, key, crate::clock::now()).map(|_| ())
}
