//! Submitting a dossier: validate against the catalog form, store it with its first history
//! row and the "received" mail, all in the caller's tenant transaction.

use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{BigInt, Integer, Jsonb, Nullable, SmallInt, Text, Timestamptz, Uuid};

use super::mail::{MailKind, dossier_mail};
use super::status::{Action, Status};
use super::store::{DossierRow, NewDossier};
use super::tracking;
use crate::catalog::{self, Procedure};
use crate::error::AppError;
use crate::ids::CitizenId;
use crate::lang::{Lang, Msg};
use crate::metering::{self, Metric};
use crate::notify::messages::MailContext;
use crate::notify::outbox::{self, NewMail};
use crate::tenancy::Tenant;
use crate::units::{Unit, UnitCode, routing};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Online,
    Counter,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Online => "online",
            Channel::Counter => "counter",
        }
    }
}

/// A dossier about to be filed.
#[derive(Debug)]
pub struct Submission {
    pub procedure_code: String,
    pub answers: serde_json::Map<String, serde_json::Value>,
    pub channel: Channel,
    /// The national account that files it (none for some counter dossiers).
    pub citizen_id: Option<CitizenId>,
    pub contact_email: Option<String>,
    pub lang: Lang,
    /// Who, for the history: `citizen:<id>` or `staff:<id>`.
    pub actor: String,
    /// The citizen's submission limits (online filings by a citizen; none for the counter,
    /// the demo data, or when the limits are switched off).
    pub limits: Option<super::limits::SubmissionLimits>,
    /// The competent unit the client asked for (`unit_code`), unchecked.
    pub unit_code: Option<String>,
    /// The service point that received it (a counter's unit, checked by the caller against
    /// the staff member's units); `None` online.
    pub received_at: Option<Unit>,
    /// The assurance level of the citizen's session (online: 1 or 2), recorded with the
    /// dossier; `None` at the counter (staff see the applicant's papers) and for demo data.
    pub assurance_level: Option<u8>,
    /// Whether the province offers the procedure, as the caller read it from the site cache
    /// (forgotten on every change by its notification); `None`: read in the transaction.
    pub offered: Option<bool>,
    /// The unit the province chose to decide the procedure (`Some(None)`: none chosen), as the
    /// caller read it from the site cache's unit directory (forgotten on every change by the
    /// same notification); `None`: read in the transaction.
    pub unit_mapping: Option<Option<UnitCode>>,
}

/// The procedure, if the national catalog has it and this province offers it; else 422.
pub fn offered_procedure(
    conn: &mut PgConnection,
    code: &str,
) -> Result<&'static Procedure, AppError> {
    let procedure = in_catalog(code)?;
    if !crate::tenancy::procedures::procedure_enabled(conn, code)? {
        return Err(not_offered());
    }
    Ok(procedure)
}

/// The national catalog's procedure; else 422.
fn in_catalog(code: &str) -> Result<&'static Procedure, AppError> {
    catalog::national().get(code).ok_or_else(|| {
        AppError::invalid(
            "procedure_code",
            Msg::new("Không có thủ tục này.", "There is no such procedure."),
        )
    })
}

/// The 422 for a procedure the province switched off.
fn not_offered() -> AppError {
    AppError::invalid(
        "procedure_code",
        Msg::new(
            "Tỉnh này hiện không cung cấp thủ tục này trực tuyến.",
            "This province does not offer this procedure online at the moment.",
        ),
    )
}

