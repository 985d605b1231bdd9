//! A province's leases on the operator console: the history (plan, from, to, monthly fee,
//! status), and forms to put it on a plan from a date or end its lease. Each change is
//! previewed first (the proration of the month it takes effect and the next, by the close's
//! own code, nothing written), then applied through the API's action
//! (`app::leasing::change_lease`); refusals show on the page, in the page's language.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;

use crate::accounts::operators::{OperatorAccount, OperatorRole};
use crate::app::leasing::{self, LeaseChange, LeaseEffect, NewLease, PeriodFees};
use crate::error::{AppError, FieldErrors};
use crate::lang::{Lang, Msg};
use crate::leasing::LeaseView;
use crate::leasing::plans::Plan;
use crate::web::AppState;
use crate::web::close_pages::money;
use crate::web::operator_pages::PageOperator;
use crate::web::pages::{Layout, tr};
use crate::web::province::citizen_pages::view::{ErrorLink, date, error_links};
use crate::web::session::{self, Csrf};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(show_leases)
        .service(back_to_leases)
        .service(preview_lease_change)
        .service(apply_lease_change);
}

/// The fields in page order (the error summary's order).
const FIELDS: [&str; 4] = ["action", "plan", "starts_on", "last_day"];

/// One lease in the history.
#[derive(Clone)]
struct LeaseRow {
    plan: String,
    from: String,
    /// The last day it runs, or "until changed".
    to: String,
    fee: String,
    status: &'static str,
    by: String,
}

/// A plan in the form's list.
struct PlanOption {
    code: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "operator/leases.html")]
struct LeasesPage {
    layout: Layout,
    tenant_name: String,
    slug: String,
    /// The lease in force today, if any.
    current: Option<LeaseRow>,
    rows: Vec<LeaseRow>,
    plans: Vec<PlanOption>,
    /// The dates as typed (kept after a refusal).
    starts_on: String,
    last_day: String,
    errors: Vec<ErrorLink>,
    field_errors: BTreeMap<String, String>,
    /// After a change: what was done.
    done: Option<&'static str>,
    can_change: bool,
}

impl LeasesPage {
    fn error(&self, field: &str) -> &str {
        self.field_errors
            .get(field)
            .map(String::as_str)
            .unwrap_or("")
    }
}

/// A plan's name (the pages show no internal code); the code alone when the plan is gone.
pub(super) fn plan_name(plans: &[Plan], code: &str) -> String {
    plans
        .iter()
        .find(|p| p.code == code)
        .map_or_else(|| code.to_string(), |p| p.name.clone())
}

fn plan_fee(plans: &[Plan], code: &str) -> i64 {
    plans
        .iter()
        .find(|p| p.code == code)
        .map_or(0, |p| p.monthly_fee_vnd)
}

fn rows(leases: &[LeaseView], plans: &[Plan], lang: Lang) -> (Vec<LeaseRow>, Option<usize>) {
    let today = crate::clock::today_vn();
    let mut current = None;
    let rows = leases
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let ends = l.ends(leases.get(i + 1));
            let status = if l.starts_on > today {
                "lease_scheduled"
            } else if ends.is_none_or(|e| e > today) {
                current = Some(i);
                "lease_in_force"
            } else {
                "lease_over"
            };
            LeaseRow {
                plan: plan_name(plans, &l.plan),
                from: date(l.starts_on),
                to: ends
                    .and_then(|e| e.pred_opt())
                    .map_or_else(|| tr(lang, "lease_open").to_string(), date),
                fee: money(plan_fee(plans, &l.plan), lang),
                status: tr(lang, status),
                by: l.created_by.clone(),
            }
        })
        .collect();
    (rows, current)
}

/// What the form sent, as typed.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct LeaseChangeForm {
    csrf: Option<String>,
    action: String,
    plan: String,
    starts_on: String,
    last_day: String,
}

