//! What the staff's workspace pages need beside the dossiers themselves: the province's units
//! and staff by name (so no page shows a raw code or id), who acted in a history, which units
//! may decide a procedure and who may be assigned; and the printable receipt of a dossier, for
//! the staff who reach it and for its owner.

use std::collections::HashMap;
use std::sync::Arc;

use crate::accounts::staff::{self as staff_accounts, StaffRole};
use crate::catalog;
use crate::dossiers::attachments::{self, AttachmentMeta};
use crate::dossiers::store::{self, DossierRow};
use crate::dossiers::tracking;
use crate::error::AppError;
use crate::ids::{CitizenId, StaffId};
use crate::tenancy::Tenant;
use crate::tenancy::site_cache::UnitDirectory;
use crate::units::scope::{Access, UnitScope};
use crate::units::{Unit, UnitCode, routing, store as unit_store};

use super::{Actor, App};

/// One staff member of the province, with their units.
#[derive(Debug, Clone)]
pub struct Member {
    pub id: StaffId,
    pub full_name: String,
    pub role: StaffRole,
    pub active: bool,
    pub units: Vec<UnitCode>,
}

/// Who made a move in a dossier's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActedBy {
    Citizen,
    /// A background job, the command line, an operator.
    System,
    Staff {
        name: String,
        role: StaffRole,
    },
    /// A staff member no longer in the table.
    FormerStaff,
}

/// The province's units (retired ones too, for old dossiers), its staff with their units, and
/// its procedure-to-unit choices, once per page: the staff from the page's transaction, the
/// units and choices from the site cache's [`UnitDirectory`] (reading, folding and sorting
/// every unit on every page was most of the queue page's server time with 3,328 units).
#[derive(Debug, Clone, Default)]
pub struct Desk {
    /// Shared with the site cache, not copied: a province may hold thousands of units.
    directory: Arc<UnitDirectory>,
    pub members: Vec<Member>,
}

impl Desk {
    pub fn read(
        conn: &mut diesel::PgConnection,
        directory: &Arc<UnitDirectory>,
    ) -> Result<Desk, AppError> {
        let mut of: HashMap<uuid::Uuid, Vec<UnitCode>> = HashMap::new();
        for (s, u) in unit_store::all_staff_units(conn)? {
            of.entry(s).or_default().push(u);
        }
        let members = staff_accounts::list(conn)?
            .into_iter()
            .map(|a| Member {
                units: of.remove(&a.id.0).unwrap_or_default(),
                id: a.id,
                full_name: a.full_name,
                role: a.role,
                active: a.active,
            })
            .collect();
        Ok(Desk {
            directory: directory.clone(),
            members,
        })
    }

    /// The province's units: in force first (centre, branches, departments, then communes by
    /// name), then the retired ones.
    pub fn units(&self) -> impl Iterator<Item = &Unit> {
        self.directory.all()
    }

    pub fn unit(&self, code: &str) -> Option<&Unit> {
        self.directory.find(code)
    }

    /// A unit's name (its code only if the unit is unknown, which the schema prevents).
    pub fn unit_name(&self, code: &str) -> String {
        self.unit(code)
            .map_or_else(|| code.to_string(), |u| u.name.clone())
    }

    pub fn member(&self, id: uuid::Uuid) -> Option<&Member> {
        self.members.iter().find(|m| m.id.0 == id)
    }

    /// Who an actor string of the history (`staff:<id>`, `citizen:<id>`, `job:<name>`) is.
    pub fn acted_by(&self, actor: &str) -> ActedBy {
        if let Some(id) = actor.strip_prefix("staff:") {
            return match uuid::Uuid::parse_str(id)
                .ok()
                .and_then(|id| self.member(id))
            {
                Some(m) => ActedBy::Staff {
                    name: m.full_name.clone(),
                    role: m.role,
                },
                None => ActedBy::FormerStaff,
            };
        }
        if actor.starts_with("citizen:") {
            ActedBy::Citizen
        } else {
            ActedBy::System
        }
    }

    /// The units in force that may decide a procedure, and the one the province chose.
    pub fn deciders(&self, procedure_code: &str) -> (Vec<&Unit>, Option<UnitCode>) {
        let mapped = self.directory.mapped.get(procedure_code).cloned();
        let Some(p) = catalog::national().get(procedure_code) else {
            return (Vec::new(), mapped);
        };
        let list = self
            .units()
            .filter(|u| routing::handles(u, p, mapped.as_ref()))
            .collect();
        (list, mapped)
    }

