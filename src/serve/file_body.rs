//! A file sent as an HTTP body in chunks: a blocking reader thread fills a small bounded
//! channel, so memory per download stays at a few chunks whatever the file's size, and a slow
//! client slows the reader instead of filling memory.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::sync::mpsc;

/// Bytes read at once.
const CHUNK_BYTES: u64 = 256 * 1024;
/// Chunks waiting for the client at most (1 MiB per download).
const CHUNKS_IN_FLIGHT: usize = 4;

/// The body of `len` bytes of `file` from `start`.
pub struct FileBody {
    chunks: mpsc::Receiver<std::io::Result<Bytes>>,
    left: u64,
}

/// Starts reading `len` bytes of `file` from `start` on a blocking thread of the runtime.
pub fn stream(file: File, start: u64, len: u64) -> FileBody {
    let (tx, rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
    if len > 0 {
        tokio::task::spawn_blocking(move || {
            let mut at = start;
            let end = start + len;
            while at < end {
                let n = (end - at).min(CHUNK_BYTES) as usize;
                let mut buf = vec![0u8; n];
                let read = file.read_exact_at(&mut buf, at).map(|()| Bytes::from(buf));
                let failed = read.is_err();
                // The client went away: stop reading.
                if tx.blocking_send(read).is_err() || failed {
                    return;
                }
                at += n as u64;
            }
        });
    }
    FileBody {
        chunks: rx,
        left: len,
    }
}

impl Body for FileBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        match self.chunks.poll_recv(cx) {
            Poll::Ready(Some(Ok(bytes))) => {
                self.left = self.left.saturating_sub(bytes.len() as u64);
                Poll::Ready(Some(Ok(Frame::data(bytes))))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Ready(None) => Poll::Ready(Some(Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the file ended early",
            )))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.left == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.left)
    }
}
