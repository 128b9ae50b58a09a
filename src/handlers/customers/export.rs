//! `GET /customers/export.csv?<filter>` (the current filter or a segment's) and
//! `POST /customers/export.csv` (the selected rows): a streamed CSV download. Rows are
//! written by a blocking task batch by batch into a small channel, so the download starts
//! at once and memory stays flat; the export is recorded with its filter and row count.

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};

use super::filter;
use crate::auth::CustomersUser;
use crate::db::listing::CustomerFilter;
use crate::db::{self, customers};
use crate::error::AppError;
use crate::page::FlashKind;
use crate::services::export::{ExportPlan, write_all};
use crate::state::AppState;

/// The download body: chunks as the exporting task produces them.
struct Chunks(tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>);

impl futures_core::Stream for Chunks {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

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
    let described = if selected.is_empty() {
        format!("filter: {}", filter::query_of(&pairs, &[]))
    } else {
        format!("selected: {}", selected.join(", "))
    };
    let plan = state
        .run(move |conn| {
            let resolved = filter::resolve(conn, &pairs, role)?;
            let filter = if selected.is_empty() {
                resolved.filter
            } else {
                CustomerFilter::only(customers::ids_for_public_ids(conn, &selected)?)
            };
            Ok(ExportPlan::new(&resolved.registry, role, filter))
        })
        .await?;
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    let pool = state.pool.clone();
    let actor = user.0.actor();
    actix_web::rt::task::spawn_blocking(move || {
        let mut conn = match pool.get() {
            Ok(conn) => conn,
            Err(error) => {
                tracing::warn!(%error, "export: no database connection");
                return;
            }
        };
        write_all(&mut conn, &plan, &actor, &described, |chunk| {
            sender.blocking_send(Ok(Bytes::from(chunk))).is_ok()
        });
    });
    let name = format!("customers-{}.csv", db::now().format("%Y%m%d-%H%M"));
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{name}\""),
        ))
        .insert_header(("Cache-Control", "no-store"))
        .streaming(Chunks(receiver)))
}
