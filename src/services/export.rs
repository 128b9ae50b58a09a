//! CSV export of customers: the columns a reader may see (standard, custom and computed
//! properties by technical name, then lifecycle, tags and identities), written batch by
//! batch in id order so memory stays flat however many rows there are.

use std::borrow::Cow;
use std::collections::HashMap;

use diesel::QueryResult;

use crate::db::customers;
use crate::db::identities;
use crate::db::listing::{self, CustomerFilter};
use crate::db::properties::Property;
use crate::db::tags;
use crate::db::types::{AuditAction, CustomerId};
use crate::db::{DbConnection, DbPool};
use crate::domain::Role;
use crate::domain::customer::Actor;
use crate::error::AppError;
use crate::services::audit;
use crate::services::profiles::value_of;
use crate::state::on_connection;

/// Customers an export's first queries read: half a page, so the download starts as soon
/// as the Customers page would show them, and a reader who hangs up at once (sixteen
/// starting together at a million customers, 2026-12-01) leaves fewer rows read for
/// nobody. After [`SMALL_BATCHES`] of them each query reads twice as many as the one
/// before, up to [`BATCH`].
pub const FIRST_BATCH: i64 = 25;

/// How many batches of [`FIRST_BATCH`] an export writes before its batches grow: a
/// reader that hangs up after the first rows (a preview, a link opened by mistake) is
/// noticed only after a few more chunks, and those few cost little.
pub const SMALL_BATCHES: usize = 4;

/// The most customers one query reads while exporting.
pub const BATCH: i64 = 2_000;

/// Separates several tags or identities in one cell.
pub const LIST_SEPARATOR: &str = "; ";

/// What to export, for whom.
pub struct ExportPlan {
    /// The properties the reader may see, in the registry's order.
    pub properties: Vec<Property>,
    pub filter: CustomerFilter,
}

impl ExportPlan {
    /// Plans an export of `filter` for a reader of `role`.
    pub fn new(registry: &[Property], role: Role, filter: CustomerFilter) -> ExportPlan {
        ExportPlan {
            properties: registry
                .iter()
                .filter(|p| p.visible_to(role))
                .cloned()
                .collect(),
            filter,
        }
    }

    /// The header row.
    pub fn header(&self) -> Vec<String> {
        let mut header = vec!["customer_id".to_owned()];
        header.extend(self.properties.iter().map(|p| p.key.clone()));
        header.extend(["lifecycle", "tags", "identities"].map(str::to_owned));
        header
    }
}

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, or a tab or carriage
/// return first) gets a leading apostrophe, which spreadsheets show as text. Values of a
/// formula-free type ([`crate::domain::property::PropertyType::formula_free`]) skip it.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// Writes the rows of at most `limit` customers after `after`; returns how many rows and
/// the last id, `None` when there are no more.
pub fn write_batch<W: std::io::Write>(
    conn: &mut DbConnection,
    plan: &ExportPlan,
    after: CustomerId,
    limit: i64,
    out: &mut csv::Writer<W>,
) -> QueryResult<Option<(usize, CustomerId)>> {
    let rows = listing::rows_after(conn, &plan.filter, after, limit)?;
    let Some(last) = rows.last().map(|c| c.id) else {
        return Ok(None);
    };
    let ids: Vec<CustomerId> = rows.iter().map(|c| c.id).collect();
    let custom = customers::list_custom_values_for(conn, &ids, &plan.properties)?;
    let mut tags = tags::list_tags_for_customers(conn, &ids)?;
    let mut held: HashMap<CustomerId, Vec<String>> = HashMap::new();
    for identity in identities::list_identities_for(conn, &ids)? {
        if let Some(customer) = identity.customer_id {
            held.entry(customer)
                .or_default()
                .push(format!("{}:{}", identity.channel, identity.external_id));
        }
    }
    let none = HashMap::new();
    let fail = |e: csv::Error| diesel::result::Error::SerializationError(Box::new(e));
    for customer in &rows {
        let custom = custom.get(&customer.id).unwrap_or(&none);
        out.write_field(&customer.public_id).map_err(fail)?;
        for property in &plan.properties {
            let text = value_of(customer, property, custom)
                .map(|v| v.form_text())
                .unwrap_or_default();
            let cell = if property.ty.formula_free() {
                Cow::Borrowed(text.as_str())
            } else {
                neutralise(&text)
            };
            out.write_field(cell.as_bytes()).map_err(fail)?;
        }
        out.write_field(&customer.lifecycle).map_err(fail)?;
        let names: Vec<String> = tags
            .remove(&customer.id)
            .unwrap_or_default()
            .into_iter()
            .map(|t| t.name)
            .collect();
        out.write_field(neutralise(&names.join(LIST_SEPARATOR)).as_bytes())
            .map_err(fail)?;
        let identities = held.remove(&customer.id).unwrap_or_default();
        out.write_field(neutralise(&identities.join(LIST_SEPARATOR)).as_bytes())
            .map_err(fail)?;
        out.write_record(None::<&[u8]>).map_err(fail)?;
    }
    Ok(Some((rows.len(), last)))
}

