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
    /// None for an account made by national sign-in when the provider gave no address.
    pub email: Option<String>,
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
        .get_result::<(CitizenId, Option<String>, String)>(conn)
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
    /// None for an account made by national sign-in: password sign-in refuses it.
    pub password_hash: Option<String>,
    pub active: bool,
    pub token_version: i64,
}

/// The account with this address (normalized), active or not.
pub fn credentials(conn: &mut PgConnection, email: &str) -> Result<Option<Credentials>, AppError> {
    let email = email.trim().to_lowercase();
    type Row = (CitizenId, Option<String>, String, Option<String>, bool, i64);
    let row: Option<Row> = citizens::table
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
    let row: Option<(CitizenId, Option<String>, String)> = citizens::table
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

/// [`find_session`] as the first statement of a province's transaction
/// (`TenantDb::tx_entered_by`): the same read, as the login role, with the select list that
/// then enters the province, in one round trip. `None` when the token no longer holds.
pub fn find_session_entering(
    conn: &mut PgConnection,
    id: CitizenId,
    version: i64,
    entry: &crate::db::Entry,
) -> Result<Option<(Citizen, crate::db::Entered)>, AppError> {
    use diesel::sql_types::{BigInt, Nullable, Text, Uuid};
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Uuid)]
        id: uuid::Uuid,
        #[diesel(sql_type = Nullable<Text>)]
        email: Option<String>,
        #[diesel(sql_type = Text)]
        full_name: String,
        #[diesel(embed)]
        entered: crate::db::Entered,
    }
    let row: Option<Row> = diesel::sql_query(format!(
        "SELECT c.id, c.email, c.full_name, {} FROM identity.citizens c \
         WHERE c.id = $1 AND c.active AND c.token_version = $2",
        entry.columns()
    ))
    .bind::<Uuid, _>(id.0)
    .bind::<BigInt, _>(version)
    .get_result(conn)
    .optional()?;
    Ok(row.map(|r| {
        let citizen = Citizen {
            id: CitizenId(r.id),
            email: r.email,
            full_name: r.full_name,
        };
        (citizen, r.entered)
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
    let row: Option<(CitizenId, Option<String>, String)> = citizens::table
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
        .get_result::<(CitizenId, Option<String>, String)>(conn)?;
    Ok(Citizen {
        id,
        email,
        full_name,
    })
}

/// What a national identity provider vouches for, validated (see `accounts::national`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NationalIdentity {
    /// The 12-digit citizen ID (căn cước).
    pub citizen_id: String,
    pub full_name: String,
    pub birth_date: Option<chrono::NaiveDate>,
    /// The address the provider gives, if any (lower-cased, checked).
    pub email: Option<Email>,
}

/// A session's account as national sign-in finds it.
#[derive(Debug, Clone)]
pub struct Linked {
    pub citizen: Citizen,
    pub active: bool,
    pub token_version: i64,
}

/// The account linked to `citizen_id`, active or not.
pub fn find_by_citizen_id(
    conn: &mut PgConnection,
    citizen_id: &str,
) -> Result<Option<Linked>, AppError> {
    let row: Option<(CitizenId, Option<String>, String, bool, i64)> = citizens::table
        .filter(citizens::citizen_id.eq(citizen_id))
        .select((
            citizens::id,
            citizens::email,
            citizens::full_name,
            citizens::active,
            citizens::token_version,
        ))
        .first(conn)
        .optional()?;
    Ok(
        row.map(|(id, email, full_name, active, token_version)| Linked {
            citizen: Citizen {
                id,
                email,
                full_name,
            },
            active,
            token_version,
        }),
    )
}

/// 409 `identity_conflict`: an account made with a password already uses the address the
/// provider gives. Never merged silently: the page says what to do.
pub fn identity_conflict() -> AppError {
    AppError::conflict(
        "identity_conflict",
        Msg::new(
            "Email mà tài khoản định danh điện tử của bạn cung cấp đã thuộc về một tài khoản đăng ký bằng mật khẩu. \
             Để tránh gộp nhầm hai tài khoản, chúng tôi không tự động liên kết. Hãy đăng nhập bằng mật khẩu, \
             hoặc liên hệ bộ phận hỗ trợ để liên kết tài khoản sau khi xác minh.",
            "The email your national identity gives already belongs to an account registered with a password. \
             To never merge two accounts by mistake, we do not link them automatically. Sign in with the password, \
             or contact support to link the accounts once verified.",
        ),
    )
}

/// Creates the account of a national identity seen for the first time (no password). Refused
/// (409 `identity_conflict`) when another account already has the provider's address; a
/// concurrent first sign-in with the same citizen ID finds the account the other one made.
pub fn create_national(
    conn: &mut PgConnection,
    who: &NationalIdentity,
) -> Result<Linked, AppError> {
    if let Some(email) = &who.email {
        let taken: bool = diesel::select(diesel::dsl::exists(
            citizens::table.filter(citizens::email.eq(email.as_str())),
        ))
        .get_result(conn)?;
        if taken {
            return Err(identity_conflict());
        }
    }
    let inserted = diesel::insert_into(citizens::table)
        .values((
            citizens::id.eq(uuid::Uuid::new_v4()),
            citizens::email.eq(who.email.as_ref().map(Email::as_str)),
            citizens::full_name.eq(&who.full_name),
            citizens::citizen_id.eq(&who.citizen_id),
            citizens::birth_date.eq(who.birth_date),
        ))
        .on_conflict_do_nothing()
        .returning((citizens::id, citizens::email, citizens::full_name))
        .get_result::<(CitizenId, Option<String>, String)>(conn)
        .optional()?;
    match inserted {
        Some((id, email, full_name)) => Ok(Linked {
            citizen: Citizen {
                id,
                email,
                full_name,
            },
            active: true,
            token_version: 0,
        }),
        None => find_by_citizen_id(conn, &who.citizen_id)?.ok_or_else(identity_conflict),
    }
}
