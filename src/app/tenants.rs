//! The operator's actions on provinces (create, suspend, resume) and what it reads of them.

use serde_json::json;

use super::provisioning::provision_in;
use super::{Actor, App};
use crate::accounts::Email;
use crate::audit::{self, Action};
use crate::error::{AppError, FieldErrors};
use crate::leasing::LeaseView;
use crate::metering::usage::{self, Usage};
use crate::period::Period;
use crate::tenancy::provision::NewTenant;
use crate::tenancy::{Tenant, TenantStatus, store};

/// A province to create, as the operator asks for it (API `POST /api/v1/tenants`, CLI
/// `portal tenant create`).
#[derive(Debug, Clone)]
pub struct CreateTenant {
    pub tenant: NewTenant,
    /// Its first admin, when named; the invitation mail comes with staff accounts.
    pub admin_email: Option<Email>,
}

impl CreateTenant {
    /// Validates raw input the same way for every surface; every bad field is reported at once.
    pub fn parse(
        slug: &str,
        name: &str,
        plan: &str,
        admin_email: Option<&str>,
        base_domain: &str,
    ) -> Result<CreateTenant, FieldErrors> {
        let tenant = NewTenant::parse(slug, name, plan, &[], base_domain);
        let admin_email = admin_email.map(Email::parse).transpose();
        match (tenant, admin_email) {
            (Ok(tenant), Ok(admin_email)) => Ok(CreateTenant {
                tenant,
                admin_email,
            }),
            (tenant, admin_email) => {
                let mut errors = tenant.err().unwrap_or_default();
                if let Err(m) = admin_email {
                    errors.insert("admin_email".into(), m);
                }
                Err(errors)
            }
        }
    }
}

/// Creates a province: provisioned (with its `tenant.create` row) and, when an admin is named,
/// `tenant.admin_requested`, in one transaction; then this replica's registry is reloaded so
/// the province is usable on return (the others follow the notification).
pub fn create(app: &App, actor: &Actor, input: &CreateTenant) -> Result<Tenant, AppError> {
    let name = actor.audit_name();
    let tenant = app.db.control(|conn| {
        let tenant = provision_in(conn, &input.tenant, &name, |_| Ok(()))?;
        if let Some(email) = &input.admin_email {
            audit::record(
                conn,
                &name,
                Action::TenantAdminRequested,
                &tenant.slug,
                json!({ "admin_email": email.as_str() }),
            )?;
        }
        Ok(tenant)
    })?;
    app.registry.reload()?;
    Ok(tenant)
}

/// Suspends or resumes a province (console, API, CLI): one audit verb each, then this
/// replica's registry is reloaded at once (the others follow the notification).
pub fn set_status(
    app: &App,
    actor: &Actor,
    slug: &str,
    status: TenantStatus,
) -> Result<Tenant, AppError> {
    let tenant = app.db.control(|conn| {
        let action = match status {
            TenantStatus::Active => Action::TenantResume,
            TenantStatus::Suspended => Action::TenantSuspend,
            // Only a reorganisation merges, with the data move that goes with it.
            TenantStatus::Merged => return Err(merged_conflict()),
        };
        let current = store::find_by_slug(conn, slug)?.ok_or(AppError::NotFound)?;
        if current.status == TenantStatus::Merged {
            return Err(merged_conflict());
        }
        let tenant = store::set_status(conn, slug, status)?;
        audit::record(conn, &actor.audit_name(), action, slug, json!({}))?;
        Ok(tenant)
    })?;
    app.registry.reload()?;
    Ok(tenant)
}

/// A merged province stays merged: suspending or resuming it would serve an empty schema.
fn merged_conflict() -> AppError {
    AppError::conflict(
        "tenant_merged",
        crate::lang::Msg::new(
            "Tỉnh này đã được sáp nhập vào tỉnh khác.",
            "This province has been merged into another.",
        ),
    )
}

/// Every province, for the operator (API list, console dashboard).
pub async fn list(app: &App) -> Result<Vec<Tenant>, AppError> {
    app.db.control_async(store::list).await
}

/// One province by slug; 404 when there is none.
pub async fn find(app: &App, slug: &str) -> Result<Tenant, AppError> {
    let slug = slug.to_string();
    app.db
        .control_async(move |conn| store::find_by_slug(conn, &slug)?.ok_or(AppError::NotFound))
        .await
}

/// A province's usage in `period`; 404 when there is no such province.
pub async fn usage(app: &App, slug: &str, period: Period) -> Result<Usage, AppError> {
    let slug = slug.to_string();
    app.db
        .control_async(move |conn| {
            let t = store::find_by_slug(conn, &slug)?.ok_or(AppError::NotFound)?;
            usage::for_period(conn, t.id, period)
        })
        .await
}

/// Every province with its usage in `period` (the console's dashboard), one transaction.
pub async fn list_with_usage(app: &App, period: Period) -> Result<Vec<(Tenant, Usage)>, AppError> {
    app.db
        .control_async(move |conn| {
            let tenants = store::list(conn)?;
            let mut rows = Vec::with_capacity(tenants.len());
            for t in tenants {
                let u = usage::for_period(conn, t.id, period)?;
                rows.push((t, u));
            }
            Ok(rows)
        })
        .await
}

/// One province, its usage in `period` and its leases (the console's province page).
pub async fn usage_and_leases(
    app: &App,
    slug: &str,
    period: Period,
) -> Result<(Tenant, Usage, Vec<LeaseView>), AppError> {
    let slug = slug.to_string();
    app.db
        .control_async(move |conn| {
            let t = store::find_by_slug(conn, &slug)?.ok_or(AppError::NotFound)?;
            let u = usage::for_period(conn, t.id, period)?;
            let leases = crate::leasing::history(conn, t.id)?;
            Ok((t, u, leases))
        })
        .await
}