/// A date as a date field sends it (`2026-12-15`) or as people type it (`15/12/2026`).
fn parse_day(field: &str, raw: &str) -> Result<NaiveDate, FieldErrors> {
    let raw = raw.trim();
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(raw, "%d/%m/%Y"))
        .map_err(|_| {
            FieldErrors::from([(
                field.to_string(),
                Msg::new(
                    "Nhập một ngày, ví dụ 15/12/2026.",
                    "Enter a date, for example 15/12/2026.",
                ),
            )])
        })
}

impl LeaseChangeForm {
    /// The change the form asks for, or why it cannot be read (what the action then checks
    /// is the action's own business: unknown plan, a date too far back…).
    fn change(&self) -> Result<LeaseChange, FieldErrors> {
        match self.action.as_str() {
            "start" => {
                let starts_on = parse_day("starts_on", &self.starts_on);
                let plan = self.plan.trim();
                match (plan.is_empty(), starts_on) {
                    (false, Ok(starts_on)) => Ok(LeaseChange::Start(NewLease {
                        plan: plan.to_string(),
                        starts_on,
                    })),
                    (empty, day) => {
                        let mut e = day.err().unwrap_or_default();
                        if empty {
                            e.insert(
                                "plan".into(),
                                Msg::new("Chọn một gói dịch vụ.", "Choose a plan."),
                            );
                        }
                        Err(e)
                    }
                }
            }
            "end" => Ok(LeaseChange::End {
                last_day: parse_day("last_day", &self.last_day)?,
            }),
            _ => Err(FieldErrors::from([(
                "action".to_string(),
                Msg::new(
                    "Chọn đổi gói hoặc kết thúc thuê.",
                    "Choose a change or an end.",
                ),
            )])),
        }
    }
}

