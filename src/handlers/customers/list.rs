//! `GET /customers`: customers newest first, in keyset pages; and creating a customer.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::fields::{FieldGroups, Submitted, field_groups};
use super::{actor_of, editor_of, lifecycle_label};
use crate::auth::CustomersUser;
use crate::db::customers::{self, Cursor, CustomerFilter, SortKey};
use crate::db::properties;
use crate::db::tags::{self, Tag};
use crate::db::types::{CustomerId, TagId};
use crate::db::{self, settings};
use crate::domain::FieldErrors;
use crate::domain::channel::Channel;
use crate::domain::customer::Lifecycle;
use crate::domain::period::Period;
use crate::error::{AppError, see_other};
use crate::handlers::page::{PageContext, render, render_status};
use crate::services::profiles;
use crate::startup::AppState;

/// Totals are exact up to this many; beyond, the page says "more than".
pub const COUNT_CAP: i64 = 10_000;

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
}

/// The filters as the form shows them (and the URL carries them).
#[derive(Default)]
pub struct FilterForm {
    pub period: String,
    pub from: String,
    pub to: String,
    pub on: String,
    pub tags: Vec<i64>,
    pub tag_mode: String,
    pub name: String,
    pub id: String,
    pub email: String,
    pub phone: String,
    pub channel: String,
    pub lifecycle: String,
    pub blacklisted: String,
    pub sort: String,
    pub dir: String,
    pub size: i64,
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
    all_tags: Vec<Tag>,
    segments: Vec<crate::db::segments::Segment>,
    current_query: String,
    is_supervisor: bool,
    channels: [Channel; 10],
    lifecycles: [Lifecycle; 6],
}

/// Setting: the organisation's time zone (what "today" and "this week" mean).
pub const ORG_TIME_ZONE: &str = "org.time_zone";

fn parse_form(pairs: &[(String, String)]) -> FilterForm {
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    FilterForm {
        period: match get("period").as_str() {
            "" => "this_week".to_owned(),
            other => other.to_owned(),
        },
        from: get("from"),
        to: get("to"),
        on: get("on"),
        tags: pairs
            .iter()
            .filter(|(k, _)| k == "tag")
            .filter_map(|(_, v)| v.parse().ok())
            .collect(),
        tag_mode: get("tag_mode"),
        name: get("name"),
        id: get("id"),
        email: get("email"),
        phone: get("phone"),
        channel: get("channel"),
        lifecycle: get("lifecycle"),
        blacklisted: get("blacklisted"),
        sort: get("sort"),
        dir: get("dir"),
        size: match get("size").as_str() {
            "25" => 25,
            "100" => 100,
            _ => 50,
        },
    }
}

