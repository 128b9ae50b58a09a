//! Anonymization (GDPR erasure): a customer's personal data and the text of their
//! conversations are removed for good; counts, timestamps, ratings and order amounts stay
//! so reports still add up. Recorded in History and the audit log without the erased data.

use crate::db::events::{self, NewEvent};
use crate::db::types::{AuditAction, CustomerId, EventAction};
use crate::db::{self, DbConnection, customers, erasure};
use crate::domain::customer::Actor;
use crate::domain::search::fold;
use crate::error::AppError;
use crate::services::audit;

/// The name an anonymized customer keeps.
pub fn anonymized_name(public_id: &str) -> String {
    format!("Anonymized customer {public_id}")
}

/// Erases a customer's personal data. A second erasure of the same customer is refused.
pub fn anonymize(
    conn: &mut DbConnection,
    customer: CustomerId,
    actor: &Actor,
) -> Result<(), AppError> {
    db::transaction(conn, |conn| {
        if erasure::find_erasure(conn, customer)?.is_some() {
            return Err(AppError::Conflict(
                "This customer was anonymized already.".to_owned(),
            ));
        }
        let found = customers::get_customer(conn, customer)?;
        // The import remembers rows by these keys (see services::import).
        let keys: Vec<String> = [("email", &found.email), ("phone", &found.phone)]
            .into_iter()
            .filter_map(|(kind, value)| {
                value
                    .as_deref()
                    .map(|v| format!("{kind}:{}", v.to_lowercase()))
            })
            .collect();
        let name = anonymized_name(&found.public_id);
        erasure::erase_customer(conn, &found, &name, &fold(&name), &keys, &actor.name())?;
        let version = customers::bump_version(conn, customer, None)?.unwrap_or(found.version);
        events::insert_event(
            conn,
            NewEvent {
                customer,
                actor,
                action: EventAction::Anonymized,
                property_key: None,
                old_value: None,
                new_value: None,
                reverts: None,
                customer_version: version,
            },
        )?;
        audit::record(
            conn,
            actor,
            AuditAction::CustomerAnonymized,
            &found.public_id,
            "",
        )
    })
}
