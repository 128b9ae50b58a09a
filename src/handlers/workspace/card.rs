//! The customer context card beside a conversation, built from the supervisor's
//! configuration and the reader's property access, with a bounded number of queries.

use std::collections::HashMap;

use crate::db::card::{self, CardAttribute};
use crate::db::conversations::Conversation;
use crate::db::customers::{self, Customer};
use crate::db::identities::Identity;
use crate::db::properties::{self, Property};
use crate::db::tags::{self, Tag};
use crate::db::{DbConnection, identities};
use crate::domain::FieldErrors;
use crate::domain::Role;
use crate::domain::card::Section;
use crate::domain::property::Value;
use crate::error::AppError;
use crate::handlers::customers::fields::{FieldView, Submitted, field_view};
use crate::handlers::customers::identities::channel_label;
use crate::handlers::customers::lifecycle_label;
use crate::handlers::page::PageContext;
use crate::services::card::editable_keys;
use crate::services::profiles::{self};

/// The card of a known customer.
pub struct KnownCard {
    pub public_id: String,
    pub name: String,
    pub version: i64,
    pub basic: Vec<FieldView>,
    pub additional: Vec<FieldView>,
    pub tags: Vec<Tag>,
    pub lifecycle: &'static str,
    pub blacklisted: Option<String>,
    /// Whether the profile is locked against channel data.
    pub locked: bool,
    pub any_editable: bool,
    /// The latest notes: (author, when, text), newest first.
    pub notes: Vec<(String, String, String)>,
}

/// The whole card: who the contact is, and the customer's attributes when known.
pub struct CardView {
    pub conversation_id: i64,
    pub channel: &'static str,
    pub external_id: String,
    pub reported_name: Option<String>,
    /// Why the unknown contact itself is blacklisted, when it is.
    pub contact_blacklisted: Option<String>,
    pub known: Option<KnownCard>,
    /// Whether the reader may open the full profile.
    pub profile_link: bool,
}

/// Builds the card from what is already loaded (no queries): used for the conversation
/// page and for the preview in Settings.
pub fn card_fields(
    ctx: &PageContext,
    config: &[CardAttribute],
    registry: &[Property],
    values: &HashMap<String, Value>,
    role: Role,
    submitted: Option<&Submitted>,
    errors: &FieldErrors,
) -> (Vec<FieldView>, Vec<FieldView>) {
    let editable = editable_keys(config, registry, role);
    let mut basic = Vec::new();
    let mut additional = Vec::new();
    for attribute in config {
        let Some(property) = registry.iter().find(|p| p.id == attribute.property_id) else {
            continue;
        };
        // Hidden from this role by the property itself: never on the card, whatever it says.
        if !property.visible_to(role) {
            continue;
        }
        let field = field_view(
            ctx,
            property,
            values.get(&property.key),
            editable.contains(&property.key),
            submitted,
            errors,
        );
        if attribute.section == Section::Basic {
            basic.push(field);
        } else {
            additional.push(field);
        }
    }
    (basic, additional)
}

/// Everything the card needs for one conversation.
pub struct CardData {
    pub identity: Identity,
    pub customer: Option<Customer>,
    pub registry: Vec<Property>,
    pub config: Vec<CardAttribute>,
    pub values: HashMap<String, Value>,
    pub tags: Vec<Tag>,
    pub locked: bool,
    /// The customer's latest notes.
    pub notes: Vec<crate::db::notes::Note>,
}

/// How many notes the card shows (the profile's Summary has them all).
const NOTES_ON_CARD: i64 = 3;

/// Loads the card's data: identity, customer, registry, card, values, tags.
pub fn load(conn: &mut DbConnection, conversation: &Conversation) -> Result<CardData, AppError> {
    let identity = identities::get_identity(conn, conversation.identity_id)?;
    let customer = match conversation.customer_id {
        Some(id) => Some(customers::get_customer(conn, id)?),
        None => None,
    };
    let registry = properties::list_properties(conn)?;
    let config = card::list_card(conn)?;
    let (values, tags, locked, notes) = match &customer {
        Some(c) => (
            profiles::current_values(conn, c, &registry)?,
            tags::list_customer_tags(conn, c.id)?,
            crate::db::locks::find_lock(conn, c.id)?.is_some(),
            crate::db::notes::list_latest_notes(conn, c.id, NOTES_ON_CARD)?,
        ),
        None => (HashMap::new(), Vec::new(), false, Vec::new()),
    };
    Ok(CardData {
        identity,
        customer,
        registry,
        config,
        values,
        tags,
        locked,
        notes,
    })
}

/// The card view for a reader.
pub fn view(
    ctx: &PageContext,
    data: &CardData,
    conversation: &Conversation,
    role: Role,
    customers_page: bool,
    submitted: Option<&Submitted>,
    errors: &FieldErrors,
) -> CardView {
    let known = data.customer.as_ref().map(|customer| {
        let (basic, additional) = card_fields(
            ctx,
            &data.config,
            &data.registry,
            &data.values,
            role,
            submitted,
            errors,
        );
        let any_editable = basic.iter().chain(&additional).any(|f| f.editable);
        KnownCard {
            public_id: customer.public_id.clone(),
            name: customer.display_name(),
            version: submitted
                .and_then(|s| s.first("version"))
                .and_then(|v| v.parse().ok())
                .unwrap_or(customer.version),
            basic,
            additional,
            tags: data.tags.clone(),
            lifecycle: lifecycle_label(&customer.lifecycle),
            blacklisted: customer
                .blacklisted
                .then(|| customer.blacklist_reason.clone().unwrap_or_default()),
            locked: data.locked,
            any_editable,
            notes: data
                .notes
                .iter()
                .map(|n| {
                    (
                        n.author_name.clone(),
                        ctx.time(n.created_at),
                        n.body.clone(),
                    )
                })
                .collect(),
        }
    });
    CardView {
        conversation_id: conversation.id.0,
        channel: channel_label(&data.identity.channel),
        external_id: data.identity.external_id.clone(),
        reported_name: data.identity.display_name.clone(),
        contact_blacklisted: data
            .identity
            .blacklisted()
            .then(|| data.identity.blacklist_reason.clone().unwrap_or_default()),
        known,
        profile_link: customers_page,
    }
}
