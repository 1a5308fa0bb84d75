//! Monero addresses: a varint network tag, public spend and view keys (and an 8-byte payment id
//! for integrated addresses), then a checksum of the first 4 bytes of Keccak-256 (the original
//! Keccak padding, not SHA3) over everything before it. The text form is Monero's block base58:
//! 8-byte blocks become 11 characters, a final short block of n bytes becomes the shortest
//! encoding (`ENCODED_BLOCK_SIZES[n]`). Validating the checksum turns a random 95-character
//! base58 string into a wallet with certainty 1 - 2^-32.

use tiny_keccak::{Hasher, Keccak};

/// Bitcoin's base58 alphabet, which Monero uses (no 0, O, I, l).
pub(crate) const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const FULL_BLOCK: usize = 8;
const FULL_ENCODED: usize = 11;
/// Encoded length of a block of 0..=8 bytes.
const ENCODED_BLOCK_SIZES: [usize; 9] = [0, 2, 3, 5, 6, 7, 9, 10, 11];

/// Whether `b` is a base58 character.
pub(crate) const fn is_base58(b: u8) -> bool {
    b.is_ascii_alphanumeric() && !matches!(b, b'0' | b'O' | b'I' | b'l')
}

fn digit(b: u8) -> Option<u64> {
    ALPHABET.iter().position(|&a| a == b).map(|p| p as u64)
}

/// Decodes Monero block base58, or `None` if the text is not valid for it.
pub(crate) fn decode(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * FULL_BLOCK / FULL_ENCODED + FULL_BLOCK);
    for chunk in text.chunks(FULL_ENCODED) {
        let size = ENCODED_BLOCK_SIZES.iter().position(|&s| s == chunk.len())?;
        let mut n: u128 = 0;
        for &c in chunk {
            n = n * 58 + u128::from(digit(c)?);
        }
        if size < FULL_BLOCK && n >> (8 * size) != 0 {
            return None; // overflows the block: not a canonical encoding
        }
        if n > u128::from(u64::MAX) {
            return None;
        }
        let bytes = (n as u64).to_be_bytes();
        out.extend_from_slice(&bytes[FULL_BLOCK - size..]);
    }
    Some(out)
}

/// Encodes bytes in Monero block base58 (used by tests to build addresses).
#[cfg(test)]
pub(crate) fn encode(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(FULL_BLOCK) {
        let mut buf = [0u8; 8];
        buf[FULL_BLOCK - chunk.len()..].copy_from_slice(chunk);
        let mut n = u64::from_be_bytes(buf);
        let width = ENCODED_BLOCK_SIZES[chunk.len()];
        let mut block = vec![ALPHABET[0]; width];
        for slot in block.iter_mut().rev() {
            *slot = ALPHABET[(n % 58) as usize];
            n /= 58;
        }
        out.push_str(std::str::from_utf8(&block).unwrap_or_default());
    }
    out
}

/// The first 4 bytes of Keccak-256 over `data`.
pub(crate) fn checksum(data: &[u8]) -> [u8; 4] {
    let mut k = Keccak::v256();
    k.update(data);
    let mut hash = [0u8; 32];
    k.finalize(&mut hash);
    [hash[0], hash[1], hash[2], hash[3]]
}

/// What a valid address is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Address {
    /// `standard`, `subaddress` or `integrated`.
    pub(crate) kind: &'static str,
    /// `mainnet`, `testnet` or `stagenet`.
    pub(crate) network: &'static str,
}

/// Validates a Monero address: known network tag, right length, Keccak checksum.
pub(crate) fn validate(text: &[u8]) -> Option<Address> {
    if text.len() != 95 && text.len() != 106 {
        return None;
    }
    let raw = decode(text)?;
    let (body, sum) = raw.split_at(raw.len().checked_sub(4)?);
    if checksum(body) != sum {
        return None;
    }
    // Tags are varints; every registered tag is below 128, so one byte.
    let (network, kind) = match body.first()? {
        18 => ("mainnet", "standard"),
        19 => ("mainnet", "integrated"),
        42 => ("mainnet", "subaddress"),
        53 => ("testnet", "standard"),
        54 => ("testnet", "integrated"),
        63 => ("testnet", "subaddress"),
        24 => ("stagenet", "standard"),
        25 => ("stagenet", "integrated"),
        36 => ("stagenet", "subaddress"),
        _ => return None,
    };
    let want = if kind == "integrated" { 1 + 32 + 32 + 8 } else { 1 + 32 + 32 };
    (body.len() == want).then_some(Address { kind, network })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A checksum-valid address with the given network tag and key bytes derived from `seed`.
    pub(crate) fn make_address(tag: u8, integrated: bool, seed: u8) -> String {
        let mut body = vec![tag];
        let n = if integrated { 72 } else { 64 };
        body.extend((0..n).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)));
        let sum = checksum(&body);
        body.extend_from_slice(&sum);
        encode(&body)
    }

    #[test]
    fn the_monero_general_fund_address_validates() {
        let fund =
            "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A";
        assert_eq!(validate(fund.as_bytes()), Some(Address { kind: "standard", network: "mainnet" }));
    }

    #[test]
    fn keccak_is_the_original_not_sha3() {
        // Keccak-256("") differs from SHA3-256("") (a7ffc6f8...).
        assert_eq!(checksum(b""), [0xc5, 0xd2, 0x46, 0x01]);
    }

    #[test]
    fn generated_addresses_validate_with_their_kind() {
        for seed in 0..20 {
            let std = make_address(18, false, seed);
            assert_eq!(std.len(), 95);
            assert!(std.starts_with('4'), "{std}");
            assert_eq!(validate(std.as_bytes()).map(|a| a.kind), Some("standard"));
            let sub = make_address(42, false, seed);
            assert!(sub.starts_with('8'), "{sub}");
            assert_eq!(validate(sub.as_bytes()).map(|a| a.kind), Some("subaddress"));
            let int = make_address(19, true, seed);
            assert_eq!(int.len(), 106);
            assert_eq!(validate(int.as_bytes()).map(|a| a.kind), Some("integrated"));
            assert_eq!(decode(std.as_bytes()).map(|d| encode(&d)), Some(std));
        }
    }

    #[test]
    fn any_single_changed_character_fails_the_checksum() {
        let addr = make_address(18, false, 3);
        for i in 0..addr.len() {
            let mut bad = addr.clone().into_bytes();
            bad[i] = if bad[i] == b'z' { b'y' } else { b'z' };
            assert!(validate(&bad).is_none(), "mutation at {i}");
        }
    }

    #[test]
    fn rejects_unknown_tags_and_lengths() {
        assert!(validate(make_address(7, false, 1).as_bytes()).is_none());
        assert!(validate(&[b'4'; 95]).is_none());
        assert!(validate(&[b'4'; 94]).is_none());
    }
}
