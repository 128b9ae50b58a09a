//! A download never ends looking whole when it is not: a failure before the first chunk is
//! an error page, one after it cuts the transfer.

use std::time::Duration;

use actix_web::ResponseError;
use clientele::db::listing::CustomerFilter;
use clientele::db::{DatabaseUrl, DbManager, DbPool};
use clientele::domain::Role;
use clientele::domain::customer::Actor;
use clientele::error::AppError;
use clientele::handlers::download;
use clientele::services::export::{ExportPlan, write_all};

/// A pool whose every checkout fails: nothing listens on port 9 of the loopback.
fn unreachable_pool() -> DbPool {
    let url: DatabaseUrl = "postgres://nobody@127.0.0.1:9/none?connect_timeout=1"
        .parse()
        .expect("a URL");
    diesel::r2d2::Pool::builder()
        .connection_timeout(Duration::from_millis(300))
        .build_unchecked(DbManager::new(url))
}

fn down() -> AppError {
    AppError::Unavailable(anyhow::anyhow!("the database went away"))
}

#[actix_web::test]
async fn a_download_failing_before_its_first_chunk_is_an_error_page() {
    let started = download::stream(unreachable_pool(), "text/csv", "a.csv", |_, _| Err(down()));
    let error = started.await.expect_err("no download begins");
    assert_eq!(error.status_code().as_u16(), 503);
}

#[actix_web::test]
async fn a_download_failing_after_its_first_chunk_is_cut_short() {
    let response = download::stream(unreachable_pool(), "text/csv", "a.csv", |_, send| {
        assert!(send(b"id,name\n".to_vec()));
        Err(down())
    })
    .await
    .expect("the download begins");
    assert_eq!(response.status().as_u16(), 200);
    let body = actix_web::body::to_bytes(response.into_body()).await;
    assert!(body.is_err(), "a short file must not arrive as a whole one");
}

#[actix_web::test]
async fn a_whole_download_arrives_whole() {
    let response = download::stream(unreachable_pool(), "text/csv", "a.csv", |_, send| {
        assert!(send(b"id,name\n".to_vec()));
        assert!(send(b"C1,Ana\n".to_vec()));
        Ok(())
    })
    .await
    .expect("the download begins");
    let body = actix_web::body::to_bytes(response.into_body())
        .await
        .expect("the whole body");
    assert_eq!(&body[..], b"id,name\nC1,Ana\n");
}

#[actix_web::test]
async fn an_export_whose_database_is_gone_sends_nothing_and_fails() {
    let plan = ExportPlan::new(&[], Role::Supervisor, CustomerFilter::default());
    let mut sent = 0;
    let written = write_all(
        &unreachable_pool(),
        &plan,
        &Actor::System,
        "filter: everyone",
        &mut |_| {
            sent += 1;
            true
        },
    );
    assert!(
        matches!(written, Err(AppError::Unavailable(_))),
        "{written:?}"
    );
    assert_eq!(sent, 0, "not even the header row");
}
