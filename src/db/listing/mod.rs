//! The Customers page's query: filters, fuzzy search tiers, sorts and keyset pages. Every
//! filter and sort path has an index (see the migrations); a page is at most three small
//! queries (one per search tier) whatever the table's size, or one pass for a filter whose
//! candidates are a bounded list (see `whole`).

mod conditions;
mod order;
mod plans;
mod totals;
mod valued;
mod walk;
mod whole;

pub use super::search::Bounds;
use chrono::NaiveDateTime;
use conditions::{
    Reading, computed_condition, contains_pattern, custom_condition, standard_condition,
};
use diesel::prelude::*;
pub use order::{Cursor, PageRequest, SortKey, SortValue};
use order::{keyset, moment_after, sorted};
use plans::phone_digits;
pub use plans::{Plans, plan, plan_within};
use serde::{Deserialize, Serialize};
pub use totals::{Total, take_remaking, total};
pub use walk::{FURTHEST, WALK_FIRST, WALK_FIRST_ELSEWHERE, Walk};
pub use whole::{REACH_TESTED_AT_MOST, page_with_total};

use super::among::customer_among;
use super::customers::{Backend, Customer};
use super::schema::{channel_identities, customer_tags, customers};
use super::search::{self, Tier};
use super::types::{CustomerId, PropertyId, TagId};
use super::{DbConnection, lower};
use crate::domain::condition::Test;
use crate::domain::property::PropertyType;
use crate::domain::scope::{Grants, Scope};
use crate::domain::search::FuzzyQuery;

/// What a property condition is about, resolved against the registry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Target {
    /// A standard property: a column of `customers`.
    Standard(String, PropertyType),
    /// A custom property: rows of `customer_values`.
    Custom(PropertyId, PropertyType),
    /// A computed property: a counter or time kept on `customers`.
    Computed(String),
}

/// What the Customers page (and bulk changes and exports) filter by. Every field is
/// optional; all given ones apply.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CustomerFilter {
    /// Created (or, with `on_last_contact`, last contacted) at or after this UTC time.
    pub from: Option<NaiveDateTime>,
    /// … and before this UTC time.
    pub until: Option<NaiveDateTime>,
    /// Apply the period to the last contact instead of the creation time.
    pub on_last_contact: bool,
    /// Has any of these tags.
    pub any_tags: Vec<TagId>,
    /// Has all of these tags.
    pub all_tags: Vec<TagId>,
    /// Name matches (fuzzy).
    pub name: Option<FuzzyQuery>,
    /// Customer ID matches (fuzzy).
    pub public_id: Option<FuzzyQuery>,
    /// E-mail contains (case-insensitive).
    pub email: Option<String>,
    /// Phone contains these digits.
    pub phone: Option<String>,
    /// Has an identity on this channel.
    pub channel: Option<String>,
    /// Has an identity whose id starts with this (in its stored form: lower case, a
    /// phone in E.164).
    #[serde(default)]
    pub contact: Option<String>,
    /// Served by this staff member: a conversation of theirs took or was replied in by them.
    #[serde(default)]
    pub served_by: Option<i64>,
    /// In this lifecycle stage.
    pub lifecycle: Option<String>,
    /// Blacklisted or not.
    pub blacklisted: Option<bool>,
    /// Property conditions.
    pub conditions: Vec<(Target, Test)>,
    /// Only these customers (selected rows), when not empty.
    pub ids: Vec<CustomerId>,
    /// Only customers an agent's teams reach (see `teams::customer_condition`); kept with
    /// a queued export or bulk change, so it reaches no further than its author.
    #[serde(default)]
    pub reach: Option<Grants>,
    /// The tags are held by many customers: test each listed row for them (walking the
    /// sort's index) instead of collecting every holder first.
    #[serde(default)]
    pub probe_tags: bool,
    /// Test each row for its property conditions instead of collecting every holder
    /// first (a total's sample reads a few thousand rows).
    #[serde(default)]
    pub probe_values: bool,
    /// Collect the holders of each property condition into a set and walk the sort's
    /// index against it, instead of reading each holder's row (see [`value_reading`]).
    #[serde(default)]
    pub set_values: bool,
    /// Test the conversation count and the last contact on each row walked along the
    /// sort's index, never through their own indexes: a page's walk stops at a window of
    /// the sort's index (see `walk`), and both databases otherwise read every holder
    /// through those indexes ("never contacted": 200,000 at a million customers; SQLite
    /// sorted them, PostgreSQL intersected them with the window, 13 ms).
    #[serde(default)]
    pub walk_sort: bool,
}

