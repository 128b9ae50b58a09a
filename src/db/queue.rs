//! The workspace queue: open conversations, newest activity first, in keyset pages, all of
//! them or a team's channels; and what it shows of each without reading its thread — the
//! customer's last message, since when they wait, how far each agent has read.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::conversations::Conversation;
use super::customers::Backend;
use super::kept;
use super::schema::{conversations, messages};
use super::types::{ConversationId, ConversationStatus, MessageId};
use crate::domain::scope::Grants;

/// Which open conversations the workspace lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    /// Every open conversation.
    All,
    /// Assigned to this user.
    Mine(i64),
    /// Assigned to nobody.
    Unassigned,
}

/// Open conversations, newest activity first, after the keyset cursor
/// `(last_message_at, id)` when given; with `within`, only on its channels and accounts —
/// one indexed walk per channel (`(status, channel, last_message_at)`), merged, so a team's
/// queue costs the same whether its channels carry most conversations or few.
pub fn list_open(
    conn: &mut DbConnection,
    queue: Queue,
    within: Option<&Grants>,
    after: Option<(NaiveDateTime, ConversationId)>,
    limit: i64,
) -> QueryResult<Vec<Conversation>> {
    let Some(grants) = within else {
        return list_open_on(conn, queue, None, after, limit);
    };
    let mut found = Vec::new();
    for channel in grants.channels() {
        let accounts = grants.accounts_of(&channel);
        found.extend(list_open_on(
            conn,
            queue,
            Some((&channel, accounts)),
            after,
            limit,
        )?);
    }
    found.sort_by_key(|c| std::cmp::Reverse((c.last_message_at, c.id)));
    found.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(found)
}

/// How many open conversations a queue holds, counted up to `at_most + 1` (a queue
/// holding more reads as that): one bounded index walk per channel with `within`, so the
/// count costs no more than a page however long the queue grows. The database counts;
/// the ids it walks stay there.
pub fn count_open(
    conn: &mut DbConnection,
    queue: Queue,
    within: Option<&Grants>,
    at_most: i64,
) -> QueryResult<i64> {
    let count = |conn: &mut DbConnection,
                 channel: Option<(&str, Option<Vec<String>>)>,
                 limit: i64|
     -> QueryResult<i64> {
        super::counted::rows_of(
            conn,
            narrowed(
                conversations::table.select(conversations::id).into_boxed(),
                queue,
                channel,
            )
            .limit(limit),
        )
    };
    let Some(grants) = within else {
        return count(conn, None, at_most + 1);
    };
    let mut total = 0;
    for channel in grants.channels() {
        if total > at_most {
            break;
        }
        let accounts = grants.accounts_of(&channel);
        total += count(conn, Some((&channel, accounts)), at_most + 1 - total)?;
    }
    Ok(total)
}

/// One walk of [`list_open`]: every channel, or one (with some of its accounts).
fn list_open_on(
    conn: &mut DbConnection,
    queue: Queue,
    channel: Option<(&str, Option<Vec<String>>)>,
    after: Option<(NaiveDateTime, ConversationId)>,
    limit: i64,
) -> QueryResult<Vec<Conversation>> {
    let mut query = narrowed(
        conversations::table
            .select(Conversation::as_select())
            .into_boxed(),
        queue,
        channel,
    )
    .order((
        conversations::last_message_at.desc(),
        conversations::id.desc(),
    ))
    .limit(limit);
    if let Some((at, id)) = after {
        query = query.filter(
            conversations::last_message_at
                .lt(at)
                .or(conversations::last_message_at
                    .eq(at)
                    .and(conversations::id.lt(id))),
        );
    }
    query.load(conn)
}

