//! File contents and layer tarballs.
//!
//! Layers look like the real thing to a scanner: ELF executables with a correct ELF header for
//! their architecture, code-like bytes that compress about as well as real code, and the string
//! tables real binaries carry; text files written the way Debian ships them. A layer is a real
//! tar (GNU headers, fixed mtimes and owners so its digest is reproducible), compressed with
//! gzip, zstd or nothing, and described by its compressed digest and uncompressed `diff_id`.

use std::io::Write as _;

use bytes::Bytes;
use hubcensus_types::Digest;

use crate::rng::Rng;

/// One tar entry to write.
#[derive(Debug, Clone)]
pub(crate) enum Entry {
    /// A directory (path without trailing slash).
    Dir(String),
    /// A regular file.
    File { path: String, data: Vec<u8>, mode: u32 },
    /// A symbolic link.
    Symlink { path: String, target: String },
}

impl Entry {
    pub(crate) fn file(path: impl Into<String>, data: impl Into<Vec<u8>>, mode: u32) -> Self {
        Entry::File { path: path.into(), data: data.into(), mode }
    }
}

/// Layer compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Packing {
    Gzip,
    Zstd,
}

/// A built layer blob.
#[derive(Debug, Clone)]
pub(crate) struct Layer {
    pub(crate) bytes: Bytes,
    pub(crate) digest: Digest,
    pub(crate) diff_id: Digest,
}

/// Writes `entries` as a tar with fixed metadata and compresses it.
pub(crate) fn build_layer(entries: &[Entry], mtime: i64, packing: Packing, level: i32) -> Layer {
    let mut tar = tar::Builder::new(Vec::new());
    let mtime = mtime.max(0) as u64;
    for e in entries {
        let mut h = tar::Header::new_gnu();
        h.set_mtime(mtime);
        h.set_uid(0);
        h.set_gid(0);
        // Writes into a Vec cannot fail; a path tar rejects (none we generate) is skipped.
        let _ = match e {
            Entry::Dir(p) => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(0o755);
                h.set_size(0);
                tar.append_data(&mut h, format!("{p}/"), std::io::empty())
            }
            Entry::File { path, data, mode } => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(*mode);
                h.set_size(data.len() as u64);
                tar.append_data(&mut h, path, data.as_slice())
            }
            Entry::Symlink { path, target } => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_mode(0o777);
                h.set_size(0);
                tar.append_link(&mut h, path, target)
            }
        };
    }
    let raw = tar.into_inner().unwrap_or_default();
    let diff_id = Digest::sha256_of(&raw);
    let packed = match packing {
        Packing::Gzip => {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level as u32));
            let _ = enc.write_all(&raw);
            enc.finish().unwrap_or_default()
        }
        Packing::Zstd => zstd::stream::encode_all(raw.as_slice(), level.clamp(1, 19)).unwrap_or_default(),
    };
    Layer { digest: Digest::sha256_of(&packed), bytes: Bytes::from(packed), diff_id }
}

/// `(e_machine, 64-bit)` for an architecture.
fn machine(arch: &str) -> (u16, bool) {
    match arch {
        "arm64" => (183, true),
        "arm" => (40, false),
        "386" => (3, false),
        "ppc64le" => (21, true),
        "s390x" => (22, true),
        "riscv64" => (243, true),
        _ => (62, true),
    }
}

const CODE_BYTES: &[u8] =
    &[0x00, 0x48, 0x89, 0x8b, 0xe8, 0xff, 0x0f, 0x85, 0x84, 0x24, 0x45, 0x41, 0xc3, 0x31, 0xc0, 0x74];

