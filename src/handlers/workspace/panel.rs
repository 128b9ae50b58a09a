//! The customer information panel beside a conversation: besides the card, the customer's
//! identities (add one), tags (add or remove) and conversations (the agents' replies, with
//! internal comments). Any agent who can see the conversation reaches its customer here,
//! whether or not the Customers page is on for agents.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::{ConversationQuery, Extra, conversation_page};
use crate::auth::CurrentUser;
use crate::db::DbConnection;
use crate::db::comments;
use crate::db::conversations::{self, Conversation};
use crate::db::identities;
use crate::db::tags::{self, Tag};
use crate::db::types::{AuthorKind, ConversationId, CustomerId, Direction, TagId};
use crate::domain::FieldErrors;
use crate::domain::scope::Scope;
use crate::error::{AppError, see_other};
use crate::handlers::customers::identities::{IdentityView, identity_views};
use crate::page::{FlashKind, count_of};
use crate::services::conversations::{self as traffic, Author, workspace};
use crate::services::profiles;
use crate::services::teams;
use crate::state::AppState;

/// The panel's sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Card,
    Summary,
    Profile,
    Identities,
    Tags,
    Conversations,
    Messages,
    Actions,
}

impl Section {
    /// Every section, in the order of the panel's tabs: (section, URL name, label).
    pub const ALL: [(Section, &'static str, &'static str); 8] = [
        (Section::Card, "card", "Card"),
        (Section::Summary, "summary", "Summary"),
        (Section::Profile, "profile", "Profile"),
        (Section::Conversations, "conversations", "Conversations"),
        (Section::Messages, "messages", "Messages"),
        (Section::Identities, "identities", "Identities"),
        (Section::Tags, "tags", "Tags"),
        (Section::Actions, "actions", "Extra actions"),
    ];

    /// From the page's `panel` parameter; the card when absent or unknown.
    pub fn parse(raw: &str) -> Section {
        Section::ALL
            .iter()
            .find(|(_, name, _)| *name == raw)
            .map_or(Section::Card, |(s, _, _)| *s)
    }

    /// Its URL name.
    pub fn name(self) -> &'static str {
        Section::ALL
            .iter()
            .find(|(s, _, _)| *s == self)
            .map_or("card", |(_, name, _)| name)
    }
}

/// One of the customer's conversations as the panel lists it.
pub struct PanelConversation {
    pub id: i64,
    pub channel: &'static str,
    pub started: String,
    pub open: bool,
    /// The agents' replies: (author, time, text).
    pub replies: Vec<(String, String, String)>,
    /// Internal comments: (author, time, text).
    pub comments: Vec<(String, String, String)>,
}

/// One line of the activity log.
pub struct Activity {
    pub at: chrono::NaiveDateTime,
    pub when: String,
    pub what: String,
    pub detail: String,
}

/// What the active section shows.
#[derive(Default)]
pub struct PanelView {
    pub section: &'static str,
    /// Summary: the activity log, newest first, and where the next page starts.
    pub activity: Vec<Activity>,
    /// The next page's cursor: `micros_k`, the time of the page's last line and how many
    /// lines at that very time were shown already.
    pub older: Option<String>,
    /// This page's cursor, read.
    cursor: Option<(chrono::NaiveDateTime, usize)>,
    /// A source of the log had more than a page.
    more: bool,
    /// History entries of this page, turned into activity once the reader is known.
    events: Vec<crate::db::events::Event>,
    /// Summary's first page: the customer and their engagement figures, shown as the
    /// reader may see them once the reader is known.
    figures: Option<(
        crate::db::customers::Customer,
        crate::domain::engagement::Engagement,
    )>,
    pub engagement: Option<crate::handlers::customers::engagement::EngagementView>,
    /// Messages: the customer's conversations with every message, newest first.
    pub threads: Vec<crate::handlers::customers::traffic::ConversationView>,
    /// Where the next page of conversations starts.
    pub threads_older: Option<String>,
    /// Extra actions: the customer's ID, whether they are blacklisted.
    pub public_id: String,
    pub blacklisted: bool,
    pub identities: Vec<IdentityView>,
    pub tags: Vec<Tag>,
    /// Tags the customer does not hold yet, to add.
    pub other_tags: Vec<Tag>,
    pub conversations: Vec<PanelConversation>,
    /// What was typed in a form that was refused, and why.
    pub channel: String,
    pub external_id: String,
    pub comment: String,
    pub comment_on: i64,
    pub errors: FieldErrors,
}

