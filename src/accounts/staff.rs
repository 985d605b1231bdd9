//! A province's officials and admins (in its own schema), invited by email.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use rand::Rng;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::Email;
use crate::db::schema::{staff, staff_invitations};
use crate::error::AppError;
use crate::ids::StaffId;
use crate::lang::Msg;

/// How long an invitation link works.
pub const INVITATION_HOURS: i64 = 72;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StaffRole {
    /// Receiving officer (cán bộ tiếp nhận): takes dossiers in at a service point.
    Receiver,
    /// Processing official (chuyên viên xử lý).
    Official,
    /// Head of unit (lãnh đạo đơn vị): approves, transfers and assigns.
    Head,
    /// Province admin: the province's settings and staff; sees every unit.
    Admin,
}

impl StaffRole {
    pub const ALL: [StaffRole; 4] = [
        StaffRole::Receiver,
        StaffRole::Official,
        StaffRole::Head,
        StaffRole::Admin,
    ];

    pub fn parse(s: &str) -> Result<StaffRole, Msg> {
        StaffRole::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or(Msg::new(
                "Vai trò phải là receiver, official, head hoặc admin.",
                "The role must be receiver, official, head or admin.",
            ))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::Receiver => "receiver",
            StaffRole::Official => "official",
            StaffRole::Head => "head",
            StaffRole::Admin => "admin",
        }
    }

    /// Transfers a dossier to another unit, assigns it, overrides: a head of unit or an admin.
    pub fn leads(self) -> bool {
        matches!(self, StaffRole::Head | StaffRole::Admin)
    }

    /// As a page names it.
    pub fn label(self, lang: crate::lang::Lang) -> &'static str {
        let (vi, en) = match self {
            StaffRole::Receiver => ("Cán bộ tiếp nhận", "Receiving officer"),
            StaffRole::Official => ("Chuyên viên xử lý", "Processing official"),
            StaffRole::Head => ("Lãnh đạo đơn vị", "Head of unit"),
            StaffRole::Admin => ("Quản trị viên tỉnh", "Province admin"),
        };
        match lang {
            crate::lang::Lang::Vi => vi,
            crate::lang::Lang::En => en,
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StaffAccount {
    #[schema(value_type = String, format = Uuid)]
    pub id: StaffId,
    pub email: String,
    pub full_name: String,
    pub role: StaffRole,
    pub active: bool,
    /// False until the invitation was accepted.
    pub has_password: bool,
    pub created_at: DateTime<Utc>,
}

type Row = (
    StaffId,
    String,
    String,
    String,
    Option<String>,
    bool,
    DateTime<Utc>,
);

fn columns() -> (
    staff::id,
    staff::email,
    staff::full_name,
    staff::role,
    staff::password_hash,
    staff::active,
    staff::created_at,
) {
    (
        staff::id,
        staff::email,
        staff::full_name,
        staff::role,
        staff::password_hash,
        staff::active,
        staff::created_at,
    )
}

/// A row as an account; a role outside the closed set is an error, never "official".
fn account(r: &Row) -> Result<StaffAccount, AppError> {
    Ok(StaffAccount {
        id: r.0,
        email: r.1.clone(),
        full_name: r.2.clone(),
        role: StaffRole::parse(&r.3)
            .map_err(|_| AppError::internal(format!("staff {}: unknown role {:?}", r.0, r.3)))?,
        has_password: r.4.is_some(),
        active: r.5,
        created_at: r.6,
    })
}

fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A staff member's name: 1 to 120 characters once trimmed, no markup.
pub fn check_full_name(full_name: &str) -> Result<&str, Msg> {
    let full_name = full_name.trim();
    if full_name.is_empty() || full_name.chars().count() > 120 || full_name.contains(['<', '>']) {
        return Err(Msg::new(
            "Họ và tên có từ 1 đến 120 ký tự.",
            "A full name has 1 to 120 characters.",
        ));
    }
    Ok(full_name)
}

/// Creates an account without a password and an invitation; returns the one-time token.
pub fn invite(
    conn: &mut PgConnection,
    email: &Email,
    full_name: &str,
    role: StaffRole,
) -> Result<(StaffAccount, String), AppError> {
    let full_name = check_full_name(full_name).map_err(|m| AppError::invalid("full_name", m))?;
    let row: Option<Row> = diesel::insert_into(staff::table)
        .values((
            staff::id.eq(uuid::Uuid::new_v4()),
            staff::email.eq(email.as_str()),
            staff::full_name.eq(full_name),
            staff::role.eq(role.as_str()),
        ))
        .on_conflict_do_nothing()
        .returning(columns())
        .get_result(conn)
        .optional()?;
    let row = row.ok_or_else(|| {
        AppError::conflict(
            "email_taken",
            Msg::new(
                "Email này đã là tài khoản cán bộ của tỉnh.",
                "This email already has a staff account here.",
            ),
        )
    })?;
    let token = new_invitation(conn, row.0)?;
    Ok((account(&row)?, token))
}

fn new_invitation(conn: &mut PgConnection, staff_id: StaffId) -> Result<String, AppError> {
    let bytes: [u8; 32] = rand::rng().random();
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    diesel::insert_into(staff_invitations::table)
        .values((
            staff_invitations::token_hash.eq(hash_token(&token)),
            staff_invitations::staff_id.eq(staff_id),
            staff_invitations::expires_at.eq(Utc::now() + Duration::hours(INVITATION_HOURS)),
        ))
        .execute(conn)?;
    Ok(token)
}

/// Sets the password of an invited account; the link works once and for 72 hours. Unknown,
/// used and expired links all answer 404, so a link says nothing once it is spent.
pub fn accept_invitation(
    conn: &mut PgConnection,
    token: &str,
    password_hash: &str,
) -> Result<StaffAccount, AppError> {
    let staff_id: StaffId = diesel::update(
        staff_invitations::table
            .filter(staff_invitations::token_hash.eq(hash_token(token)))
            .filter(staff_invitations::used_at.is_null())
            .filter(staff_invitations::expires_at.gt(Utc::now())),
    )
    .set(staff_invitations::used_at.eq(Utc::now()))
    .returning(staff_invitations::staff_id)
    .get_result(conn)
    .optional()?
    .ok_or(AppError::NotFound)?;
    let row: Row = diesel::update(staff::table.find(staff_id).filter(staff::active.eq(true)))
        .set((
            staff::password_hash.eq(password_hash),
            staff::token_version.eq(staff::token_version + 1),
        ))
        .returning(columns())
        .get_result(conn)
        .optional()?
        .ok_or(AppError::NotFound)?;
    account(&row)
}

/// The invited account while its link still works (unused, unexpired, account active), without
/// spending it: the page shows whom the link is for before the password is chosen.
pub fn pending_invitation(
    conn: &mut PgConnection,
    token: &str,
) -> Result<Option<StaffAccount>, AppError> {
    let staff_id: Option<StaffId> = staff_invitations::table
        .filter(staff_invitations::token_hash.eq(hash_token(token)))
        .filter(staff_invitations::used_at.is_null())
        .filter(staff_invitations::expires_at.gt(Utc::now()))
        .select(staff_invitations::staff_id)
        .first(conn)
        .optional()?;
    match staff_id {
        Some(id) => find_active(conn, id),
        None => Ok(None),
    }
}

/// Creates or resets an account with a password (`portal user create`).
pub fn upsert_with_password(
    conn: &mut PgConnection,
    email: &Email,
    full_name: &str,
    role: StaffRole,
    password_hash: &str,
) -> Result<StaffAccount, AppError> {
    let row: Row = diesel::insert_into(staff::table)
        .values((
            staff::id.eq(uuid::Uuid::new_v4()),
            staff::email.eq(email.as_str()),
            staff::full_name.eq(full_name),
            staff::role.eq(role.as_str()),
            staff::password_hash.eq(password_hash),
        ))
        .on_conflict(staff::email)
        .do_update()
        .set((
            staff::full_name.eq(full_name),
            staff::role.eq(role.as_str()),
            staff::password_hash.eq(password_hash),
            staff::active.eq(true),
            // A new password revokes the tokens issued with the old one.
            staff::token_version.eq(staff::token_version + 1),
        ))
        .returning(columns())
        .get_result(conn)?;
    account(&row)
}

/// What a sign-in reads before the connection goes back: the account (active or not), its
/// password hash (none until the invitation is accepted) and its token version.
pub fn credentials(
    conn: &mut PgConnection,
    email: &str,
) -> Result<Option<(StaffAccount, Option<String>, i64)>, AppError> {
    let row: Option<(Row, i64)> = staff::table
        .filter(staff::email.eq(email.trim().to_lowercase()))
        .select((columns(), staff::token_version))
        .first(conn)
        .optional()?;
    row.map(|(r, version)| Ok((account(&r)?, r.4.clone(), version)))
        .transpose()
}

/// The active account `id` while its tokens of `version` hold (see `citizens::find_session`).
pub fn find_session(
    conn: &mut PgConnection,
    id: StaffId,
    version: i64,
) -> Result<Option<StaffAccount>, AppError> {
    let row: Option<Row> = staff::table
        .find(id)
        .filter(staff::active.eq(true))
        .filter(staff::token_version.eq(version))
        .select(columns())
        .first(conn)
        .optional()?;
    row.as_ref().map(account).transpose()
}

/// Revokes every token issued to `id` so far (sign-out), when `version` is still current
/// (a stale token signs nobody out twice).
pub fn revoke_tokens(conn: &mut PgConnection, id: StaffId, version: i64) -> Result<(), AppError> {
    diesel::update(
        staff::table
            .find(id)
            .filter(staff::token_version.eq(version)),
    )
    .set(staff::token_version.eq(staff::token_version + 1))
    .execute(conn)?;
    Ok(())
}

pub fn find_active(conn: &mut PgConnection, id: StaffId) -> Result<Option<StaffAccount>, AppError> {
    let row: Option<Row> = staff::table
        .find(id)
        .filter(staff::active.eq(true))
        .select(columns())
        .first(conn)
        .optional()?;
    row.as_ref().map(account).transpose()
}

pub fn list(conn: &mut PgConnection) -> Result<Vec<StaffAccount>, AppError> {
    let rows: Vec<Row> = staff::table
        .order(staff::email)
        .select(columns())
        .load(conn)?;
    rows.iter().map(account).collect()
}

pub fn set_active(
    conn: &mut PgConnection,
    id: StaffId,
    active: bool,
) -> Result<StaffAccount, AppError> {
    // Either way the account's old tokens die: a token from before a deactivation must not
    // come back to life with the reactivation (#15 Low).
    let row: Row = diesel::update(staff::table.find(id))
        .set((
            staff::active.eq(active),
            staff::token_version.eq(staff::token_version + 1),
        ))
        .returning(columns())
        .get_result(conn)?;
    account(&row)
}

/// Active staff with a password, e.g. for the overdue mails.
pub fn active_emails(conn: &mut PgConnection) -> Result<Vec<(StaffId, String, String)>, AppError> {
    Ok(staff::table
        .filter(staff::active.eq(true))
        .filter(staff::password_hash.is_not_null())
        .select((staff::id, staff::email, staff::role))
        .load(conn)?)
}
