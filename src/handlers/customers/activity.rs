//! The profile tabs about traffic — Identities, Interactions, Messages, Conversations,
//! Orders — and the actions Contact customer and blacklist.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{ProfileHeader, load};
use crate::auth::CustomersUser;
use crate::db::conversations::{self, Conversation, Message};
use crate::db::identities::{self, Identity};
use crate::db::orders::{self, Order};
use crate::db::types::AuthorKind;
use crate::db::types::{
    ConversationId, ConversationStatus, DeliveryStatus, Direction, IdentityId, MessageId,
};
use crate::db::{self, outbox};
use crate::domain::FieldErrors;
use crate::domain::channel::Channel;
use crate::error::{AppError, see_other};
use crate::handlers::page::{PageContext, local_time, render, render_status};
use crate::page::FlashKind;
use crate::services::conversations::{self as traffic, Author};
use crate::state::AppState;

/// The label of a stored channel.
pub fn channel_label(stored: &str) -> &'static str {
    stored.parse::<Channel>().map_or("Unknown", Channel::label)
}

/// One identity as the tab shows it.
pub struct IdentityView {
    pub id: i64,
    pub channel: &'static str,
    pub external_id: String,
    pub display_name: Option<String>,
}

pub fn identity_views(found: Vec<Identity>) -> Vec<IdentityView> {
    found
        .into_iter()
        .map(|i| IdentityView {
            id: i.id.0,
            channel: channel_label(&i.channel),
            external_id: i.external_id,
            display_name: i.display_name,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "customers/identities.html")]
struct IdentitiesPage {
    ctx: PageContext,
    header: ProfileHeader,
    identities: Vec<IdentityView>,
    channels: [Channel; 10],
    channel: String,
    external_id: String,
    errors: FieldErrors,
    /// When the identity belongs to another customer: that customer's ID, for a link.
    owner: Option<String>,
}

async fn identities_page(
    user: &CustomersUser,
    state: &AppState,
    public_id: String,
    channel: String,
    external_id: String,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let loaded = load(state, public_id).await?;
    let id = loaded.customer.id;
    let found = state
        .run(move |conn| Ok(identities::list_customer_identities(conn, id)?))
        .await?;
    let failed = !errors.is_empty();
    let owner = match (
        failed,
        channel
            .parse::<Channel>()
            .ok()
            .and_then(|c| c.normalize(&external_id).ok().map(|e| (c, e))),
    ) {
        (true, Some((c, normalized))) => {
            state
                .run(move |conn| {
                    let found = identities::find_identity(conn, c.as_str(), &normalized)?;
                    Ok(match found.and_then(|i| i.customer_id) {
                        Some(owner) if owner != id => {
                            Some(crate::db::customers::get_customer(conn, owner)?.public_id)
                        }
                        _ => None,
                    })
                })
                .await?
        }
        _ => None,
    };
    let page = IdentitiesPage {
        owner,
        ctx: PageContext::new(&user.0, "customers")?,
        header: ProfileHeader::new(&loaded, "identities"),
        identities: identity_views(found),
        channels: Channel::ALL,
        channel,
        external_id,
        errors,
    };
    if failed {
        render_status(&page, StatusCode::UNPROCESSABLE_ENTITY)
    } else {
        render(&page)
    }
}

/// `GET /customers/{id}/identities`.
pub async fn identities(
    user: CustomersUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    identities_page(
        &user,
        &state,
        path.into_inner(),
        "whatsapp".to_owned(),
        String::new(),
        FieldErrors::default(),
    )
    .await
}

/// The add-identity form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct IdentityForm {
    channel: String,
    external_id: String,
}

