//! Checking a parsed plan against the platform as it is: the provinces it names, the
//! successor it creates, billing already closed, and what would collide when the rows move.
//! Every problem is listed; nothing is written.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;

use super::merge::{self, Holdings};
use super::plan::{Plan, Problem, Step};
use crate::db::schema::{invoices, period_closes, tenants};
use crate::error::AppError;
use crate::tenancy::{Tenant, TenantStatus, store};
use crate::units::{self, Unit, UnitCode};

/// The first day not yet billed: the day after the last closed period, if any.
pub fn first_open_day(conn: &mut PgConnection) -> Result<Option<NaiveDate>, AppError> {
    let last: Option<String> = period_closes::table
        .select(diesel::dsl::max(period_closes::period))
        .first(conn)?;
    Ok(last
        .and_then(|p| crate::period::Period::parse(&p).ok())
        .map(|p| p.end()))
}

fn schema_version(conn: &mut PgConnection, t: &Tenant) -> Result<String, AppError> {
    Ok(tenants::table
        .find(t.id.0)
        .select(tenants::schema_version)
        .first(conn)?)
}

/// Every problem of `plan` against the database, with each named province looked up.
pub fn check(conn: &mut PgConnection, plan: &Plan) -> Result<Vec<Problem>, AppError> {
    let mut problems = Vec::new();
    if let Some(open) = first_open_day(conn)?
        && plan.effective < open
    {
        problems.push(Problem::new(
            "plan",
            format!(
                "ngày hiệu lực {} trước ngày {}: kỳ trước đó đã chốt và lập hoá đơn.",
                plan.effective, open
            ),
            format!(
                "effective date {} is before {}: the periods before it are closed and invoiced.",
                plan.effective, open
            ),
        ));
    }
    let effective_period = format!("{:04}-{:02}", plan.effective.year(), plan.effective.month());
    for (at, step) in plan.labelled() {
        match step {
            Step::Rename(r) => match store::find_by_slug(conn, r.slug.as_str())? {
                None => problems.push(unknown(&at, r.slug.as_str())),
                Some(t) if t.status == TenantStatus::Merged => {
                    problems.push(already_merged(&at, &t))
                }
                Some(_) => {}
            },
            Step::RenameUnit(r) => {
                if let Some(t) = province_in_service(conn, &at, &r.province, &mut problems)? {
                    let units = units_of(conn, &t, std::slice::from_ref(&r.unit))?;
                    problems.extend(missing_units(&at, &t, &units));
                }
            }
            Step::MergeUnits(m) => {
                if let Some(t) = province_in_service(conn, &at, &m.province, &mut problems)? {
                    let mut codes = m.from.clone();
                    if !codes.contains(&m.into) {
                        codes.push(m.into.clone());
                    }
                    let units = units_of(conn, &t, &codes)?;
                    problems.extend(missing_units(&at, &t, &units));
                    // A commune, ward or special zone and a department or service point are
                    // different things: one cannot become the other by a merge.
                    if let Some(Some(into)) = units.get(&m.into) {
                        for u in m.merged().filter_map(|c| units.get(c).cloned().flatten()) {
                            if u.kind.is_commune_level() != into.kind.is_commune_level() {
                                problems.push(Problem::new(
                                    &at,
                                    format!(
                                        "đơn vị {} ({}) không thể sáp nhập vào {} ({}).",
                                        u.code,
                                        u.kind.label().vi,
                                        into.code,
                                        into.kind.label().vi
                                    ),
                                    format!(
                                        "unit {} ({}) cannot be merged into {} ({}).",
                                        u.code,
                                        u.kind.label().en,
                                        into.code,
                                        into.kind.label().en
                                    ),
                                ));
                            }
                        }
                    }
                }
            }
            Step::MoveUnits(m) => {
                let from = province_in_service(conn, &at, &m.from, &mut problems)?;
                let to = province_in_service(conn, &at, &m.to, &mut problems)?;
                if let Some(from) = from {
                    let units = units_of(conn, &from, &m.units)?;
                    let missing = missing_units(&at, &from, &units);
                    let all_found = missing.is_empty();
                    problems.extend(missing);
                    if let (Some(to), true) = (to, all_found) {
                        problems.extend(move_collisions(conn, &at, &from, Some(&to), &m.units)?);
                    }
                }
            }
            Step::Split(sp) => {
                let Some(from) = province_in_service(conn, &at, &sp.province, &mut problems)?
                else {
                    continue;
                };
                let listed: Vec<UnitCode> = sp.parts.iter().flat_map(|p| p.units.clone()).collect();
                let units = units_of(conn, &from, &listed)?;
                let missing = missing_units(&at, &from, &units);
                let all_found = missing.is_empty();
                problems.extend(missing);
                crate::db::tenant_enter(conn, &from.db_ref())?;
                let in_force = super::moves::units_in_force(conn);
                crate::db::tenant_leave(conn)?;
                let unassigned: Vec<String> = in_force?
                    .into_iter()
                    .filter(|c| !listed.iter().any(|l| l.as_str() == c))
                    .collect();
                if !unassigned.is_empty() {
                    problems.push(Problem::new(
                        &at,
                        format!(
                            "đơn vị của {} không thuộc phần nào: {}.",
                            from.slug,
                            unassigned.join(", ")
                        ),
                        format!(
                            "units of {} in no part: {}.",
                            from.slug,
                            unassigned.join(", ")
                        ),
                    ));
                }
                for part in sp.moves() {
                    let to = match store::find_by_slug(conn, part.into.as_str())? {
                        Some(t) if t.status == TenantStatus::Merged => {
                            problems.push(already_merged(&at, &t));
                            continue;
                        }
                        Some(t) => Some(t),
                        None => {
                            problems.extend(new_province(
                                conn,
                                &at,
                                &part.into,
                                part.name.is_some(),
                                part.plan.clone().unwrap_or(from.plan.clone()),
                            )?);
                            None
                        }
                    };
                    if all_found {
                        problems.extend(move_collisions(
                            conn,
                            &at,
                            &from,
                            to.as_ref(),
                            &part.units,
                        )?);
                    }
                }
            }
            Step::Merge(m) => {
                let mut found: Vec<Tenant> = Vec::new();
                for slug in &m.from {
                    match store::find_by_slug(conn, slug.as_str())? {
                        None => problems.push(unknown(&at, slug.as_str())),
                        Some(t) if t.status == TenantStatus::Merged => {
                            problems.push(already_merged(&at, &t))
                        }
                        Some(t) => found.push(t),
                    }
                }
                if m.into_is_new() {
                    let taken = store::find_by_slug(conn, m.into.as_str())?.is_some()
                        || store::domain_owner(conn, m.into.as_str())?.is_some();
                    if taken {
                        problems.push(Problem::new(
                            &at,
                            format!(
                                "{} đã là một tỉnh: hãy liệt kê nó trong from, hoặc chọn mã mới.",
                                m.into
                            ),
                            format!(
                                "{} exists already: list it in from, or choose a new slug.",
                                m.into
                            ),
                        ));
                    }
                    let plan_code = m
                        .plan
                        .clone()
                        .or_else(|| found.first().map(|t| t.plan.clone()));
                    if let Some(p) = plan_code
                        && !store::plan_exists(conn, &p)?
                    {
                        problems.push(Problem::new(
                            &at,
                            format!("không có gói dịch vụ \"{p}\"."),
                            format!("there is no plan \"{p}\"."),
                        ));
                    }
                }
                if found.len() != m.from.len() {
                    continue;
                }
                problems.extend(merge_collisions(conn, &at, m, &found, &effective_period)?);
            }
        }
    }
    Ok(problems)
}

