//! Settings → Customer context card: which attributes agents see beside a conversation,
//! in which order, basic (at most five) or under "See more", view or edit.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::auth::{CurrentUser, Supervisor};
use crate::db::card::{self, CardAttribute};
use crate::db::properties::{self, Property};
use crate::db::{self, customers};
use crate::domain::card::{Mode, Section, check_basic_count};
use crate::domain::property::{PropertyKind, Value};
use crate::domain::{FieldErrors, Role};
use crate::error::{AppError, see_other};
use crate::handlers::customers::fields::{FieldView, Submitted};
use crate::handlers::page::{PageContext, render_status};
use crate::handlers::workspace::card::card_fields;
use crate::page::FlashKind;
use crate::services::profiles;
use crate::services::settings::{self, CardRow};
use crate::state::AppState;

/// One property's row in the form.
pub struct Row {
    pub id: i64,
    pub label: String,
    pub key: String,
    pub kind: &'static str,
    pub computed: bool,
    pub agent_hidden: bool,
    pub on: bool,
    pub position: String,
    pub section: String,
    pub mode: String,
}

#[derive(Template)]
#[template(path = "settings/card.html")]
struct CardPage {
    ctx: PageContext,
    rows: Vec<Row>,
    error: Option<String>,
    /// Said after a move: the order shown is not saved yet.
    notice: Option<&'static str>,
    preview_name: String,
    basic: Vec<FieldView>,
    additional: Vec<FieldView>,
}

fn rows_from_config(registry: &[Property], config: &[CardAttribute]) -> Vec<Row> {
    registry
        .iter()
        .map(|p| {
            let on = config.iter().find(|a| a.property_id == p.id);
            Row {
                id: p.id.0,
                label: p.label.clone(),
                key: p.key.clone(),
                kind: p.kind.as_str(),
                computed: p.kind == PropertyKind::Computed,
                agent_hidden: !p.visible_to(Role::Agent),
                on: on.is_some(),
                position: on.map_or(String::new(), |a| a.position.to_string()),
                section: on.map_or("additional".to_owned(), |a| a.section.to_string()),
                mode: on.map_or("view".to_owned(), |a| a.mode.to_string()),
            }
        })
        .collect()
}

/// The rows in the card's order: those on the card, basic first, each section by its
/// order; then the others, as the registry lists them.
fn in_card_order(mut rows: Vec<Row>) -> Vec<Row> {
    rows.sort_by_key(|row| {
        (
            !row.on,
            row.section != "basic",
            row.position.trim().parse::<i32>().unwrap_or(i32::MAX),
        )
    });
    rows
}

/// The form's pairs with one attribute moved up or down within its section (`move` is
/// `up:ID` or `down:ID`): the section's attributes are numbered 10, 20, 30… in their
/// current order, and the moved one swaps places with its neighbour.
fn moved(registry: &[Property], pairs: &[(String, String)], how: &str) -> Vec<(String, String)> {
    let submitted = Submitted::from_pairs(pairs);
    let (rows, _) = parse(registry, &submitted);
    let Some((up, id)) = how
        .split_once(':')
        .and_then(|(way, id)| Some((way == "up", id.parse::<i64>().ok()?)))
    else {
        return pairs.to_vec();
    };
    let Some(section) = rows
        .iter()
        .find(|r| r.id == id && r.on)
        .map(|r| r.section.clone())
    else {
        return pairs.to_vec();
    };
    let mut order: Vec<i64> = rows
        .iter()
        .filter(|r| r.on && r.section == section)
        .map(|r| r.id)
        .collect();
    if let Some(at) = order.iter().position(|r| *r == id) {
        let other = if up { at.checked_sub(1) } else { Some(at + 1) };
        if let Some(other) = other.filter(|o| *o < order.len()) {
            order.swap(at, other);
        }
    }
    let mut out: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| {
            k != "move"
                && !order
                    .iter()
                    .any(|id| k.strip_prefix("pos_") == Some(id.to_string().as_str()))
        })
        .cloned()
        .collect();
    for (index, id) in order.iter().enumerate() {
        out.push((format!("pos_{id}"), ((index as i64 + 1) * 10).to_string()));
    }
    out
}

/// Parses the form into rows (kept for re-display) and, when valid, the configuration.
fn parse(
    registry: &[Property],
    form: &Submitted,
) -> (Vec<Row>, Result<Vec<CardAttribute>, String>) {
    let mut rows = Vec::new();
    let mut config = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    for (index, p) in registry.iter().enumerate() {
        let id = p.id.0;
        let on = form.first(&format!("on_{id}")).is_some();
        let position = form
            .first(&format!("pos_{id}"))
            .unwrap_or_default()
            .trim()
            .to_owned();
        let section = form
            .first(&format!("section_{id}"))
            .unwrap_or("additional")
            .to_owned();
        let mode = form
            .first(&format!("mode_{id}"))
            .unwrap_or("view")
            .to_owned();
        if on {
            let parsed_position = if position.is_empty() {
                Ok(i32::try_from(index).unwrap_or(0) * 10 + 1000)
            } else {
                position
                    .parse::<i32>()
                    .map_err(|_| format!("The order of {} is a whole number.", p.label))
            };
            match (
                parsed_position,
                Section::parse(&section),
                Mode::parse(&mode),
            ) {
                (Ok(_), _, Ok(Mode::Edit)) if p.kind == PropertyKind::Computed => {
                    problems.push(format!("{} is computed and can only be viewed.", p.label));
                }
                (Ok(position), Ok(section), Ok(mode)) => config.push(CardAttribute {
                    id: 0,
                    property_id: p.id,
                    position,
                    section,
                    mode,
                }),
                (Err(message), _, _) => problems.push(message),
                _ => problems.push(format!("Choose a section and a mode for {}.", p.label)),
            }
        }
        rows.push(Row {
            id,
            label: p.label.clone(),
            key: p.key.clone(),
            kind: p.kind.as_str(),
            computed: p.kind == PropertyKind::Computed,
            agent_hidden: !p.visible_to(Role::Agent),
            on,
            position,
            section,
            mode,
        });
    }
    let basic = config
        .iter()
        .filter(|a| a.section == Section::Basic)
        .count();
    if let Err(message) = check_basic_count(basic) {
        problems.insert(0, message);
    }
    config.sort_by_key(|a| (a.section != Section::Basic, a.position));
    let rows = in_card_order(rows);
    if problems.is_empty() {
        (rows, Ok(config))
    } else {
        (rows, Err(problems.join(" ")))
    }
}

