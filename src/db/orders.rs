//! Orders from a connected shop.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::kept;
use super::schema::{customers, orders};
use super::types::CustomerId;
use super::{DbConnection, now};

/// An order as stored.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize, serde::Deserialize)]
#[diesel(table_name = orders)]
pub struct Order {
    pub id: i64,
    pub customer_id: CustomerId,
    pub order_ref: String,
    pub placed_at: NaiveDateTime,
    pub status: String,
    pub total: String,
    pub currency: String,
    pub items_summary: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The fields of an order.
pub struct OrderFields<'a> {
    pub placed_at: NaiveDateTime,
    pub status: &'a str,
    pub total: &'a str,
    pub currency: &'a str,
    pub items_summary: &'a str,
}

/// Creates or replaces the order `order_ref` of a customer, and keeps the customer's
/// orders count. Returns true when it was new.
pub fn upsert_order(
    conn: &mut DbConnection,
    customer: CustomerId,
    order_ref: &str,
    fields: &OrderFields<'_>,
) -> QueryResult<bool> {
    let existing: Option<i64> = orders::table
        .filter(orders::customer_id.eq(customer))
        .filter(orders::order_ref.eq(order_ref))
        .select(orders::id)
        .first(conn)
        .optional()?;
    let at = now();
    let changes = (
        orders::placed_at.eq(fields.placed_at),
        orders::status.eq(fields.status),
        orders::total.eq(fields.total),
        orders::currency.eq(fields.currency),
        orders::items_summary.eq(fields.items_summary),
        orders::updated_at.eq(at),
    );
    match existing {
        Some(id) => {
            kept::update(orders::table.find(id), changes).execute(conn)?;
            Ok(false)
        }
        None => {
            diesel::insert_into(orders::table)
                .values((
                    orders::customer_id.eq(customer),
                    orders::order_ref.eq(order_ref),
                    orders::created_at.eq(at),
                    changes,
                ))
                .execute(conn)?;
            kept::update(
                customers::table.find(customer),
                customers::orders_count.eq(customers::orders_count + 1),
            )
            .execute(conn)?;
            Ok(true)
        }
    }
}

/// A customer's orders, newest first.
pub fn list_orders(conn: &mut DbConnection, customer: CustomerId) -> QueryResult<Vec<Order>> {
    orders::table
        .filter(orders::customer_id.eq(customer))
        .order(orders::placed_at.desc())
        .select(Order::as_select())
        .load(conn)
}
