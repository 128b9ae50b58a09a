//! Teams and the reach they give: saving a team (name, members, channels) with every field
//! checked at once, and working out what one staff member sees.

use std::collections::BTreeSet;

use crate::db::conversations::Conversation;
use crate::db::teams::{self, Team};
use crate::db::types::{AuditAction, ConversationId, CustomerId, TeamId, UserId};
use crate::db::{self, DbConnection};
use crate::domain::FieldErrors;
use crate::domain::customer::Actor;
use crate::domain::scope::{Grant, Scope};
use crate::error::AppError;
use crate::services::audit;

/// The longest team name.
pub const MAX_NAME: usize = 60;

/// A team as typed in the form.
#[derive(Debug, Clone, Default)]
pub struct TeamInput {
    pub name: String,
    /// Ids of the staff members in the team.
    pub members: Vec<i64>,
    /// Whole channels ticked.
    pub channels: Vec<String>,
    /// Single accounts, one `channel:account` a line.
    pub accounts: String,
}

/// A team checked and ready to store.
struct ValidTeam {
    name: String,
    members: Vec<UserId>,
    grants: BTreeSet<Grant>,
}

fn validate(
    conn: &mut DbConnection,
    input: &TeamInput,
    id: Option<TeamId>,
) -> Result<ValidTeam, AppError> {
    let mut errors = FieldErrors::default();
    let name = input.name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() || name.chars().count() > MAX_NAME {
        errors.push(
            "name",
            format!("Give the team a name of 1 to {MAX_NAME} characters."),
        );
    } else if teams::name_taken(conn, &name, id)? {
        errors.push("name", "A team with this name exists already.");
    }
    let known: Vec<i64> = db::users::list_users(conn)?
        .iter()
        .map(|u| u.id.0)
        .collect();
    let members: BTreeSet<i64> = input.members.iter().copied().collect();
    if members.iter().any(|m| !known.contains(m)) {
        errors.push("members", "Pick members from the list of staff.");
    }
    let mut grants = BTreeSet::new();
    let mut refused = Vec::new();
    for channel in &input.channels {
        match Grant::parse(channel) {
            Ok(grant) => {
                grants.insert(grant);
            }
            Err(message) => refused.push(message),
        }
    }
    if !refused.is_empty() {
        errors.push("channels", refused.join(" "));
    }
    let mut refused = Vec::new();
    for (number, line) in input.accounts.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match Grant::parse(line) {
            Ok(grant) if grant.account.is_empty() => refused.push(format!(
                "Line {}: write the account after the channel, e.g. whatsapp:+15551234567 (tick the channel above for all of its accounts).",
                number + 1
            )),
            Ok(grant) => {
                grants.insert(grant);
            }
            Err(message) => refused.push(format!("Line {}: {message}", number + 1)),
        }
    }
    if !refused.is_empty() {
        errors.push("accounts", refused.join(" "));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    Ok(ValidTeam {
        name,
        members: members.into_iter().map(UserId).collect(),
        grants,
    })
}

/// Creates a team, or changes the one with `id`: name, members and channels in one
/// transaction, audited. Every wrong field is reported at once.
pub fn save_team(
    conn: &mut DbConnection,
    actor: &Actor,
    id: Option<TeamId>,
    input: &TeamInput,
) -> Result<Team, AppError> {
    db::transaction(conn, |conn| {
        let valid = validate(conn, input, id)?;
        let team = match id {
            Some(id) => {
                teams::get_team(conn, id)?;
                teams::update_team_name(conn, id, &valid.name)?;
                teams::get_team(conn, id)?
            }
            None => teams::insert_team(conn, &valid.name)?,
        };
        teams::replace_members(conn, team.id, &valid.members)?;
        teams::replace_channels(conn, team.id, &valid.grants)?;
        let channels: Vec<String> = valid
            .grants
            .iter()
            .map(|g| {
                if g.account.is_empty() {
                    g.channel.clone()
                } else {
                    format!("{}:{}", g.channel, g.account)
                }
            })
            .collect();
        audit::record(
            conn,
            actor,
            AuditAction::TeamSaved,
            &team.name,
            &format!(
                "{} members; channels: {}",
                valid.members.len(),
                if channels.is_empty() {
                    "none".to_owned()
                } else {
                    channels.join(", ")
                }
            ),
        )?;
        Ok(team)
    })
}

