//! The national evaluation index: the API of the contract, a ranked page with a bar chart,
//! and a page per province with its last 12 months and its units' month (drill-down). Read
//! from `province_stats` and `unit_stats` only.

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::{Deserialize, Serialize};

use crate::clock::today_vn;
use crate::error::AppError;
use crate::index::Counts;
use crate::period::Period;
use crate::tenancy::Tenant;
use crate::web::AppState;
use crate::web::index_units::{UnitIndexRow, UnitLine, UnitSort};
use crate::web::pages::{self, Layout};
use askama::Template;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(index_api)
        .service(show_index)
        .service(show_province_trend);
}

#[derive(Debug, Deserialize)]
pub struct PeriodQuery {
    period: Option<String>,
    /// The API's drill-down: one province's units.
    province: Option<String>,
    /// The province page's unit table.
    sort: Option<String>,
}

/// An active province by its slug, else 404.
fn active_province(state: &AppState, slug: &str) -> Result<std::sync::Arc<Tenant>, AppError> {
    state
        .registry
        .active()
        .into_iter()
        .find(|t| t.slug == slug)
        .ok_or(AppError::NotFound)
}

fn period_of(q: &PeriodQuery) -> Result<Period, AppError> {
    match q.period.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => Period::parse(p).map_err(|m| AppError::invalid("period", m)),
        None => Ok(Period::of(today_vn())),
    }
}

/// One province's line: the contract's shape.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IndexRow {
    pub slug: String,
    pub name: String,
    pub received: i32,
    pub decided: i32,
    pub on_time_rate: Option<f64>,
    pub online_rate: Option<f64>,
    pub online_payment_rate: Option<f64>,
    pub satisfaction_rate: Option<f64>,
    pub score: Option<f64>,
}

