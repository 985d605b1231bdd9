//! Previewing a reorganisation plan on exports (#18, "a plan can be previewed on an export
//! first"): `portal reorganise PLAN --dry-run --on-export FILES_OR_DIRS`.
//!
//! The exports (`portal tenant export`) of the provinces the plan names are imported into a
//! scratch database of their own (created on the live database's server under a fresh name,
//! dropped at the end with the roles its provinces made), the plan is previewed there as
//! `--dry-run` previews it on the live database, then applied there, and the result checked:
//! rows per table conserved over the provinces, every tracking code of the exports resolving
//! to the same dossier with the same status and due date. Nothing is written to the live
//! database: it is only used to find the server.
//!
//! What an export cannot show: invoices are not exported, so "dated before data already
//! billed" is checked against the live database only.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};

use super::reorg::{self, ReorgError, Report};
use super::{Actor, App};
use crate::config::Settings;
use crate::db::Db;
use crate::db::admin::Scratch;
use crate::error::AppError;
use crate::reorg::merge::{self, Treatment};
use crate::reorg::{Plan, Problem};
use crate::tenancy::backup::Header;
use crate::tenancy::store;

/// An export file and the province it holds.
#[derive(Debug, Clone)]
pub struct ExportFile {
    pub path: PathBuf,
    pub slug: String,
}

/// One post-apply check, passed or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub ok: bool,
    pub line: String,
}

/// What a preview on exports found.
#[derive(Debug)]
pub struct Preview {
    /// The scratch database (dropped by the time this is returned).
    pub scratch: String,
    /// Each loaded province and its rows in the file.
    pub loaded: Vec<(String, u64)>,
    /// The plan previewed on the loaded provinces, as `--dry-run` shows it.
    pub report: Report,
    /// The plan applied on the loaded provinces: what it did.
    pub applied: Report,
    pub checks: Vec<Check>,
}

fn bad_input(en: String) -> AppError {
    AppError::invalid(
        "on_export",
        crate::lang::Msg::owned(format!("Tệp xuất: {en}"), en),
    )
}

/// The header of an export file, or `None` if the file is not one.
fn header_of(path: &Path) -> Option<Header> {
    let file = std::fs::File::open(path).ok()?;
    let mut line = String::new();
    std::io::BufReader::new(file).read_line(&mut line).ok()?;
    serde_json::from_str(&line).ok()
}

/// The exports among `paths` (files, or folders of files) of the provinces `plan` names. A
/// file named on its own must be an export; a folder's other files are passed over. Exports
/// of provinces the plan does not name are left out (`skipped`).
pub fn exports_for(
    plan: &Plan,
    paths: &[PathBuf],
) -> Result<(Vec<ExportFile>, Vec<ExportFile>), AppError> {
    let mut named: Vec<&str> = Vec::new();
    for step in &plan.steps {
        let units = step.units();
        for s in step
            .provinces()
            .into_iter()
            .chain(units.into_iter().map(|(p, _)| p))
        {
            if !named.contains(&s.as_str()) {
                named.push(s.as_str());
            }
        }
    }
    let mut found = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| bad_input(format!("{}: {e}", path.display())))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            entries.sort();
            for p in entries {
                if let Some(h) = header_of(&p) {
                    found.push(ExportFile {
                        path: p,
                        slug: h.slug,
                    });
                }
            }
        } else {
            let h = header_of(path).ok_or_else(|| {
                bad_input(format!(
                    "{} is not an export (`portal tenant export`)",
                    path.display()
                ))
            })?;
            found.push(ExportFile {
                path: path.clone(),
                slug: h.slug,
            });
        }
    }
    let (used, skipped): (Vec<ExportFile>, Vec<ExportFile>) = found
        .into_iter()
        .partition(|f| named.contains(&f.slug.as_str()));
    for (i, f) in used.iter().enumerate() {
        if let Some(other) = used[..i].iter().find(|o| o.slug == f.slug) {
            return Err(bad_input(format!(
                "two exports of {}: {} and {}",
                f.slug,
                other.path.display(),
                f.path.display()
            )));
        }
    }
    Ok((used, skipped))
}

/// Loads `files` into a scratch database, previews and applies `plan` there, checks the
/// result, and drops the scratch database. `problems` are the plan file's own: with them, the
/// plan is only checked against the loaded provinces, every problem listed.
pub fn on_exports(
    settings: &Settings,
    plan: &Plan,
    text: &str,
    mut problems: Vec<Problem>,
    files: &[ExportFile],
    key: &SecretString,
) -> Result<Preview, ReorgError> {
    let scratch = Scratch::create(settings.database.direct().expose_secret())
        .map_err(|e| AppError::internal(format!("scratch database: {e}")))?;
    let mut scratch_settings = settings.clone();
    scratch_settings.database.url = SecretString::from(scratch.url.clone());
    scratch_settings.database.direct_url = SecretString::from(scratch.url.clone());
    crate::db::migrate::run_public(&scratch.url)
        .map_err(|e| AppError::internal(format!("scratch database: {e}")))?;
    let preview = {
        let db = Db::new(&scratch_settings.database);
        db.control(crate::units::national::load)?;
        let actor = Actor::cli();
        let who = format!("{} (preview on exports)", actor.audit_name());
        let key = key.expose_secret().as_bytes();
        let mut loaded = Vec::new();
        for f in files {
            let open = || {
                std::fs::File::open(&f.path)
                    .map(std::io::BufReader::new)
                    .map_err(|e| bad_input(format!("{}: {e}", f.path.display())))
            };
            super::tenant_import::verify(&mut open()?, key)?;
            let opts = super::tenant_import::ImportOptions {
                actor: &who,
                base_domain: &settings.server.base_domain,
                key,
            };
            let summary = super::tenant_import::import(&db, &mut open()?, &opts)?;
            loaded.push((summary.tenant.slug, summary.counts.values().sum()));
        }
        let app = App::for_cli(&scratch_settings)?;
        app.registry.reload()?;
        if !problems.is_empty() {
            problems.extend(reorg::check(&app, plan)?);
            return Err(ReorgError::Refused(problems));
        }
        let rows_before = app.db.control(rows)?;
        let codes_before = app.db.control(codes)?;
        let report = reorg::reorganise(&app, &actor, plan, text, true)?;
        let applied = reorg::reorganise(&app, &actor, plan, text, false)?;
        let rows_after = app.db.control(rows)?;
        let mut checks = vec![rows_check(&rows_before, &rows_after, loaded.len())];
        checks.push(
            app.db
                .control(|conn| codes_check(conn, &app, &codes_before))?,
        );
        Preview {
            scratch: scratch.name.clone(),
            loaded,
            report,
            applied,
            checks,
        }
    };
    // The scratch database and its roles go here, before the caller prints the result.
    drop(scratch);
    Ok(preview)
}

