//! A citizen's online submissions in one province: so many an hour, so many a day, and so
//! many open dossiers of one procedure. Counted from the province's own dossiers, under a
//! per-citizen transaction lock, so the limits hold across replicas and concurrent requests.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{BigInt, Integer, Text, Timestamptz};

use crate::config::LimitsSettings;
use crate::error::AppError;
use crate::ids::CitizenId;
use crate::lang::Msg;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubmissionLimits {
    pub per_hour: u32,
    pub per_day: u32,
    pub open_per_procedure: u32,
}

impl SubmissionLimits {
    /// The configured limits, or none when the per-account limits are switched off.
    pub fn from_settings(s: &LimitsSettings) -> Option<SubmissionLimits> {
        s.enabled.then_some(SubmissionLimits {
            per_hour: s.submissions_per_hour,
            per_day: s.submissions_per_day,
            open_per_procedure: s.open_per_procedure,
        })
    }
}

#[derive(QueryableByName)]
struct Counts {
    /// The oldest online submission still inside the hour / the day (when the window is full).
    #[diesel(sql_type = diesel::sql_types::Nullable<Timestamptz>)]
    hour_oldest: Option<DateTime<Utc>>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Timestamptz>)]
    day_oldest: Option<DateTime<Utc>>,
    #[diesel(sql_type = BigInt)]
    open: i64,
}

/// Refuses (429) a new online dossier of `procedure` by `citizen` beyond the limits. Takes the
/// citizen's transaction lock first: a second submission at the same moment waits for this
/// transaction and then counts its dossier.
pub fn check(
    conn: &mut PgConnection,
    citizen: CitizenId,
    procedure: &str,
    limits: SubmissionLimits,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    sql_query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
        .bind::<Integer, _>(crate::db::locks::CITIZEN_SUBMISSIONS)
        .bind::<Text, _>(citizen.to_string())
        .execute(conn)?;
    // The n-th newest submission inside a window: if it exists, the window is full, and it
    // is the one whose leaving reopens it.
    let counts: Counts = sql_query(
        "SELECT \
           (SELECT submitted_at FROM dossiers \
             WHERE citizen_id = $1 AND channel = 'online' AND submitted_at > $2 - interval '1 hour' \
             ORDER BY submitted_at DESC OFFSET $3 - 1 LIMIT 1) AS hour_oldest, \
           (SELECT submitted_at FROM dossiers \
             WHERE citizen_id = $1 AND channel = 'online' AND submitted_at > $2 - interval '1 day' \
             ORDER BY submitted_at DESC OFFSET $4 - 1 LIMIT 1) AS day_oldest, \
           (SELECT count(*) FROM dossiers \
             WHERE citizen_id = $1 AND procedure_code = $5 \
               AND status NOT IN ('returned', 'refused', 'stopped', 'withdrawn')) AS open",
    )
    .bind::<diesel::sql_types::Uuid, _>(citizen)
    .bind::<Timestamptz, _>(now)
    .bind::<BigInt, _>(i64::from(limits.per_hour))
    .bind::<BigInt, _>(i64::from(limits.per_day))
    .bind::<Text, _>(procedure)
    .get_result(conn)?;
    // The later of the two reopenings, when both windows are full.
    let reopens = [
        counts.hour_oldest.map(|t| t + Duration::hours(1)),
        counts.day_oldest.map(|t| t + Duration::days(1)),
    ]
    .into_iter()
    .flatten()
    .max();
    if let Some(at) = reopens {
        let (hour, day) = (limits.per_hour, limits.per_day);
        let vietnam = chrono::FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset");
        let when = at
            .with_timezone(&vietnam)
            .format("%H:%M %d/%m/%Y")
            .to_string();
        return Err(AppError::TooMany {
            code: "too_many_dossiers",
            msg: Msg::owned(
                format!(
                    "Bạn đã nộp quá nhiều hồ sơ trực tuyến tại tỉnh này (tối đa {hour} hồ sơ mỗi giờ, {day} hồ sơ mỗi ngày). Bạn có thể nộp tiếp từ {when} (giờ Việt Nam)."
                ),
                format!(
                    "You have filed too many dossiers online in this province (at most {hour} an hour and {day} a day). You can file again from {when} (Vietnam time)."
                ),
            ),
            retry_after_secs: (at - now).num_seconds().max(1) as u64,
        });
    }
    if counts.open >= i64::from(limits.open_per_procedure) {
        let n = limits.open_per_procedure;
        return Err(AppError::TooMany {
            code: "too_many_open_dossiers",
            msg: Msg::owned(
                format!(
                    "Bạn đã có {n} hồ sơ của thủ tục này đang được giải quyết tại tỉnh này. Bạn có thể nộp thêm khi một trong số đó đã có kết quả hoặc được rút."
                ),
                format!(
                    "You already have {n} dossiers of this procedure in progress in this province. You can file another once one of them is finished or withdrawn."
                ),
            ),
            // Nothing reopens by itself on a clock; an hour is a fair time to look again.
            retry_after_secs: 3600,
        });
    }
    Ok(())
}
