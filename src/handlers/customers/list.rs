//! `GET /customers`: the Customers page (filters, fuzzy search, sorts, keyset pages) and
//! creating a customer.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::columns::{self, Column};
use super::fields::{FieldGroups, Submitted, field_groups};
use super::filter::{self, Chip, FilterForm, NEW_CONDITION_KEYS, SearchKind, query_of};
use super::pager::{Further, PLACING, Pager, Position, pager};
use super::{editor_of, lifecycle_label};
use crate::auth::CustomersUser;
use crate::db::listing::{self, Cursor, SortKey, Total};
use crate::db::properties::{self, Property};
use crate::db::tags::{self, Tag};
use crate::db::types::CustomerId;
use crate::domain::FieldErrors;
use crate::domain::channel::Channel;
use crate::domain::condition::{Operator, operators_for};
use crate::domain::customer::Lifecycle;
use crate::error::{AppError, see_other};
use crate::handlers::page::{PageContext, render, render_status};
use crate::page::{FlashKind, count_of};
use crate::services::profiles;
use crate::state::AppState;

/// One row of the list.
pub struct Row {
    pub public_id: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub lifecycle: &'static str,
    pub tags: Vec<Tag>,
    pub conversations: i64,
    pub messages: i64,
    pub last_contact: Option<String>,
    pub csat: Option<String>,
    pub created: String,
    /// Found only with a typo in the search.
    pub similar: bool,
}

/// A property the condition form offers, with the operators that fit it.
pub struct Filterable {
    pub key: String,
    pub label: String,
    pub operators: Vec<Operator>,
}

