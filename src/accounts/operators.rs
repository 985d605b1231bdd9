//! The operator's staff: role `operator` runs the platform, role `billing` closes periods.

use diesel::prelude::*;
use serde::Serialize;

use super::Email;
use crate::db::schema::operators;
use crate::error::AppError;
use crate::ids::OperatorId;
use crate::lang::Msg;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OperatorRole {
    Operator,
    Billing,
}

impl OperatorRole {
    pub fn parse(s: &str) -> Result<OperatorRole, Msg> {
        match s {
            "operator" => Ok(OperatorRole::Operator),
            "billing" => Ok(OperatorRole::Billing),
            _ => Err(Msg::new(
                "Vai trò phải là operator hoặc billing.",
                "The role must be operator or billing.",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OperatorRole::Operator => "operator",
            OperatorRole::Billing => "billing",
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OperatorAccount {
    #[schema(value_type = String, format = Uuid)]
    pub id: OperatorId,
    pub email: String,
    pub full_name: String,
    pub role: OperatorRole,
}

type Row = (OperatorId, String, String, String, String, bool);

fn columns() -> (
    operators::id,
    operators::email,
    operators::full_name,
    operators::role,
    operators::password_hash,
    operators::active,
) {
    (
        operators::id,
        operators::email,
        operators::full_name,
        operators::role,
        operators::password_hash,
        operators::active,
    )
}

/// A row as an account; a role outside the closed set is an error, never "billing".
fn account(r: &Row) -> Result<OperatorAccount, AppError> {
    Ok(OperatorAccount {
        id: r.0,
        email: r.1.clone(),
        full_name: r.2.clone(),
        role: OperatorRole::parse(&r.3)
            .map_err(|_| AppError::internal(format!("operator {}: unknown role {:?}", r.0, r.3)))?,
    })
}

/// Creates the account, or resets its name, role and password when the email exists.
pub fn upsert(
    conn: &mut PgConnection,
    email: &Email,
    full_name: &str,
    role: OperatorRole,
    password_hash: &str,
) -> Result<OperatorAccount, AppError> {
    let row: Row = diesel::insert_into(operators::table)
        .values((
            operators::id.eq(uuid::Uuid::new_v4()),
            operators::email.eq(email.as_str()),
            operators::full_name.eq(full_name),
            operators::role.eq(role.as_str()),
            operators::password_hash.eq(password_hash),
        ))
        .on_conflict(operators::email)
        .do_update()
        .set((
            operators::full_name.eq(full_name),
            operators::role.eq(role.as_str()),
            operators::password_hash.eq(password_hash),
            operators::active.eq(true),
            // A new password revokes the tokens issued with the old one.
            operators::token_version.eq(operators::token_version + 1),
        ))
        .returning(columns())
        .get_result(conn)?;
    account(&row)
}

/// The sign-in throttle's key for an operator address (the page and the API share it).
pub fn sign_in_key(email: &str) -> String {
    format!("operator:{}", email.trim().to_lowercase())
}

/// What a sign-in reads before the connection goes back: the account, its password hash,
/// whether it is active, and its token version (the password is verified afterwards).
pub fn credentials(
    conn: &mut PgConnection,
    email: &str,
) -> Result<Option<(OperatorAccount, String, bool, i64)>, AppError> {
    let email = email.trim().to_lowercase();
    let row: Option<(Row, i64)> = operators::table
        .filter(operators::email.eq(&email))
        .select((columns(), operators::token_version))
        .first(conn)
        .optional()?;
    row.map(|(r, version)| Ok((account(&r)?, r.4.clone(), r.5, version)))
        .transpose()
}

/// The active account `id` while its tokens of `version` hold (see `citizens::find_session`).
pub fn find_session(
    conn: &mut PgConnection,
    id: OperatorId,
    version: i64,
) -> Result<Option<OperatorAccount>, AppError> {
    let row: Option<Row> = operators::table
        .find(id)
        .filter(operators::active.eq(true))
        .filter(operators::token_version.eq(version))
        .select(columns())
        .first(conn)
        .optional()?;
    row.as_ref().map(account).transpose()
}

/// Revokes every token issued to `id` so far (sign-out), when `version` is still current
/// (a stale token signs nobody out twice).
pub fn revoke_tokens(
    conn: &mut PgConnection,
    id: OperatorId,
    version: i64,
) -> Result<(), AppError> {
    diesel::update(
        operators::table
            .find(id)
            .filter(operators::token_version.eq(version)),
    )
    .set(operators::token_version.eq(operators::token_version + 1))
    .execute(conn)?;
    Ok(())
}

pub fn find_active(
    conn: &mut PgConnection,
    id: OperatorId,
) -> Result<Option<OperatorAccount>, AppError> {
    let row: Option<Row> = operators::table
        .find(id)
        .filter(operators::active.eq(true))
        .select(columns())
        .first(conn)
        .optional()?;
    row.as_ref().map(account).transpose()
}
