//! Applying (or previewing) a reorganisation plan: one control-plane transaction for the whole
//! plan, one audit row with the plan in it.
//!
//! Why one transaction for the whole plan rather than one per step: the steps of a
//! reorganisation take effect together (1 July 2025 for all of them), and all-or-nothing means
//! a failure half-way leaves every province exactly as it was and served. Requests see the old
//! state or the new one: the tables of the provinces involved are locked against writes while
//! their rows move (reads go on from the old state), and the rows leave the merged schema in
//! the same transaction as they reach the successor. What the lock costs: writes to those
//! provinces wait for the plan (seconds for the 2025 plan, see BENCHMARKS.md); other provinces
//! are not touched.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_query;
use serde_json::json;

use super::{Actor, App};
use crate::audit::{self, Action};
use crate::db::schema::tenants;
use crate::error::AppError;
use crate::reorg::merge::{self, Treatment};
use crate::reorg::moves;
use crate::reorg::units as unit_steps;
use crate::reorg::validate;
use crate::reorg::{Plan, Problem, Step};
use crate::tenancy::provision::NewTenant;
use crate::tenancy::{Tenant, store};
use crate::units::UnitCode;

/// How long the plan's transaction may run (moving rows is not a request's query).
const REORG_STATEMENT_TIMEOUT: &str = "1800s";

/// What a step changes (or changed), line by line, for the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepReport {
    pub label: String,
    pub lines: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub steps: Vec<StepReport>,
    pub applied: bool,
}

/// A refused plan (every problem) or a failure while applying it (nothing written).
#[derive(Debug)]
pub enum ReorgError {
    Refused(Vec<Problem>),
    Failed(AppError),
}

impl From<AppError> for ReorgError {
    fn from(e: AppError) -> ReorgError {
        ReorgError::Failed(e)
    }
}

