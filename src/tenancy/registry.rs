//! The in-memory registry of tenants and hosts, kept fresh on every replica by LISTEN/NOTIFY.

use std::collections::HashMap;
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use secrecy::{ExposeSecret, SecretString};

use super::host::{HostKind, classify};
use super::{Tenant, TenantStatus, store};
use crate::db::Db;
use crate::error::AppError;

/// The site a request is for.
#[derive(Debug, Clone)]
pub enum Site {
    National,
    Operator,
    Province(Arc<Tenant>),
}

impl Site {
    /// The JWT audience of this site: a token is valid only where it was issued.
    pub fn audience(&self) -> String {
        match self {
            Site::National => "portal:national".into(),
            Site::Operator => "portal:operator".into(),
            Site::Province(t) => format!("portal:tenant:{}", t.id),
        }
    }

    /// Bounded label for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Site::National => "national",
            Site::Operator => "operator",
            Site::Province(_) => "province",
        }
    }
}

#[derive(Debug, Clone)]
pub enum Resolution {
    Site(Site),
    Suspended(Arc<Tenant>),
    /// A host of a province merged into another: the successor (the end of the chain when
    /// it was merged again) answers instead, at its own host.
    Moved(Arc<Tenant>),
    Unknown,
}

#[derive(Debug, Default)]
struct Snapshot {
    /// Which reload read it (see [`Registry::reload`]).
    generation: u64,
    by_id: HashMap<uuid::Uuid, Arc<Tenant>>,
    by_label: HashMap<String, Arc<Tenant>>,
    by_host: HashMap<String, Arc<Tenant>>,
}

pub struct Registry {
    db: Db,
    base_domain: String,
    snapshot: RwLock<Arc<Snapshot>>,
    /// Reloads started so far: each takes the next number before it reads.
    reloads: std::sync::atomic::AtomicU64,
    sites: super::site_cache::SiteCache,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("base_domain", &self.base_domain)
            .field("tenants", &self.current().by_id.len())
            .finish()
    }
}

impl Registry {
    /// An empty registry; call [`Registry::reload`] before serving.
    pub fn new(db: Db, base_domain: &str) -> Arc<Registry> {
        Arc::new(Registry {
            db,
            base_domain: base_domain.to_string(),
            snapshot: RwLock::new(Arc::new(Snapshot::default())),
            reloads: Default::default(),
            sites: Default::default(),
        })
    }

    /// Each province's branding and switched-off procedures, in memory.
    pub fn sites(&self) -> &super::site_cache::SiteCache {
        &self.sites
    }

    pub fn base_domain(&self) -> &str {
        &self.base_domain
    }

    fn current(&self) -> Arc<Snapshot> {
        self.snapshot
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Reads every tenant and host in one transaction and swaps the snapshot, unless a reload
    /// that started later has stored its own already. So a caller that changed tenants and
    /// then reloads sees its change on return: a slower reload running at the same time (the
    /// listener's, another request's) that read the tenants before the change cannot store its
    /// older list after it.
    pub fn reload(&self) -> Result<(), AppError> {
        let generation = self
            .reloads
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1;
        let (tenants, domains) = self
            .db
            .control(|conn| Ok((store::list(conn)?, store::all_domains(conn)?)))?;
        let mut snap = Snapshot {
            generation,
            ..Snapshot::default()
        };
        for t in tenants {
            let t = Arc::new(t);
            snap.by_label.insert(t.slug.clone(), t.clone());
            snap.by_id.insert(t.id.0, t);
        }
        for (host, kind, tenant_id) in domains {
            let Some(t) = snap.by_id.get(&tenant_id).cloned() else {
                continue;
            };
            match kind.as_str() {
                "subdomain" => snap.by_label.entry(host).or_insert(t),
                _ => snap.by_host.entry(host).or_insert(t),
            };
        }
        let mut current = self.snapshot.write().unwrap_or_else(|p| p.into_inner());
        if current.generation < generation {
            *current = Arc::new(snap);
        }
        Ok(())
    }

    /// Host header → site. Exact match only: an unknown host never falls back to another site.
    pub fn resolve(&self, host_header: &str) -> Resolution {
        let snap = self.current();
        let tenant = match classify(host_header, &self.base_domain) {
            HostKind::National => return Resolution::Site(Site::National),
            HostKind::Operator => return Resolution::Site(Site::Operator),
            HostKind::Invalid => return Resolution::Unknown,
            HostKind::Subdomain(label) => snap.by_label.get(&label).cloned(),
            HostKind::Custom(host) => snap.by_host.get(&host).cloned(),
        };
        match tenant {
            Some(t) if t.status == TenantStatus::Merged => match successor_in(&snap, &t) {
                Some(s) => Resolution::Moved(s),
                None => Resolution::Unknown,
            },
            Some(t) if t.status == TenantStatus::Suspended => Resolution::Suspended(t),
            Some(t) => Resolution::Site(Site::Province(t)),
            None => Resolution::Unknown,
        }
    }

    /// The province that serves `t` now: itself, or the end of its chain of successors
    /// (None when the chain is broken, which the database's constraints prevent).
    pub fn serving(&self, t: &Arc<Tenant>) -> Option<Arc<Tenant>> {
        if t.status != TenantStatus::Merged {
            return Some(t.clone());
        }
        successor_in(&self.current(), t)
    }

    pub fn get(&self, id: super::TenantId) -> Option<Arc<Tenant>> {
        self.current().by_id.get(&id.0).cloned()
    }

    pub fn by_slug(&self, slug: &str) -> Option<Arc<Tenant>> {
        self.current()
            .by_id
            .values()
            .find(|t| t.slug == slug)
            .cloned()
    }

    /// Every tenant, suspended or not (background jobs).
    pub fn all(&self) -> Vec<Arc<Tenant>> {
        self.current().by_id.values().cloned().collect()
    }

    /// Active tenants ordered by slug, for the national site.
    pub fn active(&self) -> Vec<Arc<Tenant>> {
        let mut list: Vec<_> = self
            .current()
            .by_id
            .values()
            .filter(|t| t.status == TenantStatus::Active)
            .cloned()
            .collect();
        list.sort_by(|a, b| a.slug.cmp(&b.slug));
        list
    }

    /// Listens on `portal_registry` (tenants and hosts) and `portal_site` (a province's branding
    /// or procedures: that entry of [`Registry::sites`] is forgotten) over its own direct connection (never through PgBouncer)
    /// and reloads on every notification. Reconnects with backoff; reloads after each
    /// reconnect, since notifications sent while away are lost. Stops when the registry drops.
    pub fn spawn_listener(self: &Arc<Self>, database_url: SecretString) {
        let weak: Weak<Registry> = Arc::downgrade(self);
        let spawned = std::thread::Builder::new()
            .name("registry-listener".into())
            .spawn(move || listen(weak, database_url));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "could not start the registry listener");
        }
    }
}

