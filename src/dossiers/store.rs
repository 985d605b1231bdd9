//! Dossier queries inside a tenant transaction. The caller holds the door.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use super::status::Status;
use crate::db::schema::{dossier_events, dossiers};
use crate::error::AppError;
use crate::ids::{CitizenId, StaffId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = dossiers)]
pub struct DossierRow {
    pub id: i64,
    pub tracking_code: String,
    pub procedure_code: String,
    pub citizen_id: Option<CitizenId>,
    pub applicant_name: String,
    pub applicant_id_number: String,
    pub contact_email: Option<String>,
    pub channel: String,
    /// Read through [`Status::parse`]: an unknown value fails the query.
    #[diesel(deserialize_as = String)]
    pub status: Status,
    pub answers: serde_json::Value,
    pub lang: String,
    pub fee_vnd: i64,
    pub due_on: Option<NaiveDate>,
    pub clock_stopped_on: Option<NaiveDate>,
    pub submitted_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub handler_id: Option<StaffId>,
    pub due_flag: Option<String>,
    /// The service point that received it (`None`: online, or a counter of the province
    /// itself before units existed).
    pub received_at_unit: Option<String>,
    /// The unit that decides it (`None`: the province itself).
    pub competent_unit: Option<String>,
    /// The official a head of unit assigned it to.
    pub assignee_id: Option<uuid::Uuid>,
}

impl DossierRow {
    /// The fee the citizen is told about, on every surface: the dossier's own amount once staff
    /// asked for payment, the catalog's fee for its procedure until then.
    pub fn fee_shown(&self) -> i64 {
        match (
            self.fee_vnd,
            crate::catalog::national().get(&self.procedure_code),
        ) {
            (0, Some(p)) => p.fee_vnd,
            (amount, _) => amount,
        }
    }
}

impl DossierRow {
    pub fn status(&self) -> Status {
        self.status
    }

    pub fn lang(&self) -> crate::lang::Lang {
        crate::lang::Lang::parse(&self.lang).unwrap_or_default()
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = dossiers)]
pub struct NewDossier<'a> {
    pub tracking_code: &'a str,
    pub procedure_code: &'a str,
    pub citizen_id: Option<CitizenId>,
    pub applicant_name: &'a str,
    pub applicant_id_number: &'a str,
    pub contact_email: Option<&'a str>,
    pub channel: &'a str,
    pub status: &'a str,
    pub answers: &'a serde_json::Value,
    pub lang: &'a str,
    /// From the calendar clock: the index counts a dossier in the month it was received.
    pub submitted_at: DateTime<Utc>,
    pub received_at_unit: Option<&'a str>,
    pub competent_unit: Option<&'a str>,
    pub assurance_level: Option<i16>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = dossier_events)]
pub struct EventRow {
    pub at: DateTime<Utc>,
    pub action: String,
    pub status: String,
    pub note: Option<String>,
    pub actor: String,
    /// A refusal's or supplement request's rows ([`super::deficiencies::Deficiency`]).
    pub deficiencies: Option<serde_json::Value>,
    /// Why a head of unit asked for a second supplement.
    pub override_reason: Option<String>,
}

impl EventRow {
    /// The rows it carries (none for other moves, or rows this code cannot read).
    pub fn deficiencies(&self) -> Vec<super::deficiencies::Deficiency> {
        self.deficiencies
            .clone()
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default()
    }
}

/// Inserts unless the tracking code is taken (then `None`, and the caller draws another).
pub fn insert(
    conn: &mut PgConnection,
    new: &NewDossier<'_>,
) -> Result<Option<DossierRow>, AppError> {
    Ok(diesel::insert_into(dossiers::table)
        .values(new)
        .on_conflict(dossiers::tracking_code)
        .do_nothing()
        .returning(DossierRow::as_returning())
        .get_result(conn)
        .optional()?)
}

pub fn find_by_code(conn: &mut PgConnection, code: &str) -> Result<Option<DossierRow>, AppError> {
    Ok(dossiers::table
        .filter(dossiers::tracking_code.eq(code))
        .select(DossierRow::as_select())
        .first(conn)
        .optional()?)
}

