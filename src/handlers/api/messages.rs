//! `POST /api/v1/messages` (inbound traffic) and `POST /api/v1/conversations/{id}/rating`.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Integration;
use crate::db::conversations::WebMetadata;
use crate::db::types::ConversationId;
use crate::error::ApiError;
use crate::handlers::api::body::ApiJson;
use crate::services::conversations;
use crate::services::inbound::{self, Inbound};
use crate::state::AppState;

/// Web visitor metadata (web chat).
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct WebBody {
    pub ip: Option<String>,
    pub region: Option<String>,
    pub user_agent: Option<String>,
    pub source: Option<String>,
}

/// An inbound message.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct MessageBody {
    /// whatsapp, sms, voice, email, telegram, instagram, web, app, wechat or weibo.
    #[schema(example = "whatsapp")]
    pub channel: String,
    /// The sender's id on the channel (phone in E.164 for phone channels).
    #[schema(example = "+15551234567")]
    pub external_id: String,
    /// The name the channel reports.
    pub display_name: Option<String>,
    /// The message text.
    pub text: String,
    /// The channel's message id: a retry with the same id is not stored twice.
    pub message_id: Option<String>,
    /// When it was sent (RFC 3339); now when missing.
    pub sent_at: Option<String>,
    /// The business account the message was sent to, when the channel has several (a
    /// WhatsApp number, a support mailbox, a page): teams may work single accounts.
    #[schema(example = "+15550001111")]
    pub account: Option<String>,
    /// Web visitor metadata.
    pub web: Option<WebBody>,
}

/// An automatic reply.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplyBody {
    pub text: String,
}

/// What happened to an inbound message.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageOutcome {
    /// The conversation the message joined; null when the sender is blacklisted.
    pub conversation_id: Option<i64>,
    /// The customer's public ID, when the sender is known.
    pub customer_id: Option<String>,
    /// Whether the sender is a known customer.
    pub known: bool,
    /// Whether the message was suppressed because the customer is blacklisted.
    pub blocked: bool,
    /// Automatic replies sent back on the same channel.
    pub replies: Vec<ReplyBody>,
}

/// The JSON error body of every 4xx/5xx.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A machine-readable code, e.g. `invalid`, `unauthorized`, `not_found`.
    pub error: String,
    /// A sentence for people.
    pub message: String,
    /// Refused fields, for `invalid`.
    pub fields: Vec<FieldErrorBody>,
}

/// One refused field.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldErrorBody {
    pub field: String,
    pub message: String,
}

/// Receive an inbound message.
#[utoipa::path(
    post,
    path = "/api/v1/messages",
    request_body = MessageBody,
    responses(
        (status = 200, description = "What happened", body = MessageOutcome),
        (status = 401, description = "Missing or revoked token", body = ErrorBody),
        (status = 422, description = "A field is wrong", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn receive(
    _integration: Integration,
    state: web::Data<AppState>,
    body: ApiJson<MessageBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let web = body.web.unwrap_or_default();
    let inbound = Inbound {
        channel: body.channel,
        external_id: body.external_id,
        display_name: body.display_name,
        text: body.text,
        message_id: body.message_id,
        sent_at: body.sent_at,
        account: body.account,
        web: WebMetadata {
            ip: web.ip,
            region: web.region,
            user_agent: web.user_agent,
            source: web.source,
        },
    };
    let base_url = state.public_url.clone();
    let outcome = state
        .run(move |conn| inbound::receive(conn, &inbound, &base_url))
        .await?;
    Ok(HttpResponse::Ok().json(MessageOutcome {
        conversation_id: outcome.conversation_id.map(|c| c.0),
        customer_id: outcome.customer_id,
        known: outcome.known,
        blocked: outcome.blocked,
        replies: outcome
            .replies
            .into_iter()
            .map(|r| ReplyBody { text: r.text })
            .collect(),
    }))
}

/// A satisfaction rating.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RatingBody {
    /// 1 (poor) to 5 (excellent).
    pub rating: i64,
}

/// Rate a conversation.
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/rating",
    params(("id" = i64, Path, description = "Conversation id")),
    request_body = RatingBody,
    responses(
        (status = 204, description = "Recorded"),
        (status = 404, description = "No such conversation", body = ErrorBody),
        (status = 422, description = "Rating out of range", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn rate(
    _integration: Integration,
    state: web::Data<AppState>,
    path: web::Path<ConversationId>,
    body: ApiJson<RatingBody>,
) -> Result<HttpResponse, ApiError> {
    let (id, rating) = (path.into_inner(), body.rating);
    state
        .run(move |conn| conversations::rate(conn, id, rating))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
