//! gzip layers through ISA-L's inflate (igzip), the fastest streaming DEFLATE decoder there is.
//!
//! Most Docker Hub layers are gzip, so inflate sets the pace of a census. zlib-rs runs at
//! zlib's speed; ISA-L's hand-written AVX2/AVX-512 decoder is 1.4× faster on the same layer and
//! streams (libdeflate, faster still, needs the whole stream and its whole output in memory,
//! which a 2 GiB layer under a 256 MiB bound cannot give). `docs/decisions/0002-gzip-backend.md`
//! has the measurements.
//!
//! ISA-L parses the gzip header and trailer itself and verifies each member's CRC-32 and size,
//! so a flipped bit or a cut stream is an error here, never silently short output. Members are
//! read one after another (eStargz and concatenating tools write many); a stream that ends
//! inside a member is `UnexpectedEof`, which the walker records as a truncated layer.
//!
//! The library is Debian's `libisal2` (`libisal-dev` to build), linked through isal-sys'
//! generated bindings; their `inflate_state` layout is that of ISA-L 2.30 (checked field by
//! field against Debian 12's header).

use std::io::{self, BufRead, Read};

use isal_sys::igzip_lib::{
    ISAL_GZIP, ISAL_INCORRECT_CHECKSUM, ISAL_INVALID_BLOCK, ISAL_INVALID_LOOKBACK, ISAL_INVALID_SYMBOL,
    ISAL_INVALID_WRAPPER, ISAL_UNSUPPORTED_METHOD, inflate_state, isal_block_state_ISAL_BLOCK_FINISH,
    isal_inflate, isal_inflate_init, isal_inflate_reset,
};

/// A streaming gzip decoder over any buffered reader, reading every member to the end.
pub struct GzipDecoder<R> {
    input: R,
    /// ISA-L's state (87 KB: its history window and Huffman tables), boxed once per stream.
    state: Box<inflate_state>,
}

impl<R: BufRead> GzipDecoder<R> {
    /// A decoder reading gzip members from `input` until it ends.
    pub fn new(input: R) -> Self {
        // SAFETY: `inflate_state` is plain C data (integers, arrays, raw pointers) for which all
        // zero bytes is a valid value, and isal_inflate_init fully initialises it for inflate.
        let mut state: Box<inflate_state> = unsafe { Box::new(std::mem::zeroed()) };
        // SAFETY: `state` is a valid, exclusively borrowed inflate_state.
        unsafe { isal_inflate_init(&mut *state) };
        state.crc_flag = ISAL_GZIP;
        Self { input, state }
    }

    fn member_finished(&self) -> bool {
        self.state.block_state == isal_block_state_ISAL_BLOCK_FINISH
    }

    /// Readies the state for the next gzip member.
    fn next_member(&mut self) {
        // SAFETY: the state was initialised by isal_inflate_init.
        unsafe { isal_inflate_reset(&mut *self.state) };
        self.state.crc_flag = ISAL_GZIP;
    }
}

impl<R> std::fmt::Debug for GzipDecoder<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GzipDecoder")
            .field("block_state", &self.state.block_state)
            .field("total_out", &self.state.total_out)
            .finish_non_exhaustive()
    }
}