/// Whether conditions that `held` customers match are better tested row by row along the
/// sort's index than collected (`probe_tags`): above the table's break-even (see
/// [`search::list_at_most`]), a walk finds a page sooner than collecting and sorting every
/// holder.
pub fn worth_probing(conn: &mut DbConnection, held: i64) -> QueryResult<bool> {
    let everyone = super::customers::count_everyone(conn)?;
    Ok(held > search::list_at_most(everyone) as i64)
}

/// How a page reads the holders of its property conditions, `(probe_values,
/// set_values)`, for `held` holders: a few are read row by row and sorted; more are
/// collected into a set (a scan of the value index, a cheap test per row) while the
/// sort's index is walked; many are tested on each walked row (a probe into the values
/// per row, but few rows to a page). Reading each holder's row costs several times a set
/// entry, and a probe several times a walked index entry, hence the break-even's fifth
/// and fourfold.
pub fn value_reading(conn: &mut DbConnection, held: i64) -> QueryResult<(bool, bool)> {
    let everyone = super::customers::count_everyone(conn)?;
    let even = search::list_at_most(everyone) as i64;
    let probe = held > 4 * even;
    Ok((probe, !probe && held > even / 5))
}

impl CustomerFilter {
    /// Only these customers (selected rows). No ids matches nobody, never everyone.
    pub fn only(ids: Vec<CustomerId>) -> CustomerFilter {
        CustomerFilter {
            ids: if ids.is_empty() {
                vec![CustomerId(0)]
            } else {
                ids
            },
            ..CustomerFilter::default()
        }
    }

    /// Narrowed to what a reader with this scope sees.
    pub fn within(mut self, scope: &Scope) -> CustomerFilter {
        self.reach = scope.limited().cloned();
        self
    }

    /// The fuzzy search that ranks results, if any: the name's, else the ID's.
    fn ranking(&self) -> Option<(&FuzzyQuery, bool)> {
        match (&self.name, &self.public_id) {
            (Some(name), _) => Some((name, false)),
            (None, Some(id)) => Some((id, true)),
            (None, None) => None,
        }
    }
}

pub(super) type Query = customers::BoxedQuery<'static, Backend>;

