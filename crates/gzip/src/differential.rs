//! Test support. Mainly ISA-L against flate2 (zlib-rs) on damaged streams. Whatever one decoder
//! accepts the other must accept with the same bytes, and whatever one refuses the other must
//! refuse. A decoder that took a corrupt stream for a clean one, or hung on it, shows here first.

/// A decoder under comparison: the whole output, or why it refused.
pub(crate) type Decode<'a> = &'a mut dyn FnMut(&[u8]) -> Result<Vec<u8>, String>;

/// One decoder's judgement of a stream: its output length, or its error.
pub(crate) type Outcome = Result<usize, String>;

/// What [`compare`] found: the rounds where the decoders disagreed (with each one's output
/// length or error), and how many damaged streams both refused.
pub(crate) struct Verdict {
    pub(crate) differ: Vec<(usize, Outcome, Outcome)>,
    pub(crate) refused: usize,
}

/// Damages `rounds` copies of `good` (every tenth cut short, the others with 1–3 flipped bits
/// at fixed pseudo-random places) and runs each through both decoders.
pub(crate) fn compare(good: &[u8], rounds: usize, ours: Decode<'_>, theirs: Decode<'_>) -> Verdict {
    // xorshift64: a fixed sequence of damage, the same on every run.
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        usize::try_from(state % (1 << 32)).unwrap_or_default()
    };
    let mut verdict = Verdict { differ: Vec::new(), refused: 0 };
    for round in 0..rounds {
        let mut bad = good.to_vec();
        if round % 10 == 0 {
            bad.truncate(next() % bad.len());
        } else {
            for _ in 0..next() % 3 + 1 {
                let at = next() % bad.len();
                bad[at] ^= 1 << (next() % 8);
            }
        }
        let (a, b) = (ours(&bad), theirs(&bad));
        match (&a, &b) {
            (Ok(x), Ok(y)) if x == y => {}
            (Err(_), Err(_)) => verdict.refused += 1,
            _ => verdict.differ.push((round, a.map(|v| v.len()), b.map(|v| v.len()))),
        }
    }
    verdict
}

/// A decoder's whole output, or its error as text: the form [`compare`] judges.
pub(crate) fn read_all(mut reader: impl std::io::Read) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    reader.read_to_end(&mut out).map(|_| out).map_err(|e| e.to_string())
}

/// Reads `reader` to its end through reads of at most `chunk` bytes, as a caller with a small
/// buffer would: every point where a decoder must stop and resume gets exercised.
pub(crate) fn read_in_chunks(reader: &mut dyn std::io::Read, chunk: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; chunk];
    loop {
        let n =
            reader.read(&mut buf).unwrap_or_else(|e| panic!("read failed after {} bytes: {e}", out.len()));
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}
