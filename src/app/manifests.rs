//! Declarative provinces: `portal tenants apply` makes the database say what each manifest of
//! `tenants/*.toml` says (`tenancy::manifest` reads them and finds the differences).

use serde_json::json;

use super::provisioning::provision;
use crate::audit;
use crate::db::Db;
use crate::error::AppError;
use crate::tenancy::branding;
use crate::tenancy::manifest::{Change, Manifest, diff};
use crate::tenancy::{Tenant, store};
use crate::units::{self, sync::UnitChange};

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
        let changes = diff(db, m)?;
        if !dry_run && !changes.is_empty() {
            execute(db, m, &changes, actor)?;
        }
        outcomes.push(Outcome {
            slug: m.tenant.slug.to_string(),
            changes,
        });
    }
    Ok(outcomes)
}

fn execute(db: &Db, m: &Manifest, changes: &[Change], actor: &str) -> Result<(), AppError> {
    let want = &m.tenant;
    if changes.contains(&Change::Create) {
        provision(db, want, actor)?;
    }
    let tenant = db
        .control(|conn| store::find_by_slug(conn, want.slug.as_str()))?
        .ok_or(AppError::NotFound)?;
    if changes.contains(&Change::Create) {
        return execute_units(db, &tenant, m, changes);
    }
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
    execute_units(db, &tenant, m, changes)
}

/// The province's national code (control plane), then its units (its own schema, one
/// transaction: a unit that cannot be retired leaves every unit as it was).
fn execute_units(
    db: &Db,
    tenant: &Tenant,
    m: &Manifest,
    changes: &[Change],
) -> Result<(), AppError> {
    for change in changes {
        if let Change::ProvinceCode { to, .. } = change {
            db.control(|conn| store::set_province_code(conn, tenant.id, to))?;
        }
    }
    let unit_changes: Vec<UnitChange> = changes
        .iter()
        .filter_map(|c| match c {
            Change::Unit(u) => Some(u.clone()),
            _ => None,
        })
        .collect();
    if !unit_changes.is_empty() {
        db.tenant(tenant.db_ref())
            .tx(|conn| units::sync::apply(conn, &m.units, &unit_changes))?;
        // Every replica's site cache holds the units (filing, the national catalog, the staff's
        // pages). On one PostgreSQL the units' trigger tells them; on Citus it cannot (the
        // tables live on a worker), so the change is announced from the control plane too.
        let schema = tenant.schema.clone();
        let sent = db.control(move |conn| {
            use diesel::RunQueryDsl;
            diesel::sql_query("SELECT pg_notify('portal_site', $1)")
                .bind::<diesel::sql_types::Text, _>(schema)
                .execute(conn)?;
            Ok(())
        });
        if let Err(e) = sent {
            tracing::warn!(error = %e, "unit change not announced; replicas see it within the cache's age");
        }
    }
    Ok(())
}
