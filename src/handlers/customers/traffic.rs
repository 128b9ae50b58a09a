//! The tabs about conversations — Interactions (with ratings and web visitor data),
//! Messages, Conversations (agent replies) — and the views the workspace shares.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use askama::Template;

use super::identities::channel_label;
use super::{ProfileHeader, load};
use crate::auth::CustomersUser;
use crate::db::conversations::{self, Conversation, Message};
use crate::db::types::AuthorKind;
use crate::db::types::{ConversationId, ConversationStatus, DeliveryStatus, Direction, MessageId};
use crate::db::{self, identities, outbox};
use crate::error::AppError;
use crate::handlers::page::{PageContext, local_time, render};
use crate::services::teams;
use crate::state::AppState;

/// One conversation as the tabs show it.
pub struct ConversationView {
    pub id: i64,
    pub channel: &'static str,
    pub direction: Direction,
    pub status: ConversationStatus,
    pub started: String,
    pub ended: Option<String>,
    pub rating: Option<i32>,
    pub messages_count: i64,
    pub web_ip: Option<String>,
    pub web_region: Option<String>,
    pub web_user_agent: Option<String>,
    pub web_source: Option<String>,
    pub messages: Vec<MessageView>,
}

/// One message as the tabs show it (and as the conversation page polls it).
#[derive(serde::Serialize)]
pub struct MessageView {
    pub id: i64,
    pub author: String,
    pub outbound: bool,
    pub body: String,
    pub sent: String,
    /// For outbound messages: Delivered, Pending, or the last error.
    pub delivery: Option<String>,
}

fn delivery_label(delivery: &outbox::Delivery) -> String {
    match (delivery.status, &delivery.last_error) {
        (DeliveryStatus::Delivered, _) => "Delivered".to_owned(),
        (DeliveryStatus::Pending, None) => "Waiting for delivery".to_owned(),
        (DeliveryStatus::Pending, Some(error)) => {
            format!("Retrying after {} attempt(s): {error}", delivery.attempts)
        }
        (_, Some(error)) => format!("Failed: {error}"),
        _ => "Failed".to_owned(),
    }
}

/// Which messages a conversation list carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// None (the Interactions tab).
    Nothing,
    /// Every message (the Messages tab, the workspace).
    All,
    /// The agents' replies only (the Conversations tab).
    AgentReplies,
}

/// Conversations with their messages and delivery states: at most three queries whatever
/// the number of conversations. Times are shown in `time_zone`.
pub fn conversation_views(
    conn: &mut db::DbConnection,
    time_zone: &str,
    found: Vec<Conversation>,
    shown: Shown,
) -> Result<Vec<ConversationView>, AppError> {
    let time = |at| local_time(at, time_zone);
    let ids: Vec<ConversationId> = found.iter().map(|c| c.id).collect();
    let all: Vec<Message> = if shown == Shown::Nothing {
        Vec::new()
    } else {
        conversations::list_messages_of(conn, &ids)?
    };
    let outbound: Vec<MessageId> = all
        .iter()
        .filter(|m| m.direction == Direction::Outbound)
        .map(|m| m.id)
        .collect();
    let deliveries: HashMap<MessageId, outbox::Delivery> =
        outbox::list_for_messages(conn, &outbound)?
            .into_iter()
            .map(|d| (d.message_id, d))
            .collect();
    let mut by_conversation: HashMap<ConversationId, Vec<MessageView>> = HashMap::new();
    for message in all {
        if shown == Shown::AgentReplies && message.author_kind != AuthorKind::Agent {
            continue;
        }
        let Some(conversation) = message.conversation_id else {
            continue;
        };
        by_conversation
            .entry(conversation)
            .or_default()
            .push(MessageView {
                id: message.id.0,
                author: message
                    .author_name
                    .clone()
                    .unwrap_or_else(|| match message.author_kind {
                        AuthorKind::Customer => "Customer".to_owned(),
                        AuthorKind::Agent => "Agent".to_owned(),
                        AuthorKind::System => "Clientele".to_owned(),
                    }),
                outbound: message.direction == Direction::Outbound,
                delivery: deliveries.get(&message.id).map(delivery_label),
                body: message.body,
                sent: time(message.sent_at),
            });
    }
    Ok(found
        .into_iter()
        .map(|c| ConversationView {
            id: c.id.0,
            channel: channel_label(&c.channel),
            started: time(c.started_at),
            ended: c.ended_at.map(time),
            messages: by_conversation.remove(&c.id).unwrap_or_default(),
            direction: c.direction,
            status: c.status,
            rating: c.rating,
            messages_count: c.messages_count,
            web_ip: c.web_ip,
            web_region: c.web_region,
            web_user_agent: c.web_user_agent,
            web_source: c.web_source,
        })
        .collect())
}

