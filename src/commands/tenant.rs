//! `portal tenant …` and `portal tenants apply`.

use std::path::Path;

use super::{Failure, Outcome, cli_actor};
use crate::app::tenants::CreateTenant;
use crate::config::Settings;
use crate::db::Db;
use crate::tenancy::manifest::{self, Change};
use crate::tenancy::{TenantStatus, store};

pub fn create(
    settings: &Settings,
    slug: &str,
    name: &str,
    plan: &str,
    admin_email: Option<&str>,
) -> Outcome {
    let input = CreateTenant::parse(slug, name, plan, admin_email, &settings.server.base_domain)
        .map_err(|fields| {
            let list: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("{k}: {}", v.en))
                .collect();
            Failure::new(2, format!("invalid tenant: {}", list.join("; ")))
        })?;
    let app = crate::app::App::for_cli(settings)?;
    let started = std::time::Instant::now();
    let tenant = crate::app::tenants::create(&app, &crate::app::Actor::cli(), &input)?;
    println!(
        "created {} ({}) in {:.0} ms: {}",
        tenant.slug,
        tenant.name,
        started.elapsed().as_secs_f64() * 1000.0,
        app.province_url(&tenant)
    );
    Ok(())
}

pub fn list(settings: &Settings, json: bool) -> Outcome {
    let db = Db::new(&settings.database);
    let tenants = db.control(store::list)?;
    if json {
        let items: Vec<serde_json::Value> = tenants
            .iter()
            .map(|t| {
                serde_json::json!({
                    "slug": t.slug,
                    "name": t.name,
                    "status": t.status,
                    "plan": t.plan,
                    "url": settings.url_for_host(&format!("{}.{}", t.slug, settings.server.base_domain)),
                    "created_at": t.created_at,
                })
            })
            .collect();
        let text =
            serde_json::to_string_pretty(&items).map_err(|e| Failure::new(1, e.to_string()))?;
        println!("{text}");
        return Ok(());
    }
    println!("{:<16} {:<10} {:<10} NAME", "SLUG", "STATUS", "PLAN");
    for t in &tenants {
        println!(
            "{:<16} {:<10} {:<10} {}",
            t.slug,
            t.status.as_str(),
            t.plan,
            t.name
        );
    }
    println!("{} tenant(s)", tenants.len());
    Ok(())
}

pub fn set_status(settings: &Settings, slug: &str, status: TenantStatus) -> Outcome {
    let app = crate::app::App::for_cli(settings)?;
    let tenant = crate::app::tenants::set_status(&app, &crate::app::Actor::cli(), slug, status);
    let tenant = match tenant {
        Err(crate::error::AppError::NotFound) => {
            return Err(Failure::new(1, format!("error: no tenant {slug:?}")));
        }
        other => other?,
    };
    println!("{} is now {}", tenant.slug, tenant.status.as_str());
    Ok(())
}

pub fn apply(settings: &Settings, path: &Path, dry_run: bool) -> Outcome {
    let manifests = manifest::load(path, &settings.server.base_domain).map_err(|errors| {
        Failure::new(
            2,
            format!("invalid manifest(s):\n  {}", errors.join("\n  ")),
        )
    })?;
    let db = Db::new(&settings.database);
    let outcomes = crate::app::manifests::apply(&db, &manifests, dry_run, &cli_actor())?;
    let (mut created, mut changed, mut unchanged) = (0, 0, 0);
    for o in &outcomes {
        if o.changes.is_empty() {
            unchanged += 1;
            continue;
        }
        if o.changes.contains(&Change::Create) {
            created += 1;
        } else {
            changed += 1;
        }
        let what: Vec<String> = o.changes.iter().map(ToString::to_string).collect();
        println!("{}: {}", o.slug, what.join("; "));
    }
    let verb = if dry_run { "would be " } else { "" };
    println!(
        "{} manifest(s): {created} {verb}created, {changed} {verb}changed, {unchanged} unchanged{}",
        outcomes.len(),
        if dry_run {
            " (dry run: nothing written)"
        } else {
            ""
        }
    );
    Ok(())
}