/// The filtered query, before sorting and paging; with a `tier`, only the customers
/// matching the fuzzy search that well.
fn filtered(filter: &CustomerFilter, plans: &Plans, tier: Option<Tier>) -> Query {
    // How selective a filter is depends on its values (this week or this year, a rare or
    // a common tag): planned for them on every run.
    let mut query = customers::table
        .into_boxed()
        .filter(crate::db::planned_per_run());
    let (from, until) = (filter.from, filter.until);
    if filter.on_last_contact {
        let contact = || conditions::last_contact(filter.walk_sort);
        if let Some(from) = from {
            query = query.filter(contact().ge(from));
        }
        if let Some(until) = until {
            query = query.filter(contact().lt(until));
        }
    } else {
        if let Some(from) = from {
            query = query.filter(customers::created_at.ge(from));
        }
        if let Some(until) = until {
            query = query.filter(customers::created_at.lt(until));
        }
    }
    if !filter.ids.is_empty() {
        query = query.filter(customer_among(&filter.ids, plans.sqlite));
    }
    if filter.probe_tags {
        if !filter.any_tags.is_empty() {
            query = query.filter(diesel::dsl::exists(
                customer_tags::table
                    .filter(customer_tags::customer_id.eq(customers::id))
                    .filter(customer_tags::tag_id.eq_any(filter.any_tags.clone())),
            ));
        }
        for tag in &filter.all_tags {
            query = query.filter(diesel::dsl::exists(
                customer_tags::table
                    .filter(customer_tags::customer_id.eq(customers::id))
                    .filter(customer_tags::tag_id.eq(*tag)),
            ));
        }
    } else if !filter.any_tags.is_empty() {
        query = query.filter(
            customers::id.eq_any(
                customer_tags::table
                    .filter(customer_tags::tag_id.eq_any(filter.any_tags.clone()))
                    .select(customer_tags::customer_id),
            ),
        );
    }
    if !filter.probe_tags {
        for tag in &filter.all_tags {
            query = query.filter(
                customers::id.eq_any(
                    customer_tags::table
                        .filter(customer_tags::tag_id.eq(*tag))
                        .select(customer_tags::customer_id),
                ),
            );
        }
    }
    let ranking = filter.ranking();
    if let Some(name) = &plans.name {
        let name_tier = tier.filter(|_| ranking.is_some_and(|(_, id)| !id));
        query = search::restrict(query, name, name_tier);
    }
    if let Some(public_id) = &plans.public_id {
        let id_tier = tier.filter(|_| ranking.is_some_and(|(_, id)| id));
        query = search::restrict(query, public_id, id_tier);
    }
    if let Some(email) = &filter.email {
        if let Some(ids) = &plans.email {
            query = query.filter(customer_among(ids, plans.sqlite));
        }
        query = query.filter(
            lower(customers::email)
                .like(contains_pattern(email))
                .escape('\\'),
        );
    }
    if let Some(phone) = &filter.phone {
        if let Some(ids) = &plans.phone {
            query = query.filter(customer_among(ids, plans.sqlite));
        }
        query = query.filter(customers::phone.like(format!("%{}%", phone_digits(phone))));
    }
    if let Some(prefix) = &filter.contact {
        query = match &plans.contact {
            Some(ids) => query.filter(customer_among(ids, plans.sqlite)),
            None => query.filter(
                customers::id.nullable().eq_any(
                    channel_identities::table
                        .filter(
                            lower(channel_identities::external_id.nullable())
                                .like(super::identities::prefix_pattern(prefix))
                                .escape('\\'),
                        )
                        .select(channel_identities::customer_id),
                ),
            ),
        };
    }
    if let Some(user) = filter.served_by {
        use crate::db::schema::{conversation_agents, conversations};
        query = query.filter(
            customers::id.nullable().eq_any(
                conversations::table
                    .filter(
                        conversations::id.eq_any(
                            conversation_agents::table
                                .filter(conversation_agents::user_id.eq(user))
                                .select(conversation_agents::conversation_id),
                        ),
                    )
                    .select(conversations::customer_id),
            ),
        );
    }
    if let Some(channel) = &filter.channel {
        // Tested row by row on `(customer_id, channel)`: a channel's holders are too many
        // to collect.
        query = query.filter(diesel::dsl::exists(
            channel_identities::table
                .filter(channel_identities::customer_id.eq(customers::id.nullable()))
                .filter(channel_identities::channel.eq(channel.clone())),
        ));
    }
    if let Some(grants) = &filter.reach {
        query = query.filter(super::teams::customer_condition(grants));
    }
    if let Some(stage) = &filter.lifecycle {
        query = query.filter(customers::lifecycle.eq(stage.clone()));
    }
    if let Some(blacklisted) = filter.blacklisted {
        query = query.filter(customers::blacklisted.eq(blacklisted));
    }
    for (target, test) in &filter.conditions {
        query = match target {
            Target::Standard(key, ty) => standard_condition(query, key, *ty, test),
            Target::Custom(property, ty) => custom_condition(
                query,
                *property,
                *ty,
                test,
                Reading::of(filter, plans.sqlite),
            ),
            Target::Computed(key) => computed_condition(query, key, test, filter.walk_sort),
        };
    }
    query
}

/// A page of filtered customers after the cursor, each with its search tier (0 without a
/// search). With a fuzzy search, exact matches come first, then partial ones, then those
/// found with a typo; within a tier, by `key` (descending unless `ascending`).
pub fn list_filtered(
    conn: &mut DbConnection,
    filter: &CustomerFilter,
    plans: &Plans,
    page: PageRequest<'_>,
) -> QueryResult<Vec<(Customer, u8)>> {
    Ok(list_within(conn, filter, plans, page, None)?.rows)
}

/// A page of customers, and where its walk stopped when it stopped short of a full page.
#[derive(Debug, Default)]
pub struct Found {
    pub rows: Vec<(Customer, u8)>,
    pub stopped: Option<Stopped>,
}

/// Where a page's walk stopped: it read `searched` customers along the sort's index
/// before the page was full. The page holds the matches up to `at`; the next one searches
/// on after it, `next` customers (`None`: all the rest).
#[derive(Debug, Clone)]
pub struct Stopped {
    pub at: Cursor,
    pub searched: i64,
    pub next: Option<i64>,
}

