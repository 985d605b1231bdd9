//! One catalog across provinces (#17.5): which provinces offer a procedure, and "where can I
//! file this": per province, the units that decide it.
//!
//! Cost: which provinces offer a procedure comes from each province's cached site data
//! (`tenancy::site_cache`, forgotten on a change by its notification): no query per request
//! once warm. The units come from the same cache, loaded the first time a "where" page needs a
//! province; a cold read is one transaction per offering province, at most
//! [`UNIT_READS_AT_ONCE`] at a time, so a cold page over 34 provinces (or 3,400) never takes
//! more than that many pool connections.

use std::sync::Arc;

use futures_util::StreamExt;
use serde::Serialize;

use super::App;
use crate::catalog::{self, Procedure};
use crate::error::AppError;
use crate::lang::Lang;
use crate::tenancy::Tenant;

/// How many provinces' units a cold "where" page reads side by side.
pub const UNIT_READS_AT_ONCE: usize = 4;

/// For each procedure, the active provinces whose switch for it is on, by slug order.
pub async fn offering(
    app: &App,
    procedures: &[&Procedure],
) -> Result<Vec<Vec<Arc<Tenant>>>, AppError> {
    let mut offered: Vec<Vec<Arc<Tenant>>> = vec![Vec::new(); procedures.len()];
    if procedures.is_empty() {
        return Ok(offered);
    }
    for t in app.registry.active() {
        let site = app
            .registry
            .sites()
            .get(&t.schema, &app.db.tenant(t.db_ref()))
            .await?;
        for (i, p) in procedures.iter().enumerate() {
            if site.enabled(&p.code) {
                offered[i].push(t.clone());
            }
        }
    }
    Ok(offered)
}

/// A unit that decides a procedure in a province.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DecidingUnit {
    pub code: String,
    pub name: String,
}

/// One province that offers a procedure, with the units that decide it there.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Offer {
    pub slug: String,
    pub name: String,
    /// Empty when the province decides it itself (no unit of the right kind declared).
    pub units: Vec<DecidingUnit>,
}

/// "Where can I file this": the provinces that offer the procedure and, in each, its units.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WhereToFile {
    pub code: String,
    pub name: String,
    pub provinces: Vec<Offer>,
}

/// The provinces (active, switch on) that offer `code` and the units deciding it in each; an
/// unknown code is 404. See the module's note on cost.
pub async fn where_to_file(app: &App, code: &str, lang: Lang) -> Result<WhereToFile, AppError> {
    let procedure = catalog::national().get(code).ok_or(AppError::NotFound)?;
    let provinces = offering(app, &[procedure]).await?.pop().unwrap_or_default();
    let reads = provinces.into_iter().map(|t| async move {
        let directory = app
            .registry
            .sites()
            .units(&t.schema, &app.db.tenant(t.db_ref()))
            .await?;
        let units = directory
            .deciding(procedure)
            .into_iter()
            .map(|u| DecidingUnit {
                code: u.code.to_string(),
                name: u.name.clone(),
            })
            .collect();
        Ok::<_, AppError>(Offer {
            slug: t.slug.clone(),
            name: t.name.clone(),
            units,
        })
    });
    // `buffered` keeps the provinces' order.
    let offers: Vec<Result<Offer, AppError>> = futures_util::stream::iter(reads)
        .buffered(UNIT_READS_AT_ONCE)
        .collect()
        .await;
    Ok(WhereToFile {
        code: procedure.code.clone(),
        name: procedure.name.get(lang).to_string(),
        provinces: offers.into_iter().collect::<Result<_, _>>()?,
    })
}
