//! Reading one file's content into the walker's reusable buffer.
//!
//! Files up to the budget are read whole. Larger ones are read as a head and a tail of half the
//! budget each: the middle still has to pass through the decompressor (a tar stream cannot be
//! skipped), but it lands in the tail half of the same buffer and is overwritten, so memory stays
//! one buffer whatever the file size. Scanning both ends catches what matters in practice:
//! headers, ELF string tables of most binaries, appended payloads and trailing configuration.

use std::io::{self, Read};

use crate::decode::read_up_to;

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
) -> io::Result<Window> {
    if let Ok(n) = usize::try_from(size)
        && n <= budget
    {
        ensure(buf, n);
        reader.read_exact(&mut buf[..n])?;
        return Ok(Window::Whole(n));
    }
    let head = budget / 2;
    let tail = budget - head;
    ensure(buf, budget);
    reader.read_exact(&mut buf[..head])?;
    // size > budget = head + tail here, so this cannot underflow.
    let mut middle = size - budget as u64;
    while middle > 0 {
        let chunk = usize::try_from(middle).unwrap_or(usize::MAX).min(tail);
        reader.read_exact(&mut buf[head..head + chunk])?;
        middle -= chunk as u64;
    }
    reader.read_exact(&mut buf[head..head + tail])?;
    Ok(Window::Split { head, tail })
}

/// First buffer size for a stream of unknown length.
const STREAM_START: usize = 64 * 1024;

/// Reads a stream whose length is not known beforehand (a compressed file's content) into
/// `buf`, whole when it fits `budget` bytes, else as head and tail like [`read_window`]: the
/// tail half is a ring that the rest of the stream cycles through, put back in order at the
/// end. Gives the window and the stream's length.
pub(crate) fn read_stream_window(
    reader: &mut dyn Read,
    buf: &mut Vec<u8>,
    budget: usize,
) -> io::Result<(Window, u64)> {
    // Grown as the stream proves longer (doubling), so a small file never costs the budget.
    let mut n = 0;
    while n < budget {
        if n == buf.len() {
            ensure(buf, n.saturating_mul(2).max(STREAM_START).min(budget));
        }
        let end = buf.len().min(budget);
        n += read_up_to(reader, &mut buf[n..end])?;
        if n < end {
            return Ok((Window::Whole(n), n as u64));
        }
    }
    let head = budget / 2;
    let ring = &mut buf[head..budget];
    let (mut pos, mut total) = (0, budget as u64);
    while !ring.is_empty() {
        let want = ring.len() - pos;
        let got = read_up_to(reader, &mut ring[pos..])?;
        total += got as u64;
        pos = (pos + got) % ring.len();
        if got < want {
            break;
        }
    }
    if total == budget as u64 {
        return Ok((Window::Whole(budget), total));
    }
    // The oldest byte of the ring is at `pos`.
    ring.rotate_left(pos);
    Ok((Window::Split { head, tail: ring.len() }, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_files_are_read_whole() {
        let mut buf = Vec::new();
        let w = read_window(&mut &b"hello world"[..], &mut buf, 11, 64).unwrap();
        assert_eq!(w, Window::Whole(11));
        assert_eq!(w.slices(&buf), (&b"hello world"[..], &b""[..]));
    }

    #[test]
    fn big_files_keep_head_and_tail_in_one_buffer() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        let mut buf = Vec::new();
        let w = read_window(&mut &data[..], &mut buf, 1000, 100).unwrap();
        assert_eq!(w, Window::Split { head: 50, tail: 50 });
        let (head, tail) = w.slices(&buf);
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
            let (w, total) = read_stream_window(&mut Chunked(&data[..len], chunk), &mut buf, budget).unwrap();
            assert_eq!(total, len as u64, "{len} bytes, budget {budget}, reads of {chunk}");
            let (head, tail) = w.slices(&buf);
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
    fn short_files_are_unexpected_eof() {
        let mut buf = Vec::new();
        let err = read_window(&mut &b"abc"[..], &mut buf, 10, 64).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        let err = read_window(&mut &[0u8; 150][..], &mut buf, 1000, 100).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }
}