impl<R: BufRead> Read for GzipDecoder<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            if self.member_finished() {
                // After a whole member, the end of input is the end of the stream.
                if self.input.fill_buf()?.is_empty() {
                    return Ok(0);
                }
                self.next_member();
            }
            let input = self.input.fill_buf()?;
            if input.is_empty() {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "gzip stream ends inside a member"));
            }
            let avail_in = u32::try_from(input.len()).unwrap_or(u32::MAX);
            let avail_out = u32::try_from(out.len()).unwrap_or(u32::MAX);
            let state = &mut *self.state;
            // ISA-L reads `next_in` and writes `next_out` only during the call below.
            state.next_in = input.as_ptr().cast_mut();
            state.avail_in = avail_in;
            state.next_out = out.as_mut_ptr();
            state.avail_out = avail_out;
            // SAFETY: the state is initialised; next_in/avail_in describe the live input slice
            // and next_out/avail_out the live output slice (ISA-L never writes through next_in).
            let ret = unsafe { isal_inflate(state) };
            let consumed = (avail_in - state.avail_in) as usize;
            let produced = (avail_out - state.avail_out) as usize;
            state.next_in = std::ptr::null_mut();
            state.next_out = std::ptr::null_mut();
            self.input.consume(consumed);
            if ret < 0 {
                return Err(io::Error::new(io::ErrorKind::InvalidData, failure(ret)));
            }
            if produced > 0 {
                return Ok(produced);
            }
            if consumed == 0 && !self.member_finished() {
                // Input offered, none taken, nothing written: a state ISA-L cannot leave.
                return Err(io::Error::new(io::ErrorKind::InvalidData, "gzip stream makes no progress"));
            }
        }
    }
}

/// What an ISA-L inflate error code means.
fn failure(code: i32) -> String {
    let what = match code {
        ISAL_INVALID_BLOCK => "invalid deflate block",
        ISAL_INVALID_SYMBOL => "invalid deflate symbol",
        ISAL_INVALID_LOOKBACK => "deflate distance too far back",
        ISAL_INVALID_WRAPPER => "invalid gzip header",
        ISAL_UNSUPPORTED_METHOD => "unsupported gzip compression method",
        ISAL_INCORRECT_CHECKSUM => "gzip CRC-32 or size mismatch",
        _ => "inflate failed",
    };
    format!("corrupt gzip stream: {what} (ISA-L code {code})")
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
        let mut out = Vec::new();
        let mut chunk = [0u8; 7];
        loop {
            let n = d.read(&mut chunk).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&chunk[..n]);
        }
        assert_eq!(out, data);
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

/// ISA-L against flate2 (zlib-rs) on damaged streams: whatever one accepts the other accepts
/// with the same bytes, and whatever one refuses the other refuses. A decoder that took a
/// corrupt layer for a clean one, or hung on it, would show here first.
#[cfg(test)]
mod differential {
    use std::io::{Read, Write};

    use super::GzipDecoder;

    fn ours(data: &[u8]) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        GzipDecoder::new(data).read_to_end(&mut out).map(|_| out).map_err(|e| e.to_string())
    }

    fn flate2(data: &[u8]) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        flate2::bufread::MultiGzDecoder::new(data)
            .read_to_end(&mut out)
            .map(|_| out)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn flipped_bits_and_cuts_are_judged_as_flate2_judges_them() {
        let text: Vec<u8> = (0..20_000u32).flat_map(|i| format!("{i} {}\n", i % 97).into_bytes()).collect();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&text).unwrap();
        let good = gz.finish().unwrap();
        // xorshift64: a fixed sequence of damage, the same on every run.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            usize::try_from(state % (1 << 32)).unwrap()
        };
        let mut differ = Vec::new();
        let mut refused = 0;
        for round in 0..3_000 {
            let mut bad = good.clone();
            if round % 10 == 0 {
                bad.truncate(next() % bad.len());
            } else {
                for _ in 0..next() % 3 + 1 {
                    let at = next() % bad.len();
                    bad[at] ^= 1 << (next() % 8);
                }
            }
            let (a, b) = (ours(&bad), flate2(&bad));
            match (&a, &b) {
                (Ok(x), Ok(y)) if x == y => {}
                (Err(_), Err(_)) => refused += 1,
                _ => differ.push((round, a.map(|v| v.len()), b.map(|v| v.len()))),
            }
        }
        assert!(differ.is_empty(), "ISA-L and flate2 disagree: {differ:?}");
        assert!(refused > 2_000, "the damage was mostly caught: {refused} of 3000 refused");
    }
}
