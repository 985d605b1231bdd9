//! The staff's workspace: the dossiers a staff member's scope reaches, filtered, searched,
//! sorted and paged. One query builder serves the page, the JSON API and the CSV export, so
//! the export always matches the view.

use diesel::pg::Pg;
use diesel::prelude::*;

use super::status::Status;
use super::store::DossierRow;
use crate::db::schema::dossiers;
use crate::error::AppError;
use crate::units::scope::UnitScope;

/// Open (still to be worked on), closed (finished), or both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Openness {
    #[default]
    All,
    Open,
    Closed,
}

impl Openness {
    pub fn parse(text: &str) -> Option<Openness> {
        match text {
            "" | "all" => Some(Openness::All),
            "open" => Some(Openness::Open),
            "closed" => Some(Openness::Closed),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Openness::All => "all",
            Openness::Open => "open",
            Openness::Closed => "closed",
        }
    }
}

/// The order of the list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    /// Nearest deadline first (overdue on top), then newest submissions.
    #[default]
    Deadline,
    /// Newest submissions first.
    Newest,
    /// Oldest submissions first.
    Oldest,
}

impl Sort {
    pub fn parse(text: &str) -> Option<Sort> {
        match text {
            "" | "deadline" => Some(Sort::Deadline),
            "newest" => Some(Sort::Newest),
            "oldest" => Some(Sort::Oldest),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Deadline => "deadline",
            Sort::Newest => "newest",
            Sort::Oldest => "oldest",
        }
    }
}

/// The overdue watch's flags, as a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    Overdue,
    DueSoon,
}

impl Flag {
    pub fn parse(text: &str) -> Option<Flag> {
        match text {
            "overdue" => Some(Flag::Overdue),
            "due_soon" => Some(Flag::DueSoon),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Flag::Overdue => "overdue",
            Flag::DueSoon => "due_soon",
        }
    }
}

#[derive(Debug, Default, Clone)]
pub struct QueueFilter {
    pub status: Option<Status>,
    /// A tracking code (exact), a 12-digit citizen ID, or part of the applicant's name.
    pub query: Option<String>,
    pub procedure: Option<String>,
    /// The competent unit.
    pub unit: Option<String>,
    pub channel: Option<String>,
    pub assignee: Option<uuid::Uuid>,
    pub flag: Option<Flag>,
    pub open: Openness,
    pub sort: Sort,
    pub limit: i64,
    pub offset: i64,
}

/// The most rows one page (or one export) holds.
pub const MAX_PAGE: i64 = 200;
/// The most rows one CSV export holds.
pub const MAX_EXPORT: i64 = 10_000;

use crate::units::sync::FINAL_STATUSES as FINAL;

fn filtered<'a>(scope: &UnitScope, f: &QueueFilter) -> dossiers::BoxedQuery<'a, Pg> {
    let mut q = scope.visible(dossiers::table.into_boxed());
    if let Some(status) = f.status {
        q = q.filter(dossiers::status.eq(status.as_str()));
    }
    match f.open {
        Openness::All => {}
        Openness::Open => q = q.filter(dossiers::status.ne_all(FINAL)),
        Openness::Closed => q = q.filter(dossiers::status.eq_any(FINAL)),
    }
    if let Some(p) = f.procedure.clone() {
        q = q.filter(dossiers::procedure_code.eq(p));
    }
    if let Some(u) = f.unit.clone() {
        q = q.filter(dossiers::competent_unit.eq(u));
    }
    if let Some(c) = f.channel.clone() {
        q = q.filter(dossiers::channel.eq(c));
    }
    if let Some(a) = f.assignee {
        q = q.filter(dossiers::assignee_id.eq(a));
    }
    if let Some(flag) = f.flag {
        q = q.filter(dossiers::due_flag.eq(flag.as_str()));
    }
    if let Some(text) = f.query.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        let compact = text.chars().filter(|c| !c.is_whitespace()).count();
        let code = super::tracking::normalize(text);
        if digits.len() == 12 && digits.len() == compact {
            q = q.filter(dossiers::applicant_id_number.eq(digits));
        } else if code.contains('-') && code.chars().any(|c| c.is_ascii_digit()) {
            q = q.filter(dossiers::tracking_code.eq(code));
        } else {
            // Part of a name: the pattern's own wildcards are escaped.
            let escaped = text
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            q = q.filter(dossiers::applicant_name.ilike(format!("%{escaped}%")));
        }
    }
    q
}

/// One page of the queue.
pub fn list(
    conn: &mut PgConnection,
    scope: &UnitScope,
    f: &QueueFilter,
) -> Result<Vec<DossierRow>, AppError> {
    page(conn, scope, f, f.limit.clamp(1, MAX_PAGE))
}

/// The whole filtered view (at most [`MAX_EXPORT`] rows), for the CSV export.
pub fn export(
    conn: &mut PgConnection,
    scope: &UnitScope,
    f: &QueueFilter,
) -> Result<Vec<DossierRow>, AppError> {
    let f = QueueFilter {
        offset: 0,
        ..f.clone()
    };
    page(conn, scope, &f, MAX_EXPORT)
}