/// What would collide if these provinces' rows moved into one schema.
fn merge_collisions(
    conn: &mut PgConnection,
    at: &str,
    m: &super::plan::Merge,
    found: &[Tenant],
    effective_period: &str,
) -> Result<Vec<Problem>, AppError> {
    let mut problems = Vec::new();
    let versions: BTreeSet<String> = found
        .iter()
        .map(|t| schema_version(conn, t))
        .collect::<Result<_, _>>()?;
    if versions.len() > 1 {
        problems.push(Problem::new(
            at,
            "các tỉnh chưa cùng phiên bản cơ sở dữ liệu: hãy chạy portal migrate trước.".into(),
            "the provinces are at different schema versions: run portal migrate first.".into(),
        ));
    }
    let mut held: BTreeMap<&str, Holdings> = BTreeMap::new();
    for t in found {
        let unknown = merge::unknown_tables(conn, &t.db_ref())?;
        if !unknown.is_empty() {
            problems.push(Problem::new(
                at,
                format!(
                    "{} có bảng mà việc sáp nhập chưa biết: {}.",
                    t.slug,
                    unknown.join(", ")
                ),
                format!(
                    "{} has tables a merge does not know: {}.",
                    t.slug,
                    unknown.join(", ")
                ),
            ));
        }
        held.insert(t.slug.as_str(), merge::holdings(conn, &t.db_ref())?);
    }
    // One account per address in a province: the same official in two merged provinces is
    // a decision for people (which password, which units), not for the plan.
    let mut owner_of: BTreeMap<&str, &str> = BTreeMap::new();
    for (slug, h) in &held {
        for email in &h.staff_emails {
            if let Some(first) = owner_of.insert(email, slug) {
                problems.push(Problem::new(
                    at,
                    format!("cán bộ {email} có tài khoản ở cả {first} và {slug}."),
                    format!("staff {email} has an account in both {first} and {slug}."),
                ));
            }
        }
    }
    // Unit codes: moved in order into the successor, as the merge will.
    let mut taken: BTreeSet<String> = if m.into_is_new() {
        BTreeSet::new()
    } else {
        held[m.into.as_str()].unit_codes.clone()
    };
    for t in found.iter().filter(|t| t.slug != m.into.as_str()) {
        let codes = &held[t.slug.as_str()].unit_codes;
        match merge::unit_renames(codes, &taken, &t.code) {
            Ok(renames) => {
                for c in codes {
                    taken.insert(renames.get(c).unwrap_or(c).clone());
                }
            }
            Err(failed) => problems.push(Problem::new(
                at,
                format!(
                    "không đặt được mã mới cho đơn vị {} của {}.",
                    failed.join(", "),
                    t.slug
                ),
                format!(
                    "no free new code for units {} of {}.",
                    failed.join(", "),
                    t.slug
                ),
            )),
        }
        let billed: i64 = invoices::table
            .filter(invoices::tenant_id.eq(t.id.0))
            .filter(invoices::period.ge(effective_period))
            .count()
            .get_result(conn)?;
        if billed > 0 {
            problems.push(Problem::new(
                at,
                format!("{} đã có hoá đơn từ kỳ {effective_period} trở đi.", t.slug),
                format!(
                    "{} is invoiced already for {effective_period} or later.",
                    t.slug
                ),
            ));
        }
    }
    Ok(problems)
}

