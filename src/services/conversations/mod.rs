//! Conversations and what they link to: outbound replies through the outbox, callbacks,
//! ratings, linking conversations and identities to customers, and the blacklist.
//! Inbound traffic is `services::inbound`, which builds on these.

mod blacklist;
mod links;
mod outbound;
pub mod workspace;

pub use blacklist::{refuse_blacklisted, set_blacklisted, set_contact_blacklisted};
pub(crate) use links::link_event;
pub use links::{
    add_identity, check_identity, create_customer_from_identity, fill_name_from_channel, link,
    link_new_customer, link_new_identities, move_conversation, remove_identity, unlink,
};
pub use outbound::{Opening, contact, open_conversation, rate, send, send_unshown};

use crate::db::types::AuthorKind;

/// Longest message text, in characters.
pub const MAX_TEXT: usize = 10_000;

/// Who writes an outbound message.
pub struct Author<'a> {
    /// An agent or Clientele itself.
    pub kind: AuthorKind,
    /// The staff member, for agent replies.
    pub user_id: Option<i64>,
    /// The name shown in the thread.
    pub name: &'a str,
}

impl<'a> Author<'a> {
    /// A staff member writing as themselves.
    pub fn agent(user_id: i64, name: &'a str) -> Self {
        Author {
            kind: AuthorKind::Agent,
            user_id: Some(user_id),
            name,
        }
    }
}
