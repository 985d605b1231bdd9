//! The workspace: the dossiers a staff member's units reach, open and closed apart (open by
//! default), sorted by deadline, with overdue and due-soon marks, filters (procedure, status,
//! unit, channel, assignee, mark), search by tracking code, citizen ID or name, paging, and a
//! CSV link that exports exactly the view. The query string is `QueueParams`, as the API's and
//! the export's, so the three agree.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;

use super::layout;
use crate::app::{self, staff::Desk};
use crate::catalog;
use crate::clock::today_vn;
use crate::dossiers::queue::{QueueParams, Sort};
use crate::dossiers::status::Status;
use crate::dossiers::store::DossierRow;
use crate::dossiers::view::procedure_name;
use crate::error::AppError;
use crate::lang::Lang;
use crate::units::scope::UnitScope;
use crate::web::AppState;
use crate::web::pages::{Layout, tr};
use crate::web::province::citizen_pages::view::{ErrorLink, OptionView, date, local_time};
use crate::web::session::{self, Csrf, PageStaff, percent_encode};

/// Rows per page, as the API.
pub const PER_PAGE: i64 = 50;

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
    pub status: String,
    pub status_key: String,
    pub submitted: String,
    pub due: String,
    /// `overdue`, `due_soon` or empty.
    pub flag: String,
    /// The competent unit's name (empty: the province itself).
    pub unit: String,
    /// Where it was received: a unit's name, or "Trực tuyến".
    pub received: String,
    pub assignee: String,
}

/// One filter's select.
pub struct Select {
    pub name: &'static str,
    pub label: String,
    pub options: Vec<OptionView>,
}

#[derive(Template)]
#[template(path = "staff/queue.html")]
struct QueuePage {
    layout: Layout,
    errors: Vec<ErrorLink>,
    query: String,
    open: String,
    tabs: Vec<Tab>,
    selects: Vec<Select>,
    rows: Vec<QueueRow>,
    /// "1–50 của 134".
    range: String,
    total: i64,
    csv_href: String,
    clear_href: String,
    filtered: bool,
    prev: Option<String>,
    next: Option<String>,
    page_of: String,
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

/// Where a dossier was received, as a page says it.
pub fn received_text(d: &DossierRow, desk: &Desk, lang: Lang) -> String {
    match (&d.received_at_unit, d.channel.as_str()) {
        (Some(u), _) => desk.unit_name(u),
        (None, "online") => tr(lang, "channel_online").to_string(),
        (None, _) => tr(lang, "province_level").to_string(),
    }
}

/// The unit that decides a dossier, as a page says it.
pub fn competent_text(d: &DossierRow, desk: &Desk, lang: Lang) -> String {
    match &d.competent_unit {
        Some(u) => desk.unit_name(u),
        None => tr(lang, "province_level").to_string(),
    }
}

pub fn assignee_text(d: &DossierRow, desk: &Desk) -> String {
    d.assignee_id
        .and_then(|id| desk.member(id))
        .map(|m| m.full_name.clone())
        .unwrap_or_default()
}

pub fn queue_row(d: DossierRow, desk: &Desk, lang: Lang) -> QueueRow {
    QueueRow {
        procedure: procedure_name(&d.procedure_code, lang),
        status: d.status().label(lang).to_string(),
        status_key: d.status().as_str().to_string(),
        submitted: local_time(d.submitted_at),
        due: d.due_on.map(date).unwrap_or_default(),
        flag: due_flag(&d),
        unit: competent_text(&d, desk, lang),
        received: received_text(&d, desk, lang),
        assignee: assignee_text(&d, desk),
        applicant: d.applicant_name,
        code: d.tracking_code,
    }
}

/// The query string of a view (empty values left out), page 1 unless `page` is above it.
pub fn query_string(p: &QueueParams, page: i64) -> String {
    let pairs = [
        ("open", &p.open),
        ("status", &p.status),
        ("q", &p.q),
        ("procedure", &p.procedure),
        ("unit", &p.unit),
        ("channel", &p.channel),
        ("assignee", &p.assignee),
        ("flag", &p.flag),
        ("sort", &p.sort),
    ];
    let mut out: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| {
            v.as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(|t| format!("{k}={}", percent_encode(t)))
        })
        .collect();
    if page > 1 {
        out.push(format!("page={page}"));
    }
    out.join("&")
}

