//! Provinces as tenants: identity, registry, provisioning and manifests.

pub mod backup;
pub mod branding;
// Host names are a leaf of their own (accounts check e-mail domains with them too).
pub use crate::hostname as host;
pub mod logo;
pub mod manifest;
#[cfg(test)]
mod manifest_props;
pub mod procedures;
pub mod provision;
pub mod registry;
pub mod site_cache;
mod slug;
pub mod store;

use chrono::{DateTime, Utc};
use serde::Serialize;

pub use registry::{Registry, Site};
pub use slug::Slug;

use crate::db::TenantRef;
use crate::error::AppError;

pub use crate::ids::TenantId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TenantStatus {
    Active,
    Suspended,
    /// Merged into another province by a reorganisation: its hosts redirect to the successor,
    /// its codes resolve there; it holds no data any more.
    Merged,
}

impl TenantStatus {
    /// A status read from the database; anything else is an error, never "active" by default
    /// (a suspended province must not come back because of a typo in a manual UPDATE).
    pub fn parse(s: &str) -> Result<TenantStatus, AppError> {
        match s {
            "active" => Ok(TenantStatus::Active),
            "suspended" => Ok(TenantStatus::Suspended),
            "merged" => Ok(TenantStatus::Merged),
            other => Err(AppError::internal(format!(
                "unknown tenant status {other:?}"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TenantStatus::Active => "active",
            TenantStatus::Suspended => "suspended",
            TenantStatus::Merged => "merged",
        }
    }
}

/// A province as the registry knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    pub slug: String,
    pub name: String,
    pub status: TenantStatus,
    pub plan: String,
    pub schema: String,
    pub role: String,
    /// Prefix of the province's tracking codes, e.g. `HNI`.
    pub code: String,
    /// The leased request rate (requests/s) and burst, from its plan.
    pub rate_limit_rps: i32,
    pub rate_burst: i32,
    pub created_at: DateTime<Utc>,
    /// The two-digit code in the national list of provinces, if it is one of them.
    pub province_code: Option<String>,
    /// The province it was merged into (status `merged`), and from when.
    pub successor: Option<TenantId>,
    pub merged_on: Option<chrono::NaiveDate>,
    /// Names it was known by before a rename or that provinces merged into it had.
    pub former_names: Vec<String>,
}

/// A province code from its slug: initials, then letters of the last word (`ha-noi` → `HNO`,
/// `ho-chi-minh` → `HCM`, `hue` → `HUE`). Manifests may set the official one instead.
pub fn derive_code(slug: &str) -> String {
    let parts: Vec<&str> = slug.split('-').filter(|p| !p.is_empty()).collect();
    let mut code: String = parts
        .iter()
        .filter_map(|p| p.chars().find(char::is_ascii_alphabetic))
        .take(4)
        .collect();
    let last = parts.last().copied().unwrap_or("");
    for c in last.chars().skip(1).filter(char::is_ascii_alphabetic) {
        if code.len() >= 3 {
            break;
        }
        code.push(c);
    }
    while code.len() < 2 {
        code.push('X');
    }
    code.to_ascii_uppercase()
}

/// A valid province code: 2–4 capital ASCII letters.
pub fn valid_code(code: &str) -> bool {
    (2..=4).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_uppercase())
}

impl Tenant {
    pub fn db_ref(&self) -> TenantRef {
        TenantRef {
            id: self.id,
            schema: self.schema.clone(),
            role: self.role.clone(),
        }
    }
}

#[cfg(test)]
mod status_tests {
    use super::TenantStatus;

    #[test]
    fn an_unknown_status_is_an_error_not_active() {
        assert_eq!(TenantStatus::parse("active").unwrap(), TenantStatus::Active);
        assert_eq!(
            TenantStatus::parse("suspended").unwrap(),
            TenantStatus::Suspended
        );
        assert!(TenantStatus::parse("Suspended").is_err());
        assert!(TenantStatus::parse("").is_err());
    }
}
