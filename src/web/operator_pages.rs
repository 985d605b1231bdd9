//! The operator console in the browser: sign in, every province with this month's usage,
//! a province's usage and leases, plans, and subscription requests to decide.

use actix_web::http::StatusCode;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use futures_util::future::LocalBoxFuture;
use serde::Deserialize;

use crate::accounts::operators::{OperatorAccount, OperatorRole};
use crate::error::AppError;
use crate::lang::{Lang, Msg};
use crate::leasing::plans::Plan;
use crate::leasing::subscriptions::Request;
use crate::metering::Metric;
use crate::metering::usage;
use crate::period::Period;
use crate::tenancy::{Site, Tenant, TenantStatus};
use crate::web::AppState;
use crate::web::lease_pages::plan_name;
use crate::web::pages::Layout;
use crate::web::period_query::{PeriodQuery, period_or_now};
use crate::web::session::{self, Csrf, SESSION_COOKIE};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(show_console)
        .service(show_operator_sign_in)
        .service(sign_in_operator)
        .service(sign_out_operator)
        .service(show_tenant_usage)
        .service(change_tenant_status)
        .service(show_plans)
        .service(show_subscriptions)
        .service(decide_subscription);
}

/// The signed-in operator of the `session` cookie on the operator site, if any.
pub struct PageOperator(pub Option<OperatorAccount>);

impl actix_web::FromRequest for PageOperator {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<PageOperator, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let token = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string());
        let on_ops = matches!(req.extensions().get::<Site>(), Some(Site::Operator));
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let (Some(token), true, Some(state)) = (token, on_ops, state) else {
                return Ok(PageOperator(None));
            };
            let Ok(claims) = state.jwt.verify(&token, &Site::Operator.audience()) else {
                return Ok(PageOperator(None));
            };
            // Active, and the token's version still the account's (a sign-out anywhere ends it).
            match crate::app::auth::resume(&state, &Site::Operator, &claims).await? {
                Some(crate::app::auth::Account::Operator(account)) => {
                    Ok(PageOperator(Some(account)))
                }
                _ => Ok(PageOperator(None)),
            }
        })
    }
}

