//! Declarative provinces: `portal tenants apply` makes the database say what each manifest of
//! `tenants/*.toml` says (`tenancy::manifest` reads them and finds the differences).

use serde_json::json;

use super::provisioning::provision;
use crate::audit;
use crate::db::Db;
use crate::error::AppError;
use crate::tenancy::branding;
use crate::tenancy::manifest::{Change, Manifest, diff};
use crate::tenancy::provision::NewTenant;
use crate::tenancy::store;

/// What applying one manifest does (or would do).
#[derive(Debug, Clone)]
pub struct Outcome {
    pub slug: String,
    pub changes: Vec<Change>,
}

/// Compares every manifest with the database and, unless `dry_run`, makes them equal. Each
/// province changes in its own transactions; provinces not named by a manifest are left alone.
pub fn apply(
    db: &Db,
    manifests: &[Manifest],
    dry_run: bool,
    actor: &str,
) -> Result<Vec<Outcome>, AppError> {
    let mut outcomes = Vec::with_capacity(manifests.len());
    for m in manifests {
        let changes = diff(db, &m.tenant)?;
        if !dry_run && !changes.is_empty() {
            execute(db, &m.tenant, &changes, actor)?;
        }
        outcomes.push(Outcome {
            slug: m.tenant.slug.to_string(),
            changes,
        });
    }
    Ok(outcomes)
}

fn execute(db: &Db, want: &NewTenant, changes: &[Change], actor: &str) -> Result<(), AppError> {
    if changes.contains(&Change::Create) {
        provision(db, want, actor)?;
        return Ok(());
    }
    let tenant = db
        .control(|conn| store::find_by_slug(conn, want.slug.as_str()))?
        .ok_or(AppError::NotFound)?;
    db.control(|conn| {
        let code = want.code.as_deref().unwrap_or(&tenant.code);
        store::update_name_plan_code(conn, tenant.id, &want.name, &want.plan, code)?;
        for change in changes {
            if let Change::Plan { to, .. } = change {
                crate::leasing::start_lease(conn, tenant.id, to, crate::clock::today_vn(), actor)?;
            }
            match change {
                Change::AddDomain(h) => store::add_domain(conn, tenant.id, h, "custom")?,
                Change::RemoveDomain(h) => store::remove_domain(conn, tenant.id, h)?,
                _ => {}
            }
        }
        let described: Vec<String> = changes.iter().map(ToString::to_string).collect();
        audit::record(
            conn,
            actor,
            crate::audit::Action::TenantApply,
            want.slug.as_str(),
            json!({ "changes": described }),
        )
    })?;
    if changes.contains(&Change::Branding) {
        db.tenant(tenant.db_ref())
            .tx(|conn| branding::save(conn, &want.branding))?;
    }
    Ok(())
}
