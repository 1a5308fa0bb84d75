//! Layers built in memory: a tar of a few files, and the two compressions registries serve
//! (gzip, and zstd as BuildKit writes it).

use std::io::Write as _;

/// An uncompressed tar holding `files` (`(path, content)`), regular files with mode 0644 and a
/// fixed mtime, so the same files always give the same bytes.
///
/// # Panics
/// A path the tar format cannot hold.
pub fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_700_000_000);
        h.set_cksum();
        builder.append_data(&mut h, path, *data).unwrap_or_else(|e| panic!("tar entry {path}: {e}"));
    }
    builder.into_inner().expect("finishing an in-memory tar")
}

/// `data` gzip-compressed (fast level, as builders push by default).
///
/// # Panics
/// Never in practice: the writer is a `Vec`.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).expect("gzip into a Vec");
    gz.finish().expect("gzip into a Vec")
}

/// `data` zstd-compressed (level 3, zstd's default).
///
/// # Panics
/// Never in practice: the writer is a `Vec`.
pub fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(data, 3).expect("zstd into a Vec")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_layers_decompress_to_the_tar() {
        let tar = tar_of(&[("etc/motd", b"hello\n"), ("usr/bin/tool", b"\x7fELF")]);
        assert_eq!(tar.len() % 512, 0);
        let mut plain = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gzip(&tar).as_slice()), &mut plain)
            .unwrap();
        assert_eq!(plain, tar);
        assert_eq!(zstd::stream::decode_all(zstd(&tar).as_slice()).unwrap(), tar);
        let mut archive = tar::Archive::new(tar.as_slice());
        let paths: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(paths, ["etc/motd", "usr/bin/tool"]);
    }
}
