//! Hashing with the algorithm a digest names (sha256, or sha512 which the OCI spec also
//! registers), so content can be checked against whatever digest a registry hands out.

use hubcensus_types::Digest;
use sha2::{Digest as _, Sha256, Sha512};

/// An incremental hasher for one digest algorithm.
#[derive(Debug, Clone)]
pub(crate) enum Hasher {
    Sha256(Sha256),
    Sha512(Sha512),
}

impl Hasher {
    /// A hasher for the algorithm of `digest` (sha256 for anything else: [`Digest`] only
    /// admits the two).
    pub(crate) fn for_digest(digest: &Digest) -> Self {
        if digest.algorithm() == "sha512" { Self::Sha512(Sha512::new()) } else { Self::Sha256(Sha256::new()) }
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        match self {
            Self::Sha256(h) => h.update(data),
            Self::Sha512(h) => h.update(data),
        }
    }

    pub(crate) fn finish(self) -> Digest {
        let (alg, hex) = match self {
            Self::Sha256(h) => ("sha256", hex::encode(h.finalize())),
            Self::Sha512(h) => ("sha512", hex::encode(h.finalize())),
        };
        match format!("{alg}:{hex}").parse() {
            Ok(d) => d,
            // invariant: lowercase hex of the right length always parses.
            Err(_) => unreachable!("a computed digest is canonical"),
        }
    }
}

/// The digest of `data` with the same algorithm as `like`.
pub(crate) fn digest_like(like: &Digest, data: &[u8]) -> Digest {
    let mut h = Hasher::for_digest(like);
    h.update(data);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_algorithm() {
        let sha256 = Digest::sha256_of(b"abc");
        assert_eq!(digest_like(&sha256, b"abc"), sha256);
        let sha512: Digest = format!("sha512:{}", "0".repeat(128)).parse().unwrap();
        let d = digest_like(&sha512, b"abc");
        assert_eq!(d.algorithm(), "sha512");
        assert!(d.hex().starts_with("ddaf35a193617aba"), "{d}");
    }
}
