//! The operator's leasing actions (plans, leases, subscription decisions) and the national
//! site's subscription request.

use chrono::NaiveDate;
use serde_json::json;

use super::provisioning::provision_in;
use super::{Actor, App};
use crate::accounts::Email;
use crate::accounts::staff::{self, StaffRole};
use crate::audit::{self, Action};
use crate::billing::money::{Segment, Vnd, prorate};
use crate::error::AppError;
use crate::lang::Msg;
use crate::leasing::plans::{self, Plan, PlanInput};
use crate::leasing::subscriptions::{self, Request};
use crate::leasing::{self, LeaseView};
use crate::notify::invitation::invitation_mail;
use crate::notify::outbox::{self, NewMail};
use crate::period::Period;
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

/// A change to a province's lease: a plan from a date (a first lease, or a change of plan),
/// or the end of the latest lease after its last day.
#[derive(Debug, Clone)]
pub enum LeaseChange {
    Start(NewLease),
    End { last_day: NaiveDate },
}

impl LeaseChange {
    /// The day the change takes effect.
    pub fn day(&self) -> NaiveDate {
        match self {
            LeaseChange::Start(l) => l.starts_on,
            LeaseChange::End { last_day } => *last_day,
        }
    }
}

/// A change dated more than a year back would rewrite what was billed long ago.
fn check_not_too_old(field: &str, day: NaiveDate) -> Result<(), AppError> {
    let earliest = crate::clock::today_vn() - chrono::Duration::days(366);
    if day < earliest {
        return Err(AppError::invalid(
            field,
            Msg::new(
                "Ngày này quá xa trong quá khứ (tối đa một năm trước).",
                "The date is too far in the past (a year back at most).",
            ),
        ));
    }
    Ok(())
}

/// Applies `change` to province `slug` inside the caller's transaction, checked and audited:
/// the one place a lease changes, whether for real ([`start_lease`], [`end_lease`]) or in the
/// dry run of [`lease_effect`]. Returns the province as it is afterwards.
fn apply_change(
    conn: &mut diesel::PgConnection,
    name: &str,
    slug: &str,
    change: &LeaseChange,
) -> Result<Tenant, AppError> {
    let t = store::find_by_slug(conn, slug)?.ok_or(AppError::NotFound)?;
    match change {
        LeaseChange::Start(lease) => {
            check_not_too_old("starts_on", lease.starts_on)?;
            if !store::plan_exists(conn, &lease.plan)? {
                return Err(AppError::invalid(
                    "plan",
                    Msg::new("Không có gói dịch vụ này.", "There is no such plan."),
                ));
            }
            leasing::start_lease(conn, t.id, &lease.plan, lease.starts_on, name)?;
            audit::record(
                conn,
                name,
                Action::TenantLease,
                slug,
                json!({ "plan": lease.plan, "starts_on": lease.starts_on }),
            )?;
        }
        LeaseChange::End { last_day } => {
            check_not_too_old("last_day", *last_day)?;
            leasing::end_lease(conn, t.id, *last_day)?;
            audit::record(
                conn,
                name,
                Action::TenantLeaseEnd,
                slug,
                json!({ "last_day": last_day }),
            )?;
        }
    }
    store::find_by_slug(conn, slug)?.ok_or(AppError::NotFound)
}

/// Applies a lease change for real (API and console alike); returns the province and its
/// leases, and reloads the registry (its rate may change).
pub fn change_lease(
    app: &App,
    actor: &Actor,
    slug: &str,
    change: &LeaseChange,
) -> Result<(Tenant, Vec<LeaseView>), AppError> {
    let name = actor.audit_name();
    let found = app.db.control(|conn| {
        let t = apply_change(conn, &name, slug, change)?;
        let leases = leasing::history(conn, t.id)?;
        Ok((t, leases))
    })?;
    app.registry.reload()?;
    Ok(found)
}

/// Starts a lease for province `slug` (no earlier than a year ago), audited; returns the
/// province and its leases, and reloads the registry (its rate may change).
pub fn start_lease(
    app: &App,
    actor: &Actor,
    slug: &str,
    lease: &NewLease,
) -> Result<(Tenant, Vec<LeaseView>), AppError> {
    change_lease(app, actor, slug, &LeaseChange::Start(lease.clone()))
}

