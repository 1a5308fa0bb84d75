//! AWS access key ids: a 4-character prefix and 16 base32 characters. There is no checksum, but
//! the 16 characters encode the owning account: base32-decode them, take the first 6 bytes
//! big-endian, mask with `0x7fffffffff80` and shift right by 7 (Tal Be'ery, Aidan Steele). The
//! account id clusters leaks across images without ever calling AWS.

/// Prefixes that denote credentials (not principals): long-term, STS temporary, STS bearer,
/// context credential, and the legacy `A3T*`.
const CREDENTIAL_PREFIXES: [&str; 4] = ["AKIA", "ASIA", "ABIA", "ACCA"];

/// What a key-id prefix denotes, or `None` if it is not a credential key id.
pub(crate) fn key_kind(id: &[u8]) -> Option<&'static str> {
    if id.len() != 20 || !id[4..].iter().all(|&b| matches!(b, b'A'..=b'Z' | b'2'..=b'7')) {
        return None;
    }
    let prefix = &id[..4];
    if prefix.starts_with(b"A3T") && prefix[3].is_ascii_alphanumeric() {
        return Some("legacy");
    }
    match CREDENTIAL_PREFIXES.iter().position(|p| p.as_bytes() == prefix)? {
        0 => Some("long_term"),
        1 => Some("sts_temporary"),
        2 => Some("sts_bearer"),
        _ => Some("context"),
    }
}

/// The 12-digit account id a modern key id encodes, or `None` for legacy ids.
pub(crate) fn account_id(id: &[u8]) -> Option<String> {
    if id.len() != 20 || id.starts_with(b"A3T") {
        return None;
    }
    // 16 base32 characters are 80 bits; the account lives in the first 48.
    let mut bits: u128 = 0;
    for &c in &id[4..] {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        bits = (bits << 5) | u128::from(v);
    }
    let first6 = (bits >> 32) as u64; // the top 48 of the 80 bits
    let account = (first6 & 0x7fff_ffff_ff80) >> 7;
    Some(format!("{account:012}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_published_account_example() {
        // Tal Be'ery's example: ASIAY34FZKBOKMUTVV7A belongs to account 609629065308.
        assert_eq!(account_id(b"ASIAY34FZKBOKMUTVV7A").as_deref(), Some("609629065308"));
        assert_eq!(key_kind(b"ASIAY34FZKBOKMUTVV7A"), Some("sts_temporary"));
    }

    #[test]
    fn the_tail_does_not_change_the_account() {
        let a = account_id(b"AKIAY34FZKBOKMUTVV7A").unwrap();
        let b = account_id(b"AKIAY34FZKBOKMUTZZZZ").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 12);
    }

    #[test]
    fn rejects_principals_and_bad_alphabets() {
        assert_eq!(key_kind(b"AIDAY34FZKBOKMUTVV7A"), None, "AIDA is a user id, not a key");
        assert_eq!(key_kind(b"AKIAY34FZKBOKMUTVV71"), None, "1 is not base32");
        assert_eq!(key_kind(b"AKIAY34FZKBOKMUTVV7"), None);
        assert_eq!(key_kind(b"A3TXY34FZKBOKMUTVV7A"), Some("legacy"));
        assert_eq!(account_id(b"A3TXY34FZKBOKMUTVV7A"), None);
    }
}
