//! A tiny keyed pseudo-random generator.
//!
//! Every generated thing in the population is a pure function of `(seed, domain, index)`: a
//! repository's metadata, a tag's push date, a layer's bytes. Keying a fresh splitmix64 stream by
//! those three values (instead of drawing from one global stream) is what makes the population
//! lazy — repository 212,345 can be produced without producing the 212,344 before it — and stable
//! when unrelated code changes how many numbers some other item draws.

/// A splitmix64 stream keyed by `(seed, domain, index)`.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    state: u64,
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// FNV-1a over a domain label, so call sites can name their stream.
fn label(domain: &str) -> u64 {
    domain.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

impl Rng {
    /// A stream for item `index` of kind `domain` in the population seeded by `seed`.
    pub(crate) fn new(seed: u64, domain: &str, index: u64) -> Self {
        let state = mix(seed ^ mix(label(domain) ^ mix(index.wrapping_add(0x9e37_79b9_7f4a_7c15))));
        Self { state }
    }

    /// A child stream, for a sub-item of the item this stream describes.
    pub(crate) fn fork(&self, domain: &str, index: u64) -> Self {
        Self::new(self.state, domain, index)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.state)
    }

    /// Uniform in `0..n` (`n > 0`; 0 yields 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }

    /// A float in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub(crate) fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }

    pub(crate) fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        self.fill(&mut out);
        out
    }

    pub(crate) fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }

    /// `n` characters drawn from `alphabet`.
    pub(crate) fn string(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n).map(|_| char::from(*self.pick(alphabet))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_keyed_and_reproducible() {
        let a: Vec<u64> = (0..4).map(|_| Rng::new(7, "repo", 3).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(Rng::new(7, "repo", 3).next_u64(), Rng::new(7, "repo", 4).next_u64());
        assert_ne!(Rng::new(7, "repo", 3).next_u64(), Rng::new(7, "tag", 3).next_u64());
        assert_ne!(Rng::new(7, "repo", 3).next_u64(), Rng::new(8, "repo", 3).next_u64());
        let mut r = Rng::new(1, "x", 0);
        assert!((0..1000).all(|_| r.below(10) < 10));
    }
}