/// Checks `plan` and previews it (`dry_run`) or applies it. `text` is the plan as written,
/// kept in the audit row.
pub fn reorganise(
    app: &App,
    actor: &Actor,
    plan: &Plan,
    text: &str,
    dry_run: bool,
) -> Result<Report, ReorgError> {
    let report = app.db.control(|conn| {
        sql_query("SELECT set_config('statement_timeout', $1, true)")
            .bind::<diesel::sql_types::Text, _>(REORG_STATEMENT_TIMEOUT)
            .execute(conn)?;
        // One reorganisation at a time, and none while a province is being created.
        sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<diesel::sql_types::Int8, _>(crate::db::locks::PROVISION)
            .execute(conn)?;
        let problems = validate::check(conn, plan)?;
        if !problems.is_empty() {
            // Nothing was written: the checks only read.
            return Ok(Err(problems));
        }
        let base = app.registry.base_domain().to_string();
        let mut steps = Vec::new();
        for (label, step) in plan.labelled() {
            let lines = match step {
                Step::Merge(m) => {
                    let mut lines = preview_merge(conn, m, plan, &base)?;
                    if !dry_run {
                        lines.extend(apply_merge(conn, app, actor, m, plan)?);
                    }
                    lines
                }
                Step::RenameUnit(r) => {
                    let t = find(conn, r.province.as_str())?;
                    crate::db::tenant_enter(conn, &t.db_ref())?;
                    let old = unit_steps::name_of(conn, &r.unit)?;
                    if !dry_run {
                        unit_steps::rename(conn, r)?;
                    }
                    crate::db::tenant_leave(conn)?;
                    vec![format!(
                        "{} unit {}: name \"{old}\" -> \"{}\" (the old name still finds it)",
                        t.slug, r.unit, r.name
                    )]
                }
                Step::MergeUnits(m) => {
                    let t = find(conn, m.province.as_str())?;
                    crate::db::tenant_enter(conn, &t.db_ref())?;
                    let lines = merge_units_lines(conn, &t, m, dry_run);
                    crate::db::tenant_leave(conn)?;
                    lines?
                }
                Step::MoveUnits(m) => {
                    let from = find(conn, m.from.as_str())?;
                    let codes: Vec<String> = m.units.iter().map(UnitCode::to_string).collect();
                    let mut lines = preview_move(conn, &from, m.to.as_str(), &codes, &base)?;
                    if !dry_run {
                        let to = find(conn, m.to.as_str())?;
                        lines.extend(apply_move(conn, &from, &to, &codes, plan)?);
                    }
                    lines
                }
                Step::Split(sp) => {
                    let from = find(conn, sp.province.as_str())?;
                    let mut lines = Vec::new();
                    if let Some(keep) = sp.parts.iter().find(|p| p.into == sp.province) {
                        lines.push(format!(
                            "{} keeps units {}",
                            from.slug,
                            keep.units
                                .iter()
                                .map(UnitCode::as_str)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ));
                    }
                    for part in sp.moves() {
                        let codes: Vec<String> =
                            part.units.iter().map(UnitCode::to_string).collect();
                        let existing = store::find_by_slug(conn, part.into.as_str())?;
                        let plan_code = part.plan.clone().unwrap_or(from.plan.clone());
                        let name = part.name.clone().unwrap_or(from.name.clone());
                        if existing.is_none() {
                            lines.push(format!(
                                "create province {} \"{name}\" (plan {plan_code}), leased from {}",
                                part.into, plan.effective
                            ));
                        }
                        lines.extend(preview_move(
                            conn,
                            &from,
                            part.into.as_str(),
                            &codes,
                            &base,
                        )?);
                        if !dry_run {
                            let to = match existing {
                                Some(t) => t,
                                None => provision_successor(
                                    conn,
                                    app,
                                    actor,
                                    part.into.as_str(),
                                    &name,
                                    &plan_code,
                                    plan,
                                )?,
                            };
                            lines.extend(apply_move(conn, &from, &to, &codes, plan)?);
                        }
                    }
                    lines
                }
                Step::Rename(r) => {
                    let t = find(conn, r.slug.as_str())?;
                    let line = format!(
                        "{}: name \"{}\" -> \"{}\" (the old name still finds it)",
                        t.slug, t.name, r.name
                    );
                    if !dry_run {
                        rename(conn, &t, &r.name)?;
                    }
                    vec![line]
                }
            };
            steps.push(StepReport { label, lines });
        }
        if !dry_run {
            audit::record(
                conn,
                &actor.audit_name(),
                Action::Reorganise,
                "plan",
                json!({
                    "effective": plan.effective,
                    "plan": text,
                    "steps": steps.iter().map(|s| &s.label).collect::<Vec<_>>(),
                }),
            )?;
        }
        Ok(Ok(Report {
            steps,
            applied: !dry_run,
        }))
    })?;
    let report = report.map_err(ReorgError::Refused)?;
    if report.applied {
        app.registry.reload()?;
        app.registry.sites().clear();
    }
    Ok(report)
}

/// The database's problems with a plan (reads only): for a plan whose file has problems of
/// its own, so that the operator sees them all at once.
pub fn check(app: &App, plan: &Plan) -> Result<Vec<Problem>, AppError> {
    app.db.control(|conn| validate::check(conn, plan))
}

fn find(conn: &mut PgConnection, slug: &str) -> Result<Tenant, AppError> {
    store::find_by_slug(conn, slug)?.ok_or(AppError::NotFound)
}

