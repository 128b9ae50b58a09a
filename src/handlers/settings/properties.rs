//! Settings → Customer properties: the registry of standard, custom and computed properties.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::{CurrentUser, Supervisor};
use crate::db::properties::{self, Property};
use crate::db::types::PropertyId;
use crate::domain::FieldErrors;
use crate::domain::property::{
    Access, PropertyKind, PropertyType, TechnicalName, parse_choices, parse_label,
};
use crate::error::{AppError, see_other};
use crate::handlers::page::{PageContext, render, render_status};
use crate::page::FlashKind;
use crate::services::properties as service;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "settings/properties.html")]
struct ListPage {
    ctx: PageContext,
    properties: Vec<Property>,
}

/// `GET /settings/properties`.
pub async fn list(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let properties = state
        .run(|conn| Ok(properties::list_properties(conn)?))
        .await?;
    render(&ListPage {
        ctx: PageContext::new(&current, "properties")?,
        properties,
    })
}

/// The property form, as typed.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct PropertyForm {
    key: String,
    label: String,
    value_type: String,
    choices: String,
    agent_access: String,
    customer_access: String,
    position: String,
}

impl PropertyForm {
    fn of(property: &Property) -> Self {
        PropertyForm {
            key: property.key.clone(),
            label: property.label.clone(),
            value_type: property.ty.as_str().to_owned(),
            choices: property.choices.join("\n"),
            agent_access: property.agent_access.as_str().to_owned(),
            customer_access: property.customer_access.as_str().to_owned(),
            position: property.position.to_string(),
        }
    }
}

#[derive(Template)]
#[template(path = "settings/property_form.html")]
struct FormPage {
    ctx: PageContext,
    existing: Option<Property>,
    form: PropertyForm,
    errors: FieldErrors,
    types: [PropertyType; 8],
    /// The access levels offered: a computed property is never edited by hand.
    accesses: Vec<Access>,
    fixed_type: Option<&'static str>,
    /// Whether the property is computed (its page says where its value comes from).
    computed: bool,
    /// Whether the Choices box applies (a custom property's type may still change).
    show_choices: bool,
}

fn form_page(
    current: &CurrentUser,
    existing: Option<Property>,
    form: PropertyForm,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let failed = !errors.is_empty();
    let fixed_type = existing
        .as_ref()
        .filter(|p| p.kind != PropertyKind::Custom)
        .map(|p| p.ty.label());
    let computed = existing
        .as_ref()
        .is_some_and(|p| p.kind == PropertyKind::Computed);
    let show_choices = existing
        .as_ref()
        .is_none_or(|p| p.kind == PropertyKind::Custom || p.ty.has_choices());
    let page = FormPage {
        ctx: PageContext::new(current, "properties")?,
        fixed_type,
        existing,
        form,
        errors,
        types: PropertyType::CUSTOM,
        accesses: Access::ALL
            .into_iter()
            .filter(|a| !computed || *a != Access::Edit)
            .collect(),
        computed,
        show_choices,
    };
    if failed {
        render_status(&page, StatusCode::UNPROCESSABLE_ENTITY)
    } else {
        render(&page)
    }
}

/// `GET /settings/properties/new`.
pub async fn new_form(Supervisor(current): Supervisor) -> Result<HttpResponse, AppError> {
    let form = PropertyForm {
        value_type: PropertyType::Text.as_str().to_owned(),
        agent_access: Access::Edit.as_str().to_owned(),
        customer_access: Access::Hidden.as_str().to_owned(),
        ..PropertyForm::default()
    };
    form_page(&current, None, form, FieldErrors::default())
}

/// The parts of the form every property kind shares.
struct Common {
    label: String,
    agent_access: Access,
    customer_access: Access,
    position: Option<i32>,
}

impl Common {
    fn into_definition(self, ty: PropertyType, choices: Vec<String>) -> service::Definition {
        service::Definition {
            label: self.label,
            ty,
            choices,
            agent_access: self.agent_access,
            customer_access: self.customer_access,
            position: self.position,
        }
    }
}

fn parse_common(form: &PropertyForm, errors: &mut FieldErrors, computed: bool) -> Option<Common> {
    let label = errors.check("label", parse_label(&form.label));
    let mut agent_access = errors.check("agent_access", form.agent_access.parse::<Access>());
    let mut customer_access =
        errors.check("customer_access", form.customer_access.parse::<Access>());
    if computed {
        if agent_access == Some(Access::Edit) {
            errors.push(
                "agent_access",
                "Computed properties are read-only: choose hidden or view only.",
            );
            agent_access = None;
        }
        if customer_access == Some(Access::Edit) {
            errors.push(
                "customer_access",
                "Computed properties are read-only: choose hidden or view only.",
            );
            customer_access = None;
        }
    }
    let position = match form.position.trim() {
        "" => Some(None),
        raw => errors.check(
            "position",
            raw.parse::<i32>()
                .map(Some)
                .map_err(|_| "The order is a whole number, e.g. 10.".to_owned()),
        ),
    };
    Some(Common {
        label: label?,
        agent_access: agent_access?,
        customer_access: customer_access?,
        position: position?,
    })
}

