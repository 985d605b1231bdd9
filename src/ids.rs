//! Identifiers as types: a tenant's id can never be passed where a dossier's is expected.
//! A leaf module: the doors, the domain and the surfaces all name these.

use serde::Serialize;

/// A tenant's stable identity; caches, jobs and logs key on it, never on the slug.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct TenantId(pub uuid::Uuid);

impl std::fmt::Display for TenantId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
