//! The operator's leasing actions (plans, leases, subscription decisions) and the national
//! site's subscription request.

use chrono::NaiveDate;
use serde_json::json;

use super::{Actor, App};
use crate::accounts::Email;
use crate::accounts::staff::{self, StaffRole};
use crate::audit::{self, Action};
use crate::error::AppError;
use crate::lang::Msg;
use crate::leasing::plans::{self, Plan, PlanInput};
use crate::leasing::subscriptions::{self, Request};
use crate::leasing::{self, LeaseView};
use crate::notify::invitation::invitation_mail;
use crate::notify::outbox::{self, NewMail};
use crate::tenancy::provision::provision_in;
use crate::tenancy::{Tenant, store};

/// Creates or changes plan `code`, audited; provinces on it get its rate at once on this
/// replica (the others follow the notification).
pub fn put_plan(app: &App, actor: &Actor, code: &str, input: &PlanInput) -> Result<Plan, AppError> {
    let name = actor.audit_name();
    let plan = app.db.control(|conn| {
        let plan = plans::put(conn, code, input)?;
        audit::record(
            conn,
            &name,
            Action::PlanPut,
            code,
            serde_json::to_value(&plan).unwrap_or_default(),
        )?;
        Ok(plan)
    })?;
    app.registry.reload()?;
    Ok(plan)
}

/// A lease to start: a plan from a date.
#[derive(Debug, Clone)]
pub struct NewLease {
    pub plan: String,
    pub starts_on: NaiveDate,
}

/// Starts a lease for province `slug` (no earlier than a year ago), audited; returns the
/// province and its leases, and reloads the registry (its rate may change).
pub fn start_lease(
    app: &App,
    actor: &Actor,
    slug: &str,
    lease: &NewLease,
) -> Result<(Tenant, Vec<LeaseView>), AppError> {
    let earliest = crate::clock::today_vn() - chrono::Duration::days(366);
    if lease.starts_on < earliest {
        return Err(AppError::invalid(
            "starts_on",
            Msg::new(
                "Ngày bắt đầu quá xa trong quá khứ.",
                "The start date is too far in the past.",
            ),
        ));
    }
    let name = actor.audit_name();
    let found = app.db.control(|conn| {
        let t = store::find_by_slug(conn, slug)?.ok_or(AppError::NotFound)?;
        if !store::plan_exists(conn, &lease.plan)? {
            return Err(AppError::invalid(
                "plan",
                Msg::new("Không có gói dịch vụ này.", "There is no such plan."),
            ));
        }
        leasing::start_lease(conn, t.id, &lease.plan, lease.starts_on, &name)?;
        audit::record(
            conn,
            &name,
            Action::TenantLease,
            slug,
            json!({ "plan": lease.plan, "starts_on": lease.starts_on }),
        )?;
        let t = store::find_by_slug(conn, slug)?.ok_or(AppError::NotFound)?;
        let leases = leasing::history(conn, t.id)?;
        Ok((t, leases))
    })?;
    app.registry.reload()?;
    Ok(found)
}

/// A province's or commune's request for the service (national API and form alike).
#[derive(Debug, Clone)]
pub struct SubscriptionRequest {
    pub province_name: String,
    pub slug: String,
    pub contact_email: String,
    pub plan: String,
}

/// Files a request for the operator to decide (anyone may; the limits are the caller's).
pub fn request_subscription(app: &App, r: &SubscriptionRequest) -> Result<Request, AppError> {
    app.db.control(|conn| {
        subscriptions::create(conn, &r.province_name, &r.slug, &r.contact_email, &r.plan)
    })
}

/// Approves a pending request: the province is provisioned, leased, and its first admin
/// invited by mail, all in one transaction; this replica serves it on return.
pub fn approve_subscription(app: &App, actor: &Actor, id: uuid::Uuid) -> Result<Tenant, AppError> {
    let name = actor.audit_name();
    let base = app.registry.base_domain().to_string();
    let tenant = app.db.control(|conn| {
        let r = subscriptions::lock_pending(conn, id)?;
        let new = subscriptions::to_new_tenant(&r, &base)?;
        let tenant = provision_in(conn, &new, &name, |_| Ok(()))?;
        // The contact becomes the province's first admin, invited from its own outbox.
        crate::db::tenant_enter(conn, &tenant.db_ref())?;
        let email =
            Email::parse(&r.contact_email).map_err(|m| AppError::invalid("contact_email", m))?;
        let (admin, token) = staff::invite(conn, &email, &r.province_name, StaffRole::Admin)?;
        let site = app.province_url(&tenant);
        let (subject, body) = invitation_mail(
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
        subscriptions::mark(conn, id, "approved", None, &name, Some(tenant.id.0))?;
        audit::record(
            conn,
            &name,
            Action::SubscriptionApprove,
            &tenant.slug,
            json!({ "request": id }),
        )?;
        Ok(tenant)
    })?;
    app.registry.reload()?;
    Ok(tenant)
}

/// Declines a pending request with a reason (required, 1000 characters at most), mailed from
/// the national outbox.
pub fn decline_subscription(
    app: &App,
    actor: &Actor,
    id: uuid::Uuid,
    reason: &str,
) -> Result<Request, AppError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 1000 {
        return Err(AppError::invalid(
            "reason",
            Msg::new(
                "Cần nêu lý do (tối đa 1000 ký tự).",
                "A reason is required (1000 characters at most).",
            ),
        ));
    }
    let name = actor.audit_name();
    app.db.control(|conn| {
        subscriptions::lock_pending(conn, id)?;
        let r = subscriptions::mark(conn, id, "declined", Some(reason), &name, None)?;
        let subject = format!(
            "Yêu cầu thuê Cổng Dịch vụ công: {} / Subscription request",
            r.province_name
        );
        let body = format!(
            "Yêu cầu của {} (mã {}) chưa được chấp thuận.\nLý do: {reason}\n\n---\n\nThe request for {} ({}) was declined.\nReason: {reason}\n",
            r.province_name, r.slug, r.province_name, r.slug
        );
        outbox::enqueue(
            conn,
            crate::notify::worker::NATIONAL,
            &NewMail {
                kind: "subscription_declined",
                dossier_id: None,
                to: &r.contact_email,
                subject: &subject,
                body: &body,
            },
        )?;
        audit::record(
            conn,
            &name,
            Action::SubscriptionDecline,
            &r.slug,
            json!({ "request": id, "reason": reason }),
        )?;
        Ok(r)
    })
}

/// Every plan, cheapest first (operator API and console, the national form).
pub async fn plans(app: &App) -> Result<Vec<Plan>, AppError> {
    app.db.control_async(plans::list).await
}

/// Subscription requests, newest first.
pub async fn subscription_requests(app: &App) -> Result<Vec<Request>, AppError> {
    app.db.control_async(subscriptions::list).await
}