fn table_line(rows: &BTreeMap<&'static str, i64>) -> String {
    rows.iter()
        .filter(|(_, n)| **n > 0)
        .map(|(t, n)| format!("{t} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a unit merge will do (or did), with the province entered; applied unless `dry_run`.
fn merge_units_lines(
    conn: &mut PgConnection,
    t: &Tenant,
    m: &crate::reorg::plan::MergeUnits,
    dry_run: bool,
) -> Result<Vec<String>, AppError> {
    let mut merged = Vec::new();
    for c in m.merged() {
        merged.push(format!("{c} \"{}\"", unit_steps::name_of(conn, c)?));
    }
    let into_name = unit_steps::name_of(conn, &m.into)?;
    let a = if dry_run {
        unit_steps::affected(conn, m)?
    } else {
        unit_steps::merge(conn, m)?
    };
    let mut lines = vec![format!(
        "{}: units {} -> {} \"{into_name}\"",
        t.slug,
        merged.join(", "),
        m.into
    )];
    if let Some(name) = m.name.as_ref().filter(|n| **n != into_name) {
        lines.push(format!("  {}: name \"{into_name}\" -> \"{name}\"", m.into));
    }
    lines.push(format!(
        "  moved to {}: {} staff account(s), {} dossier(s) ({} open in the queue), {} procedure assignment(s)",
        m.into, a.staff, a.dossiers, a.open, a.procedures
    ));
    lines.push(format!(
        "  retired: {} (their names still find {})",
        m.merged()
            .map(UnitCode::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        m.into
    ));
    Ok(lines)
}

/// What a merge will do, from the database as it is (reads only).
fn preview_merge(
    conn: &mut PgConnection,
    m: &crate::reorg::plan::Merge,
    plan: &Plan,
    base: &str,
) -> Result<Vec<String>, AppError> {
    let mut lines = Vec::new();
    let first = find(conn, m.from[0].as_str())?;
    if m.into_is_new() {
        let plan_code = m.plan.clone().unwrap_or(first.plan.clone());
        lines.push(format!(
            "create province {} \"{}\" (plan {plan_code}), leased from {}",
            m.into,
            m.name.as_deref().unwrap_or(&first.name),
            plan.effective
        ));
    } else if let Some(name) = &m.name {
        let into = find(conn, m.into.as_str())?;
        if into.name != *name {
            lines.push(format!(
                "{}: name \"{}\" -> \"{name}\"",
                into.slug, into.name
            ));
        }
    }
    let successor_holdings = if m.into_is_new() {
        merge::Holdings::default()
    } else {
        let into = find(conn, m.into.as_str())?;
        merge::holdings(conn, &into.db_ref())?
    };
    for slug in m.merged() {
        let t = find(conn, slug.as_str())?;
        let tref = t.db_ref();
        let counts = merge::counts(conn, &tref)?;
        let h = merge::holdings(conn, &tref)?;
        let moved: BTreeMap<&'static str, i64> = counts
            .iter()
            .filter(|(k, _)| {
                merge::TABLES
                    .iter()
                    .any(|(n, tr)| n == *k && *tr != Treatment::Kept)
            })
            .map(|(k, v)| (*k, *v))
            .collect();
        lines.push(format!(
            "{} \"{}\" (codes {}-…): {} dossiers ({} open), {} staff accounts, {} units -> {}",
            t.slug,
            t.name,
            t.code,
            counts["dossiers"],
            h.open_dossiers,
            counts["staff"],
            counts["units"],
            m.into
        ));
        lines.push(format!("  rows moved: {}", table_line(&moved)));
        let mut hosts = vec![format!("{}.{base}", t.slug)];
        hosts.extend(store::custom_domains(conn, t.id)?);
        lines.push(format!(
            "  hosts {} -> 301 to {}.{base}",
            hosts.join(", "),
            m.into
        ));
        let invoices: i64 = crate::db::schema::invoices::table
            .filter(crate::db::schema::invoices::tenant_id.eq(t.id.0))
            .count()
            .get_result(conn)?;
        lines.push(format!(
            "  lease (plan {}) ends on {}; {invoices} invoice(s) issued stay as they are",
            t.plan, plan.effective
        ));
        let superseded_drafts = h
            .draft_keys
            .intersection(&successor_holdings.draft_keys)
            .count();
        if superseded_drafts > 0 {
            lines.push(format!(
                "  {superseded_drafts} draft(s) stay behind in {}, kept whole: the citizen has one for the same procedure in {}",
                t.slug,
                m.into
            ));
        }
        let settings = h
            .setting_codes
            .intersection(&successor_holdings.setting_codes)
            .count();
        if settings > 0 {
            lines.push(format!(
                "  {settings} procedure setting(s) stay behind: {}'s own apply",
                m.into
            ));
        }
        if let Ok(renames) =
            merge::unit_renames(&h.unit_codes, &successor_holdings.unit_codes, &t.code)
            && !renames.is_empty()
        {
            let list: Vec<String> = renames.iter().map(|(o, n)| format!("{o} -> {n}")).collect();
            lines.push(format!("  unit codes renamed: {}", list.join(", ")));
        }
    }
    Ok(lines)
}

/// Creates the province a merge or a split's part names, leased from the effective date.
fn provision_successor(
    conn: &mut PgConnection,
    app: &App,
    actor: &Actor,
    slug: &str,
    name: &str,
    plan_code: &str,
    plan: &Plan,
) -> Result<Tenant, AppError> {
    let who = actor.audit_name();
    let new = NewTenant::parse(slug, name, plan_code, &[], app.registry.base_domain())
        .map_err(AppError::Invalid)?;
    let t = super::provisioning::provision_in(conn, &new, &who, |_| Ok(()))?;
    crate::leasing::start_lease(conn, t.id, plan_code, plan.effective, &who)?;
    // Provisioning set its own budget for the rest of the transaction.
    sql_query("SELECT set_config('statement_timeout', $1, true)")
        .bind::<diesel::sql_types::Text, _>(REORG_STATEMENT_TIMEOUT)
        .execute(conn)?;
    Ok(t)
}

/// What moving `codes` out of `from` into `to` (a slug: the province may be created by the
/// step) will do, from the database as it is (reads only).
fn preview_move(
    conn: &mut PgConnection,
    from: &Tenant,
    to: &str,
    codes: &[String],
    base: &str,
) -> Result<Vec<String>, AppError> {
    let tref = from.db_ref();
    let set = moves::move_set(conn, &tref, codes)?;
    let rows = moves::counts(conn, &tref, &set)?;
    crate::db::tenant_enter(conn, &tref)?;
    let mut named = Vec::new();
    for c in codes {
        let name = UnitCode::parse(c)
            .map_err(|_| AppError::internal(format!("unit code {c}")))
            .and_then(|u| unit_steps::name_of(conn, &u));
        match name {
            Ok(n) => named.push(format!("{c} \"{n}\"")),
            Err(e) => {
                crate::db::tenant_leave(conn)?;
                return Err(e);
            }
        }
    }
    crate::db::tenant_leave(conn)?;
    let taken = match store::find_by_slug(conn, to)? {
        Some(t) => merge::holdings(conn, &t.db_ref())?.unit_codes,
        None => Default::default(),
    };
    let mut lines = vec![
        format!("{} -> {to}: units {}", from.slug, named.join(", ")),
        format!(
            "  {} dossier(s) ({} open, in those units' queue), {} staff account(s) with their passwords{}",
            set.dossiers.len(),
            set.open,
            set.staff.len(),
            if set.staff_emails.is_empty() {
                String::new()
            } else {
                format!(
                    ": {}",
                    set.staff_emails
                        .iter()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        ),
        format!("  rows moved: {}", table_line(&rows)),
        format!(
            "  tracking codes unchanged: they answer on {to}.{base} and {base}; {} keeps serving the rest",
            from.slug
        ),
    ];
    let arriving: std::collections::BTreeSet<String> = set
        .units
        .iter()
        .chain(&set.received_elsewhere)
        .cloned()
        .collect();
    if let Ok(renames) = merge::unit_renames(&arriving, &taken, &from.code)
        && !renames.is_empty()
    {
        let list: Vec<String> = renames.iter().map(|(o, n)| format!("{o} -> {n}")).collect();
        lines.push(format!("  unit codes renamed: {}", list.join(", ")));
    }
    if !set.received_elsewhere.is_empty() {
        lines.push(format!(
            "  units of {} where moved dossiers were handed in, copied to {to} as retired records: {}",
            from.slug,
            set.received_elsewhere.join(", ")
        ));
    }
    if !set.procedures.is_empty() {
        lines.push(format!(
            "  procedures {} were decided by a moved unit: they go with it ({to}'s own assignment wins); {} decides them at province level until its admin assigns a unit",
            set.procedures.join(", "),
            from.slug
        ));
    }
    Ok(lines)
}

/// Applies a move inside the plan's transaction: the rows, the moved codes and citizens in
/// the control plane, both provinces' index from the effective month.
fn apply_move(
    conn: &mut PgConnection,
    from: &Tenant,
    to: &Tenant,
    codes: &[String],
    plan: &Plan,
) -> Result<Vec<String>, AppError> {
    let moved = moves::move_units(conn, &from.db_ref(), &to.db_ref(), &from.code, codes)?;
    moves::record(conn, from.id.0, to.id.0, &moved, plan.effective)?;
    let mut lines = vec![format!(
        "  moved from {} to {}: {}",
        from.slug,
        to.slug,
        table_line(&moved.rows)
    )];
    if !moved.units_kept_retired.is_empty() {
        lines.push(format!(
            "  kept in {} as retired records (its dossiers name them): {}",
            from.slug,
            moved.units_kept_retired.join(", ")
        ));
    }
    // Both provinces' figures from the effective month count what each holds now, in the
    // plan's transaction (as a merge recounts its successor).
    let months = crate::index::job::months(
        crate::period::Period::of(plan.effective),
        crate::period::Period::of(crate::clock::today_vn()),
    );
    for t in [from, to] {
        crate::index::job::recount_in(conn, t, &months)?;
    }
    Ok(lines)
}

/// Applies a merge inside the plan's transaction.
fn apply_merge(
    conn: &mut PgConnection,
    app: &App,
    actor: &Actor,
    m: &crate::reorg::plan::Merge,
    plan: &Plan,
) -> Result<Vec<String>, AppError> {
    let first = find(conn, m.from[0].as_str())?;
    let successor = if m.into_is_new() {
        let name = m.name.clone().unwrap_or(first.name.clone());
        let plan_code = m.plan.clone().unwrap_or(first.plan.clone());
        provision_successor(conn, app, actor, m.into.as_str(), &name, &plan_code, plan)?
    } else {
        find(conn, m.into.as_str())?
    };
    let mut lines = Vec::new();
    let mut former = successor.former_names.clone();
    for slug in m.merged() {
        let t = find(conn, slug.as_str())?;
        let moved = merge::move_rows(conn, &t.db_ref(), &successor.db_ref(), &t.code)?;
        lines.push(format!(
            "  moved from {}: {}",
            t.slug,
            table_line(&moved.rows)
        ));
        // Drafts not copied stay in the merged schema, whole; settings not copied give way
        // to the successor's own and go with the merged schema's other rows.
        let (kept, superseded): (BTreeMap<_, _>, BTreeMap<_, _>) = moved
            .left_behind
            .iter()
            .map(|(t, n)| (*t, *n))
            .partition(|(t, _)| matches!(*t, "drafts" | "draft_files"));
        if !kept.is_empty() {
            lines.push(format!(
                "  left in {} and kept there (the citizen has a draft of the same procedure in {}): {}",
                t.slug,
                successor.slug,
                table_line(&kept)
            ));
        }
        if !superseded.is_empty() {
            lines.push(format!(
                "  not moved from {} ({}'s own apply): {}",
                t.slug,
                successor.slug,
                table_line(&superseded)
            ));
        }
        // Its figures from the effective month on are the successor's (the index job no
        // longer computes a merged province, and the successor's count these dossiers); its
        // months before stay under its own name.
        let from_month = crate::period::Period::of(plan.effective).to_string();
        for table in ["province_stats", "unit_stats"] {
            sql_query(format!(
                "DELETE FROM public.{table} WHERE tenant_id = $1 AND period >= $2"
            ))
            .bind::<diesel::sql_types::Uuid, _>(t.id.0)
            .bind::<diesel::sql_types::Text, _>(&from_month)
            .execute(conn)?;
        }
        diesel::update(tenants::table.find(t.id.0))
            .set((
                tenants::status.eq(crate::tenancy::TenantStatus::Merged.as_str()),
                tenants::successor_id.eq(successor.id.0),
                tenants::merged_on.eq(plan.effective),
                tenants::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)?;
        // Provinces merged into this one earlier now lead straight to the successor.
        diesel::update(tenants::table.filter(tenants::successor_id.eq(t.id.0)))
            .set(tenants::successor_id.eq(successor.id.0))
            .execute(conn)?;
        for n in std::iter::once(&t.name).chain(&t.former_names) {
            if !former.contains(n) && *n != successor.name {
                former.push(n.clone());
            }
        }
        // "My dossiers" asks the provinces that hold a citizen's dossiers: now the successor.
        sql_query(
            "INSERT INTO identity.citizen_provinces (citizen_id, tenant_id, since) \
             SELECT citizen_id, $2, since FROM identity.citizen_provinces WHERE tenant_id = $1 \
             ON CONFLICT DO NOTHING",
        )
        .bind::<diesel::sql_types::Uuid, _>(t.id.0)
        .bind::<diesel::sql_types::Uuid, _>(successor.id.0)
        .execute(conn)?;
        sql_query("DELETE FROM identity.citizen_provinces WHERE tenant_id = $1")
            .bind::<diesel::sql_types::Uuid, _>(t.id.0)
            .execute(conn)?;
    }
    diesel::update(tenants::table.find(successor.id.0))
        .set(tenants::former_names.eq(&former))
        .execute(conn)?;
    // The successor's figures from the effective month to this one now count the dossiers it
    // received: recounted here, in the plan's transaction, so the stored index never shows
    // the successor without them (nor them twice) between the merge and the job's next run.
    let months = crate::index::job::months(
        crate::period::Period::of(plan.effective),
        crate::period::Period::of(crate::clock::today_vn()),
    );
    let successor = find(conn, successor.slug.as_str())?;
    let recounted = crate::index::job::recount_in(conn, &successor, &months)?;
    if recounted > 0 {
        lines.push(format!(
            "  index of {} recounted for {recounted} month(s) from {}",
            successor.slug, months[0]
        ));
    }
    if let Some(name) = &m.name
        && !m.into_is_new()
        && *name != successor.name
    {
        let renamed = find(conn, successor.slug.as_str())?;
        rename(conn, &renamed, name)?;
    }
    Ok(lines)
}

/// A new display name; the old one is kept among the former names (the national search
/// still finds the province by it) and the site's masthead follows.
fn rename(conn: &mut PgConnection, t: &Tenant, name: &str) -> Result<(), AppError> {
    let mut former = t.former_names.clone();
    if !former.contains(&t.name) && t.name != name {
        former.push(t.name.clone());
    }
    former.retain(|n| n != name);
    diesel::update(tenants::table.find(t.id.0))
        .set((
            tenants::name.eq(name),
            tenants::former_names.eq(&former),
            tenants::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    crate::db::tenant_enter(conn, &t.db_ref())?;
    let mut b = crate::tenancy::branding::load(conn)?;
    b.display_name = name.to_string();
    crate::tenancy::branding::save(conn, &b)?;
    crate::db::tenant_leave(conn)?;
    Ok(())
}
