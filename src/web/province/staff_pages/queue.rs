//! The queue: dossiers by status (a tab per status with its count), due-soon and overdue
//! marks, and search by tracking code or 12-digit citizen ID.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;
use serde::Deserialize;

use super::layout;
use crate::app;
use crate::clock::today_vn;
use crate::dossiers::queue::QueueFilter;
use crate::dossiers::status::Status;
use crate::dossiers::store::DossierRow;
use crate::dossiers::view::procedure_name;
use crate::error::AppError;
use crate::lang::Lang;
use crate::web::AppState;
use crate::web::pages::{Layout, tr};
use crate::web::province::citizen_pages::view::{ErrorLink, date, local_time};
use crate::web::session::{self, Csrf, PageStaff, percent_encode};

/// Rows per page, as the API.
const PER_PAGE: i64 = 50;

pub struct Tab {
    pub label: String,
    pub count: i64,
    pub href: String,
    pub current: bool,
}

pub struct QueueRow {
    pub code: String,
    pub procedure: String,
    pub applicant: String,
    pub counter: bool,
    pub status: String,
    pub status_key: String,
    pub submitted: String,
    pub due: String,
    /// `overdue`, `due_soon` or empty.
    pub flag: String,
}

#[derive(Template)]
#[template(path = "staff/queue.html")]
struct QueuePage {
    layout: Layout,
    errors: Vec<ErrorLink>,
    query: String,
    status: String,
    tabs: Vec<Tab>,
    rows: Vec<QueueRow>,
    /// What the list shows, for its caption.
    caption: String,
    prev: Option<String>,
    next: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct QueueQuery {
    status: Option<String>,
    q: Option<String>,
    page: Option<i64>,
}

/// The mark a dossier carries: the overdue watch's, or overdue at once when its date passed
/// while it still runs (the watch may not have come by yet).
pub fn due_flag(d: &DossierRow) -> String {
    let running = matches!(d.status(), Status::Accepted | Status::Processing);
    match d.due_flag.as_deref() {
        Some(flag) if running => flag.to_string(),
        _ if running && d.due_on.is_some_and(|due| due < today_vn()) => "overdue".into(),
        _ => String::new(),
    }
}

pub fn queue_row(d: DossierRow, lang: Lang) -> QueueRow {
    QueueRow {
        procedure: procedure_name(&d.procedure_code, lang),
        counter: d.channel == "counter",
        status: d.status().label(lang).to_string(),
        status_key: d.status().as_str().to_string(),
        submitted: local_time(d.submitted_at),
        due: d.due_on.map(date).unwrap_or_default(),
        flag: due_flag(&d),
        applicant: d.applicant_name,
        code: d.tracking_code,
    }
}

fn href(status: Option<Status>, q: &str, page: i64) -> String {
    let mut params = Vec::new();
    if let Some(s) = status {
        params.push(format!("status={}", s.as_str()));
    }
    if !q.is_empty() {
        params.push(format!("q={}", percent_encode(q)));
    }
    if page > 1 {
        params.push(format!("page={page}"));
    }
    if params.is_empty() {
        "/manage".into()
    } else {
        format!("/manage?{}", params.join("&"))
    }
}

/// `GET /manage?status=&q=&page=`.
#[get("/manage")]
pub async fn show_queue(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: PageStaff,
    csrf: Csrf,
    lang: Lang,
    query: web::Query<QueueQuery>,
) -> Result<HttpResponse, AppError> {
    let Some(staff) = who.0 else {
        return Ok(session::to_sign_in(&req));
    };
    let query = query.into_inner();
    let q = query.q.unwrap_or_default().trim().to_string();
    let asked = query.status.unwrap_or_default();
    let status = Status::parse(&asked).ok();
    let mut errors = Vec::new();
    if status.is_none() && !asked.is_empty() {
        errors.push(ErrorLink {
            href: "#statuses".into(),
            message: tr(lang, "unknown_status").to_string(),
        });
    }
    let page = query.page.unwrap_or(1).clamp(1, 10_000);
    let filter = QueueFilter {
        status,
        query: Some(q.clone()),
        limit: PER_PAGE + 1,
        offset: (page - 1) * PER_PAGE,
        ..QueueFilter::default()
    };
    let tenant = &staff.province.tenant;
    let branding = app::province_admin::branding(&state, tenant).await?;
    let found = app::staff::queue_page(&state, &staff.actor(), tenant, filter).await?;
    let (counts, mut rows) = (found.counts, found.rows);
    let more = rows.len() as i64 > PER_PAGE;
    rows.truncate(PER_PAGE as usize);
    let count_of = |s: Status| {
        counts
            .iter()
            .find(|(k, _)| k == s.as_str())
            .map_or(0, |(_, n)| *n)
    };
    let mut tabs = vec![Tab {
        label: tr(lang, "all_statuses").to_string(),
        count: counts.iter().map(|(_, n)| n).sum(),
        href: href(None, "", 1),
        current: status.is_none(),
    }];
    tabs.extend(Status::ALL.into_iter().map(|s| Tab {
        label: s.label(lang).to_string(),
        count: count_of(s),
        href: href(Some(s), "", 1),
        current: status == Some(s),
    }));
    let caption = match status {
        Some(s) => s.label(lang).to_string(),
        None => tr(lang, "all_statuses").to_string(),
    };
    let view = QueuePage {
        layout: layout(&req, &branding, &csrf, &staff),
        errors,
        status: status.map(|s| s.as_str().to_string()).unwrap_or_default(),
        tabs,
        rows: rows.into_iter().map(|d| queue_row(d, lang)).collect(),
        caption,
        prev: (page > 1).then(|| href(status, &q, page - 1)),
        next: more.then(|| href(status, &q, page + 1)),
        query: q,
    };
    let code = if view.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    session::page(&req, code, &view, &csrf)
}
