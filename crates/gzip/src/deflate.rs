//! Raw DEFLATE streams (RFC 1951, no wrapper): the members of zip, jar, whl and apk files.
//!
//! A Java or Python image holds thousands of small deflated members per layer, so the cost per
//! member matters as much as the speed per byte: one [`Inflater`] keeps its ISA-L state across
//! members (a reset, not an 87 KB allocation, per member), and each member is read from the
//! archive's bytes already in memory. Its state comes from, and goes back to, the thread's spares
//! (`state.rs`).
//!
//! A zip member's CRC-32 is not checked here: it guards against accidental damage, not against
//! the author of the archive, and `unzip` still extracts a member whose CRC is wrong, so a
//! scanner must still look at its bytes.

use std::io::{self, Read};

use isal_sys::igzip_lib::ISAL_DEFLATE;

use crate::state::{State, failure, gave_back_too_much};

/// Inflates raw DEFLATE streams one after another through one reusable ISA-L state.
pub struct Inflater {
    state: State,
}

impl Inflater {
    /// An inflater; its state is taken once, here.
    pub fn new() -> Self {
        Self { state: State::new(ISAL_DEFLATE) }
    }

    /// A reader of the stream in `input` (the whole compressed stream, nothing after it
    /// matters). It ends where the stream's final block ends; input that ends first is
    /// `UnexpectedEof`, and a corrupt stream is `InvalidData`.
    pub fn stream<'a>(&'a mut self, input: &'a [u8]) -> DeflateReader<'a> {
        self.state.reset(ISAL_DEFLATE);
        DeflateReader { state: &mut self.state, input, pos: 0 }
    }
}

impl Default for Inflater {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inflater").finish_non_exhaustive()
    }
}

/// One raw DEFLATE stream being read (see [`Inflater::stream`]).
pub struct DeflateReader<'a> {
    state: &'a mut State,
    /// The whole stream; ISA-L has taken `input[..pos]`.
    input: &'a [u8],
    pos: usize,
}

impl std::fmt::Debug for DeflateReader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeflateReader")
            .field("finished", &self.state.finished())
            .field("total_out", &self.state.total_out())
            .field("input_left", &(self.input.len() - self.pos))
            .finish()
    }
}

impl Read for DeflateReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            if self.state.finished() {
                return Ok(0);
            }
            // Called even with no input left: ISA-L may still hold decoded bytes that did not
            // fit the previous output buffer.
            let (left, produced) = self
                .state
                .inflate(&self.input[self.pos..], out)
                .map_err(|code| io::Error::new(io::ErrorKind::InvalidData, failure("deflate", code)))?;
            // ISA-L may give back bytes taken in earlier calls: they are in `input` too.
            let pos = self.input.len().checked_sub(left).ok_or_else(gave_back_too_much)?;
            let moved = pos != self.pos;
            self.pos = pos;
            if produced > 0 {
                return Ok(produced);
            }
            if !moved && !self.state.finished() {
                return Err(if self.pos == self.input.len() {
                    io::Error::new(io::ErrorKind::UnexpectedEof, "deflate stream ends before its final block")
                } else {
                    // Input offered, none taken, nothing written: a state ISA-L cannot leave.
                    io::Error::new(io::ErrorKind::InvalidData, "deflate stream makes no progress")
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn deflate(data: &[u8]) -> Vec<u8> {
        let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(data).unwrap();
        z.finish().unwrap()
    }

    fn inflate(inflater: &mut Inflater, data: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        inflater.stream(data).read_to_end(&mut out)?;
        Ok(out)
    }

    fn sample(seed: u32) -> Vec<u8> {
        (0..30_000u32).flat_map(|i| format!("entry {i} value {}\n", (i ^ seed) % 977).into_bytes()).collect()
    }

    #[test]
    fn one_inflater_reads_many_streams_even_after_a_bad_one() {
        let mut inflater = Inflater::new();
        for seed in 0..5 {
            let data = sample(seed);
            assert_eq!(inflate(&mut inflater, &deflate(&data)).unwrap(), data);
            // A corrupt stream in between leaves the next one unharmed.
            assert!(inflate(&mut inflater, &[0xff; 64]).is_err());
        }
        assert_eq!(inflate(&mut inflater, &deflate(b"")).unwrap(), b"");
    }

    #[test]
    fn tiny_output_buffers_drain_everything_at_the_end_of_input() {
        let data = sample(9);
        let packed = deflate(&data);
        let mut inflater = Inflater::new();
        let mut reader = inflater.stream(&packed);
        assert_eq!(crate::differential::read_in_chunks(&mut reader, 5), data);
    }

    #[test]
    fn a_cut_stream_is_unexpected_eof_and_trailing_bytes_are_ignored() {
        let packed = deflate(&sample(3));
        let mut inflater = Inflater::new();
        for cut in [0, 1, packed.len() / 2, packed.len() - 1] {
            let err = inflate(&mut inflater, &packed[..cut]).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof, "cut at {cut}: {err}");
        }
        // In a zip the next local header follows the data; it is not part of the stream.
        let mut followed = packed.clone();
        followed.extend_from_slice(b"PK\x03\x04 next member");
        assert_eq!(inflate(&mut inflater, &followed).unwrap(), sample(3));
    }

    /// ISA-L against flate2 on damaged raw streams (see `crate::differential`).
    #[test]
    fn flipped_bits_and_cuts_are_judged_as_flate2_judges_them() {
        let good = deflate(&sample(1));
        let mut inflater = Inflater::new();
        let verdict = crate::differential::compare(
            &good,
            2_000,
            &mut |data| crate::differential::read_all(inflater.stream(data)),
            &mut |data| crate::differential::read_all(flate2::bufread::DeflateDecoder::new(data)),
        );
        assert!(verdict.differ.is_empty(), "ISA-L and flate2 disagree: {:?}", verdict.differ);
        // Without a checksum most flipped literal bits still decode (to the same wrong bytes in
        // both); the refusals are the structural damage.
        let refused = verdict.refused;
        assert!(refused > 200, "structural damage was refused: {refused} of 2000");
    }
}
