//! The agent workspace: open conversations (`queue`), one conversation with its thread,
//! reply box, the customer context card and the information panel.

pub mod card;
pub mod panel;
mod queue;

pub use queue::{index, poll};

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::db::conversations;
use crate::db::types::{ConversationId, ConversationStatus};
use crate::domain::FieldErrors;
use crate::error::{AppError, see_other};
use crate::handlers::customers::fields::Submitted;
use crate::handlers::customers::history::{EventView, event_views};
use crate::handlers::customers::traffic::{ConversationView, Shown, conversation_views};
use crate::handlers::page::{PageContext, render_status};
use crate::page::FlashKind;
use crate::services::card as card_service;
use crate::services::conversations::{Author, workspace};
use crate::services::profiles::{self, EditOutcome};
use crate::services::teams;
use crate::state::AppState;
use card::CardView;

#[derive(Template)]
#[template(path = "workspace/conversation.html")]
struct ConversationPage {
    ctx: PageContext,
    /// The open conversations beside this one (the queue, first page).
    queue: Vec<queue::QueueRow>,
    queue_total: String,
    conversation: ConversationView,
    earlier: Vec<ConversationView>,
    more_history: Option<String>,
    next_conversation: Option<i64>,
    open: bool,
    assigned_to_me: bool,
    assignees: Vec<String>,
    card: CardView,
    query: String,
    results: Vec<(String, String)>,
    conflict: Vec<EventView>,
    /// Why a card or profile save was refused as a whole (it came without its version).
    form_error: Option<String>,
    reply: String,
    reply_error: Option<String>,
    note: String,
    note_error: Option<String>,
    panel: panel::PanelView,
    panel_tabs: [(panel::Section, &'static str, &'static str); 8],
    /// The Profile section: every property the reader may see, editable where allowed.
    fields: crate::handlers::customers::fields::FieldGroups,
    version: i64,
    channels: [crate::domain::channel::Channel; crate::domain::channel::Channel::ALL.len()],
}

/// Query of the conversation page.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ConversationQuery {
    /// How many earlier conversations of the relationship to show above this one.
    earlier: usize,
    /// A search to link an unknown contact to an existing customer.
    q: String,
    /// The panel's section (`card` unless said).
    panel: String,
    /// The Summary's page (`micros_k`, see `panel::parse_summary_cursor`).
    before: String,
    /// The Messages section's page: conversations before this cursor.
    threads: String,
}

impl ConversationQuery {
    /// The page with this panel section open.
    pub(crate) fn panel(section: panel::Section) -> Self {
        ConversationQuery {
            panel: section.name().to_owned(),
            ..ConversationQuery::default()
        }
    }
}

struct Extra {
    submitted: Option<Submitted>,
    errors: FieldErrors,
    conflict: Vec<crate::db::events::Event>,
    reply: String,
    reply_error: Option<String>,
    /// A panel form that was refused: channel and id typed, comment typed and the
    /// conversation it was for, and why.
    panel: Option<(String, String, String, i64, FieldErrors)>,
    /// A note that was refused, as typed, and why.
    note: String,
    note_error: Option<String>,
}

impl Extra {
    fn none() -> Self {
        Extra {
            submitted: None,
            errors: FieldErrors::default(),
            conflict: Vec::new(),
            reply: String::new(),
            reply_error: None,
            panel: None,
            note: String::new(),
            note_error: None,
        }
    }
}

