//! The order in which anchors are handed to Teddy, chosen so its buckets stay tight.
//!
//! Teddy (aho-corasick's packed SIMD searcher) puts each pattern in one of 8 ("slim") or 16
//! ("fat") buckets and, for each bucket and each of the first `mask_len` bytes, keeps the set of
//! low nybbles and the set of high nybbles its patterns have there. A position is a candidate
//! for a bucket when every one of its bytes has a low nybble *and* a high nybble in those sets:
//! the cross product, not the patterns' own bytes. A bucket holding `ter` and `cli` also
//! accepts `ter`'s and `cli`'s mixtures (`tli`, `cer`, ...). Every candidate is then compared
//! with each pattern of its bucket. Measured on documentation and Python text, that
//! verification was most of the prefilter's time: ~59,000 bucket checks per MB for ~4,000 real
//! anchor hits. With the buckets planned here: ~17,000, and text is scanned twice as fast.
//!
//! aho-corasick 1.1 assigns buckets by pattern id: the first pattern with a given run of low
//! nybbles goes to bucket `B - 1 - id % B`, later ones with the same low nybbles join it. So
//! the order of insertion decides the buckets. [`teddy_order`] groups patterns that must share
//! a bucket, assigns the groups to buckets with the sizes that rule gives, improves the
//! assignment by swapping groups while the estimated cost (candidates per position times
//! patterns compared) falls, and returns the insertion order that reproduces it.
//!
//! Only speed depends on this. If a later aho-corasick assigned buckets differently, the
//! searcher would find the same matches; [`crate::prefilter`] does not rely on which of two
//! anchors starting at one position Teddy reports (see its reach merge).

use std::collections::BTreeMap;

/// Teddy's largest mask: it compares at most the first 4 bytes of each pattern.
const MAX_MASK: usize = 4;
/// Patterns above which aho-corasick picks fat Teddy (16 buckets) over slim (8).
const SLIM_LIMIT: usize = 32;

/// Patterns that Teddy will put in one bucket whatever their ids: the same low nybbles over the
/// first `mask` bytes.
#[derive(Debug, Clone)]
struct Group {
    /// Indices into the pattern list; the first is the group's leader (lowest id).
    members: Vec<usize>,
    /// Per mask byte: the low nybble (shared by all members) as a bit, and the high nybbles.
    lo: [u16; MAX_MASK],
    hi: [u16; MAX_MASK],
}

/// The insertion order (indices into `patterns`) under which Teddy's buckets accept the fewest
/// non-matching positions by the byte-frequency model `freq` (one estimate per byte value).
/// `slim`: Teddy was told to use its slim form (8 buckets) whatever the pattern count.
pub(crate) fn teddy_order(patterns: &[Vec<u8>], freq: &[f64; 256], slim: bool) -> Vec<usize> {
    let mask = patterns.iter().map(Vec::len).min().unwrap_or(0).min(MAX_MASK);
    if mask == 0 {
        return (0..patterns.len()).collect();
    }
    let buckets = if patterns.len() > SLIM_LIMIT && !slim { 16 } else { 8 };
    let groups = groups(patterns, mask);
    let weight = NybbleWeights::new(freq);
    let mut plan = Plan::new(&groups, buckets, mask, &weight);
    plan.improve();
    plan.order()
}

/// Patterns grouped by their low nybbles over the first `mask` bytes, in first-seen order.
fn groups(patterns: &[Vec<u8>], mask: usize) -> Vec<Group> {
    let mut by_low: BTreeMap<Vec<u8>, usize> = BTreeMap::new();
    let mut groups: Vec<Group> = Vec::new();
    for (i, p) in patterns.iter().enumerate() {
        let low: Vec<u8> = p[..mask].iter().map(|b| b & 0x0f).collect();
        let g = *by_low.entry(low).or_insert_with(|| {
            groups.push(Group { members: Vec::new(), lo: [0; MAX_MASK], hi: [0; MAX_MASK] });
            groups.len() - 1
        });
        let group = &mut groups[g];
        group.members.push(i);
        for (j, &b) in p[..mask].iter().enumerate() {
            group.lo[j] |= 1 << (b & 0x0f);
            group.hi[j] |= 1 << (b >> 4);
        }
    }
    groups
}

/// The modelled share of bytes whose high nybble is in one set and low nybble in another,
/// answered from per-high-nybble sums over every subset of low nybbles (one table for low
/// nybbles 0–7, one for 8–15): the bucket planning asks it tens of thousands of times at
/// start-up, and summing up to 256 weights each time was half of the planning's cost.
struct NybbleWeights {
    /// `low[h][s]`: the weights of high nybble `h` summed over the low nybbles 0–7 in `s`.
    low: [[f64; 256]; 16],
    /// `high[h][s]`: the same over the low nybbles 8–15 (bit `k` of `s` is nybble `8 + k`).
    high: [[f64; 256]; 16],
}

