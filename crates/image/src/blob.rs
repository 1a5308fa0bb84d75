//! Digest-verified blob reading.
//!
//! Every byte handed to the scanner passes through a [`BlobReader`], which hashes it on the way
//! (one pass: no second read of a multi-GiB layer just to check it) and refuses to read past the
//! descriptor's size, so a lying or swapped blob is a recorded error for that blob, never a
//! silent wrong result. The scanner may stop early (end-of-archive marker, a limit); `finish`
//! then drains the rest so the digest still covers the whole blob.

use std::io::{self, Read};

use hubcensus_types::Digest;
use sha2::{Digest as _, Sha256};

use crate::BlobError;

/// Manifests, indexes, configs and `manifest.json` are parsed only up to this size. Real ones are
/// kilobytes (a config with a long history stays well under 1 MiB); the bound stops a hostile
/// source from making us buffer gigabytes of JSON.
pub const MAX_DOCUMENT_BYTES: u64 = 4 * 1024 * 1024;

/// What a blob is expected to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The digest the content must hash to; `None` when the source names none (a bare
    /// `layer:FILE`), in which case the computed digest becomes the blob's identity.
    pub digest: Option<Digest>,
    /// The size the descriptor gives, if any.
    pub size: Option<u64>,
}

/// A blob read to its end and found to be what its descriptor says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The content's sha256 digest.
    pub digest: Digest,
    /// The content's size in bytes.
    pub size: u64,
}

/// A reader that hashes what it passes on and checks it against [`Expected`] in
/// [`BlobReader::finish`].
pub struct BlobReader<R> {
    inner: R,
    name: String,
    expected: Expected,
    hasher: Sha256,
    read: u64,
}

impl<R> std::fmt::Debug for BlobReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobReader")
            .field("name", &self.name)
            .field("expected", &self.expected)
            .field("read", &self.read)
            .finish_non_exhaustive()
    }
}

impl<R: Read> BlobReader<R> {
    /// Wraps `inner`. `name` names the blob in errors.
    ///
    /// # Errors
    /// [`BlobError::UnsupportedAlgorithm`] when the expected digest is not sha256.
    pub fn new(inner: R, name: impl Into<String>, expected: Expected) -> Result<Self, BlobError> {
        let name = name.into();
        if let Some(d) = &expected.digest
            && d.algorithm() != "sha256"
        {
            return Err(BlobError::UnsupportedAlgorithm(d.to_string()));
        }
        Ok(Self { inner, name, expected, hasher: Sha256::new(), read: 0 })
    }

    /// Whether [`BlobReader::finish`] checks the content against a digest it was given (not
    /// only computes one).
    pub fn checks_digest(&self) -> bool {
        self.expected.digest.is_some()
    }

    /// Bytes passed on so far.
    pub fn bytes_read(&self) -> u64 {
        self.read
    }

    /// Reads what the consumer left, then checks size and digest. Returns the digest of the
    /// content (the expected one, when it matched) and its size.
    ///
    /// # Errors
    /// [`BlobError::SizeMismatch`], [`BlobError::DigestMismatch`] or [`BlobError::Io`].
    pub fn finish(mut self) -> Result<Verified, BlobError> {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match self.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.io_error(&e)),
            }
        }
        if let Some(size) = self.expected.size
            && size != self.read
        {
            return Err(self.size_mismatch(size));
        }
        let hex = hex::encode(self.hasher.finalize_reset());
        let actual: Digest = format!("sha256:{hex}").parse().map_err(|e: hubcensus_types::ParseError| {
            BlobError::Io { name: self.name.clone(), message: e.to_string() }
        })?;
        match self.expected.digest {
            Some(expected) if expected != actual => Err(BlobError::DigestMismatch { expected, actual }),
            _ => Ok(Verified { digest: actual, size: self.read }),
        }
    }

    fn size_mismatch(&self, expected: u64) -> BlobError {
        BlobError::SizeMismatch { digest: self.name.clone(), expected, actual: self.read }
    }

    fn io_error(&self, e: &io::Error) -> BlobError {
        BlobError::Io { name: self.name.clone(), message: e.to_string() }
    }
}

