//! The Orders tab: what a connected shop reported.

use actix_web::{HttpResponse, web};
use askama::Template;

use super::{ProfileHeader, load};
use crate::auth::CustomersUser;
use crate::db::orders::{self, Order};
use crate::error::AppError;
use crate::handlers::page::{PageContext, render};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "customers/orders.html")]
struct OrdersPage {
    ctx: PageContext,
    header: ProfileHeader,
    orders: Vec<(Order, String)>,
}

/// `GET /customers/{id}/orders`.
pub async fn orders(
    user: CustomersUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let loaded = load(&state, path.into_inner()).await?;
    let id = loaded.customer.id;
    let found = state
        .run(move |conn| Ok(orders::list_orders(conn, id)?))
        .await?;
    let ctx = PageContext::new(&user.0, "customers")?;
    let orders = found
        .into_iter()
        .map(|o| {
            let placed = ctx.time(o.placed_at);
            (o, placed)
        })
        .collect();
    render(&OrdersPage {
        header: ProfileHeader::new(&loaded, "orders"),
        ctx,
        orders,
    })
}
