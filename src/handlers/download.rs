//! Streamed downloads: a blocking task writes the body chunk by chunk into a small
//! channel, so the download starts at once and memory stays flat however large it is.
//!
//! A download never ends looking whole when it is not. The response waits for the first
//! chunk: a failure before it (the database unavailable) is an error page with its status,
//! not an empty file. A failure after it cuts the connection, so the browser or the
//! integration sees a failed transfer instead of a short file.

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::HttpResponse;
use actix_web::web::Bytes;

use crate::db::DbPool;
use crate::error::AppError;

type Chunk = Result<Bytes, AppError>;

/// The download body: the first chunk, then the rest as the writing task produces them.
struct Chunks {
    first: Option<Bytes>,
    rest: tokio::sync::mpsc::Receiver<Chunk>,
}

impl futures_core::Stream for Chunks {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(first) = self.first.take() {
            return Poll::Ready(Some(Ok(first)));
        }
        self.rest
            .poll_recv(cx)
            .map(|next| next.map(|chunk| chunk.map_err(std::io::Error::other)))
    }
}

/// A download of `content_type` named `file_name`, written by `write` in a blocking task.
/// `write` checks connections out of the pool as it reads, never across a chunk it hands
/// on (a client reading slowly would hold it), and hands each chunk to the function it is
/// given, which answers `false` once the client went away. An error `write` returns
/// before its first chunk is this request's error; after it, the transfer fails.
pub async fn stream<W>(
    pool: DbPool,
    content_type: &str,
    file_name: &str,
    write: W,
) -> Result<HttpResponse, AppError>
where
    W: FnOnce(&DbPool, &mut dyn FnMut(Vec<u8>) -> bool) -> Result<(), AppError> + Send + 'static,
{
    // A chunk is read only once the one before it was taken to be sent: reading it still
    // overlaps sending the one before, and a client that hangs up leaves no chunk read
    // for nobody waiting in the channel.
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Chunk>(1);
    let runtime = tokio::runtime::Handle::current();
    actix_web::rt::task::spawn_blocking(move || {
        let mut send = |chunk: Vec<u8>| {
            sender.blocking_send(Ok(Bytes::from(chunk))).is_ok()
                && runtime.block_on(sender.reserve()).is_ok()
        };
        if let Err(error) = write(&pool, &mut send) {
            tracing::warn!(%error, "download stopped");
            // The reader may be gone already: nothing left to tell then.
            let _ = sender.blocking_send(Err(error));
        }
    });
    let first = match receiver.recv().await {
        Some(Ok(first)) => first,
        Some(Err(error)) => return Err(error),
        None => return Err(anyhow::anyhow!("the download wrote nothing").into()),
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type.to_owned())
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{file_name}\""),
        ))
        .insert_header(("Cache-Control", "no-store"))
        .streaming(Chunks {
            first: Some(first),
            rest: receiver,
        }))
}
