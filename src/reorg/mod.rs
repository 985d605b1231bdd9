//! Reorganisation (#18): provinces merged, split and renamed, units renamed, merged and moved
//! between provinces by a plan, with nothing lost. The plan file is parsed into steps (`plan`),
//! checked against the platform (`validate`), and applied by moving rows between tenant
//! schemas (`merge` a whole province, `moves` some units); `app::reorg` holds the transaction.

pub mod merge;
pub mod moves;
pub mod plan;
pub mod units;
pub mod validate;

pub use plan::{Plan, Problem, Step};
