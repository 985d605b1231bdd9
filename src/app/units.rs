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

/// [`list`] with each unit's former names, only the units whose name or a former name holds
/// `query` (ignoring case and diacritics) when one is given: a commune renamed or merged by
/// a reorganisation is still found by its old name.
pub async fn search(
    db: &TenantDb,
    query: Option<String>,
) -> Result<Vec<(Unit, Vec<String>)>, AppError> {
    let (list, mut former) = db
        .run(|conn| Ok((store::list(conn, false)?, store::former_names(conn)?)))
        .await?;
    let needle = query
        .map(|q| crate::catalog::fold_vietnamese(q.trim()))
        .filter(|q| !q.is_empty());
    Ok(list
        .into_iter()
        .map(|u| {
            let names = former.remove(u.code.as_str()).unwrap_or_default();
            (u, names)
        })
        .filter(|(u, names)| match &needle {
            None => true,
            Some(q) => std::iter::once(&u.name)
                .chain(names)
                .any(|n| crate::catalog::fold_vietnamese(n).contains(q.as_str())),
        })
        .collect())
}
