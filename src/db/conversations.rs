//! Conversations and their messages.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{conversations, messages};
use super::types::{
    AuthorKind, ConversationId, ConversationStatus, CustomerId, Direction, IdentityId, MessageId,
};
use super::{DbConnection, kept, now};
use crate::domain::scope::Grants;

/// A conversation as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = conversations)]
pub struct Conversation {
    pub id: ConversationId,
    pub identity_id: IdentityId,
    pub customer_id: Option<CustomerId>,
    pub channel: String,
    pub status: ConversationStatus,
    pub direction: Direction,
    pub started_at: NaiveDateTime,
    pub ended_at: Option<NaiveDateTime>,
    pub last_message_at: NaiveDateTime,
    pub messages_count: i64,
    pub rating: Option<i32>,
    pub rated_at: Option<NaiveDateTime>,
    pub web_ip: Option<String>,
    pub web_region: Option<String>,
    pub web_user_agent: Option<String>,
    pub web_source: Option<String>,
    /// The business account it came in on (empty: the channel's only or unnamed one).
    pub account: String,
    /// The customer's last message (the self-service keyword aside), and when it came.
    pub last_inbound_id: Option<MessageId>,
    pub last_inbound_at: Option<NaiveDateTime>,
    /// Since when the customer has waited for an agent's reply.
    pub waiting_since: Option<NaiveDateTime>,
    /// When staff first wrote in it.
    pub first_answer_at: Option<NaiveDateTime>,
}

/// Web visitor metadata reported with a web chat message.
#[derive(Debug, Clone, Default)]
pub struct WebMetadata {
    pub ip: Option<String>,
    pub region: Option<String>,
    pub user_agent: Option<String>,
    pub source: Option<String>,
}

/// A message as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = messages)]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: Option<ConversationId>,
    pub identity_id: IdentityId,
    pub customer_id: Option<CustomerId>,
    pub direction: Direction,
    pub author_kind: AuthorKind,
    pub author_user_id: Option<i64>,
    pub author_name: Option<String>,
    pub body: String,
    pub client_message_id: Option<String>,
    pub suppressed: bool,
    pub sent_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

/// A new message.
pub struct NewMessage<'a> {
    pub conversation: Option<ConversationId>,
    pub identity: IdentityId,
    pub customer: Option<CustomerId>,
    pub direction: Direction,
    pub author_kind: AuthorKind,
    pub author_user_id: Option<i64>,
    pub author_name: Option<&'a str>,
    pub body: &'a str,
    pub client_message_id: Option<&'a str>,
    pub suppressed: bool,
    pub sent_at: NaiveDateTime,
}

/// The open conversation of an identity on one business account, or on any when `account`
/// is `None` (the newest), if any.
pub fn find_open_conversation(
    conn: &mut DbConnection,
    identity: IdentityId,
    account: Option<&str>,
) -> QueryResult<Option<Conversation>> {
    let mut query = conversations::table
        .filter(conversations::identity_id.eq(identity))
        .filter(conversations::status.eq(ConversationStatus::Open))
        .order(conversations::id.desc())
        .select(Conversation::as_select())
        .into_boxed();
    if let Some(account) = account {
        query = query.filter(conversations::account.eq(account.to_owned()));
    }
    query.first(conn).optional()
}

/// The business account of an identity's latest conversation (empty when it has none):
/// where staff reaching out write from.
pub fn latest_account(conn: &mut DbConnection, identity: IdentityId) -> QueryResult<String> {
    Ok(conversations::table
        .filter(conversations::identity_id.eq(identity))
        .order(conversations::id.desc())
        .select(conversations::account)
        .first(conn)
        .optional()?
        .unwrap_or_default())
}

/// The conversation with this id, if any.
pub fn find_conversation(
    conn: &mut DbConnection,
    id: ConversationId,
) -> QueryResult<Option<Conversation>> {
    get_conversation(conn, id).optional()
}

/// The conversation with this id, or NotFound.
pub fn get_conversation(conn: &mut DbConnection, id: ConversationId) -> QueryResult<Conversation> {
    conversations::table
        .find(id)
        .select(Conversation::as_select())
        .first(conn)
}

/// A conversation to open.
pub struct NewConversation<'a> {
    pub identity: IdentityId,
    pub customer: Option<CustomerId>,
    pub channel: &'a str,
    /// The business account it came in on (empty when the channel has one).
    pub account: &'a str,
    pub direction: Direction,
    pub started_at: NaiveDateTime,
    pub web: &'a WebMetadata,
}

