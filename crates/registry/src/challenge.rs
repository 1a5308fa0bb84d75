//! `WWW-Authenticate` challenges (RFC 7235 §4.1) as registries send them.

use std::collections::BTreeMap;

/// The authentication scheme of a challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scheme {
    /// Bearer: fetch a token from `realm`.
    Bearer,
    /// Basic: send credentials directly.
    Basic,
    /// Anything else, kept by name.
    Other(String),
}

/// One parsed challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The scheme.
    pub scheme: Scheme,
    /// Parameters, names lowercased (`realm`, `service`, `scope`, `error`).
    pub params: BTreeMap<String, String>,
}

impl Challenge {
    /// The token realm (URL of the token service).
    pub fn realm(&self) -> Option<&str> {
        self.params.get("realm").map(String::as_str)
    }

    /// The `service` parameter for the token request.
    pub fn service(&self) -> Option<&str> {
        self.params.get("service").map(String::as_str)
    }

    /// The scopes the registry asks for (space-separated in one parameter).
    pub fn scopes(&self) -> Vec<&str> {
        self.params.get("scope").map(|s| s.split_whitespace().collect()).unwrap_or_default()
    }

    /// Whether the registry says the token presented lacked the scope (as opposed to no token).
    pub fn is_insufficient_scope(&self) -> bool {
        self.params.get("error").is_some_and(|e| e == "insufficient_scope")
    }
}

/// Parses every challenge in a `WWW-Authenticate` value. Malformed input yields what could be
/// read before the malformation (never a panic): the header comes from the network.
pub fn parse_challenges(header: &str) -> Vec<Challenge> {
    let mut out = Vec::new();
    let mut rest = header.trim();
    while !rest.is_empty() {
        let (scheme, after) = take_token(rest);
        if scheme.is_empty() {
            break;
        }
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "bearer" => Scheme::Bearer,
            "basic" => Scheme::Basic,
            other => Scheme::Other(other.to_owned()),
        };
        let mut params = BTreeMap::new();
        rest = after.trim_start();
        loop {
            // A parameter is `name=value`; a token not followed by '=' starts the next challenge.
            let (name, after_name) = take_token(rest);
            let after_name = after_name.trim_start();
            if name.is_empty() || !after_name.starts_with('=') {
                break;
            }
            let after_eq = after_name[1..].trim_start();
            let (value, after_value) = if let Some(quoted) = after_eq.strip_prefix('"') {
                take_quoted(quoted)
            } else {
                let (v, r) = take_token(after_eq);
                (v.to_owned(), r)
            };
            params.insert(name.to_ascii_lowercase(), value);
            rest = after_value.trim_start();
            match rest.strip_prefix(',') {
                Some(r) => rest = r.trim_start(),
                None => break,
            }
        }
        out.push(Challenge { scheme, params });
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
    }
    out
}

/// A token (RFC 7230 tchar run) and the rest.
fn take_token(s: &str) -> (&str, &str) {
    let end =
        s.find(|c: char| !(c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~/:".contains(c))).unwrap_or(s.len());
    s.split_at(end)
}

/// The content of a quoted string (after the opening quote), unescaped, and the rest after
/// the closing quote. An unterminated string takes the rest of the input.
fn take_quoted(s: &str) -> (String, &str) {
    let mut value = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return (value, &s[i + 1..]),
            '\\' => {
                if let Some((_, escaped)) = chars.next() {
                    value.push(escaped);
                }
            }
            _ => value.push(c),
        }
    }
    (value, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_challenges() {
        // reference/fixtures/registry-headers.txt §2, verbatim.
        let c = parse_challenges(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull""#,
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].scheme, Scheme::Bearer);
        assert_eq!(c[0].realm(), Some("https://auth.docker.io/token"));
        assert_eq!(c[0].service(), Some("registry.docker.io"));
        assert_eq!(c[0].scopes(), vec!["repository:library/alpine:pull"]);
        assert!(!c[0].is_insufficient_scope());

        let c = parse_challenges(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull",error="insufficient_scope""#,
        );
        assert!(c[0].is_insufficient_scope());
        // /v2/ itself: no scope.
        let c =
            parse_challenges(r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io""#);
        assert!(c[0].scopes().is_empty());
    }

    #[test]
    fn several_challenges_escapes_and_odd_spacing() {
        let c = parse_challenges(
            r#"Basic realm="Registry Realm" , Bearer realm="http://127.0.0.1:5001/token", service = "local", scope="repository:x:pull repository:y:pull""#,
        );
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].scheme, Scheme::Basic);
        assert_eq!(c[0].realm(), Some("Registry Realm"));
        assert_eq!(c[1].service(), Some("local"));
        assert_eq!(c[1].scopes(), vec!["repository:x:pull", "repository:y:pull"]);
        let c = parse_challenges(r#"Bearer realm="a\"b\\c""#);
        assert_eq!(c[0].realm(), Some(r#"a"b\c"#));
    }

    #[test]
    fn garbage_never_panics() {
        for s in [
            "",
            "Bearer",
            "Bearer realm=",
            r#"Bearer realm="unterminated"#,
            "=,=,",
            "Bearer ,,, realm",
            "\u{1F600} x=y",
        ] {
            let _ = parse_challenges(s);
        }
        assert_eq!(parse_challenges(r#"Bearer realm="unterminated"#)[0].realm(), Some("unterminated"));
    }
}
