//! Who acts: every action takes one, and the audit log and dossier history name it the same
//! way whichever surface (API, page, CLI, job) it came through.

use crate::accounts::operators::OperatorRole;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// An operator signed in on the console or its API.
    Operator { email: String, role: OperatorRole },
    /// Somebody at the command line of the server (`$USER`).
    Cli { user: String },
    /// A background job, by name (`billing-close`).
    Job(&'static str),
}

impl Actor {
    /// The command line's actor: the login name of whoever ran it.
    pub fn cli() -> Actor {
        Actor::Cli {
            user: std::env::var("USER").unwrap_or_else(|_| "unknown".into()),
        }
    }

    /// As the audit log writes it: `operator:<email>`, `cli:<user>`, `job:<name>`.
    pub fn audit_name(&self) -> String {
        match self {
            Actor::Operator { email, .. } => format!("operator:{email}"),
            Actor::Cli { user } => format!("cli:{user}"),
            Actor::Job(name) => format!("job:{name}"),
        }
    }
}
