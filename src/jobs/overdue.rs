//! The overdue watch: marks dossiers due by the next working day and overdue ones, and mails
//! each responsible official one digest a day (admins get the unassigned ones).

use chrono::NaiveDate;
use diesel::prelude::*;

use crate::accounts::staff;
use crate::db::Db;
use crate::db::schema::dossiers;
use crate::dossiers::deadlines::WorkingDays;
use crate::error::AppError;
use crate::jobs::{OVERDUE_WATCH, with_lock};
use crate::notify::outbox::{self, NewMail};
use crate::tenancy::{Registry, Tenant};

/// A marked dossier: tracking code, due date, mark, responsible official.
type Flagged = (
    String,
    Option<NaiveDate>,
    Option<String>,
    Option<crate::ids::StaffId>,
);

/// One run over every province, under the job's lock. Returns the digests queued. A province
/// that fails (its Citus worker down, a statement timeout) is logged and tried again at the
/// next run; the others are still watched (they used to wait behind it).
pub fn run_once(
    db: &Db,
    registry: &Registry,
    cal: &dyn WorkingDays,
    today: NaiveDate,
) -> Result<Option<usize>, AppError> {
    with_lock(db, OVERDUE_WATCH, || {
        let mut queued = 0;
        for tenant in registry.all() {
            match watch_province(db, &tenant, cal, today) {
                Ok(n) => queued += n,
                Err(e) => {
                    tracing::warn!(tenant = %tenant.slug, error = %e, "overdue watch: this province failed; the others go on")
                }
            }
        }
        Ok(queued)
    })
}

fn watch_province(
    db: &Db,
    tenant: &Tenant,
    cal: &dyn WorkingDays,
    today: NaiveDate,
) -> Result<usize, AppError> {
    let next_working_day = cal.add_working_days(today, 1);
    db.tenant(tenant.db_ref()).tx(|conn| {
        let running = || dossiers::status.eq_any(["accepted", "processing"]);
        diesel::update(
            dossiers::table
                .filter(running())
                .filter(dossiers::due_on.lt(today)),
        )
        .set(dossiers::due_flag.eq("overdue"))
        .execute(conn)?;
        diesel::update(
            dossiers::table
                .filter(running())
                .filter(dossiers::due_on.ge(today))
                .filter(dossiers::due_on.le(next_working_day)),
        )
        .set(dossiers::due_flag.eq("due_soon"))
        .execute(conn)?;
        // Anything no longer running or no longer close loses its mark.
        diesel::update(
            dossiers::table
                .filter(dossiers::due_flag.is_not_null())
                .filter(
                    dossiers::status
                        .ne_all(["accepted", "processing"])
                        .or(dossiers::due_on.gt(next_working_day)),
                ),
        )
        .set(dossiers::due_flag.eq(None::<String>))
        .execute(conn)?;

        let flagged: Vec<Flagged> = dossiers::table
            .filter(dossiers::due_flag.is_not_null())
            .order(dossiers::due_on.asc())
            .select((
                dossiers::tracking_code,
                dossiers::due_on,
                dossiers::due_flag,
                dossiers::handler_id,
            ))
            .load(conn)?;
        if flagged.is_empty() {
            return Ok(0);
        }
        let people = staff::active_emails(conn)?;
        let mut queued = 0;
        for (id, email, role) in &people {
            let mine: Vec<_> = flagged
                .iter()
                .filter(|(_, _, _, handler)| match handler {
                    Some(h) => h == id,
                    // Unassigned, or the official has left: the admins answer for it.
                    None => role == "admin",
                })
                .chain(flagged.iter().filter(|(_, _, _, h)| {
                    role == "admin" && h.is_some_and(|h| !people.iter().any(|(p, _, _)| *p == h))
                }))
                .collect();
            if mine.is_empty() {
                continue;
            }
            let lines: Vec<String> = mine
                .iter()
                .map(|(code, due, flag, _)| {
                    let due = due
                        .map(|d| d.format("%d/%m/%Y").to_string())
                        .unwrap_or_default();
                    let what = if flag.as_deref() == Some("overdue") {
                        "QUÁ HẠN / OVERDUE"
                    } else {
                        "sắp đến hạn / due soon"
                    };
                    format!("- {code}: {due} ({what})")
                })
                .collect();
            let subject = format!(
                "[{}] {} hồ sơ cần xử lý / dossiers need attention ({})",
                tenant.name,
                mine.len(),
                today.format("%d/%m/%Y")
            );
            let body = format!(
                "Các hồ sơ sau đã quá hạn hoặc đến hạn trong ngày làm việc tới:\n\
                 The following dossiers are overdue or due by the next working day:\n\n{}\n",
                lines.join("\n")
            );
            let key = format!("overdue:{today}:{id}");
            let mail = NewMail {
                kind: "overdue_digest",
                dossier_id: None,
                to: email,
                subject: &subject,
                body: &body,
            };
            if outbox::enqueue_once(conn, tenant.id, &key, &mail)? {
                queued += 1;
            }
        }
        Ok(queued)
    })
}