/// Ends province `slug`'s latest lease after `last_day` (the last day billed, no earlier
/// than a year ago), audited; returns the province and its leases.
pub fn end_lease(
    app: &App,
    actor: &Actor,
    slug: &str,
    last_day: NaiveDate,
) -> Result<(Tenant, Vec<LeaseView>), AppError> {
    change_lease(app, actor, slug, &LeaseChange::End { last_day })
}

/// The day a province whose lease ends after `last_day` is suspended, unless a later lease
/// starts by then: the day after.
pub fn suspended_from(last_day: NaiveDate) -> NaiveDate {
    last_day.succ_opt().unwrap_or(last_day)
}

/// Suspends every active province whose lease ended before `today` with no later lease
/// ([`leasing::lapsed`]), as the operator's suspend does (`tenant.suspend`, audited under
/// `job:lease-end`, with the lease's last day), once per end: a province the operator resumes
/// afterwards stays active. One transaction; returns the slugs suspended, and reloads the
/// registry when there are any (the `tenants` trigger tells the other replicas).
pub fn suspend_lapsed(app: &App, today: NaiveDate) -> Result<Vec<String>, AppError> {
    let actor = Actor::Job("lease-end");
    let suspended = app.db.control(|conn| {
        let mut suspended = Vec::new();
        for l in leasing::lapsed(conn, today)? {
            if l.status == crate::tenancy::TenantStatus::Active.as_str() {
                store::set_status(conn, &l.slug, crate::tenancy::TenantStatus::Suspended)?;
                audit::record(
                    conn,
                    &actor.audit_name(),
                    Action::TenantSuspend,
                    &l.slug,
                    json!({ "reason": "lease_ended", "last_day": l.last_day }),
                )?;
                tracing::info!(tenant = %l.slug, last_day = %l.last_day, %today, "lease ended: province suspended");
                suspended.push(l.slug);
            }
            // Suspended or merged already: nothing to do, and nothing to redo after a resume.
            leasing::mark_lapse_handled(conn, l.lease_id)?;
        }
        Ok(suspended)
    })?;
    if !suspended.is_empty() {
        app.registry.reload()?;
    }
    Ok(suspended)
}

/// A period's lease fees (before VAT, no overage) as the close would bill them.
#[derive(Debug, Clone)]
pub struct PeriodFees {
    pub period: Period,
    /// Each plan over its days, with its prorated fee.
    pub lines: Vec<(Segment, Vnd)>,
}

impl PeriodFees {
    pub fn total(&self) -> i64 {
        self.lines.iter().map(|(_, v)| v.0).sum()
    }
}

/// What a lease change would do to the bills: for the month it takes effect and the next,
/// the lease fees before and after, and the invoice already issued for the month, if any
/// (an issued invoice never changes).
#[derive(Debug, Clone)]
pub struct LeaseEffect {
    /// Per period: (before, after, the number of the invoice issued for it).
    pub periods: Vec<(PeriodFees, PeriodFees, Option<String>)>,
}

/// [`apply_change`] in a savepoint rolled back, with the billing code's segments read before
/// and after: the same checks (a refusal is the one applying would give) and the same
/// proration as the close, nothing written, nothing notified.
pub async fn lease_effect(
    app: &App,
    actor: &Actor,
    slug: &str,
    change: &LeaseChange,
) -> Result<LeaseEffect, AppError> {
    use diesel::prelude::*;
    let (name, slug, change) = (actor.audit_name(), slug.to_string(), change.clone());
    let first = Period::of(change.day());
    let periods = [first, first.next()];
    let fees = |conn: &mut diesel::PgConnection, tenant: uuid::Uuid, period: Period| {
        let segs = crate::billing::close::segments(conn, tenant, period)?;
        let amounts = prorate(&segs, period.days());
        Ok::<_, AppError>(PeriodFees {
            period,
            lines: segs.into_iter().zip(amounts).collect(),
        })
    };
    /// Leaves the savepoint by an error either way, so it is always rolled back.
    enum Dry {
        Seen(Vec<PeriodFees>),
        Failed(AppError),
    }
    impl From<diesel::result::Error> for Dry {
        fn from(e: diesel::result::Error) -> Dry {
            Dry::Failed(e.into())
        }
    }
    app.db
        .control_async(move |conn| {
            let t = store::find_by_slug(conn, &slug)?.ok_or(AppError::NotFound)?;
            let mut before = Vec::new();
            for p in periods {
                before.push(fees(conn, t.id.0, p)?);
            }
            let dry = conn.transaction::<(), Dry, _>(|c| {
                let after = (|| {
                    apply_change(c, &name, &slug, &change)?;
                    periods
                        .iter()
                        .map(|p| fees(c, t.id.0, *p))
                        .collect::<Result<Vec<_>, AppError>>()
                })();
                Err(match after {
                    Ok(a) => Dry::Seen(a),
                    Err(e) => Dry::Failed(e),
                })
            });
            let after = match dry {
                Err(Dry::Seen(a)) => a,
                Err(Dry::Failed(e)) => return Err(e),
                Ok(()) => return Err(AppError::internal("a dry run cannot commit")),
            };
            let mut out = Vec::new();
            for (b, a) in before.into_iter().zip(after) {
                use crate::db::schema::invoices;
                let issued: Option<String> = invoices::table
                    .filter(invoices::tenant_id.eq(t.id.0))
                    .filter(invoices::period.eq(b.period.to_string()))
                    .select(invoices::number)
                    .first(conn)
                    .optional()?;
                out.push((b, a, issued));
            }
            Ok(LeaseEffect { periods: out })
        })
        .await
}