/// `POST /customers/{id}/identities`.
pub async fn add_identity(
    user: CustomersUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<IdentityForm>,
) -> Result<HttpResponse, AppError> {
    let public_id = path.into_inner();
    let form = form.into_inner();
    let loaded = load(&state, public_id.clone()).await?;
    let actor = user.0.actor();
    let (channel, external) = (form.channel.clone(), form.external_id.clone());
    let result = state
        .run(move |conn| {
            traffic::add_identity(conn, loaded.customer.id, &channel, &external, &actor)
        })
        .await;
    match result {
        Ok(()) => {
            user.0.session.flash(FlashKind::Success, "Identity added.");
            Ok(see_other(&format!("/customers/{public_id}/identities")))
        }
        Err(AppError::Invalid(errors)) => {
            identities_page(
                &user,
                &state,
                public_id,
                form.channel,
                form.external_id,
                errors,
            )
            .await
        }
        Err(other) => Err(other),
    }
}

/// `POST /customers/{id}/identities/{identity}/remove`.
pub async fn remove_identity(
    user: CustomersUser,
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    let (public_id, identity) = path.into_inner();
    let loaded = load(&state, public_id.clone()).await?;
    let actor = user.0.actor();
    state
        .run(move |conn| {
            traffic::remove_identity(conn, loaded.customer.id, IdentityId(identity), &actor)
        })
        .await?;
    user.0.session.flash(
        FlashKind::Success,
        "Identity removed; its conversations are unknown again.",
    );
    Ok(see_other(&format!("/customers/{public_id}/identities")))
}

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
}

async fn conversations_tab(
    user: CustomersUser,
    state: web::Data<AppState>,
    public_id: String,
    mode: &'static str,
) -> Result<HttpResponse, AppError> {
    let loaded = load(&state, public_id).await?;
    let ctx = PageContext::new(&user.0, "customers")?;
    let id = loaded.customer.id;
    let time_zone = user.0.user.time_zone.clone();
    let shown = match mode {
        "interactions" => Shown::Nothing,
        "conversations" => Shown::AgentReplies,
        _ => Shown::All,
    };
    let conversations = state
        .run(move |conn| {
            let found = conversations::list_customer_conversations(conn, id, 50)?;
            conversation_views(conn, &time_zone, found, shown)
        })
        .await?;
    render(&ConversationsPage {
        header: ProfileHeader::new(&loaded, mode),
        ctx,
        conversations,
        mode,
    })
}

/// `GET /customers/{id}/interactions`: conversations with ratings and web visitor data.
pub async fn interactions(
    user: CustomersUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    conversations_tab(user, state, path.into_inner(), "interactions").await
}

/// `GET /customers/{id}/messages`: every message, by conversation.
pub async fn messages(
    user: CustomersUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    conversations_tab(user, state, path.into_inner(), "messages").await
}

/// `GET /customers/{id}/conversations`: the agents' replies only.
pub async fn replies(
    user: CustomersUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    conversations_tab(user, state, path.into_inner(), "conversations").await
}

#[derive(Template)]
#[template(path = "customers/orders.html")]
struct OrdersPage {
    ctx: PageContext,
    header: ProfileHeader,
    orders: Vec<(Order, String)>,
}

/// `GET /customers/{id}/orders`.
pub async fn orders(
    user: CustomersUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let loaded = load(&state, path.into_inner()).await?;
    let id = loaded.customer.id;
    let found = state
        .run(move |conn| Ok(orders::list_orders(conn, id)?))
        .await?;
    let ctx = PageContext::new(&user.0, "customers")?;
    let orders = found
        .into_iter()
        .map(|o| {
            let placed = ctx.time(o.placed_at);
            (o, placed)
        })
        .collect();
    render(&OrdersPage {
        header: ProfileHeader::new(&loaded, "orders"),
        ctx,
        orders,
    })
}

/// The blacklist form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BlacklistForm {
    reason: String,
}

/// `POST /customers/{id}/blacklist`: a reason is required.
pub async fn blacklist(
    user: CustomersUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<BlacklistForm>,
) -> Result<HttpResponse, AppError> {
    let public_id = path.into_inner();
    let loaded = load(&state, public_id.clone()).await?;
    let actor = user.0.actor();
    let reason = form.into_inner().reason;
    let result = state
        .run(move |conn| traffic::set_blacklisted(conn, loaded.customer.id, Some(&reason), &actor))
        .await;
    match result {
        Ok(()) => user.0.session.flash(
            FlashKind::Success,
            "Added to the blacklist: new messages open no conversation.",
        ),
        Err(AppError::Invalid(errors)) => user.0.session.flash(
            FlashKind::Error,
            errors.get("reason").unwrap_or("Give a reason.").to_owned(),
        ),
        Err(other) => return Err(other),
    }
    Ok(see_other(&format!("/customers/{public_id}/profile")))
}