    /// The active officials and heads a dossier decided by `unit` may be assigned to.
    pub fn assignable(&self, unit: Option<&str>) -> Vec<&Member> {
        self.members
            .iter()
            .filter(|m| m.active && matches!(m.role, StaffRole::Official | StaffRole::Head))
            .filter(|m| unit.is_none_or(|u| m.units.iter().any(|c| c.as_str() == u)))
            .collect()
    }

    /// The service points (units that receive, in force) a staff member of `scope` may name
    /// as where a counter dossier was received.
    pub fn service_points(&self, scope: &UnitScope) -> Vec<&Unit> {
        self.units()
            .filter(|u| u.receives && !u.retired)
            .filter(|u| scope.units().is_none_or(|mine| mine.contains(&u.code)))
            .collect()
    }
}

/// The staff member's reach and the desk, for a page that shows neither dossier nor queue
/// (the counter form, the team page).
pub async fn desk(
    app: &App,
    actor: &Actor,
    tenant: &Tenant,
) -> Result<(UnitScope, Desk), AppError> {
    let (id, role) = actor.staff_member()?;
    let door = super::staff::door(app, tenant);
    let directory = units_of(app, &door).await?;
    door.run(move |conn| {
        let scope = UnitScope::of_staff(conn, id, role == StaffRole::Admin)?;
        Ok((scope, Desk::read(conn, &directory)?))
    })
    .await
}

/// A dossier's receipt: what was received, where, and by whom it is decided.
#[derive(Debug)]
pub struct Receipt {
    pub dossier: DossierRow,
    pub files: Vec<AttachmentMeta>,
    pub desk: Desk,
    /// Before acceptance (no legal due date yet): the date the result would be due were the
    /// dossier accepted on the day it was filed, so the paper a citizen takes home from the
    /// counter names a date, as Vietnam's "giấy tiếp nhận và hẹn trả kết quả" does.
    pub expected_due: Option<chrono::NaiveDate>,
}

impl Receipt {
    /// The receipt of `d`, found and checked by the caller, in the caller's transaction.
    fn read(
        conn: &mut diesel::PgConnection,
        d: DossierRow,
        directory: &Arc<UnitDirectory>,
        cal: &crate::calendar::Calendar,
    ) -> Result<Receipt, AppError> {
        Ok(Receipt {
            files: attachments::list(conn, d.id)?,
            desk: Desk::read(conn, directory)?,
            expected_due: expected_due(&d, cal),
            dossier: d,
        })
    }
}

/// [`Receipt::expected_due`] for `d`.
fn expected_due(d: &DossierRow, cal: &crate::calendar::Calendar) -> Option<chrono::NaiveDate> {
    if d.due_on.is_some() || d.status != crate::dossiers::status::Status::Submitted {
        return None;
    }
    let procedure = crate::catalog::national().get(&d.procedure_code)?;
    Some(crate::dossiers::deadlines::due_on_acceptance(
        cal,
        crate::clock::vn_date(d.submitted_at),
        procedure.processing_days,
    ))
}

/// The receipt for a staff member who reaches the dossier (fully or the receipt), else 404.
pub async fn staff_receipt(
    app: &App,
    actor: &Actor,
    tenant: &Tenant,
    code: &str,
) -> Result<Receipt, AppError> {
    let (id, role) = actor.staff_member()?;
    let code = tracking::normalize(code);
    let cal = app.calendar.get(&app.db).await?;
    let door = super::staff::door(app, tenant);
    let directory = units_of(app, &door).await?;
    door.run(move |conn| {
        let d = store::find_by_code(conn, &code)?.ok_or(AppError::NotFound)?;
        let scope = UnitScope::of_staff(conn, id, role == StaffRole::Admin)?;
        if scope.access(d.competent_unit.as_deref(), d.received_at_unit.as_deref()) == Access::None
        {
            return Err(AppError::NotFound);
        }
        Receipt::read(conn, d, &directory, &cal)
    })
    .await
}

/// The province's [`UnitDirectory`] for [`Desk::read`], from the site cache.
pub(crate) async fn units_of(
    app: &App,
    door: &crate::db::TenantDb,
) -> Result<Arc<UnitDirectory>, AppError> {
    app.registry.sites().units(door.schema(), door).await
}

/// The receipt for the citizen who owns the dossier, else 404.
pub async fn citizen_receipt(
    app: &App,
    db: &crate::db::TenantDb,
    citizen: CitizenId,
    code: &str,
) -> Result<Receipt, AppError> {
    let code = tracking::normalize(code);
    let cal = app.calendar.get(&app.db).await?;
    let directory = units_of(app, db).await?;
    db.run(move |conn| {
        let d = store::find_owned(conn, &code, citizen)?;
        Receipt::read(conn, d, &directory, &cal)
    })
    .await
}