/// Rows per tenant table over every province of the scratch database, the tables a
/// reorganisation moves (a province's site look is its own: a new province gets one).
fn rows(conn: &mut diesel::PgConnection) -> Result<BTreeMap<&'static str, i64>, AppError> {
    let mut total: BTreeMap<&'static str, i64> = BTreeMap::new();
    for t in store::list(conn)? {
        for (table, n) in merge::counts(conn, &t.db_ref())? {
            *total.entry(table).or_default() += n;
        }
    }
    for (table, treatment) in merge::TABLES {
        if *treatment == Treatment::Kept {
            total.remove(table);
        }
    }
    Ok(total)
}

fn rows_check(
    before: &BTreeMap<&'static str, i64>,
    after: &BTreeMap<&'static str, i64>,
    provinces: usize,
) -> Check {
    let changed: Vec<String> = before
        .iter()
        .filter(|(t, n)| after.get(*t) != Some(*n))
        .map(|(t, n)| format!("{t} {n} -> {}", after.get(t).copied().unwrap_or(0)))
        .collect();
    if changed.is_empty() {
        let dossiers = before.get("dossiers").copied().unwrap_or(0);
        let staff = before.get("staff").copied().unwrap_or(0);
        let all: i64 = before.values().sum();
        Check {
            ok: true,
            line: format!(
                "rows conserved per table over the {provinces} province(s): {all} rows in {} tables ({dossiers} dossiers, {staff} staff accounts)",
                before.len()
            ),
        }
    } else {
        Check {
            ok: false,
            line: format!("rows NOT conserved: {}", changed.join(", ")),
        }
    }
}

/// A dossier as tracking shows it: (status, due date).
type Tracked = (String, Option<chrono::NaiveDate>);

/// Every tracking code of every province, with what tracking shows of it.
fn codes(conn: &mut diesel::PgConnection) -> Result<BTreeMap<String, Tracked>, AppError> {
    use crate::db::schema::dossiers;
    use diesel::prelude::*;
    let mut out = BTreeMap::new();
    for t in store::list(conn)? {
        crate::db::tenant_enter(conn, &t.db_ref())?;
        let rows: Vec<(String, String, Option<chrono::NaiveDate>)> = dossiers::table
            .select((dossiers::tracking_code, dossiers::status, dossiers::due_on))
            .load(conn)?;
        crate::db::tenant_leave(conn)?;
        for (code, status, due) in rows {
            out.insert(code, (status, due));
        }
    }
    Ok(out)
}

/// Every code resolves as tracking resolves it (a moved dossier's holder, else the province
/// of its prefix or that province's successor) to a dossier with the same status and due date.
fn codes_check(
    conn: &mut diesel::PgConnection,
    app: &App,
    before: &BTreeMap<String, Tracked>,
) -> Result<Check, AppError> {
    let mut wrong = Vec::new();
    for (code, was) in before {
        let holder = match crate::reorg::moves::holder(conn, code)? {
            Some(id) => app
                .registry
                .get(crate::tenancy::TenantId(id))
                .and_then(|t| app.registry.serving(&t)),
            None => super::national::province_of_code(app, code),
        };
        let Some(t) = holder else {
            wrong.push(format!("{code}: no province answers it"));
            continue;
        };
        crate::db::tenant_enter(conn, &t.db_ref())?;
        let found = crate::dossiers::store::find_by_code(conn, code);
        crate::db::tenant_leave(conn)?;
        match found? {
            None => wrong.push(format!("{code}: not found in {}", t.slug)),
            Some(d) if (d.status.as_str().to_string(), d.due_on) != *was => wrong.push(format!(
                "{code}: {} due {:?} in {}, was {} due {:?}",
                d.status.as_str(),
                d.due_on,
                t.slug,
                was.0,
                was.1
            )),
            Some(_) => {}
        }
    }
    Ok(if wrong.is_empty() {
        Check {
            ok: true,
            line: format!(
                "tracking codes: all {} resolve to the same dossier (same status and due date)",
                before.len()
            ),
        }
    } else {
        let n = wrong.len();
        wrong.truncate(20);
        Check {
            ok: false,
            line: format!(
                "tracking codes: {n} of {} do NOT resolve as before: {}",
                before.len(),
                wrong.join("; ")
            ),
        }
    })
}
