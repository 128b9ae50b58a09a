//! Settings → Teams: supervisors group agents into teams and give each team channels, or
//! single accounts of a channel. An agent in a team sees only its conversations and the
//! customers reachable through them; with no team defined, everyone sees everything.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::auth::{CurrentUser, Supervisor};
use crate::db::teams::{self, Team};
use crate::db::types::TeamId;
use crate::db::users::User;
use crate::domain::FieldErrors;
use crate::domain::channel::Channel;
use crate::domain::scope::Grant;
use crate::error::{AppError, see_other};
use crate::handlers::customers::identities::channel_label;
use crate::handlers::page::{PageContext, render, render_status};
use crate::page::FlashKind;
use crate::services::teams::{self as team_service, TeamInput};
use crate::state::AppState;

/// One team as the list shows it.
pub struct TeamRow {
    pub id: i64,
    pub name: String,
    pub members: Vec<String>,
    pub channels: Vec<String>,
}

#[derive(Template)]
#[template(path = "settings/teams.html")]
struct TeamsPage {
    ctx: PageContext,
    teams: Vec<TeamRow>,
    /// Active agents in no team (they see nothing while teams exist).
    unteamed: Vec<String>,
}

fn grant_label(grant: &Grant) -> String {
    let channel = channel_label(&grant.channel);
    if grant.account.is_empty() {
        channel.to_owned()
    } else {
        format!("{channel} {}", grant.account)
    }
}

/// `GET /settings/teams`.
pub async fn list(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (teams, members, channels, users) = state
        .run(|conn| {
            Ok((
                teams::list_teams(conn)?,
                teams::list_members(conn)?,
                teams::list_channels(conn)?,
                crate::db::users::list_users(conn)?,
            ))
        })
        .await?;
    let names: HashMap<i64, &User> = users.iter().map(|u| (u.id.0, u)).collect();
    let rows = teams
        .iter()
        .map(|team| TeamRow {
            id: team.id.0,
            name: team.name.clone(),
            members: members
                .iter()
                .filter(|(t, _)| *t == team.id)
                .filter_map(|(_, u)| names.get(&u.0).map(|u| u.display_name.clone()))
                .collect(),
            channels: channels
                .iter()
                .filter(|(t, _)| *t == team.id)
                .map(|(_, g)| grant_label(g))
                .collect(),
        })
        .collect();
    let unteamed = if teams.is_empty() {
        Vec::new()
    } else {
        users
            .iter()
            .filter(|u| u.active && u.role() < crate::domain::Role::Supervisor)
            .filter(|u| !members.iter().any(|(_, m)| *m == u.id))
            .map(|u| u.display_name.clone())
            .collect()
    };
    render(&TeamsPage {
        ctx: PageContext::new(&current, "teams")?,
        teams: rows,
        unteamed,
    })
}

