//! Conversations and what they link to: outbound replies through the outbox, callbacks,
//! ratings, linking conversations and identities to customers, and the blacklist.
//! Inbound traffic is `services::inbound`, which builds on these.

mod blacklist;
mod links;
mod outbound;
pub mod workspace;

pub use blacklist::set_blacklisted;
pub use links::{
    add_identity, check_identity, create_customer_from_identity, fill_name_from_channel, link,
    link_new_identities, remove_identity, unlink,
};
pub(crate) use links::link_event;
pub use outbound::{Opening, Reuse, contact, open_conversation, rate, send};

/// Longest message text, in characters.
pub const MAX_TEXT: usize = 10_000;

/// History actions of this module.
pub mod action {
    /// An identity was linked to the customer.
    pub const IDENTITY_LINKED: &str = "identity_linked";
    /// An identity was unlinked from the customer.
    pub const IDENTITY_UNLINKED: &str = "identity_unlinked";
    /// Added to the blacklist.
    pub const BLACKLISTED: &str = "blacklisted";
    /// Removed from the blacklist.
    pub const UNBLACKLISTED: &str = "unblacklisted";
}

/// Who writes an outbound message.
pub struct Author<'a> {
    /// `agent` or `system`.
    pub kind: &'a str,
    /// The staff member, for agent replies.
    pub user_id: Option<i64>,
    /// The name shown in the thread.
    pub name: &'a str,
}

