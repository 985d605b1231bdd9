//! The national front door (#17): one search over provinces and procedures, one "my dossiers"
//! across provinces, tracking by code for any province.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::App;
use crate::catalog;
use crate::dossiers::store;
use crate::error::AppError;
use crate::frontdoor::{holdings, names::Names};
use crate::ids::CitizenId;
use crate::lang::Lang;
use crate::tenancy::Tenant;

/// A province found by a search.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FoundProvince {
    pub slug: String,
    pub name: String,
    /// The names of the provinces merged into it in 2025 (empty for most).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub former_names: Vec<String>,
}

/// A procedure found by a search, with the provinces that offer it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FoundProcedure {
    pub code: String,
    pub name: String,
    /// Slugs of the provinces that offer it.
    pub provinces: Vec<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SearchResult {
    pub provinces: Vec<FoundProvince>,
    pub procedures: Vec<FoundProcedure>,
}

/// The most procedures one search lists.
const MAX_PROCEDURES: usize = 30;

fn names_of(t: &Tenant) -> Names {
    Names::of(&t.name, &t.slug, t.province_code.as_deref()).with_former(&t.former_names)
}

/// The active provinces a query names: part of the current name (as typed, "quang" finds
/// every Quảng), or a whole current, former or common name (`frontdoor::names`). An empty
/// query names none.
pub fn provinces_matching(app: &App, query: &str) -> Vec<std::sync::Arc<Tenant>> {
    let folded = catalog::fold_vietnamese(query);
    let words: Vec<&str> = folded.split_whitespace().collect();
    if words.is_empty() {
        return Vec::new();
    }
    app.registry
        .active()
        .into_iter()
        .filter(|t| {
            let name =
                catalog::fold_vietnamese(&format!("{} {}", t.name, t.slug.replace('-', " ")));
            words.iter().all(|w| name.contains(w)) || names_of(t).matches(query)
        })
        .collect()
}

/// Searches the provinces (current, former and common names) and the procedures (code or
/// name, with or without diacritics) of every active province. A procedure lists the
/// provinces whose switch for it is on (from each province's cached site data).
pub async fn search(app: &App, query: &str, lang: Lang) -> Result<SearchResult, AppError> {
    let query: String = query.chars().take(200).collect();
    let provinces: Vec<FoundProvince> = provinces_matching(app, &query)
        .into_iter()
        .map(|t| FoundProvince {
            former_names: names_of(&t).former,
            slug: t.slug.clone(),
            name: t.name.clone(),
        })
        .collect();
    let mut procedures = Vec::new();
    if !query.trim().is_empty() {
        let found: Vec<&catalog::Procedure> = catalog::national()
            .search(&query, lang)
            .into_iter()
            .take(MAX_PROCEDURES)
            .collect();
        let offered = super::national_catalog::offering(app, &found).await?;
        procedures = found
            .into_iter()
            .zip(offered)
            .map(|(p, provinces)| FoundProcedure {
                code: p.code.clone(),
                name: p.name.get(lang).to_string(),
                provinces: provinces.iter().map(|t| t.slug.clone()).collect(),
            })
            .collect();
    }
    Ok(SearchResult {
        provinces,
        procedures,
    })
}

/// One line of the national "my dossiers".
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NationalDossier {
    pub tracking_code: String,
    /// The province's slug.
    pub province: String,
    pub province_name: String,
    /// The unit that decides it (null: the province itself).
    pub unit: Option<String>,
    /// That unit's name, for pages (no raw codes on a page).
    pub unit_name: Option<String>,
    pub procedure_code: String,
    pub procedure_name: String,
    pub status: String,
    pub submitted_at: DateTime<Utc>,
    pub due_on: Option<NaiveDate>,
}

/// The account's dossiers in every province, newest first, and how many provinces were asked.
#[derive(Debug)]
pub struct MyDossiers {
    pub dossiers: Vec<NationalDossier>,
    pub provinces_queried: usize,
}

/// Every dossier of the national account, newest first: one query per province that holds
/// any of them (the control plane's `citizen_provinces`), run side by side.
pub async fn my_dossiers(
    app: &App,
    citizen: CitizenId,
    lang: Lang,
) -> Result<MyDossiers, AppError> {
    let holders = app
        .db
        .control_async(move |conn| holdings::of(conn, citizen))
        .await?;
    dossiers_held(app, citizen, holders, lang).await
}