/// The same, locked for a move: two moves on one dossier never interleave.
pub fn lock_by_code(conn: &mut PgConnection, code: &str) -> Result<Option<DossierRow>, AppError> {
    Ok(dossiers::table
        .filter(dossiers::tracking_code.eq(code))
        .select(DossierRow::as_select())
        .for_update()
        .first(conn)
        .optional()?)
}

/// The dossier if this citizen owns it; 404 otherwise (never "forbidden": no probing).
pub fn find_owned(
    conn: &mut PgConnection,
    code: &str,
    citizen: CitizenId,
) -> Result<DossierRow, AppError> {
    find_by_code(conn, code)?
        .filter(|d| d.citizen_id == Some(citizen))
        .ok_or(AppError::NotFound)
}

/// [`find_owned`], locked for a move.
pub fn lock_owned(
    conn: &mut PgConnection,
    code: &str,
    citizen: CitizenId,
) -> Result<DossierRow, AppError> {
    lock_by_code(conn, code)?
        .filter(|d| d.citizen_id == Some(citizen))
        .ok_or(AppError::NotFound)
}

pub fn list_for_citizen(
    conn: &mut PgConnection,
    citizen: CitizenId,
) -> Result<Vec<DossierRow>, AppError> {
    Ok(dossiers::table
        .filter(dossiers::citizen_id.eq(citizen))
        .order(dossiers::submitted_at.desc())
        .limit(200)
        .select(DossierRow::as_select())
        .load(conn)?)
}

pub fn events(conn: &mut PgConnection, dossier_id: i64) -> Result<Vec<EventRow>, AppError> {
    Ok(dossier_events::table
        .filter(dossier_events::dossier_id.eq(dossier_id))
        .order(dossier_events::id.asc())
        .select(EventRow::as_select())
        .load(conn)?)
}

pub fn append_event(
    conn: &mut PgConnection,
    dossier_id: i64,
    action: &str,
    status: Status,
    note: Option<&str>,
    actor: &str,
) -> Result<(), AppError> {
    append_reasoned_event(conn, dossier_id, action, status, note, actor, None, None)
}

/// [`append_event`] with a refusal's or supplement request's rows and a head's override.
#[allow(clippy::too_many_arguments)]
pub fn append_reasoned_event(
    conn: &mut PgConnection,
    dossier_id: i64,
    action: &str,
    status: Status,
    note: Option<&str>,
    actor: &str,
    deficiencies: Option<&serde_json::Value>,
    override_reason: Option<&str>,
) -> Result<(), AppError> {
    diesel::insert_into(dossier_events::table)
        .values((
            dossier_events::dossier_id.eq(dossier_id),
            dossier_events::action.eq(action),
            dossier_events::status.eq(status.as_str()),
            dossier_events::note.eq(note),
            dossier_events::actor.eq(actor),
            dossier_events::at.eq(crate::clock::now()),
            dossier_events::deficiencies.eq(deficiencies),
            dossier_events::override_reason.eq(override_reason),
        ))
        .execute(conn)?;
    Ok(())
}

/// How many times a move was made on the dossier (a second supplement request is refused).
pub fn count_moves(
    conn: &mut PgConnection,
    dossier_id: i64,
    action: &str,
) -> Result<i64, AppError> {
    Ok(dossier_events::table
        .filter(dossier_events::dossier_id.eq(dossier_id))
        .filter(dossier_events::action.eq(action))
        .count()
        .get_result(conn)?)
}

/// What a move changes on the dossier row.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = dossiers)]
pub struct DossierChanges {
    pub status: Option<String>,
    pub answers: Option<serde_json::Value>,
    pub due_on: Option<Option<NaiveDate>>,
    pub clock_stopped_on: Option<Option<NaiveDate>>,
    pub fee_vnd: Option<i64>,
    pub decided_at: Option<Option<DateTime<Utc>>>,
    pub handler_id: Option<Option<StaffId>>,
    pub due_flag: Option<Option<String>>,
}

pub fn update(
    conn: &mut PgConnection,
    id: i64,
    changes: &DossierChanges,
) -> Result<DossierRow, AppError> {
    Ok(diesel::update(dossiers::table.find(id))
        .set((changes, dossiers::updated_at.eq(diesel::dsl::now)))
        .returning(DossierRow::as_returning())
        .get_result(conn)?)
}
