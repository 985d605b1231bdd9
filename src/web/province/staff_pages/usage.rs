//! The admin's view of the province's usage against its lease, with a chart per metric over
//! the month (day by day, from the roll-ups).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;
use serde::Deserialize;

use super::layout;
use crate::app::province_admin;
use crate::clock::today_vn;
use crate::error::AppError;
use crate::lang::Lang;
use crate::metering::Metric;
use crate::metering::usage;
use crate::period::Period;
use crate::web::AppState;
use crate::web::pages::Layout;
use crate::web::session::{self, Csrf, PageAdmin};

/// One metric: totals and its days as columns of a small SVG chart.
struct MetricView {
    label: String,
    used: i64,
    included: i64,
    /// Share of the allowance used, 0..=100 (capped for drawing).
    percent: u32,
    /// (x, height) of each day's column, heights 0..=60 in chart units.
    columns: Vec<(u32, f64)>,
    peak: i64,
}

#[derive(Template)]
#[template(path = "staff/usage.html")]
struct UsagePage {
    layout: Layout,
    period: String,
    prev: String,
    next: Option<String>,
    metrics: Vec<MetricView>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PeriodQuery {
    period: Option<String>,
}

#[get("/manage/admin/usage")]
pub async fn show_usage(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: PageAdmin,
    csrf: Csrf,
    lang: Lang,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, AppError> {
    let Some(admin) = who.0 else {
        return Ok(session::to_sign_in(&req));
    };
    let now = Period::of(today_vn());
    let period = match query.period.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => Period::parse(p).map_err(|m| AppError::invalid("period", m))?,
        None => now,
    };
    let tenant = &admin.province.tenant;
    let branding = province_admin::branding(&state, tenant).await?;
    let (totals, days) =
        province_admin::usage(&state, &admin.actor(), tenant, period, true).await?;
    let days = days.unwrap_or_default();
    let metrics = Metric::ALL
        .iter()
        .map(|m| {
            let t = totals
                .metrics
                .get(m.as_str())
                .copied()
                .unwrap_or(usage::MetricUsage {
                    used: 0,
                    included: 0,
                });
            let series = days.get(m.as_str()).cloned().unwrap_or_default();
            let peak = series.iter().map(|(_, q)| *q).max().unwrap_or(0);
            let columns = series
                .iter()
                .map(|(day, q)| {
                    let x = (*day - period.first_day()).num_days() as u32 * 10;
                    let h = if peak > 0 {
                        *q as f64 / peak as f64 * 60.0
                    } else {
                        0.0
                    };
                    (x, h)
                })
                .collect();
            let percent = if t.included > 0 {
                ((t.used as f64 / t.included as f64) * 100.0).min(100.0) as u32
            } else {
                0
            };
            MetricView {
                label: m.label(lang).to_string(),
                used: t.used,
                included: t.included,
                percent,
                columns,
                peak,
            }
        })
        .collect();
    let page = UsagePage {
        layout: layout(&req, &branding, &csrf, &admin),
        period: period.to_string(),
        prev: period.prev().to_string(),
        next: (period < now).then(|| period.next().to_string()),
        metrics,
    };
    session::page(&req, StatusCode::OK, &page, &csrf)
}
