//! Possible duplicates of a customer — others sharing their e-mail (without case) or phone
//! — and "not the same person", which keeps a pair from being suggested again.

use crate::db::customers::{self, Customer};
use crate::db::types::CustomerId;
use crate::db::{self, DbConnection, duplicates};
use crate::domain::customer::Actor;
use crate::error::AppError;

/// At most this many suggestions are shown for one customer.
const MOST: i64 = 20;

/// A customer who may be the same person, and why.
pub struct Suggestion {
    /// The other customer.
    pub customer: Customer,
    /// What they share: "same e-mail", "same phone".
    pub reasons: Vec<&'static str>,
}

/// The possible duplicates of `customer`, leaving out the pairs staff dismissed.
pub fn suggestions_for(
    conn: &mut DbConnection,
    customer: &Customer,
) -> Result<Vec<Suggestion>, AppError> {
    let dismissed = duplicates::list_dismissed(conn, customer.id)?;
    let email = customer.email.as_deref().map(str::to_lowercase);
    Ok(duplicates::list_sharing_keys(conn, customer, MOST)?
        .into_iter()
        .filter(|other| !dismissed.contains(&other.id))
        .map(|other| {
            let mut reasons = Vec::new();
            if email.is_some() && other.email.as_deref().map(str::to_lowercase) == email {
                reasons.push("same e-mail");
            }
            if customer.phone.is_some() && other.phone == customer.phone {
                reasons.push("same phone");
            }
            Suggestion {
                customer: other,
                reasons,
            }
        })
        .collect())
}

/// "Not the same person": the pair is not suggested again.
pub fn dismiss(
    conn: &mut DbConnection,
    customer: CustomerId,
    other: CustomerId,
    actor: &Actor,
) -> Result<(), AppError> {
    if customer == other {
        return Err(AppError::NotFound);
    }
    db::transaction(conn, |conn| {
        customers::get_customer(conn, customer)?;
        customers::get_customer(conn, other)?;
        duplicates::insert_dismissal(conn, customer, other, &actor.name())?;
        Ok(())
    })
}
