//! One customer's data as one JSON document (GDPR access and portability): the profile
//! with every property by technical name and type, lifecycle, tags, identities, notes,
//! conversations with their messages, staff comments, ratings and web metadata, orders, and History.
//! Written page by page into chunks, so a customer with 100,000 messages exports in flat
//! memory; every export is recorded in the audit log.

use chrono::NaiveDateTime;
use serde::Serialize;
use serde_json::{Map, Value as Json, json};

use crate::db::conversations::{self, Conversation, Message};
use crate::db::customers::Customer;
use crate::db::events::{self, Event};
use crate::db::types::{AuditAction, ConversationId, CustomerId, EventId, MessageId};
use crate::db::{
    self, DbConnection, DbPool, customers, identities, notes, orders, properties, tags,
};
use crate::domain::customer::Actor;
use crate::error::AppError;
use crate::services::{audit, profiles};
use crate::state::on_connection;

/// Rows read per query.
const PAGE: i64 = 500;

/// A chunk is handed on once it holds about this many bytes.
const CHUNK: usize = 64 * 1024;

fn time(at: NaiveDateTime) -> String {
    at.and_utc().to_rfc3339()
}

#[derive(Serialize)]
struct MessageOut<'a> {
    id: i64,
    direction: &'static str,
    author: &'static str,
    author_name: Option<&'a str>,
    text: &'a str,
    sent_at: String,
}

impl<'a> MessageOut<'a> {
    fn of(message: &'a Message) -> Self {
        MessageOut {
            id: message.id.0,
            direction: message.direction.as_str(),
            author: message.author_kind.as_str(),
            author_name: message.author_name.as_deref(),
            text: &message.body,
            sent_at: time(message.sent_at),
        }
    }
}

fn conversation_head(conversation: &Conversation) -> Json {
    json!({
        "id": conversation.id.0,
        "channel": conversation.channel,
        "direction": conversation.direction.as_str(),
        "status": conversation.status.as_str(),
        "started_at": time(conversation.started_at),
        "ended_at": conversation.ended_at.map(time),
        "rating": conversation.rating,
        "rated_at": conversation.rated_at.map(time),
        "web": {
            "ip": conversation.web_ip,
            "region": conversation.web_region,
            "user_agent": conversation.web_user_agent,
            "source": conversation.web_source,
        },
    })
}

fn event_out(event: &Event) -> Json {
    let value = |raw: &Option<String>| {
        raw.as_deref()
            .map(|r| serde_json::from_str::<Json>(r).unwrap_or_else(|_| json!(r)))
    };
    json!({
        "at": time(event.created_at),
        "by": event.actor_name,
        "by_kind": event.actor_kind,
        "action": event.action.as_str(),
        "property": event.property_key,
        "old": value(&event.old_value),
        "new": value(&event.new_value),
    })
}

/// Collects the document's bytes and hands them on in chunks.
struct Out<F: FnMut(Vec<u8>) -> bool> {
    buffer: Vec<u8>,
    send: F,
    open: bool,
}

impl<F: FnMut(Vec<u8>) -> bool> Out<F> {
    fn raw(&mut self, text: &str) -> bool {
        self.buffer.extend_from_slice(text.as_bytes());
        self.flush_if_full()
    }

    fn value(&mut self, value: &impl Serialize) -> bool {
        if serde_json::to_writer(&mut self.buffer, value).is_err() {
            self.open = false;
        }
        self.flush_if_full()
    }

    fn flush_if_full(&mut self) -> bool {
        if self.open && self.buffer.len() >= CHUNK {
            self.open = (self.send)(std::mem::take(&mut self.buffer));
        }
        self.open
    }

    fn finish(mut self) -> bool {
        if self.open && !self.buffer.is_empty() {
            self.open = (self.send)(std::mem::take(&mut self.buffer));
        }
        self.open
    }
}

/// Writes the export of `customer` as JSON chunks handed to `send` (which returns `false`
/// when the reader went away), then records it in the audit log. Staff and integrations
/// export everything the customer is: every property, whatever its access level.
pub fn write_customer(
    pool: &DbPool,
    customer: CustomerId,
    actor: &Actor,
    send: &mut dyn FnMut(Vec<u8>) -> bool,
) -> Result<(), AppError> {
    // The head is read on one connection, each long list page by page on its own, so a
    // reader that takes its time never holds a connection while it reads.
    let (found, head) = on_connection(pool, |conn| head(conn, customer))?;
    let mut out = Out {
        buffer: Vec::with_capacity(CHUNK + 4096),
        send,
        open: true,
    };
    // The head's fields, then the long lists written page by page.
    let head_text = head.to_string();
    out.raw(head_text.strip_suffix('}').unwrap_or(&head_text));
    write_notes(pool, customer, &mut out)?;
    write_conversations(pool, customer, &mut out)?;
    write_unthreaded(pool, customer, &mut out)?;
    write_history(pool, customer, &mut out)?;
    out.raw("}");
    if !out.finish() {
        tracing::info!(customer = %found.public_id, "customer export cancelled by the reader");
        return Ok(());
    }
    on_connection(pool, |conn| {
        db::transaction(conn, |conn| {
            audit::record(
                conn,
                actor,
                AuditAction::CustomerExported,
                &found.public_id,
                "",
            )
        })
    })
}