fn with_query(path: &str, qs: &str) -> String {
    if qs.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{qs}")
    }
}

fn option(name: &str, value: &str, label: &str, current: &Option<String>) -> OptionView {
    OptionView {
        id: format!("{name}-{value}"),
        value: value.to_string(),
        label: label.to_string(),
        selected: current.as_deref().map(str::trim).unwrap_or("") == value,
    }
}

fn selects(p: &QueueParams, scope: &UnitScope, desk: &Desk, lang: Lang) -> Vec<Select> {
    let any = |name: &'static str| option(name, "", tr(lang, "filter_any"), &None);
    let mut procedure = vec![any("procedure")];
    procedure.extend(
        catalog::national()
            .all()
            .iter()
            .map(|c| option("procedure", &c.code, c.name.get(lang), &p.procedure)),
    );
    let mut status = vec![any("status")];
    status.extend(
        Status::ALL
            .into_iter()
            .map(|s| option("status", s.as_str(), s.label(lang), &p.status)),
    );
    let mut unit = vec![any("unit")];
    unit.extend(
        desk.units()
            .filter(|u| !u.retired || p.unit.as_deref() == Some(u.code.as_str()))
            .filter(|u| scope.units().is_none_or(|mine| mine.contains(&u.code)))
            .map(|u| option("unit", u.code.as_str(), &u.name, &p.unit)),
    );
    let channel = vec![
        any("channel"),
        option("channel", "online", tr(lang, "channel_online"), &p.channel),
        option(
            "channel",
            "counter",
            tr(lang, "channel_counter"),
            &p.channel,
        ),
    ];
    let mut assignee = vec![any("assignee")];
    assignee.extend(
        desk.members
            .iter()
            .filter(|m| {
                matches!(
                    m.role,
                    crate::accounts::staff::StaffRole::Official
                        | crate::accounts::staff::StaffRole::Head
                )
            })
            .filter(|m| match scope.units() {
                None => true,
                Some(mine) => m.units.iter().any(|u| mine.contains(u)),
            })
            .map(|m| {
                option(
                    "assignee",
                    &m.id.0.to_string(),
                    &format!("{} ({})", m.full_name, m.role.label(lang)),
                    &p.assignee,
                )
            }),
    );
    let flag = vec![
        any("flag"),
        option("flag", "overdue", tr(lang, "overdue"), &p.flag),
        option("flag", "due_soon", tr(lang, "due_soon"), &p.flag),
    ];
    let sort = vec![
        option(
            "sort",
            "deadline",
            tr(lang, "sort_deadline"),
            &p.sort.clone().or(Some("deadline".into())),
        ),
        option("sort", "newest", tr(lang, "sort_newest"), &p.sort),
        option("sort", "oldest", tr(lang, "sort_oldest"), &p.sort),
    ];
    let s = |name: &'static str, key: &str, options| Select {
        name,
        label: tr(lang, key).to_string(),
        options,
    };
    vec![
        s("procedure", "procedure", procedure),
        s("status", "status", status),
        s("unit", "competent_unit", unit),
        s("channel", "channel", channel),
        s("assignee", "assignee", assignee),
        s("flag", "due_mark", flag),
        s("sort", "sort_by", sort),
    ]
}

