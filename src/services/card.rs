//! The customer context card's rule: an agent edits on the card only what the card makes
//! editable and the property's access allows; everything else is the profile service.

use crate::db::DbConnection;
use crate::db::card::{self, CardAttribute};
use crate::db::conversations;
use crate::db::properties::{self, Property};
use crate::db::types::ConversationId;
use crate::domain::Role;
use crate::domain::card::Mode;
use crate::domain::customer::Actor;
use crate::domain::property::{Access, PropertyKind};
use crate::error::AppError;
use crate::services::profiles::{self, EditOutcome, Editor, ProfileEdit};

/// Which card attributes are editable by `role`: the card says edit and the property's
/// access allows it (computed properties never).
pub fn editable_keys(config: &[CardAttribute], registry: &[Property], role: Role) -> Vec<String> {
    config
        .iter()
        .filter(|a| a.mode == Mode::Edit)
        .filter_map(|a| registry.iter().find(|p| p.id == a.property_id))
        .filter(|p| {
            p.kind != PropertyKind::Computed && Editor::Staff(role).access(p) == Access::Edit
        })
        .map(|p| p.key.clone())
        .collect()
}

/// What an edit beside a conversation may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// The card's editable attributes: any other attribute is refused as a whole (403),
    /// whatever was crafted.
    Card,
    /// Every property the reader's access allows (the panel's Profile section).
    Profile,
}

/// Saves what was edited beside a conversation on its customer: the profile service's
/// validation, History and version check, within `reach`.
pub fn save_beside(
    conn: &mut DbConnection,
    conversation: ConversationId,
    role: Role,
    actor: &Actor,
    expected_version: Option<i64>,
    reach: Reach,
    edit: impl FnOnce(&[Property]) -> ProfileEdit,
) -> Result<EditOutcome, AppError> {
    let conversation = conversations::get_conversation(conn, conversation)?;
    let customer = conversation.customer_id.ok_or(AppError::Forbidden)?;
    let registry = properties::list_properties(conn)?;
    let edit = edit(&registry);
    if reach == Reach::Card {
        let config = card::list_card(conn)?;
        let allowed = editable_keys(&config, &registry, role);
        if edit.values.iter().any(|(key, _)| !allowed.contains(key)) {
            return Err(AppError::Forbidden);
        }
    }
    profiles::edit_customer(
        conn,
        customer,
        &registry,
        expected_version,
        actor,
        Editor::Staff(role),
        &edit,
    )
}