/// The operator key that signs exports and checks imports; a clear error without it.
pub(super) fn signing_key(settings: &Settings) -> Result<secrecy::SecretString, Failure> {
    use secrecy::ExposeSecret;
    settings
        .export
        .signing_key
        .clone()
        .filter(|k| !k.expose_secret().is_empty())
        .ok_or_else(|| {
            Failure::new(
                2,
                "configuration error: export.signing_key: not set (PORTAL__EXPORT__SIGNING_KEY, 32 characters or more); exports are signed with it and imports checked with it",
            )
        })
}

/// `portal tenant export SLUG --out FILE`: written beside FILE first, renamed when complete.
pub fn export(settings: &Settings, slug: &str, out: &Path) -> Outcome {
    use secrecy::ExposeSecret;
    let key = signing_key(settings)?;
    let db = Db::new(&settings.database);
    let partial = out.with_extension("partial");
    let file = std::fs::File::create(&partial)
        .map_err(|e| Failure::new(1, format!("{}: {e}", partial.display())))?;
    let mut writer = std::io::BufWriter::new(file);
    let result = crate::tenancy::backup::export::export(
        &db,
        slug,
        &mut writer,
        key.expose_secret().as_bytes(),
    );
    drop(writer);
    let summary = match result {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e.into());
        }
    };
    std::fs::rename(&partial, out)
        .map_err(|e| Failure::new(1, format!("{}: {e}", out.display())))?;
    let rows: u64 = summary.counts.values().sum();
    println!(
        "exported {slug} (tenant schema {}): {rows} rows to {}",
        summary.tenant_schema_version,
        out.display()
    );
    for (section, n) in summary.counts.iter().filter(|(_, n)| **n > 0) {
        println!("  {section}: {n}");
    }
    Ok(())
}

/// `portal tenant import FILE`: the signature is checked over the whole file first, then the
/// file is loaded (and its signature checked again over what was loaded) in one transaction.
pub fn import(settings: &Settings, path: &Path) -> Outcome {
    use secrecy::ExposeSecret;
    let key = signing_key(settings)?;
    let open = || {
        std::fs::File::open(path)
            .map(std::io::BufReader::new)
            .map_err(|e| Failure::new(1, format!("{}: {e}", path.display())))
    };
    let key = key.expose_secret().as_bytes();
    crate::app::tenant_import::verify(&mut open()?, key)?;
    let db = Db::new(&settings.database);
    let opts = crate::app::tenant_import::ImportOptions {
        actor: &cli_actor(),
        base_domain: &settings.server.base_domain,
        key,
    };
    let summary = crate::app::tenant_import::import(&db, &mut open()?, &opts)?;
    let rows: u64 = summary.counts.values().sum();
    println!(
        "imported {} ({}): {rows} rows; {} national account(s) were here already and kept",
        summary.tenant.slug, summary.tenant.name, summary.citizens_kept
    );
    println!(
        "imported national accounts have no password: each citizen sets one anew (`portal user create --role citizen`)"
    );
    if summary.mails_held > 0 {
        println!(
            "{} unsent mail(s) of the file kept as failed, not sent from here",
            summary.mails_held
        );
    }
    Ok(())
}

/// `portal tenant place SLUG`: the worker holding the province (Citus).
pub fn place(settings: &Settings, slug: &str) -> Outcome {
    let db = Db::new(&settings.database);
    let (tenant, node) = match crate::app::placement::place(&db, slug) {
        Err(crate::error::AppError::NotFound) => {
            return Err(Failure::new(1, format!("error: no tenant {slug:?}")));
        }
        other => other?,
    };
    println!("{} ({}): {node}", tenant.slug, tenant.schema);
    Ok(())
}

/// `portal tenant move SLUG --to HOST:PORT`: moves the province while it is served (Citus).
pub fn move_to(settings: &Settings, slug: &str, to: &str) -> Outcome {
    let to = crate::db::citus::Node::parse(to).map_err(|e| Failure::new(2, e))?;
    let db = Db::new(&settings.database);
    let moved = match crate::app::placement::move_to(&db, slug, &to, &cli_actor()) {
        Err(crate::error::AppError::NotFound) => {
            return Err(Failure::new(1, format!("error: no tenant {slug:?}")));
        }
        other => other?,
    };
    println!(
        "moved {} from {} to {} in {:.0} ms",
        moved.tenant.slug,
        moved.from,
        moved.to,
        moved.took.as_secs_f64() * 1000.0
    );
    Ok(())
}
