//! Dossiers: submission, the national state machine, history, attachments, tracking.

pub mod attachments;
pub mod deadlines;
pub mod deficiencies;
pub mod documents;
pub mod drafts;
pub mod fee_receipts;
pub mod limits;
pub mod mail;
pub mod moves;
pub mod queue;
pub mod ratings;
pub mod results;
pub mod resumable;
pub mod status;
pub mod store;
pub mod submit;
pub mod tracking;
pub mod units;
pub mod view;