/// Every active province, best score first (provinces with nothing to rate last).
async fn ranked(state: &AppState, period: Period) -> Result<Vec<IndexRow>, AppError> {
    let stats = crate::app::index::period(state, period).await?;
    let mut rows: Vec<IndexRow> = state
        .registry
        .active()
        .iter()
        .map(|t| {
            let c = stats
                .iter()
                .find(|(id, _)| *id == t.id.0)
                .map(|(_, c)| *c)
                .unwrap_or_default();
            let r = c.rates();
            IndexRow {
                slug: t.slug.clone(),
                name: t.name.clone(),
                received: c.received,
                decided: c.decided,
                on_time_rate: r.on_time_rate,
                online_rate: r.online_rate,
                online_payment_rate: r.online_payment_rate,
                satisfaction_rate: r.satisfaction_rate,
                score: r.score(),
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.score
            .unwrap_or(-1.0)
            .total_cmp(&a.score.unwrap_or(-1.0))
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(rows)
}

/// `GET /api/v1/index?period=YYYY-MM` (default: this month): the provinces; with
/// `&province=SLUG`, that province's units (404 for a slug that is no active province).
#[get("/api/v1/index")]
async fn index_api(
    state: web::Data<AppState>,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, AppError> {
    let period = period_of(&query)?;
    match query.province.as_deref().filter(|p| !p.is_empty()) {
        None => Ok(HttpResponse::Ok().json(ranked(&state, period).await?)),
        Some(slug) => {
            let tenant = active_province(&state, slug)?;
            let lines = crate::app::index::units(&state, tenant.id, period).await?;
            let rows: Vec<UnitIndexRow> = lines
                .iter()
                .map(|s| UnitIndexRow::new(&tenant.slug, s))
                .collect();
            Ok(HttpResponse::Ok().json(rows))
        }
    }
}

/// A rate as "87%" or "–".
pub fn percent(rate: Option<f64>) -> String {
    rate.map(|r| format!("{:.0}%", r * 100.0))
        .unwrap_or_else(|| "–".into())
}

/// A bar of a server-rendered SVG chart.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub value: String,
    /// Bar length in chart units (0..=100).
    pub length: f64,
    pub y: u32,
}

#[get("/index")]
async fn show_index(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, AppError> {
    let period = period_of(&query)?;
    let rows = ranked(&state, period).await?;
    let bars = rows
        .iter()
        .enumerate()
        .map(|(i, r)| Bar {
            label: r.name.clone(),
            value: r
                .score
                .map(|s| format!("{s:.1}"))
                .unwrap_or_else(|| "–".into()),
            length: r.score.unwrap_or(0.0).clamp(0.0, 100.0),
            y: i as u32 * 22,
        })
        .collect::<Vec<_>>();
    let page = IndexPage {
        layout: Layout::national(&req),
        period: period.to_string(),
        prev: period.prev().to_string(),
        next: (period < Period::of(today_vn())).then(|| period.next().to_string()),
        chart_height: bars.len() as u32 * 22,
        bars,
        rows,
    };
    pages::render(&page)
}

/// A province's last 12 months, and its units' figures for `?period=` (this month by default)
/// sorted by `?sort=` (the score by default).
#[get("/index/{slug}")]
async fn show_province_trend(
    req: HttpRequest,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, AppError> {
    let tenant = active_province(&state, &slug)?;
    let period = period_of(&query)?;
    let sort = UnitSort::parse(query.sort.as_deref())?;
    let periods = Period::of(today_vn()).last(12);
    let id = tenant.id;
    let trend: Vec<(Period, Counts)> =
        crate::app::index::trend(&state, id, periods.clone()).await?;
    let months: Vec<TrendMonth> = trend
        .iter()
        .map(|(p, c)| {
            let r = c.rates();
            TrendMonth {
                period: p.to_string(),
                received: c.received,
                decided: c.decided,
                on_time: percent(r.on_time_rate),
                online: percent(r.online_rate),
                payment: percent(r.online_payment_rate),
                satisfaction: percent(r.satisfaction_rate),
                score: r
                    .score()
                    .map(|s| format!("{s:.1}"))
                    .unwrap_or_else(|| "–".into()),
                height: r.score().unwrap_or(0.0).clamp(0.0, 100.0),
            }
        })
        .collect();
    let mut scored = crate::app::index::units(&state, id, period).await?;
    sort.apply(&mut scored);
    let layout = Layout::national(&req);
    let province_level = layout.t("index_province_level");
    let units = scored
        .iter()
        .map(|s| UnitLine::new(s, layout.lang, province_level))
        .collect();
    let page = IndexTrendPage {
        layout,
        slug: tenant.slug.clone(),
        name: tenant.name.clone(),
        months,
        period: period.to_string(),
        prev: period.prev().to_string(),
        next: (period < Period::of(today_vn())).then(|| period.next().to_string()),
        sort: sort.as_str(),
        min_decided: state.settings.index.min_decided,
        units,
    };
    pages::render(&page)
}

/// One month of a province's trend.
#[derive(Debug, Clone)]
pub struct TrendMonth {
    pub period: String,
    pub received: i32,
    pub decided: i32,
    pub on_time: String,
    pub online: String,
    pub payment: String,
    pub satisfaction: String,
    pub score: String,
    /// Bar height in chart units (0..=100).
    pub height: f64,
}

#[derive(Template)]
#[template(path = "index.html")]
pub struct IndexPage {
    pub layout: Layout,
    pub period: String,
    pub prev: String,
    pub next: Option<String>,
    pub rows: Vec<IndexRow>,
    pub bars: Vec<Bar>,
    pub chart_height: u32,
}

impl IndexPage {
    pub fn percent(&self, rate: &Option<f64>) -> String {
        percent(*rate)
    }
}

#[derive(Template)]
#[template(path = "index_province.html")]
pub struct IndexTrendPage {
    pub layout: Layout,
    pub slug: String,
    pub name: String,
    pub months: Vec<TrendMonth>,
    /// The month of the unit table.
    pub period: String,
    pub prev: String,
    pub next: Option<String>,
    /// What the unit table is sorted by (a `UnitSort` name).
    pub sort: &'static str,
    pub min_decided: u32,
    pub units: Vec<UnitLine>,
}

impl IndexTrendPage {
    /// The unit table sorted by `column`, in the same month.
    pub fn sort_href(&self, column: &str) -> String {
        format!(
            "/index/{}?period={}&sort={column}#units",
            self.slug, self.period
        )
    }

    /// `aria-sort` of a column header.
    pub fn sorted_as(&self, column: &str) -> &'static str {
        match (self.sort == column, column) {
            (false, _) => "none",
            (true, "name") => "ascending",
            (true, _) => "descending",
        }
    }
}
