//! A forward-only stream the tar reader may "seek" on.
//!
//! Given a plain `Read`, the tar crate skips each entry's padding (and any body left unread)
//! by reading into a fresh, zeroed 32 KiB stack buffer: 32 KiB of `memset` per entry, which on
//! a layer of small files cost more than reading the files. Given a `Read + Seek`, it seeks
//! forward instead; [`Forward`] answers that by reading the bytes into one reused buffer. The
//! bytes still pass through the decompressor and the budget: nothing is skipped unread.

use std::io::{self, Read, Seek, SeekFrom};

/// Skips read through this much at a time.
const SCRATCH: usize = 32 * 1024;

/// Wraps a stream; its position counts the bytes read or skipped since it was wrapped.
pub(crate) struct Forward<'r> {
    inner: &'r mut dyn Read,
    pos: u64,
    scratch: Vec<u8>,
}

impl<'r> Forward<'r> {
    pub(crate) fn new(inner: &'r mut dyn Read) -> Self {
        Self { inner, pos: 0, scratch: Vec::new() }
    }
}

impl Read for Forward<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Forward<'_> {
    /// Only `SeekFrom::Current` with a non-negative offset: what the tar reader asks for.
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let backwards = || io::Error::new(io::ErrorKind::Unsupported, "a layer stream only moves forward");
        let SeekFrom::Current(ahead) = to else { return Err(backwards()) };
        let mut left = u64::try_from(ahead).map_err(|_| backwards())?;
        if left > 0 && self.scratch.is_empty() {
            self.scratch = vec![0; SCRATCH];
        }
        while left > 0 {
            let want = usize::try_from(left).unwrap_or(SCRATCH).min(SCRATCH);
            let n = self.inner.read(&mut self.scratch[..want])?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "stream ends inside a skipped region",
                ));
            }
            self.pos += n as u64;
            left -= n as u64;
        }
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeks_forward_by_reading_and_keeps_the_position() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let mut src = &data[..];
        let mut f = Forward::new(&mut src);
        let mut head = [0u8; 10];
        f.read_exact(&mut head).unwrap();
        assert_eq!(f.seek(SeekFrom::Current(70_000)).unwrap(), 70_010);
        let mut next = [0u8; 3];
        f.read_exact(&mut next).unwrap();
        assert_eq!(next, data[70_010..70_013]);
        assert_eq!(f.stream_position().unwrap(), 70_013);
        assert_eq!(f.seek(SeekFrom::Current(-1)).unwrap_err().kind(), io::ErrorKind::Unsupported);
        assert_eq!(f.seek(SeekFrom::Start(0)).unwrap_err().kind(), io::ErrorKind::Unsupported);
        assert_eq!(f.seek(SeekFrom::Current(1 << 20)).unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
    }
}
