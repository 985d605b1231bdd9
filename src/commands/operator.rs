//! `portal operator create`.

use std::io::Read;

use super::{Failure, Outcome, cli_actor};
use crate::accounts::operators::{self, OperatorRole};
use crate::accounts::{Email, password};
use crate::audit;
use crate::config::Settings;
use crate::db::Db;

/// Reads a password from standard input (first line, without its newline).
pub fn read_password_stdin() -> Result<String, Failure> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| Failure::new(1, format!("cannot read the password from stdin: {e}")))?;
    let pw = input.lines().next().unwrap_or("").to_string();
    check_password(&pw)?;
    Ok(pw)
}

pub fn check_password(pw: &str) -> Result<(), Failure> {
    if pw.chars().count() < 10 {
        return Err(Failure::new(
            2,
            "password: at least 10 characters are required",
        ));
    }
    Ok(())
}

pub fn create(
    settings: &Settings,
    email: &str,
    role: &str,
    name: Option<&str>,
    pw: &str,
) -> Outcome {
    let email = Email::parse(email).map_err(|m| Failure::new(2, format!("--email: {}", m.en)))?;
    let role =
        OperatorRole::parse(role).map_err(|m| Failure::new(2, format!("--role: {}", m.en)))?;
    let name = name.unwrap_or(email.as_str()).trim().to_string();
    let hash = password::hash(pw)?;
    let db = Db::new(&settings.database);
    let account = db.control(|conn| {
        let account = operators::upsert(conn, &email, &name, role, &hash)?;
        audit::record(
            conn,
            &cli_actor(),
            crate::audit::Action::OperatorCreate,
            email.as_str(),
            serde_json::json!({ "role": role.as_str() }),
        )?;
        Ok(account)
    })?;
    println!(
        "operator {} ({}) ready",
        account.email,
        account.role.as_str()
    );
    Ok(())
}
