//! Real, checksum-valid secret material for planted threats.
//!
//! The census must find planted secrets by the same standards it applies to Docker Hub: a GitHub
//! token whose CRC32 tail does not match, or a Monero address whose Keccak checksum is wrong, is
//! noise that a good scanner *should* ignore. So everything here is built to the real formats —
//! CRC32/base62 token checksums, Monero block-base58 with a Keccak-256 checksum over real ed25519
//! points, OpenSSH `openssh-key-v1` and PKCS#8 private keys from deterministic seeds, AWS key ids
//! that decode to an account id — and generated from the population's seed, never stored.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::SigningKey;

use crate::rng::Rng;

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The EICAR anti-virus test file: the documented known-bad-hash test entry.
pub(crate) const EICAR: &str = r"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

const fn crc32_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { 0xedb8_8320 ^ (c >> 1) } else { c >> 1 };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
}

static CRC32: [u32; 256] = crc32_table();

/// CRC-32 (IEEE 802.3), as GitHub and npm use for their token checksums.
pub(crate) fn crc32(data: &[u8]) -> u32 {
    !data.iter().fold(!0u32, |c, &b| CRC32[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8))
}

/// `n` in base62 (0-9A-Za-z), left-padded with `0` to 6 characters.
pub(crate) fn base62_6(mut n: u32) -> String {
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A GitHub-style token (`ghp_` etc.) or npm token (`npm_`): 30 random base62 characters and
/// the base62 CRC32 of those 30 as the last 6.
pub(crate) fn checksummed_token(rng: &mut Rng, prefix: &str) -> String {
    let body = rng.string(BASE62, 30);
    let sum = base62_6(crc32(body.as_bytes()));
    format!("{prefix}{body}{sum}")
}

const KECCAK_RC: [u64; 24] = [
    0x0000_0000_0000_0001,
    0x0000_0000_0000_8082,
    0x8000_0000_0000_808a,
    0x8000_0000_8000_8000,
    0x0000_0000_0000_808b,
    0x0000_0000_8000_0001,
    0x8000_0000_8000_8081,
    0x8000_0000_0000_8009,
    0x0000_0000_0000_008a,
    0x0000_0000_0000_0088,
    0x0000_0000_8000_8009,
    0x0000_0000_8000_000a,
    0x0000_0000_8000_808b,
    0x8000_0000_0000_008b,
    0x8000_0000_0000_8089,
    0x8000_0000_0000_8003,
    0x8000_0000_0000_8002,
    0x8000_0000_0000_0080,
    0x0000_0000_0000_800a,
    0x8000_0000_8000_000a,
    0x8000_0000_8000_8081,
    0x8000_0000_0000_8080,
    0x0000_0000_8000_0001,
    0x8000_0000_8000_8008,
];
const KECCAK_ROT: [u32; 25] =
    [0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14];

fn keccak_f(a: &mut [u64; 25]) {
    for rc in KECCAK_RC {
        let mut c = [0u64; 5];
        for x in 0..5 {
            c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
        }
        for x in 0..5 {
            let d = c[(x + 4) % 5] ^ c[(x + 1) % 5].rotate_left(1);
            for y in 0..5 {
                a[x + 5 * y] ^= d;
            }
        }
        let mut b = [0u64; 25];
        for x in 0..5 {
            for y in 0..5 {
                b[y + 5 * ((2 * x + 3 * y) % 5)] = a[x + 5 * y].rotate_left(KECCAK_ROT[x + 5 * y]);
            }
        }
        for x in 0..5 {
            for y in 0..5 {
                a[x + 5 * y] = b[x + 5 * y] ^ (!b[(x + 1) % 5 + 5 * y] & b[(x + 2) % 5 + 5 * y]);
            }
        }
        a[0] ^= rc;
    }
}

/// Original Keccak-256 (padding byte 0x01, not SHA3's 0x06), as Monero uses.
pub(crate) fn keccak256(data: &[u8]) -> [u8; 32] {
    const RATE: usize = 136;
    let mut state = [0u64; 25];
    let mut padded = data.to_vec();
    padded.push(0x01);
    while !padded.len().is_multiple_of(RATE) {
        padded.push(0);
    }
    let last = padded.len() - 1;
    padded[last] |= 0x80;
    for block in padded.chunks(RATE) {
        for (i, lane) in block.chunks(8).enumerate() {
            let mut w = [0u8; 8];
            w.copy_from_slice(lane);
            state[i] ^= u64::from_le_bytes(w);
        }
        keccak_f(&mut state);
    }
    let mut out = [0u8; 32];
    for (i, lane) in state.iter().take(4).enumerate() {
        out[i * 8..i * 8 + 8].copy_from_slice(&lane.to_le_bytes());
    }
    out
}

const B58: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const B58_BLOCK_LEN: [usize; 9] = [0, 2, 3, 5, 6, 7, 9, 10, 11];

/// Monero's block-wise base58: 8-byte blocks become 11 characters, a short last block fewer.
pub(crate) fn monero_base58(data: &[u8]) -> String {
    let mut out = String::new();
    for block in data.chunks(8) {
        let mut n = block.iter().fold(0u128, |n, &b| (n << 8) | u128::from(b));
        let width = B58_BLOCK_LEN[block.len()];
        let mut chars = vec![b'1'; width];
        for slot in chars.iter_mut().rev() {
            *slot = B58[(n % 58) as usize];
            n /= 58;
        }
        out.push_str(&String::from_utf8_lossy(&chars));
    }
    out
}

/// A mainnet standard Monero address (prefix 18, starts with `4`): spend and view public keys
/// are real ed25519 points, the checksum is the first 4 bytes of Keccak-256 over the rest.
pub(crate) fn monero_address(rng: &mut Rng) -> String {
    let spend = SigningKey::from_bytes(&rng.bytes::<32>()).verifying_key().to_bytes();
    let view = SigningKey::from_bytes(&rng.bytes::<32>()).verifying_key().to_bytes();
    let mut raw = Vec::with_capacity(69);
    raw.push(18u8);
    raw.extend_from_slice(&spend);
    raw.extend_from_slice(&view);
    let sum = keccak256(&raw);
    raw.extend_from_slice(&sum[..4]);
    monero_base58(&raw)
}

fn ssh_string(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(data);
}

fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    for chunk in text.as_bytes().chunks(width) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out
}

