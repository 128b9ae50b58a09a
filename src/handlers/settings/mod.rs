//! Settings screens, for supervisors only (every handler takes the `Supervisor` extractor).

pub mod card;
pub mod features;
pub mod integrations;
pub mod properties;
pub mod selfservice;
pub mod tags;
pub mod users;

use crate::auth::CurrentUser;

/// The supervisor's id and name, as the audit log records them.
pub fn audit_actor(current: &CurrentUser) -> (Option<i64>, String) {
    (Some(current.user.id.0), current.user.display_name.clone())
}
