//! A customer's engagement figures, as the Summary tab and the conversation panel show
//! them: read on the customer's own indexes and summed per month of the organisation's
//! calendar.

use crate::db::DbConnection;
use crate::db::engagement as rows;
use crate::db::types::CustomerId;
use crate::domain::engagement::{self, Engagement};
use crate::domain::scope::Scope;
use crate::error::AppError;
use crate::services::{settings, teams};

/// The figures of `customer` as `scope` may see them: conversations on channels the
/// reader's teams do not work are left out.
pub fn figures(
    conn: &mut DbConnection,
    customer: CustomerId,
    scope: &Scope,
) -> Result<Engagement, AppError> {
    let hidden = teams::hidden_conversations(conn, scope, customer)?;
    let (now, zone) = (crate::db::now(), settings::org_zone(conn)?);
    let since = engagement::charts_start(now, zone);
    let conversations = rows::conversations_since(conn, customer, since, &hidden)?;
    let orders = rows::orders_of(conn, customer)?;
    Ok(engagement::summarise(&conversations, &orders, now, zone))
}