async fn conversation_page(
    current: &CurrentUser,
    state: &AppState,
    id: ConversationId,
    query: ConversationQuery,
    extra: Extra,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let ctx = PageContext::new(current, "home")?;
    let time_zone = current.user.time_zone.clone();
    let role = current.role();
    let me = current.user.id.0;
    let search = query.q.clone();
    let earlier_count = query.earlier.min(50);
    let section = panel::Section::parse(&query.panel);
    let before = panel::parse_summary_cursor(&query.before);
    let threads_before = panel::parse_cursor(&query.threads);
    let zone = current.user.time_zone.clone();
    let scope = current.scope.clone();
    let (
        conversation,
        views,
        (more_earlier, next),
        assignees,
        data,
        results,
        mut panel_view,
        beside,
    ) = state
        .run(move |conn| {
            let conversation = conversations::get_conversation(conn, id)?;
            if !teams::sees_conversation(&scope, &conversation) {
                return Err(AppError::NotFound);
            }
            workspace::mark_read(conn, &conversation, me)?;
            let beside = queue::queue_rows(
                conn,
                crate::db::queue::Queue::All,
                &queue::Reach::everything(scope.clone()),
                me,
                None,
            )?;
            // Earlier and later conversations of the customer, on the reader's channels.
            let workspace::Around {
                earlier: mut shown,
                more_earlier,
                next,
            } = workspace::around(conn, &conversation, &scope, earlier_count)?;
            shown.push(conversation.clone());
            let views = conversation_views(conn, &time_zone, shown, Shown::All)?;
            let assignees = conversations::list_assignees(conn, &[id])?;
            let data = card::load(conn, &conversation)?;
            let results = if data.customer.is_none() && !search.trim().is_empty() {
                crate::services::lookup::find_customers(conn, &search, &scope, 10)?
                    .into_iter()
                    .map(|c| (c.public_id.clone(), c.display_name()))
                    .collect()
            } else {
                Vec::new()
            };
            let panel_view = panel::load(
                conn,
                section,
                data.customer.as_ref(),
                &scope,
                &zone,
                before,
                threads_before,
            )?;
            Ok((
                conversation,
                views,
                (more_earlier, next),
                assignees,
                data,
                results,
                panel_view,
                beside,
            ))
        })
        .await?;
    let more_history =
        more_earlier.then(|| format!("/conversations/{}?earlier={}", id.0, earlier_count + 1));
    let next_conversation = next.map(|c| c.0);
    let mut views = views;
    let this = views.pop().ok_or(AppError::NotFound)?;
    let card = card::view(
        &ctx,
        &data,
        &conversation,
        role,
        current.customers_page,
        extra.submitted.as_ref(),
        &extra.errors,
    );
    let conflict = event_views(&ctx, &extra.conflict, &data.registry, role, &[]);
    panel::finish(&mut panel_view, &ctx, &data.registry, role);
    let fields = if section == panel::Section::Profile && data.customer.is_some() {
        crate::handlers::customers::fields::field_groups(
            &ctx,
            &data.registry,
            &data.values,
            profiles::Editor::Staff(role),
            extra.submitted.as_ref(),
            &extra.errors,
        )
    } else {
        crate::handlers::customers::fields::FieldGroups::default()
    };
    let version = extra
        .submitted
        .as_ref()
        .and_then(|s| s.first("version"))
        .and_then(|v| v.parse().ok())
        .or(data.customer.as_ref().map(|c| c.version))
        .unwrap_or_default();
    let page = ConversationPage {
        ctx,
        queue_total: beside.total_label(),
        queue: beside.rows,
        conversation: this,
        earlier: views,
        more_history,
        next_conversation,
        open: conversation.status == ConversationStatus::Open,
        assigned_to_me: assignees.iter().any(|(_, user, _)| *user == me),
        assignees: assignees.into_iter().map(|(_, _, name)| name).collect(),
        card,
        query: query.q,
        results,
        conflict,
        form_error: extra.errors.get("version").map(str::to_owned),
        reply: extra.reply,
        reply_error: extra.reply_error,
        note: extra.note,
        note_error: extra.note_error,
        panel: {
            if let Some((channel, external_id, comment, comment_on, errors)) = extra.panel {
                panel_view.channel = channel;
                panel_view.external_id = external_id;
                panel_view.comment = comment;
                panel_view.comment_on = comment_on;
                panel_view.errors = errors;
            }
            panel_view
        },
        panel_tabs: panel::Section::ALL,
        fields,
        version,
        channels: crate::domain::channel::Channel::ALL,
    };
    render_status(&page, status)
}

/// `GET /conversations/{id}`.
pub async fn show(
    current: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<ConversationId>,
    query: web::Query<ConversationQuery>,
) -> Result<HttpResponse, AppError> {
    conversation_page(
        &current,
        &state,
        path.into_inner(),
        query.into_inner(),
        Extra::none(),
        StatusCode::OK,
    )
    .await
}

/// `POST /conversations/{id}/take`: the agent assigns themselves.
pub async fn take(
    current: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<ConversationId>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let me = current.user.id.0;
    state.run(move |conn| workspace::take(conn, id, me)).await?;
    current
        .session
        .flash(FlashKind::Success, "You took this conversation.");
    Ok(see_other(&format!("/conversations/{}", id.0)))
}

/// `POST /conversations/{id}/close`.
pub async fn close(
    current: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<ConversationId>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    state.run(move |conn| workspace::close(conn, id)).await?;
    current
        .session
        .flash(FlashKind::Success, "Conversation closed.");
    Ok(see_other(&format!("/conversations/{}", id.0)))
}

/// The reply box.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReplyForm {
    text: String,
}

