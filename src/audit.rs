//! The operator's audit log: who changed what, in the same transaction as the change.

use diesel::prelude::*;

use crate::db::schema::audit_log;
use crate::error::AppError;

pub fn record(
    conn: &mut PgConnection,
    actor: &str,
    action: &str,
    target: &str,
    details: serde_json::Value,
) -> Result<(), AppError> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::actor.eq(actor),
            audit_log::action.eq(action),
            audit_log::target.eq(target),
            audit_log::details.eq(details),
        ))
        .execute(conn)?;
    Ok(())
}