impl NybbleWeights {
    fn new(freq: &[f64; 256]) -> Self {
        let total: f64 = freq.iter().sum();
        let weight = |h: usize, l: usize| freq[h << 4 | l] / total;
        let (mut low, mut high) = ([[0.0; 256]; 16], [[0.0; 256]; 16]);
        for h in 0..16 {
            for s in 1..256usize {
                // The sum of `s` is the sum of `s` without its lowest bit, plus that bit's weight.
                let (rest, bit) = (s & (s - 1), s.trailing_zeros() as usize);
                low[h][s] = low[h][rest] + weight(h, bit);
                high[h][s] = high[h][rest] + weight(h, 8 + bit);
            }
        }
        Self { low, high }
    }

    /// The share of bytes with a high nybble in `hi` and a low one in `lo` (sets as bits).
    fn share(&self, hi: u16, lo: u16) -> f64 {
        let [lo_low, lo_high] = lo.to_le_bytes().map(usize::from);
        bits(hi).map(|h| self.low[h][lo_low] + self.high[h][lo_high]).sum()
    }
}

/// `bucket` with its member at `at` replaced by `with`.
fn swapped(bucket: &[usize], at: usize, with: usize) -> impl Iterator<Item = usize> + '_ {
    bucket.iter().enumerate().map(move |(k, &g)| if k == at { with } else { g })
}

/// The positions of the set bits of a nybble set.
fn bits(mut set: u16) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        let n = set.trailing_zeros() as usize;
        set &= set.wrapping_sub(1);
        (n < 16).then_some(n)
    })
}

/// An assignment of groups to buckets, with the sizes aho-corasick's round robin gives.
struct Plan<'a> {
    groups: &'a [Group],
    mask: usize,
    weight: &'a NybbleWeights,
    /// Group indices per bucket.
    buckets: Vec<Vec<usize>>,
}

impl<'a> Plan<'a> {
    /// Groups dealt round robin in first-seen order, as Teddy would bucket them unordered.
    fn new(groups: &'a [Group], buckets: usize, mask: usize, weight: &'a NybbleWeights) -> Self {
        let mut plan = Plan { groups, mask, weight, buckets: vec![Vec::new(); buckets] };
        for g in 0..groups.len() {
            plan.buckets[buckets - 1 - g % buckets].push(g);
        }
        plan
    }

    /// Estimated verification work of one bucket per haystack position: the chance a position
    /// passes its nybble masks, times the patterns then compared.
    fn cost(&self, members: impl Iterator<Item = usize>) -> f64 {
        let (mut lo, mut hi, mut patterns) = ([0u16; MAX_MASK], [0u16; MAX_MASK], 0);
        for g in members {
            let group = &self.groups[g];
            for j in 0..self.mask {
                lo[j] |= group.lo[j];
                hi[j] |= group.hi[j];
            }
            patterns += group.members.len();
        }
        let pass: f64 = (0..self.mask).map(|j| self.weight.share(hi[j], lo[j])).product();
        pass * patterns as f64
    }

    /// Swaps groups between buckets while some swap lowers the total cost: first improvement,
    /// at most four passes to bound start-up (a local search; eight passes moved the measured
    /// bucket checks of the built-in kinds by a few percent either way).
    fn improve(&mut self) {
        const PASSES: usize = 4;
        let mut costs: Vec<f64> = self.buckets.iter().map(|b| self.cost(b.iter().copied())).collect();
        for _ in 0..PASSES {
            let mut improved = false;
            for a in 0..self.buckets.len() {
                for b in a + 1..self.buckets.len() {
                    for i in 0..self.buckets[a].len() {
                        for j in 0..self.buckets[b].len() {
                            let (ga, gb) = (self.buckets[a][i], self.buckets[b][j]);
                            let ca = self.cost(swapped(&self.buckets[a], i, gb));
                            let cb = self.cost(swapped(&self.buckets[b], j, ga));
                            // A relative margin, so float noise cannot make two swaps cycle.
                            if ca + cb < (costs[a] + costs[b]) * (1.0 - 1e-9) {
                                self.buckets[a][i] = gb;
                                self.buckets[b][j] = ga;
                                costs[a] = ca;
                                costs[b] = cb;
                                improved = true;
                            }
                        }
                    }
                }
            }
            if !improved {
                break;
            }
        }
    }