/// [`list_filtered`], reading along the sort's index only as far as `walk` says when the
/// filter tests customers one by one; with `None`, as far as it takes.
pub fn list_within(
    conn: &mut DbConnection,
    filter: &CustomerFilter,
    plans: &Plans,
    page: PageRequest<'_>,
    walk: Option<Walk>,
) -> QueryResult<Found> {
    let PageRequest {
        key,
        ascending,
        after,
        limit,
    } = page;
    if plans.match_nobody() {
        return Ok(Found::default());
    }
    // Ids first, then their rows: a page walked along the sort's index is tested on the
    // index and the tables its conditions probe (PostgreSQL scans an index only for ids,
    // not for whole rows).
    if filter.ranking().is_none() {
        let mut stopped = None;
        let ids: Vec<CustomerId> = match valued::by_time(filter, page) {
            Some(query) => query.load(conn)?,
            None => {
                let walk = walk
                    .filter(|_| walk::tests_each_row(filter, plans, key))
                    .and_then(|walk| Some((walk, walk.window(plans.sqlite, key)?)));
                let edge = match walk {
                    Some((_, walk)) => walk::edge(conn, filter, page, walk)?,
                    None => None,
                };
                let walked = CustomerFilter {
                    walk_sort: edge.is_some(),
                    ..filter.clone()
                };
                let mut query = sorted(filtered(&walked, plans, None), key, ascending, after);
                if let Some(edge) = &edge {
                    query = walk::up_to(query, key, ascending, edge);
                }
                let ids: Vec<CustomerId> = query.select(customers::id).limit(limit).load(conn)?;
                if let (Some(at), Some((walk, searched))) = (edge, walk) {
                    stopped = ((ids.len() as i64) < limit).then(|| Stopped {
                        at,
                        searched,
                        next: walk.onward().window(plans.sqlite, key),
                    });
                }
                ids
            }
        };
        let found = rows_in_order(conn, &ids)?;
        return Ok(Found {
            rows: found.into_iter().map(|c| (c, 0)).collect(),
            stopped,
        });
    }
    let mut page = Vec::new();
    let first_tier = after.map_or(0, |c| c.tier);
    for tier in Tier::ALL.into_iter().filter(|t| *t as u8 >= first_tier) {
        let wanted = limit - page.len() as i64;
        if wanted <= 0 {
            break;
        }
        let cursor = after.filter(|c| c.tier == tier as u8);
        let query = sorted(filtered(filter, plans, Some(tier)), key, ascending, cursor);
        let ids: Vec<CustomerId> = query.select(customers::id).limit(wanted).load(conn)?;
        let found = rows_in_order(conn, &ids)?;
        page.extend(found.into_iter().map(|c| (c, tier as u8)));
    }
    Ok(Found {
        rows: page,
        stopped: None,
    })
}

/// The rows of `ids`, in that order.
pub(super) fn rows_in_order(
    conn: &mut DbConnection,
    ids: &[CustomerId],
) -> QueryResult<Vec<Customer>> {
    let mut found = super::customers::list_by_ids(conn, ids)?;
    found.sort_by_key(|c| ids.iter().position(|id| *id == c.id));
    Ok(found)
}

/// The next ids matching the filter after `after`, in id order (bulk changes walk the
/// whole result this way, batch by batch).
pub fn ids_after(
    conn: &mut DbConnection,
    filter: &CustomerFilter,
    after: CustomerId,
    limit: i64,
) -> QueryResult<Vec<CustomerId>> {
    in_id_order(conn, filter, after, limit)?
        .select(customers::id)
        .load(conn)
}

/// The next rows matching the filter after `after`, in id order, read with the filter in
/// one statement (exports write them batch by batch).
pub fn rows_after(
    conn: &mut DbConnection,
    filter: &CustomerFilter,
    after: CustomerId,
    limit: i64,
) -> QueryResult<Vec<Customer>> {
    in_id_order(conn, filter, after, limit)?
        .select(Customer::as_select())
        .load(conn)
}

/// At most `limit` customers matching the filter after `after`, in id order.
fn in_id_order(
    conn: &mut DbConnection,
    filter: &CustomerFilter,
    after: CustomerId,
    limit: i64,
) -> QueryResult<Query> {
    let plans = plan(conn, filter)?;
    Ok(filtered(filter, &plans, None)
        .filter(customers::id.gt(after))
        .order(customers::id.asc())
        .limit(limit))
}

/// How many customers match, exactly (for confirmations of bulk changes).
pub fn count_all(conn: &mut DbConnection, filter: &CustomerFilter) -> QueryResult<i64> {
    let plans = plan(conn, filter)?;
    filtered(filter, &plans, None).count().get_result(conn)
}

/// The newest customers' public ids and names, on the creation index: the benchmark's
/// ceiling for the Customers page (no filter, no template).
pub fn list_newest_names(
    conn: &mut DbConnection,
    limit: i64,
) -> QueryResult<Vec<(String, Option<String>)>> {
    customers::table
        .order((customers::created_at.desc(), customers::id.desc()))
        .select((customers::public_id, customers::name))
        .limit(limit)
        .load(conn)
}