#[derive(Template)]
#[template(path = "customers/conversations.html")]
struct ConversationsPage {
    ctx: PageContext,
    header: ProfileHeader,
    conversations: Vec<ConversationView>,
    /// `interactions`, `messages` or `conversations`.
    mode: &'static str,
    /// On the Messages tab: how many messages arrived while the customer was blacklisted.
    suppressed_count: i64,
    /// The newest of them.
    suppressed: Vec<SuppressedView>,
    /// The next page's cursor, when there are older conversations.
    older: Option<String>,
}

/// How many conversations a tab shows per page.
const PAGE: i64 = 25;

/// A page's query: where the previous page ended.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct PageQuery {
    before: String,
}

fn parse_before(raw: &str) -> Option<(chrono::NaiveDateTime, ConversationId)> {
    crate::handlers::page::parse_time_cursor(raw).map(|(at, id)| (at, ConversationId(id)))
}

/// A message that arrived while the customer was on the blacklist.
pub struct SuppressedView {
    pub channel: &'static str,
    pub sent: String,
    pub body: String,
}

async fn conversations_tab(
    user: CustomersUser,
    state: web::Data<AppState>,
    public_id: String,
    mode: &'static str,
    before: String,
) -> Result<HttpResponse, AppError> {
    let loaded = load(&state, public_id).await?;
    let before = parse_before(&before);
    let ctx = PageContext::new(&user.0, "customers")?;
    let id = loaded.customer.id;
    let time_zone = user.0.user.time_zone.clone();
    let shown = match mode {
        "interactions" => Shown::Nothing,
        "conversations" => Shown::AgentReplies,
        _ => Shown::All,
    };
    let scope = user.0.scope.clone();
    let (conversations, suppressed_count, suppressed, older) = state
        .run(move |conn| {
            let hidden = teams::hidden_conversations(conn, &scope, id)?;
            let mut found = conversations::list_customer_conversations_before(
                conn,
                id,
                &hidden,
                before,
                PAGE + 1,
            )?;
            let older = (found.len() as i64 > PAGE).then(|| {
                found.truncate(PAGE as usize);
                found
                    .last()
                    .map(|c| crate::handlers::page::time_cursor(c.started_at, c.id.0))
            });
            let older = older.flatten();
            let views = conversation_views(conn, &time_zone, found, shown)?;
            if shown != Shown::All || before.is_some() {
                return Ok((views, 0, Vec::new(), older));
            }
            let mut channels = HashMap::new();
            for identity in identities::list_identities_for(conn, &[id])? {
                // Messages held back from a blacklisted customer, on the reader's channels.
                if scope
                    .limited()
                    .is_none_or(|g| g.channels().contains(&identity.channel))
                {
                    channels.insert(identity.id, channel_label(&identity.channel));
                }
            }
            let newest: Vec<SuppressedView> = conversations::list_suppressed(conn, id, 50)?
                .into_iter()
                .filter(|m| channels.contains_key(&m.identity_id))
                .map(|m| SuppressedView {
                    channel: channels.get(&m.identity_id).copied().unwrap_or("Unknown"),
                    sent: local_time(m.sent_at, &time_zone),
                    body: m.body,
                })
                .collect();
            let count = if scope.limited().is_some() {
                newest.len() as i64
            } else {
                conversations::count_suppressed(conn, id)?
            };
            Ok((views, count, newest, older))
        })
        .await?;
    render(&ConversationsPage {
        header: ProfileHeader::new(&loaded, mode),
        ctx,
        conversations,
        mode,
        suppressed_count,
        suppressed,
        older,
    })
}

/// `GET /customers/{id}/interactions`: conversations with ratings and web visitor data.
pub async fn interactions(
    user: CustomersUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    conversations_tab(
        user,
        state,
        path.into_inner(),
        "interactions",
        query.into_inner().before,
    )
    .await
}

/// `GET /customers/{id}/messages`: every message, by conversation.
pub async fn messages(
    user: CustomersUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    conversations_tab(
        user,
        state,
        path.into_inner(),
        "messages",
        query.into_inner().before,
    )
    .await
}

/// `GET /customers/{id}/conversations`: the agents' replies only.
pub async fn replies(
    user: CustomersUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    conversations_tab(
        user,
        state,
        path.into_inner(),
        "conversations",
        query.into_inner().before,
    )
    .await
}
