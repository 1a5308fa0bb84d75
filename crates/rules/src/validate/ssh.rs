//! SSH public keys (`authorized_keys` lines). A key is real when its base64 blob decodes and the
//! blob's first field repeats the key type written before it; its fingerprint is what
//! `ssh-keygen -l` prints, `SHA256:` + unpadded base64 of the blob's sha256, so a finding can be
//! matched against a key the researcher already knows.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use sha2::{Digest as _, Sha256};

use super::pem::ssh_string;

/// A parsed public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PublicKey {
    /// `ssh-rsa`, `ssh-ed25519`, `ecdsa-sha2-nistp256`, `sk-ssh-ed25519@openssh.com`...
    pub(crate) key_type: String,
    /// The decoded blob.
    pub(crate) blob: Vec<u8>,
}

/// Parses `<type> <base64>` (anything after the blob, the comment, is ignored).
pub(crate) fn parse(line: &[u8]) -> Option<PublicKey> {
    let text = std::str::from_utf8(line).ok()?;
    let mut parts = text.split_ascii_whitespace();
    let key_type = parts.next()?;
    let blob = STANDARD.decode(parts.next()?.as_bytes()).ok()?;
    let mut rest = blob.as_slice();
    let inner = ssh_string(&mut rest)?;
    if inner != key_type.as_bytes() || rest.is_empty() {
        return None;
    }
    Some(PublicKey { key_type: key_type.to_owned(), blob })
}

/// The `ssh-keygen -l` fingerprint of a blob.
pub(crate) fn fingerprint(blob: &[u8]) -> String {
    format!("SHA256:{}", STANDARD_NO_PAD.encode(Sha256::digest(blob)))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An `ssh-ed25519 AAAA... comment` line with key bytes from `seed`.
    pub(crate) fn make_line(seed: u8) -> String {
        let mut blob = Vec::new();
        blob.extend_from_slice(&11u32.to_be_bytes());
        blob.extend_from_slice(b"ssh-ed25519");
        blob.extend_from_slice(&32u32.to_be_bytes());
        blob.extend_from_slice(&[seed; 32]);
        format!("ssh-ed25519 {} attacker@host", STANDARD.encode(&blob))
    }

    #[test]
    fn parses_and_fingerprints_like_ssh_keygen() {
        // A throwaway key from `ssh-keygen -t ed25519`; `ssh-keygen -l` printed this fingerprint.
        let line = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILu1OEo8g3kMQ/9/M1HoM7tpPI6VySVVYu9hp66bsw3q test";
        let key = parse(line.as_bytes()).unwrap();
        assert_eq!(key.key_type, "ssh-ed25519");
        assert_eq!(fingerprint(&key.blob), "SHA256:IGus6dWlPiKLc80mETkhYeUGVu4YMLXFB+yNqI8ppzM");
        assert_eq!(parse(make_line(7).as_bytes()).unwrap().key_type, "ssh-ed25519");
    }

    #[test]
    fn the_blob_must_repeat_the_type() {
        let line = make_line(1).replace("ssh-ed25519 ", "ssh-rsa ");
        assert!(parse(line.as_bytes()).is_none());
        assert!(parse(b"ssh-rsa AAAAB3NzaC1yc2E").is_none());
        assert!(parse(b"ssh-rsa not-base64!").is_none());
    }
}
