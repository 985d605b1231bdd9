//! Operators signing in (the console's form and the API's token alike).

use super::App;
use crate::accounts::operators::OperatorAccount;
use crate::error::AppError;

/// Checks an operator's credentials under one lockout (same key on the console and the API,
/// so neither is a way round the other): `None` for wrong credentials, which count as a
/// failure; 429 while locked out. With the account, its token version (see `app::auth`).
pub async fn sign_in(
    app: &App,
    email: &str,
    password: &str,
) -> Result<Option<(OperatorAccount, i64)>, AppError> {
    super::auth::operator_sign_in(app, email, password).await
}
