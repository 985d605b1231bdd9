//! People who sign in: operator staff now; citizens and province staff build on the same parts.

pub mod email;
pub mod extract;
pub mod jwt;
pub mod operators;
pub mod password;

pub use email::Email;
