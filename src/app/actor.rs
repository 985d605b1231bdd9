//! Who acts: every action takes one, and the audit log and dossier history name it the same
//! way whichever surface (API, page, CLI, job) it came through.

use crate::accounts::operators::OperatorRole;
use crate::accounts::staff::StaffRole;
use crate::error::AppError;
use crate::ids::StaffId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// An operator signed in on the console or its API.
    Operator { email: String, role: OperatorRole },
    /// Somebody at the command line of the server (`$USER`).
    Cli { user: String },
    /// A background job, by name (`billing-close`).
    Job(&'static str),
    /// An official or admin of one province, signed in on its site (page or API).
    Staff { id: StaffId, role: StaffRole },
}

impl Actor {
    /// The command line's actor: the login name of whoever ran it.
    pub fn cli() -> Actor {
        Actor::Cli {
            user: std::env::var("USER").unwrap_or_else(|_| "unknown".into()),
        }
    }

    /// As the audit log writes it: `operator:<email>`, `cli:<user>`, `job:<name>`, `staff:<id>`
    /// (also the dossier history's name for staff).
    pub fn audit_name(&self) -> String {
        match self {
            Actor::Operator { email, .. } => format!("operator:{email}"),
            Actor::Cli { user } => format!("cli:{user}"),
            Actor::Job(name) => format!("job:{name}"),
            Actor::Staff { id, .. } => format!("staff:{id}"),
        }
    }

    /// The staff member acting (official or admin); anyone else is refused (403).
    pub fn staff(&self) -> Result<StaffId, AppError> {
        match self {
            Actor::Staff { id, .. } => Ok(*id),
            _ => Err(AppError::forbidden()),
        }
    }

    /// The staff member acting with their role; anyone else is refused (403).
    pub fn staff_member(&self) -> Result<(crate::ids::StaffId, StaffRole), AppError> {
        match self {
            Actor::Staff { id, role } => Ok((*id, *role)),
            _ => Err(AppError::forbidden()),
        }
    }

    /// The province admin acting; an official or anyone else is refused (403).
    pub fn province_admin(&self) -> Result<StaffId, AppError> {
        match self {
            Actor::Staff {
                id,
                role: StaffRole::Admin,
            } => Ok(*id),
            _ => Err(AppError::forbidden()),
        }
    }
}

/// Here rather than in `accounts`: the accounts know nothing of the application layer.
impl crate::accounts::operators::OperatorAccount {
    /// As an actor of the application layer.
    pub fn actor(&self) -> Actor {
        Actor::Operator {
            email: self.email.clone(),
            role: self.role,
        }
    }
}
