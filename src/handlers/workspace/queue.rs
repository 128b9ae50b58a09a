//! The workspace's list of open conversations: all the reader's teams reach, mine or
//! unassigned, optionally one team's, newest activity first, in keyset pages; the first
//! page refreshes itself from a JSON poll.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::{Deserialize, Serialize};

use crate::auth::CurrentUser;
use crate::db::conversations;
use crate::db::queue::{self, Queue};
use crate::db::types::{ConversationId, CustomerId, TeamId};
use crate::db::{self, customers, identities, teams};
use crate::domain::Role;
use crate::domain::scope::{Grants, Scope};
use crate::error::AppError;
use crate::handlers::customers::identities::channel_label;
use crate::handlers::page::{PageContext, render};
use crate::state::AppState;

/// One row of the workspace list (also the JSON the page polls).
#[derive(Debug, Serialize)]
pub struct QueueRow {
    pub id: i64,
    pub channel: &'static str,
    pub who: String,
    pub known: bool,
    /// The customer's last message (the self-service keyword aside).
    pub preview: String,
    pub age: String,
    /// How long the customer has waited for an agent's reply, when they do.
    pub waiting: Option<String>,
    /// The customer wrote since the reader last opened the conversation.
    pub unread: bool,
    pub assignees: Vec<String>,
    pub last_message_at: i64,
}

fn age(at: chrono::NaiveDateTime) -> String {
    let seconds = (chrono::Utc::now().naive_utc() - at).num_seconds().max(0);
    match seconds {
        0..60 => "just now".to_owned(),
        60..3600 => format!("{} min", seconds / 60),
        3600..86_400 => format!("{} h", seconds / 3600),
        _ => format!("{} d", seconds / 86_400),
    }
}

/// The first `chars` characters of a text, with `…` when it goes on (list previews).
pub(super) fn excerpt(text: &str, chars: usize) -> String {
    let mut short: String = text.chars().take(chars).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}
/// A page of a queue: its rows, the next page's cursor, how many conversations it holds.
pub(super) struct QueuePage {
    pub(super) rows: Vec<QueueRow>,
    next: Option<String>,
    /// How many open conversations the view holds, counted up to [`QUEUE_COUNTED`] + 1.
    pub(super) total: i64,
}

impl QueuePage {
    /// The count as shown: "999+" past what is counted.
    pub(super) fn total_label(&self) -> String {
        if self.total > QUEUE_COUNTED {
            format!("{QUEUE_COUNTED}+")
        } else {
            self.total.to_string()
        }
    }
}

/// The open conversations of a queue with their names, previews, assignees and whether
/// `reader` has read them: seven queries whatever the number of rows.
pub(super) fn queue_rows(
    conn: &mut db::DbConnection,
    queue: Queue,
    reach: &Reach,
    reader: i64,
    after: Option<(chrono::NaiveDateTime, ConversationId)>,
) -> Result<QueuePage, AppError> {
    let team = match reach.team {
        Some(team) => Some(teams::grants_of_team(conn, team)?),
        None => None,
    };
    let within: Option<Grants> = match (reach.scope.limited(), team) {
        (Some(mine), Some(team)) => Some(mine.intersect(&team)),
        (Some(mine), None) => Some(mine.clone()),
        (None, team) => team,
    };
    let mut open = queue::list_open(conn, queue, within.as_ref(), after, QUEUE_PAGE + 1)?;
    let next = (open.len() as i64 > QUEUE_PAGE).then(|| {
        open.truncate(QUEUE_PAGE as usize);
        open.last()
            .map(|c| crate::handlers::page::time_cursor(c.last_message_at, c.id.0))
    });
    let total = queue::count_open(conn, queue, within.as_ref(), QUEUE_COUNTED)?;
    let ids: Vec<ConversationId> = open.iter().map(|c| c.id).collect();
    let last_ids: Vec<_> = open.iter().filter_map(|c| c.last_inbound_id).collect();
    let last: HashMap<ConversationId, String> = queue::list_previews(conn, &last_ids)?
        .into_iter()
        .filter_map(|(conversation, body)| conversation.map(|c| (c, body)))
        .collect();
    let read: HashMap<ConversationId, chrono::NaiveDateTime> =
        queue::list_reads(conn, &ids, reader)?.into_iter().collect();
    let mut assignees: HashMap<ConversationId, Vec<String>> = HashMap::new();
    for (conversation, _, name) in conversations::list_assignees(conn, &ids)? {
        assignees.entry(conversation).or_default().push(name);
    }
    let customer_ids: Vec<CustomerId> = open.iter().filter_map(|c| c.customer_id).collect();
    let names: HashMap<CustomerId, String> = customers::list_display_names(conn, &customer_ids)?
        .into_iter()
        .collect();
    // A contact's own name shows only where no customer's does.
    let identity_ids: Vec<_> = open
        .iter()
        .filter(|c| c.customer_id.is_none_or(|id| !names.contains_key(&id)))
        .map(|c| c.identity_id)
        .collect();
    let contacts: HashMap<_, _> = identities::list_labels(conn, &identity_ids)?
        .into_iter()
        .collect();
    let rows = open
        .into_iter()
        .map(|c| QueueRow {
            id: c.id.0,
            channel: channel_label(&c.channel),
            known: c.customer_id.is_some(),
            who: c
                .customer_id
                .and_then(|id| names.get(&id).cloned())
                .or_else(|| contacts.get(&c.identity_id).cloned())
                .unwrap_or_default(),
            preview: last.get(&c.id).map(|b| excerpt(b, 80)).unwrap_or_default(),
            age: age(c.last_message_at),
            waiting: c.waiting_since.map(age),
            unread: c
                .last_inbound_at
                .is_some_and(|at| read.get(&c.id).is_none_or(|seen| *seen < at)),
            assignees: assignees.remove(&c.id).unwrap_or_default(),
            last_message_at: c.last_message_at.and_utc().timestamp_micros(),
        })
        .collect();
    Ok(QueuePage {
        rows,
        next: next.flatten(),
        total,
    })
}

