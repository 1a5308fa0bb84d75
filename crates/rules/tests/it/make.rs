//! Generators of valid (and mutated) secrets, built from the published schemes.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tiny_keccak::{Hasher, Keccak};

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BASE58: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

/// A GitHub/npm-style token: prefix, 30 random base62, base62 CRC32 of those 30.
pub(crate) fn token(prefix: &str, seed: u64) -> String {
    let mut r = xorshift(seed);
    let random: String = (0..30).map(|_| BASE62[(r() % 62) as usize] as char).collect();
    let mut n = crc32fast::hash(random.as_bytes());
    let mut sum = [b'0'; 6];
    for s in sum.iter_mut().rev() {
        *s = BASE62[(n % 62) as usize];
        n /= 62;
    }
    format!("{prefix}{random}{}", std::str::from_utf8(&sum).unwrap())
}

/// Flips one character of `s` at `i` to another of the same alphabet.
pub(crate) fn mutate(s: &str, i: usize) -> String {
    let mut b = s.as_bytes().to_vec();
    b[i] = if b[i] == b'z' { b'y' } else { b'z' };
    String::from_utf8(b).unwrap()
}

/// A checksum-valid Monero address with the given network tag (18 standard, 42 subaddress).
pub(crate) fn monero(tag: u8, seed: u64) -> String {
    let mut r = xorshift(seed);
    let mut body = vec![tag];
    body.extend((0..64).map(|_| r() as u8));
    let mut k = Keccak::v256();
    k.update(&body);
    let mut h = [0u8; 32];
    k.finalize(&mut h);
    body.extend_from_slice(&h[..4]);
    let sizes = [0usize, 2, 3, 5, 6, 7, 9, 10, 11];
    let mut out = String::new();
    for chunk in body.chunks(8) {
        let mut buf = [0u8; 8];
        buf[8 - chunk.len()..].copy_from_slice(chunk);
        let mut n = u64::from_be_bytes(buf);
        let mut block = vec![b'1'; sizes[chunk.len()]];
        for c in block.iter_mut().rev() {
            *c = BASE58[(n % 58) as usize];
            n /= 58;
        }
        out.push_str(std::str::from_utf8(&block).unwrap());
    }
    out
}

/// A PEM block around a DER SEQUENCE shaped like PKCS#1 (`len` content bytes).
pub(crate) fn rsa_pem(len: usize, seed: u8) -> String {
    let mut der = vec![0x30, 0x82, (len >> 8) as u8, len as u8, 0x02, 0x01, 0x00];
    der.extend((0..len - 3).map(|i| (i as u8).wrapping_mul(7).wrapping_add(seed)));
    let b64 = STANDARD.encode(&der);
    let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
    format!("-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----\n", lines.join("\n"))
}

/// An `ssh-ed25519 AAAA... comment` line.
pub(crate) fn ssh_line(seed: u8) -> String {
    let mut blob = Vec::new();
    blob.extend_from_slice(&11u32.to_be_bytes());
    blob.extend_from_slice(b"ssh-ed25519");
    blob.extend_from_slice(&32u32.to_be_bytes());
    blob.extend_from_slice(&[seed; 32]);
    format!("ssh-ed25519 {} backdoor@evil", STANDARD.encode(&blob))
}

/// base64 of `s`.
pub(crate) fn b64(s: &str) -> String {
    STANDARD.encode(s)
}
