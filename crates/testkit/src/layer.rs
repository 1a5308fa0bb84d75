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

/// A zstd layer with a frame checksum (as the `zstd` tool and BuildKit write them), and a copy
/// with one byte of a file's content changed where the decoder cannot notice it: inside a block
/// that zstd stored raw. Only a hash of the content tells the two apart. `(intact, changed)`.
///
/// # Panics
/// Never in practice: the writers are `Vec`s, and noise is always stored raw.
pub fn zstd_changed_in_content() -> (Vec<u8>, Vec<u8>) {
    // Incompressible bytes (xorshift), so zstd stores them verbatim.
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let noise: Vec<u8> = (0..200_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[0]
        })
        .collect();
    let tar = tar_of(&[("opt/data.bin", &noise)]);
    let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 3).expect("zstd encoder");
    enc.include_checksum(true).expect("zstd checksum flag");
    enc.write_all(&tar).expect("zstd into a Vec");
    let intact = enc.finish().expect("zstd into a Vec");
    let probe = &noise[100_000..100_032];
    let at = intact.windows(probe.len()).position(|w| w == probe).expect("noise is stored raw");
    let mut changed = intact.clone();
    changed[at + 8] ^= 0x01;
    (intact, changed)
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

    #[test]
    fn a_changed_zstd_layer_decodes_but_fails_its_frame_checksum() {
        let (intact, changed) = zstd_changed_in_content();
        assert_ne!(intact, changed);
        let tar = zstd::stream::decode_all(intact.as_slice()).unwrap();
        assert!(tar.len() > 200_000);
        let err = zstd::stream::decode_all(changed.as_slice()).unwrap_err();
        assert!(err.to_string().to_lowercase().contains("checksum"), "{err}");
    }
}
