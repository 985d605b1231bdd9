//! Server-level chores: is PostgreSQL there, does our database exist (`portal up`), and a
//! scratch database for previews.

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

/// A database of its own for a preview (`portal reorganise PLAN --dry-run --on-export`):
/// created on the server of the live database under a fresh name, dropped when this value is
/// dropped, with the roles its provinces made (roles are cluster-wide; every one of them was
/// made for this database under a fresh name). The live database is never touched.
#[derive(Debug)]
pub struct Scratch {
    pub name: String,
    pub url: String,
    maintenance: String,
}

impl Scratch {
    pub fn create(live_url: &str) -> Result<Scratch, AdminError> {
        let (prefix, _, query) = split_url(live_url).ok_or(AdminError::BadUrl)?;
        let name = format!("portal_preview_{}", uuid::Uuid::new_v4().simple());
        let maintenance = format!("{prefix}postgres{query}");
        let mut conn = PgConnection::establish(&maintenance)
            .map_err(|e| AdminError::Unreachable(e.to_string().trim().to_string()))?;
        sql_query(format!("CREATE DATABASE {}", quote_ident(&name)))
            .execute(&mut conn)
            .map_err(|e| AdminError::Create(e.to_string()))?;
        Ok(Scratch {
            url: format!("{prefix}{name}{query}"),
            name,
            maintenance,
        })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        #[derive(QueryableByName)]
        struct Role {
            #[diesel(sql_type = Text)]
            role_name: String,
        }
        let roles: Vec<Role> = PgConnection::establish(&self.url)
            .ok()
            .and_then(|mut c| {
                sql_query("SELECT role_name FROM public.tenants")
                    .load(&mut c)
                    .ok()
            })
            .unwrap_or_default();
        let Ok(mut conn) = PgConnection::establish(&self.maintenance) else {
            eprintln!(
                "warning: cannot reach PostgreSQL to drop the scratch database {}",
                self.name
            );
            return;
        };
        let dropped = sql_query(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            quote_ident(&self.name)
        ))
        .execute(&mut conn);
        if let Err(e) = dropped {
            eprintln!("warning: the scratch database {} is left: {e}", self.name);
            return;
        }
        for r in roles {
            if let Err(e) = sql_query(format!("DROP ROLE IF EXISTS {}", quote_ident(&r.role_name)))
                .execute(&mut conn)
            {
                eprintln!(
                    "warning: role {} of the scratch database is left: {e}",
                    r.role_name
                );
            }
        }
    }
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
