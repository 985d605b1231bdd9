//! Submitting a dossier: validate against the catalog form, store it with its first history
//! row and the "received" mail, all in the caller's tenant transaction.

use diesel::prelude::*;

use super::mail::{MailKind, dossier_mail};
use super::status::{Action, Status};
use super::store::{self, DossierRow, NewDossier};
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
}

/// The procedure, if the national catalog has it and this province offers it; else 422.
pub fn offered_procedure(
    conn: &mut PgConnection,
    code: &str,
) -> Result<&'static Procedure, AppError> {
    let unknown = || {
        AppError::invalid(
            "procedure_code",
            Msg::new("Không có thủ tục này.", "There is no such procedure."),
        )
    };
    let procedure = catalog::national().get(code).ok_or_else(unknown)?;
    if !crate::tenancy::procedures::procedure_enabled(conn, code)? {
        return Err(AppError::invalid(
            "procedure_code",
            Msg::new(
                "Tỉnh này hiện không cung cấp thủ tục này trực tuyến.",
                "This province does not offer this procedure online at the moment.",
            ),
        ));
    }
    Ok(procedure)
}

pub fn submit(
    conn: &mut PgConnection,
    tenant: &Tenant,
    mail: &MailContext,
    sub: &Submission,
) -> Result<DossierRow, AppError> {
    let procedure = offered_procedure(conn, &sub.procedure_code)?;
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
    // 30^6 codes a month per province: a clash is rare, and simply draws again.
    let mut dossier = None;
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
        if let Some(row) = store::insert(conn, &new)? {
            dossier = Some(row);
            break;
        }
    }
    let dossier =
        dossier.ok_or_else(|| AppError::internal("no free tracking code after 5 draws"))?;
    store::append_event(
        conn,
        dossier.id,
        &Action::Submit.as_str(),
        Status::Submitted,
        None,
        &sub.actor,
    )?;
    // Counted in the same transaction: a hard cap refuses the dossier itself.
    let key = format!("dossier:{}:submitted", dossier.id);
    metering::record(
        conn,
        tenant,
        Metric::Dossiers,
        1,
        &key,
        dossier.submitted_at,
    )?;
    notify_citizen(conn, tenant, mail, &dossier, MailKind::Received, None)?;
    Ok(dossier)
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
