//! The Customers area: the list, creating a customer, and the profile with its tabs.

pub mod actions;
pub mod bulk;
pub mod columns;
pub mod engagement;
pub mod export;
pub mod fields;
pub mod filter;
pub mod history;
pub mod identities;
pub mod import;
pub mod list;
pub mod merge;
pub mod orders;
pub mod pager;
pub mod profile;
pub mod segments;
pub mod traffic;

use std::collections::HashMap;

use crate::auth::CustomersUser;
use crate::db::DbConnection;
use crate::db::customers::{self, Customer};
use crate::db::properties::{self, Property};
use crate::db::tags::{self, Tag};
use crate::domain::customer::Lifecycle;
use crate::domain::property::Value;
use crate::error::AppError;
use crate::services::profiles::{self, Editor};
use crate::state::AppState;

/// Everything a profile tab shows about one customer, loaded in one go.
pub struct Loaded {
    pub customer: Customer,
    pub properties: Vec<Property>,
    pub values: HashMap<String, Value>,
    pub tags: Vec<Tag>,
    /// Who locked the profile, when it is locked.
    pub locked_by: Option<String>,
}

/// Loads a customer by public ID with the registry, its values and tags (four queries,
/// whatever the number of properties).
pub async fn load(state: &AppState, public_id: String) -> Result<Loaded, AppError> {
    state.run(move |conn| load_with(conn, &public_id)).await
}

/// [`load`] on a connection the caller holds.
pub fn load_with(conn: &mut DbConnection, public_id: &str) -> Result<Loaded, AppError> {
    let customer =
        customers::find_customer_by_public_id(conn, public_id)?.ok_or(AppError::NotFound)?;
    let properties = properties::list_properties(conn)?;
    let values = profiles::current_values(conn, &customer, &properties)?;
    let tags = tags::list_customer_tags(conn, customer.id)?;
    let locked_by = crate::db::locks::find_lock(conn, customer.id)?.map(|(by, _)| by);
    Ok(Loaded {
        customer,
        properties,
        values,
        tags,
        locked_by,
    })
}

/// The staff member as an editor (for access checks).
pub fn editor_of(user: &CustomersUser) -> Editor {
    Editor::Staff(user.role())
}

/// The header every profile tab shares.
pub struct ProfileHeader {
    pub public_id: String,
    pub name: String,
    pub lifecycle: &'static str,
    pub tags: Vec<Tag>,
    pub tab: &'static str,
    /// The blacklist reason, when blacklisted.
    pub blacklisted: Option<String>,
    /// Who locked the profile, when it is locked.
    pub locked_by: Option<String>,
}

impl ProfileHeader {
    /// From a loaded customer.
    pub fn new(loaded: &Loaded, tab: &'static str) -> Self {
        ProfileHeader {
            public_id: loaded.customer.public_id.clone(),
            name: loaded.customer.display_name(),
            lifecycle: lifecycle_label(&loaded.customer.lifecycle),
            tags: loaded.tags.clone(),
            tab,
            blacklisted: loaded
                .customer
                .blacklisted
                .then(|| loaded.customer.blacklist_reason.clone().unwrap_or_default()),
            locked_by: loaded.locked_by.clone(),
        }
    }
}

/// The label of a stored lifecycle stage.
pub fn lifecycle_label(stored: &str) -> &'static str {
    stored
        .parse::<Lifecycle>()
        .map_or("Unknown", Lifecycle::label)
}
