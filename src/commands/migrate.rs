//! `portal migrate`: public, then every tenant; non-zero when any tenant failed.

use std::sync::atomic::{AtomicUsize, Ordering};

use secrecy::ExposeSecret;

use super::{Failure, Outcome};
use crate::config::Settings;
use crate::db::Db;
use crate::db::migrate::{TENANT_MIGRATIONS, migrate_tenants, run_public};

pub fn run(settings: &Settings) -> Outcome {
    let started = std::time::Instant::now();
    citus(settings)?;
    let applied = run_public(settings.database.direct().expose_secret())
        .map_err(|e| Failure::new(1, format!("public schema: {e}")))?;
    match applied.len() {
        0 => println!("public: up to date"),
        n => println!("public: applied {n} migration(s)"),
    }
    let db = Db::new(&settings.database);
    // The national list of units rides with the binary: every migrate brings the control
    // plane's copy up to date (idempotent).
    let units = db
        .control(crate::units::national::load)
        .map_err(|e| Failure::new(1, format!("national units: {e}")))?;
    println!("national units: {units} in force");
    if settings.citus.enabled() {
        let n = db
            .control(|c| Ok(crate::db::citus::tenant_roles_can_reach_workers(c)?))
            .map_err(|e| Failure::new(1, format!("citus: tenant roles: {e}")))?;
        if n > 0 {
            println!("citus: {n} province role(s) may now reach the workers (LOGIN, no password)");
        }
        let pool = settings.database.pool_size;
        let short = db
            .control(|c| Ok(crate::db::citus::connection_shortfalls(c, pool)?))
            .map_err(|e| Failure::new(1, format!("citus: connection limits: {e}")))?;
        for line in &short {
            eprintln!("citus: WARNING: {line} (docs/scaling.md, \"Connections to the workers\")");
        }
    }
    let printed = AtomicUsize::new(0);
    let progress = |done: usize, total: usize| {
        // About ten progress lines, whatever the number of tenants.
        let step = (total / 10).max(1);
        if (done % step == 0 || done == total) && printed.fetch_add(1, Ordering::Relaxed) < 20 {
            println!("tenants: {done}/{total} migrated");
        }
    };
    let report = migrate_tenants(
        &db,
        &TENANT_MIGRATIONS,
        settings.database.migrate_parallelism,
        &progress,
    )
    .map_err(|e| Failure::new(1, format!("tenants: {e}")))?;
    for (slug, error) in &report.failed {
        eprintln!("tenant {slug}: FAILED: {error}");
    }
    println!(
        "tenants: {} total, {} up to date, {} migrated, {} failed ({:.2}s)",
        report.total,
        report.up_to_date,
        report.migrated.len(),
        report.failed.len(),
        started.elapsed().as_secs_f64()
    );
    if report.failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::new(
            1,
            format!(
                "{} tenant(s) failed to migrate; fix them and run `portal migrate` again",
                report.failed.len()
            ),
        ))
    }
}

/// On a Citus coordinator (`[citus] workers`): the extension on every node and the workers
/// registered, in this database, before anything else (idempotent).
fn citus(settings: &Settings) -> Outcome {
    use crate::db::citus::{Node, ensure};
    if !settings.citus.enabled() {
        return Ok(());
    }
    let bad = |e: String| Failure::new(2, format!("citus: {e}"));
    let workers = settings
        .citus
        .workers
        .iter()
        .map(|w| Node::parse(w))
        .collect::<Result<Vec<_>, _>>()
        .map_err(bad)?;
    let url = settings.database.direct().expose_secret();
    let coordinator = match settings.citus.coordinator.as_str() {
        "" => coordinator_of(url),
        c => Some(Node::parse(c).map_err(bad)?),
    };
    let done = ensure(url, coordinator.as_ref(), &workers)
        .map_err(|e| Failure::new(1, format!("citus: {e}")))?;
    for d in &done {
        println!("citus: {d}");
    }
    println!("citus: coordinator with {} worker(s)", workers.len());
    Ok(())
}

/// The host and port of a database URL (5432 when it names none).
fn coordinator_of(url: &str) -> Option<crate::db::citus::Node> {
    let (prefix, _, _) = crate::db::admin::split_url(url)?;
    let authority = prefix.split("://").nth(1)?.trim_end_matches('/');
    let host_port = authority.rsplit('@').next()?;
    let with_port = if host_port.contains(':') {
        host_port.to_string()
    } else {
        format!("{host_port}:5432")
    };
    crate::db::citus::Node::parse(&with_port).ok()
}
