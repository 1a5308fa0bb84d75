//! ISA-L's inflate state behind a safe interface: the only place hubcensus calls into ISA-L.
//!
//! Both readers of this crate (gzip streams and raw DEFLATE zip members) drive the same state
//! one `isal_inflate` call at a time; every `unsafe` block of the crate is here.
//!
//! A state is 87 KB that must be zeroed and initialised, and a layer holds thousands of small
//! gzip files (every `changelog.Debian.gz` and man page is one, each entered by the walker), so
//! a dropped state is kept for the next stream on the same thread instead of freed.

use std::{cell::RefCell, mem::ManuallyDrop};

use isal_sys::igzip_lib::{
    ISAL_INCORRECT_CHECKSUM, ISAL_INVALID_BLOCK, ISAL_INVALID_LOOKBACK, ISAL_INVALID_SYMBOL,
    ISAL_INVALID_WRAPPER, ISAL_UNSUPPORTED_METHOD, inflate_state, isal_block_state_ISAL_BLOCK_FINISH,
    isal_inflate, isal_inflate_init, isal_inflate_reset,
};

/// One inflate stream's state (87 KB: ISA-L's history window and Huffman tables), boxed once
/// and reset between streams, so a zip of thousands of members allocates it once.
pub(crate) struct State(ManuallyDrop<Box<inflate_state>>);

/// States kept per thread for reuse: the walker nests at most a few decoders at once (a gzip
/// layer, a `.tar.gz` inside it, a `.gz` inside that), so a few cover every depth.
const SPARES: usize = 4;

thread_local! {
    static SPARE: RefCell<Vec<Box<inflate_state>>> = const { RefCell::new(Vec::new()) };
}

impl State {
    /// A state ready for a stream of `wrapper` (`ISAL_GZIP`, `ISAL_DEFLATE`, ...): one this
    /// thread dropped before, reset, or a new one.
    pub(crate) fn new(wrapper: u32) -> Self {
        let spare = SPARE.with(|s| s.borrow_mut().pop());
        let mut state = Self(ManuallyDrop::new(spare.unwrap_or_else(Self::fresh)));
        state.reset(wrapper);
        state
    }

    fn fresh() -> Box<inflate_state> {
        // SAFETY: `inflate_state` is plain C data (integers, arrays, raw pointers) for which all
        // zero bytes is a valid value, and isal_inflate_init fully initialises it for inflate.
        let mut state: Box<inflate_state> = unsafe { Box::new_zeroed().assume_init() };
        // SAFETY: `state` is a valid, exclusively borrowed inflate_state.
        unsafe { isal_inflate_init(&mut *state) };
        state
    }

    fn get(&self) -> &inflate_state {
        &self.0
    }

    fn get_mut(&mut self) -> &mut inflate_state {
        &mut self.0
    }

    /// Readies the state for a new stream of `wrapper`.
    pub(crate) fn reset(&mut self, wrapper: u32) {
        let state = self.get_mut();
        // SAFETY: the state was initialised by isal_inflate_init in `fresh`.
        unsafe { isal_inflate_reset(state) };
        state.crc_flag = wrapper;
    }

    /// Whether the stream (for gzip: the current member, trailer included) has ended.
    pub(crate) fn finished(&self) -> bool {
        self.get().block_state == isal_block_state_ISAL_BLOCK_FINISH
    }

    /// Bytes written so far in this stream (for `Debug`).
    pub(crate) fn total_out(&self) -> u32 {
        self.get().total_out
    }

    /// One `isal_inflate` call from `input` into `out`: `(left, produced)`, or ISA-L's error
    /// code. It returns when the input is used up, the output is full or the stream ends.
    ///
    /// `left` is how many input bytes ISA-L did not take, counted back from the end of
    /// `input`. ISA-L gives back the whole bytes left in its bit buffer, so `left` can exceed
    /// `input.len()` (the fuzzer found it on a call that failed on a corrupt stream); callers
    /// check it rather than subtract blindly.
    pub(crate) fn inflate(&mut self, input: &[u8], out: &mut [u8]) -> Result<(usize, usize), i32> {
        let avail_in = u32::try_from(input.len()).unwrap_or(u32::MAX);
        let avail_out = u32::try_from(out.len()).unwrap_or(u32::MAX);
        let state = self.get_mut();
        // ISA-L reads `next_in` and writes `next_out` only during the call below.
        state.next_in = input.as_ptr().cast_mut();
        state.avail_in = avail_in;
        state.next_out = out.as_mut_ptr();
        state.avail_out = avail_out;
        // SAFETY: the state is initialised; next_in/avail_in describe the live input slice
        // and next_out/avail_out the live output slice (ISA-L never writes through next_in).
        let ret = unsafe { isal_inflate(state) };
        let left = state.avail_in as usize;
        let produced = avail_out.saturating_sub(state.avail_out) as usize;
        state.next_in = std::ptr::null_mut();
        state.next_out = std::ptr::null_mut();
        if ret < 0 { Err(ret) } else { Ok((left, produced)) }
    }
}

impl Drop for State {
    fn drop(&mut self) {
        // SAFETY: `drop` runs once and nothing touches the field after it.
        let state = unsafe { ManuallyDrop::take(&mut self.0) };
        // During thread teardown the spares may already be gone: then the box is freed here.
        let _ = SPARE.try_with(|s| {
            let mut spares = s.borrow_mut();
            if spares.len() < SPARES {
                spares.push(state);
            }
        });
    }
}

/// What an ISA-L inflate error code means, for a stream of kind `stream` ("gzip", "deflate").
pub(crate) fn failure(stream: &str, code: i32) -> String {
    let what = match code {
        ISAL_INVALID_BLOCK => "invalid deflate block",
        ISAL_INVALID_SYMBOL => "invalid deflate symbol",
        ISAL_INVALID_LOOKBACK => "deflate distance too far back",
        ISAL_INVALID_WRAPPER => "invalid gzip header",
        ISAL_UNSUPPORTED_METHOD => "unsupported gzip compression method",
        ISAL_INCORRECT_CHECKSUM => "gzip CRC-32 or size mismatch",
        _ => "inflate failed",
    };
    format!("corrupt {stream} stream: {what} (ISA-L code {code})")
}

/// ISA-L gave back more input than a reader can return to it: never seen on a call that
/// succeeded, but not trusted.
pub(crate) fn gave_back_too_much() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, "inflate gave back more input than it was given")
}