    /// Pattern indices in insertion order: group leaders first, so leader `k` gets id `k` and
    /// lands in bucket `B - 1 - k % B`, then every other member (placed by its leader's low
    /// nybbles, whatever its id).
    fn order(&self) -> Vec<usize> {
        let n = self.buckets.len();
        let mut next = vec![0usize; n];
        let mut leaders = Vec::with_capacity(self.groups.len());
        for k in 0..self.groups.len() {
            let b = n - 1 - k % n;
            leaders.push(self.buckets[b][next[b]]);
            next[b] += 1;
        }
        let mut order: Vec<usize> = leaders.iter().map(|&g| self.groups[g].members[0]).collect();
        order.extend(leaders.iter().flat_map(|&g| self.groups[g].members[1..].iter().copied()));
        order
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat() -> [f64; 256] {
        [1.0; 256]
    }

    #[test]
    fn nybble_shares_are_the_sums_of_their_bytes_frequencies() {
        let mut freq = [0.0; 256];
        for (b, f) in freq.iter_mut().enumerate() {
            *f = (b % 7 + 1) as f64;
        }
        let total: f64 = freq.iter().sum();
        let weight = NybbleWeights::new(&freq);
        for (hi, lo) in
            [(0u16, 0xffffu16), (0xffff, 0xffff), (0b1010, 0x8001), (0x8000, 0x00f0), (0x0301, 0x1f00)]
        {
            let want: f64 = (0..256)
                .filter(|&b| hi & 1 << (b >> 4) != 0 && lo & 1 << (b & 0x0f) != 0)
                .map(|b| freq[b] / total)
                .sum();
            assert!((weight.share(hi, lo) - want).abs() < 1e-12, "{hi:#x} {lo:#x}");
        }
        assert!((weight.share(0xffff, 0xffff) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn the_order_is_a_permutation_with_leaders_first() {
        let pats: Vec<Vec<u8>> =
            ["ter", "TER", "cli", "AKIA", "ghp_", "gho_", "://", "xox", "pat", "PAT", "ona", "serv"]
                .iter()
                .map(|s| s.as_bytes().to_vec())
                .collect();
        let order = teddy_order(&pats, &flat(), false);
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..pats.len()).collect::<Vec<_>>());
        // `TER` shares `ter`'s low nybbles and `PAT` `pat`'s: they come after every leader.
        let pos = |s: &str| order.iter().position(|&i| pats[i] == s.as_bytes()).unwrap();
        assert!(pos("TER") >= pats.len() - 2 && pos("PAT") >= pats.len() - 2);
    }

    /// Replays aho-corasick 1.1's bucket rule over an insertion order.
    fn teddy_buckets(pats: &[Vec<u8>], order: &[usize], n: usize) -> Vec<Vec<usize>> {
        let mask = pats.iter().map(Vec::len).min().unwrap().min(MAX_MASK);
        let mut map: BTreeMap<Vec<u8>, usize> = BTreeMap::new();
        let mut buckets = vec![Vec::new(); n];
        for (id, &i) in order.iter().enumerate() {
            let low: Vec<u8> = pats[i][..mask].iter().map(|b| b & 0x0f).collect();
            let b = *map.entry(low).or_insert(n - 1 - id % n);
            buckets[b].push(i);
        }
        buckets
    }

    #[test]
    fn the_order_reproduces_a_cheaper_bucketing_than_insertion_order() {
        // Thirty-nine lowercase trigrams, as text anchors are: many share nybbles.
        let words = "the and ing ion ter ent for tio ere her ate ver his res all con ith est \
                     one ati are pro not was men oun ous com ect int ive per nce ess ble tur \
                     str pre ant";
        let pats: Vec<Vec<u8>> = words.split_whitespace().map(|s| s.as_bytes().to_vec()).collect();
        let mut freq = [0.001; 256];
        for b in b'a'..=b'z' {
            freq[b as usize] = 0.06;
        }
        let groups = groups(&pats, 3);
        let weight = NybbleWeights::new(&freq);
        let cost_of = |order: &[usize]| -> f64 {
            let plan = Plan { groups: &groups, mask: 3, weight: &weight, buckets: vec![] };
            teddy_buckets(&pats, order, 16)
                .iter()
                .map(|b| {
                    let gs: Vec<usize> = b
                        .iter()
                        .map(|&i| groups.iter().position(|g| g.members.contains(&i)).unwrap())
                        .collect::<std::collections::BTreeSet<_>>()
                        .into_iter()
                        .collect();
                    // Followers are counted through their group's member list.
                    plan.cost(gs.into_iter())
                })
                .sum()
        };
        let naive: Vec<usize> = (0..pats.len()).collect();
        let planned = teddy_order(&pats, &freq, false);
        assert!(cost_of(&planned) < cost_of(&naive) * 0.9, "{} vs {}", cost_of(&planned), cost_of(&naive));
    }
}
