//! Operators signing in (the console's form and the API's token alike) and their sessions.

use super::App;
use crate::accounts::operators::{self, OperatorAccount};
use crate::accounts::throttle;
use crate::error::AppError;

/// Checks an operator's credentials under one lockout (same key on the console and the API,
/// so neither is a way round the other): `None` for wrong credentials, which count as a
/// failure; 429 while locked out.
pub async fn sign_in(
    app: &App,
    email: &str,
    password: &str,
) -> Result<Option<OperatorAccount>, AppError> {
    let (email, password) = (email.to_string(), password.to_string());
    app.db
        .control_async(move |conn| {
            let key = operators::sign_in_key(&email);
            throttle::check(conn, &key)?;
            let found = operators::authenticate(conn, &email, &password)?;
            if found.is_none() {
                throttle::record_failure(conn, &key)?;
            }
            Ok(found)
        })
        .await
}

/// The active operator account `id` (a session's subject), if any.
pub async fn find_active(app: &App, id: uuid::Uuid) -> Result<Option<OperatorAccount>, AppError> {
    app.db
        .control_async(move |conn| operators::find_active(conn, id))
        .await
}