/// The open conversations of a queue, on one channel (with some of its accounts) or all.
fn narrowed<'a, ST>(
    mut query: conversations::BoxedQuery<'a, Backend, ST>,
    queue: Queue,
    channel: Option<(&str, Option<Vec<String>>)>,
) -> conversations::BoxedQuery<'a, Backend, ST> {
    use super::schema::conversation_agents;
    query = query.filter(conversations::status.eq(ConversationStatus::Open));
    if let Some((channel, accounts)) = channel {
        query = query.filter(conversations::channel.eq(channel.to_owned()));
        if let Some(accounts) = accounts {
            query = query.filter(conversations::account.eq_any(accounts));
        }
    }
    match queue {
        Queue::All => query,
        Queue::Mine(user) => query.filter(
            conversations::id.eq_any(
                conversation_agents::table
                    .filter(conversation_agents::user_id.eq(user))
                    .select(conversation_agents::conversation_id),
            ),
        ),
        Queue::Unassigned => query
            .filter(diesel::dsl::not(conversations::id.eq_any(
                conversation_agents::table.select(conversation_agents::conversation_id),
            ))),
    }
}

/// Up to when a user has read a conversation (its last customer message then).
pub fn read_at(
    conn: &mut DbConnection,
    id: ConversationId,
    user: i64,
) -> QueryResult<Option<NaiveDateTime>> {
    use super::schema::conversation_reads;
    conversation_reads::table
        .find((id, user))
        .select(conversation_reads::read_at)
        .first(conn)
        .optional()
}

/// Records that a user has read a conversation up to `at`.
pub fn mark_read(
    conn: &mut DbConnection,
    id: ConversationId,
    user: i64,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    use super::schema::conversation_reads;
    let row = (
        conversation_reads::conversation_id.eq(id),
        conversation_reads::user_id.eq(user),
        conversation_reads::read_at.eq(at),
    );
    Ok(
        either_backend!(conn, c => diesel::insert_into(conversation_reads::table)
        .values(row)
        .on_conflict((conversation_reads::conversation_id, conversation_reads::user_id))
        .do_update()
        .set(conversation_reads::read_at.eq(at))
        .execute(c)?),
    )
}

/// How far a user has read each of several conversations (one query for a queue page).
pub fn list_reads(
    conn: &mut DbConnection,
    ids: &[ConversationId],
    user: i64,
) -> QueryResult<Vec<(ConversationId, NaiveDateTime)>> {
    use super::schema::conversation_reads;
    conversation_reads::table
        .filter(conversation_reads::user_id.eq(user))
        .filter(conversation_reads::conversation_id.eq_any(ids))
        .select((
            conversation_reads::conversation_id,
            conversation_reads::read_at,
        ))
        .load(conn)
}

/// The text of each of these messages, by conversation: the queue's previews, without
/// the messages' other columns.
pub fn list_previews(
    conn: &mut DbConnection,
    ids: &[MessageId],
) -> QueryResult<Vec<(Option<ConversationId>, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    messages::table
        .filter(messages::id.eq_any(ids))
        .select((messages::conversation_id, messages::body))
        .load(conn)
}

/// The customer wrote: their message is counted, it is the conversation's last one and
/// its last from them, and they wait for a reply from then on unless they already did.
/// One statement, as every inbound message runs it.
pub fn note_customer_message(
    conn: &mut DbConnection,
    id: ConversationId,
    message: MessageId,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    kept::update(
        conversations::table.find(id),
        (
            conversations::messages_count.eq(conversations::messages_count + 1),
            conversations::last_message_at.eq(at),
            conversations::last_inbound_id.eq(message),
            conversations::last_inbound_at.eq(at),
            conversations::waiting_since.eq(crate::db::coalesce_time(
                conversations::waiting_since,
                Some(at),
            )),
        ),
    )
    .execute(conn)
}

/// An agent replied: the customer waits no more.
pub fn note_agent_reply(conn: &mut DbConnection, id: ConversationId) -> QueryResult<usize> {
    kept::update(
        conversations::table.find(id),
        conversations::waiting_since.eq(None::<NaiveDateTime>),
    )
    .execute(conn)
}
