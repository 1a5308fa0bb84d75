//! What the scanner knows about the file it is looking at: its path, its kind and its size.
//!
//! Rules use the kind to weigh evidence: a miner's strings in an ELF are a miner, the same
//! strings in a README are documentation.

/// One file (or image-config field) handed to the rules.
#[derive(Debug, Clone, Copy)]
pub struct FileMeta<'a> {
    /// The tar path without a leading `/` (`usr/bin/xmrig`), or a config field (`config.Env[2]`).
    pub path: &'a str,
    /// What the file is, from [`FileKind::sniff`] (or [`FileKind::ConfigField`]).
    pub kind: FileKind,
    /// The file's full size in bytes; the data passed to a scan may be only a window of it.
    pub size: u64,
    /// Whether any execute bit is set in the tar header.
    pub executable: bool,
}

/// The coarse kind of a file, decided from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// An ELF object (`\x7fELF`).
    Elf,
    /// A text file starting with `#!`.
    Script,
    /// Other text (UTF-8 or Latin-1 without control bytes).
    Text,
    /// Anything else.
    Binary,
    /// A value from an image config: an ENV entry, the joined Cmd/Entrypoint, a label, a
    /// history `created_by`.
    ConfigField,
    /// An entry known by its name only: a directory or a link. It has no content, so no
    /// content rule sees it, and a path rule fires on it only when its `kinds` list
    /// `name_only`: a directory named `xray` (botocore's service models) is not a binary.
    NameOnly,
}

/// How many leading bytes [`FileKind::sniff`] looks at.
pub const SNIFF_LEN: usize = 8 * 1024;

impl FileKind {
    /// Every kind, in a fixed order (the bit order of kind masks).
    pub const ALL: [FileKind; 6] = [
        FileKind::Elf,
        FileKind::Script,
        FileKind::Text,
        FileKind::Binary,
        FileKind::ConfigField,
        FileKind::NameOnly,
    ];

    /// Whether content of this kind is an executable: an ELF object or a script with a
    /// shebang. Rules about binaries fire on these only.
    pub const fn is_executable(self) -> bool {
        matches!(self, FileKind::Elf | FileKind::Script)
    }

    /// The position of the kind in [`FileKind::ALL`] (the index of per-kind tables).
    pub(crate) const fn index(self) -> usize {
        match self {
            FileKind::Elf => 0,
            FileKind::Script => 1,
            FileKind::Text => 2,
            FileKind::Binary => 3,
            FileKind::ConfigField => 4,
            FileKind::NameOnly => 5,
        }
    }

    /// Decides the kind from the head of a file: ELF magic, a shebang, or a text heuristic over at
    /// most [`SNIFF_LEN`] bytes (no NUL, and at most 1 in 32 bytes a control character other
    /// than tab, newline, carriage return, form feed or escape). An empty file is text.
    pub fn sniff(head: &[u8]) -> FileKind {
        let head = &head[..head.len().min(SNIFF_LEN)];
        if head.starts_with(b"\x7fELF") {
            return FileKind::Elf;
        }
        if memchr::memchr(0, head).is_some() {
            return FileKind::Binary;
        }
        // Branch-free per byte (`&`, `|`, no short-circuit), counted in byte-wide lanes over
        // chunks of 255 (so no lane overflows): the count vectorises to 32 bytes a step.
        let control: usize = head
            .chunks(255)
            .map(|chunk| {
                let n = chunk.iter().fold(0u8, |n, &b| {
                    let allowed = (b == b'\t') | (b == b'\n') | (b == b'\r') | (b == 0x0c) | (b == 0x1b);
                    n + u8::from(((b < 0x20) & !allowed) | (b == 0x7f))
                });
                usize::from(n)
            })
            .sum();
        if control * 32 > head.len() {
            return FileKind::Binary;
        }
        if is_shebang(head) { FileKind::Script } else { FileKind::Text }
    }

    /// The id used in rule files (`elf`, `script`, `text`, `binary`, `config_field`,
    /// `name_only`).
    pub const fn as_str(self) -> &'static str {
        match self {
            FileKind::Elf => "elf",
            FileKind::Script => "script",
            FileKind::Text => "text",
            FileKind::Binary => "binary",
            FileKind::ConfigField => "config_field",
            FileKind::NameOnly => "name_only",
        }
    }

    /// Parses a rule-file kind id.
    pub fn from_id(s: &str) -> Option<FileKind> {
        FileKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub(crate) const fn bit(self) -> u8 {
        1 << self.index()
    }
}

/// A shebang names an interpreter by path: `#!/bin/sh`, `#! /usr/bin/env python3`. Word lists
/// and data files also open with `#!` (`#!comment:` in John the Ripper and Nmap password
/// lists): they are text, not programs.
fn is_shebang(head: &[u8]) -> bool {
    head.strip_prefix(b"#!").is_some_and(|rest| rest.trim_ascii_start().starts_with(b"/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_the_common_kinds() {
        assert_eq!(FileKind::sniff(b"\x7fELF\x02\x01\x01\0\0\0"), FileKind::Elf);
        assert_eq!(FileKind::sniff(b"#!/bin/sh\necho hi\n"), FileKind::Script);
        assert_eq!(FileKind::sniff(b"#! /usr/bin/env python3\n"), FileKind::Script);
        assert_eq!(FileKind::sniff(b"#!comment: a password list\ngost\n"), FileKind::Text);
        assert_eq!(FileKind::sniff(b"plain text\nwith lines\n"), FileKind::Text);
        assert_eq!(FileKind::sniff("caf\u{e9} \x1b[1mbold\x1b[0m".as_bytes()), FileKind::Text);
        assert_eq!(FileKind::sniff(b"PK\x03\x04\0\0binary"), FileKind::Binary);
        assert_eq!(FileKind::sniff(&[1u8, 2, 3, 4, 5, 6, 7, 8]), FileKind::Binary);
        assert_eq!(FileKind::sniff(b""), FileKind::Text);
    }

    #[test]
    fn looks_only_at_the_head() {
        let mut data = vec![b'a'; SNIFF_LEN];
        data.push(0);
        assert_eq!(FileKind::sniff(&data), FileKind::Text);
    }

    #[test]
    fn kind_ids_round_trip() {
        for (i, k) in FileKind::ALL.into_iter().enumerate() {
            assert_eq!(FileKind::from_id(k.as_str()), Some(k));
            assert_eq!(k.index(), i);
        }
        assert_eq!(FileKind::from_id("exe"), None);
    }
}
