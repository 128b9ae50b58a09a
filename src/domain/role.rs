//! Staff roles, ordered so that checks read `role >= Role::Supervisor`.

use std::fmt;
use std::str::FromStr;

/// What a staff member may do. Supervisors can do everything agents can.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Role {
    /// Works conversations and sees the customer context card.
    Agent,
    /// Agent plus every setting, user and customer-administration action.
    Supervisor,
}

impl Role {
    /// Every role, lowest first, for forms.
    pub const ALL: [Role; 2] = [Role::Agent, Role::Supervisor];

    /// The stored and submitted form.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
        }
    }

    /// The name people read.
    pub fn label(self) -> &'static str {
        match self {
            Role::Agent => "Agent",
            Role::Supervisor => "Supervisor",
        }
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "agent" => Ok(Role::Agent),
            "supervisor" => Ok(Role::Supervisor),
            _ => Err("Choose agent or supervisor.".to_owned()),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supervisors_outrank_agents() {
        assert!(Role::Supervisor > Role::Agent);
        assert!(Role::Supervisor >= Role::Supervisor);
    }

    #[test]
    fn roles_parse_in_any_case_and_round_trip() {
        assert_eq!("Supervisor".parse::<Role>(), Ok(Role::Supervisor));
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("admin".parse::<Role>().is_err());
    }
}
