//! A filter's searches resolved once per request, before the page's query: the fuzzy
//! name and ID plans, and the customers a channel id prefix or a piece of an e-mail or
//! phone points at when they are few enough to pass as a list.

use diesel::QueryResult;

use super::CustomerFilter;
use crate::db::DbConnection;
use crate::db::customers::{ContactField, ids_containing};
use crate::db::search;
use crate::db::types::CustomerId;

/// The fuzzy searches of a filter, resolved against the index (once per request).
#[derive(Debug, Clone, Default)]
pub struct Plans {
    pub(super) name: Option<search::Plan>,
    pub(super) public_id: Option<search::Plan>,
    /// The holders of a channel id that starts with the filter's, when they are few
    /// enough to list; `None` tests each row instead.
    pub(super) contact: Option<Vec<CustomerId>>,
    /// The customers whose e-mail, or phone, contains the filter's text, from the trigram
    /// index, when they are few enough to list; `None` tests each row instead.
    pub(super) email: Option<Vec<CustomerId>>,
    pub(super) phone: Option<Vec<CustomerId>>,
    /// Whether the database is SQLite (how a list of ids is passed).
    pub(super) sqlite: bool,
}

impl Plans {
    /// The name search's plan, if the filter searches names.
    pub fn name(&self) -> Option<&search::Plan> {
        self.name.as_ref()
    }

    /// Whether a search of the filter already found nobody: a listed piece of a contact no
    /// one holds, or words no name holds. A page is then empty without asking the
    /// database (the search box tries each reading in turn, most of them in vain).
    pub fn match_nobody(&self) -> bool {
        let listed_none = [&self.contact, &self.email, &self.phone]
            .into_iter()
            .any(|list| list.as_ref().is_some_and(Vec::is_empty));
        let words_none = [&self.name, &self.public_id]
            .into_iter()
            .any(|plan| plan.as_ref().is_some_and(|plan| plan.matches == Some(0)));
        listed_none || words_none
    }
}

/// The most holders of a channel id prefix, or of a piece of an e-mail or phone, passed as
/// a list.
const CONTACT_LIST_AT_MOST: i64 = 10_000;

/// Resolves a filter's fuzzy searches.
pub fn plan(conn: &mut DbConnection, filter: &CustomerFilter) -> QueryResult<Plans> {
    plan_within(conn, filter, search::Bounds::default())
}

/// [`plan`] within other bounds on the ids collected and listed (tests use tiny ones, to
/// take the paths of common words and of searches tested row by row).
pub fn plan_within(
    conn: &mut DbConnection,
    filter: &CustomerFilter,
    bounds: search::Bounds,
) -> QueryResult<Plans> {
    Ok(Plans {
        sqlite: crate::db::among::is_sqlite(conn),
        name: filter
            .name
            .as_ref()
            .map(|q| search::plan_within(conn, q, false, bounds))
            .transpose()?,
        public_id: filter
            .public_id
            .as_ref()
            .map(|q| search::plan_within(conn, q, true, bounds))
            .transpose()?,
        contact: match &filter.contact {
            Some(prefix) => {
                let ids = crate::db::identities::list_customers_by_id_prefix(
                    conn,
                    prefix,
                    CONTACT_LIST_AT_MOST + 1,
                )?;
                (ids.len() as i64 <= CONTACT_LIST_AT_MOST).then_some(ids)
            }
            None => None,
        },
        email: match &filter.email {
            Some(email) => {
                let piece = email.to_lowercase();
                ids_containing(conn, ContactField::Email, &piece, CONTACT_LIST_AT_MOST)?
            }
            None => None,
        },
        phone: match &filter.phone {
            Some(phone) => ids_containing(
                conn,
                ContactField::Phone,
                &phone_digits(phone),
                CONTACT_LIST_AT_MOST,
            )?,
            None => None,
        },
    })
}

/// The digits "Phone contains" looks for.
pub(super) fn phone_digits(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}
