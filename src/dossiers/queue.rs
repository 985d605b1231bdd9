//! The staff's view: dossiers by status, search by tracking code or citizen ID.

use diesel::prelude::*;

use super::status::Status;
use super::store::DossierRow;
use crate::db::schema::dossiers;
use crate::error::AppError;

#[derive(Debug, Default)]
pub struct QueueFilter {
    pub status: Option<Status>,
    /// A tracking code (exact) or a 12-digit citizen ID.
    pub query: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// Oldest due first (overdue on top), then newest submissions.
pub fn list(conn: &mut PgConnection, f: &QueueFilter) -> Result<Vec<DossierRow>, AppError> {
    let mut q = dossiers::table.select(DossierRow::as_select()).into_boxed();
    if let Some(status) = f.status {
        q = q.filter(dossiers::status.eq(status.as_str()));
    }
    if let Some(text) = f.query.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        if digits.len() == 12 && digits.len() == text.chars().filter(|c| !c.is_whitespace()).count()
        {
            q = q.filter(dossiers::applicant_id_number.eq(digits));
        } else {
            q = q.filter(dossiers::tracking_code.eq(super::tracking::normalize(text)));
        }
    }
    Ok(q.order((
        dossiers::due_on.asc().nulls_last(),
        dossiers::submitted_at.desc(),
    ))
    .limit(f.limit.clamp(1, 200))
    .offset(f.offset.max(0))
    .load(conn)?)
}

/// How many dossiers each status holds (statuses without any are absent).
pub fn counts(conn: &mut PgConnection) -> Result<Vec<(String, i64)>, AppError> {
    Ok(dossiers::table
        .group_by(dossiers::status)
        .select((dossiers::status, diesel::dsl::count_star()))
        .load(conn)?)
}
