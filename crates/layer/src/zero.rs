//! Runs of zero bytes: what they may cost, and where they are told apart from content.
//!
//! Real images hold big files of zeros. `useradd -u 2000000000` leaves `/var/log/lastlog` as a
//! sparse file of one 292-byte record per uid, which a tar stores as plain zeros: hundreds of
//! MiB that deflate a thousandfold. Judged like any other output, such a file looks like a
//! decompression bomb and ends the layer, so anything placed after it would never be seen. Zeros
//! carry nothing to match either (no keyword, indicator or wallet has a zero byte).
//!
//! So zero runs are told apart at the granularity of a [`ZERO_BLOCK`] (a page: what sparse
//! files' holes are made of):
//!
//! - **The compression ratio** counts only the bytes of blocks that are not all zero
//!   ([`zero_bytes`] gives what to leave out of each read). The absolute cap on output
//!   (`max_layer_bytes`) and the clock still count every byte, so a layer of zeros ends at the
//!   cap, not never. Exempting whole blocks rather than counting zero bytes one by one keeps a
//!   "sprinkled" stream (one non-zero byte per block) a bomb, as it should be.
//! - **The matchers** never see a file that is all zero, nor the leading and trailing zero
//!   blocks of a window ([`trim`]). A zero run in the middle of a window is still scanned: cutting
//!   a window in two would change what a rule sees together (keywords counted across a file,
//!   context windows), and an author could then separate a miner's keywords by zeros. It costs
//!   time only, within the per-file windows.
//!
//! The hot path is data that is not zero, nearly all of it: every check looks at the first
//! eight bytes of a block and stops there unless they are zero; only then is the whole block
//! compared with a zero page (`memcmp`, vectorised by the C library whatever the build profile).

use std::ops::Range;

/// The unit of a zero run: a 4 KiB page.
pub(crate) const ZERO_BLOCK: usize = 4096;

static ZEROS: [u8; ZERO_BLOCK] = [0; ZERO_BLOCK];

/// Whether every byte of `data` is zero (true for an empty slice).
pub(crate) fn is_zero(data: &[u8]) -> bool {
    // Nearly everything fails on its first word.
    let first = match data.first_chunk::<8>() {
        Some(word) => u64::from_ne_bytes(*word) == 0,
        None => data == &ZEROS[..data.len()],
    };
    first && data.chunks(ZERO_BLOCK).all(|block| block == &ZEROS[..block.len()])
}

/// How many bytes of `chunk` lie in blocks of zeros: the chunk cut into [`ZERO_BLOCK`]s from
/// its start (the last one possibly shorter), each counted when all zero.
pub(crate) fn zero_bytes(chunk: &[u8]) -> usize {
    chunk.chunks(ZERO_BLOCK).filter(|block| is_zero(block)).map(<[u8]>::len).sum()
}

/// The part of `data` left once its leading and trailing zero blocks are cut off; empty when
/// `data` is all zero. Blocks are counted from each end, so at most `ZERO_BLOCK - 1` zeros stay
/// at either edge.
pub(crate) fn trim(data: &[u8]) -> Range<usize> {
    let mut start = 0;
    while let Some(block) = data.get(start..start + ZERO_BLOCK)
        && is_zero(block)
    {
        start += ZERO_BLOCK;
    }
    if data.len() - start < ZERO_BLOCK && is_zero(&data[start..]) {
        return data.len()..data.len();
    }
    let mut end = data.len();
    while end - start >= ZERO_BLOCK && is_zero(&data[end - ZERO_BLOCK..end]) {
        end -= ZERO_BLOCK;
    }
    start..end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_every_byte_zero() {
        assert!(is_zero(b""));
        assert!(is_zero(&[0; 3]));
        assert!(is_zero(&vec![0; 3 * ZERO_BLOCK + 5]));
        assert!(!is_zero(b"\0\0\x01"));
        let mut late = vec![0; 3 * ZERO_BLOCK + 5];
        *late.last_mut().unwrap() = 1;
        assert!(!is_zero(&late), "a non-zero byte after the first block counts");
        late[3 * ZERO_BLOCK + 4] = 0;
        late[ZERO_BLOCK + 9] = 7;
        assert!(!is_zero(&late));
    }

    #[test]
    fn zero_bytes_count_whole_blocks_only() {
        let mut chunk = vec![0u8; 4 * ZERO_BLOCK + 100];
        assert_eq!(zero_bytes(&chunk), chunk.len());
        // One byte spoils its block only.
        chunk[ZERO_BLOCK + 17] = b'x';
        assert_eq!(zero_bytes(&chunk), 3 * ZERO_BLOCK + 100);
        // ... and in the short last block, that block.
        chunk[4 * ZERO_BLOCK + 99] = b'y';
        assert_eq!(zero_bytes(&chunk), 3 * ZERO_BLOCK);
        // A block of one non-zero byte each: nothing is exempt.
        let sprinkled: Vec<u8> = (0..8 * ZERO_BLOCK).map(|i| u8::from(i % ZERO_BLOCK == 5)).collect();
        assert_eq!(zero_bytes(&sprinkled), 0);
        assert_eq!(zero_bytes(b"tar header"), 0);
        assert_eq!(zero_bytes(b""), 0);
    }

    #[test]
    fn trim_cuts_zero_blocks_at_both_ends_only() {
        let b = ZERO_BLOCK;
        assert_eq!(trim(b"hello"), 0..5);
        assert_eq!(trim(&[0; 10]), 10..10);
        assert_eq!(trim(&vec![0; 5 * b + 3]), 5 * b + 3..5 * b + 3);
        // lastlog's shape: zeros, then the last record.
        let mut log = vec![0u8; 10 * b];
        log[10 * b - 292..].fill(b'r');
        assert_eq!(trim(&log), 9 * b..10 * b);
        // Content at the start, then zeros; and a zero run in the middle stays.
        let mut data = vec![0u8; 10 * b];
        data[..10].fill(b'a');
        data[5 * b] = b'm';
        assert_eq!(trim(&data), 0..6 * b);
        // Fewer than a block of zeros at the edges is kept.
        let mut edges = vec![0u8; 3 * b];
        edges[b - 1] = 1;
        edges[2 * b] = 1;
        assert_eq!(trim(&edges), 0..3 * b);
    }
}