pub fn submit(
    conn: &mut PgConnection,
    tenant: &Tenant,
    mail: &MailContext,
    sub: &Submission,
) -> Result<DossierRow, AppError> {
    let procedure = match sub.offered {
        Some(on) => {
            let procedure = in_catalog(&sub.procedure_code)?;
            if !on {
                return Err(not_offered());
            }
            procedure
        }
        None => offered_procedure(conn, &sub.procedure_code)?,
    };
    // Online, a procedure that needs national sign-in at level 2 refuses a lower session
    // before anything else is checked or counted: the citizen steps up first.
    if sub.channel == Channel::Online
        && let Some(level) = sub.assurance_level
        && level < procedure.assurance_level
    {
        return Err(AppError::AssuranceRequired {
            required: procedure.assurance_level,
        });
    }
    let now = crate::clock::now();
    if let (Channel::Online, Some(citizen), Some(limits)) =
        (sub.channel, sub.citizen_id, sub.limits)
    {
        super::limits::check(conn, citizen, &procedure.code, limits, now)?;
    }
    // Every mistake at once: the form's fields and the unit.
    let answers = procedure.validate(&sub.answers);
    let placement = routing::place(
        conn,
        procedure,
        sub.unit_code.as_deref(),
        sub.received_at.as_ref(),
        sub.unit_mapping.clone(),
    );
    let (answers, placement) = match (answers, placement) {
        (Ok(a), Ok(p)) => (a, p),
        (Err(mut fields), Err(AppError::Invalid(unit))) => {
            fields.extend(unit);
            return Err(AppError::Invalid(fields));
        }
        (Err(fields), _) => return Err(AppError::Invalid(fields)),
        (_, Err(e)) => return Err(e),
    };
    let text = |key: &str| {
        answers
            .get(key)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let (name, id_number) = (text("full_name"), text("id_number"));
    let answers = serde_json::Value::Object(answers);
    let today = crate::clock::vn_date(now);
    let procedure_name = procedure.name.get(sub.lang).to_string();
    // 30^6 codes a month per province: a clash is rare, and simply draws again.
    for _ in 0..5 {
        let code = tracking::generate(&tenant.code, today);
        let new = NewDossier {
            tracking_code: &code,
            procedure_code: &procedure.code,
            citizen_id: sub.citizen_id,
            applicant_name: &name,
            applicant_id_number: &id_number,
            contact_email: sub.contact_email.as_deref(),
            channel: sub.channel.as_str(),
            status: Status::Submitted.as_str(),
            answers: &answers,
            lang: sub.lang.code(),
            submitted_at: now,
            received_at_unit: placement.received_at.as_ref().map(UnitCode::as_str),
            competent_unit: placement.competent.as_ref().map(UnitCode::as_str),
            assurance_level: sub.assurance_level.map(i16::from),
        };
        // The "received" mail, written from what the row will hold (code, name, status,
        // language; no deadline yet), as `notify_citizen` would from the stored row.
        let received = new.contact_email.map(|to| {
            let (subject, body) = dossier_mail(
                MailKind::Received,
                &new_row(&new),
                &procedure_name,
                None,
                mail,
            );
            (to, subject, body)
        });
        let queued = received.as_ref().map(|(to, subject, body)| NewMail {
            kind: MailKind::Received.as_str(),
            dossier_id: None,
            to,
            subject,
            body,
        });
        if let Some(filed) = file(conn, &new, &sub.actor, queued.as_ref())? {
            if queued.is_some() {
                outbox::wake_after_commit(tenant.id);
            }
            // Counted in the same statement: a hard cap refused the dossier itself (above).
            if filed.level != 0 {
                metering::announce_threshold(
                    conn,
                    tenant,
                    Metric::Dossiers,
                    filed.submitted_at,
                    filed.level,
                )?;
            }
            return Ok(DossierRow {
                id: filed.id,
                submitted_at: filed.submitted_at,
                ..new_row(&new)
            });
        }
    }
    Err(AppError::internal("no free tracking code after 5 draws"))
}

/// What [`file`] wrote: the new dossier's id and time as stored, and what the count reached.
#[derive(Debug, QueryableByName)]
pub struct Filed {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Timestamptz)]
    pub submitted_at: chrono::DateTime<chrono::Utc>,
    /// The period's new total of filed dossiers.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub total: Option<i64>,
    /// The share of the allowance newly reached (80 or 100), else 0.
    #[diesel(sql_type = Integer)]
    pub level: i32,
}

/// Every write of a submission in one statement (one round trip): the dossier, its first
/// history row, its "received" mail (if it has an address) and its count for the plan
/// (`record_usage`, then `usage_threshold` on the returned total), each the same as
/// `store::insert`, `store::append_event`, `outbox::enqueue` and `metering::record` write.
/// `None` when the tracking code is taken: then nothing at all was written (every part reads
/// the inserted row) and the caller draws another. A hard cap fails the statement with 429.
pub fn file(
    conn: &mut PgConnection,
    new: &NewDossier<'_>,
    actor: &str,
    mail: Option<&NewMail<'_>>,
) -> Result<Option<Filed>, AppError> {
    if crate::db::one_node_statements() {
        return file_in_steps(conn, new, actor, mail);
    }
    sql_query(
        "WITH d AS ( \
           INSERT INTO dossiers (tracking_code, procedure_code, citizen_id, applicant_name, \
                  applicant_id_number, contact_email, channel, status, answers, lang, \
                  submitted_at, received_at_unit, competent_unit, assurance_level) \
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
           ON CONFLICT (tracking_code) DO NOTHING \
           RETURNING id, status, submitted_at), \
         e AS ( \
           INSERT INTO dossier_events (dossier_id, action, status, note, actor, at) \
           SELECT id, $15, status, NULL, $16, submitted_at FROM d), \
         o AS ( \
           INSERT INTO outbox (kind, dossier_id, to_email, subject, body) \
           SELECT $17, id, $18, $19, $20 FROM d WHERE $18::text IS NOT NULL), \
         m AS ( \
           SELECT public.record_usage($21, 1, 'dossier:' || id || ':submitted', submitted_at) \
                  AS total \
             FROM d) \
         SELECT d.id, d.submitted_at, m.total, \
                CASE WHEN m.total IS NULL THEN 0 \
                     ELSE public.usage_threshold($21, d.submitted_at) END AS level \
           FROM d, m",
    )
    .bind::<Text, _>(new.tracking_code)
    .bind::<Text, _>(new.procedure_code)
    .bind::<Nullable<Uuid>, _>(new.citizen_id.map(|c| c.0))
    .bind::<Text, _>(new.applicant_name)
    .bind::<Text, _>(new.applicant_id_number)
    .bind::<Nullable<Text>, _>(new.contact_email)
    .bind::<Text, _>(new.channel)
    .bind::<Text, _>(new.status)
    .bind::<Jsonb, _>(new.answers)
    .bind::<Text, _>(new.lang)
    .bind::<Timestamptz, _>(new.submitted_at)
    .bind::<Nullable<Text>, _>(new.received_at_unit)
    .bind::<Nullable<Text>, _>(new.competent_unit)
    .bind::<Nullable<SmallInt>, _>(new.assurance_level)
    .bind::<Text, _>(Action::Submit.as_str())
    .bind::<Text, _>(actor)
    .bind::<Text, _>(mail.map_or("", |m| m.kind))
    .bind::<Nullable<Text>, _>(mail.map(|m| m.to))
    .bind::<Text, _>(mail.map_or("", |m| m.subject))
    .bind::<Text, _>(mail.map_or("", |m| m.body))
    .bind::<Text, _>(Metric::Dossiers.as_str())
    .get_result::<Filed>(conn)
    .optional()
    .map_err(metering::quota_error)
}

