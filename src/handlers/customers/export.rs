//! `GET /customers/export.csv?<filter>` (the current filter or a segment's) and
//! `POST /customers/export.csv` (the selected rows): a streamed CSV download. Rows are
//! written by a blocking task batch by batch into a small channel, so the download starts
//! at once and memory stays flat; the export is recorded with its filter and row count.

use actix_web::{HttpResponse, web};

use super::filter;
use crate::auth::{CustomersUser, Supervisor};
use crate::db::listing::CustomerFilter;
use crate::db::{self, customers};
use crate::error::AppError;
use crate::handlers::download;
use crate::page::FlashKind;
use crate::services::customer_export;
use crate::services::export::{ExportPlan, write_all};
use crate::state::AppState;

/// `GET`: the filter in the query string.
pub async fn export_filter(
    user: CustomersUser,
    state: web::Data<AppState>,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let pairs: Vec<(String, String)> = query
        .into_inner()
        .into_iter()
        .filter(|(k, _)| k != "after")
        .collect();
    stream(user, state, pairs, Vec::new()).await
}

/// `POST`: the rows ticked in the list (`customer` fields).
pub async fn export_selected(
    user: CustomersUser,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let selected: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "customer")
        .map(|(_, v)| v.trim().to_owned())
        .take(1000)
        .collect();
    if selected.is_empty() {
        user.0
            .session
            .flash(FlashKind::Error, "Select at least one customer to export.");
        return Ok(crate::error::see_other("/customers"));
    }
    stream(user, state, Vec::new(), selected).await
}

async fn stream(
    user: CustomersUser,
    state: web::Data<AppState>,
    pairs: Vec<(String, String)>,
    selected: Vec<String>,
) -> Result<HttpResponse, AppError> {
    let role = user.role();
    let me = user.0.user.id.0;
    let described = if selected.is_empty() {
        format!("filter: {}", filter::query_of(&pairs, &[]))
    } else {
        format!("selected: {}", selected.join(", "))
    };
    let scope = user.0.scope.clone();
    let plan = state
        .run(move |conn| {
            let resolved = filter::resolve(conn, &pairs, role, me, &scope)?;
            let filter = if selected.is_empty() {
                resolved.filter
            } else {
                CustomerFilter::only(customers::ids_for_public_ids(conn, &selected)?).within(&scope)
            };
            Ok(ExportPlan::new(&resolved.registry, role, filter))
        })
        .await?;
    let actor = user.0.actor();
    let name = format!("customers-{}.csv", db::now().format("%Y%m%d-%H%M"));
    download::stream(
        state.pool.clone(),
        "text/csv; charset=utf-8",
        &name,
        move |pool, send| write_all(pool, &plan, &actor, &described, send),
    )
    .await
}

/// `GET /customers/{id}/export.json` (supervisors): everything about one customer, for an
/// access or portability request; recorded in the audit log.
pub async fn export_customer(
    Supervisor(user): Supervisor,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let public_id = path.into_inner();
    let lookup = public_id.clone();
    let customer = state
        .run(move |conn| {
            customers::find_customer_by_public_id(conn, &lookup)?.ok_or(AppError::NotFound)
        })
        .await?;
    let actor = user.actor();
    download::stream(
        state.pool.clone(),
        "application/json",
        &format!("{public_id}.json"),
        move |pool, send| customer_export::write_customer(pool, customer.id, &actor, send),
    )
    .await
}