/// A province, its leases (oldest first) and every plan: the console's lease page.
pub async fn leases_of(
    app: &App,
    slug: &str,
) -> Result<(Tenant, Vec<LeaseView>, Vec<Plan>), AppError> {
    let slug = slug.to_string();
    app.db
        .control_async(move |conn| {
            let t = store::find_by_slug(conn, &slug)?.ok_or(AppError::NotFound)?;
            let leases = leasing::history(conn, t.id)?;
            let plans = plans::list(conn)?;
            Ok((t, leases, plans))
        })
        .await
}

/// A province's or commune's request for the service (national API and form alike), and
/// the client (its address) that sent it.
#[derive(Debug, Clone)]
pub struct SubscriptionRequest {
    pub province_name: String,
    pub slug: String,
    pub contact_email: String,
    pub plan: String,
    pub client: String,
}

/// The national site's name in mail (the sender's own words, never the requester's).
const PORTAL_VI: &str = "Cổng Dịch vụ công";

/// Files an unverified request (anyone may) and mails the contact address a one-time link to
/// confirm it; until then the operator does not see it and it holds no slug. The subject is
/// ours alone: the requester chose the address and the text, so their text appears only in
/// the plain-text body, quoted.
pub fn request_subscription(app: &App, r: &SubscriptionRequest) -> Result<Request, AppError> {
    let s = &app.settings.subscriptions;
    let rules = subscriptions::Rules {
        verify_ttl_secs: s.verify_ttl_secs,
        hold_days: s.hold_days,
        unverified_per_email: s.unverified_per_email,
        unverified_per_client_per_hour: app
            .settings
            .limits
            .enabled
            .then_some(s.unverified_per_client_per_hour),
    };
    let national = app.settings.url_for_host(app.registry.base_domain());
    let hours = (s.verify_ttl_secs / 3600).max(1);
    app.db.control(|conn| {
        let filed = subscriptions::create(
            conn,
            &r.province_name,
            &r.slug,
            &r.contact_email,
            &r.plan,
            &r.client,
            &rules,
        )?;
        let q = &filed.request;
        let link = format!("{national}/subscribe/verify/{}", filed.token);
        let subject = format!(
            "Xác nhận yêu cầu thuê {PORTAL_VI} / Confirm your subscription request"
        );
        let body = format!(
            "Địa chỉ thư này được dùng để yêu cầu thuê {PORTAL_VI} với các thông tin sau (do người gửi yêu cầu nhập):\n\
             \x20 Tên: \"{name}\"\n  Mã: {slug}\n  Gói: {plan}\n\n\
             Nếu đúng là Ông/Bà gửi, xin mở đường dẫn sau trong {hours} giờ để xác nhận (dùng một lần):\n{link}\n\n\
             Nếu không phải, xin bỏ qua thư này: yêu cầu sẽ tự hủy.\n\n---\n\n\
             This address was given in a request for the public-service portal, with these details (as typed by the requester):\n\
             \x20 Name: \"{name}\"\n  Slug: {slug}\n  Plan: {plan}\n\n\
             If you sent it, open this link within {hours} hours to confirm it (one use):\n{link}\n\n\
             If not, ignore this mail: the request lapses by itself.\n",
            name = q.province_name,
            slug = q.slug,
            plan = q.plan_code,
        );
        outbox::enqueue(
            conn,
            crate::notify::worker::NATIONAL,
            &NewMail {
                kind: "subscription_verification",
                dossier_id: None,
                to: &q.contact_email,
                subject: &subject,
                body: &body,
            },
        )?;
        Ok(filed.request)
    })
}

