//! Server-level chores for `portal up`: is PostgreSQL there, and does our database exist.

use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::Text;

use super::quote_ident;

/// Splits `postgres://u@h:5432/name?x=y` into (`postgres://u@h:5432/`, `name`, `?x=y`).
pub fn split_url(url: &str) -> Option<(&str, &str, &str)> {
    let after_scheme = url.find("://")? + 3;
    let slash = after_scheme + url[after_scheme..].find('/')?;
    let (prefix, rest) = url.split_at(slash + 1);
    let (name, query) = match rest.find('?') {
        Some(q) => rest.split_at(q),
        None => (rest, ""),
    };
    Some((prefix, name, query))
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("PostgreSQL is not reachable: {0}")]
    Unreachable(String),
    #[error(
        "the database URL must name a database, e.g. postgres://postgres@127.0.0.1:5432/portal"
    )]
    BadUrl,
    #[error("database name {0:?} must be letters, digits, _ or -")]
    BadName(String),
    #[error("cannot create the database: {0}")]
    Create(String),
}

/// Creates the database named by `url` if it does not exist. Returns true when created. On a
/// Citus coordinator (`citus`), the workers get it too (Citus propagates it when asked).
pub fn ensure_database(url: &str, citus: bool) -> Result<bool, AdminError> {
    let (prefix, name, query) = split_url(url).ok_or(AdminError::BadUrl)?;
    if name.is_empty() {
        return Err(AdminError::BadUrl);
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(AdminError::BadName(name.to_string()));
    }
    let maintenance = format!("{prefix}postgres{query}");
    let mut conn = PgConnection::establish(&maintenance)
        .map_err(|e| AdminError::Unreachable(e.to_string().trim().to_string()))?;
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::Int4)]
        #[allow(dead_code)]
        one: i32,
    }
    let exists = sql_query("SELECT 1 AS one FROM pg_database WHERE datname = $1")
        .bind::<Text, _>(name)
        .get_result::<Found>(&mut conn)
        .optional()
        .map_err(|e| AdminError::Create(e.to_string()))?
        .is_some();
    if exists {
        return Ok(false);
    }
    if citus {
        sql_query("SET citus.enable_create_database_propagation TO on")
            .execute(&mut conn)
            .map_err(|e| AdminError::Create(e.to_string()))?;
    }
    sql_query(format!("CREATE DATABASE {}", quote_ident(name)))
        .execute(&mut conn)
        .map_err(|e| AdminError::Create(e.to_string()))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::split_url;

    #[test]
    fn splits_database_urls() {
        assert_eq!(
            split_url("postgres://postgres@127.0.0.1:5432/portal"),
            Some(("postgres://postgres@127.0.0.1:5432/", "portal", ""))
        );
        assert_eq!(
            split_url("postgresql://u:p@h/db?sslmode=disable"),
            Some(("postgresql://u:p@h/", "db", "?sslmode=disable"))
        );
        assert_eq!(split_url("postgres://h"), None);
    }
}