/// `POST /conversations/{id}/reply`: queued for delivery; the agent is assigned.
pub async fn reply(
    current: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<ConversationId>,
    form: web::Form<ReplyForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let text = form.into_inner().text;
    let (me, name) = (current.user.id.0, current.user.display_name.clone());
    let body = text.clone();
    let result = state
        .run(move |conn| workspace::reply(conn, id, me, &name, &body))
        .await;
    match result {
        Ok(()) => Ok(see_other(&format!("/conversations/{}", id.0))),
        Err(AppError::Invalid(errors)) => {
            let extra = Extra {
                reply: text,
                reply_error: errors.get("text").map(str::to_owned),
                ..Extra::none()
            };
            conversation_page(
                &current,
                &state,
                id,
                ConversationQuery::default(),
                extra,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(AppError::Conflict(message)) => {
            current.session.flash(FlashKind::Error, message);
            Ok(see_other(&format!("/conversations/{}", id.0)))
        }
        Err(other) => Err(other),
    }
}

/// `POST /conversations/{id}/card`: saves the attributes edited on the card. Only the
/// attributes the card makes editable for this user are accepted; the rest is the profile
/// service's usual validation, history and version check.
pub async fn save_card(
    current: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<ConversationId>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let submitted = Submitted::from_pairs(&form);
    let role = current.role();
    let actor = current.actor();
    let expected = submitted
        .first("version")
        .and_then(|v| v.parse::<i64>().ok());
    let edit_source = Submitted::from_pairs(&form);
    // The panel's Profile section posts here too, for every property the reader may edit.
    let section = match submitted.first("panel") {
        Some("profile") => panel::Section::Profile,
        _ => panel::Section::Card,
    };
    let result = if expected.is_none() {
        Err(AppError::Invalid(
            crate::handlers::customers::fields::version_missing(),
        ))
    } else {
        state
            .run(move |conn| {
                let edit = |registry: &[crate::db::properties::Property]| {
                    edit_source.to_edit(registry, false)
                };
                let reach = match section {
                    panel::Section::Profile => card_service::Reach::Profile,
                    _ => card_service::Reach::Card,
                };
                card_service::save_beside(conn, id, role, &actor, expected, reach, edit)
            })
            .await
    };
    let (extra, status) = match result {
        Ok(EditOutcome::Saved(changed)) => {
            current.session.flash(
                FlashKind::Success,
                if changed == 0 {
                    "Nothing changed."
                } else {
                    "Saved on the customer's profile."
                },
            );
            return Ok(see_other(&match section {
                panel::Section::Card => format!("/conversations/{}", id.0),
                other => format!("/conversations/{}?panel={}", id.0, other.name()),
            }));
        }
        Ok(EditOutcome::Conflict {
            current_version,
            missed,
        }) => {
            let mut pairs = form.into_inner();
            pairs.retain(|(k, _)| k != "version");
            pairs.push(("version".to_owned(), current_version.to_string()));
            (
                Extra {
                    submitted: Some(Submitted::from_pairs(&pairs)),
                    conflict: missed,
                    ..Extra::none()
                },
                StatusCode::CONFLICT,
            )
        }
        Err(AppError::Invalid(errors)) => (
            Extra {
                submitted: Some(submitted),
                errors,
                ..Extra::none()
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(other) => return Err(other),
    };
    conversation_page(
        &current,
        &state,
        id,
        ConversationQuery::panel(section),
        extra,
        status,
    )
    .await
}

/// The card's note box.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NoteForm {
    body: String,
    /// The panel section to come back to (the Summary's comment box).
    panel: String,
}

/// `POST /conversations/{id}/note`: a note on the customer, from the card.
pub async fn add_note(
    current: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<ConversationId>,
    form: web::Form<NoteForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let actor = current.actor();
    let form = form.into_inner();
    let section = panel::Section::parse(&form.panel);
    let body = form.body.clone();
    let result = state
        .run(move |conn| {
            let conversation = conversations::get_conversation(conn, id)?;
            let customer = conversation.customer_id.ok_or(AppError::Forbidden)?;
            profiles::add_note(conn, customer, &actor, &body)
        })
        .await;
    match result {
        Ok(()) => {
            current
                .session
                .flash(FlashKind::Success, "Note added to the customer.");
            Ok(see_other(&match section {
                panel::Section::Card => format!("/conversations/{}", id.0),
                other => format!("/conversations/{}?panel={}", id.0, other.name()),
            }))
        }
        // Said at the box, with what was typed still in it.
        Err(AppError::Invalid(errors)) => {
            let extra = Extra {
                note_error: Some(errors.get("body").unwrap_or("Write a note.").to_owned()),
                note: form.body,
                ..Extra::none()
            };
            conversation_page(
                &current,
                &state,
                id,
                ConversationQuery::panel(section),
                extra,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(other) => Err(other),
    }
}

/// `POST /conversations/{id}/send-link`: sends the customer their self-service link in
/// this conversation's channel.
pub async fn send_link(
    current: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<ConversationId>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let (me, name, base) = (
        current.user.id.0,
        current.user.display_name.clone(),
        state.public_url.clone(),
    );
    let result = state
        .run(move |conn| {
            let author = Author::agent(me, &name);
            crate::services::selfservice::send_in_conversation(conn, id, &author, &base)
        })
        .await;
    match result {
        Ok(()) => current
            .session
            .flash(FlashKind::Success, "Profile link sent."),
        Err(AppError::Conflict(message)) => current.session.flash(FlashKind::Error, message),
        Err(other) => return Err(other),
    }
    Ok(see_other(&format!("/conversations/{}", id.0)))
}

/// `GET /conversations/{id}/messages.json`: the thread as JSON, for the page to show new
/// messages and delivery states without a reload.
pub async fn thread(
    current: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<ConversationId>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let time_zone = current.user.time_zone.clone();
    let me = current.user.id.0;
    let messages = state
        .run(move |conn| {
            let conversation = conversations::get_conversation(conn, id)?;
            // The reader sees what arrives while the conversation is open.
            workspace::mark_read(conn, &conversation, me)?;
            Ok(
                conversation_views(conn, &time_zone, vec![conversation], Shown::All)?
                    .pop()
                    .map(|c| c.messages)
                    .unwrap_or_default(),
            )
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(serde_json::json!({ "messages": messages })))
}