/// `POST /settings/properties`: a new custom property.
pub async fn create(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
    form: web::Form<PropertyForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let mut errors = FieldErrors::default();
    let key = errors.check("key", TechnicalName::parse(&form.key));
    let ty = errors.check(
        "value_type",
        form.value_type.parse::<PropertyType>().and_then(|t| {
            if PropertyType::CUSTOM.contains(&t) {
                Ok(t)
            } else {
                Err("Choose one of the listed types.".to_owned())
            }
        }),
    );
    let choices = match ty {
        Some(t) if t.has_choices() => errors.check("choices", parse_choices(&form.choices)),
        _ => Some(Vec::new()),
    };
    let common = parse_common(&form, &mut errors, false);
    let (Some(key), Some(ty), Some(choices), Some(common), true) =
        (key, ty, choices, common, errors.is_empty())
    else {
        return form_page(&current, None, form, errors);
    };
    let actor = current.actor();
    let definition = common.into_definition(ty, choices);
    let created = state
        .run(move |conn| service::create_property(conn, &actor, &key, &definition))
        .await?;
    match created {
        Some(_) => {
            current.session.flash(
                FlashKind::Success,
                format!("Created the property {}.", form.label.trim()),
            );
            Ok(see_other("/settings/properties"))
        }
        None => {
            let mut errors = FieldErrors::default();
            errors.push(
                "key",
                "This technical name is taken; technical names are unique.",
            );
            form_page(&current, None, form, errors)
        }
    }
}

async fn load(state: &AppState, id: PropertyId) -> Result<Property, AppError> {
    state
        .run(move |conn| Ok(properties::get_property(conn, id)?))
        .await
}

/// `GET /settings/properties/{id}`.
pub async fn edit_form(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
    path: web::Path<PropertyId>,
) -> Result<HttpResponse, AppError> {
    let property = load(&state, path.into_inner()).await?;
    let form = PropertyForm::of(&property);
    form_page(&current, Some(property), form, FieldErrors::default())
}

/// "1 customer holds" / "3 customers hold".
/// `POST /settings/properties/{id}`. The technical name never changes; standard and
/// computed properties keep their type.
pub async fn update(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
    path: web::Path<PropertyId>,
    form: web::Form<PropertyForm>,
) -> Result<HttpResponse, AppError> {
    let property = load(&state, path.into_inner()).await?;
    let mut form = form.into_inner();
    form.key = property.key.clone();
    let mut errors = FieldErrors::default();
    let ty = match property.kind {
        PropertyKind::Custom => errors.check(
            "value_type",
            form.value_type.parse::<PropertyType>().and_then(|t| {
                if PropertyType::CUSTOM.contains(&t) {
                    Ok(t)
                } else {
                    Err("Choose one of the listed types.".to_owned())
                }
            }),
        ),
        _ => Some(property.ty),
    };
    let choices = match ty {
        Some(t) if t.has_choices() => errors.check("choices", parse_choices(&form.choices)),
        _ => Some(Vec::new()),
    };
    let common = parse_common(&form, &mut errors, property.kind == PropertyKind::Computed);
    let (Some(ty), Some(choices), Some(common), true) = (ty, choices, common, errors.is_empty())
    else {
        return form_page(&current, Some(property), form, errors);
    };
    let actor = current.actor();
    let target = property.clone();
    let definition = common.into_definition(ty, choices);
    let refused = state
        .run(move |conn| service::update_property(conn, &actor, &target, &definition))
        .await?
        .err();
    match refused {
        Some(errors) => form_page(&current, Some(property), form, errors),
        None => {
            current.session.flash(
                FlashKind::Success,
                format!("Saved the property {}.", form.label.trim()),
            );
            Ok(see_other("/settings/properties"))
        }
    }
}

#[derive(Template)]
#[template(path = "settings/property_delete.html")]
struct DeletePage {
    ctx: PageContext,
    property: Property,
    holders: i64,
}

/// `GET /settings/properties/{id}/delete`: asks for confirmation, saying what will be lost.
pub async fn confirm_delete(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
    path: web::Path<PropertyId>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let (property, holders) = state
        .run(move |conn| {
            let property = properties::get_property(conn, id)?;
            let holders = properties::count_customers_with_values(conn, &property)?;
            Ok((property, holders))
        })
        .await?;
    if property.kind != PropertyKind::Custom {
        return Err(AppError::Conflict(
            "Standard and computed properties cannot be deleted.".to_owned(),
        ));
    }
    render(&DeletePage {
        ctx: PageContext::new(&current, "properties")?,
        property,
        holders,
    })
}

/// `POST /settings/properties/{id}/delete`: deletes a custom property and its values.
pub async fn delete(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
    path: web::Path<PropertyId>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let actor = current.actor();
    let deleted = state
        .run(move |conn| service::delete_property(conn, &actor, id))
        .await?;
    match deleted {
        Some(property) => {
            current.session.flash(
                FlashKind::Success,
                format!("Deleted the property {}.", property.label),
            );
            Ok(see_other("/settings/properties"))
        }
        None => Err(AppError::Conflict(
            "Standard and computed properties cannot be deleted.".to_owned(),
        )),
    }
}