/// Opens a conversation.
pub fn insert_conversation(
    conn: &mut DbConnection,
    new: &NewConversation<'_>,
) -> QueryResult<Conversation> {
    let web = new.web;
    diesel::insert_into(conversations::table)
        .values((
            conversations::identity_id.eq(new.identity),
            conversations::customer_id.eq(new.customer),
            conversations::channel.eq(new.channel),
            conversations::account.eq(new.account),
            conversations::status.eq(ConversationStatus::Open),
            conversations::direction.eq(new.direction),
            conversations::started_at.eq(new.started_at),
            conversations::last_message_at.eq(new.started_at),
            conversations::web_ip.eq(&web.ip),
            conversations::web_region.eq(&web.region),
            conversations::web_user_agent.eq(&web.user_agent),
            conversations::web_source.eq(&web.source),
        ))
        .get_result(conn)
}

/// One message.
pub fn get_message(conn: &mut DbConnection, id: MessageId) -> QueryResult<Message> {
    messages::table
        .find(id)
        .select(Message::as_select())
        .first(conn)
}

/// Stores a message.
pub fn insert_message(conn: &mut DbConnection, new: &NewMessage<'_>) -> QueryResult<Message> {
    if let (Some(conversation), Direction::Outbound, AuthorKind::Agent) =
        (new.conversation, new.direction, new.author_kind)
    {
        // Staff's first word in the conversation (the insights' time to a first answer).
        kept::update(
            conversations::table
                .find(conversation)
                .filter(conversations::first_answer_at.is_null()),
            conversations::first_answer_at.eq(new.sent_at),
        )
        .execute(conn)?;
    }
    diesel::insert_into(messages::table)
        .values((
            messages::conversation_id.eq(new.conversation),
            messages::identity_id.eq(new.identity),
            messages::customer_id.eq(new.customer),
            messages::direction.eq(new.direction),
            messages::author_kind.eq(new.author_kind),
            messages::author_user_id.eq(new.author_user_id),
            messages::author_name.eq(new.author_name),
            messages::body.eq(new.body),
            messages::client_message_id.eq(new.client_message_id),
            messages::suppressed.eq(new.suppressed),
            messages::sent_at.eq(new.sent_at),
            messages::created_at.eq(now()),
        ))
        .get_result(conn)
}

/// The message an identity already sent with this client id (idempotent retries).
pub fn find_message_by_client_id(
    conn: &mut DbConnection,
    identity: IdentityId,
    client_id: &str,
) -> QueryResult<Option<Message>> {
    messages::table
        .filter(messages::identity_id.eq(identity))
        .filter(messages::client_message_id.eq(client_id))
        .select(Message::as_select())
        .first(conn)
        .optional()
}

/// Counts a new message on its conversation.
pub fn touch_conversation(
    conn: &mut DbConnection,
    id: ConversationId,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    kept::update(
        conversations::table.find(id),
        (
            conversations::messages_count.eq(conversations::messages_count + 1),
            conversations::last_message_at.eq(at),
        ),
    )
    .execute(conn)
}

/// Counts a message without moving the conversation in the queue (automatic traffic).
pub fn count_message(conn: &mut DbConnection, id: ConversationId) -> QueryResult<usize> {
    kept::update(
        conversations::table.find(id),
        conversations::messages_count.eq(conversations::messages_count + 1),
    )
    .execute(conn)
}

/// Closes a conversation.
pub fn close_conversation(conn: &mut DbConnection, id: ConversationId) -> QueryResult<usize> {
    kept::update(
        conversations::table
            .find(id)
            .filter(conversations::status.eq(ConversationStatus::Open)),
        (
            conversations::status.eq(ConversationStatus::Closed),
            conversations::ended_at.eq(now()),
        ),
    )
    .execute(conn)
}

/// Records a satisfaction rating.
pub fn update_rating(
    conn: &mut DbConnection,
    id: ConversationId,
    rating: i32,
) -> QueryResult<usize> {
    kept::update(
        conversations::table.find(id),
        (
            conversations::rating.eq(rating),
            conversations::rated_at.eq(now()),
        ),
    )
    .execute(conn)
}

/// Moves every conversation and message of an identity to a customer (or to none).
pub fn reassign_identity(
    conn: &mut DbConnection,
    identity: IdentityId,
    customer: Option<CustomerId>,
) -> QueryResult<()> {
    kept::update(
        conversations::table.filter(conversations::identity_id.eq(identity)),
        conversations::customer_id.eq(customer),
    )
    .execute(conn)?;
    // Through the identity's conversations: messages are indexed by conversation, not by
    // identity (a scan of every message per identity made an import of 100,000 rows
    // with identities crawl on PostgreSQL).
    kept::update(
        messages::table.filter(
            messages::conversation_id.eq_any(
                conversations::table
                    .filter(conversations::identity_id.eq(identity))
                    .select(conversations::id.nullable()),
            ),
        ),
        messages::customer_id.eq(customer),
    )
    .execute(conn)?;
    Ok(())
}