fn page(
    conn: &mut PgConnection,
    scope: &UnitScope,
    f: &QueueFilter,
    limit: i64,
) -> Result<Vec<DossierRow>, AppError> {
    let q = filtered(scope, f).select(DossierRow::as_select());
    let q = match f.sort {
        Sort::Deadline => q.order((
            dossiers::due_on.asc().nulls_last(),
            dossiers::submitted_at.desc(),
        )),
        Sort::Newest => q.order(dossiers::submitted_at.desc()),
        Sort::Oldest => q.order(dossiers::submitted_at.asc()),
    };
    Ok(q.then_order_by(dossiers::id.desc())
        .limit(limit)
        .offset(f.offset.max(0))
        .load(conn)?)
}

/// How many dossiers the filtered view holds (for "1–50 of 1,234").
pub fn count(conn: &mut PgConnection, scope: &UnitScope, f: &QueueFilter) -> Result<i64, AppError> {
    Ok(filtered(scope, f).count().get_result(conn)?)
}

/// The filtered view's total read off [`counts`] when the filter narrows by status alone (the
/// page's default view and its status tabs): the same number without a second pass over the
/// scope, which was half of the page's time at 100,000 dossiers. `None` for any other filter.
pub fn total_from_counts(counts: &[(String, i64)], f: &QueueFilter) -> Option<i64> {
    let by_status_only = f.query.as_deref().map(str::trim).is_none_or(str::is_empty)
        && f.procedure.is_none()
        && f.unit.is_none()
        && f.channel.is_none()
        && f.assignee.is_none()
        && f.flag.is_none();
    if !by_status_only {
        return None;
    }
    let counted = |status: &str| {
        f.status.is_none_or(|s| s.as_str() == status)
            && match f.open {
                Openness::All => true,
                Openness::Open => !FINAL.contains(&status),
                Openness::Closed => FINAL.contains(&status),
            }
    };
    Some(
        counts
            .iter()
            .filter(|(status, _)| counted(status))
            .map(|(_, n)| n)
            .sum(),
    )
}

/// How many dossiers each status holds within the scope (statuses without any are absent).
pub fn counts(conn: &mut PgConnection, scope: &UnitScope) -> Result<Vec<(String, i64)>, AppError> {
    Ok(dossiers::table
        .filter(scope.predicate())
        .group_by(dossiers::status)
        .select((dossiers::status, diesel::dsl::count_star()))
        .load(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_final_statuses_written_out_for_sql_are_the_final_statuses() {
        let mut a: Vec<&str> = Status::ALL
            .into_iter()
            .filter(|s| s.is_final())
            .map(Status::as_str)
            .collect();
        let mut b = FINAL.to_vec();
        a.sort();
        b.sort();
        assert_eq!(a, b);
    }
}

/// The workspace's filters as a query string gives them (`?status=&q=&procedure=&unit=&
/// channel=&assignee=&flag=&open=&sort=&page=`), shared by the page, the JSON API and the CSV
/// export. Empty values mean "any"; a value outside its set is 422 on that parameter.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
#[serde(default)]
pub struct QueueParams {
    pub status: Option<String>,
    pub q: Option<String>,
    pub procedure: Option<String>,
    pub unit: Option<String>,
    pub channel: Option<String>,
    pub assignee: Option<String>,
    pub flag: Option<String>,
    pub open: Option<String>,
    pub sort: Option<String>,
    pub page: Option<i64>,
}

impl QueueParams {
    pub fn filter(&self, per_page: i64) -> Result<QueueFilter, AppError> {
        use crate::lang::Msg;
        let given = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
        };
        let bad = |field: &str| {
            AppError::invalid(
                field,
                Msg::new(
                    "Giá trị lọc không hợp lệ.",
                    "Not a value this filter knows.",
                ),
            )
        };
        let status = match given(&self.status) {
            Some(s) => Some(Status::parse(&s).map_err(|_| {
                AppError::invalid(
                    "status",
                    Msg::new("Trạng thái không hợp lệ.", "Unknown status."),
                )
            })?),
            None => None,
        };
        let channel = given(&self.channel);
        if channel
            .as_deref()
            .is_some_and(|c| c != "online" && c != "counter")
        {
            return Err(bad("channel"));
        }
        let assignee = match given(&self.assignee) {
            Some(a) => Some(uuid::Uuid::parse_str(&a).map_err(|_| bad("assignee"))?),
            None => None,
        };
        let flag = match given(&self.flag) {
            Some(f) => Some(Flag::parse(&f).ok_or_else(|| bad("flag"))?),
            None => None,
        };
        let open = Openness::parse(self.open.as_deref().unwrap_or("").trim())
            .ok_or_else(|| bad("open"))?;
        let sort =
            Sort::parse(self.sort.as_deref().unwrap_or("").trim()).ok_or_else(|| bad("sort"))?;
        let per_page = per_page.clamp(1, MAX_PAGE);
        Ok(QueueFilter {
            status,
            query: given(&self.q),
            procedure: given(&self.procedure),
            unit: given(&self.unit),
            channel,
            assignee,
            flag,
            open,
            sort,
            limit: per_page,
            // Bounded: `page * per_page` must not overflow.
            offset: (self.page.unwrap_or(1).clamp(1, 10_000) - 1) * per_page,
        })
    }
}
