//! Teams, their members and the channels (or channel accounts) they work, and the
//! predicates that keep an agent's lists and pages inside their teams' reach.

use std::collections::BTreeSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::customers::Backend;
use super::kept;
use super::schema::{
    channel_identities, conversations, customers, team_channels, team_members, teams,
};
use super::types::{ConversationId, CustomerId, TeamId, UserId};
use super::{DbConnection, now};
use crate::domain::Role;
use crate::domain::scope::{Grant, Grants, Scope};

/// A team as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = teams)]
pub struct Team {
    pub id: TeamId,
    pub name: String,
    pub name_key: String,
    pub created_at: NaiveDateTime,
}

/// Every team, by name.
pub fn list_teams(conn: &mut DbConnection) -> QueryResult<Vec<Team>> {
    teams::table
        .order(teams::name_key.asc())
        .select(Team::as_select())
        .load(conn)
}

/// The team with this id, or NotFound.
pub fn get_team(conn: &mut DbConnection, id: TeamId) -> QueryResult<Team> {
    teams::table.find(id).select(Team::as_select()).first(conn)
}

/// Whether another team already has this name (in any case).
pub fn name_taken(
    conn: &mut DbConnection,
    name: &str,
    except: Option<TeamId>,
) -> QueryResult<bool> {
    let mut query = teams::table
        .filter(teams::name_key.eq(name.to_lowercase()))
        .into_boxed();
    if let Some(id) = except {
        query = query.filter(teams::id.ne(id));
    }
    Ok(query.count().get_result::<i64>(conn)? > 0)
}

/// Creates a team.
pub fn insert_team(conn: &mut DbConnection, name: &str) -> QueryResult<Team> {
    diesel::insert_into(teams::table)
        .values((
            teams::name.eq(name),
            teams::name_key.eq(name.to_lowercase()),
            teams::created_at.eq(now()),
        ))
        .get_result(conn)
}

/// Renames a team.
pub fn update_team_name(conn: &mut DbConnection, id: TeamId, name: &str) -> QueryResult<usize> {
    kept::update(
        teams::table.find(id),
        (
            teams::name.eq(name),
            teams::name_key.eq(name.to_lowercase()),
        ),
    )
    .execute(conn)
}

/// Deletes a team with its members and channels.
pub fn delete_team(conn: &mut DbConnection, id: TeamId) -> QueryResult<usize> {
    diesel::delete(team_members::table.filter(team_members::team_id.eq(id))).execute(conn)?;
    diesel::delete(team_channels::table.filter(team_channels::team_id.eq(id))).execute(conn)?;
    diesel::delete(teams::table.find(id)).execute(conn)
}

/// Every membership, as (team, user).
pub fn list_members(conn: &mut DbConnection) -> QueryResult<Vec<(TeamId, UserId)>> {
    team_members::table
        .select((team_members::team_id, team_members::user_id))
        .load::<(TeamId, i64)>(conn)
        .map(|rows| rows.into_iter().map(|(t, u)| (t, UserId(u))).collect())
}

/// Every team's channels, as (team, grant).
pub fn list_channels(conn: &mut DbConnection) -> QueryResult<Vec<(TeamId, Grant)>> {
    team_channels::table
        .order((team_channels::channel.asc(), team_channels::account.asc()))
        .select((
            team_channels::team_id,
            team_channels::channel,
            team_channels::account,
        ))
        .load::<(TeamId, String, String)>(conn)
        .map(|rows| {
            rows.into_iter()
                .map(|(team, channel, account)| (team, Grant { channel, account }))
                .collect()
        })
}

