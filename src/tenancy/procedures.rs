//! The procedures a province switched off (its `procedure_settings`): province configuration
//! beside its branding, read by the site cache and checked when a dossier or a draft is filed.

use diesel::prelude::*;

use crate::db::schema::procedure_settings;
use crate::error::AppError;

/// Enabled unless the province switched it off.
pub fn procedure_enabled(conn: &mut PgConnection, code: &str) -> Result<bool, AppError> {
    let enabled: Option<bool> = procedure_settings::table
        .find(code)
        .select(procedure_settings::enabled)
        .first(conn)
        .optional()?;
    Ok(enabled.unwrap_or(true))
}

/// Codes this province switched off.
pub fn disabled_procedures(conn: &mut PgConnection) -> Result<Vec<String>, AppError> {
    Ok(procedure_settings::table
        .filter(procedure_settings::enabled.eq(false))
        .select(procedure_settings::code)
        .load(conn)?)
}

pub fn set_procedure_enabled(
    conn: &mut PgConnection,
    code: &str,
    enabled: bool,
) -> Result<(), AppError> {
    diesel::insert_into(procedure_settings::table)
        .values((
            procedure_settings::code.eq(code),
            procedure_settings::enabled.eq(enabled),
            procedure_settings::updated_at.eq(diesel::dsl::now),
        ))
        .on_conflict(procedure_settings::code)
        .do_update()
        .set((
            procedure_settings::enabled.eq(enabled),
            // Not `now()` in DO UPDATE: Citus refuses non-immutable functions there.
            procedure_settings::updated_at
                .eq(diesel::upsert::excluded(procedure_settings::updated_at)),
        ))
        .execute(conn)?;
    Ok(())
}
