//! How a sample is drawn: an order of the frame fixed by the seed, pull-count strata, and how
//! many units each stratum gets.
//!
//! **The order.** Every unit gets a key, a keyed hash of (seed, unit name) ([`draw_key`]); a
//! simple random sample without replacement of `n` units is the `n` smallest keys (within a
//! stratum, the `n_h` smallest). Sorting by independent uniform keys puts the frame in a
//! uniformly random order, and any fixed-size prefix of a uniformly random order is a simple
//! random sample (the "random sort" method, Sunter 1977). The key depends only on the seed and
//! the name, never on the order the frame was read in or on other units, so:
//!
//! - the same seed over the same frame draws the same sample, on any machine, in any order;
//! - extending a sample from `n` to `n′` takes the next `n′ − n` keys: the first draw is kept,
//!   and the union is again a simple random sample of `n′`.
//!
//! The hash is FNV-1a over the seed's and the name's bytes, finished with SplitMix64's mixer so
//! that names differing in one byte get unrelated keys. It is not a cryptographic hash: nobody
//! chooses repository names to land in a researcher's seed.
//!
//! **Strata.** [`stratum_of`] puts a unit in a pull-count band; [`allocate`] shares `n` between
//! bands, proportionally to their sizes or by Neyman's rule (to `N_h·S_h`, with
//! `S_h = √(p_h(1 − p_h))` from a pilot's prevalence per band), never more than a band holds and
//! at least two per band when `n` allows (one unit gives no variance estimate).

use std::collections::BinaryHeap;

