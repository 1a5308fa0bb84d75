//! Entry names: normalisation and overlay whiteouts.
//!
//! Tar names in a layer are attacker-controlled bytes. They are never used to touch a file
//! system here; they are normalised only so that findings name a path the way the image's file
//! system would show it: no leading `/` or `./`, `.` and empty components dropped, `..` resolved
//! lexically and clamped at the root (`../../etc/shadow` is `etc/shadow` once unpacked), and
//! non-UTF-8 bytes replaced (U+FFFD), keeping the rest of the name readable.

pub use hubcensus_types::Whiteout;

/// What an entry name means to an overlay file system.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Name {
    /// An ordinary path, normalised.
    Path(String),
    /// A whiteout marker.
    Whiteout(Whiteout),
    /// AUFS bookkeeping (`.wh..wh.plnk`, `.wh..wh.aufs`): neither a file nor a deletion.
    Metadata,
}

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE_MARKER: &str = ".wh..wh..opq";
const AUFS_META_PREFIX: &str = ".wh..wh.";

/// Normalises raw entry-name bytes (see the module docs).
pub(crate) fn normalise(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut parts: Vec<&str> = Vec::new();
    for part in text.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// Interprets a normalised layer path (top-level layer entries only: inside a nested archive a
/// `.wh.` name is just a file).
pub(crate) fn classify(path: String) -> Name {
    let (dir, base) = match path.rsplit_once('/') {
        Some((d, b)) => (d, b),
        None => ("", path.as_str()),
    };
    if base == OPAQUE_MARKER {
        return Name::Whiteout(Whiteout { path: dir.to_owned(), opaque: true });
    }
    if base.starts_with(AUFS_META_PREFIX) {
        return Name::Metadata;
    }
    if let Some(name) = base.strip_prefix(WHITEOUT_PREFIX)
        && !name.is_empty()
    {
        let deleted = if dir.is_empty() { name.to_owned() } else { format!("{dir}/{name}") };
        return Name::Whiteout(Whiteout { path: deleted, opaque: false });
    }
    Name::Path(path)
}

/// The name to show for a member of a nested archive: `outer.jar!/inner/path`.
pub(crate) fn nested(outer: &str, inner: &str) -> String {
    format!("{outer}!/{inner}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalised_lexically_and_clamped() {
        assert_eq!(normalise(b"./usr/bin/xmrig"), "usr/bin/xmrig");
        assert_eq!(normalise(b"/etc/passwd"), "etc/passwd");
        assert_eq!(normalise(b"../../etc/shadow"), "etc/shadow");
        assert_eq!(normalise(b"a/./b//../c/"), "a/c");
        assert_eq!(normalise(b"./"), "");
        assert_eq!(normalise(b"caf\xe9/x"), "caf\u{fffd}/x");
    }

    #[test]
    fn whiteouts_name_what_they_delete() {
        let w = |p: &str| classify(p.to_owned());
        assert_eq!(w("etc/.wh.key"), Name::Whiteout(Whiteout { path: "etc/key".into(), opaque: false }));
        assert_eq!(w(".wh.root.txt"), Name::Whiteout(Whiteout { path: "root.txt".into(), opaque: false }));
        assert_eq!(
            w("opt/app/.wh..wh..opq"),
            Name::Whiteout(Whiteout { path: "opt/app".into(), opaque: true })
        );
        assert_eq!(w(".wh..wh..opq"), Name::Whiteout(Whiteout { path: String::new(), opaque: true }));
        assert_eq!(w(".wh..wh.plnk/123"), Name::Path(".wh..wh.plnk/123".into()));
        assert_eq!(w("x/.wh..wh.plnk"), Name::Metadata);
        assert_eq!(w("etc/wh.key"), Name::Path("etc/wh.key".into()));
        assert_eq!(w("etc/.wh."), Name::Path("etc/.wh.".into()));
    }
}
