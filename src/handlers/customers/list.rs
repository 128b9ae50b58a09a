//! `GET /customers`: the Customers page (filters, fuzzy search, sorts, keyset pages) and
//! creating a customer.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::fields::{FieldGroups, Submitted, field_groups};
use super::filter::{self, Chip, FilterForm, NEW_CONDITION_KEYS, query_of};
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
use crate::page::FlashKind;
use crate::services::profiles;
use crate::state::AppState;

/// A count as people read it: 1,234,567.
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

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
    show_email: bool,
    show_phone: bool,
    show_name: bool,
    next: Option<String>,
    form: FilterForm,
    total: String,
    error: Option<String>,
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

/// `GET /customers`: customers created this week (in the organisation's time zone) by
/// default; every filter, the sort and the page size live in the URL.
pub async fn list(
    user: CustomersUser,
    state: web::Data<AppState>,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let pairs = query.into_inner();
    let role = user.role();
    let me = user.0.user.id.0;
    let after = pairs
        .iter()
        .find(|(k, _)| k == "after")
        .and_then(|(_, v)| Cursor::parse(v));
    let lookup = pairs.clone();
    let scope = user.0.scope.clone();
    let (resolved, found, total, tags, all_tags, segments) = state
        .run(move |conn| {
            let resolved = filter::resolve(conn, &lookup, role, me, &scope)?;
            if resolved.added.is_some() {
                return Ok((
                    resolved,
                    Vec::new(),
                    Total::Exact(0),
                    HashMap::new(),
                    Vec::new(),
                    Vec::new(),
                ));
            }
            let key = chosen_sort(&resolved, role);
            let plans = listing::plan(conn, &resolved.filter)?;
            // With property conditions, the total comes first: when many customers hold
            // the values, the page tests rows along the sort's index instead of
            // collecting every holder and sorting them.
            let mut page_filter = resolved.filter.clone();
            let early = if resolved.filter.conditions.is_empty() {
                None
            } else {
                let total = listing::total(conn, &resolved.filter, &plans, None)?;
                if let Total::About(n) | Total::Exact(n) = total {
                    (page_filter.probe_values, page_filter.set_values) =
                        listing::value_reading(conn, n)?;
                }
                Some(total)
            };
            let found = listing::list_filtered(
                conn,
                &page_filter,
                &plans,
                key,
                resolved.form.dir == "asc",
                after.as_ref(),
                resolved.form.size + 1,
            )?;
            let size = usize::try_from(resolved.form.size).unwrap_or(0);
            let complete = (after.is_none() && found.len() <= size).then_some(found.len());
            let total = match (complete, early) {
                (Some(rows), _) => Total::Exact(rows as i64),
                (None, Some(total)) => total,
                (None, None) => listing::total(conn, &resolved.filter, &plans, None)?,
            };
            let ids: Vec<CustomerId> = found.iter().map(|(c, _)| c.id).collect();
            let tags = tags::list_tags_for_customers(conn, &ids)?;
            Ok((
                resolved,
                found,
                total,
                tags,
                tags::list_tags(conn)?,
                crate::db::segments::list_segments(conn)?,
            ))
        })
        .await?;
    // A condition that reads well joins the URL, so the view stays bookmarkable.
    if let Some(added) = &resolved.added {
        let mut kept: Vec<(String, String)> = pairs.clone();
        kept.push(("f".to_owned(), added.clone()));
        let mut skip = NEW_CONDITION_KEYS.to_vec();
        skip.push("after");
        return Ok(see_other(&format!("/customers?{}", query_of(&kept, &skip))));
    }
    let properties = &resolved.registry;
    let visible = |key: &str| {
        properties
            .iter()
            .any(|p| p.key == key && p.visible_to(role))
    };
    let key = chosen_sort(&resolved, role);
    let size = resolved.form.size;
    let mut found = found;
    let next = (found.len() as i64 > size).then(|| {
        found.truncate(usize::try_from(size).unwrap_or(50));
        found.last().map(|(c, tier)| {
            let base = query_of(&pairs, &["after"]);
            let cursor = Cursor::after(c, key, *tier).to_param();
            let cursor = askama::filters::urlencode_strict(&cursor)
                .map(|s| s.to_string())
                .unwrap_or_default();
            if base.is_empty() {
                format!("after={cursor}")
            } else {
                format!("{base}&after={cursor}")
            }
        })
    });
    let (show_email, show_phone, show_name) = (visible("email"), visible("phone"), visible("name"));
    let (show_conversations, show_csat) = (visible("conversations_count"), visible("csat_average"));
    let show_last_contact = visible("last_contact_at");
    let ctx = PageContext::new(&user.0, "customers")?;
    let mut tags: HashMap<CustomerId, Vec<Tag>> = tags;
    let ranked = resolved.filter.name.is_some() || resolved.filter.public_id.is_some();
    let rows: Vec<Row> = found
        .into_iter()
        .map(|(c, tier)| Row {
            name: if show_name {
                c.display_name()
            } else {
                format!("Customer {}", c.public_id)
            },
            email: c.email.clone().filter(|_| show_email),
            phone: c.phone.clone().filter(|_| show_phone),
            lifecycle: lifecycle_label(&c.lifecycle),
            tags: tags.remove(&c.id).unwrap_or_default(),
            conversations: if show_conversations {
                c.conversations_count
            } else {
                0
            },
            messages: if show_conversations {
                c.messages_count
            } else {
                0
            },
            last_contact: c
                .last_contact_at
                .filter(|_| show_last_contact)
                .map(|t| ctx.time(t)),
            csat: c
                .csat_average
                .filter(|_| show_csat)
                .map(|a| format!("{a:.1}")),
            created: ctx.time(c.created_at),
            similar: ranked && tier == crate::db::search::Tier::Typo as u8,
            public_id: c.public_id,
        })
        .collect();
    let total = match total {
        Total::Exact(1) => "1 customer".to_owned(),
        Total::Exact(n) => format!("{} customers", thousands(n)),
        Total::About(n) => format!("About {} customers", thousands(n.max(rows.len() as i64))),
        Total::MoreThan(n) => format!(
            "More than {} customers",
            thousands(n.max(rows.len() as i64))
        ),
    };
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
    render_status(
        &ListPage {
            ctx,
            rows,
            show_email,
            show_phone,
            show_name,
            next: next.flatten(),
            form: resolved.form,
            total,
            error: resolved.error,
            condition_error: resolved.condition_error,
            chips: resolved.chips,
            filterable,
            operators: Operator::ALL,
            sorts,
            all_tags,
            segments,
            current_query: query_of(&pairs, &["after"]),
            is_supervisor: role >= crate::domain::Role::Supervisor,
            teams_only: user.0.scope.limited().is_some(),
            channels: Channel::ALL,
            lifecycles: Lifecycle::ALL,
        },
        status,
    )
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
