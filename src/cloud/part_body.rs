//! One upload part as a request body that counts the bytes the connection has taken, so upload
//! progress moves byte by byte rather than part by part. The part streams from the file (nothing
//! is buffered beyond the SDK's read buffer) and is read again from its start on every retry.

use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use aws_sdk_s3::primitives::{ByteStream, Length, SdkBody};
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

/// The `len` bytes at `offset` of a file, as a body that adds what it hands out to `sent`
/// (reset to 0 on every attempt).
pub async fn counted_part(
    path: &Path,
    offset: u64,
    len: u64,
    sent: Arc<AtomicU64>,
) -> Result<ByteStream, String> {
    let file = ByteStream::read_from()
        .path(path)
        .offset(offset)
        .length(Length::Exact(len))
        .build()
        .await
        .map_err(|e| e.to_string())?
        .into_inner();
    Ok(counted(file, sent))
}

/// `body` (which must be retryable) counted into `sent`.
fn counted(body: SdkBody, sent: Arc<AtomicU64>) -> ByteStream {
    ByteStream::new(SdkBody::retryable(move || {
        sent.store(0, Ordering::Relaxed);
        match body.try_clone() {
            Some(inner) => SdkBody::from_body_1_x(Counting {
                inner,
                sent: Arc::clone(&sent),
            }),
            None => SdkBody::taken(),
        }
    }))
}

struct Counting {
    inner: SdkBody,
    sent: Arc<AtomicU64>,
}

impl Body for Counting {
    type Data = Bytes;
    type Error = aws_smithy_types::body::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
        {
            self.sent.fetch_add(data.len() as u64, Ordering::Relaxed);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        Body::is_end_stream(&self.inner)
    }

    fn size_hint(&self) -> SizeHint {
        Body::size_hint(&self.inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_every_byte_of_the_part_and_starts_again_on_retry() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("source.bin");
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).expect("write");
        let sent = Arc::new(AtomicU64::new(0));
        let body = counted_part(&path, 50_000, 200_000, Arc::clone(&sent))
            .await
            .expect("body")
            .into_inner();
        // Each attempt sends a fresh copy of the request's body.
        let first = body.try_clone().expect("retryable");
        let got = ByteStream::new(first)
            .collect()
            .await
            .expect("bytes")
            .into_bytes();
        assert_eq!(&got[..], &data[50_000..250_000]);
        assert_eq!(sent.load(Ordering::Relaxed), 200_000);
        let second = body.try_clone().expect("retryable");
        let again = ByteStream::new(second)
            .collect()
            .await
            .expect("bytes")
            .into_bytes();
        assert_eq!(&again[..], &data[50_000..250_000]);
        assert_eq!(
            sent.load(Ordering::Relaxed),
            200_000,
            "a retry counts from zero"
        );
    }
}