/// How many of the customer's conversations the Conversations section lists.
const CONVERSATIONS: i64 = 20;

/// The Summary's cursor: a time and how many lines at it were shown.
pub fn parse_summary_cursor(raw: &str) -> Option<(chrono::NaiveDateTime, usize)> {
    let (at, shown) = crate::handlers::page::parse_time_cursor(raw)?;
    Some((at, usize::try_from(shown).ok()?))
}

/// The Messages section's cursor: a start time and a conversation id.
pub fn parse_cursor(raw: &str) -> Option<(chrono::NaiveDateTime, ConversationId)> {
    crate::handlers::page::parse_time_cursor(raw).map(|(at, id)| (at, ConversationId(id)))
}

/// Conversations per page of the Messages section.
const THREADS: i64 = 5;

/// Lines of the activity log per page.
const ACTIVITY: i64 = 30;

/// Notes whether a source filled its page (so there may be more before it).
fn counted<T>(more: &mut bool, found: Vec<T>) -> Vec<T> {
    *more |= found.len() as i64 >= ACTIVITY;
    found
}

fn time(zone: &str, at: chrono::NaiveDateTime) -> String {
    crate::page::local_time(at, zone)
}

/// Loads the active section for a customer (a few queries, whatever the section).
pub fn load(
    conn: &mut DbConnection,
    section: Section,
    customer: Option<&crate::db::customers::Customer>,
    scope: &Scope,
    zone: &str,
    before: Option<(chrono::NaiveDateTime, usize)>,
    threads_before: Option<(chrono::NaiveDateTime, ConversationId)>,
) -> Result<PanelView, AppError> {
    let mut view = PanelView {
        section: section.name(),
        ..PanelView::default()
    };
    let Some(row) = customer else {
        view.section = Section::Card.name();
        return Ok(view);
    };
    let customer = row.id;
    // The customer's conversations on channels the reader's teams do not work.
    let hidden = teams::hidden_conversations(conn, scope, customer)?;
    match section {
        // Built from the card's data once the reader is known (see `conversation_page`).
        Section::Card | Section::Profile => {}
        Section::Summary => {
            use crate::db::activity;
            view.cursor = before;
            if before.is_none() {
                let figures = crate::services::engagement::figures(conn, customer, scope)?;
                view.figures = Some((row.clone(), figures));
            }
            let before = before.map_or_else(
                || crate::db::now() + chrono::TimeDelta::seconds(1),
                |(at, _)| at,
            );
            let mut log: Vec<Activity> = Vec::new();
            let line = |at, what: String, detail: String| Activity {
                at,
                when: String::new(),
                what,
                detail,
            };
            for c in counted(
                &mut view.more,
                activity::conversations_before(conn, customer, &hidden, before, ACTIVITY)?,
            ) {
                let channel = crate::handlers::customers::identities::channel_label(&c.channel);
                let state = match c.ended_at {
                    Some(_) => "closed",
                    None if c.status == crate::db::types::ConversationStatus::Open => "open",
                    None => "closed",
                };
                log.push(line(
                    c.started_at,
                    format!("Conversation on {channel}"),
                    format!(
                        "{state} · {}",
                        count_of(c.messages_count, "message", "messages")
                    ),
                ));
            }
            for c in counted(
                &mut view.more,
                activity::ratings_before(conn, customer, &hidden, before, ACTIVITY)?,
            ) {
                if let (Some(rating), Some(at)) = (c.rating, c.rated_at) {
                    log.push(line(
                        at,
                        "Rated the conversation".into(),
                        format!("{rating} of 5"),
                    ));
                }
            }
            for m in counted(
                &mut view.more,
                activity::messages_before(conn, customer, &hidden, before, ACTIVITY)?,
            ) {
                let who = match m.direction {
                    Direction::Inbound => "Message from the customer".to_owned(),
                    Direction::Outbound => format!(
                        "Reply by {}",
                        m.author_name.clone().unwrap_or_else(|| "Clientele".into())
                    ),
                };
                log.push(line(m.sent_at, who, super::queue::excerpt(&m.body, 140)));
            }
            for n in counted(
                &mut view.more,
                activity::notes_before(conn, customer, before, ACTIVITY)?,
            ) {
                log.push(line(
                    n.created_at,
                    format!("Note by {}", n.author_name),
                    super::queue::excerpt(&n.body, 140),
                ));
            }
            view.events = counted(
                &mut view.more,
                activity::events_before(conn, customer, before, ACTIVITY)?,
            );
            view.activity = log;
        }
        Section::Messages => {
            let mut found = conversations::list_customer_conversations_before(
                conn,
                customer,
                &hidden,
                threads_before,
                THREADS + 1,
            )?;
            if found.len() as i64 > THREADS {
                found.truncate(THREADS as usize);
                view.threads_older = found
                    .last()
                    .map(|c| crate::handlers::page::time_cursor(c.started_at, c.id.0));
            }
            view.threads = crate::handlers::customers::traffic::conversation_views(
                conn,
                zone,
                found,
                crate::handlers::customers::traffic::Shown::All,
            )?;
        }
        Section::Actions => {
            let found = crate::db::customers::get_customer(conn, customer)?;
            view.public_id = found.public_id;
            view.blacklisted = found.blacklisted;
        }
        Section::Identities => {
            view.identities = identity_views(identities::list_customer_identities(conn, customer)?);
        }
        Section::Tags => {
            view.tags = tags::list_customer_tags(conn, customer)?;
            view.other_tags = tags::list_tags(conn)?
                .into_iter()
                .filter(|t| !view.tags.iter().any(|held| held.id == t.id))
                .collect();
        }
        Section::Conversations => {
            let found: Vec<Conversation> = conversations::list_customer_conversations_before(
                conn,
                customer,
                &hidden,
                None,
                CONVERSATIONS,
            )?;
            let ids: Vec<ConversationId> = found.iter().map(|c| c.id).collect();
            let messages = conversations::list_messages_of(conn, &ids)?;
            let notes = comments::list_for(conn, &ids)?;
            view.conversations = found
                .iter()
                .map(|c| PanelConversation {
                    id: c.id.0,
                    channel: crate::handlers::customers::identities::channel_label(&c.channel),
                    started: time(zone, c.started_at),
                    open: c.status == crate::db::types::ConversationStatus::Open,
                    replies: messages
                        .iter()
                        .filter(|m| {
                            m.conversation_id == Some(c.id)
                                && m.direction == Direction::Outbound
                                && m.author_kind == AuthorKind::Agent
                        })
                        .map(|m| {
                            (
                                m.author_name.clone().unwrap_or_default(),
                                time(zone, m.sent_at),
                                m.body.clone(),
                            )
                        })
                        .collect(),
                    comments: notes
                        .iter()
                        .filter(|n| n.conversation_id == c.id)
                        .map(|n| {
                            (
                                n.author_name.clone(),
                                time(zone, n.created_at),
                                n.body.clone(),
                            )
                        })
                        .collect(),
                })
                .collect();
        }
    }
    Ok(view)
}

