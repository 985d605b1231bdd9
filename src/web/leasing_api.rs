//! Leasing on the operator site (plans, leases, usage, subscription decisions) and the national
//! site's subscription form API.

use actix_web::{HttpResponse, get, post, put, web};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::json;

use crate::accounts::Email;
use crate::accounts::staff::{self, StaffRole};
use crate::audit;
use crate::clock::today_vn;
use crate::error::AppError;
use crate::lang::Msg;
use crate::leasing::plans::{self, PlanInput};
use crate::leasing::{self, subscriptions};
use crate::metering::usage;
use crate::notify::outbox::{self, NewMail};
use crate::period::Period;
use crate::tenancy::provision::provision_in;
use crate::tenancy::store;
use crate::web::AppState;
use crate::web::extract::{OperatorAdmin, OperatorUser};
use crate::web::operator::TenantView;

pub fn operator_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_plans)
        .service(put_plan)
        .service(put_lease)
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
    Ok(HttpResponse::Ok().json(state.db.control_async(plans::list).await?))
}

#[put("/api/v1/plans/{code}")]
async fn put_plan(
    OperatorAdmin(user): OperatorAdmin,
    state: web::Data<AppState>,
    code: web::Path<String>,
    form: web::Json<PlanInput>,
) -> Result<HttpResponse, AppError> {
    let code = code.into_inner();
    let input = form.into_inner();
    let actor = format!("operator:{}", user.email);
    let plan = state
        .db
        .control_async(move |conn| {
            let plan = plans::put(conn, &code, &input)?;
            audit::record(
                conn,
                &actor,
                crate::audit::Action::PlanPut,
                &code,
                serde_json::to_value(&plan).unwrap_or_default(),
            )?;
            Ok(plan)
        })
        .await?;
    // Rates of provinces on this plan change now.
    let registry = state.registry.clone();
    crate::web::in_span(move || registry.reload()).await??;
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
    let actor = format!("operator:{}", user.email);
    let earliest = today_vn() - chrono::Duration::days(366);
    if starts_on < earliest {
        return Err(AppError::invalid(
            "starts_on",
            Msg::new(
                "Ngày bắt đầu quá xa trong quá khứ.",
                "The start date is too far in the past.",
            ),
        ));
    }
    let (tenant, leases) = state
        .db
        .control_async(move |conn| {
            let t = store::find_by_slug(conn, &slug)?.ok_or(AppError::NotFound)?;
            if !store::plan_exists(conn, &plan)? {
                return Err(AppError::invalid(
                    "plan",
                    Msg::new("Không có gói dịch vụ này.", "There is no such plan."),
                ));
            }
            leasing::start_lease(conn, t.id, &plan, starts_on, &actor)?;
            audit::record(
                conn,
                &actor,
                crate::audit::Action::TenantLease,
                &slug,
                json!({ "plan": plan, "starts_on": starts_on }),
            )?;
            let t = store::find_by_slug(conn, &slug)?.ok_or(AppError::NotFound)?;
            let leases = leasing::history(conn, t.id)?;
            Ok((t, leases))
        })
        .await?;
    let registry = state.registry.clone();
    crate::web::in_span(move || registry.reload()).await??;
    let mut body = serde_json::to_value(TenantView::new(&tenant, &state)).unwrap_or_default();
    body["leases"] = serde_json::to_value(leases).unwrap_or_default();
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Debug, Deserialize)]
pub struct PeriodQuery {
    period: Option<String>,
}

pub fn period_or_now(q: &PeriodQuery) -> Result<Period, AppError> {
    match q.period.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => Period::parse(p).map_err(|m| AppError::invalid("period", m)),
        None => Ok(Period::of(today_vn())),
    }
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
    let slug = slug.into_inner();
    let usage = state
        .db
        .control_async(move |conn| {
            let t = store::find_by_slug(conn, &slug)?.ok_or(AppError::NotFound)?;
            usage::for_period(conn, t.id, period)
        })
        .await?;
    Ok(HttpResponse::Ok().json(usage))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SubscriptionForm {
    province_name: String,
    slug: String,
    contact_email: String,
    plan: String,
}

/// `POST /api/v1/subscriptions` (national site) → 202 `{id, status: "pending"}`.
#[post("/api/v1/subscriptions")]
async fn request_subscription(
    state: web::Data<AppState>,
    form: web::Json<SubscriptionForm>,
) -> Result<HttpResponse, AppError> {
    let f = form.into_inner();
    let r = state
        .db
        .control_async(move |conn| {
            subscriptions::create(conn, &f.province_name, &f.slug, &f.contact_email, &f.plan)
        })
        .await?;
    Ok(HttpResponse::Accepted().json(json!({ "id": r.id, "status": r.status })))
}