/// Gives one conversation and its messages to another customer, or to nobody.
pub fn reassign_conversation(
    conn: &mut DbConnection,
    id: ConversationId,
    customer: Option<CustomerId>,
) -> QueryResult<()> {
    kept::update(
        conversations::table.find(id),
        conversations::customer_id.eq(customer),
    )
    .execute(conn)?;
    kept::update(
        messages::table.filter(messages::conversation_id.eq(id)),
        messages::customer_id.eq(customer),
    )
    .execute(conn)?;
    Ok(())
}

/// The query without the `hidden` conversations (those on channels the reader's teams do
/// not work); unchanged when there are none.
pub(super) fn excluding<'a, ST>(
    query: conversations::BoxedQuery<'a, super::customers::Backend, ST>,
    hidden: &[ConversationId],
) -> conversations::BoxedQuery<'a, super::customers::Backend, ST> {
    if hidden.is_empty() {
        query
    } else {
        query.filter(diesel::dsl::not(conversations::id.eq_any(hidden.to_vec())))
    }
}

/// A page of a customer's conversations but the `hidden` ones, newest first, started
/// before the keyset cursor `(started_at, id)` when given.
pub fn list_customer_conversations_before(
    conn: &mut DbConnection,
    customer: CustomerId,
    hidden: &[ConversationId],
    before: Option<(NaiveDateTime, ConversationId)>,
    limit: i64,
) -> QueryResult<Vec<Conversation>> {
    let mut query = conversations::table
        .filter(conversations::customer_id.eq(customer))
        .order((conversations::started_at.desc(), conversations::id.desc()))
        .limit(limit)
        .select(Conversation::as_select())
        .into_boxed();
    query = excluding(query, hidden);
    if let Some((at, id)) = before {
        query = query.filter(
            conversations::started_at
                .lt(at)
                .or(conversations::started_at
                    .eq(at)
                    .and(conversations::id.lt(id))),
        );
    }
    query.load(conn)
}

/// A page of a customer's conversations after `after`, in id order (the export).
pub fn list_conversations_after(
    conn: &mut DbConnection,
    customer: CustomerId,
    after: ConversationId,
    limit: i64,
) -> QueryResult<Vec<Conversation>> {
    conversations::table
        .filter(conversations::customer_id.eq(customer))
        .filter(conversations::id.gt(after))
        .order(conversations::id.asc())
        .limit(limit)
        .select(Conversation::as_select())
        .load(conn)
}

/// A page of one conversation's messages after `after`, in id order (the export).
pub fn list_messages_after(
    conn: &mut DbConnection,
    conversation: ConversationId,
    after: MessageId,
    limit: i64,
) -> QueryResult<Vec<Message>> {
    messages::table
        .filter(messages::conversation_id.eq(conversation))
        .filter(messages::id.gt(after))
        .order(messages::id.asc())
        .limit(limit)
        .select(Message::as_select())
        .load(conn)
}

/// A page of a customer's messages that joined no conversation (received while
/// blacklisted), after `after`, in id order (the export).
pub fn list_unthreaded_after(
    conn: &mut DbConnection,
    customer: CustomerId,
    after: MessageId,
    limit: i64,
) -> QueryResult<Vec<Message>> {
    messages::table
        .filter(messages::customer_id.eq(customer))
        .filter(messages::conversation_id.is_null())
        .filter(messages::id.gt(after))
        .order(messages::id.asc())
        .limit(limit)
        .select(Message::as_select())
        .load(conn)
}

/// The messages of several conversations, oldest first (one query for a whole tab).
pub fn list_messages_of(
    conn: &mut DbConnection,
    conversations: &[ConversationId],
) -> QueryResult<Vec<Message>> {
    messages::table
        .filter(
            messages::conversation_id
                .eq_any(conversations.iter().map(|c| Some(*c)).collect::<Vec<_>>()),
        )
        .order(messages::id.asc())
        .select(Message::as_select())
        .load(conn)
}

/// How many messages of a customer were suppressed by the blacklist.
pub fn count_suppressed(conn: &mut DbConnection, customer: CustomerId) -> QueryResult<i64> {
    messages::table
        .filter(messages::customer_id.eq(customer))
        .filter(messages::suppressed.eq(true))
        .count()
        .get_result(conn)
}