/// An ed25519 key pair from a deterministic 32-byte seed.
#[derive(Debug, Clone)]
pub(crate) struct Ed25519 {
    seed: [u8; 32],
    public: [u8; 32],
}

impl Ed25519 {
    pub(crate) fn generate(rng: &mut Rng) -> Self {
        let seed = rng.bytes::<32>();
        let public = SigningKey::from_bytes(&seed).verifying_key().to_bytes();
        Self { seed, public }
    }

    fn public_blob(&self) -> Vec<u8> {
        let mut blob = Vec::new();
        ssh_string(&mut blob, b"ssh-ed25519");
        ssh_string(&mut blob, &self.public);
        blob
    }

    /// What `ssh-keygen -l` prints for the public key: `SHA256:` and the unpadded base64 of the
    /// sha256 of its blob (the key the attribution views group SSH keys by).
    pub(crate) fn fingerprint(&self) -> String {
        use sha2::Digest as _;
        let hash = sha2::Sha256::digest(self.public_blob());
        format!("SHA256:{}", base64::engine::general_purpose::STANDARD_NO_PAD.encode(hash))
    }

    /// `ssh-ed25519 AAAA... comment`, as a line of `authorized_keys`.
    pub(crate) fn authorized_key(&self, comment: &str) -> String {
        format!("ssh-ed25519 {} {comment}", B64.encode(self.public_blob()))
    }

    /// The unencrypted OpenSSH private key file (`openssh-key-v1`), as `ssh-keygen` writes it.
    pub(crate) fn openssh_private(&self, comment: &str, check: u32) -> String {
        let mut body = Vec::new();
        body.extend_from_slice(b"openssh-key-v1\0");
        ssh_string(&mut body, b"none");
        ssh_string(&mut body, b"none");
        ssh_string(&mut body, b"");
        body.extend_from_slice(&1u32.to_be_bytes());
        ssh_string(&mut body, &self.public_blob());
        let mut private = Vec::new();
        private.extend_from_slice(&check.to_be_bytes());
        private.extend_from_slice(&check.to_be_bytes());
        ssh_string(&mut private, b"ssh-ed25519");
        ssh_string(&mut private, &self.public);
        let mut both = self.seed.to_vec();
        both.extend_from_slice(&self.public);
        ssh_string(&mut private, &both);
        ssh_string(&mut private, comment.as_bytes());
        let mut pad = 1u8;
        while private.len() % 8 != 0 {
            private.push(pad);
            pad += 1;
        }
        ssh_string(&mut body, &private);
        format!(
            "-----BEGIN OPENSSH PRIVATE KEY-----\n{}-----END OPENSSH PRIVATE KEY-----\n",
            wrap(&B64.encode(body), 70)
        )
    }

