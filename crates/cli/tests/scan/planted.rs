//! Planted threats, generated here with valid checksums and structures (nothing secret is
//! committed, and nothing here is a live credential): the items a census must find.

use base64::{Engine as _, engine::general_purpose::STANDARD};
use tiny_keccak::{Hasher, Keccak};

/// A deterministic byte stream (xorshift), so planted values are stable across runs.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407) | 1)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next() >> 24) as u8).collect()
    }

    pub(crate) fn chars(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n).map(|_| alphabet[(self.next() % alphabet.len() as u64) as usize] as char).collect()
    }
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A GitHub token whose last six characters are base62(CRC32 of the 30 random ones), as
/// GitHub's scheme (2021) makes them.
pub(crate) fn github_token(rng: &mut Rng) -> String {
    let random = rng.chars(BASE62, 30);
    let mut n = crc32fast::hash(random.as_bytes());
    let mut sum = [b'0'; 6];
    for slot in sum.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    format!("ghp_{random}{}", std::str::from_utf8(&sum).unwrap())
}

/// A mainnet standard Monero address: prefix 18 + spend key + view key + Keccak-256 checksum,
/// in Monero's block base58.
pub(crate) fn monero_address(rng: &mut Rng) -> String {
    const ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    const SIZES: [usize; 9] = [0, 2, 3, 5, 6, 7, 9, 10, 11];
    let mut body = vec![18u8];
    body.extend(rng.bytes(64));
    let mut k = Keccak::v256();
    k.update(&body);
    let mut hash = [0u8; 32];
    k.finalize(&mut hash);
    body.extend_from_slice(&hash[..4]);
    let mut out = String::new();
    for chunk in body.chunks(8) {
        let mut buf = [0u8; 8];
        buf[8 - chunk.len()..].copy_from_slice(chunk);
        let mut n = u64::from_be_bytes(buf);
        let mut block = vec![ALPHABET[0]; SIZES[chunk.len()]];
        for slot in block.iter_mut().rev() {
            *slot = ALPHABET[(n % 58) as usize];
            n /= 58;
        }
        out.push_str(std::str::from_utf8(&block).unwrap());
    }
    assert_eq!(out.len(), 95);
    out
}

fn ssh_string(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s);
}

/// An ed25519 public key blob (ssh wire format).
fn ed25519_blob(public: &[u8]) -> Vec<u8> {
    let mut blob = Vec::new();
    ssh_string(&mut blob, b"ssh-ed25519");
    ssh_string(&mut blob, public);
    blob
}

/// An unencrypted OpenSSH ed25519 private key in the `openssh-key-v1` format ssh-keygen
/// writes (the key material is random: its structure is what a scanner parses).
pub(crate) fn openssh_private_key(rng: &mut Rng, comment: &str) -> String {
    let public = rng.bytes(32);
    let seed = rng.bytes(32);
    let blob = ed25519_blob(&public);
    let check = rng.next() as u32;
    let mut private = Vec::new();
    private.extend_from_slice(&check.to_be_bytes());
    private.extend_from_slice(&check.to_be_bytes());
    ssh_string(&mut private, b"ssh-ed25519");
    ssh_string(&mut private, &public);
    ssh_string(&mut private, &[seed.as_slice(), public.as_slice()].concat());
    ssh_string(&mut private, comment.as_bytes());
    let mut pad = 1u8;
    while private.len() % 8 != 0 {
        private.push(pad);
        pad += 1;
    }
    let mut body = b"openssh-key-v1\0".to_vec();
    ssh_string(&mut body, b"none");
    ssh_string(&mut body, b"none");
    ssh_string(&mut body, b"");
    body.extend_from_slice(&1u32.to_be_bytes());
    ssh_string(&mut body, &blob);
    ssh_string(&mut body, &private);
    let b64 = STANDARD.encode(&body);
    let lines: Vec<&str> = b64.as_bytes().chunks(70).map(|c| std::str::from_utf8(c).unwrap()).collect();
    format!("-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n-----END OPENSSH PRIVATE KEY-----\n", lines.join("\n"))
}

/// An `authorized_keys` line for a random ed25519 key.
pub(crate) fn ssh_public_key_line(rng: &mut Rng, comment: &str) -> String {
    format!("ssh-ed25519 {} {comment}", STANDARD.encode(ed25519_blob(&rng.bytes(32))))
}

/// An AWS access key id (AKIA + 16 base32) and a 40-character secret.
pub(crate) fn aws_credentials(rng: &mut Rng) -> (String, String) {
    let id = format!("AKIA{}", rng.chars(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16));
    let secret = rng.chars(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40);
    (id, secret)
}

/// An x86-64 ELF header followed by `strings` (what `file` and the scanner's sniffing see).
pub(crate) fn elf(strings: &[&str], rng: &mut Rng) -> Vec<u8> {
    let mut out = vec![0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    out.extend_from_slice(&[2, 0, 0x3e, 0, 1, 0, 0, 0]);
    out.resize(64, 0);
    for s in strings {
        out.extend(rng.bytes(512));
        out.extend_from_slice(s.as_bytes());
        out.push(0);
    }
    out.extend(rng.bytes(4096));
    out
}