/// Finishes the Summary for its reader: History entries join the log as this role may see
/// them, the log is cut to a page, and times are shown in the reader's zone.
pub fn finish(
    view: &mut PanelView,
    ctx: &crate::page::PageContext,
    registry: &[crate::db::properties::Property],
    role: crate::domain::Role,
) {
    use crate::handlers::customers::history::event_views;
    if let Some((customer, figures)) = view.figures.take() {
        view.engagement = Some(crate::handlers::customers::engagement::view(
            ctx, &customer, registry, role, &figures,
        ));
    }
    for event in std::mem::take(&mut view.events) {
        let at = event.created_at;
        let shown = std::slice::from_ref(&event);
        for entry in event_views(ctx, shown, registry, role, shown) {
            let detail = match (entry.old.is_empty(), entry.new.is_empty()) {
                (true, true) => entry.note.unwrap_or_default(),
                (true, false) => entry.new,
                _ => format!("{} → {}", entry.old, entry.new),
            };
            view.activity.push(Activity {
                at,
                when: String::new(),
                what: entry.what,
                detail,
            });
        }
    }
    view.activity.sort_by_key(|line| std::cmp::Reverse(line.at));
    // Lines at the cursor's very time that the previous page showed are left out.
    let (mut skip, at_cursor) = match view.cursor {
        Some((at, shown)) => (shown, Some(at)),
        None => (0, None),
    };
    view.activity.retain(|line| {
        if Some(line.at) == at_cursor && skip > 0 {
            skip -= 1;
            false
        } else {
            true
        }
    });
    let page = ACTIVITY as usize;
    if view.activity.len() > page || view.more {
        view.activity.truncate(page);
        view.older = view.activity.last().map(|last| {
            let mut same = view.activity.iter().filter(|l| l.at == last.at).count();
            if Some(last.at) == at_cursor {
                same += view.cursor.map_or(0, |(_, shown)| shown);
            }
            crate::handlers::page::time_cursor(last.at, same as i64)
        });
    }
    for line in &mut view.activity {
        line.when = ctx.time(line.at);
    }
}