/// The customer with the document's head: the profile, tags, identities and orders.
fn head(conn: &mut DbConnection, customer: CustomerId) -> Result<(Customer, Json), AppError> {
    let found = customers::get_customer(conn, customer)?;
    let registry = properties::list_properties(conn)?;
    let values = profiles::current_values(conn, &found, &registry)?;
    let mut profile = Map::new();
    for property in &registry {
        profile.insert(
            property.key.clone(),
            json!({
                "label": property.label,
                "type": property.ty.as_str(),
                "kind": property.kind.as_str(),
                "value": values.get(&property.key).map_or(Json::Null, |v| v.to_json()),
            }),
        );
    }
    let head = json!({
        "exported_at": time(db::now()),
        "customer_id": found.public_id,
        "created_at": time(found.created_at),
        "lifecycle": found.lifecycle,
        "blacklisted": found.blacklisted.then(|| json!({
            "reason": found.blacklist_reason,
            "by": found.blacklisted_by,
            "at": found.blacklisted_at.map(time),
        })),
        "profile": profile,
        "tags": tags::list_customer_tags(conn, customer)?
            .into_iter()
            .map(|t| t.name)
            .collect::<Vec<_>>(),
        "identities": identities::list_customer_identities(conn, customer)?
            .into_iter()
            .map(|i| json!({
                "channel": i.channel,
                "external_id": i.external_id,
                "display_name": i.display_name,
                "first_seen_at": time(i.created_at),
                "last_seen_at": time(i.last_seen_at),
            }))
            .collect::<Vec<_>>(),
        "orders": orders::list_orders(conn, customer)?
            .into_iter()
            .map(|o| json!({
                "order_ref": o.order_ref,
                "placed_at": time(o.placed_at),
                "status": o.status,
                "total": o.total,
                "currency": o.currency,
                "items": o.items_summary,
            }))
            .collect::<Vec<_>>(),
    });
    Ok((found, head))
}

fn write_notes<F: FnMut(Vec<u8>) -> bool>(
    pool: &DbPool,
    customer: CustomerId,
    out: &mut Out<F>,
) -> Result<(), AppError> {
    out.raw(",\"notes\":[");
    let (mut after, mut first) = (0, true);
    loop {
        let page = on_connection(pool, |conn| {
            Ok(notes::list_notes_after(conn, customer, after, PAGE)?)
        })?;
        for note in &page {
            if !first {
                out.raw(",");
            }
            first = false;
            out.value(&json!({
                "at": time(note.created_at),
                "by": note.author_name,
                "text": note.body,
            }));
        }
        match page.last() {
            Some(last) if out.open => after = last.id,
            _ => break,
        }
    }
    out.raw("]");
    Ok(())
}

fn write_messages<F: FnMut(Vec<u8>) -> bool>(
    out: &mut Out<F>,
    page: &[Message],
    first: &mut bool,
) -> Option<MessageId> {
    for message in page {
        if !*first {
            out.raw(",");
        }
        *first = false;
        out.value(&MessageOut::of(message));
    }
    page.last().map(|m| m.id).filter(|_| out.open)
}

fn write_conversations<F: FnMut(Vec<u8>) -> bool>(
    pool: &DbPool,
    customer: CustomerId,
    out: &mut Out<F>,
) -> Result<(), AppError> {
    out.raw(",\"conversations\":[");
    let (mut after, mut first) = (ConversationId(0), true);
    loop {
        let page = on_connection(pool, |conn| {
            Ok(conversations::list_conversations_after(
                conn, customer, after, PAGE,
            )?)
        })?;
        for conversation in &page {
            if !first {
                out.raw(",");
            }
            first = false;
            let head = conversation_head(conversation).to_string();
            out.raw(head.strip_suffix('}').unwrap_or(&head));
            out.raw(",\"messages\":[");
            let (mut after_message, mut first_message) = (MessageId(0), true);
            loop {
                let messages = on_connection(pool, |conn| {
                    Ok(conversations::list_messages_after(
                        conn,
                        conversation.id,
                        after_message,
                        PAGE,
                    )?)
                })?;
                match write_messages(out, &messages, &mut first_message) {
                    Some(last) => after_message = last,
                    None => break,
                }
            }
            // Staff comments on the conversation (a few per conversation).
            let comments: Vec<Json> = on_connection(pool, |conn| {
                Ok(crate::db::comments::list_for(conn, &[conversation.id])?)
            })?
            .iter()
            .map(|c| {
                serde_json::json!({
                    "author": c.author_name,
                    "at": time(c.created_at),
                    "text": c.body,
                })
            })
            .collect();
            out.raw("],\"comments\":");
            out.value(&comments);
            out.raw("}");
        }
        match page.last() {
            Some(last) if out.open => after = last.id,
            _ => break,
        }
    }
    out.raw("]");
    Ok(())
}

fn write_unthreaded<F: FnMut(Vec<u8>) -> bool>(
    pool: &DbPool,
    customer: CustomerId,
    out: &mut Out<F>,
) -> Result<(), AppError> {
    out.raw(",\"messages_received_while_blacklisted\":[");
    let (mut after, mut first) = (MessageId(0), true);
    loop {
        let page = on_connection(pool, |conn| {
            Ok(conversations::list_unthreaded_after(
                conn, customer, after, PAGE,
            )?)
        })?;
        match write_messages(out, &page, &mut first) {
            Some(last) => after = last,
            None => break,
        }
    }
    out.raw("]");
    Ok(())
}

fn write_history<F: FnMut(Vec<u8>) -> bool>(
    pool: &DbPool,
    customer: CustomerId,
    out: &mut Out<F>,
) -> Result<(), AppError> {
    out.raw(",\"history\":[");
    let (mut after, mut first) = (EventId(0), true);
    loop {
        let page = on_connection(pool, |conn| {
            Ok(events::list_events_after(conn, customer, after, PAGE)?)
        })?;
        for event in &page {
            if !first {
                out.raw(",");
            }
            first = false;
            out.value(&event_out(event));
        }
        match page.last() {
            Some(last) if out.open => after = last.id,
            _ => break,
        }
    }
    out.raw("]");
    Ok(())
}
