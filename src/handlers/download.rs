//! Streamed downloads: a blocking task writes the body chunk by chunk into a small
//! channel, so the download starts at once and memory stays flat however large it is.

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::HttpResponse;
use actix_web::web::Bytes;

use crate::db::DbPool;

/// The download body: chunks as the writing task produces them.
struct Chunks(tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>);

impl futures_core::Stream for Chunks {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

/// A download of `content_type` named `file_name`, written by `write` in a blocking task.
/// `write` checks connections out of the pool as it reads, never across a chunk it hands
/// on (a client reading slowly would hold it), and hands each chunk to the function it is
/// given, which answers `false` once the client went away.
pub fn stream<W>(pool: DbPool, content_type: &str, file_name: &str, write: W) -> HttpResponse
where
    W: FnOnce(&DbPool, &mut dyn FnMut(Vec<u8>) -> bool) + Send + 'static,
{
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    actix_web::rt::task::spawn_blocking(move || {
        let mut send = |chunk: Vec<u8>| sender.blocking_send(Ok(Bytes::from(chunk))).is_ok();
        write(&pool, &mut send);
    });
    HttpResponse::Ok()
        .content_type(content_type.to_owned())
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{file_name}\""),
        ))
        .insert_header(("Cache-Control", "no-store"))
        .streaming(Chunks(receiver))
}
