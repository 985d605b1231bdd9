//! Revenue per month for the console's chart: what each period's invoices total (void ones
//! left out, as in the invoices table) and how much of it is paid. One grouped query over the
//! invoice heads, never the lines.

use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{BigInt, Nullable, Text};

use crate::error::AppError;
use crate::period::Period;

/// One period's figures, VAT included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthRevenue {
    pub period: Period,
    pub invoiced_vnd: i64,
    pub paid_vnd: i64,
    /// Live (not void) invoices of the period.
    pub invoices: i64,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    period: String,
    #[diesel(sql_type = BigInt)]
    invoiced_vnd: i64,
    #[diesel(sql_type = BigInt)]
    paid_vnd: i64,
    #[diesel(sql_type = BigInt)]
    invoices: i64,
}

#[derive(QueryableByName)]
struct Latest {
    #[diesel(sql_type = Nullable<Text>)]
    period: Option<String>,
}

/// The `n` periods ending with the later of `last` and the newest invoiced period (a month
/// closed early still shows), oldest first, every one present (zeros when nothing was
/// invoiced).
pub fn monthly(
    conn: &mut PgConnection,
    last: Period,
    n: usize,
) -> Result<Vec<MonthRevenue>, AppError> {
    let newest: Latest =
        sql_query("SELECT max(period) AS period FROM invoices").get_result(conn)?;
    let end = newest
        .period
        .and_then(|p| Period::parse(&p).ok())
        .filter(|p| *p > last)
        .unwrap_or(last);
    let periods = end.last(n);
    let (from, to) = (periods[0].to_string(), end.to_string());
    let rows: Vec<Row> = sql_query(
        "SELECT period, \
           coalesce(sum(total_vnd) FILTER (WHERE status <> 'void'), 0)::bigint AS invoiced_vnd, \
           coalesce(sum(total_vnd) FILTER (WHERE status = 'paid'), 0)::bigint AS paid_vnd, \
           count(*) FILTER (WHERE status <> 'void')::bigint AS invoices \
         FROM invoices WHERE period >= $1 AND period <= $2 GROUP BY period",
    )
    .bind::<Text, _>(&from)
    .bind::<Text, _>(&to)
    .load(conn)?;
    Ok(periods
        .into_iter()
        .map(|period| {
            let key = period.to_string();
            let found = rows.iter().find(|r| r.period == key);
            MonthRevenue {
                period,
                invoiced_vnd: found.map_or(0, |r| r.invoiced_vnd),
                paid_vnd: found.map_or(0, |r| r.paid_vnd),
                invoices: found.map_or(0, |r| r.invoices),
            }
        })
        .collect())
}
