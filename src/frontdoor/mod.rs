//! The national front door (#17): one catalog and one "my dossiers" across provinces.
//!
//! - `names`: finding a province by its current name, a name it had before the 2025 merger,
//!   or a common alias, with or without diacritics.
//! - `holdings`: which provinces hold any dossier of a national account, kept in the control
//!   plane so "my dossiers" asks only those provinces.

pub mod holdings;
pub mod names;
