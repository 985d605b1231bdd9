//! Units of a province, for everyone who reads them: the public list (API and forms), the
//! staff's filters, the admin's staff form.

use crate::db::TenantDb;
use crate::error::AppError;
use crate::units::{Unit, store};

/// Every unit in force of the province: its centre, branches and departments, then its
/// communes, wards and special zones by name.
pub async fn list(db: &TenantDb) -> Result<Vec<Unit>, AppError> {
    db.run(|conn| store::list(conn, false)).await
}