/// `POST /customers/{id}/blacklist/remove`.
pub async fn unblacklist(
    user: CustomersUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let public_id = path.into_inner();
    let loaded = load(&state, public_id.clone()).await?;
    let actor = user.0.actor();
    state
        .run(move |conn| traffic::set_blacklisted(conn, loaded.customer.id, None, &actor))
        .await?;
    user.0
        .session
        .flash(FlashKind::Success, "Removed from the blacklist.");
    Ok(see_other(&format!("/customers/{public_id}/profile")))
}

/// The Contact customer form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ContactForm {
    identity_id: i64,
    text: String,
}

/// `POST /customers/{id}/contact`: opens an outbound conversation with a first message.
pub async fn contact(
    user: CustomersUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<ContactForm>,
) -> Result<HttpResponse, AppError> {
    let public_id = path.into_inner();
    let loaded = load(&state, public_id.clone()).await?;
    let form = form.into_inner();
    let (user_id, name) = (user.0.user.id.0, user.0.user.display_name.clone());
    let result = state
        .run(move |conn| {
            let author = Author {
                kind: AuthorKind::Agent,
                user_id: Some(user_id),
                name: &name,
            };
            traffic::contact(
                conn,
                loaded.customer.id,
                IdentityId(form.identity_id),
                &author,
                &form.text,
            )
        })
        .await;
    match result {
        Ok(_) => {
            user.0.session.flash(
                FlashKind::Success,
                "Message queued: a new conversation is open.",
            );
            Ok(see_other(&format!("/customers/{public_id}/messages")))
        }
        Err(AppError::Invalid(errors)) => {
            user.0.session.flash(
                FlashKind::Error,
                errors.get("text").unwrap_or("Write a message.").to_owned(),
            );
            Ok(see_other(&format!("/customers/{public_id}/profile")))
        }
        Err(AppError::Conflict(message)) => {
            user.0.session.flash(FlashKind::Error, message);
            Ok(see_other(&format!("/customers/{public_id}/profile")))
        }
        Err(other) => Err(other),
    }
}

/// The Send profile link form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SendLinkForm {
    identity_id: i64,
}

/// `POST /customers/{id}/send-link`: sends the self-service link on one identity.
pub async fn send_link(
    user: CustomersUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<SendLinkForm>,
) -> Result<HttpResponse, AppError> {
    let public_id = path.into_inner();
    let loaded = load(&state, public_id.clone()).await?;
    let identity = IdentityId(form.identity_id);
    let (user_id, name, base) = (
        user.0.user.id.0,
        user.0.user.display_name.clone(),
        state.public_url.clone(),
    );
    let result = state
        .run(move |conn| {
            let author = Author {
                kind: AuthorKind::Agent,
                user_id: Some(user_id),
                name: &name,
            };
            crate::services::selfservice::send(conn, loaded.customer.id, identity, &author, &base)
        })
        .await;
    match result {
        Ok(()) => user
            .0
            .session
            .flash(FlashKind::Success, "Profile link sent."),
        Err(AppError::Conflict(message)) => user.0.session.flash(FlashKind::Error, message),
        Err(other) => return Err(other),
    }
    Ok(see_other(&format!("/customers/{public_id}/profile")))
}

/// `POST /customers/{id}/links/revoke`: every self-service link and session of the
/// customer stops working.
pub async fn revoke_links(
    user: CustomersUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let public_id = path.into_inner();
    let loaded = load(&state, public_id.clone()).await?;
    let count = state
        .run(move |conn| crate::services::selfservice::revoke_all(conn, loaded.customer.id))
        .await?;
    user.0.session.flash(
        FlashKind::Success,
        format!("{count} self-service link(s) revoked."),
    );
    Ok(see_other(&format!("/customers/{public_id}/profile")))
}