/// What is wrong with creating province `slug` for a split's part: taken already, no name,
/// no such plan.
fn new_province(
    conn: &mut PgConnection,
    at: &str,
    slug: &crate::tenancy::Slug,
    named: bool,
    plan_code: String,
) -> Result<Vec<Problem>, AppError> {
    let mut problems = Vec::new();
    if store::domain_owner(conn, slug.as_str())?.is_some() {
        problems.push(Problem::new(
            at,
            format!("tên miền của {slug} đã được dùng."),
            format!("{slug}'s host is taken already."),
        ));
    }
    if !named {
        problems.push(Problem::new(
            at,
            format!("tỉnh mới {slug} cần có name."),
            format!("the new province {slug} needs a name."),
        ));
    }
    if !store::plan_exists(conn, &plan_code)? {
        problems.push(Problem::new(
            at,
            format!("không có gói dịch vụ \"{plan_code}\"."),
            format!("there is no plan \"{plan_code}\"."),
        ));
    }
    Ok(problems)
}

/// What would collide if `units` of `from` moved into `to` (`None`: a province the plan
/// creates, empty): staff working in moved and staying units, staff accounts the receiver has
/// already, unit codes without a free new code, schemas at different versions.
fn move_collisions(
    conn: &mut PgConnection,
    at: &str,
    from: &Tenant,
    to: Option<&Tenant>,
    units: &[UnitCode],
) -> Result<Vec<Problem>, AppError> {
    let mut problems = Vec::new();
    let codes: Vec<String> = units.iter().map(UnitCode::to_string).collect();
    let set = super::moves::move_set(conn, &from.db_ref(), &codes)?;
    for (email, units) in &set.mixed_staff {
        problems.push(Problem::new(
            at,
            format!(
                "cán bộ {email} làm việc ở cả đơn vị chuyển đi và đơn vị ở lại ({}): hãy phân công lại trước.",
                units.join(", ")
            ),
            format!(
                "staff {email} work in moved and staying units ({}): reassign them first.",
                units.join(", ")
            ),
        ));
    }
    let mut tables = vec![from];
    let taken = match to {
        Some(to) => {
            tables.push(to);
            if schema_version(conn, from)? != schema_version(conn, to)? {
                problems.push(Problem::new(
                    at,
                    "các tỉnh chưa cùng phiên bản cơ sở dữ liệu: hãy chạy portal migrate trước."
                        .into(),
                    "the provinces are at different schema versions: run portal migrate first."
                        .into(),
                ));
            }
            let h = merge::holdings(conn, &to.db_ref())?;
            for email in set.staff_emails.intersection(&h.staff_emails) {
                problems.push(Problem::new(
                    at,
                    format!(
                        "cán bộ {email} có tài khoản ở cả {} và {}.",
                        from.slug, to.slug
                    ),
                    format!(
                        "staff {email} has an account in both {} and {}.",
                        from.slug, to.slug
                    ),
                ));
            }
            h.unit_codes
        }
        None => BTreeSet::new(),
    };
    for t in tables {
        let unknown = merge::unknown_tables(conn, &t.db_ref())?;
        if !unknown.is_empty() {
            problems.push(Problem::new(
                at,
                format!(
                    "{} có bảng mà việc chuyển chưa biết: {}.",
                    t.slug,
                    unknown.join(", ")
                ),
                format!(
                    "{} has tables a move does not know: {}.",
                    t.slug,
                    unknown.join(", ")
                ),
            ));
        }
    }
    let arriving: BTreeSet<String> = set
        .units
        .iter()
        .chain(&set.received_elsewhere)
        .cloned()
        .collect();
    if let Err(failed) = merge::unit_renames(&arriving, &taken, &from.code) {
        problems.push(Problem::new(
            at,
            format!(
                "không đặt được mã mới cho đơn vị {} của {}.",
                failed.join(", "),
                from.slug
            ),
            format!(
                "no free new code for units {} of {}.",
                failed.join(", "),
                from.slug
            ),
        ));
    }
    Ok(problems)
}

