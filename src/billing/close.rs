//! Closing a period: one invoice per province with a lease in it, numbered without gaps.
//! Closing again returns the same invoices and takes no new numbers.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_query;

use super::invoice::{self, Invoice};
use super::money::{
    MoneyError, Segment, Vnd, checked_vat, line_amount, overage_units, prorate, total,
};
use crate::db::schema::{
    billed_usage, invoice_counters, invoice_lines, invoices, leases, period_closes, plan_metrics,
    plans, usage_period, vat_rates,
};
use crate::error::AppError;
use crate::metering::Metric;
use crate::period::Period;

/// Serialises closes across replicas (held for the close's transaction).
const CLOSE_LOCK: i64 = crate::db::locks::BILLING_CLOSE;

/// Closes `period` in one transaction (control-plane door) and returns its invoices, issued at
/// `issued_at`: an invoice is numbered in the series of its issue date's year in Vietnam, so
/// December closed on 1 January is numbered in the new year (docs/billing.md).
pub fn close(
    conn: &mut PgConnection,
    period: Period,
    actor: &str,
    issued_at: DateTime<Utc>,
) -> Result<Vec<Invoice>, AppError> {
    let today = crate::clock::vn_date(issued_at);
    sql_query("SELECT pg_advisory_xact_lock($1)")
        .bind::<diesel::sql_types::Int8, _>(CLOSE_LOCK)
        .execute(conn)?;
    check_started(period, today)?;
    let ids = to_bill(conn, period)?;
    let prices = prices(conn, period)?;
    for tenant in ids {
        bill_tenant(conn, tenant, period, issued_at, &prices)?;
    }
    diesel::insert_into(period_closes::table)
        .values((
            period_closes::period.eq(period.to_string()),
            period_closes::closed_by.eq(actor),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    invoice::for_period(conn, &period.to_string())
}

/// A period is closed once it has started (its first day reached in Vietnam).
fn check_started(period: Period, today: NaiveDate) -> Result<(), AppError> {
    if period.first_day() > today {
        return Err(AppError::invalid(
            "period",
            crate::lang::Msg::new(
                "Không thể chốt kỳ chưa bắt đầu.",
                "A period that has not started cannot be closed.",
            ),
        ));
    }
    Ok(())
}

/// The provinces with a lease in `period` and no invoice for it yet, in id order (the order
/// of their numbers).
fn to_bill(conn: &mut PgConnection, period: Period) -> Result<Vec<uuid::Uuid>, AppError> {
    let tenant_ids: Vec<uuid::Uuid> = leases::table
        .filter(leases::starts_on.lt(period.end()))
        .select(leases::tenant_id)
        .distinct()
        .load(conn)?;
    let already: Vec<uuid::Uuid> = invoices::table
        .filter(invoices::period.eq(period.to_string()))
        .select(invoices::tenant_id)
        .load(conn)?;
    let mut ids: Vec<uuid::Uuid> = tenant_ids
        .into_iter()
        .filter(|id| !already.contains(id))
        .collect();
    ids.sort();
    Ok(ids)
}

/// The same for every province of the period: read once, not once per invoice.
fn prices(conn: &mut PgConnection, period: Period) -> Result<Prices, AppError> {
    Ok(Prices {
        vat_bp: vat_rate(conn, period.end() - chrono::Duration::days(1))?,
        terms: plan_metrics::table
            .select((
                plan_metrics::plan_code,
                plan_metrics::metric,
                plan_metrics::included,
                plan_metrics::unit_price_vnd,
            ))
            .load::<(String, String, i64, i64)>(conn)?
            .into_iter()
            .map(|(plan, metric, included, price)| ((plan, metric), (included, price)))
            .collect(),
    })
}

/// One province in the preview of a close: the invoice it already has for the period, or the
/// one closing would issue.
#[derive(Debug, Clone)]
pub struct PreviewRow {
    pub slug: String,
    pub name: String,
    /// The number of the invoice issued for the period before, if any.
    pub issued: Option<String>,
    pub lines: usize,
    pub subtotal: Vnd,
    pub vat: Vnd,
    pub total: Vnd,
}

/// What closing `period` on `today` would issue, province by province, computed by the very
/// code the close runs; writes nothing and takes no number (the console's preview).
pub fn preview(
    conn: &mut PgConnection,
    period: Period,
    today: NaiveDate,
) -> Result<Vec<PreviewRow>, AppError> {
    use crate::db::schema::tenants;
    check_started(period, today)?;
    let ids = to_bill(conn, period)?;
    let prices = prices(conn, period)?;
    let mut rows = Vec::new();
    for inv in invoice::for_period(conn, &period.to_string())? {
        rows.push(PreviewRow {
            slug: inv.tenant,
            name: inv.tenant_name,
            issued: Some(inv.number),
            lines: inv.lines.len(),
            subtotal: Vnd(inv.subtotal_vnd),
            vat: Vnd(inv.vat_vnd),
            total: Vnd(inv.total_vnd),
        });
    }
    for tenant in ids {
        let Some(d) = draft(conn, tenant, period, &prices)? else {
            continue;
        };
        let (slug, name): (String, String) = tenants::table
            .find(tenant)
            .select((tenants::slug, tenants::name))
            .first(conn)?;
        rows.push(PreviewRow {
            slug,
            name,
            issued: None,
            lines: d.line_count(),
            subtotal: d.subtotal,
            vat: d.vat,
            total: d.total,
        });
    }
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(rows)
}

/// The lease segments of a tenant inside the period (each plan over its days): what the
/// close bills, and what the console's lease pages show before a change is applied.
pub fn segments(
    conn: &mut PgConnection,
    tenant: uuid::Uuid,
    period: Period,
) -> Result<Vec<Segment>, AppError> {
    let rows: Vec<(NaiveDate, String, i64, Option<NaiveDate>)> = leases::table
        .inner_join(plans::table.on(plans::code.eq(leases::plan_code)))
        .filter(leases::tenant_id.eq(tenant))
        .order(leases::starts_on.asc())
        .select((
            leases::starts_on,
            leases::plan_code,
            plans::monthly_fee_vnd,
            leases::last_day,
        ))
        .load(conn)?;
    // A province merged into another by a reorganisation leases nothing from that day on
    // (the successor does): its last lease ends there, prorated like any change.
    let merged_on: Option<NaiveDate> = crate::db::schema::tenants::table
        .find(tenant)
        .select(crate::db::schema::tenants::merged_on)
        .first(conn)?;
    let mut out = Vec::new();
    for (i, (starts, plan, fee, last_day)) in rows.iter().enumerate() {
        let next = rows.get(i + 1).map(|r| r.0).unwrap_or(period.end());
        // An ended lease stops after its last day, even with no lease after it.
        let next = last_day
            .and_then(|d| d.succ_opt())
            .map_or(next, |after| next.min(after));
        let ends = merged_on.map_or(next, |m| next.min(m));
        let from = (*starts).max(period.first_day());
        let until = ends.min(period.end());
        if until > from {
            out.push(Segment {
                plan: plan.clone(),
                monthly_fee: Vnd(*fee),
                from,
                until,
            });
        }
    }
    Ok(out)
}

pub fn vat_rate(conn: &mut PgConnection, on: NaiveDate) -> Result<i32, AppError> {
    Ok(vat_rates::table
        .filter(vat_rates::effective_from.le(on))
        .order(vat_rates::effective_from.desc())
        .select(vat_rates::rate_bp)
        .first::<i32>(conn)
        .optional()?
        .unwrap_or(1000))
}

/// What a close reads once for all its invoices.
struct Prices {
    /// VAT in basis points on the period's last day.
    vat_bp: i32,
    /// (plan, metric) → (included, unit price).
    terms: std::collections::HashMap<(String, String), (i64, i64)>,
}

impl Prices {
    /// (included, unit price) of a plan for a metric; a metric the plan does not name is
    /// neither included nor priced.
    fn terms(&self, plan: &str, metric: Metric) -> (i64, i64) {
        self.terms
            .get(&(plan.to_string(), metric.as_str().to_string()))
            .copied()
            .unwrap_or((0, 0))
    }
}

/// Every metric's total of one province in one period, in one query.
fn used_all(
    conn: &mut PgConnection,
    tenant: uuid::Uuid,
    period: &str,
) -> Result<std::collections::HashMap<String, i64>, AppError> {
    Ok(usage_period::table
        .filter(usage_period::tenant_id.eq(tenant))
        .filter(usage_period::period.eq(period))
        .select((usage_period::metric, usage_period::quantity))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect())
}

fn describe(metric: Metric) -> &'static str {
    match metric {
        Metric::Dossiers => "Hồ sơ vượt mức / Dossiers over the allowance",
        Metric::StorageBytes => "Lưu trữ vượt mức, theo GiB / Storage over the allowance, per GiB",
        Metric::ApiCalls => "Lượt gọi API vượt mức / API calls over the allowance",
        Metric::Emails => "Thư điện tử vượt mức / Emails over the allowance",
        Metric::Seats => "Tài khoản cán bộ vượt mức / Staff seats over the allowance",
    }
}

struct NewLine {
    description: String,
    metric: Option<String>,
    quantity: i64,
    unit_price: i64,
    amount: i64,
}

/// What one province's invoice for a period would say, computed without writing anything:
/// the close writes it, the console's preview only shows it.
pub struct Draft {
    lines: Vec<NewLine>,
    billed: Vec<(String, Metric, i64)>,
    pub subtotal: Vnd,
    pub vat: Vnd,
    pub total: Vnd,
}

impl Draft {
    pub fn line_count(&self) -> usize {
        self.lines.len()
    }
}

fn bill_tenant(
    conn: &mut PgConnection,
    tenant: uuid::Uuid,
    period: Period,
    issued_at: DateTime<Utc>,
    prices: &Prices,
) -> Result<(), AppError> {
    let Some(draft) = draft(conn, tenant, period, prices)? else {
        return Ok(());
    };
    write(conn, tenant, period, issued_at, prices.vat_bp, draft)
}

/// One province's invoice for `period` as the close would issue it; `None` without a lease
/// in the period. Reads only.
fn draft(
    conn: &mut PgConnection,
    tenant: uuid::Uuid,
    period: Period,
    prices: &Prices,
) -> Result<Option<Draft>, AppError> {
    let segs = segments(conn, tenant, period)?;
    let Some(last) = segs.last().cloned() else {
        return Ok(None);
    };
    let mut lines = Vec::new();
    let fees = prorate(&segs, period.days());
    // The plan's name, as the clerk set it: an invoice shows no internal code.
    let names: std::collections::HashMap<String, String> = plans::table
        .select((plans::code, plans::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    for (s, amount) in segs.iter().zip(fees) {
        let days = (s.until - s.from).num_days();
        let plan = names.get(&s.plan).unwrap_or(&s.plan);
        lines.push(NewLine {
            description: format!(
                "Phí thuê gói {plan} / Lease fee, plan {plan} ({} – {}, {days}/{} ngày)",
                s.from.format("%d/%m/%Y"),
                (s.until - chrono::Duration::days(1)).format("%d/%m/%Y"),
                period.days()
            ),
            metric: None,
            quantity: days,
            unit_price: s.monthly_fee.0,
            amount: amount.0,
        });
    }
    // Overage on the plan in force at the end of the period.
    let mut billed: Vec<(String, Metric, i64)> = Vec::new();
    let totals = used_all(conn, tenant, &period.to_string())?;
    for metric in Metric::ALL {
        let (included, price) = prices.terms(&last.plan, metric);
        let quantity = totals.get(metric.as_str()).copied().unwrap_or(0);
        billed.push((period.to_string(), metric, quantity));
        let units = overage_units(metric.as_str(), quantity, included);
        if units > 0 {
            let amount = line_amount(units, Vnd(price))
                .map_err(|e| out_of_range(conn, tenant, period, metric.as_str(), e))?;
            lines.push(NewLine {
                description: describe(metric).to_string(),
                metric: Some(metric.as_str().to_string()),
                quantity: units,
                unit_price: price,
                amount: amount.0,
            });
        }
    }
    // Usage that arrived after an earlier period was closed: the extra overage, billed now.
    let earlier: Vec<(String, String, i64)> = billed_usage::table
        .filter(billed_usage::tenant_id.eq(tenant))
        .filter(billed_usage::period.lt(period.to_string()))
        .group_by((billed_usage::period, billed_usage::metric))
        .select((
            billed_usage::period,
            billed_usage::metric,
            diesel::dsl::max(billed_usage::quantity).assume_not_null(),
        ))
        .load(conn)?;
    for (p, m, was) in earlier {
        let Some(metric) = Metric::parse(&m) else {
            continue;
        };
        let now_used = used_all(conn, tenant, &p)?.get(&m).copied().unwrap_or(0);
        if now_used <= was {
            continue;
        }
        let (included, price) = prices.terms(&last.plan, metric);
        let extra = overage_units(&m, now_used, included) - overage_units(&m, was, included);
        billed.push((p.clone(), metric, now_used));
        if extra > 0 {
            let amount = line_amount(extra, Vnd(price))
                .map_err(|e| out_of_range(conn, tenant, period, &m, e))?;
            lines.push(NewLine {
                description: format!("Điều chỉnh kỳ {p} (phát sinh sau khi chốt) / Adjustment for {p} (usage after its close): {m}"),
                metric: Some(m.clone()),
                quantity: extra,
                unit_price: price,
                amount: amount.0,
            });
        }
    }
    let rate = prices.vat_bp;
    let (subtotal, tax, grand_total) = total(lines.iter().map(|l| Vnd(l.amount)))
        .and_then(|subtotal| {
            let tax = checked_vat(subtotal, rate)?;
            let sum = subtotal.checked_add(tax).ok_or(MoneyError::Overflow)?;
            Ok((subtotal, tax, sum))
        })
        .map_err(|e| out_of_range(conn, tenant, period, "total", e))?;
    Ok(Some(Draft {
        lines,
        billed,
        subtotal,
        vat: tax,
        total: grand_total,
    }))
}

/// Issues `draft` as the province's numbered invoice, with its lines, its mail to the
/// province's admins and the quantities it billed.
fn write(
    conn: &mut PgConnection,
    tenant: uuid::Uuid,
    period: Period,
    issued_at: DateTime<Utc>,
    rate: i32,
    draft: Draft,
) -> Result<(), AppError> {
    let Draft {
        lines,
        billed,
        subtotal,
        vat: tax,
        total: grand_total,
    } = draft;
    let number = next_number(conn, crate::clock::vn_date(issued_at).year())?;
    let id = uuid::Uuid::new_v4();
    diesel::insert_into(invoices::table)
        .values((
            invoices::id.eq(id),
            invoices::number.eq(&number),
            invoices::issued_at.eq(issued_at),
            invoices::tenant_id.eq(tenant),
            invoices::period.eq(period.to_string()),
            invoices::status.eq(super::invoice::InvoiceStatus::Finalized.as_str()),
            invoices::subtotal_vnd.eq(subtotal.0),
            invoices::vat_rate_bp.eq(rate),
            invoices::vat_vnd.eq(tax.0),
            invoices::total_vnd.eq(grand_total.0),
        ))
        .execute(conn)?;
    // One statement for all the lines, one for all the billed quantities.
    let rows: Vec<_> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            (
                invoice_lines::invoice_id.eq(id),
                invoice_lines::position.eq(i as i32 + 1),
                invoice_lines::description.eq(&l.description),
                invoice_lines::metric.eq(&l.metric),
                invoice_lines::quantity.eq(l.quantity),
                invoice_lines::unit_price_vnd.eq(l.unit_price),
                invoice_lines::amount_vnd.eq(l.amount),
            )
        })
        .collect();
    if !rows.is_empty() {
        diesel::insert_into(invoice_lines::table)
            .values(rows)
            .execute(conn)?;
    }
    mail_admins(conn, tenant, &number, period, grand_total)?;
    let rows: Vec<_> = billed
        .iter()
        .map(|(p, metric, quantity)| {
            (
                billed_usage::invoice_id.eq(id),
                billed_usage::tenant_id.eq(tenant),
                billed_usage::period.eq(p),
                billed_usage::metric.eq(metric.as_str()),
                billed_usage::quantity.eq(*quantity),
            )
        })
        .collect();
    if !rows.is_empty() {
        diesel::insert_into(billed_usage::table)
            .values(rows)
            .execute(conn)?;
    }
    Ok(())
}

/// The 409 for an amount that cannot be billed: a quantity no month can have, or a product or
/// sum past 64 bits. The whole close is refused (nothing is issued) and the operator is told
/// which province and which line, to correct the usage or the price first.
fn out_of_range(
    conn: &mut PgConnection,
    tenant: uuid::Uuid,
    period: Period,
    what: &str,
    e: MoneyError,
) -> AppError {
    use crate::db::schema::tenants;
    let slug: String = tenants::table
        .find(tenant)
        .select(tenants::slug)
        .first(conn)
        .unwrap_or_else(|_| tenant.to_string());
    tracing::error!(tenant = %slug, %period, line = what, error = %e, "billing refused an amount out of range");
    let (vi, en) = match e {
        MoneyError::AbsurdQuantity(q) => (
            format!(
                "số lượng {q} vượt mức hợp lý (tối đa {})",
                super::money::MAX_UNITS
            ),
            format!(
                "a quantity of {q} is beyond any real month (at most {})",
                super::money::MAX_UNITS
            ),
        ),
        MoneyError::Overflow => (
            "số tiền vượt quá giới hạn tính toán".to_string(),
            "the amount is past what can be computed".to_string(),
        ),
    };
    AppError::conflict(
        "amount_out_of_range",
        crate::lang::Msg::owned(
            format!(
                "Không thể lập hoá đơn kỳ {period} cho {slug} ({what}): {vi}. Hãy kiểm tra số liệu sử dụng và đơn giá."
            ),
            format!(
                "Cannot invoice {period} for {slug} ({what}): {en}. Check the usage and the unit price."
            ),
        ),
    )
}

/// The invoice is mailed to the province's admins on finalization, from the province's own
/// outbox and in the same transaction (so a rolled-back close mails nothing).
fn mail_admins(
    conn: &mut PgConnection,
    tenant: uuid::Uuid,
    number: &str,
    period: Period,
    total: Vnd,
) -> Result<(), AppError> {
    use crate::db::schema::tenants;
    let (name, schema, role): (String, String, String) = tenants::table
        .find(tenant)
        .select((tenants::name, tenants::schema_name, tenants::role_name))
        .first(conn)?;
    let door = crate::db::TenantRef {
        id: crate::tenancy::TenantId(tenant),
        schema,
        role,
    };
    crate::db::tenant_enter(conn, &door)?;
    let subject = format!("[{name}] Hoá đơn {number} kỳ {period} / Invoice {number} for {period}");
    let body = format!(
        "Hoá đơn {number} của {name} cho kỳ {period} đã được phát hành: tổng cộng {total} (đã gồm thuế GTGT).\n\
         Xem chi tiết trong mục Hoá đơn của trang quản trị tỉnh.\n\n\
         Invoice {number} of {name} for {period} has been issued: {total} in total (VAT included).\n\
         See it under Invoices in the province's administration pages.\n"
    );
    for (staff_id, email, role) in crate::accounts::staff::active_emails(conn)? {
        if role != "admin" {
            continue;
        }
        let key = format!("invoice:{number}:{staff_id}");
        let mail = crate::notify::outbox::NewMail {
            kind: "invoice",
            dossier_id: None,
            to: &email,
            subject: &subject,
            body: &body,
        };
        crate::notify::outbox::enqueue_once(conn, crate::tenancy::TenantId(tenant), &key, &mail)?;
    }
    crate::db::tenant_leave(conn)?;
    Ok(())
}

/// `HD-2026-000001`: the counter row is locked by the update, so numbers have no gaps even
/// under concurrent closes; a rolled-back close gives its numbers back.
fn next_number(conn: &mut PgConnection, year: i32) -> Result<String, AppError> {
    let n: i32 = diesel::insert_into(invoice_counters::table)
        .values((
            invoice_counters::year.eq(year),
            invoice_counters::last_number.eq(1),
        ))
        .on_conflict(invoice_counters::year)
        .do_update()
        .set(invoice_counters::last_number.eq(invoice_counters::last_number + 1))
        .returning(invoice_counters::last_number)
        .get_result(conn)?;
    Ok(format!("HD-{year}-{n:06}"))
}
