//! Finding a customer from what staff typed: a customer ID, a phone in any written form, an
//! e-mail, the start of any channel id (openid, app id, Weibo UUID, Instagram handle,
//! Telegram or QQ number), whatever its letter case, or a name by the Customers page's
//! fuzzy rules. Used by the card's "link to an existing customer" and by picking a
//! customer to merge.

use crate::db::DbConnection;
use crate::db::customers::{self, Customer};
use crate::db::identities;
use crate::db::listing::{self, CustomerFilter};
use crate::db::types::CustomerId;
use crate::domain::customer::{MatchKey, typed_public_id};
use crate::domain::property::{Value, parse_phone};
use crate::domain::scope::Scope;
use crate::domain::search::FuzzyQuery;
use crate::error::AppError;
use crate::services::teams;

/// The form of a typed channel id it is stored in: a phone in E.164, anything else in
/// lower case without an Instagram `@`. `None` when nothing is left.
pub fn id_form(typed: &str) -> Option<String> {
    let typed = typed.trim();
    if let Ok(Value::Text { text }) = parse_phone(typed) {
        return Some(text);
    }
    let lowered = typed.strip_prefix('@').unwrap_or(typed).to_lowercase();
    (!lowered.is_empty()).then_some(lowered)
}

/// Up to `limit` customers matching `query` that the reader's scope reaches, best first:
/// those holding it as a key or a channel id, else those whose name (or ID) matches by the
/// fuzzy rules.
pub fn find_customers(
    conn: &mut DbConnection,
    query: &str,
    scope: &Scope,
    limit: i64,
) -> Result<Vec<Customer>, AppError> {
    let query = query.trim();
    if query.is_empty() {
        return Ok(Vec::new());
    }
    let mut ids: Vec<CustomerId> = Vec::new();
    if let Some(form) = id_form(query) {
        ids.extend(identities::list_customers_by_id_prefix(conn, &form, limit)?);
    }
    let key = if let Ok(Value::Text { text }) = parse_phone(query) {
        Some((MatchKey::Phone, text))
    } else if query.contains('@') {
        Some((MatchKey::Email, query.to_owned()))
    } else {
        typed_public_id(query).map(|id| (MatchKey::CustomerId, id))
    };
    if let Some((key, value)) = key {
        ids.extend(customers::ids_by_key(conn, key, &value, limit)?);
    }
    let mut found: Vec<Customer> = if ids.is_empty() {
        Vec::new()
    } else {
        customers::list_by_ids(conn, &ids)?
    };
    teams::retain_reached(conn, scope, &mut found, |c| c.id)?;
    if found.is_empty() {
        // A name, or part of a customer ID: exact, then partial, then with a typo.
        for id in [false, true] {
            let parsed = FuzzyQuery::parse(query);
            let filter = if id {
                CustomerFilter {
                    public_id: parsed,
                    ..CustomerFilter::default()
                }
                .within(scope)
            } else {
                CustomerFilter {
                    name: parsed,
                    ..CustomerFilter::default()
                }
                .within(scope)
            };
            if filter.name.is_none() && filter.public_id.is_none() {
                break;
            }
            let plans = listing::plan(conn, &filter)?;
            found.extend(
                listing::list_filtered(conn, &filter, &plans, listing::PageRequest::newest(limit))?
                    .into_iter()
                    .map(|(c, _)| c),
            );
            if !found.is_empty() {
                break;
            }
        }
    }
    found.truncate(limit as usize);
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_ids_take_their_stored_form() {
        assert_eq!(
            id_form(" 00385 91 234 5678 ").as_deref(),
            Some("+385912345678")
        );
        assert_eq!(id_form("@John.Doe").as_deref(), Some("john.doe"));
        assert_eq!(id_form("oUpF8uMuAJO").as_deref(), Some("oupf8umuajo"));
        assert_eq!(id_form("  "), None);
    }
}
