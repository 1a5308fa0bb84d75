//! PEM private keys. A `BEGIN ... PRIVATE KEY` line alone is cheap to fake (and common in code
//! that *handles* keys), so a key counts only when its base64 body decodes and the decoded
//! bytes have the structure its label promises: a DER SEQUENCE whose length covers the body
//! (PKCS#1, SEC1, DSA, PKCS#8 and encrypted PKCS#8), the `openssh-key-v1\0` magic, a PGP
//! secret-key packet, or, for legacy `Proc-Type: 4,ENCRYPTED` keys, whole cipher blocks.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// A parsed private key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PrivateKey {
    /// `rsa`, `ec`, `dsa`, `ed25519`, `pkcs8`, `openssh:<algorithm>`, `pgp`...
    pub(crate) key_type: String,
    /// Whether the key material is encrypted with a passphrase.
    pub(crate) encrypted: bool,
    /// The decoded body: what the fingerprint is computed over (stable across line endings).
    pub(crate) body: Vec<u8>,
    /// For OpenSSH keys: the embedded public key blob.
    pub(crate) public_blob: Option<Vec<u8>>,
}

/// Parses a PEM block (`-----BEGIN X PRIVATE KEY----- ... -----END X PRIVATE KEY-----`).
/// Literal `\n` sequences (keys pasted into JSON or ENV values) count as line breaks.
pub(crate) fn parse(block: &[u8]) -> Option<PrivateKey> {
    let text = std::str::from_utf8(block).ok()?.replace("\\r\\n", "\n").replace("\\n", "\n");
    let begin = text.find("-----BEGIN ")?;
    let rest = &text[begin + "-----BEGIN ".len()..];
    let label_end = rest.find("-----")?;
    let label = &rest[..label_end];
    if !label.contains("PRIVATE KEY") {
        return None;
    }
    let body_and_end = &rest[label_end + 5..];
    let end = body_and_end.find("-----END ")?;
    let end_label = body_and_end[end + "-----END ".len()..].split("-----").next()?;
    if end_label != label {
        return None;
    }
    let mut legacy_encrypted = false;
    let mut b64 = String::new();
    for line in body_and_end[..end].lines().map(str::trim) {
        if line.contains(':') {
            legacy_encrypted |= line.starts_with("Proc-Type:") && line.contains("ENCRYPTED");
            continue; // RFC 1421 / RFC 4880 armour headers
        }
        if line.starts_with('=') && label.starts_with("PGP") {
            continue; // the armour CRC24 line
        }
        b64.push_str(line);
    }
    let body = STANDARD.decode(b64.as_bytes()).ok()?;
    if body.len() < 32 {
        return None;
    }
    let key = |key_type: &str, encrypted: bool| PrivateKey {
        key_type: key_type.to_owned(),
        encrypted,
        body: body.clone(),
        public_blob: None,
    };
    if legacy_encrypted {
        // The body is ciphertext: only its shape can be checked.
        let t = label.trim_end_matches("PRIVATE KEY").trim().to_ascii_lowercase();
        return (body.len() % 8 == 0).then(|| key(if t.is_empty() { "pkcs8" } else { &t }, true));
    }
    match label {
        "RSA PRIVATE KEY" => der_sequence(&body).then(|| key("rsa", false)),
        "EC PRIVATE KEY" => der_sequence(&body).then(|| key("ec", false)),
        "DSA PRIVATE KEY" => der_sequence(&body).then(|| key("dsa", false)),
        "PRIVATE KEY" => der_sequence(&body).then(|| key(pkcs8_algorithm(&body), false)),
        "ENCRYPTED PRIVATE KEY" => der_sequence(&body).then(|| key("pkcs8", true)),
        "OPENSSH PRIVATE KEY" => openssh(&body),
        "PGP PRIVATE KEY BLOCK" => pgp_secret_key(&body).then(|| key("pgp", false)),
        _ => None,
    }
}

/// A DER SEQUENCE whose definite length covers exactly the whole buffer.
fn der_sequence(der: &[u8]) -> bool {
    let (Some(&0x30), Some(&first)) = (der.first(), der.get(1)) else { return false };
    let (len, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 3 || der.len() < 2 + n {
            return false;
        }
        (der[2..2 + n].iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b)), 2 + n)
    };
    header + len == der.len()
}

/// The algorithm of a PKCS#8 key, from the OID in its AlgorithmIdentifier.
fn pkcs8_algorithm(der: &[u8]) -> &'static str {
    let head = &der[..der.len().min(40)];
    let has = |oid: &[u8]| head.windows(oid.len()).any(|w| w == oid);
    if has(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]) {
        "rsa"
    } else if has(&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]) {
        "ec"
    } else if has(&[0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01]) {
        "dsa"
    } else if has(&[0x06, 0x03, 0x2b, 0x65, 0x70]) {
        "ed25519"
    } else {
        "pkcs8"
    }
}

/// Reads an SSH wire-format string (u32 big-endian length, then bytes).
pub(crate) fn ssh_string<'a>(buf: &mut &'a [u8]) -> Option<&'a [u8]> {
    let len = u32::from_be_bytes(buf.get(..4)?.try_into().ok()?) as usize;
    let s = buf.get(4..4usize.checked_add(len)?)?;
    *buf = &buf[4 + len..];
    Some(s)
}