async fn render_leases(
    req: &HttpRequest,
    state: &AppState,
    csrf: &Csrf,
    who: &OperatorAccount,
    slug: &str,
    typed: Option<(&LeaseChangeForm, FieldErrors)>,
    done: Option<&'static str>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(req);
    let (tenant, leases, plans) = leasing::leases_of(state, slug).await?;
    let (rows, current) = rows(&leases, &plans, lang);
    let (form, errors, status) = match typed {
        Some((f, e)) => (f.clone(), e, StatusCode::UNPROCESSABLE_ENTITY),
        None => (
            LeaseChangeForm::default(),
            FieldErrors::new(),
            StatusCode::OK,
        ),
    };
    let chosen = if form.plan.is_empty() {
        tenant.plan.clone()
    } else {
        form.plan.clone()
    };
    let plans_view = plans
        .iter()
        .map(|p| PlanOption {
            code: p.code.clone(),
            label: format!(
                "{} · {} / {}",
                p.name,
                money(p.monthly_fee_vnd, lang),
                tr(lang, "inv_month")
            ),
            selected: p.code == chosen,
        })
        .collect();
    let layout = Layout::operator(req).with_session(csrf.token(), Some(&who.email));
    let mut rows = rows;
    let current = current.map(|i| rows[i].clone());
    // Newest first: the clerk reads what is in force, then what came before.
    rows.reverse();
    let page = LeasesPage {
        layout,
        tenant_name: tenant.name,
        slug: tenant.slug,
        current,
        rows,
        plans: plans_view,
        starts_on: form.starts_on,
        last_day: form.last_day,
        errors: error_links(&FIELDS, &errors, lang),
        field_errors: errors
            .iter()
            .map(|(k, m)| (k.clone(), m.get(lang).to_string()))
            .collect(),
        done,
        can_change: who.role == OperatorRole::Operator,
    };
    session::page(req, status, &page, csrf)
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

/// `GET /tenants/{slug}/leases`: the history and the forms.
#[get("/tenants/{slug}/leases")]
async fn show_leases(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: PageOperator,
    csrf: Csrf,
    slug: web::Path<String>,
    query: web::Query<DoneQuery>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = who.0 else {
        return Ok(session::see_other("/sign-in"));
    };
    let done = match query.done.as_deref() {
        Some("start") => Some("lease_done_start"),
        Some("end") => Some("lease_done_end"),
        _ => None,
    };
    render_leases(&req, &state, &csrf, &user, &slug, None, done).await
}

/// `GET /tenants/{slug}/leases/preview` (the language switch of a preview, a reload): the
/// preview is a form's answer, so back to the form, in the language asked.
#[get("/tenants/{slug}/leases/preview")]
async fn back_to_leases(
    req: HttpRequest,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    // Only a slug goes into the address sent back.
    crate::tenancy::Slug::parse(&slug).map_err(|_| AppError::NotFound)?;
    let lang = Lang::of(&req).code();
    Ok(session::see_other(&format!(
        "/tenants/{slug}/leases?lang={lang}"
    )))
}

/// One plan over its days in a period.
struct FeeLine {
    plan: String,
    span: String,
    days: String,
    amount: String,
}

/// The fees of a period now, or after the change.
struct FeeTable {
    /// Its caption's words.
    key: &'static str,
    /// `before` or `after`: the table's id (with the period).
    id: &'static str,
    lines: Vec<FeeLine>,
    total: String,
}

/// One period of the confirmation: the fees now and after the change.
struct PeriodView {
    period: String,
    label: String,
    tables: [FeeTable; 2],
    /// After minus before, signed.
    difference: String,
    /// The invoice already issued for the period (it does not change).
    issued: Option<String>,
}

#[derive(Template)]
#[template(path = "operator/lease_confirm.html")]
struct LeaseConfirmPage {
    layout: Layout,
    tenant_name: String,
    slug: String,
    /// What will be done, in words.
    title: String,
    /// The form's fields again, for the confirmation.
    action: String,
    plan: String,
    starts_on: String,
    last_day: String,
    periods: Vec<PeriodView>,
    /// Ending a lease: "Tỉnh sẽ bị tạm ngừng từ ngày …" (the plan job suspends it then).
    suspends: String,
}

fn fee_lines(fees: &PeriodFees, plans: &[Plan], lang: Lang) -> Vec<FeeLine> {
    fees.lines
        .iter()
        .map(|(s, amount)| FeeLine {
            plan: plan_name(plans, &s.plan),
            span: format!(
                "{} – {}",
                date(s.from),
                s.until.pred_opt().map(date).unwrap_or_default()
            ),
            days: format!(
                "{}/{} {}",
                (s.until - s.from).num_days(),
                fees.period.days(),
                tr(lang, "inv_days")
            ),
            amount: money(amount.0, lang),
        })
        .collect()
}

fn signed(amount: i64, lang: Lang) -> String {
    match amount {
        0 => money(0, lang),
        a if a > 0 => format!("+{}", money(a, lang)),
        a => money(a, lang),
    }
}

fn period_views(effect: &LeaseEffect, plans: &[Plan], lang: Lang) -> Vec<PeriodView> {
    effect
        .periods
        .iter()
        .map(|(before, after, issued)| PeriodView {
            period: before.period.to_string(),
            label: before.period.first_day().format("%m/%Y").to_string(),
            tables: [
                FeeTable {
                    key: "lease_now",
                    id: "before",
                    lines: fee_lines(before, plans, lang),
                    total: money(before.total(), lang),
                },
                FeeTable {
                    key: "lease_after",
                    id: "after",
                    lines: fee_lines(after, plans, lang),
                    total: money(after.total(), lang),
                },
            ],
            difference: signed(after.total() - before.total(), lang),
            issued: issued.clone(),
        })
        .collect()
}

/// The form read, with the signed-in operator allowed to change leases (role `operator`).
fn changer(
    who: PageOperator,
    csrf: &Csrf,
    form: &LeaseChangeForm,
) -> Result<OperatorAccount, AppError> {
    csrf.verify(form.csrf.as_deref())?;
    let user = who.0.ok_or_else(AppError::unauthorized)?;
    if user.role != OperatorRole::Operator {
        return Err(AppError::forbidden());
    }
    Ok(user)
}

/// `POST /tenants/{slug}/leases/preview`: what the change would bill, nothing written; a
/// refusal (the action's own checks, run in a rolled-back savepoint) shows on the form.
#[post("/tenants/{slug}/leases/preview")]
async fn preview_lease_change(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: PageOperator,
    csrf: Csrf,
    slug: web::Path<String>,
    form: web::Form<LeaseChangeForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let user = changer(who, &csrf, &form)?;
    let lang = Lang::of(&req);
    let change = match form.change() {
        Ok(c) => c,
        Err(e) => {
            return render_leases(&req, &state, &csrf, &user, &slug, Some((&form, e)), None).await;
        }
    };
    let effect = match leasing::lease_effect(&state, &user.actor(), &slug, &change).await {
        Ok(e) => e,
        Err(AppError::Invalid(e)) => {
            return render_leases(&req, &state, &csrf, &user, &slug, Some((&form, e)), None).await;
        }
        Err(e) => return Err(e),
    };
    let (tenant, _, plans) = leasing::leases_of(&state, &slug).await?;
    let title = match &change {
        LeaseChange::Start(l) => format!(
            "{} {} {} {}",
            tr(lang, "lease_confirm_start"),
            plan_name(&plans, &l.plan),
            tr(lang, "lease_from"),
            date(l.starts_on)
        ),
        LeaseChange::End { last_day } => {
            format!("{} {}", tr(lang, "lease_confirm_end"), date(*last_day))
        }
    };
    let suspends = match &change {
        LeaseChange::Start(_) => String::new(),
        LeaseChange::End { last_day } => format!(
            "{} {}. {}",
            tr(lang, "lease_confirm_suspends"),
            date(leasing::suspended_from(*last_day)),
            tr(lang, "lease_confirm_suspends_why")
        ),
    };
    let layout = Layout::operator(&req).with_session(csrf.token(), Some(&user.email));
    let page = LeaseConfirmPage {
        suspends,
        layout,
        tenant_name: tenant.name,
        slug: tenant.slug,
        title,
        periods: period_views(&effect, &plans, lang),
        action: form.action,
        plan: form.plan,
        starts_on: form.starts_on,
        last_day: form.last_day,
    };
    session::page(&req, StatusCode::OK, &page, &csrf)
}

/// `POST /tenants/{slug}/leases`: applies the confirmed change through the API's action,
/// audited the same, then the history with an acknowledgement.
#[post("/tenants/{slug}/leases")]
async fn apply_lease_change(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: PageOperator,
    csrf: Csrf,
    slug: web::Path<String>,
    form: web::Form<LeaseChangeForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let user = changer(who, &csrf, &form)?;
    let slug = slug.into_inner();
    let change = match form.change() {
        Ok(c) => c,
        Err(e) => {
            return render_leases(&req, &state, &csrf, &user, &slug, Some((&form, e)), None).await;
        }
    };
    let (app, actor, s, c) = (
        state.app.clone(),
        user.actor(),
        slug.clone(),
        change.clone(),
    );
    let applied = crate::web::in_span(move || leasing::change_lease(&app, &actor, &s, &c)).await?;
    match applied {
        Ok(_) => {
            let done = match change {
                LeaseChange::Start(_) => "start",
                LeaseChange::End { .. } => "end",
            };
            Ok(session::see_other(&format!(
                "/tenants/{slug}/leases?done={done}"
            )))
        }
        Err(AppError::Invalid(e)) => {
            render_leases(&req, &state, &csrf, &user, &slug, Some((&form, e)), None).await
        }
        Err(e) => Err(e),
    }
}
