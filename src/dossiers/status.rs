//! The ten national statuses and every move between them: one table, used by staff and
//! citizen routes alike.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Submitted,
    Accepted,
    Processing,
    SupplementRequested,
    PaymentRequested,
    Resolved,
    Returned,
    Refused,
    Stopped,
    Withdrawn,
}

/// How a status column is read (`DossierRow`): the same closed set, an error otherwise.
impl TryFrom<String> for Status {
    type Error = crate::error::AppError;

    fn try_from(s: String) -> Result<Status, Self::Error> {
        Status::parse(&s)
    }
}

impl Status {
    pub const ALL: [Status; 10] = [
        Status::Submitted,
        Status::Accepted,
        Status::Processing,
        Status::SupplementRequested,
        Status::PaymentRequested,
        Status::Resolved,
        Status::Returned,
        Status::Refused,
        Status::Stopped,
        Status::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Submitted => "submitted",
            Status::Accepted => "accepted",
            Status::Processing => "processing",
            Status::SupplementRequested => "supplement_requested",
            Status::PaymentRequested => "payment_requested",
            Status::Resolved => "resolved",
            Status::Returned => "returned",
            Status::Refused => "refused",
            Status::Stopped => "stopped",
            Status::Withdrawn => "withdrawn",
        }
    }

    /// One of the ten statuses; anything else is an error, never "submitted" by default (a
    /// dossier with a status the code does not know must not look new and open to moves).
    pub fn parse(s: &str) -> Result<Status, crate::error::AppError> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                crate::error::AppError::internal(format!("unknown dossier status {s:?}"))
            })
    }

    /// The legal clock does not run while the province waits for the citizen.
    pub fn clock_stopped(self) -> bool {
        matches!(self, Status::SupplementRequested | Status::PaymentRequested)
    }

    /// The dossier is finished (and may be rated when returned, refused or stopped).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Status::Returned | Status::Refused | Status::Stopped | Status::Withdrawn
        )
    }

    pub fn label(self, lang: crate::lang::Lang) -> &'static str {
        let (vi, en) = match self {
            Status::Submitted => ("Đã nộp", "Submitted"),
            Status::Accepted => ("Đã tiếp nhận", "Accepted"),
            Status::Processing => ("Đang xử lý", "Processing"),
            Status::SupplementRequested => ("Cần bổ sung", "Supplement requested"),
            Status::PaymentRequested => ("Chờ thanh toán", "Payment requested"),
            Status::Resolved => ("Đã có kết quả", "Resolved"),
            Status::Returned => ("Đã trả kết quả", "Result returned"),
            Status::Refused => ("Từ chối tiếp nhận", "Refused"),
            Status::Stopped => ("Dừng xử lý", "Stopped"),
            Status::Withdrawn => ("Đã rút hồ sơ", "Withdrawn"),
        };
        match lang {
            crate::lang::Lang::Vi => vi,
            crate::lang::Lang::En => en,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Submit,
    Accept,
    Refuse,
    Process,
    RequestSupplement,
    Supplement,
    RequestPayment,
    Pay,
    Extend,
    Stop,
    Resolve,
    ReturnResult,
    Withdraw,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Staff,
    Citizen,
}

/// One row of the contract's table.
#[derive(Debug)]
pub struct Rule {
    pub action: Action,
    pub by: Actor,
    pub from: &'static [Status],
    /// `None`: the status stays (extend).
    pub to: Option<Status>,
    pub note_required: bool,
}

use Status as S;

const RULES: [Rule; 12] = [
    Rule {
        action: Action::Accept,
        by: Actor::Staff,
        from: &[S::Submitted],
        to: Some(S::Accepted),
        note_required: false,
    },
    Rule {
        action: Action::Refuse,
        by: Actor::Staff,
        from: &[S::Submitted],
        to: Some(S::Refused),
        note_required: true,
    },
    Rule {
        action: Action::Process,
        by: Actor::Staff,
        from: &[S::Accepted],
        to: Some(S::Processing),
        note_required: false,
    },
    Rule {
        action: Action::RequestSupplement,
        by: Actor::Staff,
        from: &[S::Accepted, S::Processing],
        to: Some(S::SupplementRequested),
        note_required: true,
    },
    Rule {
        action: Action::Supplement,
        by: Actor::Citizen,
        from: &[S::SupplementRequested],
        to: Some(S::Processing),
        note_required: false,
    },
    Rule {
        action: Action::RequestPayment,
        by: Actor::Staff,
        from: &[S::Processing],
        to: Some(S::PaymentRequested),
        note_required: false,
    },
    Rule {
        action: Action::Pay,
        by: Actor::Citizen,
        from: &[S::PaymentRequested],
        to: Some(S::Processing),
        note_required: false,
    },
    Rule {
        action: Action::Extend,
        by: Actor::Staff,
        from: &[S::Accepted, S::Processing],
        to: None,
        note_required: true,
    },
    Rule {
        action: Action::Stop,
        by: Actor::Staff,
        from: &[S::Accepted, S::Processing],
        to: Some(S::Stopped),
        note_required: true,
    },
    Rule {
        action: Action::Resolve,
        by: Actor::Staff,
        from: &[S::Processing],
        to: Some(S::Resolved),
        note_required: false,
    },
    Rule {
        action: Action::ReturnResult,
        by: Actor::Staff,
        from: &[S::Resolved],
        to: Some(S::Returned),
        note_required: false,
    },
    Rule {
        action: Action::Withdraw,
        by: Actor::Citizen,
        from: &[
            S::Submitted,
            S::Accepted,
            S::Processing,
            S::SupplementRequested,
            S::PaymentRequested,
        ],
        to: Some(S::Withdrawn),
        note_required: false,
    },
];