#[get("/api/v1/subscriptions")]
async fn list_subscriptions(
    _user: OperatorUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(state.db.control_async(subscriptions::list).await?))
}

/// `POST /api/v1/subscriptions/{id}/approve` → 201 tenant: provisioned, leased, and its first
/// admin invited by mail, all in one transaction.
#[post("/api/v1/subscriptions/{id}/approve")]
async fn approve_subscription(
    OperatorAdmin(user): OperatorAdmin,
    state: web::Data<AppState>,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, AppError> {
    let tenant = approve(&state, id.into_inner(), format!("operator:{}", user.email)).await?;
    Ok(HttpResponse::Created().json(TenantView::new(&tenant, &state)))
}

/// Approves a pending request: the province is provisioned, leased, and its first admin
/// invited by mail, all in one transaction; this replica serves it on return.
pub async fn approve(
    state: &web::Data<AppState>,
    id: uuid::Uuid,
    actor: String,
) -> Result<crate::tenancy::Tenant, AppError> {
    let base = state.registry.base_domain().to_string();
    let settings = state.settings.clone();
    let tenant = state
        .db
        .control_async(move |conn| {
            let r = subscriptions::lock_pending(conn, id)?;
            let new = subscriptions::to_new_tenant(&r, &base)?;
            let tenant = provision_in(conn, &new, &actor, |_| Ok(()))?;
            // The contact becomes the province's first admin, invited from its own outbox.
            crate::db::tenant_enter(conn, &tenant.db_ref())?;
            let email = Email::parse(&r.contact_email)
                .map_err(|m| AppError::invalid("contact_email", m))?;
            let (admin, token) = staff::invite(conn, &email, &r.province_name, StaffRole::Admin)?;
            let site = settings.url_for_host(&format!("{}.{base}", tenant.slug));
            let (subject, body) = crate::web::province::admin_api::invitation_mail(
                &tenant.name,
                "Cổng Dịch vụ công quốc gia",
                &admin.full_name,
                StaffRole::Admin,
                &format!("{site}/invitations/{token}"),
            );
            outbox::enqueue(
                conn,
                tenant.id,
                &NewMail {
                    kind: "staff_invitation",
                    dossier_id: None,
                    to: email.as_str(),
                    subject: &subject,
                    body: &body,
                },
            )?;
            crate::db::tenant_leave(conn)?;
            subscriptions::mark(conn, id, "approved", None, &actor, Some(tenant.id.0))?;
            audit::record(
                conn,
                &actor,
                crate::audit::Action::SubscriptionApprove,
                &tenant.slug,
                json!({ "request": id }),
            )?;
            Ok(tenant)
        })
        .await?;
    let registry = state.registry.clone();
    crate::web::in_span(move || registry.reload()).await??;
    Ok(tenant)
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
    let r = decline(
        &state,
        id.into_inner(),
        form.into_inner().reason,
        format!("operator:{}", user.email),
    )
    .await?;
    Ok(HttpResponse::Ok().json(r))
}

/// Declines a pending request with a reason, mailed from the national outbox.
pub async fn decline(
    state: &web::Data<AppState>,
    id: uuid::Uuid,
    reason: String,
    actor: String,
) -> Result<subscriptions::Request, AppError> {
    let reason = reason.trim().to_string();
    if reason.is_empty() || reason.chars().count() > 1000 {
        return Err(AppError::invalid(
            "reason",
            Msg::new(
                "Cần nêu lý do (tối đa 1000 ký tự).",
                "A reason is required (1000 characters at most).",
            ),
        ));
    }
    state
        .db
        .control_async(move |conn| {
            subscriptions::lock_pending(conn, id)?;
            let r = subscriptions::mark(conn, id, "declined", Some(&reason), &actor, None)?;
            let subject = format!("Yêu cầu thuê Cổng Dịch vụ công: {} / Subscription request", r.province_name);
            let body = format!(
                "Yêu cầu của {} (mã {}) chưa được chấp thuận.\nLý do: {reason}\n\n---\n\nThe request for {} ({}) was declined.\nReason: {reason}\n",
                r.province_name, r.slug, r.province_name, r.slug
            );
            outbox::enqueue(conn, crate::notify::worker::NATIONAL, &NewMail { kind: "subscription_declined", dossier_id: None, to: &r.contact_email, subject: &subject, body: &body })?;
            audit::record(conn, &actor, crate::audit::Action::SubscriptionDecline, &r.slug, json!({ "request": id, "reason": reason }))?;
            Ok(r)
        })
        .await
}
