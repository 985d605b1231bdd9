//! National citizen accounts (schema `identity`): one account for every province's site.

use diesel::prelude::*;
use serde::Serialize;

use super::Email;
use crate::db::schema::citizens;
use crate::error::AppError;
use crate::ids::CitizenId;
use crate::lang::Msg;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Citizen {
    #[schema(value_type = String, format = Uuid)]
    pub id: CitizenId,
    pub email: String,
    pub full_name: String,
}

/// Registration input, validated.
#[derive(Debug)]
pub struct NewCitizen {
    pub email: Email,
    pub full_name: String,
    pub password: String,
}

impl NewCitizen {
    pub fn parse(email: &str, password: &str, full_name: &str) -> Result<NewCitizen, AppError> {
        let mut errors = std::collections::BTreeMap::new();
        let email = Email::parse(email)
            .map_err(|m| errors.insert("email".into(), m))
            .ok();
        if let Err(m) = check_password(password, email.as_ref()) {
            errors.insert("password".into(), m);
        }
        let full_name = full_name.trim();
        let len = full_name.chars().count();
        if len == 0
            || len > 120
            || full_name.chars().any(char::is_control)
            || full_name.contains(['<', '>'])
        {
            errors.insert(
                "full_name".into(),
                Msg::new(
                    "Họ và tên có từ 1 đến 120 ký tự, không chứa ký tự đặc biệt < >.",
                    "A full name has 1 to 120 characters, without < or >.",
                ),
            );
        }
        match email {
            Some(email) if errors.is_empty() => Ok(NewCitizen {
                email,
                full_name: full_name.to_string(),
                password: password.to_string(),
            }),
            _ => Err(AppError::Invalid(errors)),
        }
    }
}

/// At least 10 characters, not a common password, not the email itself.
pub fn check_password(password: &str, email: Option<&Email>) -> Result<(), Msg> {
    if password.chars().count() < 10 {
        return Err(Msg::new(
            "Mật khẩu cần ít nhất 10 ký tự.",
            "A password needs at least 10 characters.",
        ));
    }
    if password.chars().count() > 200 {
        return Err(Msg::new(
            "Mật khẩu quá dài (tối đa 200 ký tự).",
            "The password is too long (200 characters at most).",
        ));
    }
    let lower = password.to_lowercase();
    let same_as_email =
        email.is_some_and(|e| lower == e.as_str() || e.as_str().starts_with(&format!("{lower}@")));
    if super::common_passwords::is_common(&lower) || same_as_email {
        return Err(Msg::new(
            "Mật khẩu này quá phổ biến, dễ bị đoán. Hãy chọn mật khẩu khác.",
            "This password is too common and easy to guess. Please choose another.",
        ));
    }
    Ok(())
}

pub fn register(
    conn: &mut PgConnection,
    new: &NewCitizen,
    hash: &str,
) -> Result<Citizen, AppError> {
    let inserted = diesel::insert_into(citizens::table)
        .values((
            citizens::id.eq(uuid::Uuid::new_v4()),
            citizens::email.eq(new.email.as_str()),
            citizens::full_name.eq(&new.full_name),
            citizens::password_hash.eq(hash),
        ))
        .on_conflict_do_nothing()
        .returning((citizens::id, citizens::email, citizens::full_name))
        .get_result::<(CitizenId, String, String)>(conn)
        .optional()?;
    let (id, email, full_name) = inserted.ok_or_else(|| {
        AppError::conflict(
            "email_taken",
            Msg::new(
                "Email này đã được đăng ký. Hãy đăng nhập hoặc dùng email khác.",
                "This email is already registered. Sign in or use another email.",
            ),
        )
    })?;
    Ok(Citizen {
        id,
        email,
        full_name,
    })
}

/// What a sign-in reads of an account before the connection goes back to the pool: the
/// password is verified afterwards, holding no connection (#15.3).
#[derive(Debug, Clone)]
pub struct Credentials {
    pub citizen: Citizen,
    pub password_hash: String,
    pub active: bool,
    pub token_version: i64,
}

/// The account with this address (normalized), active or not.
pub fn credentials(conn: &mut PgConnection, email: &str) -> Result<Option<Credentials>, AppError> {
    let email = email.trim().to_lowercase();
    let row: Option<(CitizenId, String, String, String, bool, i64)> = citizens::table
        .filter(citizens::email.eq(&email))
        .select((
            citizens::id,
            citizens::email,
            citizens::full_name,
            citizens::password_hash,
            citizens::active,
            citizens::token_version,
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(
        |(id, email, full_name, password_hash, active, token_version)| Credentials {
            citizen: Citizen {
                id,
                email,
                full_name,
            },
            password_hash,
            active,
            token_version,
        },
    ))
}

/// The active account `id` when its tokens of `version` still hold (one read by primary key
/// on every authenticated request: a sign-out, a new password or a deactivation elsewhere
/// counts at once, on every replica).
pub fn find_session(
    conn: &mut PgConnection,
    id: CitizenId,
    version: i64,
) -> Result<Option<Citizen>, AppError> {
    let row: Option<(CitizenId, String, String)> = citizens::table
        .find(id)
        .filter(citizens::active.eq(true))
        .filter(citizens::token_version.eq(version))
        .select((citizens::id, citizens::email, citizens::full_name))
        .first(conn)
        .optional()?;
    Ok(row.map(|(id, email, full_name)| Citizen {
        id,
        email,
        full_name,
    }))
}

/// Revokes every token issued to `id` so far (sign-out), when `version` is still current
/// (a stale token signs nobody out twice).
pub fn revoke_tokens(conn: &mut PgConnection, id: CitizenId, version: i64) -> Result<(), AppError> {
    diesel::update(
        citizens::table
            .find(id)
            .filter(citizens::token_version.eq(version)),
    )
    .set(citizens::token_version.eq(citizens::token_version + 1))
    .execute(conn)?;
    Ok(())
}

pub fn find_active(conn: &mut PgConnection, id: CitizenId) -> Result<Option<Citizen>, AppError> {
    let row: Option<(CitizenId, String, String)> = citizens::table
        .find(id)
        .filter(citizens::active.eq(true))
        .select((citizens::id, citizens::email, citizens::full_name))
        .first(conn)
        .optional()?;
    Ok(row.map(|(id, email, full_name)| Citizen {
        id,
        email,
        full_name,
    }))
}

/// Creates the account or resets its name and password (demo and support tooling).
pub fn upsert(
    conn: &mut PgConnection,
    email: &Email,
    full_name: &str,
    hash: &str,
) -> Result<Citizen, AppError> {
    let (id, email, full_name) = diesel::insert_into(citizens::table)
        .values((
            citizens::id.eq(uuid::Uuid::new_v4()),
            citizens::email.eq(email.as_str()),
            citizens::full_name.eq(full_name),
            citizens::password_hash.eq(hash),
        ))
        .on_conflict(citizens::email)
        .do_update()
        .set((
            citizens::full_name.eq(full_name),
            citizens::password_hash.eq(hash),
            citizens::active.eq(true),
            // A new password revokes the tokens issued with the old one.
            citizens::token_version.eq(citizens::token_version + 1),
        ))
        .returning((citizens::id, citizens::email, citizens::full_name))
        .get_result::<(CitizenId, String, String)>(conn)?;
    Ok(Citizen {
        id,
        email,
        full_name,
    })
}