impl Action {
    pub fn rule(self) -> Option<&'static Rule> {
        RULES.iter().find(|r| r.action == self)
    }

    pub fn parse(s: &str) -> Option<Action> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
    }

    pub fn as_str(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }
}

/// The moves `actor` may make from `from`, in the contract table's order (the forms a page
/// offers).
pub fn moves_from(from: Status, actor: Actor) -> impl Iterator<Item = &'static Rule> {
    RULES
        .iter()
        .filter(move |r| r.by == actor && r.from.contains(&from))
}

/// Why a move was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum MoveError {
    /// The move belongs to the other side (a citizen trying a staff move): 403.
    WrongActor,
    /// Not allowed from this status: 409 `invalid_transition`.
    InvalidTransition,
}

/// The status after `action` by `actor` from `from`.
pub fn next(from: Status, action: Action, actor: Actor) -> Result<Status, MoveError> {
    let rule = action.rule().ok_or(MoveError::InvalidTransition)?;
    if rule.by != actor {
        return Err(MoveError::WrongActor);
    }
    if !rule.from.contains(&from) {
        return Err(MoveError::InvalidTransition);
    }
    Ok(rule.to.unwrap_or(from))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The contract's table, written out pair by pair.
    #[test]
    fn every_status_and_move_pair_follows_the_contract() {
        let allowed: &[(Status, Action, Status)] = &[
            (S::Submitted, Action::Accept, S::Accepted),
            (S::Submitted, Action::Refuse, S::Refused),
            (S::Accepted, Action::Process, S::Processing),
            (
                S::Accepted,
                Action::RequestSupplement,
                S::SupplementRequested,
            ),
            (
                S::Processing,
                Action::RequestSupplement,
                S::SupplementRequested,
            ),
            (S::SupplementRequested, Action::Supplement, S::Processing),
            (S::Processing, Action::RequestPayment, S::PaymentRequested),
            (S::PaymentRequested, Action::Pay, S::Processing),
            (S::Accepted, Action::Extend, S::Accepted),
            (S::Processing, Action::Extend, S::Processing),
            (S::Accepted, Action::Stop, S::Stopped),
            (S::Processing, Action::Stop, S::Stopped),
            (S::Processing, Action::Resolve, S::Resolved),
            (S::Resolved, Action::ReturnResult, S::Returned),
            (S::Submitted, Action::Withdraw, S::Withdrawn),
            (S::Accepted, Action::Withdraw, S::Withdrawn),
            (S::Processing, Action::Withdraw, S::Withdrawn),
            (S::SupplementRequested, Action::Withdraw, S::Withdrawn),
            (S::PaymentRequested, Action::Withdraw, S::Withdrawn),
        ];
        let actions = [
            Action::Accept,
            Action::Refuse,
            Action::Process,
            Action::RequestSupplement,
            Action::Supplement,
            Action::RequestPayment,
            Action::Pay,
            Action::Extend,
            Action::Stop,
            Action::Resolve,
            Action::ReturnResult,
            Action::Withdraw,
        ];
        for from in Status::ALL {
            for action in actions {
                let actor = action.rule().unwrap().by;
                let want = allowed
                    .iter()
                    .find(|(f, a, _)| *f == from && *a == action)
                    .map(|(_, _, to)| *to);
                match want {
                    Some(to) => {
                        assert_eq!(next(from, action, actor), Ok(to), "{from:?} {action:?}")
                    }
                    None => assert_eq!(
                        next(from, action, actor),
                        Err(MoveError::InvalidTransition),
                        "{from:?} {action:?}"
                    ),
                }
                let other = if actor == Actor::Staff {
                    Actor::Citizen
                } else {
                    Actor::Staff
                };
                assert_eq!(next(from, action, other), Err(MoveError::WrongActor));
            }
        }
        assert_eq!(
            next(S::Submitted, Action::Submit, Actor::Citizen),
            Err(MoveError::InvalidTransition)
        );
    }

    #[test]
    fn names_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()).unwrap(), s);
        }
        assert!(Status::parse("archived").is_err());
        assert!(Status::parse("").is_err());
        assert!(Status::parse("Submitted").is_err());
        assert_eq!(
            Action::parse("request_supplement"),
            Some(Action::RequestSupplement)
        );
        assert_eq!(Action::RequestSupplement.as_str(), "request_supplement");
        assert_eq!(Action::parse("fly"), None);
    }
}