/// Conversations per page of the queue.
const QUEUE_PAGE: i64 = 50;

/// Open conversations counted for the queue's heading; more read as "999+".
const QUEUE_COUNTED: i64 = 999;

fn parse_after(raw: Option<&str>) -> Option<(chrono::NaiveDateTime, ConversationId)> {
    crate::handlers::page::parse_time_cursor(raw?).map(|(at, id)| (at, ConversationId(id)))
}

/// Query of the workspace: which queue.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct QueueQuery {
    view: Option<String>,
    /// Only this team's conversations.
    team: Option<i64>,
    /// Where the previous page ended.
    after: Option<String>,
}

/// Whose conversations the queue may list: the reader's scope, narrowed to one team.
pub(super) struct Reach {
    scope: Scope,
    team: Option<TeamId>,
}

impl Reach {
    /// Every conversation the reader's scope reaches.
    pub(super) fn everything(scope: Scope) -> Reach {
        Reach { scope, team: None }
    }

    fn of(query: &QueueQuery, current: &CurrentUser) -> Reach {
        Reach {
            scope: current.scope.clone(),
            team: query.team.filter(|t| *t > 0).map(TeamId),
        }
    }
}

/// The team filter's choices: the reader's teams (every team for supervisors).
fn team_choices(
    conn: &mut db::DbConnection,
    current_id: crate::db::types::UserId,
    supervisor: bool,
) -> Result<Vec<(i64, String)>, AppError> {
    let list = if supervisor {
        teams::list_teams(conn)?
    } else {
        teams::list_teams_of_user(conn, current_id)?
    };
    Ok(list.into_iter().map(|t| (t.id.0, t.name)).collect())
}

fn queue_of(query: &QueueQuery, current: &CurrentUser) -> (Queue, &'static str) {
    match query.view.as_deref() {
        Some("mine") => (Queue::Mine(current.user.id.0), "mine"),
        Some("unassigned") => (Queue::Unassigned, "unassigned"),
        _ => (Queue::All, "all"),
    }
}

#[derive(Template)]
#[template(path = "workspace/index.html")]
struct WorkspacePage {
    ctx: PageContext,
    rows: Vec<QueueRow>,
    /// How many open conversations this view holds, as shown ("999+" past the count's
    /// bound).
    total: String,
    view: &'static str,
    /// The teams to narrow to, and the one chosen (0 for all).
    teams: Vec<(i64, String)>,
    team: i64,
    /// The label of "no team chosen".
    all_teams: &'static str,
    /// The query string of this view and team, for links.
    here: String,
    /// The next page's cursor.
    next: Option<String>,
    /// Whether this is a later page (it is not refreshed in place).
    paged: bool,
}

/// `GET /`: the agent's home.
pub async fn index(
    current: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<QueueQuery>,
) -> Result<HttpResponse, AppError> {
    let (queue, view) = queue_of(&query, &current);
    let after = parse_after(query.after.as_deref());
    let reach = Reach::of(&query, &current);
    let team = reach.team.map_or(0, |t| t.0);
    let (me, supervisor) = (current.user.id, current.role() >= Role::Supervisor);
    let (page, teams) = state
        .run(move |conn| {
            let page = queue_rows(conn, queue, &reach, me.0, after)?;
            Ok((page, team_choices(conn, me, supervisor)?))
        })
        .await?;
    let here = if team > 0 {
        format!("view={view}&team={team}")
    } else {
        format!("view={view}")
    };
    render(&WorkspacePage {
        ctx: PageContext::new(&current, "home")?,
        total: page.total_label(),
        rows: page.rows,
        view,
        teams,
        team,
        all_teams: if supervisor {
            "All teams"
        } else {
            "All my teams"
        },
        here,
        next: page.next,
        paged: after.is_some(),
    })
}

/// `GET /workspace/conversations.json`: what the workspace page polls for new messages.
pub async fn poll(
    current: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<QueueQuery>,
) -> Result<HttpResponse, AppError> {
    let (queue, _) = queue_of(&query, &current);
    let reach = Reach::of(&query, &current);
    let me = current.user.id.0;
    let page = state
        .run(move |conn| queue_rows(conn, queue, &reach, me, None))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(serde_json::json!({
            "total_label": page.total_label(),
            "conversations": page.rows,
            "total": page.total,
        })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queue_past_what_is_counted_reads_as_more() {
        let page = |total| QueuePage {
            rows: Vec::new(),
            next: None,
            total,
        };
        assert_eq!(page(0).total_label(), "0");
        assert_eq!(page(QUEUE_COUNTED).total_label(), "999");
        assert_eq!(page(QUEUE_COUNTED + 1).total_label(), "999+");
    }
}
