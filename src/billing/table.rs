//! The operator's invoices as a table: filtered (period, status, province), sorted, a page at
//! a time, with totals over every matching invoice (not only the page shown); and the same
//! rows whole for the CSV export. Reads heads only, never lines: 3,400 provinces a month.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz};

use super::invoice::InvoiceStatus;
use crate::error::AppError;
use crate::lang::Msg;
use crate::period::Period;

/// Days the buyer has to pay from the issue date (the due date printed, and Stripe's
/// `days_until_due`).
pub const PAYMENT_DAYS: i64 = 30;

/// Which invoices: every given criterion must hold.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub period: Option<Period>,
    pub status: Option<InvoiceStatus>,
    /// Part of a province's name, with or without diacritics, or of its slug.
    pub province: Option<String>,
}

/// The table's order: a closed set, so the SQL's ORDER BY is one of ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Number,
    Province,
    TotalDesc,
}

impl Sort {
    pub const ALL: [Sort; 3] = [Sort::Number, Sort::Province, Sort::TotalDesc];

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Number => "number",
            Sort::Province => "province",
            Sort::TotalDesc => "total",
        }
    }

    /// `?sort=`: empty is by number, an unknown one 422.
    pub fn parse(s: Option<&str>) -> Result<Sort, AppError> {
        match s.filter(|s| !s.is_empty()) {
            None => Ok(Sort::Number),
            Some(s) => Sort::ALL
                .into_iter()
                .find(|o| o.as_str() == s)
                .ok_or_else(|| {
                    AppError::invalid(
                        "sort",
                        Msg::new(
                            "Sắp xếp theo number, province hoặc total.",
                            "Sort by number, province or total.",
                        ),
                    )
                }),
        }
    }

    fn order_by(self) -> &'static str {
        match self {
            Sort::Number => "i.number",
            Sort::Province => "t.name, i.number",
            Sort::TotalDesc => "i.total_vnd DESC, i.number",
        }
    }
}

/// One invoice's head as the table and the CSV show it.
#[derive(Debug, Clone, QueryableByName)]
pub struct Row {
    #[diesel(sql_type = Text)]
    pub number: String,
    #[diesel(sql_type = Text)]
    pub period: String,
    #[diesel(sql_type = Text)]
    pub slug: String,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = BigInt)]
    pub subtotal_vnd: i64,
    #[diesel(sql_type = BigInt)]
    pub vat_vnd: i64,
    #[diesel(sql_type = BigInt)]
    pub total_vnd: i64,
    #[diesel(sql_type = Timestamptz)]
    pub issued_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub paid_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Text>)]
    pub payment_reference: Option<String>,
}

impl Row {
    pub fn status(&self) -> Result<InvoiceStatus, AppError> {
        InvoiceStatus::parse(&self.status)
    }

    /// What was paid on it: all of it once paid, nothing before.
    pub fn paid_vnd(&self) -> i64 {
        if self.status == InvoiceStatus::Paid.as_str() {
            self.total_vnd
        } else {
            0
        }
    }

    pub fn due_on(&self) -> NaiveDate {
        due_on(self.issued_at)
    }
}

/// The last day to pay an invoice issued at `issued_at` (in Vietnam).
pub fn due_on(issued_at: DateTime<Utc>) -> NaiveDate {
    crate::clock::vn_date(issued_at) + chrono::Duration::days(PAYMENT_DAYS)
}

/// Sums over every invoice the filter matches.
#[derive(Debug, Clone, Copy, Default, QueryableByName)]
pub struct Totals {
    #[diesel(sql_type = BigInt)]
    pub count: i64,
    /// Invoiced, void invoices left out.
    #[diesel(sql_type = BigInt)]
    pub total_vnd: i64,
    #[diesel(sql_type = BigInt)]
    pub paid_vnd: i64,
}

const FROM: &str = "FROM invoices i JOIN tenants t ON t.id = i.tenant_id \
    WHERE ($1::text IS NULL OR i.period = $1) \
      AND ($2::text IS NULL OR i.status = $2) \
      AND ($3::text IS NULL OR t.name ILIKE $3 OR t.slug ILIKE $4)";

const COLUMNS: &str = "SELECT i.number, i.period, t.slug, t.name, i.status, i.subtotal_vnd, \
    i.vat_vnd, i.total_vnd, i.issued_at, i.paid_at, i.payment_reference";

/// `%text%` for ILIKE, its own `%`, `_` and `\` taken literally.
fn contains(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

type Binds = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn binds(f: &Filter) -> Binds {
    let province = f
        .province
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    (
        f.period.map(|p| p.to_string()),
        f.status.map(|s| s.as_str().to_string()),
        province.map(contains),
        // "ha noi", "Hà Nội" → the slug's `ha-noi`.
        province.map(|p| {
            let folded = crate::catalog::fold_vietnamese(p);
            contains(&folded.split_whitespace().collect::<Vec<_>>().join("-"))
        }),
    )
}

/// One page (1-based) of `per_page` rows in `sort` order, and the totals of all of them.
pub fn page(
    conn: &mut PgConnection,
    f: &Filter,
    sort: Sort,
    page: i64,
    per_page: i64,
) -> Result<(Vec<Row>, Totals), AppError> {
    let (p1, p2, p3, p4) = binds(f);
    let totals: Totals = sql_query(format!(
        "SELECT count(*)::bigint AS count, \
         coalesce(sum(i.total_vnd) FILTER (WHERE i.status <> 'void'), 0)::bigint AS total_vnd, \
         coalesce(sum(i.total_vnd) FILTER (WHERE i.status = 'paid'), 0)::bigint AS paid_vnd \
         {FROM}"
    ))
    .bind::<Nullable<Text>, _>(p1.clone())
    .bind::<Nullable<Text>, _>(p2.clone())
    .bind::<Nullable<Text>, _>(p3.clone())
    .bind::<Nullable<Text>, _>(p4.clone())
    .get_result(conn)?;
    let rows = sql_query(format!(
        "{COLUMNS} {FROM} ORDER BY {} LIMIT $5 OFFSET $6",
        sort.order_by()
    ))
    .bind::<Nullable<Text>, _>(p1)
    .bind::<Nullable<Text>, _>(p2)
    .bind::<Nullable<Text>, _>(p3)
    .bind::<Nullable<Text>, _>(p4)
    .bind::<BigInt, _>(per_page)
    .bind::<BigInt, _>((page.max(1) - 1).saturating_mul(per_page))
    .load(conn)?;
    Ok((rows, totals))
}

/// Every row the filter matches, in `sort` order (the CSV export).
pub fn all(conn: &mut PgConnection, f: &Filter, sort: Sort) -> Result<Vec<Row>, AppError> {
    let (p1, p2, p3, p4) = binds(f);
    Ok(
        sql_query(format!("{COLUMNS} {FROM} ORDER BY {}", sort.order_by()))
            .bind::<Nullable<Text>, _>(p1)
            .bind::<Nullable<Text>, _>(p2)
            .bind::<Nullable<Text>, _>(p3)
            .bind::<Nullable<Text>, _>(p4)
            .load(conn)?,
    )
}
