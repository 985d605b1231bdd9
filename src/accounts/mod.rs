//! People who sign in: citizens (national accounts), operator staff, and province staff.

pub mod citizens;
mod common_passwords;
pub mod email;
pub mod handoff;
pub mod jwt;
pub mod national;
pub mod operators;
pub mod password;
pub mod staff;
pub mod throttle;

pub use email::Email;