/// The query string of the form (for paging links), without the cursor.
fn query_of(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .filter(|(k, v)| k != "after" && !v.is_empty())
        .map(|(k, v)| {
            format!(
                "{}={}",
                askama::filters::urlencode_strict(k)
                    .map(|s| s.to_string())
                    .unwrap_or_default(),
                askama::filters::urlencode_strict(v)
                    .map(|s| s.to_string())
                    .unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn some(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_owned())
}

/// `GET /customers`: customers created this week (in the organisation's time zone) by
/// default; every filter, the sort and the page size live in the URL.
pub async fn list(
    user: CustomersUser,
    state: web::Data<AppState>,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let pairs = query.into_inner();
    let form = parse_form(&pairs);
    let mut error = None;
    let period = Period::parse(
        &form.period,
        some(&form.from).as_deref(),
        some(&form.to).as_deref(),
    )
    .unwrap_or_else(|message| {
        error = Some(message);
        Period::ThisWeek
    });
    let key = match form.sort.as_str() {
        "updated" => SortKey::Updated,
        "conversations" => SortKey::Conversations,
        _ => SortKey::Created,
    };
    let ascending = form.dir == "asc";
    let after: Option<Cursor> = pairs
        .iter()
        .find(|(k, _)| k == "after")
        .and_then(|(_, v)| v.split_once('_'))
        .and_then(|(value, id)| Some((value.parse().ok()?, CustomerId(id.parse().ok()?))));
    let mut filter = CustomerFilter {
        on_last_contact: form.on == "last_contact",
        name: some(&form.name),
        public_id: some(&form.id),
        email: some(&form.email),
        phone: some(&form.phone),
        channel: form
            .channel
            .parse::<Channel>()
            .ok()
            .map(|c| c.as_str().to_owned()),
        lifecycle: form
            .lifecycle
            .parse::<Lifecycle>()
            .ok()
            .map(|l| l.as_str().to_owned()),
        blacklisted: match form.blacklisted.as_str() {
            "yes" => Some(true),
            "no" => Some(false),
            _ => None,
        },
        ..CustomerFilter::default()
    };
    let tag_ids: Vec<TagId> = form.tags.iter().map(|t| TagId(*t)).collect();
    if form.tag_mode == "all" {
        filter.all_tags = tag_ids;
    } else {
        filter.any_tags = tag_ids;
    }
    let size = form.size;
    let role = user.role();
    let (mut found, total, properties, tags, all_tags, segments) =
        db::run(&state.pool, move |conn| {
            // A filter on a property hidden from the reader would reveal its values: ignored.
            let registry = properties::list_properties(conn)?;
            let visible = |key: &str| registry.iter().any(|p| p.key == key && p.visible_to(role));
            for (key, value) in [
                ("name", &mut filter.name),
                ("email", &mut filter.email),
                ("phone", &mut filter.phone),
            ] {
                if !visible(key) {
                    *value = None;
                }
            }
            let zone: chrono_tz::Tz = settings::find_setting(conn, ORG_TIME_ZONE)?
                .and_then(|z| z.parse().ok())
                .unwrap_or(chrono_tz::UTC);
            let (from, until) = period.bounds(db::now(), zone);
            filter.from = from;
            filter.until = until;
            let found = customers::list_filtered(conn, &filter, key, ascending, after, size + 1)?;
            let total = customers::count_filtered(conn, &filter, COUNT_CAP)?;
            let ids: Vec<CustomerId> = found.iter().map(|c| c.id).collect();
            let tags = tags::list_tags_for_customers(conn, &ids)?;
            Ok((
                found,
                total,
                registry,
                tags,
                tags::list_tags(conn)?,
                crate::db::segments::list_segments(conn)?,
            ))
        })
        .await?;
    let next = (found.len() as i64 > size).then(|| {
        found.truncate(usize::try_from(size).unwrap_or(50));
        found.last().map(|c| {
            let base = query_of(&pairs);
            let cursor = format!("{}_{}", customers::sort_value(c, key), c.id);
            if base.is_empty() {
                format!("after={cursor}")
            } else {
                format!("{base}&after={cursor}")
            }
        })
    });
    let visible = |key: &str| {
        properties
            .iter()
            .any(|p| p.key == key && p.visible_to(role))
    };
    let (show_email, show_phone, show_name) = (visible("email"), visible("phone"), visible("name"));
    let (show_conversations, show_csat) = (visible("conversations_count"), visible("csat_average"));
    let ctx = PageContext::new(&user.0, "customers")?;
    let mut tags: HashMap<CustomerId, Vec<Tag>> = tags;
    let rows = found
        .into_iter()
        .map(|c| Row {
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
            last_contact: c.last_contact_at.map(|t| ctx.time(t)),
            csat: c
                .csat_average
                .filter(|_| show_csat)
                .map(|a| format!("{a:.1}")),
            created: ctx.time(c.created_at),
            public_id: c.public_id,
        })
        .collect();
    let total = if total > COUNT_CAP {
        format!("More than {COUNT_CAP} customers")
    } else if total == 1 {
        "1 customer".to_owned()
    } else {
        format!("{total} customers")
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render_status(
        &ListPage {
            ctx,
            rows,
            show_email,
            show_phone,
            show_name,
            next: next.flatten(),
            form,
            total,
            error,
            all_tags,
            segments,
            current_query: query_of(&pairs),
            is_supervisor: role >= crate::domain::Role::Supervisor,
            channels: Channel::ALL,
            lifecycles: Lifecycle::ALL,
        },
        status,
    )
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
    let properties = db::run(&state.pool, |conn| Ok(properties::list_properties(conn)?)).await?;
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
    let properties = db::run(&state.pool, |conn| Ok(properties::list_properties(conn)?)).await?;
    let edit = submitted.to_edit(&properties, true);
    let (actor, editor) = (actor_of(&user), editor_of(&user));
    let registry = properties.clone();
    let result = db::run(&state.pool, move |conn| {
        profiles::create_customer(conn, &registry, &actor, editor, &edit)
    })
    .await;
    match result {
        Ok(customer) => {
            user.0.session.flash(
                "success",
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