/// A verification link, while live: the request it confirms (404 otherwise).
pub async fn subscription_to_verify(app: &App, token: String) -> Result<Request, AppError> {
    app.db
        .control_async(move |conn| subscriptions::by_token(conn, &token))
        .await
}

/// Follows a verification link: the request is listed to the operator and holds its slug.
pub fn verify_subscription(app: &App, token: &str) -> Result<Request, AppError> {
    let hold_days = app.settings.subscriptions.hold_days;
    // Not audited: no operator acts; `verified_at` records it.
    app.db
        .control(|conn| subscriptions::verify(conn, token, hold_days))
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
        // The invitation's own subject names the province, i.e. the requester's text: ours instead.
        let (_, body) = invitation_mail(
            &tenant.name,
            "Cổng Dịch vụ công quốc gia",
            &admin.full_name,
            StaffRole::Admin,
            &format!("{site}/invitations/{token}"),
        );
        let subject = format!(
            "Yêu cầu thuê {PORTAL_VI} đã được chấp thuận / Your subscription request was approved"
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
        // A fixed subject: the name is the requester's text and the address their choice.
        let subject = format!(
            "Kết quả yêu cầu thuê {PORTAL_VI} / Your subscription request"
        );
        let body = format!(
            "Yêu cầu thuê {PORTAL_VI} cho \"{name}\" (mã {slug}) chưa được chấp thuận.\nLý do: {reason}\n\n---\n\nThe request for \"{name}\" ({slug}) was declined.\nReason: {reason}\n",
            name = r.province_name,
            slug = r.slug,
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

/// One page of verified subscription requests, newest first, and where the next starts.
/// `limit` is clamped to 1..=200 (the configured page size when absent); nothing is dropped
/// silently: every request is on some page.
pub async fn subscription_requests(
    app: &App,
    after: Option<subscriptions::Cursor>,
    limit: Option<i64>,
) -> Result<(Vec<Request>, Option<subscriptions::Cursor>), AppError> {
    let limit = limit
        .unwrap_or(app.settings.subscriptions.page_size)
        .clamp(1, 200);
    app.db
        .control_async(move |conn| subscriptions::list_page(conn, after, limit))
        .await
}

/// Verified requests waiting for a decision (the console's banner).
pub async fn pending_subscriptions(app: &App) -> Result<i64, AppError> {
    app.db.control_async(subscriptions::count_pending).await
}

/// One change of a plan, from the audit log.
#[derive(Debug, Clone)]
pub struct PlanChange {
    pub at: chrono::DateTime<chrono::Utc>,
    pub actor: String,
    /// The plan as it was saved.
    pub saved: serde_json::Value,
}

/// Plan `code` and its changes, newest first (the console's edit page); 404 without it.
pub async fn plan_with_history(app: &App, code: &str) -> Result<(Plan, Vec<PlanChange>), AppError> {
    use diesel::prelude::*;
    let code = code.to_string();
    app.db
        .control_async(move |conn| {
            use crate::db::schema::audit_log;
            let plan = plans::get(conn, &code)?.ok_or(AppError::NotFound)?;
            let rows: Vec<(chrono::DateTime<chrono::Utc>, String, serde_json::Value)> =
                audit_log::table
                    .filter(audit_log::action.eq(Action::PlanPut.as_str()))
                    .filter(audit_log::target.eq(&code))
                    .order(audit_log::id.desc())
                    .limit(50)
                    .select((audit_log::at, audit_log::actor, audit_log::details))
                    .load(conn)?;
            let changes = rows
                .into_iter()
                .map(|(at, actor, saved)| PlanChange { at, actor, saved })
                .collect();
            Ok((plan, changes))
        })
        .await
}
