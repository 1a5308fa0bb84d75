//! Blob bodies, hashed while they stream.
//!
//! A layer can be gigabytes, so it is never buffered: the scanner consumes it chunk by chunk
//! while the stream hashes the exact bytes it hands out, and the stream's last item is the
//! verdict — an error when the bytes do not hash to the descriptor's digest or their count
//! differs from its size. A stream that runs past the promised size stops at once (a hostile
//! registry cannot feed us forever). The gate's concurrency permit for the host is held until
//! the stream is dropped.

use bytes::Bytes;
use futures_util::Stream;
use hubcensus_net::Response;
use hubcensus_types::Digest;

use crate::{RegistryError, hash::Hasher};

/// A blob the content of which was checked against its descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedBlob {
    /// Its digest (the descriptor's, which it matched).
    pub digest: Digest,
    /// Its size in bytes.
    pub size: u64,
}

/// A blob download that verifies itself. Read it with [`BlobStream::next_chunk`] or turn it
/// into a `Stream` with [`BlobStream::into_stream`]; a consumer that stops early calls
/// [`BlobStream::finish`] to drain and verify the rest.
#[derive(Debug)]
pub struct BlobStream {
    response: Response,
    digest: Digest,
    expected_size: Option<u64>,
    /// `Some` while streaming; taken when the stream ends.
    hasher: Option<Hasher>,
    read: u64,
    /// How it ended: `Some(true)` verified, `Some(false)` with an error already handed out.
    ended: Option<bool>,
}

impl BlobStream {
    pub(crate) fn new(response: Response, digest: Digest, expected_size: Option<u64>) -> Self {
        let hasher = Some(Hasher::for_digest(&digest));
        Self { response, digest, expected_size, hasher, read: 0, ended: None }
    }

    /// The digest the content must have.
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// The size the descriptor promised, if it did.
    pub fn expected_size(&self) -> Option<u64> {
        self.expected_size
    }

    /// Bytes handed out so far.
    pub fn bytes_read(&self) -> u64 {
        self.read
    }

    /// The next chunk; at the end `None`, or one last error when the content does not match
    /// its descriptor ([`RegistryError::DigestMismatch`], [`RegistryError::SizeMismatch`]) or
    /// the transfer broke ([`RegistryError::Interrupted`]). After an error the stream ends.
    pub async fn next_chunk(&mut self) -> Option<Result<Bytes, RegistryError>> {
        let item = self.advance().await;
        match &item {
            Some(Ok(_)) => {}
            Some(Err(_)) => self.ended = Some(false),
            None => self.ended = self.ended.or(Some(true)),
        }
        item
    }

    async fn advance(&mut self) -> Option<Result<Bytes, RegistryError>> {
        let hasher = self.hasher.as_mut()?;
        match self.response.inner.chunk().await {
            Ok(Some(chunk)) => {
                self.read += chunk.len() as u64;
                if let Some(expected) = self.expected_size.filter(|s| self.read > *s) {
                    self.hasher = None;
                    return Some(Err(RegistryError::SizeMismatch {
                        digest: self.digest.clone(),
                        expected,
                        actual: self.read,
                    }));
                }
                hasher.update(&chunk);
                Some(Ok(chunk))
            }
            Ok(None) => {
                let hasher = self.hasher.take()?;
                if let Some(expected) = self.expected_size.filter(|s| *s != self.read) {
                    return Some(Err(RegistryError::SizeMismatch {
                        digest: self.digest.clone(),
                        expected,
                        actual: self.read,
                    }));
                }
                let actual = hasher.finish();
                (actual != self.digest).then(|| {
                    Err(RegistryError::DigestMismatch {
                        what: format!("blob {}", self.digest),
                        expected: self.digest.clone(),
                        actual,
                    })
                })
            }
            Err(source) => {
                self.hasher = None;
                Some(Err(RegistryError::Interrupted { what: format!("blob {}", self.digest), source }))
            }
        }
    }

    /// Reads whatever is left and returns the verdict.
    ///
    /// # Errors
    /// As [`BlobStream::next_chunk`]; [`RegistryError::Malformed`] when the stream already
    /// handed out its error (that error is the verdict).
    pub async fn finish(mut self) -> Result<VerifiedBlob, RegistryError> {
        if self.ended == Some(false) {
            return Err(RegistryError::malformed(format!("blob {}: the stream already failed", self.digest)));
        }
        while let Some(item) = self.next_chunk().await {
            item?;
        }
        Ok(VerifiedBlob { digest: self.digest.clone(), size: self.read })
    }

    /// The blob as a `Stream` of chunks (for `tokio_util::io::StreamReader` and the like), with
    /// the verdict as its last item.
    pub fn into_stream(self) -> impl Stream<Item = Result<Bytes, RegistryError>> + Send + 'static {
        futures_util::stream::unfold(self, |mut blob| async move {
            let item = blob.next_chunk().await?;
            Some((item, blob))
        })
    }
}