/// A staff member offered as a member.
pub struct MemberChoice {
    pub id: i64,
    pub name: String,
    pub role: &'static str,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "settings/team_form.html")]
struct TeamFormPage {
    ctx: PageContext,
    /// `None` for a new team.
    id: Option<i64>,
    name: String,
    members: Vec<MemberChoice>,
    channels: Vec<(&'static str, &'static str, bool)>,
    accounts: String,
    errors: FieldErrors,
}

async fn form_page(
    current: &CurrentUser,
    state: &AppState,
    id: Option<TeamId>,
    input: Option<TeamInput>,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let (team, input, users) = state
        .run(move |conn| {
            let users = crate::db::users::list_users(conn)?;
            let team: Option<Team> = match id {
                Some(id) => Some(teams::get_team(conn, id)?),
                None => None,
            };
            let input = match (input, &team) {
                (Some(input), _) => input,
                (None, Some(team)) => stored_input(conn, team)?,
                (None, None) => TeamInput::default(),
            };
            Ok((team, input, users))
        })
        .await?;
    let members = users
        .iter()
        .filter(|u| u.active || input.members.contains(&u.id.0))
        .map(|u| MemberChoice {
            id: u.id.0,
            name: u.display_name.clone(),
            role: u.role().label(),
            checked: input.members.contains(&u.id.0),
        })
        .collect();
    let channels = Channel::ALL
        .iter()
        .map(|c| {
            (
                c.as_str(),
                c.label(),
                input.channels.iter().any(|t| t == c.as_str()),
            )
        })
        .collect();
    let failed = !errors.is_empty();
    let page = TeamFormPage {
        ctx: PageContext::new(current, "teams")?,
        id: team.map(|t| t.id.0),
        name: input.name,
        members,
        channels,
        accounts: input.accounts,
        errors,
    };
    if failed {
        render_status(&page, StatusCode::UNPROCESSABLE_ENTITY)
    } else {
        render(&page)
    }
}

/// A stored team as its form shows it.
fn stored_input(conn: &mut crate::db::DbConnection, team: &Team) -> Result<TeamInput, AppError> {
    let members = teams::list_members(conn)?
        .into_iter()
        .filter(|(t, _)| *t == team.id)
        .map(|(_, u)| u.0)
        .collect();
    let grants: Vec<Grant> = teams::list_channels(conn)?
        .into_iter()
        .filter(|(t, _)| *t == team.id)
        .map(|(_, g)| g)
        .collect();
    Ok(TeamInput {
        name: team.name.clone(),
        members,
        channels: grants
            .iter()
            .filter(|g| g.account.is_empty())
            .map(|g| g.channel.clone())
            .collect(),
        accounts: grants
            .iter()
            .filter(|g| !g.account.is_empty())
            .map(|g| format!("{}:{}", g.channel, g.account))
            .collect::<Vec<_>>()
            .join("\n"),
    })
}

/// Reads the form: repeated `member` and `channel` fields.
fn parse_form(pairs: &[(String, String)]) -> TeamInput {
    let mut input = TeamInput::default();
    for (key, value) in pairs {
        match key.as_str() {
            "name" => input.name = value.clone(),
            "member" => {
                if let Ok(id) = value.trim().parse() {
                    input.members.push(id);
                }
            }
            "channel" => input.channels.push(value.clone()),
            "accounts" => input.accounts = value.clone(),
            _ => {}
        }
    }
    input
}

/// `GET /settings/teams/new`.
pub async fn new_form(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    form_page(&current, &state, None, None, FieldErrors::default()).await
}

/// `GET /settings/teams/{id}`.
pub async fn edit_form(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
    path: web::Path<TeamId>,
) -> Result<HttpResponse, AppError> {
    form_page(
        &current,
        &state,
        Some(path.into_inner()),
        None,
        FieldErrors::default(),
    )
    .await
}

/// `POST /settings/teams`.
pub async fn create(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    save(current, state, None, parse_form(&form)).await
}

/// `POST /settings/teams/{id}`.
pub async fn update(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
    path: web::Path<TeamId>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    save(current, state, Some(path.into_inner()), parse_form(&form)).await
}

async fn save(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: Option<TeamId>,
    input: TeamInput,
) -> Result<HttpResponse, AppError> {
    let actor = current.actor();
    let typed = input.clone();
    let result = state
        .run(move |conn| team_service::save_team(conn, &actor, id, &input))
        .await;
    match result {
        Ok(team) => {
            current
                .session
                .flash(FlashKind::Success, format!("Team {} saved.", team.name));
            Ok(see_other("/settings/teams"))
        }
        Err(AppError::Invalid(errors)) => {
            form_page(&current, &state, id, Some(typed), errors).await
        }
        Err(other) => Err(other),
    }
}

/// `POST /settings/teams/{id}/delete`.
pub async fn delete(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
    path: web::Path<TeamId>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let actor = current.actor();
    let team = state
        .run(move |conn| team_service::delete_team(conn, &actor, id))
        .await?;
    current
        .session
        .flash(FlashKind::Success, format!("Team {} deleted.", team.name));
    Ok(see_other("/settings/teams"))
}
