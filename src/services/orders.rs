//! Orders from a connected shop: checked like any other input, kept idempotent by the
//! shop's order reference, counted on the customer; the lifecycle rules look at the
//! customer again.

use crate::db::types::CustomerId;
use crate::db::{self, DbConnection, orders};
use crate::domain::FieldErrors;
use crate::error::AppError;

/// An order as an integration sends it.
#[derive(Debug, Default, Clone)]
pub struct OrderInput {
    /// When it was placed (RFC 3339).
    pub placed_at: String,
    /// The shop's status, e.g. paid, shipped, refunded.
    pub status: String,
    /// The total as a decimal, e.g. 59.90.
    pub total: String,
    /// ISO 4217 currency code, e.g. EUR.
    pub currency: String,
    /// A short description of the items.
    pub items_summary: String,
}

/// Creates or replaces the order `order_ref` of a customer; `true` when it is new. Every
/// field is checked first and all refusals are reported together.
pub fn put_order(
    conn: &mut DbConnection,
    customer: CustomerId,
    order_ref: &str,
    input: &OrderInput,
) -> Result<bool, AppError> {
    let mut errors = FieldErrors::default();
    let placed_at = errors.check(
        "placed_at",
        chrono::DateTime::parse_from_rfc3339(input.placed_at.trim())
            .map(|t| t.naive_utc())
            .map_err(|_| "Use an RFC 3339 time such as 2026-11-20T10:00:00Z.".to_owned()),
    );
    errors.check(
        "total",
        crate::domain::property::parse_number(input.total.trim()).map(|_| ()),
    );
    let currency = input.currency.trim().to_ascii_uppercase();
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
        errors.push("currency", "Use a three-letter ISO 4217 code such as EUR.");
    }
    for (field, value, max) in [
        ("status", &input.status, 40),
        ("items_summary", &input.items_summary, 1000),
    ] {
        if value.trim().is_empty() && field == "status" {
            errors.push(field, "Give the order's status, e.g. paid.");
        } else if value.chars().count() > max {
            errors.push(field, format!("At most {max} characters."));
        }
    }
    if order_ref.trim().is_empty() || order_ref.chars().count() > 100 {
        errors.push("order_ref", "An order reference has 1 to 100 characters.");
    }
    let (Some(placed_at), true) = (placed_at, errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    db::transaction(conn, |conn| {
        let created = orders::upsert_order(
            conn,
            customer,
            order_ref.trim(),
            &orders::OrderFields {
                placed_at,
                status: input.status.trim(),
                total: input.total.trim(),
                currency: &currency,
                items_summary: input.items_summary.trim(),
            },
        )?;
        crate::services::lifecycle::on_activity(conn, customer)?;
        Ok(created)
    })
}