/// The province a unit step acts in, if it exists and is not merged (else a problem).
fn province_in_service(
    conn: &mut PgConnection,
    at: &str,
    slug: &crate::tenancy::Slug,
    problems: &mut Vec<Problem>,
) -> Result<Option<Tenant>, AppError> {
    Ok(match store::find_by_slug(conn, slug.as_str())? {
        None => {
            problems.push(unknown(at, slug.as_str()));
            None
        }
        Some(t) if t.status == TenantStatus::Merged => {
            problems.push(already_merged(at, &t));
            None
        }
        Some(t) => Some(t),
    })
}

/// The province's units in force with these codes (`None`: no such unit, or retired).
fn units_of(
    conn: &mut PgConnection,
    t: &Tenant,
    codes: &[UnitCode],
) -> Result<BTreeMap<UnitCode, Option<Unit>>, AppError> {
    crate::db::tenant_enter(conn, &t.db_ref())?;
    let found: Result<BTreeMap<_, _>, AppError> = codes
        .iter()
        .map(|c| Ok((c.clone(), units::store::find_active(conn, c)?)))
        .collect();
    crate::db::tenant_leave(conn)?;
    found
}

fn missing_units(at: &str, t: &Tenant, units: &BTreeMap<UnitCode, Option<Unit>>) -> Vec<Problem> {
    units
        .iter()
        .filter(|(_, u)| u.is_none())
        .map(|(c, _)| {
            Problem::new(
                at,
                format!("{} không có đơn vị {c} đang hoạt động.", t.slug),
                format!("{} has no unit {c} in force.", t.slug),
            )
        })
        .collect()
}

fn unknown(at: &str, slug: &str) -> Problem {
    Problem::new(
        at,
        format!("không có tỉnh {slug}."),
        format!("there is no province {slug}."),
    )
}

fn already_merged(at: &str, t: &Tenant) -> Problem {
    Problem::new(
        at,
        format!("{} đã được sáp nhập.", t.slug),
        format!("{} is merged already.", t.slug),
    )
}