/// [`my_dossiers`] for a citizen's verified token whose account is not read yet (the API):
/// the account check (active, token of the current version, as every citizen request makes
/// it) and the provinces that hold its dossiers are read in one statement, where the extractor
/// and the action took a transaction each. A token that no longer holds gets 401.
pub async fn my_dossiers_by_token(
    app: &App,
    session: super::citizen::CitizenSession,
    lang: Lang,
) -> Result<MyDossiers, AppError> {
    let holders = app
        .db
        .control_async(move |conn| holdings::of_session(conn, session.id, session.version))
        .await?
        .ok_or_else(AppError::unauthorized)?;
    dossiers_held(app, session.id, holders, lang).await
}

/// The account's dossiers in the provinces `holders` names, each asked in its own
/// transaction, side by side.
async fn dossiers_held(
    app: &App,
    citizen: CitizenId,
    holders: Vec<crate::ids::TenantId>,
    lang: Lang,
) -> Result<MyDossiers, AppError> {
    let tenants: Vec<std::sync::Arc<Tenant>> = holders
        .into_iter()
        .filter_map(|id| app.registry.get(id))
        .collect();
    let reads = tenants.iter().map(|t| {
        let door = app.db.tenant(t.db_ref());
        let t = t.clone();
        async move {
            // Units' names from the site cache (a query per province per request was a fifth
            // of this endpoint's round trips); only a unit the cache does not know yet (added
            // since it was loaded) is read from the store.
            let directory = app.registry.sites().units(&t.schema, &door).await?;
            let (rows, unit_names) = door
                .run(move |conn| {
                    let rows = store::list_for_citizen(conn, citizen)?;
                    let mut names = std::collections::HashMap::new();
                    let mut unknown = Vec::new();
                    for code in rows.iter().filter_map(|d| d.competent_unit.as_deref()) {
                        match directory.find(code) {
                            Some(unit) => {
                                names.insert(code.to_string(), unit.name.clone());
                            }
                            None => unknown.push(code),
                        }
                    }
                    names.extend(crate::units::store::names(conn, &unknown)?);
                    Ok((rows, names))
                })
                .await?;
            Ok::<_, AppError>((t, rows, unit_names))
        }
    });
    let results = futures_util::future::join_all(reads).await;
    let provinces_queried = results.len();
    let mut dossiers = Vec::new();
    for result in results {
        let (t, rows, unit_names) = result?;
        dossiers.extend(rows.into_iter().map(|d| {
            NationalDossier {
                unit_name: d
                    .competent_unit
                    .as_ref()
                    .and_then(|c| unit_names.get(c))
                    .cloned(),
                procedure_name: crate::dossiers::view::procedure_name(&d.procedure_code, lang),
                tracking_code: d.tracking_code,
                province: t.slug.clone(),
                province_name: t.name.clone(),
                unit: d.competent_unit,
                procedure_code: d.procedure_code,
                status: d.status.as_str().to_string(),
                submitted_at: d.submitted_at,
                due_on: d.due_on,
            }
        }));
    }
    dossiers.sort_by_key(|d| std::cmp::Reverse(d.submitted_at));
    Ok(MyDossiers {
        dossiers,
        provinces_queried,
    })
}

/// The province a tracking code belongs to, by its prefix (`HNI-2612-…` → the province whose
/// code is HNI), among every province (a suspended one's dossiers can still be tracked).
pub fn province_of_code(app: &App, code: &str) -> Option<std::sync::Arc<Tenant>> {
    let prefix = code.split('-').next().filter(|p| !p.is_empty())?;
    // A merged province keeps its prefix: its dossiers (codes unchanged) are the successor's.
    let owner = app.registry.all().into_iter().find(|t| t.code == prefix)?;
    app.registry.serving(&owner)
}

/// Tracking on the national host: the province's own lookup (same limits, same answer
/// floor), found by the code's prefix, else by where the dossier was moved; an unknown code
/// answers 404 after the same floor.
pub async fn track(
    app: &App,
    lookup: super::citizen::TrackingLookup,
) -> Result<crate::dossiers::view::TrackingView, AppError> {
    let province = match province_of_code(app, &lookup.code) {
        Some(t) => Some(t),
        // A dossier moved with its unit (#18) to a province imported here without the one
        // its prefix names: the holder recorded with the import answers.
        None => {
            let code = lookup.code.clone();
            app.db
                .control_async(move |conn| crate::reorg::moves::holder(conn, &code))
                .await?
                .and_then(|id| app.registry.get(crate::tenancy::TenantId(id)))
                .and_then(|t| app.registry.serving(&t))
        }
    };
    match province {
        Some(t) => super::citizen::track(app, &app.db.tenant(t.db_ref()), lookup).await,
        None => {
            let floor = std::time::Duration::from_millis(app.settings.tracking.answer_floor_ms);
            tokio::time::sleep(floor).await;
            Err(AppError::NotFound)
        }
    }
}
