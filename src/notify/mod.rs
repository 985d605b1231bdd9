//! Mail through a transactional outbox in each province's schema.

pub mod invitation;
pub mod mailer;
pub mod messages;
pub mod outbox;
pub mod worker;
