//! Billing: each month, one invoice per province with a lease: its prorated lease fee, its
//! overage per metric, late usage of closed months as adjustments, VAT; integer đồng.

pub mod close;
pub mod invoice;
pub mod money;
pub mod provider;
pub mod provider_events;
pub mod revenue;
pub mod send;
pub mod table;
pub mod webhook;
pub mod words;