fn back(id: ConversationId, section: Section) -> String {
    format!("/conversations/{}?panel={}", id.0, section.name())
}

/// The customer of a conversation, or 404 for a conversation with an unknown contact.
async fn customer_of(state: &AppState, id: ConversationId) -> Result<CustomerId, AppError> {
    state
        .run(move |conn| {
            conversations::get_conversation(conn, id)?
                .customer_id
                .ok_or(AppError::NotFound)
        })
        .await
}

/// The panel's add-identity form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct IdentityForm {
    channel: String,
    external_id: String,
}

/// `POST /conversations/{id}/identities`: adds a destination to the conversation's
/// customer, normalised as everywhere.
pub async fn add_identity(
    current: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<ConversationId>,
    form: web::Form<IdentityForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let customer = customer_of(&state, id).await?;
    let form = form.into_inner();
    let (actor, scope) = (current.actor(), current.scope.clone());
    let (channel, external) = (form.channel.clone(), form.external_id.clone());
    let result = state
        .run(move |conn| traffic::add_identity(conn, customer, &channel, &external, &actor, &scope))
        .await;
    match result {
        Ok(()) => {
            current.session.flash(FlashKind::Success, "Identity added.");
            Ok(see_other(&back(id, Section::Identities)))
        }
        Err(AppError::Invalid(errors)) => {
            let mut extra = Extra::none();
            extra.panel = Some((form.channel, form.external_id, String::new(), 0, errors));
            conversation_page(
                &current,
                &state,
                id,
                ConversationQuery::panel(Section::Identities),
                extra,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(other) => Err(other),
    }
}

/// The panel's tag form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TagForm {
    tag: i64,
}

/// `POST /conversations/{id}/tags`: tags the conversation's customer.
pub async fn add_tag(
    current: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<ConversationId>,
    form: web::Form<TagForm>,
) -> Result<HttpResponse, AppError> {
    set_tag(current, state, path.into_inner(), TagId(form.tag), true).await
}

/// `POST /conversations/{id}/tags/{tag}/remove`.
pub async fn remove_tag(
    current: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<(ConversationId, TagId)>,
) -> Result<HttpResponse, AppError> {
    let (id, tag) = path.into_inner();
    set_tag(current, state, id, tag, false).await
}

async fn set_tag(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: ConversationId,
    tag: TagId,
    on: bool,
) -> Result<HttpResponse, AppError> {
    let customer = customer_of(&state, id).await?;
    let actor = current.actor();
    state
        .run(move |conn| profiles::set_tag(conn, customer, tag, on, &actor))
        .await?;
    current.session.flash(
        FlashKind::Success,
        if on { "Tag added." } else { "Tag removed." },
    );
    Ok(see_other(&back(id, Section::Tags)))
}

/// The comment box under a conversation's replies.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CommentForm {
    comment: String,
    /// The conversation whose page the panel is on.
    from: i64,
}

/// `POST /conversations/{id}/comments`: an internal comment on conversation `id` (one of
/// the customer's), never sent to the customer.
pub async fn comment(
    current: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<ConversationId>,
    form: web::Form<CommentForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let form = form.into_inner();
    let from = if form.from > 0 {
        ConversationId(form.from)
    } else {
        id
    };
    let (user_id, name) = (current.user.id.0, current.user.display_name.clone());
    let body = form.comment.clone();
    let result = state
        .run(move |conn| {
            // The page's conversation and this one belong to one customer.
            let here = conversations::get_conversation(conn, from)?;
            let target = conversations::get_conversation(conn, id)?;
            if here.customer_id.is_none() || here.customer_id != target.customer_id {
                return Err(AppError::NotFound);
            }
            let author = Author {
                kind: AuthorKind::Agent,
                user_id: Some(user_id),
                name: &name,
            };
            workspace::comment(conn, id, &author, &body)
        })
        .await;
    match result {
        Ok(()) => {
            current.session.flash(FlashKind::Success, "Comment added.");
            Ok(see_other(&back(from, Section::Conversations)))
        }
        Err(AppError::Invalid(errors)) => {
            let mut extra = Extra::none();
            extra.panel = Some((String::new(), String::new(), form.comment, id.0, errors));
            conversation_page(
                &current,
                &state,
                from,
                ConversationQuery::panel(Section::Conversations),
                extra,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(other) => Err(other),
    }
}