    /// The PKCS#8 PEM form (`BEGIN PRIVATE KEY`), as `openssl genpkey -algorithm ed25519` writes.
    pub(crate) fn pkcs8_pem(&self) -> String {
        let mut der = vec![
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
        ];
        der.extend_from_slice(&self.seed);
        format!("-----BEGIN PRIVATE KEY-----\n{}-----END PRIVATE KEY-----\n", wrap(&B64.encode(der), 64))
    }
}

const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn base32(data: &[u8]) -> String {
    let mut out = String::new();
    let mut acc = 0u64;
    let mut bits = 0;
    for &b in data {
        acc = (acc << 8) | u64::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[((acc >> bits) & 31) as usize]));
        }
    }
    out
}

/// An AWS access key id (`AKIA` + 16 base32 characters) whose first six bytes decode, by the
/// documented mask, to `account`; and a 40-character secret access key.
pub(crate) fn aws_key_pair(rng: &mut Rng, account: u64) -> (String, String) {
    let z = ((account & 0xff_ffff_ffff) << 7) | (rng.next_u64() & 0x7f);
    let mut raw = [0u8; 10];
    raw[..6].copy_from_slice(&z.to_be_bytes()[2..]);
    raw[6..].copy_from_slice(&rng.bytes::<4>());
    let id = format!("AKIA{}", base32(&raw));
    let secret = rng.string(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40);
    (id, secret)
}

/// The account id an AWS key id encodes (the offline decoding detection.md describes).
#[cfg(test)]
pub(crate) fn aws_account_of(key_id: &str) -> u64 {
    let mut acc = 0u128;
    for c in key_id[4..].bytes() {
        let v = BASE32.iter().position(|&b| b == c).unwrap_or(0) as u128;
        acc = (acc << 5) | v;
    }
    let z = (acc >> 32) as u64;
    (z & 0x7fff_ffff_ff80) >> 7
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_and_keccak_match_published_vectors() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(
            hex::encode(keccak256(b"")),
            "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
        );
        assert_eq!(
            hex::encode(keccak256(b"abc")),
            "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"
        );
    }

    #[test]
    fn tokens_carry_their_checksum() {
        let mut r = Rng::new(1, "t", 0);
        let t = checksummed_token(&mut r, "ghp_");
        assert_eq!(t.len(), 40);
        assert_eq!(&t[34..], base62_6(crc32(&t.as_bytes()[4..34])));
        assert_eq!(checksummed_token(&mut r, "npm_").len(), 40);
    }

    #[test]
    fn monero_addresses_are_95_chars_with_valid_checksum() {
        let mut r = Rng::new(2, "m", 0);
        let a = monero_address(&mut r);
        assert_eq!(a.len(), 95);
        assert!(a.starts_with('4'));
        // Known vector: base58 of a block of eight zero bytes is eleven '1's.
        assert_eq!(monero_base58(&[0; 8]), "11111111111");
    }

    #[test]
    fn aws_ids_decode_to_their_account() {
        let mut r = Rng::new(3, "a", 0);
        let (id, secret) = aws_key_pair(&mut r, 123_456_789_012);
        assert_eq!(id.len(), 20);
        assert!(id[4..].bytes().all(|b| BASE32.contains(&b)));
        assert_eq!(aws_account_of(&id), 123_456_789_012);
        assert_eq!(secret.len(), 40);
    }

    #[test]
    fn openssh_keys_have_the_v1_structure() {
        let mut r = Rng::new(4, "k", 0);
        let k = Ed25519::generate(&mut r);
        let pem = k.openssh_private("root@build", 7);
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let raw = B64.decode(body).unwrap();
        assert!(raw.starts_with(b"openssh-key-v1\0"));
        assert!(k.authorized_key("x").starts_with("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI"));
        // A throwaway `ssh-keygen -t ed25519` key and the fingerprint `ssh-keygen -l` printed.
        let blob =
            B64.decode("AAAAC3NzaC1lZDI1NTE5AAAAILu1OEo8g3kMQ/9/M1HoM7tpPI6VySVVYu9hp66bsw3q").unwrap();
        let known = Ed25519 { seed: [0; 32], public: blob[blob.len() - 32..].try_into().unwrap() };
        assert_eq!(known.fingerprint(), "SHA256:IGus6dWlPiKLc80mETkhYeUGVu4YMLXFB+yNqI8ppzM");
        let p8: String = k.pkcs8_pem().lines().filter(|l| !l.starts_with("-----")).collect();
        assert_eq!(B64.decode(p8).unwrap().len(), 48);
    }
}