impl<R: Read> Read for BlobReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Never read past the descriptor's size: one byte more is enough to know it lies.
        let want = match self.expected.size {
            Some(size) if self.read > size => {
                return Err(io::Error::new(io::ErrorKind::InvalidData, self.size_mismatch(size)));
            }
            Some(size) => buf.len().min(usize::try_from(size - self.read + 1).unwrap_or(usize::MAX)),
            None => buf.len(),
        };
        let n = self.inner.read(&mut buf[..want])?;
        self.hasher.update(&buf[..n]);
        self.read += n as u64;
        if let Some(size) = self.expected.size
            && self.read > size
        {
            return Err(io::Error::new(io::ErrorKind::InvalidData, self.size_mismatch(size)));
        }
        Ok(n)
    }
}

/// Reads a whole small document through a [`BlobReader`], refusing more than `limit` bytes.
pub(crate) fn read_document<R: Read>(
    reader: R,
    what: &'static str,
    name: &str,
    expected: Expected,
    limit: u64,
) -> crate::Result<(Vec<u8>, Digest)> {
    if expected.size.is_some_and(|s| s > limit) {
        return Err(crate::ImageError::TooLarge { what, name: name.to_owned(), limit });
    }
    let mut blob = BlobReader::new(reader, name, expected)?;
    let mut bytes = Vec::new();
    (&mut blob).take(limit + 1).read_to_end(&mut bytes).map_err(|e| match e.into_inner() {
        Some(inner) => match inner.downcast::<BlobError>() {
            Ok(blob_error) => crate::ImageError::Blob(*blob_error),
            Err(other) => {
                crate::ImageError::Blob(BlobError::Io { name: name.to_owned(), message: other.to_string() })
            }
        },
        None => {
            crate::ImageError::Blob(BlobError::Io { name: name.to_owned(), message: "read failed".into() })
        }
    })?;
    if bytes.len() as u64 > limit {
        return Err(crate::ImageError::TooLarge { what, name: name.to_owned(), limit });
    }
    let verified = blob.finish()?;
    Ok((bytes, verified.digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expected(data: &[u8]) -> Expected {
        Expected { digest: Some(Digest::sha256_of(data)), size: Some(data.len() as u64) }
    }

    #[test]
    fn passes_bytes_through_and_verifies() {
        let data = b"hello layer".repeat(10_000);
        let mut r = BlobReader::new(&data[..], "x", expected(&data)).unwrap();
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, data);
        assert_eq!(r.finish().unwrap().digest, Digest::sha256_of(&data));
    }

    #[test]
    fn a_partial_read_is_still_verified_over_the_whole_blob() {
        let data = vec![7u8; 300_000];
        let mut r = BlobReader::new(&data[..], "x", expected(&data)).unwrap();
        let mut head = [0u8; 10];
        r.read_exact(&mut head).unwrap();
        assert_eq!(r.finish().unwrap().digest, Digest::sha256_of(&data));
    }

    #[test]
    fn a_swapped_blob_is_a_digest_mismatch() {
        let data = b"real".to_vec();
        let want = Expected { digest: Some(Digest::sha256_of(b"fake")), size: Some(4) };
        let err = BlobReader::new(&data[..], "x", want).unwrap().finish().unwrap_err();
        assert!(matches!(err, BlobError::DigestMismatch { .. }), "{err}");
    }

    #[test]
    fn a_longer_blob_stops_at_the_descriptor_size() {
        let data = vec![1u8; 1000];
        let want = Expected { digest: None, size: Some(10) };
        let mut r = BlobReader::new(&data[..], "x", want).unwrap();
        let mut out = Vec::new();
        let err = r.read_to_end(&mut out).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(out.len() <= 11);
        let short = Expected { digest: None, size: Some(2000) };
        let err = BlobReader::new(&data[..], "x", short).unwrap().finish().unwrap_err();
        assert!(matches!(err, BlobError::SizeMismatch { expected: 2000, actual: 1000, .. }));
    }

    #[test]
    fn documents_are_bounded() {
        let data = [b' '; 100];
        let err =
            read_document(&data[..], "manifest", "m", Expected { digest: None, size: None }, 50).unwrap_err();
        assert!(matches!(err, crate::ImageError::TooLarge { limit: 50, .. }));
        let (bytes, _) =
            read_document(&data[..], "manifest", "m", Expected { digest: None, size: None }, 100).unwrap();
        assert_eq!(bytes.len(), 100);
    }
}
