//! gzip streams: every member, header and trailer parsed and verified by ISA-L.

use std::io::{self, BufRead, Read};

use isal_sys::igzip_lib::ISAL_GZIP;

use crate::state::{State, failure, gave_back_too_much};

/// A streaming gzip decoder over any buffered reader, reading every member to the end.
pub struct GzipDecoder<R> {
    input: R,
    state: State,
}

impl<R: BufRead> GzipDecoder<R> {
    /// A decoder reading gzip members from `input` until it ends.
    pub fn new(input: R) -> Self {
        Self { input, state: State::new(ISAL_GZIP) }
    }
}

impl<R> std::fmt::Debug for GzipDecoder<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GzipDecoder")
            .field("member_finished", &self.state.finished())
            .field("total_out", &self.state.total_out())
            .finish_non_exhaustive()
    }
}

impl<R: BufRead> Read for GzipDecoder<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            if self.state.finished() {
                // After a whole member, the end of input is the end of the stream.
                if self.input.fill_buf()?.is_empty() {
                    return Ok(0);
                }
                self.state.reset(ISAL_GZIP);
            }
            let input = self.input.fill_buf()?;
            if input.is_empty() {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "gzip stream ends inside a member"));
            }
            let step = self.state.inflate(input, out);
            let (left, produced) =
                step.map_err(|code| io::Error::new(io::ErrorKind::InvalidData, failure("gzip", code)))?;
            // In gzip mode ISA-L reads each trailer itself and gives back only read-ahead from
            // this call's input (every split of valid multi-member streams is tested); bytes of
            // an earlier call it has no way to get back, so that would be an error, not a loss.
            let taken = input.len().checked_sub(left).ok_or_else(gave_back_too_much)?;
            self.input.consume(taken);
            if produced > 0 {
                return Ok(produced);
            }
            if taken == 0 && !self.state.finished() {
                // Input offered, none taken, nothing written: a state ISA-L cannot leave.
                return Err(io::Error::new(io::ErrorKind::InvalidData, "gzip stream makes no progress"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(data).unwrap();
        gz.finish().unwrap()
    }

    fn decode(data: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        GzipDecoder::new(data).read_to_end(&mut out)?;
        Ok(out)
    }

    /// Compressible text with some variety, bigger than ISA-L's 32 KiB window.
    fn sample() -> Vec<u8> {
        (0..40_000u32).flat_map(|i| format!("line {i} of {}\n", i * 7919 % 1000).into_bytes()).collect()
    }

    #[test]
    fn round_trips_what_flate2_writes_through_tiny_reads() {
        let data = sample();
        let packed = gzip(&data);
        // A 1-byte input buffer and 7-byte reads exercise every resumption point.
        let mut d = GzipDecoder::new(io::BufReader::with_capacity(1, &packed[..]));
        assert_eq!(crate::differential::read_in_chunks(&mut d, 7), data);
    }

    /// A corrupt 31-byte gzip member the fuzzer found (a distance reaches before the start of
    /// the stream; zlib and ISA-L both refuse it). Split after its first bytes, as the walker's
    /// sniffed head is, ISA-L handed back more input than that call had been given.
    const HANDS_BACK: [u8; 31] = [
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x63, 0x33, 0x60, 0x18, 0x05, 0xa3, 0x23,
        0x14, 0x30, 0x8c, 0x50, 0x00, 0x00, 0x2e, 0xaf, 0xb5, 0x0f, 0xb6, 0xd6, 0x00, 0x00,
    ];

    #[test]
    fn every_split_of_the_input_decodes_alike() {
        let mut multi = gzip(b"first member");
        multi.extend(gzip(&sample()[..5_000]));
        multi.extend(gzip(b""));
        multi.extend(gzip(b"last member"));
        assert!(decode(&HANDS_BACK).is_err());
        for data in [&HANDS_BACK[..], &multi[..]] {
            let whole = decode(data).map_err(|e| e.kind());
            for cut in 0..data.len() {
                let (a, b) = data.split_at(cut);
                let mut out = Vec::new();
                let got = GzipDecoder::new(io::BufReader::new(a.chain(b))).read_to_end(&mut out);
                assert_eq!(got.map(|_| out).map_err(|e| e.kind()), whole, "split at {cut}");
            }
        }
    }

    #[test]
    fn every_member_is_read() {
        let mut packed = gzip(b"first ");
        packed.extend(gzip(&sample()));
        packed.extend(gzip(b" last"));
        let mut want = b"first ".to_vec();
        want.extend(sample());
        want.extend(b" last");
        assert_eq!(decode(&packed).unwrap(), want);
    }

    #[test]
    fn an_empty_member_is_empty_and_no_member_is_eof() {
        assert_eq!(decode(&gzip(b"")).unwrap(), b"");
        // A gzip stream has at least one member (as flate2 and gzip(1) judge it too).
        assert_eq!(decode(b"").unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn a_cut_stream_is_unexpected_eof() {
        let packed = gzip(&sample());
        for cut in [5, 10, packed.len() / 2, packed.len() - 4, packed.len() - 1] {
            let err = decode(&packed[..cut]).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof, "cut at {cut}: {err}");
        }
    }

    #[test]
    fn a_wrong_checksum_or_size_is_invalid_data() {
        let mut packed = gzip(&sample());
        let n = packed.len();
        packed[n - 6] ^= 1; // CRC-32
        let err = decode(&packed).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("CRC-32"), "{err}");
        let mut packed = gzip(&sample());
        packed[n - 2] ^= 1; // ISIZE
        assert_eq!(decode(&packed).unwrap_err().kind(), io::ErrorKind::InvalidData);
    }

    /// States are reused across streams on a thread: one left mid-stream, failed or finished
    /// must decode the next stream as a fresh one would, whatever the mix of gzip and raw
    /// DEFLATE before it.
    #[test]
    fn a_reused_state_starts_each_stream_afresh() {
        let data = sample();
        let gz = gzip(&data);
        let mut raw = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        raw.write_all(&data[..5000]).unwrap();
        let raw = raw.finish().unwrap();
        for _ in 0..3 {
            // Left after its first bytes.
            let mut partial = GzipDecoder::new(&gz[..]);
            partial.read_exact(&mut [0u8; 100]).unwrap();
            drop(partial);
            assert_eq!(decode(&gz).unwrap(), data, "after a stream left midway");
            // Failed on a flipped byte.
            let mut bad = gz.clone();
            bad[gz.len() / 2] ^= 0x55;
            assert!(decode(&bad).is_err());
            assert_eq!(decode(&gz).unwrap(), data, "after a corrupt stream");
            // A raw DEFLATE stream through the other reader of the same states, left midway.
            let mut inflater = crate::Inflater::new();
            inflater.stream(&raw).read_exact(&mut [0u8; 100]).unwrap();
            drop(inflater);
            assert_eq!(decode(&gz).unwrap(), data, "after a raw DEFLATE stream");
        }
    }

    #[test]
    fn garbage_is_invalid_data_not_a_hang() {
        let err = decode(b"not gzip at all, just text that goes on").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
        // A valid header over a corrupt body.
        let mut packed = gzip(&sample());
        for b in &mut packed[20..60] {
            *b = 0xff;
        }
        assert!(decode(&packed).is_err());
        // Trailing garbage after a complete member.
        let mut packed = gzip(b"data");
        packed.extend_from_slice(b"junk!");
        assert!(decode(&packed).is_err());
    }
}

/// ISA-L against flate2 on damaged gzip streams (see `crate::differential`).
#[cfg(test)]
mod differential {
    use std::io::Write;

    use super::GzipDecoder;
    use crate::differential::{compare, read_all};

    #[test]
    fn flipped_bits_and_cuts_are_judged_as_flate2_judges_them() {
        let text: Vec<u8> = (0..20_000u32).flat_map(|i| format!("{i} {}\n", i % 97).into_bytes()).collect();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&text).unwrap();
        let good = gz.finish().unwrap();
        let verdict = compare(&good, 3_000, &mut |data| read_all(GzipDecoder::new(data)), &mut |data| {
            read_all(flate2::bufread::MultiGzDecoder::new(data))
        });
        assert!(verdict.differ.is_empty(), "ISA-L and flate2 disagree: {:?}", verdict.differ);
        let refused = verdict.refused;
        assert!(refused > 2_000, "the damage was mostly caught: {refused} of 3000 refused");
    }
}