impl Registry {
    /// Reads the registry again every `every`, whatever the listener says: a LISTEN
    /// connection that stalls (open, silent, no error) would otherwise leave a suspension or a
    /// new host unseen until it breaks. Its own thread, so a listener stuck reconnecting
    /// cannot hold it up. Stops when the registry drops.
    pub fn spawn_reloader(self: &Arc<Self>, every: Duration) {
        let weak: Weak<Registry> = Arc::downgrade(self);
        let spawned = std::thread::Builder::new()
            .name("registry-reloader".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(every);
                    let Some(registry) = weak.upgrade() else {
                        return;
                    };
                    if let Err(e) = registry.reload() {
                        tracing::warn!(error = %e, "periodic registry reload failed");
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "could not start the registry reloader");
        }
    }
}

/// Follows `successor` links from a merged tenant to the one that serves it; a chain longer
/// than the number of tenants is a cycle and resolves to nothing.
fn successor_in(snap: &Snapshot, t: &Tenant) -> Option<Arc<Tenant>> {
    let mut next = t.successor?;
    for _ in 0..=snap.by_id.len() {
        let s = snap.by_id.get(&next.0)?;
        match (s.status, s.successor) {
            (TenantStatus::Merged, Some(further)) => next = further,
            (TenantStatus::Merged, None) => return None,
            _ => return Some(s.clone()),
        }
    }
    None
}

fn listen(weak: Weak<Registry>, database_url: SecretString) {
    let mut backoff = Duration::from_millis(250);
    loop {
        if weak.strong_count() == 0 {
            return;
        }
        let connected = PgConnection::establish(database_url.expose_secret())
            .map_err(|e| e.to_string())
            .and_then(|mut conn| {
                diesel::sql_query("LISTEN portal_registry")
                    .execute(&mut conn)
                    .map_err(|e| e.to_string())?;
                diesel::sql_query("LISTEN portal_site")
                    .execute(&mut conn)
                    .map_err(|e| e.to_string())?;
                Ok(conn)
            });
        let mut conn = match connected {
            Ok(conn) => conn,
            Err(e) => {
                tracing::warn!(error = %e, "registry listener cannot connect; retrying");
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        backoff = Duration::from_millis(250);
        let Some(registry) = weak.upgrade() else {
            return;
        };
        if let Err(e) = registry.reload() {
            tracing::warn!(error = %e, "registry reload failed");
        }
        registry.sites().clear();
        drop(registry);
        let mut last_full_reload = Instant::now();
        loop {
            std::thread::sleep(Duration::from_millis(100));
            let Some(registry) = weak.upgrade() else {
                return;
            };
            let mut changed = false;
            let mut lost = false;
            for n in conn.notifications_iter() {
                match n {
                    Ok(n) if n.channel == "portal_site" => registry.sites().forget(&n.payload),
                    Ok(_) => changed = true,
                    Err(_) => {
                        lost = true;
                        break;
                    }
                }
            }
            if lost {
                tracing::warn!("registry listener lost its connection; reconnecting");
                break;
            }
            // A slow full reload also heals anything a lost notification missed.
            if changed || last_full_reload.elapsed() > Duration::from_secs(60) {
                last_full_reload = Instant::now();
                if let Err(e) = registry.reload() {
                    tracing::warn!(error = %e, "registry reload failed");
                }
            }
        }
    }
}
