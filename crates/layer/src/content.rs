//! Reading one file's content into the walker's reusable buffer.
//!
//! Files up to the budget are read whole. Larger ones are read as a head and a tail of half the
//! budget each: the middle still has to pass through the decompressor (a tar stream cannot be
//! skipped), but it lands in the tail half of the same buffer and is overwritten, so memory stays
//! one buffer whatever the file size. Scanning both ends catches what matters in practice:
//! headers, ELF string tables of most binaries, appended payloads and trailing configuration.

use std::io::{self, Read};

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

    #[test]
    fn short_files_are_unexpected_eof() {
        let mut buf = Vec::new();
        let err = read_window(&mut &b"abc"[..], &mut buf, 10, 64).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        let err = read_window(&mut &[0u8; 150][..], &mut buf, 1000, 100).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }
}
