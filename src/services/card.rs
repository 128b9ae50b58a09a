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

/// Saves what was edited on the card of a conversation's customer. An attribute the card
/// does not make editable for `role` is refused as a whole (403), whatever was crafted;
/// the rest is the profile service's validation, History and version check.
pub fn save_on_card(
    conn: &mut DbConnection,
    conversation: ConversationId,
    role: Role,
    actor: &Actor,
    expected_version: Option<i64>,
    edit: impl FnOnce(&[Property]) -> ProfileEdit,
) -> Result<EditOutcome, AppError> {
    save_beside(
        conn,
        conversation,
        role,
        actor,
        expected_version,
        Reach::Card,
        edit,
    )
}

/// Saves what was edited in the panel's Profile section: every property the reader may
/// edit (the profile service refuses the rest, as on the profile page).
pub fn save_profile_beside(
    conn: &mut DbConnection,
    conversation: ConversationId,
    role: Role,
    actor: &Actor,
    expected_version: Option<i64>,
    edit: impl FnOnce(&[Property]) -> ProfileEdit,
) -> Result<EditOutcome, AppError> {
    save_beside(
        conn,
        conversation,
        role,
        actor,
        expected_version,
        Reach::Profile,
        edit,
    )
}

/// What an edit beside a conversation may change.
#[derive(PartialEq, Eq)]
enum Reach {
    /// The card's editable attributes.
    Card,
    /// Every property the reader's access allows.
    Profile,
}

fn save_beside(
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
