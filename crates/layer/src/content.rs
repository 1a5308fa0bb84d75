//! Reading one file's content into the walker's reusable buffer.
//!
//! Files up to the budget are read whole. Larger ones are read as a head and a tail of half the
//! budget each: the middle still has to pass through the decompressor (a tar stream cannot be
//! skipped), but it lands in the tail half of the same buffer and is overwritten, so memory stays
//! one buffer whatever the file size. Scanning both ends catches what matters in practice:
//! headers, ELF string tables of most binaries, appended payloads and trailing configuration.
//!
//! While a file is read, whether it is all zero is followed along (the middle of a big file
//! leaves the buffer, so it cannot be asked afterwards). That costs one look at the first word
//! of a file that is not zero, the walker's whole traffic in practice.

use std::io::{self, Read};

use crate::{decode::read_up_to, zero};

/// Which parts of a file are in the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Window {
    /// The whole file: `buf[..len]`.
    Whole(usize),
    /// The first `head` bytes in `buf[..head]` and the last `tail` in `buf[head..head + tail]`.
    Split { head: usize, tail: usize },
}

impl Window {
    /// The slices to scan, in file order.
    pub(crate) fn slices(self, buf: &[u8]) -> (&[u8], &[u8]) {
        match self {
            Window::Whole(n) => (&buf[..n], &[]),
            Window::Split { head, tail } => (&buf[..head], &buf[head..head + tail]),
        }
    }

    /// The first bytes of the file (for sniffing its kind).
    pub(crate) fn head(self, buf: &[u8]) -> &[u8] {
        self.slices(buf).0
    }
}

/// What was read of one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileRead {
    /// Which parts of it are in the buffer.
    pub(crate) window: Window,
    /// Its length.
    pub(crate) size: u64,
    /// Whether every byte of it was zero, the middle of a big one included.
    pub(crate) zero: bool,
}

/// Follows whether everything read so far was zero; stops looking at the first non-zero byte.
#[derive(Debug, Clone, Copy)]
struct ZeroSoFar(bool);

impl ZeroSoFar {
    fn see(&mut self, data: &[u8]) {
        self.0 = self.0 && zero::is_zero(data);
    }
}

/// Grows `buf` to at least `n` bytes. It never shrinks, so a walker allocates each buffer at
/// most once per size high-water mark instead of once per file.
fn ensure(buf: &mut Vec<u8>, n: usize) {
    if buf.len() < n {
        buf.resize(n, 0);
    }
}

/// Reads a file of `size` bytes from `reader` into `buf`, whole or as head and tail of `budget`
/// bytes. A reader that ends before `size` bytes gives `UnexpectedEof`.
pub(crate) fn read_window(
    reader: &mut dyn Read,
    buf: &mut Vec<u8>,
    size: u64,
    budget: usize,
) -> io::Result<FileRead> {
    let mut zero = ZeroSoFar(true);
    if let Ok(n) = usize::try_from(size)
        && n <= budget
    {
        ensure(buf, n);
        reader.read_exact(&mut buf[..n])?;
        zero.see(&buf[..n]);
        return Ok(FileRead { window: Window::Whole(n), size, zero: zero.0 });
    }
    let head = budget / 2;
    let tail = budget - head;
    ensure(buf, budget);
    reader.read_exact(&mut buf[..head])?;
    zero.see(&buf[..head]);
    // size > budget = head + tail here, so this cannot underflow.
    let mut middle = size - budget as u64;
    while middle > 0 {
        let chunk = usize::try_from(middle).unwrap_or(usize::MAX).min(tail);
        reader.read_exact(&mut buf[head..head + chunk])?;
        zero.see(&buf[head..head + chunk]);
        middle -= chunk as u64;
    }
    reader.read_exact(&mut buf[head..head + tail])?;
    zero.see(&buf[head..head + tail]);
    Ok(FileRead { window: Window::Split { head, tail }, size, zero: zero.0 })
}

/// First buffer size for a stream of unknown length.
const STREAM_START: usize = 64 * 1024;