/// An ELF executable of about `size` bytes for `arch` carrying `strings` in its string table.
pub(crate) fn elf(rng: &mut Rng, arch: &str, size: usize, strings: &[&str]) -> Vec<u8> {
    let (mach, wide) = machine(arch);
    let mut out = Vec::with_capacity(size + 1024);
    out.extend_from_slice(&[0x7f, b'E', b'L', b'F', if wide { 2 } else { 1 }, 1, 1, 0]);
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&3u16.to_le_bytes()); // ET_DYN (PIE)
    out.extend_from_slice(&mach.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    let header = if wide { 64 } else { 52 };
    while out.len() < header {
        out.push(0);
    }
    let code = size.saturating_sub(header).max(256);
    let start = out.len();
    out.resize(start + code, 0);
    rng.fill(&mut out[start..]);
    for b in &mut out[start..] {
        if *b & 0x80 == 0 {
            *b = CODE_BYTES[(*b & 0x0f) as usize];
        }
    }
    let common: &[&str] = if arch == "amd64" {
        &[
            "/lib64/ld-linux-x86-64.so.2",
            "GLIBC_2.34",
            "GLIBC_2.2.5",
            "__libc_start_main",
            "GCC: (Debian 12.2.0-14) 12.2.0",
        ]
    } else {
        &["GLIBC_2.17", "__libc_start_main", "GCC: (Debian 12.2.0-14) 12.2.0"]
    };
    out.push(0);
    for s in common.iter().chain(strings) {
        out.extend_from_slice(s.as_bytes());
        out.push(0);
    }
    out.extend_from_slice(b".shstrtab\0.interp\0.dynsym\0.dynstr\0.text\0.rodata\0.data\0.bss\0");
    out
}

/// Text of `lines` lines drawn from a vocabulary, for READMEs, changelogs, code.
pub(crate) fn prose(rng: &mut Rng, lines: usize) -> String {
    const W: &[&str] = &[
        "the",
        "package",
        "provides",
        "support",
        "for",
        "and",
        "with",
        "files",
        "version",
        "updated",
        "fix",
        "build",
        "library",
        "upstream",
        "release",
        "security",
        "documentation",
        "install",
        "configure",
        "default",
        "option",
        "system",
        "user",
        "data",
        "license",
        "debian",
        "changes",
        "new",
        "test",
        "bug",
    ];
    let mut s = String::new();
    for _ in 0..lines {
        let n = rng.range(4, 12);
        for k in 0..n {
            if k > 0 {
                s.push(' ');
            }
            let w: &&str = rng.pick(W);
            s.push_str(w);
        }
        s.push_str(".\n");
    }
    s
}

/// Python-like source.
pub(crate) fn python_source(rng: &mut Rng, module: &str) -> String {
    let mut s = format!("\"\"\"{module}: {}\"\"\"\nimport os\nimport sys\n\n", prose(rng, 1).trim_end());
    for i in 0..rng.range(2, 8) {
        s.push_str(&format!(
            "\ndef {module}_{i}(value, *args, **kwargs):\n    result = []\n    for item in args:\n        result.append(str(item) + str(value))\n    return result\n"
        ));
    }
    s
}

/// JavaScript-like source.
pub(crate) fn js_source(rng: &mut Rng, module: &str) -> String {
    let mut s = format!("'use strict';\n// {module}\nconst path = require('path');\n");
    for i in 0..rng.range(2, 8) {
        s.push_str(&format!(
            "\nfunction {module}{i}(opts) {{\n  const out = Object.assign({{}}, opts);\n  out.name = path.basename(String(opts.name || ''));\n  return out;\n}}\nmodule.exports.{module}{i} = {module}{i};\n"
        ));
    }
    s
}

/// A gzip-compressed text file (Debian's `changelog.Debian.gz`).
pub(crate) fn gz(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    #[test]
    fn layers_are_reproducible_real_tars() {
        let entries = vec![
            Entry::Dir("usr".into()),
            Entry::file("usr/bin/hello", elf(&mut Rng::new(1, "e", 0), "amd64", 4096, &["hello"]), 0o755),
            Entry::Symlink { path: "bin".into(), target: "usr/bin".into() },
        ];
        let a = build_layer(&entries, 1_700_000_000, Packing::Gzip, 6);
        let b = build_layer(&entries, 1_700_000_000, Packing::Gzip, 6);
        assert_eq!(a.digest, b.digest);
        let z = build_layer(&entries, 1_700_000_000, Packing::Zstd, 3);
        assert_eq!(z.diff_id, a.diff_id);
        assert_ne!(z.digest, a.digest);
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(&a.bytes[..]).read_to_end(&mut raw).unwrap();
        let mut ar = tar::Archive::new(raw.as_slice());
        let paths: Vec<String> =
            ar.entries().unwrap().map(|e| e.unwrap().path().unwrap().display().to_string()).collect();
        assert_eq!(paths, ["usr/", "usr/bin/hello", "bin"]);
        assert_eq!(&elf(&mut Rng::new(1, "e", 0), "arm64", 100, &[])[..4], b"\x7fELF");
    }
}