/// `openssh-key-v1\0`, cipher, kdf, kdf options, key count, then the first public key blob.
fn openssh(body: &[u8]) -> Option<PrivateKey> {
    const MAGIC: &[u8] = b"openssh-key-v1\0";
    let mut rest = body.strip_prefix(MAGIC)?;
    let cipher = ssh_string(&mut rest)?;
    let _kdf = ssh_string(&mut rest)?;
    let _kdf_options = ssh_string(&mut rest)?;
    let count = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?);
    rest = &rest[4..];
    if count == 0 {
        return None;
    }
    let blob = ssh_string(&mut rest)?;
    let mut b = blob;
    let algorithm = std::str::from_utf8(ssh_string(&mut b)?).ok()?;
    Some(PrivateKey {
        key_type: format!("openssh:{algorithm}"),
        encrypted: cipher != b"none",
        body: body.to_vec(),
        public_blob: Some(blob.to_vec()),
    })
}

/// The first OpenPGP packet is a secret key (tag 5) or secret subkey (tag 7).
fn pgp_secret_key(body: &[u8]) -> bool {
    let Some(&b) = body.first() else { return false };
    if b & 0x80 == 0 {
        return false;
    }
    let tag = if b & 0x40 != 0 { b & 0x3f } else { (b >> 2) & 0x0f };
    tag == 5 || tag == 7
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Wraps DER bytes in PEM armour with 64-column lines.
    pub(crate) fn armour(label: &str, body: &[u8]) -> String {
        let b64 = STANDARD.encode(body);
        let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
        format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
    }

    /// A DER SEQUENCE of `n` content bytes shaped like PKCS#1 (version 0 first).
    pub(crate) fn fake_der(n: usize, seed: u8) -> Vec<u8> {
        let mut content = vec![0x02, 0x01, 0x00];
        content.extend((0..n - 3).map(|i| (i as u8).wrapping_mul(13).wrapping_add(seed)));
        let mut der = vec![0x30, 0x82, (n >> 8) as u8, n as u8];
        der.extend(content);
        der
    }

    /// An unencrypted OpenSSH private key container around an ed25519 public blob.
    pub(crate) fn fake_openssh(seed: u8) -> Vec<u8> {
        let put = |v: &mut Vec<u8>, s: &[u8]| {
            v.extend_from_slice(&(s.len() as u32).to_be_bytes());
            v.extend_from_slice(s);
        };
        let mut blob = Vec::new();
        put(&mut blob, b"ssh-ed25519");
        put(&mut blob, &[seed; 32]);
        let mut body = b"openssh-key-v1\0".to_vec();
        put(&mut body, b"none");
        put(&mut body, b"none");
        put(&mut body, b"");
        body.extend_from_slice(&1u32.to_be_bytes());
        put(&mut body, &blob);
        put(&mut body, &[seed; 64]);
        body
    }

    #[test]
    fn parses_each_structure() {
        let rsa = armour("RSA PRIVATE KEY", &fake_der(600, 1));
        assert_eq!(parse(rsa.as_bytes()).unwrap().key_type, "rsa");
        let ec = armour("EC PRIVATE KEY", &fake_der(118, 2));
        assert_eq!(parse(ec.as_bytes()).unwrap().key_type, "ec");
        let ssh = parse(armour("OPENSSH PRIVATE KEY", &fake_openssh(3)).as_bytes()).unwrap();
        assert_eq!(ssh.key_type, "openssh:ssh-ed25519");
        assert!(!ssh.encrypted);
        let mut pkcs8 = fake_der(300, 4);
        pkcs8[7..16].copy_from_slice(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]);
        assert_eq!(parse(armour("PRIVATE KEY", &pkcs8).as_bytes()).unwrap().key_type, "rsa");
        let enc = parse(armour("ENCRYPTED PRIVATE KEY", &fake_der(200, 5)).as_bytes()).unwrap();
        assert!(enc.encrypted);
        let mut pgp = vec![0x95, 0x01, 0x00];
        pgp.extend([7u8; 100]);
        assert_eq!(parse(armour("PGP PRIVATE KEY BLOCK", &pgp).as_bytes()).unwrap().key_type, "pgp");
    }

    #[test]
    fn json_escaped_newlines_are_line_breaks() {
        let pem = armour("RSA PRIVATE KEY", &fake_der(300, 9)).replace('\n', "\\n");
        assert_eq!(parse(pem.as_bytes()).unwrap().key_type, "rsa");
    }

    #[test]
    fn rejects_placeholders_and_broken_structure() {
        for bad in [
            "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----".to_owned(),
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----".to_owned(),
            armour("RSA PRIVATE KEY", &[0x42u8; 300]),
            armour("OPENSSH PRIVATE KEY", &fake_der(300, 1)),
            armour("RSA PRIVATE KEY", &fake_der(300, 1)).replace("END RSA", "END EC"),
        ] {
            assert!(parse(bad.as_bytes()).is_none(), "{bad}");
        }
        // A truncated DER body fails the length check.
        let mut der = fake_der(300, 1);
        der.truncate(250);
        assert!(parse(armour("RSA PRIVATE KEY", &der).as_bytes()).is_none());
    }
}