/// Reads a stream whose length is not known beforehand (a compressed file's content) into
/// `buf`, whole when it fits `budget` bytes, else as head and tail like [`read_window`]: the
/// tail half is a ring that the rest of the stream cycles through, put back in order at the
/// end.
pub(crate) fn read_stream_window(
    reader: &mut dyn Read,
    buf: &mut Vec<u8>,
    budget: usize,
) -> io::Result<FileRead> {
    let mut zero = ZeroSoFar(true);
    // Grown as the stream proves longer (doubling), so a small file never costs the budget.
    let mut n = 0;
    while n < budget {
        if n == buf.len() {
            ensure(buf, n.saturating_mul(2).max(STREAM_START).min(budget));
        }
        let end = buf.len().min(budget);
        let got = read_up_to(reader, &mut buf[n..end])?;
        zero.see(&buf[n..n + got]);
        n += got;
        if n < end {
            return Ok(FileRead { window: Window::Whole(n), size: n as u64, zero: zero.0 });
        }
    }
    let head = budget / 2;
    let ring = &mut buf[head..budget];
    let (mut pos, mut total) = (0, budget as u64);
    while !ring.is_empty() {
        let want = ring.len() - pos;
        let got = read_up_to(reader, &mut ring[pos..])?;
        zero.see(&ring[pos..pos + got]);
        total += got as u64;
        pos = (pos + got) % ring.len();
        if got < want {
            break;
        }
    }
    if total == budget as u64 {
        return Ok(FileRead { window: Window::Whole(budget), size: total, zero: zero.0 });
    }
    // The oldest byte of the ring is at `pos`.
    ring.rotate_left(pos);
    Ok(FileRead { window: Window::Split { head, tail: ring.len() }, size: total, zero: zero.0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_files_are_read_whole() {
        let mut buf = Vec::new();
        let r = read_window(&mut &b"hello world"[..], &mut buf, 11, 64).unwrap();
        assert_eq!(r, FileRead { window: Window::Whole(11), size: 11, zero: false });
        assert_eq!(r.window.slices(&buf), (&b"hello world"[..], &b""[..]));
    }

    #[test]
    fn big_files_keep_head_and_tail_in_one_buffer() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        let mut buf = Vec::new();
        let r = read_window(&mut &data[..], &mut buf, 1000, 100).unwrap();
        assert_eq!(r.window, Window::Split { head: 50, tail: 50 });
        let (head, tail) = r.window.slices(&buf);
        assert_eq!(head, &data[..50]);
        assert_eq!(tail, &data[950..]);
        assert_eq!(buf.len(), 100, "the buffer never grows past the budget");
    }

    /// Gives at most `chunk` bytes per read, so the ring wraps mid-read.
    struct Chunked<'a>(&'a [u8], usize);

    impl Read for Chunked<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = out.len().min(self.1).min(self.0.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn streams_of_unknown_length_keep_head_and_tail_in_order() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        for (len, budget, chunk) in [
            (0, 100, 7),
            (99, 100, 7),
            (100, 100, 7),
            (101, 100, 7),
            (1000, 100, 7),
            (1000, 100, 50),
            (1000, 100, 1000),
            (9999, 64, 13),
            (10_000, 1000, 333),
        ] {
            let mut buf = Vec::new();
            let r = read_stream_window(&mut Chunked(&data[..len], chunk), &mut buf, budget).unwrap();
            assert_eq!(r.size, len as u64, "{len} bytes, budget {budget}, reads of {chunk}");
            assert_eq!(r.zero, len <= 1, "only the first byte of the data is zero");
            let (head, tail) = r.window.slices(&buf);
            if len <= budget {
                assert_eq!((head, tail), (&data[..len], &b""[..]), "{len} bytes whole");
            } else {
                let (h, t) = (budget / 2, budget - budget / 2);
                assert_eq!(head, &data[..h], "{len} bytes, budget {budget}: head");
                assert_eq!(tail, &data[len - t..len], "{len} bytes, budget {budget}, reads of {chunk}: tail");
            }
            assert!(buf.len() <= budget.max(STREAM_START), "the buffer grows only as needed");
        }
    }

    #[test]
    fn a_file_is_zero_only_when_its_middle_is_too() {
        let budget = 2 * zero::ZERO_BLOCK;
        let len = 20 * zero::ZERO_BLOCK + 3;
        let zeros = vec![0u8; len];
        let mut middle = zeros.clone();
        // Neither in the head nor in the tail window.
        middle[len / 2] = b'x';
        let mut buf = Vec::new();
        for chunk in [7, 4096, len] {
            let r = read_window(&mut Chunked(&zeros, chunk), &mut buf, len as u64, budget).unwrap();
            assert!(r.zero && matches!(r.window, Window::Split { .. }), "{r:?}");
            let r = read_stream_window(&mut Chunked(&zeros, chunk), &mut buf, budget).unwrap();
            assert!(r.zero && r.size == len as u64, "{r:?}");
            let r = read_window(&mut Chunked(&middle, chunk), &mut buf, len as u64, budget).unwrap();
            assert!(!r.zero, "reads of {chunk}");
            let r = read_stream_window(&mut Chunked(&middle, chunk), &mut buf, budget).unwrap();
            assert!(!r.zero, "reads of {chunk}");
        }
        let r = read_window(&mut &zeros[..100], &mut buf, 100, budget).unwrap();
        assert!(r.zero && r.window == Window::Whole(100));
        let r = read_window(&mut &b""[..], &mut buf, 0, budget).unwrap();
        assert!(r.zero, "an empty file has no non-zero byte");
    }

    #[test]
    fn short_files_are_unexpected_eof() {
        let mut buf = Vec::new();
        let err = read_window(&mut &b"abc"[..], &mut buf, 10, 64).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        let err = read_window(&mut &[0u8; 150][..], &mut buf, 1000, 100).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }
}
