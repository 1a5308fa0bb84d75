//! Recognising streams by their first bytes.
//!
//! Registries lie about media types (and BuildKit invents its own), so the walker decides how
//! to decompress a layer from its magic bytes alone; the declared type is only kept for the
//! record. Nested archives are recognised the same way, whatever their file name says.

use hubcensus_types::Compression;

/// gzip member header: ID1 ID2 and the only defined method, deflate (RFC 1952).
const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];
/// A zstd frame (RFC 8878 §3.1.1), little-endian 0xFD2FB528.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
/// A zip local file header, and the end-of-central-directory record of an empty zip.
const ZIP_LOCAL: [u8; 4] = *b"PK\x03\x04";
const ZIP_EMPTY: [u8; 4] = *b"PK\x05\x06";

/// How many leading bytes [`compression`] needs to decide.
pub(crate) const MAGIC_LEN: usize = 4;

/// The compression of a layer stream, from its first bytes. Anything that is neither gzip nor
/// zstd is read as a plain tar (which then fails as corrupt if it is not one).
pub(crate) fn compression(head: &[u8]) -> Compression {
    if head.starts_with(&GZIP_MAGIC) {
        Compression::Gzip
    } else if head.starts_with(&ZSTD_MAGIC) {
        Compression::Zstd
    } else {
        Compression::None
    }
}

/// A name for compressions the walker recognises but does not decode, used in the corrupt-layer
/// message so a census can count them.
pub(crate) fn unsupported_compression(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"\xfd7zXZ\x00") || head.starts_with(b"\xfd7zX") {
        Some("xz")
    } else if head.starts_with(b"BZh") {
        Some("bzip2")
    } else {
        None
    }
}

/// An archive inside a layer that the walker can enter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nested {
    /// A tar stream with this compression (`.tar`, `.tar.gz`/`.tgz`, `.tar.zst`).
    Tar(Compression),
    /// A zip and its kin: jar, war, ear, whl, egg, apk, nupkg.
    Zip,
}

/// Whether a whole file (already in memory) is an archive to enter. Compressed files are only
/// candidates here: [`is_tar_header`] on their decompressed head decides (a `.gz` man page is
/// not entered).
pub(crate) fn nested(data: &[u8]) -> Option<Nested> {
    if data.starts_with(&ZIP_LOCAL) || data.starts_with(&ZIP_EMPTY) {
        return Some(Nested::Zip);
    }
    match compression(data) {
        Compression::None if is_tar_header(data) => Some(Nested::Tar(Compression::None)),
        Compression::None => None,
        c => Some(Nested::Tar(c)),
    }
}

/// Whether `block` starts with a tar header: the POSIX/GNU `ustar` magic, or failing that (old
/// v7 archives) a valid header checksum over a non-empty name.
pub(crate) fn is_tar_header(block: &[u8]) -> bool {
    let Some(header) = block.get(..512) else {
        return false;
    };
    if &header[257..262] == b"ustar" {
        return true;
    }
    if header[0] == 0 {
        return false;
    }
    // Nearly every file fails here, before the 512-byte sum: its bytes 148..156 are no number.
    let Some(stored) = parse_octal(&header[148..156]) else {
        return false;
    };
    let sum: u64 = header
        .iter()
        .enumerate()
        .map(|(i, &b)| if (148..156).contains(&i) { u64::from(b' ') } else { u64::from(b) })
        .sum();
    stored == sum
}

fn parse_octal(field: &[u8]) -> Option<u64> {
    let digits = field.iter().skip_while(|&&b| b == b' ').take_while(|&&b| (b'0'..=b'7').contains(&b));
    let mut value: u64 = 0;
    let mut any = false;
    for &d in digits {
        value = value.checked_mul(8)?.checked_add(u64::from(d - b'0'))?;
        any = true;
    }
    any.then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(name: &str, gnu: bool) -> Vec<u8> {
        let mut header = if gnu { tar::Header::new_gnu() } else { tar::Header::new_old() };
        header.set_path(name).unwrap();
        header.set_size(0);
        header.set_cksum();
        header.as_bytes().to_vec()
    }

    #[test]
    fn layers_are_told_apart_by_magic() {
        assert_eq!(compression(&[0x1f, 0x8b, 8, 0]), Compression::Gzip);
        assert_eq!(compression(&ZSTD_MAGIC), Compression::Zstd);
        assert_eq!(compression(b"usr/"), Compression::None);
        assert_eq!(compression(b""), Compression::None);
        assert_eq!(unsupported_compression(b"\xfd7zXZ\x00\x00"), Some("xz"));
    }

    #[test]
    fn nested_archives_by_content_not_name() {
        assert_eq!(nested(b"PK\x03\x04rest"), Some(Nested::Zip));
        assert_eq!(nested(&[0x1f, 0x8b, 8, 0, 0]), Some(Nested::Tar(Compression::Gzip)));
        assert_eq!(nested(&tar_of("etc/passwd", true)), Some(Nested::Tar(Compression::None)));
        assert_eq!(nested(&tar_of("etc/passwd", false)), Some(Nested::Tar(Compression::None)));
        assert_eq!(nested(b"#!/bin/sh\necho hi\n"), None);
        let mut bad = tar_of("x", false);
        bad[0] = b'y';
        assert!(!is_tar_header(&bad), "a v7 header with a wrong checksum is not tar");
        assert!(!is_tar_header(&[0u8; 512]));
    }
}