#[derive(Template)]
#[template(path = "customers/list.html")]
struct ListPage {
    ctx: PageContext,
    rows: Vec<Row>,
    show_name: bool,
    show_email: bool,
    show_phone: bool,
    /// The optional columns shown, in order.
    columns: Vec<Column>,
    /// The column chooser's boxes.
    choices: Vec<columns::Choice>,
    next: Option<String>,
    previous: Option<String>,
    /// "Search further", when the page's walk stopped before the page was full.
    further: Option<Further>,
    /// "51–100", when the page shows anyone.
    range: Option<String>,
    /// How the search box was read ("e-mail"), when searching.
    searched: Option<&'static str>,
    /// The other ways to read the search box, with their URLs.
    other_readings: Vec<(&'static str, String)>,
    filters_open: bool,
    form: FilterForm,
    total: String,
    error: Option<String>,
    bulk_error: Option<String>,
    condition_error: Option<String>,
    chips: Vec<Chip>,
    filterable: Vec<Filterable>,
    operators: [Operator; 16],
    sorts: Vec<(&'static str, &'static str)>,
    all_tags: Vec<Tag>,
    segments: Vec<crate::db::segments::Segment>,
    current_query: String,
    is_supervisor: bool,
    /// Whether the reader's teams limit what "all" means.
    teams_only: bool,
    channels: [Channel; Channel::ALL.len()],
    lifecycles: [Lifecycle; 6],
}

/// Whether a sort's column is visible to the reader.
fn sort_visible(key: SortKey, visible: &dyn Fn(&str) -> bool) -> bool {
    match key {
        SortKey::Name => visible("name"),
        SortKey::LastContact => visible("last_contact_at"),
        SortKey::Conversations => visible("conversations_count"),
        SortKey::Satisfaction => visible("csat_average"),
        SortKey::Created | SortKey::Updated => true,
    }
}

/// The sort asked for, if its column is visible to the reader; creation time otherwise.
fn chosen_sort(resolved: &filter::Resolved, role: crate::domain::Role) -> SortKey {
    let visible = |key: &str| {
        resolved
            .registry
            .iter()
            .any(|p| p.key == key && p.visible_to(role))
    };
    Some(SortKey::parse(&resolved.form.sort))
        .filter(|k| sort_visible(*k, &visible))
        .unwrap_or(SortKey::Created)
}

/// A page of the list and its total, read with `filter`, searched `further` times (see
/// `listing::Walk`).
fn read_page(
    conn: &mut crate::db::DbConnection,
    resolved: &filter::Resolved,
    filter: &crate::db::listing::CustomerFilter,
    role: crate::domain::Role,
    (after, further): (Option<&Cursor>, u32),
) -> diesel::QueryResult<(listing::Found, Total)> {
    let plans = listing::plan(conn, filter)?;
    let page = listing::PageRequest {
        key: chosen_sort(resolved, role),
        ascending: resolved.form.dir == "asc",
        after,
        limit: resolved.form.size + 1,
    };
    if let Some((rows, total)) = listing::page_with_total(conn, filter, &plans, page)? {
        let found = listing::Found {
            rows,
            stopped: None,
        };
        return Ok((found, total));
    }
    // With property conditions, the total comes first: when many customers hold the
    // values, the page tests rows along the sort's index instead of collecting every
    // holder and sorting them.
    let mut page_filter = filter.clone();
    let early = if filter.conditions.is_empty() {
        None
    } else {
        let total = listing::total(conn, filter, &plans, None)?;
        if let Total::About(n) | Total::Exact(n) = total {
            (page_filter.probe_values, page_filter.set_values) = listing::value_reading(conn, n)?;
        }
        Some(total)
    };
    let mut found = listing::list_within(
        conn,
        &page_filter,
        &plans,
        page,
        Some(listing::Walk::further(further)),
    )?;
    let size = usize::try_from(resolved.form.size).unwrap_or(0);
    let shown = found.rows.len();
    let complete = (after.is_none() && found.stopped.is_none() && shown <= size).then_some(shown);
    let total = match (complete, early) {
        (Some(rows), _) => Total::Exact(rows as i64),
        (None, Some(total)) => total,
        (None, None) => listing::total(conn, filter, &plans, None)?,
    };
    // A first page that already shows every match the total counted searched far enough.
    if after.is_none() && total == Total::Exact(shown as i64) {
        found.stopped = None;
    }
    Ok((found, total))
}

/// What a list request read: the filter, how the search box was read, the page and its
/// total, and what the form offers.
struct Read {
    resolved: filter::Resolved,
    searched: Option<SearchKind>,
    found: listing::Found,
    total: Total,
    tags: HashMap<CustomerId, Vec<Tag>>,
    all_tags: Vec<Tag>,
    segments: Vec<crate::db::segments::Segment>,
}

/// Reads the page: the search box is read each way it may mean, most likely first, until
/// one finds someone (later pages keep the way the first page found).
fn read(
    conn: &mut crate::db::DbConnection,
    pairs: &[(String, String)],
    user: (crate::domain::Role, i64, &crate::domain::scope::Scope),
    at: (Option<&Cursor>, u32),
) -> diesel::QueryResult<Read> {
    let (role, me, scope) = user;
    let resolved = filter::resolve(conn, pairs, role, me, scope)?;
    let mut read = Read {
        searched: resolved.kinds.first().copied(),
        found: listing::Found::default(),
        total: Total::Exact(0),
        tags: HashMap::new(),
        all_tags: Vec::new(),
        segments: Vec::new(),
        resolved,
    };
    if read.resolved.added.is_some() {
        return Ok(read);
    }
    let (found, total) = read_page(conn, &read.resolved, &read.resolved.filter, role, at)?;
    (read.found, read.total) = (found, total);
    if read.found.rows.is_empty() && at.0.is_none() {
        let text = read.resolved.form.q.clone();
        for kind in read
            .resolved
            .kinds
            .clone()
            .into_iter()
            .skip(1)
            .filter(|k| k.tried_unasked(&text))
        {
            let filter = read.resolved.searched_as(kind);
            let (found, total) = read_page(conn, &read.resolved, &filter, role, (None, at.1))?;
            if !found.rows.is_empty() {
                (read.searched, read.found, read.total) = (Some(kind), found, total);
                read.resolved.filter = filter;
                break;
            }
        }
    }
    let ids: Vec<CustomerId> = read.found.rows.iter().map(|(c, _)| c.id).collect();
    read.tags = tags::list_tags_for_customers(conn, &ids)?;
    read.all_tags = tags::list_tags(conn)?;
    read.segments = crate::db::segments::list_segments(conn)?;
    Ok(read)
}

/// "About 1,300 customers", "1 customer".
fn total_text(total: &Total, shown: usize) -> String {
    let customers = |n: i64| count_of(n, "customer", "customers");
    match total {
        Total::Exact(n) => customers(*n),
        Total::About(0) | Total::MoreThan(0) if shown == 0 => "none found yet".to_owned(),
        Total::About(n) => format!("about {}", customers((*n).max(shown as i64))),
        Total::MoreThan(n) => format!("more than {}", customers((*n).max(shown as i64))),
    }
}

/// `GET /customers`: customers created this week (in the organisation's time zone) by
/// default; every filter, the sort and the page size live in the URL.
pub async fn list(
    user: CustomersUser,
    state: web::Data<AppState>,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let mut pairs = query.into_inner();
    let role = user.role();
    let me = user.0.user.id.0;
    let position = Position::of(&pairs);
    let at = (position.after.clone(), position.further);
    let lookup = pairs.clone();
    let scope = user.0.scope.clone();
    let Read {
        resolved,
        searched,
        found,
        total,
        tags,
        all_tags,
        segments,
    } = state
        .run(move |conn| {
            Ok(read(
                conn,
                &lookup,
                (role, me, &scope),
                (at.0.as_ref(), at.1),
            )?)
        })
        .await?;
    // A condition that reads well joins the URL, so the view stays bookmarkable.
    if let Some(added) = &resolved.added {
        let mut kept: Vec<(String, String)> = pairs.clone();
        kept.push(("f".to_owned(), added.clone()));
        let mut skip = NEW_CONDITION_KEYS.to_vec();
        skip.extend(PLACING);
        return Ok(see_other(&format!("/customers?{}", query_of(&kept, &skip))));
    }
    // The way the search box was read joins every link from this page (the next page,
    // bulk changes, exports, a saved segment), so they all mean the customers shown.
    if let Some(kind) = searched {
        pairs.retain(|(k, _)| k != "qk");
        pairs.push(("qk".to_owned(), kind.as_str().to_owned()));
    }
    let properties = &resolved.registry;
    let visible = |key: &str| {
        properties
            .iter()
            .any(|p| p.key == key && p.visible_to(role))
    };
    let key = chosen_sort(&resolved, role);
    let base = query_of(&pairs, &PLACING);
    let mut found = found;
    let Pager {
        next,
        previous,
        further,
        range,
    } = pager(&position, &base, &mut found, key, resolved.form.size);
    let shown_columns: Vec<Column> = columns::chosen(user.0.user.customer_columns.as_deref())
        .into_iter()
        .filter(|c| c.property().is_none_or(visible))
        .collect();
    let choices = columns::choices(&shown_columns, &visible);
    let shown = |column: Column| shown_columns.contains(&column);
    let show_name = visible("name");
    let ctx = PageContext::new(&user.0, "customers")?;
    let mut tags: HashMap<CustomerId, Vec<Tag>> = tags;
    let ranked = resolved.filter.name.is_some() || resolved.filter.public_id.is_some();
    let rows: Vec<Row> = found
        .rows
        .into_iter()
        .map(|(c, tier)| Row {
            name: if show_name {
                c.display_name()
            } else {
                format!("Customer {}", c.public_id)
            },
            // Values of a hidden property never reach the template, whatever it shows.
            email: c.email.clone().filter(|_| shown(Column::Email)),
            phone: c.phone.clone().filter(|_| shown(Column::Phone)),
            lifecycle: lifecycle_label(&c.lifecycle),
            tags: tags.remove(&c.id).unwrap_or_default(),
            conversations: if shown(Column::Conversations) {
                c.conversations_count
            } else {
                0
            },
            messages: if shown(Column::Messages) {
                c.messages_count
            } else {
                0
            },
            last_contact: c
                .last_contact_at
                .filter(|_| shown(Column::LastContact))
                .map(|t| ctx.time(t)),
            csat: c
                .csat_average
                .filter(|_| shown(Column::Satisfaction))
                .map(|a| format!("{a:.1}")),
            created: ctx.time(c.created_at),
            similar: ranked && tier == crate::db::search::Tier::Typo as u8,
            public_id: c.public_id,
        })
        .collect();
    let total = total_text(&total, rows.len());
    let status = if resolved.error.is_some() || resolved.condition_error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let filterable = filterable(properties, role);
    let sorts = SortKey::ALL
        .iter()
        .filter(|(k, _, _)| sort_visible(*k, &visible))
        .map(|(_, name, label)| (*name, *label))
        .collect();
    let other_readings = resolved
        .kinds
        .iter()
        .filter(|k| Some(**k) != searched)
        .map(|k| {
            let mut with: Vec<(String, String)> = pairs.clone();
            with.retain(|(name, _)| name != "qk");
            with.push(("qk".to_owned(), k.as_str().to_owned()));
            (k.label(), query_of(&with, &PLACING))
        })
        .collect();
    let filters_open =
        resolved.error.is_some() || resolved.condition_error.is_some() || filters_in_use(&pairs);
    let bulk_error = ctx
        .flashes
        .iter()
        .find(|f| f.at.as_deref() == Some("bulk"))
        .map(|f| f.text.clone());
    render_status(
        &ListPage {
            ctx,
            rows,
            show_name,
            show_email: visible("email"),
            show_phone: visible("phone"),
            columns: shown_columns,
            choices,
            next,
            further,
            previous,
            range,
            searched: searched.map(SearchKind::label),
            other_readings,
            filters_open,
            form: resolved.form,
            total,
            error: resolved.error,
            condition_error: resolved.condition_error,
            bulk_error,
            chips: resolved.chips,
            filterable,
            operators: Operator::ALL,
            sorts,
            all_tags,
            segments,
            current_query: base,
            is_supervisor: role >= crate::domain::Role::Supervisor,
            teams_only: user.0.scope.limited().is_some(),
            channels: Channel::ALL,
            lifecycles: Lifecycle::ALL,
        },
        status,
    )
}

/// Whether the URL sets a filter beyond the search box, the sort and the page size (the
/// filter panel then opens).
fn filters_in_use(pairs: &[(String, String)]) -> bool {
    const NOT_FILTERS: [&str; 9] = [
        "q", "qk", "sort", "dir", "size", "after", "trail", "further", "whose",
    ];
    pairs
        .iter()
        .any(|(k, v)| !v.is_empty() && !NOT_FILTERS.contains(&k.as_str()))
}

/// The properties a reader may filter by, with their operators.
fn filterable(properties: &[Property], role: crate::domain::Role) -> Vec<Filterable> {
    properties
        .iter()
        .filter(|p| p.visible_to(role))
        .map(|p| Filterable {
            key: p.key.clone(),
            label: p.label.clone(),
            operators: operators_for(p.kind, p.ty).to_vec(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "customers/new.html")]
struct NewPage {
    ctx: PageContext,
    fields: FieldGroups,
    lifecycles: [Lifecycle; 6],
    lifecycle: String,
}

/// `GET /customers/new`.
pub async fn new_form(
    user: CustomersUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let properties = state
        .run(|conn| Ok(properties::list_properties(conn)?))
        .await?;
    let ctx = PageContext::new(&user.0, "customers")?;
    let fields = field_groups(
        &ctx,
        &properties,
        &HashMap::new(),
        editor_of(&user),
        None,
        &FieldErrors::default(),
    );
    render(&NewPage {
        ctx,
        fields,
        lifecycles: Lifecycle::ALL,
        lifecycle: Lifecycle::Prospect.as_str().to_owned(),
    })
}

/// `POST /customers`.
pub async fn create(
    user: CustomersUser,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let submitted = Submitted::from_pairs(&form);
    let properties = state
        .run(|conn| Ok(properties::list_properties(conn)?))
        .await?;
    let edit = submitted.to_edit(&properties, true);
    let (actor, editor) = (user.0.actor(), editor_of(&user));
    let registry = properties.clone();
    let result = state
        .run(move |conn| profiles::create_customer(conn, &registry, &actor, editor, &edit))
        .await;
    match result {
        Ok(customer) => {
            user.0.session.flash(
                FlashKind::Success,
                format!("Created customer {}.", customer.public_id),
            );
            Ok(see_other(&format!(
                "/customers/{}/profile",
                customer.public_id
            )))
        }
        Err(AppError::Invalid(errors)) => {
            let ctx = PageContext::new(&user.0, "customers")?;
            let fields = field_groups(
                &ctx,
                &properties,
                &HashMap::new(),
                editor,
                Some(&submitted),
                &errors,
            );
            let page = NewPage {
                ctx,
                fields,
                lifecycles: Lifecycle::ALL,
                lifecycle: submitted
                    .first("lifecycle")
                    .unwrap_or("prospect")
                    .to_owned(),
            };
            render_status(&page, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(other) => Err(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_total_reads_as_sure_as_it_is() {
        assert_eq!(total_text(&Total::Exact(1), 1), "1 customer");
        assert_eq!(total_text(&Total::Exact(1_300), 25), "1,300 customers");
        assert_eq!(
            total_text(&Total::About(1_300), 25),
            "about 1,300 customers"
        );
        // An estimate below what the page shows says what the page shows.
        assert_eq!(total_text(&Total::About(3), 5), "about 5 customers");
        assert_eq!(
            total_text(&Total::MoreThan(40), 25),
            "more than 40 customers"
        );
        // A page cut short that found nobody yet, after a sample or a count a minute old.
        assert_eq!(total_text(&Total::MoreThan(0), 0), "none found yet");
        assert_eq!(total_text(&Total::About(0), 0), "none found yet");
        assert_eq!(total_text(&Total::About(0), 2), "about 2 customers");
        assert_eq!(total_text(&Total::About(0), 1), "about 1 customer");
        assert_eq!(total_text(&Total::MoreThan(0), 1), "more than 1 customer");
    }
}
