//! Repository references (`namespace/name`) as Docker Hub spells them.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::ParseError;

/// A Docker Hub repository, `namespace/name`.
///
/// A bare name (`nginx`) means the official `library/nginx`: the registry needs the `library/`
/// prefix, so it is added at parse time and never forgotten later. Components follow the
/// distribution spec's path-component grammar (lowercase alphanumerics separated by `.`, `_`,
/// `__` or `-`), which also keeps them safe to put in URLs and file names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RepoRef {
    namespace: String,
    name: String,
}

impl RepoRef {
    /// Builds a reference from its two parts, validating both.
    pub fn new(namespace: &str, name: &str) -> Result<Self, ParseError> {
        let full = format!("{namespace}/{name}");
        for part in [namespace, name] {
            if !is_path_component(part) {
                return Err(ParseError::new(
                    "repository",
                    &full,
                    format!("{part:?} is not a valid path component"),
                ));
            }
        }
        Ok(Self { namespace: namespace.to_owned(), name: name.to_owned() })
    }

    /// The namespace (user or organisation; `library` for official images).
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The repository name within its namespace.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether this is an official image (`library/` namespace).
    pub fn is_official(&self) -> bool {
        self.namespace == "library"
    }
}

/// The distribution spec's `path-component`: `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`.
fn is_path_component(s: &str) -> bool {
    let bytes = s.as_bytes();
    if bytes.is_empty() || bytes.len() > 255 {
        return false;
    }
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &s[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

impl FromStr for RepoRef {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once('/') {
            None => RepoRef::new("library", s),
            Some((ns, name)) if !name.contains('/') => RepoRef::new(ns, name),
            Some(_) => Err(ParseError::new("repository", s, "Docker Hub repositories have exactly one '/'")),
        }
    }
}

impl TryFrom<String> for RepoRef {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<RepoRef> for String {
    fn from(r: RepoRef) -> Self {
        r.to_string()
    }
}

impl fmt::Display for RepoRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_names_are_official() {
        let r: RepoRef = "nginx".parse().unwrap();
        assert_eq!(r.to_string(), "library/nginx");
        assert!(r.is_official());
    }

    #[test]
    fn accepts_hub_spellings() {
        for ok in ["c43602f9cc95/openjdk", "bitnami/postgresql-repmgr", "a__b/c.d_e", "x/y--z"] {
            assert!(ok.parse::<RepoRef>().is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_malformed() {
        for bad in ["Nginx", "a/b/c", "/x", "x/", "a/-b", "a/b.", "a/b..c", "../etc", "a/b%2f"] {
            assert!(bad.parse::<RepoRef>().is_err(), "{bad}");
        }
    }
}