/// Sets a team's members to exactly these users.
pub fn replace_members(conn: &mut DbConnection, team: TeamId, users: &[UserId]) -> QueryResult<()> {
    diesel::delete(team_members::table.filter(team_members::team_id.eq(team))).execute(conn)?;
    for user in users {
        diesel::insert_into(team_members::table)
            .values((
                team_members::team_id.eq(team),
                team_members::user_id.eq(user.0),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Sets a team's channels to exactly these grants.
pub fn replace_channels(
    conn: &mut DbConnection,
    team: TeamId,
    grants: &BTreeSet<Grant>,
) -> QueryResult<()> {
    diesel::delete(team_channels::table.filter(team_channels::team_id.eq(team))).execute(conn)?;
    for grant in grants {
        diesel::insert_into(team_channels::table)
            .values((
                team_channels::team_id.eq(team),
                team_channels::channel.eq(&grant.channel),
                team_channels::account.eq(&grant.account),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// What a user's teams work, all teams together.
pub fn grants_of_user(conn: &mut DbConnection, user: UserId) -> QueryResult<Grants> {
    let rows: Vec<(String, String)> = team_channels::table
        .filter(
            team_channels::team_id.eq_any(
                team_members::table
                    .filter(team_members::user_id.eq(user.0))
                    .select(team_members::team_id),
            ),
        )
        .select((team_channels::channel, team_channels::account))
        .load(conn)?;
    Ok(Grants(
        rows.into_iter()
            .map(|(channel, account)| Grant { channel, account })
            .collect(),
    ))
}

/// What a staff member sees (see [`Scope::of`]), given whether any team exists (read with
/// the session, [`super::sessions::reader_of_session`]): one query for an agent in a
/// team, none for a supervisor.
pub fn scope_of(
    conn: &mut DbConnection,
    user: UserId,
    role: Role,
    teams_exist: bool,
) -> QueryResult<Scope> {
    if role >= Role::Supervisor {
        return Ok(Scope::Everything);
    }
    let grants = if teams_exist {
        grants_of_user(conn, user)?
    } else {
        Grants::default()
    };
    Ok(Scope::of(role, teams_exist, grants))
}

/// What one team works.
pub fn grants_of_team(conn: &mut DbConnection, team: TeamId) -> QueryResult<Grants> {
    let rows: Vec<(String, String)> = team_channels::table
        .filter(team_channels::team_id.eq(team))
        .select((team_channels::channel, team_channels::account))
        .load(conn)?;
    Ok(Grants(
        rows.into_iter()
            .map(|(channel, account)| Grant { channel, account })
            .collect(),
    ))
}

/// The teams a user is in.
pub fn list_teams_of_user(conn: &mut DbConnection, user: UserId) -> QueryResult<Vec<Team>> {
    teams::table
        .filter(
            teams::id.eq_any(
                team_members::table
                    .filter(team_members::user_id.eq(user.0))
                    .select(team_members::team_id),
            ),
        )
        .order(teams::name_key.asc())
        .select(Team::as_select())
        .load(conn)
}

/// A condition on `conversations` true for a conversation the grants reach.
pub type ConversationCondition =
    Box<dyn BoxableExpression<conversations::table, Backend, SqlType = Bool>>;

/// The conversations on the grants' channels and accounts (none when there are no grants).
pub fn conversation_condition(grants: &Grants) -> ConversationCondition {
    let mut condition: ConversationCondition =
        Box::new(conversations::channel.eq_any(grants.whole_channels()));
    for (channel, account) in grants.accounts() {
        condition = Box::new(
            condition.or(conversations::channel
                .eq(channel)
                .and(conversations::account.eq(account))),
        );
    }
    condition
}

/// A condition on `customers` true for a customer the grants reach: one with an identity
/// on a channel they work, or one no channel reaches at all (created or imported by hand,
/// which no team owns). Tested row by row on the `(customer_id, channel)` index, as one
/// correlated aggregate: the highest of 1 for an identity on a granted channel and 0 for
/// any other, and 1 when there is none. (Written as `EXISTS … OR NOT EXISTS …`, PostgreSQL
/// turned each `EXISTS` into a hash of every matching identity, built by reading the whole
/// table on every request.)
pub fn customer_condition(
    grants: &Grants,
) -> Box<dyn BoxableExpression<customers::table, Backend, SqlType = Bool>> {
    use diesel::dsl::{case_when, max};
    use diesel::sql_types::Integer;
    let reached = channel_identities::table
        .filter(channel_identities::customer_id.eq(customers::id.nullable()))
        .select(max(case_when(
            channel_identities::channel.eq_any(grants.channels()),
            1.into_sql::<Integer>(),
        )
        .otherwise(0.into_sql::<Integer>())))
        .single_value();
    // `<> 0` rather than `= 1`: PostgreSQL, knowing nothing of the expression, takes
    // `= 1` to hold for 1 row in 200 and then reads and sorts the whole table rather than
    // walk the sort's index; `<> 0` it takes to hold for most rows, as it usually does.
    Box::new(super::coalesce(reached, 1).ne(0))
}

/// Whether the grants reach this customer (see [`customer_condition`]).
pub fn reaches_customer(
    conn: &mut DbConnection,
    customer: CustomerId,
    grants: &Grants,
) -> QueryResult<bool> {
    Ok(!list_unreached(conn, &[customer], grants)?.contains(&customer))
}

/// Which of these customers the grants do not reach (see [`customer_condition`]), in
/// ascending order: one query for the whole list.
pub fn list_unreached(
    conn: &mut DbConnection,
    customers: &[CustomerId],
    grants: &Grants,
) -> QueryResult<Vec<CustomerId>> {
    if customers.is_empty() {
        return Ok(Vec::new());
    }
    let held: Vec<(Option<CustomerId>, String)> = among_backend!(
        conn,
        channel_identities::customer_id.assume_not_null(),
        customers,
        |c, among| channel_identities::table
            .filter(among)
            .select((channel_identities::customer_id, channel_identities::channel))
            .distinct()
            .load(c)
    )?;
    let reachable = grants.channels();
    let mut seen = std::collections::BTreeSet::new();
    let mut reached = std::collections::BTreeSet::new();
    for (customer, channel) in held {
        let Some(customer) = customer else { continue };
        if reachable.contains(&channel) {
            reached.insert(customer);
        }
        seen.insert(customer);
    }
    Ok(seen.difference(&reached).copied().collect())
}

/// The conversations of a customer the grants do not reach: left out of every list of
/// theirs an agent reads.
pub fn hidden_conversations(
    conn: &mut DbConnection,
    customer: CustomerId,
    grants: &Grants,
) -> QueryResult<Vec<ConversationId>> {
    conversations::table
        .filter(conversations::customer_id.eq(customer))
        .filter(diesel::dsl::not(conversation_condition(grants)))
        .select(conversations::id)
        .load(conn)
}
