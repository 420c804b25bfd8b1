//! One upload part as a request body that counts the bytes the connection has taken, so upload
//! progress moves byte by byte rather than part by part. The part is read into memory once (at
//! most a part size per part in flight) and handed out again from the start on every retry.

use std::convert::Infallible;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use aws_sdk_s3::primitives::{ByteStream, SdkBody};
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

/// Bytes handed to the connection per chunk.
const CHUNK_BYTES: usize = 64 * 1024;

/// Reads `len` bytes at `offset` of a file, off the async threads.
pub async fn read_part(path: &Path, offset: u64, len: u64) -> std::io::Result<Bytes> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        use std::os::unix::fs::FileExt;
        let file = std::fs::File::open(&path)?;
        let mut buf = vec![0u8; usize::try_from(len).unwrap_or(usize::MAX)];
        file.read_exact_at(&mut buf, offset)?;
        Ok(Bytes::from(buf))
    })
    .await
    .map_err(std::io::Error::other)?
}

/// A body over `data` that adds what it hands out to `sent` (reset to 0 on every attempt).
pub fn counted(data: Bytes, sent: Arc<AtomicU64>) -> ByteStream {
    ByteStream::new(SdkBody::retryable(move || {
        sent.store(0, Ordering::Relaxed);
        SdkBody::from_body_1_x(Counting {
            data: data.clone(),
            pos: 0,
            sent: Arc::clone(&sent),
        })
    }))
}

struct Counting {
    data: Bytes,
    pos: usize,
    sent: Arc<AtomicU64>,
}

impl Body for Counting {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.pos >= self.data.len() {
            return Poll::Ready(None);
        }
        let end = (self.pos + CHUNK_BYTES).min(self.data.len());
        let chunk = self.data.slice(self.pos..end);
        self.pos = end;
        self.sent.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        Poll::Ready(Some(Ok(Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.pos >= self.data.len()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact((self.data.len() - self.pos) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_every_byte_and_starts_again_on_retry() {
        let sent = Arc::new(AtomicU64::new(0));
        let data = Bytes::from(vec![7u8; 200_000]);
        let body = counted(data.clone(), Arc::clone(&sent)).into_inner();
        // Each attempt sends a fresh copy of the request's body.
        let first = body.try_clone().expect("retryable");
        let got = ByteStream::new(first)
            .collect()
            .await
            .expect("bytes")
            .into_bytes();
        assert_eq!(got, data);
        assert_eq!(sent.load(Ordering::Relaxed), 200_000);
        let second = body.try_clone().expect("retryable");
        let again = ByteStream::new(second)
            .collect()
            .await
            .expect("bytes")
            .into_bytes();
        assert_eq!(again.len(), 200_000);
        assert_eq!(
            sent.load(Ordering::Relaxed),
            200_000,
            "a retry counts from zero"
        );
    }
}
