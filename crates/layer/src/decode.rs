//! Decompressors for layer streams and nested archives, chosen by magic bytes.

use std::io::{self, BufRead, Read};

use hubcensus_types::Compression;

use crate::limits::ZSTD_WINDOW_LOG_MAX;

/// Whether a decoder checks the checksum a zstd frame may carry (XXH64 of its content).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FrameChecksum {
    /// Checked: a mismatch is an error at the frame's end.
    Verify,
    /// Not checked, because the caller checks the sha256 digest of the very bytes decoded here
    /// (a layer blob with a digest from its manifest): a second hash over the same content only
    /// costs time (about 3% of a zstd layer's scan).
    CoveredByDigest,
}

/// A reader that yields the decompressed bytes of `input`.
///
/// gzip is read with ISA-L ([`hubcensus_gzip`]), member after member: eStargz and concatenating
/// tools produce layers of many gzip members, and a single-member decoder would stop silently
/// after the first. zstd frames may also be concatenated; the zstd decoder reads them all, with
/// its window capped ([`ZSTD_WINDOW_LOG_MAX`]) so a frame cannot make it allocate gigabytes.
pub(crate) fn decoder<'a, R: BufRead + 'a>(
    compression: Compression,
    input: R,
    checksum: FrameChecksum,
) -> io::Result<Box<dyn Read + 'a>> {
    Ok(match compression {
        Compression::None => Box::new(input),
        Compression::Gzip => Box::new(hubcensus_gzip::GzipDecoder::new(input)),
        Compression::Zstd => {
            let mut d = zstd::stream::read::Decoder::with_buffer(input)?;
            d.window_log_max(ZSTD_WINDOW_LOG_MAX)?;
            if checksum == FrameChecksum::CoveredByDigest {
                d.set_parameter(zstd::stream::raw::DParameter::ForceIgnoreChecksum(true))?;
            }
            Box::new(d)
        }
    })
}

/// Reads until `buf` is full or the stream ends; returns how many bytes were read.
pub(crate) fn read_up_to(reader: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn multi_member_gzip_is_read_to_the_end() {
        let mut out = Vec::new();
        for part in [&b"first "[..], b"second"] {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(part).unwrap();
            out.extend(gz.finish().unwrap());
        }
        let mut text = String::new();
        decoder(Compression::Gzip, &out[..], FrameChecksum::Verify)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "first second");
    }

    #[test]
    fn zstd_frames_asking_for_a_huge_window_are_refused() {
        let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 1).unwrap();
        enc.long_distance_matching(true).unwrap();
        enc.window_log(ZSTD_WINDOW_LOG_MAX + 2).unwrap();
        enc.write_all(&vec![7u8; 1 << 16]).unwrap();
        let frame = enc.finish().unwrap();
        let mut sink = Vec::new();
        let err = decoder(Compression::Zstd, &frame[..], FrameChecksum::Verify)
            .unwrap()
            .read_to_end(&mut sink)
            .unwrap_err();
        let msg = err.to_string().to_lowercase();
        assert!(msg.contains("memory") || msg.contains("window"), "{err}");
    }
}
