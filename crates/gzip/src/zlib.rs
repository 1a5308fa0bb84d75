//! The pure-Rust build: zlib-rs through flate2, for a machine without ISA-L (`cargo build` and
//! `cargo install` need nothing but Rust). Same types and the same contract as the ISA-L build
//! — every gzip member read, CRC-32 and size verified, a cut stream `UnexpectedEof`, a corrupt
//! one `InvalidData` — at zlib's speed (docs/decisions/0002-gzip-backend.md).

use std::io::{self, BufRead, Read};

use flate2::{Decompress, FlushDecompress, Status, bufread::MultiGzDecoder};

/// A streaming gzip decoder over any buffered reader, reading every member to the end.
#[derive(Debug)]
pub struct GzipDecoder<R> {
    inner: MultiGzDecoder<R>,
}

impl<R: BufRead> GzipDecoder<R> {
    /// A decoder reading gzip members from `input` until it ends.
    pub fn new(input: R) -> Self {
        Self { inner: MultiGzDecoder::new(input) }
    }
}

impl<R: BufRead> Read for GzipDecoder<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        // flate2 calls a corrupt deflate body `InvalidInput`; the walker's contract (and ISA-L's
        // build) says `InvalidData`: the bytes are wrong, not the call.
        self.inner.read(out).map_err(|e| match e.kind() {
            io::ErrorKind::InvalidInput => io::Error::new(io::ErrorKind::InvalidData, e),
            _ => e,
        })
    }
}

/// Inflates raw DEFLATE streams one after another through one reusable zlib-rs state.
#[derive(Debug)]
pub struct Inflater {
    state: Decompress,
}

impl Inflater {
    /// An inflater; its state is allocated once, here.
    pub fn new() -> Self {
        Self { state: Decompress::new(false) }
    }

    /// A reader of the stream in `input` (the whole compressed stream, nothing after it
    /// matters). It ends where the stream's final block ends; input that ends first is
    /// `UnexpectedEof`, and a corrupt stream is `InvalidData`.
    pub fn stream<'a>(&'a mut self, input: &'a [u8]) -> DeflateReader<'a> {
        self.state.reset(false);
        DeflateReader { state: &mut self.state, input, finished: false }
    }
}

impl Default for Inflater {
    fn default() -> Self {
        Self::new()
    }
}

/// One raw DEFLATE stream being read (see [`Inflater::stream`]).
#[derive(Debug)]
pub struct DeflateReader<'a> {
    state: &'a mut Decompress,
    /// What zlib-rs has not taken yet.
    input: &'a [u8],
    finished: bool,
}

impl Read for DeflateReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() || self.finished {
            return Ok(0);
        }
        loop {
            let (before_in, before_out) = (self.state.total_in(), self.state.total_out());
            let status = self
                .state
                .decompress(self.input, out, FlushDecompress::None)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            let taken = usize::try_from(self.state.total_in() - before_in).unwrap_or(usize::MAX);
            let produced = usize::try_from(self.state.total_out() - before_out).unwrap_or(usize::MAX);
            self.input = self.input.get(taken..).unwrap_or_default();
            match status {
                Status::StreamEnd => self.finished = true,
                // Nothing came out and nothing more will go in: the stream was cut.
                Status::Ok | Status::BufError if produced == 0 && (self.input.is_empty() || taken == 0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the DEFLATE stream ends early",
                    ));
                }
                // Headers taken, no output yet: go on with the input left.
                Status::Ok | Status::BufError if produced == 0 => continue,
                Status::Ok | Status::BufError => {}
            }
            return Ok(produced);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use flate2::{Compression, write::DeflateEncoder, write::GzEncoder};

    use super::*;

    fn text(n: usize) -> Vec<u8> {
        (0..n).map(|i| b"the quick brown fox "[i % 20].wrapping_add((i / 997) as u8)).collect()
    }

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn gunzip(data: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        GzipDecoder::new(data).read_to_end(&mut out).map(|_| out)
    }

    #[test]
    fn gzip_members_are_all_read_and_verified() {
        let mut packed = gz(b"first ");
        packed.extend(gz(&text(50_000)));
        let mut want = b"first ".to_vec();
        want.extend(text(50_000));
        assert_eq!(gunzip(&packed).unwrap(), want);
        let n = packed.len();
        assert_eq!(gunzip(&packed[..n / 2]).unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
        packed[n - 6] ^= 1; // the last member's CRC-32
        assert_eq!(gunzip(&packed).unwrap_err().kind(), io::ErrorKind::InvalidData);
        let mut body = gz(&text(50_000));
        body[20..60].fill(0xff);
        assert_eq!(gunzip(&body).unwrap_err().kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn one_inflater_reads_streams_and_knows_a_cut_one() {
        let data = text(70_000);
        let mut e = DeflateEncoder::new(Vec::new(), Compression::default());
        e.write_all(&data).unwrap();
        let mut raw = e.finish().unwrap();
        let mut inflater = Inflater::new();
        let mut out = Vec::new();
        let cut = inflater.stream(&raw[..raw.len() / 2]).read_to_end(&mut out).unwrap_err();
        assert_eq!(cut.kind(), io::ErrorKind::UnexpectedEof);
        raw.extend(b"trailing bytes of the archive");
        for _ in 0..2 {
            out.clear();
            let mut reader = inflater.stream(&raw);
            let mut chunk = [0u8; 7];
            loop {
                let n = reader.read(&mut chunk).unwrap();
                if n == 0 {
                    break;
                }
                out.extend(&chunk[..n]);
            }
            assert_eq!(out, data);
        }
        let garbage = inflater.stream(&[0xff; 64]).read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(garbage.kind(), io::ErrorKind::InvalidData);
    }
}