/// The messages a customer sent while blacklisted, newest first.
pub fn list_suppressed(
    conn: &mut DbConnection,
    customer: CustomerId,
    limit: i64,
) -> QueryResult<Vec<Message>> {
    messages::table
        .filter(messages::customer_id.eq(customer))
        .filter(messages::suppressed.eq(true))
        .order((messages::sent_at.desc(), messages::id.desc()))
        .limit(limit)
        .select(Message::as_select())
        .load(conn)
}

/// The open conversations of an identity (one per business account it wrote to).
pub fn list_open_of_identity(
    conn: &mut DbConnection,
    identity: IdentityId,
) -> QueryResult<Vec<Conversation>> {
    conversations::table
        .filter(conversations::identity_id.eq(identity))
        .filter(conversations::status.eq(ConversationStatus::Open))
        .select(Conversation::as_select())
        .load(conn)
}

/// The open conversations of a customer.
pub fn list_open_of_customer(
    conn: &mut DbConnection,
    customer: CustomerId,
) -> QueryResult<Vec<Conversation>> {
    conversations::table
        .filter(conversations::customer_id.eq(customer))
        .filter(conversations::status.eq(ConversationStatus::Open))
        .select(Conversation::as_select())
        .load(conn)
}

/// The agents assigned to each of several conversations, as (conversation, display name).
pub fn list_assignees(
    conn: &mut DbConnection,
    ids: &[ConversationId],
) -> QueryResult<Vec<(ConversationId, i64, String)>> {
    use super::schema::{conversation_agents, users};
    conversation_agents::table
        .inner_join(users::table)
        .filter(conversation_agents::conversation_id.eq_any(ids))
        .order(conversation_agents::assigned_at.asc())
        .select((
            conversation_agents::conversation_id,
            users::id,
            users::display_name,
        ))
        .load(conn)
}

/// Assigns a user to a conversation (nothing if already assigned).
pub fn assign(
    conn: &mut DbConnection,
    conversation: ConversationId,
    user: i64,
) -> QueryResult<usize> {
    use super::schema::conversation_agents;
    let exists: i64 = conversation_agents::table
        .filter(conversation_agents::conversation_id.eq(conversation))
        .filter(conversation_agents::user_id.eq(user))
        .count()
        .get_result(conn)?;
    if exists > 0 {
        return Ok(0);
    }
    diesel::insert_into(conversation_agents::table)
        .values((
            conversation_agents::conversation_id.eq(conversation),
            conversation_agents::user_id.eq(user),
            conversation_agents::assigned_at.eq(now()),
        ))
        .execute(conn)
}

/// Which way [`list_beside`] walks from a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Beside {
    /// Started before it, newest first.
    Earlier,
    /// Started after it, oldest first.
    Later,
}

/// Up to `limit` conversations of `conversation`'s relationship (the customer's, or for an
/// unknown contact the identity's) on one side of the keyset position `from` (start, id),
/// only those `reach` covers when given: one walk of the relationship's start index from
/// that position, which stops at `limit` whatever lies beyond (stepping over what `reach`
/// leaves out).
pub fn list_beside(
    conn: &mut DbConnection,
    conversation: &Conversation,
    from: (NaiveDateTime, ConversationId),
    way: Beside,
    limit: i64,
    reach: Option<&Grants>,
) -> QueryResult<Vec<Conversation>> {
    let (at, id) = from;
    let mut query = conversations::table
        .select(Conversation::as_select())
        .limit(limit)
        .into_boxed();
    query = match conversation.customer_id {
        Some(customer) => query.filter(conversations::customer_id.eq(customer)),
        None => query.filter(conversations::identity_id.eq(conversation.identity_id)),
    };
    if let Some(grants) = reach {
        query = query.filter(super::teams::conversation_condition(grants));
    }
    // The plain bound on the start is what the index walks from; the pair decides ties.
    query = match way {
        Beside::Earlier => query
            .filter(conversations::started_at.le(at))
            .filter(
                conversations::started_at
                    .lt(at)
                    .or(conversations::started_at
                        .eq(at)
                        .and(conversations::id.lt(id))),
            )
            .order((conversations::started_at.desc(), conversations::id.desc())),
        Beside::Later => query
            .filter(conversations::started_at.ge(at))
            .filter(
                conversations::started_at
                    .gt(at)
                    .or(conversations::started_at
                        .eq(at)
                        .and(conversations::id.gt(id))),
            )
            .order((conversations::started_at.asc(), conversations::id.asc())),
    };
    query.load(conn)
}
