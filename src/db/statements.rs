//! Migrations run one statement at a time. diesel's embedded migrations send a whole `up.sql`
//! as one multi-command string; on a Citus coordinator, DDL on a distributed schema is then
//! forwarded to the worker with that whole string, which the worker refuses ("cannot insert
//! multiple commands into a prepared statement"). The statements still run inside diesel's
//! per-migration transaction (and the caller's), so a migration stays all or nothing.

use std::path::Path;

use diesel::backend::Backend;
use diesel::migration::{
    Migration, MigrationMetadata, MigrationName, MigrationSource, MigrationVersion,
};
use diesel::pg::Pg;

/// A set of migrations: (folder name, `up.sql`), in version order.
#[derive(Debug, Clone, Copy)]
pub struct SqlMigrations {
    list: &'static [(&'static str, &'static str)],
}

impl SqlMigrations {
    pub const fn new(list: &'static [(&'static str, &'static str)]) -> SqlMigrations {
        SqlMigrations { list }
    }

    /// The migrations of a folder laid out as diesel's (`<version>_<name>/up.sql`); for tests
    /// and one-off sets. The texts live as long as the process (a handful of files).
    pub fn from_dir(dir: &Path) -> std::io::Result<SqlMigrations> {
        let mut list = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let up = entry.path().join("up.sql");
            if name.starts_with('.') || !up.is_file() {
                continue;
            }
            let sql = std::fs::read_to_string(up)?;
            list.push((
                &*Box::leak(name.into_boxed_str()),
                &*Box::leak(sql.into_boxed_str()),
            ));
        }
        list.sort();
        Ok(SqlMigrations {
            list: Box::leak(list.into_boxed_slice()),
        })
    }
}

impl MigrationSource<Pg> for SqlMigrations {
    fn migrations(&self) -> diesel::migration::Result<Vec<Box<dyn Migration<Pg>>>> {
        Ok(self
            .list
            .iter()
            .map(|(name, up)| {
                Box::new(SqlMigration {
                    name: Name(name),
                    up,
                }) as _
            })
            .collect())
    }
}

struct Name(&'static str);

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl MigrationName for Name {
    /// As diesel names it: the folder's prefix before `_`, without dashes.
    fn version(&self) -> MigrationVersion<'_> {
        MigrationVersion::from(self.0.split('_').next().unwrap_or("").replace('-', ""))
    }
}

struct InTransaction;
impl MigrationMetadata for InTransaction {}

struct SqlMigration {
    name: Name,
    up: &'static str,
}

impl<DB: Backend> Migration<DB> for SqlMigration {
    fn run(
        &self,
        conn: &mut dyn diesel::connection::BoxableConnection<DB>,
    ) -> diesel::migration::Result<()> {
        for statement in split(self.up) {
            conn.batch_execute(statement)
                .map_err(|e| format!("{}: {e}\n  in: {}", self.name, first_line(statement)))?;
        }
        Ok(())
    }

    fn revert(
        &self,
        _conn: &mut dyn diesel::connection::BoxableConnection<DB>,
    ) -> diesel::migration::Result<()> {
        Err("migrations roll forward only (migrations/README.md)".into())
    }

    fn metadata(&self) -> &dyn MigrationMetadata {
        &InTransaction
    }

    fn name(&self) -> &dyn MigrationName {
        &self.name
    }
}

fn first_line(statement: &str) -> &str {
    statement.trim().lines().next().unwrap_or("")
}

/// Splits SQL into its statements at top-level semicolons: not inside quotes ('…', "…"),
/// dollar quotes ($$…$$, $tag$…$tag$) or comments. Statements that hold only comments and
/// space are dropped.
pub fn split(sql: &str) -> Vec<&str> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let (mut start, mut i) = (0, 0);
    let mut code = false; // anything but space and comments since `start`
    while i < bytes.len() {
        match bytes[i] {
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = sql[i..].find('\n').map_or(bytes.len(), |n| i + n + 1);
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = sql[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |n| i + 2 + n + 2);
                continue;
            }
            q @ (b'\'' | b'"') => {
                code = true;
                i += 1;
                while i < bytes.len() {
                    if bytes[i] == q {
                        // A doubled quote is an escaped one.
                        if bytes.get(i + 1) == Some(&q) {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
                continue;
            }
            b'$' => {
                code = true;
                if let Some(tag_len) = dollar_tag(&sql[i..]) {
                    let tag = &sql[i..i + tag_len];
                    let body = i + tag_len;
                    i = sql[body..]
                        .find(tag)
                        .map_or(bytes.len(), |n| body + n + tag_len);
                    continue;
                }
            }
            b';' => {
                if code {
                    out.push(&sql[start..=i]);
                }
                start = i + 1;
                code = false;
            }
            c if !c.is_ascii_whitespace() => code = true,
            _ => {}
        }
        i += 1;
    }
    if code {
        out.push(&sql[start..]);
    }
    out
}

/// The length of a dollar-quote opener (`$$` or `$tag$`) at the start of `s`, if it is one.
fn dollar_tag(s: &str) -> Option<usize> {
    let rest = &s[1..];
    let end = rest.find('$')?;
    let tag = &rest[..end];
    let ok = tag
        .chars()
        .enumerate()
        .all(|(k, c)| c == '_' || c.is_alphabetic() || (k > 0 && c.is_ascii_digit()));
    ok.then_some(end + 2)
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn splits_at_top_level_semicolons_only() {
        let sql = "-- a comment; not a statement\nCREATE TABLE a (x text DEFAULT 'a;b''c');\n\
                   /* b; */ CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  \
                   RAISE EXCEPTION 'no;'; RETURN NULL;\nEND $$;\n\
                   CREATE FUNCTION g() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;\n\
                   COMMENT ON TABLE \"we;ird\" IS 'x';\n-- trailing comment\n";
        let parts: Vec<String> = split(sql).iter().map(|s| s.trim().to_string()).collect();
        assert_eq!(parts.len(), 4, "{parts:#?}");
        assert!(parts[0].ends_with("DEFAULT 'a;b''c');"), "{}", parts[0]);
        assert!(parts[1].contains("RAISE EXCEPTION 'no;'") && parts[1].ends_with("END $$;"));
        assert!(parts[2].starts_with("CREATE FUNCTION g()") && parts[2].contains("SELECT 1;"));
        assert!(parts[3].starts_with("COMMENT ON TABLE \"we;ird\""));
    }

    #[test]
    fn a_last_statement_without_semicolon_is_kept() {
        assert_eq!(split("SELECT 1; SELECT 2"), vec!["SELECT 1;", " SELECT 2"]);
        assert!(split("  -- nothing\n ; ").is_empty());
    }

    #[test]
    fn every_embedded_migration_splits_into_whole_statements() {
        // Each piece must parse on its own: no piece ends inside a quote or a body.
        for (name, sql) in super::super::migrate::TENANT_SQL
            .iter()
            .chain(super::super::migrate::PUBLIC_SQL)
        {
            let parts = split(sql);
            assert!(!parts.is_empty(), "{name}");
            for p in parts {
                assert_eq!(p.matches("$$").count() % 2, 0, "{name}: {p}");
            }
        }
    }
}