/// A sample customer for the preview: the newest customer, or example values.
fn sample_values(
    conn: &mut db::DbConnection,
    registry: &[Property],
) -> Result<(String, HashMap<String, Value>), AppError> {
    if let Some(customer) = customers::list_customers(conn, None, 1)?.pop() {
        let values = profiles::current_values(conn, &customer, registry)?;
        return Ok((customer.display_name(), values));
    }
    let text = |t: &str| Value::Text { text: t.to_owned() };
    let values = HashMap::from([
        ("name".to_owned(), text("Ada Lovelace")),
        ("gender".to_owned(), text("Female")),
        ("city".to_owned(), text("London")),
        ("country".to_owned(), text("GB")),
        ("email".to_owned(), text("ada@example.com")),
    ]);
    Ok(("Ada Lovelace (example)".to_owned(), values))
}

async fn page(
    current: &CurrentUser,
    state: &AppState,
    submitted: Option<Submitted>,
) -> Result<(CardPage, bool), AppError> {
    let (registry, saved, sample) = state
        .run(|conn| {
            let registry = properties::list_properties(conn)?;
            let saved = card::list_card(conn)?;
            let sample = sample_values(conn, &registry)?;
            Ok((registry, saved, sample))
        })
        .await?;
    let (rows, config, error) = match &submitted {
        Some(form) => {
            let (rows, parsed) = parse(&registry, form);
            match parsed {
                Ok(config) => (rows, config, None),
                Err(message) => (rows, saved.clone(), Some(message)),
            }
        }
        None => (
            in_card_order(rows_from_config(&registry, &saved)),
            saved.clone(),
            None,
        ),
    };
    let ctx = PageContext::new(current, "card")?;
    let (basic, additional) = card_fields(
        &ctx,
        &config,
        &registry,
        &sample.1,
        Role::Agent,
        None,
        &FieldErrors::default(),
    );
    let failed = error.is_some();
    Ok((
        CardPage {
            ctx,
            rows,
            error,
            notice: None,
            preview_name: sample.0,
            basic,
            additional,
        },
        failed,
    ))
}

/// `GET /settings/card`.
pub async fn show(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (page, _) = page(&current, &state, None).await?;
    render_status(&page, StatusCode::OK)
}

/// `POST /settings/card`: `action=preview` shows the card as configured without saving;
/// anything else saves. More than five basic attributes is refused, keeping the form.
pub async fn save(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let registry = state
        .run(|conn| Ok(properties::list_properties(conn)?))
        .await?;
    // A move reorders the form and shows it again (with its preview), unsaved.
    let how = form
        .iter()
        .find(|(k, _)| k == "move")
        .map(|(_, v)| v.clone());
    let pairs = match &how {
        Some(how) => moved(&registry, &form, how),
        None => form.into_inner(),
    };
    let submitted = Submitted::from_pairs(&pairs);
    let preview = how.is_some() || submitted.first("action") == Some("preview");
    let (_, parsed) = parse(&registry, &submitted);
    match parsed {
        Ok(config) if !preview => {
            let actor = current.actor();
            let summary = config
                .iter()
                .filter_map(|a| {
                    registry
                        .iter()
                        .find(|p| p.id == a.property_id)
                        .map(|p| format!("{}:{}:{}", p.key, a.section, a.mode))
                })
                .collect::<Vec<_>>()
                .join(", ");
            state
                .run(move |conn| {
                    let rows: Vec<CardRow<'_>> = config
                        .iter()
                        .map(|a| {
                            (
                                a.property_id,
                                a.position,
                                a.section.as_str(),
                                a.mode.as_str(),
                            )
                        })
                        .collect();
                    settings::save_card(conn, &actor, &rows, &summary)
                })
                .await?;
            current.session.flash(
                FlashKind::Success,
                "The context card is saved; agents see it at their next page load.",
            );
            Ok(see_other("/settings/card"))
        }
        _ => {
            let (mut page, failed) = page(&current, &state, Some(submitted)).await?;
            if how.is_some() {
                page.notice = Some("Moved. The card keeps this order once you save it.");
            }
            render_status(
                &page,
                if failed {
                    StatusCode::UNPROCESSABLE_ENTITY
                } else {
                    StatusCode::OK
                },
            )
        }
    }
}