/// Deletes a team (its agents keep their other teams).
pub fn delete_team(conn: &mut DbConnection, actor: &Actor, id: TeamId) -> Result<Team, AppError> {
    db::transaction(conn, |conn| {
        let team = teams::get_team(conn, id)?;
        teams::delete_team(conn, id)?;
        audit::record(conn, actor, AuditAction::TeamDeleted, &team.name, "")?;
        Ok(team)
    })
}

/// Whether the scope reaches a conversation.
pub fn sees_conversation(scope: &Scope, conversation: &Conversation) -> bool {
    scope.sees_conversation(&conversation.channel, &conversation.account)
}

/// Whether the scope reaches a customer: one with an identity on a channel the agent's
/// teams work, or one no channel reaches.
pub fn sees_customer(
    conn: &mut DbConnection,
    scope: &Scope,
    customer: CustomerId,
) -> Result<bool, AppError> {
    match scope.limited() {
        None => Ok(true),
        Some(grants) => Ok(teams::reaches_customer(conn, customer, grants)?),
    }
}

/// Keeps the customers the scope reaches (one query for the list).
pub fn retain_reached<T>(
    conn: &mut DbConnection,
    scope: &Scope,
    items: &mut Vec<T>,
    id: impl Fn(&T) -> CustomerId,
) -> Result<(), AppError> {
    if let Some(grants) = scope.limited() {
        let ids: Vec<CustomerId> = items.iter().map(&id).collect();
        let unreached = teams::list_unreached(conn, &ids, grants)?;
        items.retain(|item| !unreached.contains(&id(item)));
    }
    Ok(())
}

/// The customer's conversations the scope does not reach (none for an unlimited scope):
/// every list of theirs leaves these out.
pub fn hidden_conversations(
    conn: &mut DbConnection,
    scope: &Scope,
    customer: CustomerId,
) -> Result<Vec<ConversationId>, AppError> {
    match scope.limited() {
        None => Ok(Vec::new()),
        Some(grants) => Ok(teams::hidden_conversations(conn, customer, grants)?),
    }
}

/// What a page's address is about, for the scope guard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `/conversations/{id}/…`
    Conversation(ConversationId),
    /// `/customers/{public id}/…` (and the other customer of a merge or a duplicate).
    Customer(String),
}

/// Whether the scope reaches every target. One that does not exist passes: its page says
/// "not found" itself (and a merged-away customer ID still redirects to the survivor).
pub fn reaches(
    conn: &mut DbConnection,
    scope: &Scope,
    targets: &[Target],
) -> Result<bool, AppError> {
    if scope.limited().is_none() {
        return Ok(true);
    }
    for target in targets {
        let seen = match target {
            Target::Conversation(id) => {
                match crate::db::conversations::find_conversation(conn, *id)? {
                    Some(conversation) => sees_conversation(scope, &conversation),
                    None => true,
                }
            }
            Target::Customer(public_id) => {
                match crate::db::customers::find_customer_by_public_id(conn, public_id)? {
                    Some(customer) => sees_customer(conn, scope, customer.id)?,
                    None => true,
                }
            }
        };
        if !seen {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The customer with this public ID, if the scope reaches it: staff naming a customer in a
/// form (linking or moving a conversation) learn nothing of one outside their teams.
pub fn find_reachable_customer(
    conn: &mut DbConnection,
    scope: &Scope,
    public_id: &str,
) -> Result<Option<crate::db::customers::Customer>, AppError> {
    match crate::db::customers::find_customer_by_public_id(conn, public_id)? {
        Some(customer) if sees_customer(conn, scope, customer.id)? => Ok(Some(customer)),
        _ => Ok(None),
    }
}
