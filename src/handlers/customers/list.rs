//! `GET /customers`: customers newest first, in keyset pages; and creating a customer.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::NaiveDateTime;
use serde::Deserialize;

use super::fields::{FieldGroups, Submitted, field_groups};
use super::{actor_of, editor_of, lifecycle_label};
use crate::auth::CustomersUser;
use crate::db::customers::{self, Customer};
use crate::db::properties;
use crate::db::tags::{self, Tag};
use crate::db::types::CustomerId;
use crate::db::{self};
use crate::domain::FieldErrors;
use crate::domain::customer::Lifecycle;
use crate::error::{AppError, see_other};
use crate::handlers::page::{PageContext, render, render_status};
use crate::services::profiles;
use crate::startup::AppState;

const PAGE_SIZE: i64 = 50;

/// One row of the list.
pub struct Row {
    pub public_id: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub lifecycle: &'static str,
    pub tags: Vec<Tag>,
    pub created: String,
}

#[derive(Template)]
#[template(path = "customers/list.html")]
struct ListPage {
    ctx: PageContext,
    rows: Vec<Row>,
    show_email: bool,
    show_phone: bool,
    next: Option<String>,
}

/// Query of the list: the keyset cursor.
#[derive(Deserialize)]
pub struct ListQuery {
    after: Option<String>,
}

fn parse_cursor(raw: &str) -> Option<(NaiveDateTime, CustomerId)> {
    let (micros, id) = raw.split_once('_')?;
    let at = chrono::DateTime::from_timestamp_micros(micros.parse().ok()?)?.naive_utc();
    Some((at, CustomerId(id.parse().ok()?)))
}

fn cursor_of(customer: &Customer) -> String {
    format!(
        "{}_{}",
        customer.created_at.and_utc().timestamp_micros(),
        customer.id
    )
}

/// `GET /customers`.
pub async fn list(
    user: CustomersUser,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let after = query.after.as_deref().and_then(parse_cursor);
    let (mut found, properties, tags) = db::run(&state.pool, move |conn| {
        let found = customers::list_customers(conn, after, PAGE_SIZE + 1)?;
        let ids: Vec<CustomerId> = found.iter().map(|c| c.id).collect();
        let tags = tags::list_tags_for_customers(conn, &ids)?;
        Ok((found, properties::list_properties(conn)?, tags))
    })
    .await?;
    let next = (found.len() as i64 > PAGE_SIZE).then(|| {
        found.truncate(PAGE_SIZE as usize);
        found.last().map(cursor_of)
    });
    let role = user.role();
    let visible = |key: &str| {
        properties
            .iter()
            .any(|p| p.key == key && p.visible_to(role))
    };
    let (show_email, show_phone, show_name) = (visible("email"), visible("phone"), visible("name"));
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
            created: ctx.time(c.created_at),
            public_id: c.public_id,
        })
        .collect();
    render(&ListPage {
        ctx,
        rows,
        show_email,
        show_phone,
        next: next.flatten(),
    })
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
