//! Leasing on the operator site (plans, leases, usage, subscription decisions) and the national
//! site's subscription form API.

use actix_web::{HttpResponse, get, post, put, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::app::leasing;
use crate::error::AppError;
use crate::leasing::plans::PlanInput;
use crate::leasing::subscriptions;
use crate::web::AppState;
use crate::web::client_addr::ClientAddr;
use crate::web::extract::{OperatorAdmin, OperatorUser};
use crate::web::operator::TenantView;
use crate::web::period_query::{PeriodQuery, period_or_now};

pub fn operator_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_plans)
        .service(put_plan)
        .service(put_lease)
        .service(end_lease)
        .service(get_tenant_usage)
        .service(list_subscriptions)
        .service(approve_subscription)
        .service(decline_subscription);
}

pub fn national_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(request_subscription);
}

#[get("/api/v1/plans")]
async fn list_plans(
    _user: OperatorUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(leasing::plans(&state).await?))
}

#[put("/api/v1/plans/{code}")]
async fn put_plan(
    OperatorAdmin(user): OperatorAdmin,
    state: web::Data<AppState>,
    code: web::Path<String>,
    form: web::Json<PlanInput>,
) -> Result<HttpResponse, AppError> {
    let (code, input) = (code.into_inner(), form.into_inner());
    let (app, actor) = (state.app.clone(), user.actor());
    let plan =
        crate::web::in_span(move || leasing::put_plan(&app, &actor, &code, &input)).await??;
    Ok(HttpResponse::Ok().json(plan))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LeaseForm {
    plan: String,
    starts_on: NaiveDate,
}

/// `PUT /api/v1/tenants/{slug}/lease` `{plan, starts_on}` → 200: the tenant and its leases.
#[put("/api/v1/tenants/{slug}/lease")]
async fn put_lease(
    OperatorAdmin(user): OperatorAdmin,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    form: web::Json<LeaseForm>,
) -> Result<HttpResponse, AppError> {
    let slug = slug.into_inner();
    let LeaseForm { plan, starts_on } = form.into_inner();
    let lease = leasing::NewLease { plan, starts_on };
    let (app, actor) = (state.app.clone(), user.actor());
    let (tenant, leases) =
        crate::web::in_span(move || leasing::start_lease(&app, &actor, &slug, &lease)).await??;
    let mut body = serde_json::to_value(TenantView::new(&tenant, &state)).unwrap_or_default();
    body["leases"] = serde_json::to_value(leases).unwrap_or_default();
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LeaseEndForm {
    /// The last day billed (`YYYY-MM-DD`), at most a year back.
    last_day: NaiveDate,
}

/// `POST /api/v1/tenants/{slug}/lease/end` `{last_day}` → 200: the tenant and its leases; its
/// latest lease is billed up to and including `last_day`.
#[post("/api/v1/tenants/{slug}/lease/end")]
async fn end_lease(
    OperatorAdmin(user): OperatorAdmin,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    form: web::Json<LeaseEndForm>,
) -> Result<HttpResponse, AppError> {
    let slug = slug.into_inner();
    let last_day = form.into_inner().last_day;
    let (app, actor) = (state.app.clone(), user.actor());
    let (tenant, leases) =
        crate::web::in_span(move || leasing::end_lease(&app, &actor, &slug, last_day)).await??;
    let mut body = serde_json::to_value(TenantView::new(&tenant, &state)).unwrap_or_default();
    body["leases"] = serde_json::to_value(leases).unwrap_or_default();
    Ok(HttpResponse::Ok().json(body))
}

/// `GET /api/v1/tenants/{slug}/usage?period=YYYY-MM` → `{period, metrics: {METRIC: {used, included}}}`.
#[get("/api/v1/tenants/{slug}/usage")]
async fn get_tenant_usage(
    _user: OperatorUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, AppError> {
    let period = period_or_now(&query)?;
    let usage = crate::app::tenants::usage(&state, &slug, period).await?;
    Ok(HttpResponse::Ok().json(usage))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SubscriptionForm {
    province_name: String,
    slug: String,
    contact_email: String,
    plan: String,
}

/// `POST /api/v1/subscriptions` (national site) → 202 `{id, status: "pending"}`; the request
/// waits unlisted until the contact address follows the link mailed to it.
#[post("/api/v1/subscriptions")]
async fn request_subscription(
    state: web::Data<AppState>,
    client: ClientAddr,
    form: web::Json<SubscriptionForm>,
) -> Result<HttpResponse, AppError> {
    let f = form.into_inner();
    let request = leasing::SubscriptionRequest {
        province_name: f.province_name,
        slug: f.slug,
        contact_email: f.contact_email,
        plan: f.plan,
        client: client.0,
    };
    let app = state.app.clone();
    let r = crate::web::in_span(move || leasing::request_subscription(&app, &request)).await??;
    Ok(HttpResponse::Accepted().json(json!({ "id": r.id, "status": r.status })))
}

/// `?cursor=` (from the previous page's `next`) and `?limit=` (1..=200).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PageQuery {
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

impl PageQuery {
    pub fn cursor(&self) -> Result<Option<subscriptions::Cursor>, AppError> {
        self.cursor
            .as_deref()
            .filter(|c| !c.is_empty())
            .map(subscriptions::Cursor::parse)
            .transpose()
    }

    /// The query of the page after `next`, keeping the limit asked for.
    pub fn next_query(&self, next: &subscriptions::Cursor) -> String {
        match self.limit {
            Some(l) => format!("?cursor={}&limit={l}", next.encode()),
            None => format!("?cursor={}", next.encode()),
        }
    }
}

/// A page of verified requests, newest first: `{items: [...], next: "/api/v1/subscriptions?cursor=…"
/// | null}`; follow `next` until it is null to see them all.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SubscriptionPage {
    items: Vec<subscriptions::Request>,
    next: Option<String>,
}

/// `GET /api/v1/subscriptions?cursor=&limit=`: verified requests only (an unverified one is
/// not the operator's business yet), paginated, never capped.
#[get("/api/v1/subscriptions")]
async fn list_subscriptions(
    _user: OperatorUser,
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    let (items, next) =
        leasing::subscription_requests(&state, query.cursor()?, query.limit).await?;
    let next = next.map(|c| format!("/api/v1/subscriptions{}", query.next_query(&c)));
    Ok(HttpResponse::Ok().json(SubscriptionPage { items, next }))
}

/// `POST /api/v1/subscriptions/{id}/approve` → 201 tenant: provisioned, leased, and its first
/// admin invited by mail, all in one transaction.
#[post("/api/v1/subscriptions/{id}/approve")]
async fn approve_subscription(
    OperatorAdmin(user): OperatorAdmin,
    state: web::Data<AppState>,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, AppError> {
    let (app, actor, id) = (state.app.clone(), user.actor(), id.into_inner());
    let tenant =
        crate::web::in_span(move || leasing::approve_subscription(&app, &actor, id)).await??;
    Ok(HttpResponse::Created().json(TenantView::new(&tenant, &state)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DeclineForm {
    reason: String,
}

/// `POST /api/v1/subscriptions/{id}/decline` `{reason}` → 200; the reason is mailed.
#[post("/api/v1/subscriptions/{id}/decline")]
async fn decline_subscription(
    OperatorAdmin(user): OperatorAdmin,
    state: web::Data<AppState>,
    id: web::Path<uuid::Uuid>,
    form: web::Json<DeclineForm>,
) -> Result<HttpResponse, AppError> {
    let (app, actor, id) = (state.app.clone(), user.actor(), id.into_inner());
    let reason = form.into_inner().reason;
    let r = crate::web::in_span(move || leasing::decline_subscription(&app, &actor, id, &reason))
        .await??;
    Ok(HttpResponse::Ok().json(r))
}