/// [`file`] as one statement per table, for a Citus coordinator (`db::one_node_statements`):
/// the same rows, each statement routed to the province's worker alone (the usage count to
/// the coordinator's own tables), at the price of three more round trips.
fn file_in_steps(
    conn: &mut PgConnection,
    new: &NewDossier<'_>,
    actor: &str,
    mail: Option<&NewMail<'_>>,
) -> Result<Option<Filed>, AppError> {
    let Some(row) = super::store::insert(conn, new)? else {
        return Ok(None);
    };
    sql_query(
        "INSERT INTO dossier_events (dossier_id, action, status, note, actor, at) \
         VALUES ($1, $2, $3, NULL, $4, $5)",
    )
    .bind::<BigInt, _>(row.id)
    .bind::<Text, _>(Action::Submit.as_str())
    .bind::<Text, _>(row.status.as_str())
    .bind::<Text, _>(actor)
    .bind::<Timestamptz, _>(row.submitted_at)
    .execute(conn)?;
    if let Some(m) = mail {
        sql_query(
            "INSERT INTO outbox (kind, dossier_id, to_email, subject, body) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind::<Text, _>(m.kind)
        .bind::<BigInt, _>(row.id)
        .bind::<Text, _>(m.to)
        .bind::<Text, _>(m.subject)
        .bind::<Text, _>(m.body)
        .execute(conn)?;
    }
    let counted = sql_query(
        "SELECT c.id, c.submitted_at, c.total, \
                CASE WHEN c.total IS NULL THEN 0 \
                     ELSE public.usage_threshold($1, c.submitted_at) END AS level \
           FROM (SELECT $2::bigint AS id, $3::timestamptz AS submitted_at, \
                        public.record_usage($1, 1, 'dossier:' || $2 || ':submitted', $3) AS total \
                 OFFSET 0) c",
    )
    .bind::<Text, _>(Metric::Dossiers.as_str())
    .bind::<BigInt, _>(row.id)
    .bind::<Timestamptz, _>(row.submitted_at)
    .get_result::<Filed>(conn)
    .map_err(metering::quota_error)?;
    Ok(Some(counted))
}

/// The row `new` makes (the table's defaults for the rest): the "received" mail is written
/// from it before it is stored (id 0), and it is returned once stored with its id and time.
fn new_row(new: &NewDossier<'_>) -> DossierRow {
    DossierRow {
        id: 0,
        tracking_code: new.tracking_code.to_string(),
        procedure_code: new.procedure_code.to_string(),
        citizen_id: new.citizen_id,
        applicant_name: new.applicant_name.to_string(),
        applicant_id_number: new.applicant_id_number.to_string(),
        contact_email: new.contact_email.map(str::to_string),
        channel: new.channel.to_string(),
        status: Status::Submitted,
        answers: new.answers.clone(),
        lang: new.lang.to_string(),
        fee_vnd: 0,
        due_on: None,
        clock_stopped_on: None,
        submitted_at: new.submitted_at,
        decided_at: None,
        handler_id: None,
        due_flag: None,
        received_at_unit: new.received_at_unit.map(str::to_string),
        competent_unit: new.competent_unit.map(str::to_string),
        assignee_id: None,
    }
}

/// Queues the mail for a dossier event, if the dossier has a contact address.
pub fn notify_citizen(
    conn: &mut PgConnection,
    tenant: &Tenant,
    ctx: &MailContext,
    dossier: &DossierRow,
    kind: MailKind,
    note: Option<&str>,
) -> Result<(), AppError> {
    let Some(to) = dossier.contact_email.as_deref() else {
        return Ok(());
    };
    let procedure_name = catalog::national()
        .get(&dossier.procedure_code)
        .map(|p| p.name.get(dossier.lang()).to_string())
        .unwrap_or_else(|| dossier.procedure_code.clone());
    let (subject, body) = dossier_mail(kind, dossier, &procedure_name, note, ctx);
    outbox::enqueue(
        conn,
        tenant.id,
        &NewMail {
            kind: kind.as_str(),
            dossier_id: Some(dossier.id),
            to,
            subject: &subject,
            body: &body,
        },
    )
}
