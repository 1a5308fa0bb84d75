//! The population over time: `population.epoch` K is the population after K rounds of change,
//! so that two censuses — one at epoch K, one at K + 1 — can be compared against the truth of
//! each.
//!
//! Docker Hub changes between censuses: repositories are created and deleted, tags re-pushed,
//! malicious images cleaned up, clean repositories taken over. Each round `e` (1..=K) applies,
//! each repository by its own draw keyed by `(seed, kind of change, e, index)` so that epoch
//! K + 1 is epoch K plus one more round:
//!
//! - **added** (`epochs.added`): a share of community repositories does not exist yet at epoch
//!   0 and appears at its birth round;
//! - **removed** (`epochs.removed`): repositories deleted (gone from listings, search, the
//!   detail endpoint and the registry);
//! - **re-pushed** (`epochs.repushed`): every tag of a clean repository points at a new image;
//! - **cleaned** (`epochs.cleaned`): a planted image is replaced by a clean one under the same
//!   tags (typosquats excepted: their name is the threat);
//! - **infected** (`epochs.infected`): a clean repository's images are re-pushed with a planted
//!   miner or hacking tool (categories decided by content alone, so the feeds generated at
//!   epoch 0 still judge the population right).
//!
//! Changed repositories are pushed at the round's time, just before the anchor (round `e` at
//! `anchor − (HORIZON − e) hours`), so their images are new and a census's "changed since" is
//! real. With every rate at 0 (the default) nothing changes, whatever the epoch.

use hubcensus_types::{Badge, Category};

use super::{Namespace, RepoKind, RepoMeta};
use crate::{config::PopulationConfig, rng::Rng};

/// Rounds a repository can be born in; later epochs add no repository.
pub const HORIZON: u32 = 16;

/// Categories an infection plants: decided by content alone.
const INFECTIONS: [Category; 2] = [Category::Cryptomining, Category::HackingTool];

fn draw(cfg: &PopulationConfig, change: &str, round: u32, i: usize) -> Rng {
    Rng::new(cfg.seed, change, (u64::from(round) << 40) | i as u64)
}

/// When round `round` pushes (Unix seconds).
fn pushed_at(cfg: &PopulationConfig, round: u32) -> i64 {
    cfg.anchor_unix - i64::from(HORIZON + 1 - round.min(HORIZON)) * 3_600
}

/// A public community image repository with nothing planted or decoyed: what may be added,
/// removed, re-pushed or infected without touching the planted truth of epoch 0.
fn plain(namespaces: &[Namespace], r: &RepoMeta) -> bool {
    r.ns != 0
        && r.kind == RepoKind::Image
        && !r.private
        && !r.inactive
        && !r.decoy
        && r.plant.is_none()
        && r.tags < 100
        && namespaces[r.ns as usize].badge == Badge::None
}

/// Applies the rounds of change up to `cfg.epoch`.
pub(crate) fn apply(cfg: &PopulationConfig, namespaces: &[Namespace], repos: &mut [RepoMeta]) {
    let rates = &cfg.epochs;
    // The round each repository is born in (0: it exists from the start).
    let births: Vec<u32> = repos
        .iter()
        .enumerate()
        .map(|(i, r)| {
            if rates.added > 0.0 && plain(namespaces, r) {
                (1..=HORIZON).find(|&e| draw(cfg, "epoch-added", e, i).chance(rates.added)).unwrap_or(0)
            } else {
                0
            }
        })
        .collect();
    for (r, &birth) in repos.iter_mut().zip(&births).filter(|(_, b)| **b > 0) {
        r.gone = birth > cfg.epoch;
        r.pushes = birth;
        r.updated = pushed_at(cfg, birth);
    }
    for round in 1..=cfg.epoch {
        for (i, r) in repos.iter_mut().enumerate() {
            // Gone, or not born before this round: nothing to change.
            if r.gone || births[i] >= round {
                continue;
            }
            if r.plant.is_some_and(|c| c != Category::Typosquatting) && !r.private {
                if draw(cfg, "epoch-cleaned", round, i).chance(rates.cleaned) {
                    r.plant = None;
                    r.pushes = round;
                    r.updated = pushed_at(cfg, round);
                }
                continue;
            }
            if !plain(namespaces, r) {
                continue;
            }
            if draw(cfg, "epoch-removed", round, i).chance(rates.removed) {
                r.gone = true;
            } else if draw(cfg, "epoch-infected", round, i).chance(rates.infected) {
                let k = draw(cfg, "epoch-infection", round, i).below(INFECTIONS.len() as u64);
                r.plant = Some(INFECTIONS[k as usize]);
                r.pushes = round;
                r.updated = pushed_at(cfg, round);
            } else if draw(cfg, "epoch-repushed", round, i).chance(rates.repushed) {
                r.pushes = round;
                r.updated = pushed_at(cfg, round);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{EpochRates, PopulationConfig};
    use crate::population::Population;

    fn at(epoch: u32, rates: EpochRates) -> Population {
        let cfg = PopulationConfig { repos: 3_000, epoch, epochs: rates, ..PopulationConfig::default() };
        Population::new(&cfg)
    }

    #[test]
    fn without_rates_no_epoch_changes_anything() {
        let (base, later) = (at(0, EpochRates::default()), at(5, EpochRates::default()));
        for i in 0..base.len() as u32 {
            let (a, b) = (base.repo(i), later.repo(i));
            assert!(!b.gone && b.pushes == 0 && a.plant == b.plant && a.updated == b.updated, "{i}");
        }
    }

    #[test]
    fn each_epoch_is_the_one_before_plus_one_round() {
        let rates = EpochRates { added: 0.02, removed: 0.02, repushed: 0.02, cleaned: 0.3, infected: 0.01 };
        let epochs: Vec<Population> = (0..3).map(|e| at(e, rates.clone())).collect();
        let count = |p: &Population, f: &dyn Fn(u32) -> bool| (0..p.len() as u32).filter(|&i| f(i)).count();
        assert!(count(&epochs[0], &|i| epochs[0].repo(i).gone) > 0, "some repositories are not created yet");
        assert_eq!(count(&epochs[0], &|i| epochs[0].repo(i).pushes > 0 && !epochs[0].repo(i).gone), 0);
        for e in 1..3u32 {
            let (before, after) = (&epochs[e as usize - 1], &epochs[e as usize]);
            let round = e;
            let mut changed = 0;
            for i in 0..after.len() as u32 {
                let (a, b) = (before.repo(i), after.repo(i));
                if b.pushes == round || a.gone != b.gone {
                    changed += 1;
                    continue;
                }
                assert_eq!(
                    (a.plant, a.updated, a.pushes),
                    (b.plant, b.updated, b.pushes),
                    "round {round}: {i}"
                );
            }
            assert!(changed > 0, "round {round} changed something");
            // Deleted repositories stay deleted; a deleted name is not found.
            for i in (0..after.len() as u32).filter(|&i| before.repo(i).gone && !after.repo(i).gone) {
                assert_eq!(after.repo(i).pushes, round, "only a birth brings a repository back: {i}");
            }
            for i in (0..after.len() as u32).filter(|&i| after.repo(i).gone) {
                assert_eq!(after.find(&after.full_name(i)), None);
            }
        }
    }
}
