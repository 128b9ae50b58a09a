//! Erasing a customer's personal data (anonymization): every statement that removes a
//! string about them, in one place, so a new table holding such strings is added here.

use diesel::prelude::*;

use super::kept;
use super::schema::{
    channel_identities, conversation_comments, conversations, customer_erasures, customer_events,
    customer_locks, customer_notes, customer_values, customers, import_keys, messages, orders,
    outbox, self_service_links,
};
use super::types::CustomerId;
use super::{DbConnection, now};
use crate::domain::password::random_hex;

/// When and by whom the customer was anonymized, if they were.
pub fn find_erasure(
    conn: &mut DbConnection,
    customer: CustomerId,
) -> QueryResult<Option<(String, chrono::NaiveDateTime)>> {
    customer_erasures::table
        .find(customer)
        .select((customer_erasures::erased_by, customer_erasures::erased_at))
        .first(conn)
        .optional()
}

/// Removes every string about the customer, in the caller's transaction. `name` replaces
/// the name ("Anonymized customer C…") and `sort_name` its sort key; `keys` are the import
/// keys (`email:…`, `phone:…`) the customer's values produced. Counters, timestamps,
/// ratings and order amounts stay.
pub fn erase_customer(
    conn: &mut DbConnection,
    found: &super::customers::Customer,
    name: &str,
    sort_name: &str,
    keys: &[String],
    by: &str,
) -> QueryResult<()> {
    let customer = found.id;
    kept::update(
        customers::table.find(customer),
        (
            customers::name.eq(Some(name)),
            customers::email.eq(None::<String>),
            customers::phone.eq(None::<String>),
            customers::gender.eq(None::<String>),
            customers::city.eq(None::<String>),
            customers::country.eq(None::<String>),
            customers::language.eq(None::<String>),
            customers::company.eq(None::<String>),
            customers::nickname.eq(None::<String>),
            customers::blacklist_reason.eq(None::<String>),
            customers::sort_name.eq(sort_name),
            customers::search_text.eq(""),
            customers::updated_at.eq(now()),
        ),
    )
    .execute(conn)?;
    diesel::delete(customer_values::table.filter(customer_values::customer_id.eq(customer)))
        .execute(conn)?;
    // A merge into this customer can no longer be undone: its snapshot held the other
    // customer's data, now part of this one's.
    super::merges::drop_snapshots_into(conn, customer)?;
    super::duplicates::delete_pairs_of(conn, customer)?;
    super::search::remove_terms(conn, found)?;
    diesel::delete(self_service_links::table.filter(self_service_links::customer_id.eq(customer)))
        .execute(conn)?;
    diesel::delete(customer_locks::table.filter(customer_locks::customer_id.eq(customer)))
        .execute(conn)?;
    kept::update(
        customer_notes::table.filter(customer_notes::customer_id.eq(customer)),
        customer_notes::body.eq("[erased]"),
    )
    .execute(conn)?;
    kept::update(
        conversation_comments::table.filter(
            conversation_comments::conversation_id.eq_any(
                conversations::table
                    .filter(conversations::customer_id.eq(customer))
                    .select(conversations::id),
            ),
        ),
        conversation_comments::body.eq("[erased]"),
    )
    .execute(conn)?;
    kept::update(
        customer_events::table.filter(customer_events::customer_id.eq(customer)),
        (
            customer_events::old_value.eq(None::<String>),
            customer_events::new_value.eq(None::<String>),
        ),
    )
    .execute(conn)?;
    kept::update(
        orders::table.filter(orders::customer_id.eq(customer)),
        orders::items_summary.eq(""),
    )
    .execute(conn)?;
    // Each identity keeps its row (the conversations hang on it) under an opaque id that
    // no channel will ever send, so the next message from the real id is a new contact.
    let identities: Vec<i64> = channel_identities::table
        .filter(channel_identities::customer_id.eq(customer))
        .select(channel_identities::id)
        .load(conn)?;
    for id in identities {
        kept::update(
            channel_identities::table.find(id),
            (
                channel_identities::external_id.eq(format!("erased-{}", random_hex(16))),
                channel_identities::display_name.eq(None::<String>),
                channel_identities::blacklist_reason.eq(None::<String>),
            ),
        )
        .execute(conn)?;
    }
    let their_conversations = conversations::table
        .filter(conversations::customer_id.eq(customer))
        .select(conversations::id);
    kept::update(
        conversations::table.filter(conversations::customer_id.eq(customer)),
        (
            conversations::web_ip.eq(None::<String>),
            conversations::web_region.eq(None::<String>),
            conversations::web_user_agent.eq(None::<String>),
            conversations::web_source.eq(None::<String>),
        ),
    )
    .execute(conn)?;
    let erased_messages = messages::table.filter(
        messages::customer_id
            .eq(customer)
            .or(messages::conversation_id.eq_any(their_conversations.nullable())),
    );
    // Replies not delivered yet would go out with an empty text: they are dropped.
    let undelivered = erased_messages.select(messages::id);
    diesel::delete(outbox::table.filter(outbox::message_id.eq_any(undelivered))).execute(conn)?;
    kept::update(
        erased_messages,
        (
            messages::body.eq(""),
            messages::author_name.eq(None::<String>),
            messages::client_message_id.eq(None::<String>),
        ),
    )
    .execute(conn)?;
    if !keys.is_empty() {
        diesel::delete(import_keys::table.filter(import_keys::key.eq_any(keys))).execute(conn)?;
    }
    diesel::insert_into(customer_erasures::table)
        .values((
            customer_erasures::customer_id.eq(customer),
            customer_erasures::erased_by.eq(by),
            customer_erasures::erased_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}
