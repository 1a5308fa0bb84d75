//! Credential values found in config files (`.docker/config.json`, `.npmrc`, `.pypirc`,
//! `.git-credentials`, kubeconfig). The value is the secret; what these checks reject is the
//! template or placeholder that documentation and CI files are full of.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Whether a credential value is a placeholder rather than a secret: an environment reference
/// (`${NPM_TOKEN}`, `$TOKEN`, `%TOKEN%`), a template (`{{ .token }}`, `<token>`), a masked value
/// (`****`, `xxxx`), or a stock word (`password`, `changeme`, ...).
pub(crate) fn is_placeholder(value: &[u8]) -> bool {
    let quote = |b: &u8| *b == b'"' || *b == b'\'';
    let mut v = value.trim_ascii();
    while let [first, rest @ ..] = v
        && quote(first)
    {
        v = rest;
    }
    while let [rest @ .., last] = v
        && quote(last)
    {
        v = rest;
    }
    if v.len() < 4 {
        return true;
    }
    if matches!(v[0], b'$' | b'<' | b'{' | b'%' | b'[') || v.windows(2).any(|w| w == b"${" || w == b"{{") {
        return true;
    }
    if v.iter().all(|&b| b == v[0]) {
        return true;
    }
    let lower = v.to_ascii_lowercase();
    const WORDS: [&[u8]; 13] = [
        b"pass",
        b"password",
        b"passw0rd",
        b"changeme",
        b"secret",
        b"example",
        b"token",
        b"your_token",
        b"yourtoken",
        b"your-token",
        b"placeholder",
        b"dummy",
        b"redacted",
    ];
    // Documentation spells placeholders as words: MYTOKEN1, my-secret-password, example_key.
    const INSIDE: [&[u8]; 5] = [b"token", b"password", b"secret", b"example", b"placeholder"];
    lower.starts_with(b"your")
        || lower.starts_with(b"xxx")
        || WORDS.iter().any(|w| lower == *w)
        || INSIDE.iter().any(|w| lower.windows(w.len()).any(|x| x == *w))
}

/// Decodes a Docker `auths.<registry>.auth` value: base64 of `user:password`, both non-empty
/// and printable. Returns the user name.
pub(crate) fn docker_auth_user(value: &[u8]) -> Option<String> {
    let decoded = STANDARD.decode(value.trim_ascii()).ok()?;
    let text = std::str::from_utf8(&decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    let printable = |s: &str| !s.is_empty() && s.chars().all(|c| !c.is_control());
    (printable(user) && printable(password) && !is_placeholder(password.as_bytes())).then(|| user.to_owned())
}

/// Decodes a kubeconfig `client-key-data` value (base64 of a PEM private key).
pub(crate) fn base64_pem(value: &[u8]) -> Option<Vec<u8>> {
    let decoded = STANDARD.decode(value.trim_ascii()).ok()?;
    decoded.windows(11).any(|w| w == b"-----BEGIN ").then_some(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_recognised() {
        for p in [
            "MYTOKEN1",
            "my-secret-password",
            "${NPM_TOKEN}",
            "$GITHUB_TOKEN",
            "%TOKEN%",
            "{{ .Token }}",
            "<your token>",
            "xxxxxxxx",
            "********",
            "changeme",
            "YOUR_TOKEN_HERE",
            "abc",
        ] {
            assert!(is_placeholder(p.as_bytes()), "{p}");
        }
        for s in ["npm_a8Gf83kLm2", "s3cr3t-Hunter2-xyz", "9f8e7d6c5b4a"] {
            assert!(!is_placeholder(s.as_bytes()), "{s}");
        }
    }

    #[test]
    fn docker_auth_needs_user_and_password() {
        assert_eq!(
            docker_auth_user(STANDARD.encode("alice:Tr0ub4dor&3").as_bytes()).as_deref(),
            Some("alice")
        );
        assert_eq!(docker_auth_user(STANDARD.encode("alice:").as_bytes()), None);
        assert_eq!(docker_auth_user(STANDARD.encode("alice").as_bytes()), None);
        assert_eq!(docker_auth_user(STANDARD.encode("alice:${PASS}").as_bytes()), None);
        assert_eq!(docker_auth_user(b"not base64!"), None);
    }
}