#[derive(Template)]
#[template(path = "operator/sign_in.html")]
struct SignInPage {
    layout: Layout,
    email: String,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct SignInForm {
    csrf: Option<String>,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

#[get("/sign-in")]
async fn show_operator_sign_in(req: HttpRequest, csrf: Csrf) -> Result<HttpResponse, AppError> {
    let layout = Layout::operator(&req).with_session(csrf.token(), None);
    session::page(
        &req,
        StatusCode::OK,
        &SignInPage {
            layout,
            email: String::new(),
            error: None,
        },
        &csrf,
    )
}

#[post("/sign-in")]
async fn sign_in_operator(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    lang: Lang,
    form: web::Form<SignInForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    csrf.verify(form.csrf.as_deref())?;
    let found = crate::app::operators::sign_in(&state, &form.email, &form.password).await;
    let (status, error) = match found {
        Ok(Some((account, version))) => {
            let token = state.jwt.issue(
                &account.id.to_string(),
                &Site::Operator.audience(),
                account.role.as_str(),
                version,
            )?;
            let mut res = session::see_other("/");
            res.add_cookie(&session::rotated_csrf_cookie(&state, &token))
                .map_err(AppError::internal)?;
            res.add_cookie(&session::session_cookie(&state, token))
                .map_err(AppError::internal)?;
            return Ok(res);
        }
        Ok(None) => (
            StatusCode::UNAUTHORIZED,
            Msg::new(
                "Email hoặc mật khẩu không đúng.",
                "Wrong email or password.",
            ),
        ),
        Err(AppError::TooMany { msg, .. }) => (StatusCode::TOO_MANY_REQUESTS, msg),
        Err(e) => return Err(e),
    };
    let layout = Layout::operator(&req).with_session(csrf.token(), None);
    let page = SignInPage {
        layout,
        email: form.email,
        error: Some(error.get(lang).to_string()),
    };
    session::page(&req, status, &page, &csrf)
}

#[derive(Debug, Default, Deserialize)]
pub struct CsrfOnly {
    csrf: Option<String>,
}

/// Signs the account out on every device and replica (every token issued to it so far stops
/// working), then forgets the cookie.
#[post("/sign-out")]
async fn sign_out_operator(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(form.csrf.as_deref())?;
    session::sign_out(&req, &state).await?;
    let mut res = session::see_other("/sign-in");
    res.add_cookie(&session::clear_session_cookie(&state))
        .map_err(AppError::internal)?;
    Ok(res)
}

/// One province on the dashboard.
struct ConsoleRow {
    tenant: Tenant,
    /// The plan's name as the clerk set it (the page shows no internal code).
    plan: String,
    dossiers: i64,
    included: i64,
}

#[derive(Template)]
#[template(path = "operator/console.html")]
struct ConsolePage {
    layout: Layout,
    period: String,
    /// The period the close form offers: last month.
    last_period: String,
    rows: Vec<ConsoleRow>,
    pending: usize,
    /// Invoiced and paid over the last 12 periods.
    revenue: crate::web::revenue_chart::RevenueChart,
}

#[get("/")]
async fn show_console(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: PageOperator,
    csrf: Csrf,
) -> Result<HttpResponse, AppError> {
    let Some(user) = who.0 else {
        return Ok(session::see_other("/sign-in"));
    };
    let period = Period::of(crate::clock::today_vn());
    let tenants = crate::app::tenants::list_with_usage(&state, period).await?;
    let pending = crate::app::leasing::pending_subscriptions(&state).await? as usize;
    let months = crate::app::invoices::monthly_revenue(&state, 12).await?;
    let revenue = crate::web::revenue_chart::chart(&months, Lang::of(&req));
    let plans = crate::app::leasing::plans(&state).await?;
    let rows = tenants
        .into_iter()
        .map(|(tenant, u)| {
            let d = u
                .metrics
                .get("dossiers")
                .copied()
                .unwrap_or(usage::MetricUsage {
                    used: 0,
                    included: 0,
                });
            ConsoleRow {
                plan: plan_name(&plans, &tenant.plan),
                tenant,
                dossiers: d.used,
                included: d.included,
            }
        })
        .collect();
    let layout = Layout::operator(&req).with_session(csrf.token(), Some(&user.email));
    session::page(
        &req,
        StatusCode::OK,
        &ConsolePage {
            layout,
            period: period.to_string(),
            last_period: period.prev().to_string(),
            rows,
            pending,
            revenue,
        },
        &csrf,
    )
}

/// A metric's bar on the province page.
struct UsageBar {
    label: String,
    used: i64,
    included: i64,
    /// Share of the allowance used, 0..=100 (capped for drawing).
    percent: u32,
}

#[derive(Template)]
#[template(path = "operator/tenant.html")]
struct TenantPage {
    layout: Layout,
    tenant: Tenant,
    /// The plan's name (see `ConsoleRow::plan`), and each lease's.
    plan: String,
    lease_plans: Vec<String>,
    period: String,
    prev: String,
    bars: Vec<UsageBar>,
    leases: Vec<crate::leasing::LeaseView>,
    can_change: bool,
}

#[get("/tenants/{slug}")]
async fn show_tenant_usage(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: PageOperator,
    csrf: Csrf,
    lang: Lang,
    slug: web::Path<String>,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = who.0 else {
        return Ok(session::see_other("/sign-in"));
    };
    let period = period_or_now(&query)?;
    let (tenant, u, leases) = crate::app::tenants::usage_and_leases(&state, &slug, period).await?;
    let bars = Metric::ALL
        .iter()
        .map(|m| {
            let mu = u
                .metrics
                .get(m.as_str())
                .copied()
                .unwrap_or(usage::MetricUsage {
                    used: 0,
                    included: 0,
                });
            let percent = if mu.included > 0 {
                ((mu.used as f64 / mu.included as f64) * 100.0).min(100.0) as u32
            } else {
                0
            };
            UsageBar {
                label: m.label(lang).to_string(),
                used: mu.used,
                included: mu.included,
                percent,
            }
        })
        .collect();
    let layout = Layout::operator(&req).with_session(csrf.token(), Some(&user.email));
    let plans = crate::app::leasing::plans(&state).await?;
    let page = TenantPage {
        layout,
        plan: plan_name(&plans, &tenant.plan),
        lease_plans: leases.iter().map(|l| plan_name(&plans, &l.plan)).collect(),
        tenant,
        period: period.to_string(),
        prev: period.prev().to_string(),
        bars,
        leases,
        can_change: user.role == OperatorRole::Operator,
    };
    session::page(&req, StatusCode::OK, &page, &csrf)
}

#[derive(Debug, Deserialize)]
pub struct StatusForm {
    csrf: Option<String>,
    status: String,
}

#[post("/tenants/{slug}/status")]
async fn change_tenant_status(
    state: web::Data<AppState>,
    who: PageOperator,
    csrf: Csrf,
    slug: web::Path<String>,
    form: web::Form<StatusForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(form.csrf.as_deref())?;
    let user = who.0.ok_or_else(AppError::unauthorized)?;
    if user.role != OperatorRole::Operator {
        return Err(AppError::forbidden());
    }
    let status = match form.status.as_str() {
        "suspended" => TenantStatus::Suspended,
        "active" => TenantStatus::Active,
        _ => {
            return Err(AppError::invalid(
                "status",
                Msg::new("Trạng thái không hợp lệ.", "Unknown status."),
            ));
        }
    };
    let slug = slug.into_inner();
    let (app, actor, s) = (state.app.clone(), user.actor(), slug.clone());
    crate::web::in_span(move || crate::app::tenants::set_status(&app, &actor, &s, status))
        .await??;
    Ok(session::see_other(&format!("/tenants/{slug}")))
}

#[derive(Template)]
#[template(path = "operator/plans.html")]
struct PlansPage {
    layout: Layout,
    plans: Vec<Plan>,
}

impl PlansPage {
    fn terms(&self, plan: &Plan, metric: &str) -> String {
        plan.metrics
            .get(metric)
            .map(|t| match t.hard_cap {
                Some(cap) => format!("{} · {} đ · ≤ {cap}", t.included, t.unit_price_vnd),
                None => format!("{} · {} đ", t.included, t.unit_price_vnd),
            })
            .unwrap_or_default()
    }
}

#[get("/plans")]
async fn show_plans(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: PageOperator,
    csrf: Csrf,
) -> Result<HttpResponse, AppError> {
    let Some(user) = who.0 else {
        return Ok(session::see_other("/sign-in"));
    };
    let plans = crate::app::leasing::plans(&state).await?;
    let layout = Layout::operator(&req).with_session(csrf.token(), Some(&user.email));
    session::page(&req, StatusCode::OK, &PlansPage { layout, plans }, &csrf)
}

#[derive(Template)]
#[template(path = "operator/subscriptions.html")]
struct SubscriptionsPage {
    layout: Layout,
    requests: Vec<Request>,
    /// The next page's address, when there is one.
    next: Option<String>,
}

/// Verified requests, newest first, a page at a time (`?cursor=`, `?limit=`), with a link to
/// the next page: none is hidden behind a cap.
#[get("/subscriptions")]
async fn show_subscriptions(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: PageOperator,
    csrf: Csrf,
    query: web::Query<crate::web::leasing_api::PageQuery>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = who.0 else {
        return Ok(session::see_other("/sign-in"));
    };
    let (requests, next) =
        crate::app::leasing::subscription_requests(&state, query.cursor()?, query.limit).await?;
    let next = next.map(|c| format!("/subscriptions{}", query.next_query(&c)));
    let layout = Layout::operator(&req).with_session(csrf.token(), Some(&user.email));
    session::page(
        &req,
        StatusCode::OK,
        &SubscriptionsPage {
            layout,
            requests,
            next,
        },
        &csrf,
    )
}

#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    csrf: Option<String>,
    decision: String,
    #[serde(default)]
    reason: String,
}

#[post("/subscriptions/{id}")]
async fn decide_subscription(
    state: web::Data<AppState>,
    who: PageOperator,
    csrf: Csrf,
    id: web::Path<uuid::Uuid>,
    form: web::Form<DecisionForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(form.csrf.as_deref())?;
    let user = who.0.ok_or_else(AppError::unauthorized)?;
    if user.role != OperatorRole::Operator {
        return Err(AppError::forbidden());
    }
    let form = form.into_inner();
    let (app, actor, id) = (state.app.clone(), user.actor(), id.into_inner());
    match form.decision.as_str() {
        "approve" => {
            let tenant = crate::web::in_span(move || {
                crate::app::leasing::approve_subscription(&app, &actor, id)
            })
            .await??;
            Ok(session::see_other(&format!("/tenants/{}", tenant.slug)))
        }
        "decline" => {
            crate::web::in_span(move || {
                crate::app::leasing::decline_subscription(&app, &actor, id, &form.reason)
            })
            .await??;
            Ok(session::see_other("/subscriptions"))
        }
        _ => Err(AppError::invalid(
            "decision",
            Msg::new("Quyết định không hợp lệ.", "Unknown decision."),
        )),
    }
}