/// `GET /manage?open=&status=&q=&procedure=&unit=&channel=&assignee=&flag=&sort=&page=`.
#[get("/manage")]
pub async fn show_queue(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: PageStaff,
    csrf: Csrf,
    lang: Lang,
    query: web::Query<QueueParams>,
) -> Result<HttpResponse, AppError> {
    let Some(staff) = who.0 else {
        return Ok(session::to_sign_in(&req));
    };
    let mut params = query.into_inner();
    // The page opens on the open dossiers; the link to the export says so explicitly.
    if params.open.as_deref().is_none_or(|o| o.trim().is_empty()) {
        params.open = Some("open".into());
    }
    let mut errors = Vec::new();
    let filter = match params.filter(PER_PAGE) {
        Ok(f) => f,
        Err(AppError::Invalid(fields)) => {
            for (name, msg) in fields.iter() {
                errors.push(ErrorLink {
                    href: format!("#{name}"),
                    message: msg.get(lang).to_string(),
                });
            }
            params = QueueParams {
                open: Some("open".into()),
                ..QueueParams::default()
            };
            params.filter(PER_PAGE)?
        }
        Err(e) => return Err(e),
    };
    let page = (filter.offset / PER_PAGE) + 1;
    let offset = filter.offset;
    let tenant = &staff.province.tenant;
    let branding = app::province_admin::branding(&state, tenant).await?;
    let found = app::staff::queue_page(&state, &staff.actor(), tenant, filter).await?;
    let (counts, total, desk) = (found.counts, found.total, found.desk);
    let sum = |closed: bool| -> i64 {
        counts
            .iter()
            .filter(|(k, _)| Status::parse(k).is_ok_and(|s| s.is_final() == closed))
            .map(|(_, n)| n)
            .sum()
    };
    let open_now = params.open.clone().unwrap_or_default();
    let tab = |value: &str, key: &str, count: i64| {
        let p = QueueParams {
            open: Some(value.into()),
            status: None,
            page: None,
            ..params.clone()
        };
        Tab {
            label: tr(lang, key).to_string(),
            count,
            href: with_query("/manage", &query_string(&p, 1)),
            current: open_now == value,
        }
    };
    let tabs = vec![
        tab("open", "open_dossiers", sum(false)),
        tab("closed", "closed_dossiers", sum(true)),
        tab("all", "all_dossiers", sum(false) + sum(true)),
    ];
    let shown = found.rows.len() as i64;
    let range = if shown == 0 {
        String::new()
    } else {
        format!(
            "{}–{} {} {}",
            offset + 1,
            offset + shown,
            tr(lang, "range_of"),
            total
        )
    };
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let qs = |n: i64| with_query("/manage", &query_string(&params, n));
    let sort_given = params
        .sort
        .as_deref()
        .is_some_and(|s| Sort::parse(s).is_some() && !s.is_empty());
    let filtered = [
        &params.status,
        &params.q,
        &params.procedure,
        &params.unit,
        &params.channel,
        &params.assignee,
        &params.flag,
    ]
    .iter()
    .any(|v| v.as_deref().is_some_and(|t| !t.trim().is_empty()));
    let view = QueuePage {
        layout: layout(&req, &branding, &csrf, &staff),
        errors,
        tabs,
        selects: selects(&params, &found.scope, &desk, lang),
        rows: found
            .rows
            .into_iter()
            .map(|d| queue_row(d, &desk, lang))
            .collect(),
        range,
        total,
        csv_href: with_query("/manage/dossiers.csv", &query_string(&params, 1)),
        clear_href: with_query(
            "/manage",
            &query_string(
                &QueueParams {
                    open: params.open.clone(),
                    sort: if sort_given {
                        params.sort.clone()
                    } else {
                        None
                    },
                    ..QueueParams::default()
                },
                1,
            ),
        ),
        filtered,
        prev: (page > 1).then(|| qs(page - 1)),
        next: (page < pages).then(|| qs(page + 1)),
        page_of: format!("{} {page}/{pages}", tr(lang, "page_word")),
        query: params.q.clone().unwrap_or_default(),
        open: open_now,
    };
    let code = if view.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    session::page(&req, code, &view, &csrf)
}
