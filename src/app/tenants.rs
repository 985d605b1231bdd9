//! The operator's actions on provinces.

use serde_json::json;

use super::{Actor, App};
use crate::audit::{self, Action};
use crate::error::AppError;
use crate::tenancy::{Tenant, TenantStatus, store};

/// Suspends or resumes a province (console, API, CLI): one audit verb each, then this
/// replica's registry is reloaded at once (the others follow the notification).
pub fn set_status(
    app: &App,
    actor: &Actor,
    slug: &str,
    status: TenantStatus,
) -> Result<Tenant, AppError> {
    let tenant = app.db.control(|conn| {
        let tenant = store::set_status(conn, slug, status)?;
        let action = match status {
            TenantStatus::Active => Action::TenantResume,
            TenantStatus::Suspended => Action::TenantSuspend,
        };
        audit::record(conn, &actor.audit_name(), action, slug, json!({}))?;
        Ok(tenant)
    })?;
    app.registry.reload()?;
    Ok(tenant)
}