/// The key of `name` under `seed`: units are drawn in increasing key order.
pub fn draw_key(seed: u64, name: &str) -> u64 {
    const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = FNV_OFFSET;
    for b in seed.to_le_bytes().iter().chain(name.as_bytes()) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    // SplitMix64's finaliser.
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// The band of `pull_count` among bands whose lower bounds (after the first, which starts at
/// 0) are `bounds`, ascending: with `bounds = [1000, 100000]`, band 0 holds 0–999 pulls, band 1
/// 1,000–99,999, band 2 the rest. No bounds: one band.
pub fn stratum_of(pull_count: u64, bounds: &[u64]) -> usize {
    bounds.iter().take_while(|b| pull_count >= **b).count()
}

/// How `n` is shared between strata.
#[derive(Debug, Clone, PartialEq)]
pub enum Allocation {
    /// `n_h ∝ N_h`: every unit has the same inclusion probability.
    Proportional,
    /// `n_h ∝ N_h·√(p_h(1 − p_h))`, one assumed prevalence per stratum (from a pilot): the
    /// smallest variance of the overall proportion for a given `n`. A stratum whose pilot saw
    /// nothing still gets the minimum.
    Neyman(Vec<f64>),
}

/// Sample sizes per stratum for `n` units from strata of `populations` units: proportional to
/// the allocation's weights, rounded by largest remainder, capped at each stratum's size (what
/// a full stratum cannot take goes to the others), then raised to at least two per non-empty
/// stratum (one when `n` is too small for two each), taken from the largest allocations. The
/// sizes sum to `min(n, Σ N_h)`.
pub fn allocate(populations: &[u64], n: u64, allocation: &Allocation) -> Vec<u64> {
    let weight = |h: usize| -> f64 {
        let big_n = populations[h] as f64;
        match allocation {
            Allocation::Proportional => big_n,
            Allocation::Neyman(p) => {
                let p = p.get(h).copied().unwrap_or(0.0).clamp(0.0, 1.0);
                big_n * (p * (1.0 - p)).sqrt()
            }
        }
    };
    let mut sizes = vec![0u64; populations.len()];
    let mut left = n.min(populations.iter().sum());
    while left > 0 {
        let open: Vec<usize> = (0..populations.len()).filter(|h| sizes[*h] < populations[*h]).collect();
        if open.is_empty() {
            break;
        }
        let mut weights: Vec<f64> = open.iter().map(|h| weight(*h)).collect();
        if weights.iter().sum::<f64>() <= 0.0 {
            // Every open stratum's pilot saw nothing: share what is left by size.
            weights = open.iter().map(|h| populations[*h] as f64).collect();
        }
        let total: f64 = weights.iter().sum();
        let shares: Vec<f64> = weights.iter().map(|w| left as f64 * w / total).collect();
        let mut given: Vec<u64> = shares.iter().map(|s| s.floor() as u64).collect();
        let mut rest = left.saturating_sub(given.iter().sum());
        // Largest remainder first; ties go to the earlier stratum (the sort is stable).
        let mut order: Vec<usize> = (0..open.len()).collect();
        order.sort_by(|a, b| (shares[*b] - shares[*b].floor()).total_cmp(&(shares[*a] - shares[*a].floor())));
        for i in order {
            if rest == 0 {
                break;
            }
            given[i] += 1;
            rest -= 1;
        }
        let mut placed = 0;
        for (i, h) in open.iter().enumerate() {
            let take = given[i].min(populations[*h] - sizes[*h]);
            sizes[*h] += take;
            placed += take;
        }
        if placed == 0 {
            break;
        }
        left -= placed;
    }
    // The minimum per stratum, taken from the largest allocations.
    let nonempty = populations.iter().filter(|p| **p > 0).count() as u64;
    let floor = if nonempty > 0 && n >= 2 * nonempty { 2 } else { u64::from(n >= nonempty) };
    for h in 0..populations.len() {
        while sizes[h] < floor.min(populations[h]) {
            let Some(donor) = (0..sizes.len())
                .filter(|d| *d != h && sizes[*d] > floor.min(populations[*d]))
                .max_by_key(|d| sizes[*d])
            else {
                break;
            };
            sizes[donor] -= 1;
            sizes[h] += 1;
        }
    }
    sizes
}

/// Keeps, per stratum, the units with the smallest keys seen so far: a draw over a frame read
/// once in any order, in memory proportional to the sample, not the frame.
#[derive(Debug, Clone)]
pub struct Selector<T> {
    seed: u64,
    sizes: Vec<u64>,
    kept: Vec<BinaryHeap<(u64, T)>>,
}

impl<T: Ord> Selector<T> {
    /// A draw of `sizes[h]` units from stratum `h` under `seed`.
    pub fn new(seed: u64, sizes: Vec<u64>) -> Self {
        let kept = sizes.iter().map(|_| BinaryHeap::new()).collect();
        Self { seed, sizes, kept }
    }

    /// Offers a unit named `name` in `stratum` (a stratum past the sizes given is ignored).
    pub fn offer(&mut self, stratum: usize, name: &str, unit: T) {
        let (Some(heap), Some(&size)) = (self.kept.get_mut(stratum), self.sizes.get(stratum)) else {
            return;
        };
        if size == 0 {
            return;
        }
        let key = draw_key(self.seed, name);
        if (heap.len() as u64) < size {
            heap.push((key, unit));
        } else if heap.peek().is_some_and(|(top, _)| key < *top) {
            heap.pop();
            heap.push((key, unit));
        }
    }

    /// The drawn units per stratum, each in draw order (increasing key).
    pub fn finish(self) -> Vec<Vec<T>> {
        self.kept
            .into_iter()
            .map(|h| h.into_sorted_vec().into_iter().map(|(_, unit)| unit).collect())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_depend_on_seed_and_name_only() {
        assert_eq!(draw_key(7, "alice/app"), draw_key(7, "alice/app"));
        assert_ne!(draw_key(7, "alice/app"), draw_key(8, "alice/app"));
        assert_ne!(draw_key(7, "alice/app"), draw_key(7, "alice/apq"));
    }

    #[test]
    fn bands_by_lower_bounds() {
        let bounds = [1_000, 100_000];
        assert_eq!(stratum_of(0, &bounds), 0);
        assert_eq!(stratum_of(999, &bounds), 0);
        assert_eq!(stratum_of(1_000, &bounds), 1);
        assert_eq!(stratum_of(5_000_000, &bounds), 2);
        assert_eq!(stratum_of(5, &[]), 0);
    }

    #[test]
    fn proportional_allocation_by_hand() {
        // 100 of (700, 200, 100): 70, 20, 10 exactly.
        assert_eq!(allocate(&[700, 200, 100], 100, &Allocation::Proportional), [70, 20, 10]);
        // 10 of (500, 300, 200): shares 5, 3, 2.
        assert_eq!(allocate(&[500, 300, 200], 10, &Allocation::Proportional), [5, 3, 2]);
        // 10 of (990, 5, 5): shares 9.9, 0.05, 0.05 -> (10, 0, 0); the minimum of two per
        // stratum comes out of the largest -> (6, 2, 2).
        assert_eq!(allocate(&[990, 5, 5], 10, &Allocation::Proportional), [6, 2, 2]);
        // More than the frame: everything.
        assert_eq!(allocate(&[3, 4], 50, &Allocation::Proportional), [3, 4]);
    }

    #[test]
    fn neyman_allocation_by_hand() {
        // N = (1000, 1000), p = (0.5, 0.1): S = (0.5, 0.3); 99 units ∝ (500, 300) = 61.875,
        // 37.125 -> (62, 37).
        assert_eq!(allocate(&[1000, 1000], 99, &Allocation::Neyman(vec![0.5, 0.1])), [62, 37]);
        // A stratum the pilot saw nothing in keeps its minimum; a full stratum passes the
        // rest on.
        assert_eq!(allocate(&[1000, 10], 40, &Allocation::Neyman(vec![0.0, 0.5])), [30, 10]);
    }

    #[test]
    fn an_extended_draw_keeps_the_first() {
        let names: Vec<String> = (0..500).map(|i| format!("ns{}/repo{i}", i % 17)).collect();
        let draw = |n: u64| {
            let mut s = Selector::new(42, vec![n]);
            for name in &names {
                s.offer(0, name, name.clone());
            }
            s.finish().remove(0)
        };
        let first = draw(30);
        let second = draw(80);
        assert_eq!(first.len(), 30);
        assert_eq!(&second[..30], &first[..], "the first 30 of the larger draw are the first draw");
        let mut reversed = Selector::new(42, vec![30]);
        for name in names.iter().rev() {
            reversed.offer(0, name, name.clone());
        }
        assert_eq!(reversed.finish().remove(0), first, "the order the frame is read in does not matter");
    }

    #[test]
    fn every_unit_is_equally_likely() {
        // 2,000 seeds, 10 of 40 units: each unit drawn ~500 times (binomial sd ~19).
        let names: Vec<String> = (0..40).map(|i| format!("u{i}")).collect();
        let mut hits = [0u32; 40];
        for seed in 0..2_000 {
            let mut s = Selector::new(seed, vec![10]);
            for (i, name) in names.iter().enumerate() {
                s.offer(0, name, i);
            }
            for i in s.finish().remove(0) {
                hits[i] += 1;
            }
        }
        assert!(hits.iter().all(|h| (420..=580).contains(h)), "{hits:?}");
    }
}