/// Writes the whole export as CSV chunks of one batch each (a BOM and the header first,
/// so spreadsheet programs read UTF-8), from [`FIRST_BATCH`] rows growing to [`BATCH`],
/// handing each to `send` until it returns `false` (the client went away); then records
/// the export with what it covered and its row count. A batch that fails ends the export
/// with its error, recorded with the rows sent before it.
pub fn write_all(
    pool: &DbPool,
    plan: &ExportPlan,
    actor: &Actor,
    described: &str,
    send: &mut dyn FnMut(Vec<u8>) -> bool,
) -> Result<(), AppError> {
    let fail = |error: csv::Error| AppError::Unexpected(error.into());
    let mut out = csv::Writer::from_writer(Vec::with_capacity(64 * 1024));
    let mut first = b"\xEF\xBB\xBF".to_vec();
    out.write_record(plan.header()).map_err(fail)?;
    let (mut after, mut rows, mut size) = (CustomerId(0), 0_usize, FIRST_BATCH);
    let mut batches = 0_usize;
    let ended = loop {
        // Each batch on a connection of its own, given back before the chunk is handed on:
        // a reader that takes its time never holds one.
        let batch = on_connection(pool, |conn| {
            Ok(write_batch(conn, plan, after, size, &mut out)?)
        });
        let done = match batch {
            Ok(Some((count, last))) => {
                rows += count;
                after = last;
                batches += 1;
                if batches >= SMALL_BATCHES {
                    size = (size * 2).min(BATCH);
                }
                false
            }
            Ok(None) => true,
            Err(error) => break Err(error),
        };
        let mut chunk = std::mem::take(&mut first);
        let written = out
            .into_inner()
            .map_err(|e| AppError::Unexpected(e.into_error().into()))?;
        chunk.extend_from_slice(&written);
        out = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(Vec::with_capacity(64 * 1024));
        if !send(chunk) {
            tracing::info!(rows, "export cancelled by the client");
            break Ok(());
        }
        if done {
            break Ok(());
        }
    };
    let stopped = if ended.is_err() {
        ", stopped by an error"
    } else {
        ""
    };
    let detail = format!("{described} ({rows} rows{stopped})");
    let recorded = on_connection(pool, |conn| {
        crate::db::lone_write(conn, |conn| {
            audit::record(
                conn,
                actor,
                AuditAction::CustomersExported,
                "customers",
                &detail,
            )
        })
    });
    if let Err(error) = recorded {
        tracing::warn!(%error, "export not recorded");
    }
    ended
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_other_text_kept() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise("+385911234567"), "'+385911234567");
        assert_eq!(neutralise("-5"), "'-5");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("Ada"), "Ada");
        assert_eq!(neutralise(""), "");
    }
}
