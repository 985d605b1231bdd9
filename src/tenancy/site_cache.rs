//! What every page of a province reads and almost never changes (its branding and the
//! procedures it switched off), kept in memory per province; and, loaded only when the
//! national "where can I file this" page first asks, its units and which unit decides what.
//!
//! Freshness: a tenant-schema trigger sends `NOTIFY portal_site, '<schema>'` on every change
//! to `branding`, `logo`, `procedure_settings`, `units` or `procedure_units`; the registry's
//! listener forgets that province's entries on
//! every replica (within its 100 ms poll). The replica that made the change forgets it at once
//! ([`SiteCache::forget`]), and every entry is dropped after [`MAX_AGE`] in case a
//! notification was lost while the listener reconnected.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use super::branding::{self, Branding};
use crate::catalog::Procedure;
use crate::db::TenantDb;
use crate::units::{Unit, UnitCode, routing, store};

use crate::error::AppError;

/// About how long an entry is trusted without a notification. Each entry gets 80–120% of it,
/// drawn when it is loaded: thousands of provinces loaded in the same minute (a replica's
/// start) must not all expire, and be read again, in the same second.
pub const MAX_AGE: Duration = Duration::from_secs(300);

fn jittered_max_age(schema: &str) -> Duration {
    use std::hash::BuildHasher;
    // A fresh RandomState has fresh keys: a cheap draw, no random-number crate needed.
    let draw = std::collections::hash_map::RandomState::new().hash_one(schema) % 401;
    MAX_AGE.mul_f64(0.8 + draw as f64 / 1000.0)
}

/// A province's cached site data.
#[derive(Debug)]
pub struct SiteData {
    pub branding: Branding,
    /// Codes of the procedures the province switched off.
    pub disabled: Vec<String>,
    loaded_at: Instant,
    max_age: Duration,
}

impl SiteData {
    pub fn enabled(&self, code: &str) -> bool {
        !self.disabled.iter().any(|d| d == code)
    }
}

/// A province's units and its procedure mapping, for the national catalog, filing and the
/// staff's pages.
#[derive(Debug)]
pub struct UnitDirectory {
    /// The units in force, in the store's order (centre, branches, departments, then
    /// communes by name).
    pub units: Vec<Unit>,
    /// The retired ones, in the same order: old dossiers still name them.
    pub retired: Vec<Unit>,
    /// The unit the province chose for each procedure decided above the commune.
    pub mapped: HashMap<String, UnitCode>,
    /// Each unit's place in `units`, by code.
    by_code: HashMap<String, usize>,
    loaded_at: Instant,
    max_age: Duration,
}

impl Default for UnitDirectory {
    /// No units: the desk of a page that shows none.
    fn default() -> UnitDirectory {
        UnitDirectory {
            units: Vec::new(),
            retired: Vec::new(),
            mapped: HashMap::new(),
            by_code: HashMap::new(),
            loaded_at: Instant::now(),
            max_age: Duration::ZERO,
        }
    }
}

impl UnitDirectory {
    /// Every unit, in force first, then retired (each in the store's order).
    pub fn all(&self) -> impl Iterator<Item = &Unit> {
        self.units.iter().chain(&self.retired)
    }

    /// The unit with `code`, in force or retired.
    pub fn find(&self, code: &str) -> Option<&Unit> {
        match self.by_code.get(code) {
            Some(&i) => Some(&self.units[i]),
            None => self.retired.iter().find(|u| u.code.as_str() == code),
        }
    }

    /// The units that decide `procedure` here (`units::routing::handles`), in the store's
    /// order (centre, branches, departments, then communes by name).
    pub fn deciding(&self, procedure: &Procedure) -> Vec<&Unit> {
        let mapped = self.mapped.get(&procedure.code);
        self.units
            .iter()
            .filter(|u| routing::handles(u, procedure, mapped))
            .collect()
    }
}

/// Keyed by the tenant's schema name (what the trigger's notification carries).
#[derive(Debug, Default)]
pub struct SiteCache {
    entries: RwLock<HashMap<String, Arc<SiteData>>>,
    units: RwLock<HashMap<String, Arc<UnitDirectory>>>,
    /// Bumped by every forget: a read that began before it is not stored, so a change made
    /// while it was loading cannot be hidden behind an old copy.
    generation: AtomicU64,
}

impl SiteCache {
    /// The province's site data, from memory when fresh, else read in one tenant transaction.
    pub async fn get(&self, schema: &str, db: &TenantDb) -> Result<Arc<SiteData>, AppError> {
        if let Some(hit) = self
            .entries
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(schema)
            .filter(|d| d.loaded_at.elapsed() < d.max_age)
            .cloned()
        {
            return Ok(hit);
        }
        let generation = self.generation.load(Ordering::Acquire);
        let (branding, disabled) = db
            .run(|conn| {
                Ok((
                    branding::load(conn)?,
                    super::procedures::disabled_procedures(conn)?,
                ))
            })
            .await?;
        let data = Arc::new(SiteData {
            branding,
            disabled,
            loaded_at: Instant::now(),
            max_age: jittered_max_age(schema),
        });
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if self.generation.load(Ordering::Acquire) == generation {
            entries.insert(schema.to_string(), data.clone());
        }
        Ok(data)
    }

    /// The province's units and procedure mapping, from memory when fresh, else
    /// read in one tenant transaction (the same freshness rules as [`SiteCache::get`]).
    pub async fn units(&self, schema: &str, db: &TenantDb) -> Result<Arc<UnitDirectory>, AppError> {
        if let Some(hit) = self
            .units
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(schema)
            .filter(|d| d.loaded_at.elapsed() < d.max_age)
            .cloned()
        {
            return Ok(hit);
        }
        let generation = self.generation.load(Ordering::Acquire);
        let (all, mapped) = db
            .run(|conn| Ok((store::list(conn, true)?, store::procedure_units(conn)?)))
            .await?;
        let (retired, units): (Vec<Unit>, Vec<Unit>) = all.into_iter().partition(|u| u.retired);
        let by_code = units
            .iter()
            .enumerate()
            .map(|(i, u)| (u.code.as_str().to_string(), i))
            .collect();
        let data = Arc::new(UnitDirectory {
            units,
            retired,
            mapped: mapped.into_iter().collect(),
            by_code,
            loaded_at: Instant::now(),
            max_age: jittered_max_age(schema),
        });
        // The generation is bumped under the `entries` lock: take it too, so a forget cannot
        // slip between the check and the insert.
        let _entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        let mut units = self.units.write().unwrap_or_else(|p| p.into_inner());
        if self.generation.load(Ordering::Acquire) == generation {
            units.insert(schema.to_string(), data.clone());
        }
        Ok(data)
    }

    /// Drops one province's entries (after a change, or on its notification).
    pub fn forget(&self, schema: &str) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        let mut units = self.units.write().unwrap_or_else(|p| p.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.remove(schema);
        units.remove(schema);
    }

    /// Drops every entry (after the listener reconnects: notifications may have been lost).
    pub fn clear(&self) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        let mut units = self.units.write().unwrap_or_else(|p| p.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
        units.clear();
    }
}
