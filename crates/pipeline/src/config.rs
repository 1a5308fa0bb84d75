//! How hard one worker pushes each stage, and how it holds its leases.
//!
//! Every bound is named here, with the reason for its default: a census runs for days on
//! machines of two cores, against budgets that are not ours (the Hub API's requests per minute,
//! the registry's pull quota), so nothing may grow with the population.

use std::time::Duration;

use hubcensus_hub::TagPolicy;
use hubcensus_types::{Platform, Stage};

/// A lease lasts this long unless renewed: long enough that a heartbeat missed during a
/// database blip does not hand a healthy worker's job to another, short enough that a killed
/// worker's jobs come back within minutes.
pub const DEFAULT_LEASE_SECS: u64 = 300;
/// Leases are renewed this often (a fifth of the lease: four renewals may fail before it runs out).
pub const DEFAULT_HEARTBEAT_SECS: u64 = 60;
/// Attempts per job before it is parked for a human.
pub const DEFAULT_MAX_ATTEMPTS: i32 = 5;
/// Discovery tasks in flight: each is a chain of Hub API pages, and the Hub API allows ~3
/// requests a second in all, so more would only queue inside the gate.
pub const DEFAULT_DISCOVER_CONCURRENCY: usize = 2;
/// Tag listings in flight (also Hub API requests).
pub const DEFAULT_TAGS_CONCURRENCY: usize = 4;
/// Tag resolutions in flight: HEADs and manifest GETs, cheap and latency-bound.
pub const DEFAULT_RESOLVE_CONCURRENCY: usize = 8;
/// Blob chunks buffered between a download and its scanner: with ~16 KiB chunks this is about
/// 1 MiB per layer in flight, enough to ride out scheduling jitter without holding a layer.
pub const DEFAULT_CHANNEL_CAPACITY: usize = 64;
/// On Ctrl-C, jobs in flight get this long to finish before they are released.
pub const DEFAULT_GRACE_SECS: u64 = 30;
/// An idle stage polls its queue this often (a stage of this process that enqueues work wakes
/// the next stage at once; the poll is for work other processes enqueue).
pub const DEFAULT_IDLE_POLL_MILLIS: u64 = 1_000;
/// The most-pulled publishers (verified publisher and sponsored open-source repositories) whose
/// names the typosquat judgement protects, beside the official images. Fifty reaches the
/// publishers people actually pull from (bitnami, grafana, hashicorp...); protecting thousands
/// would turn ordinary words that publishers use as names into look-alike targets.
pub const DEFAULT_TYPOSQUAT_PUBLISHERS: usize = 50;
/// First retry delay of a failed job; doubles per attempt.
pub const DEFAULT_RETRY_BASE_SECS: u64 = 5;
/// Longest retry delay.
pub const DEFAULT_RETRY_MAX_SECS: u64 = 600;

/// Jobs in flight per stage in one worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageCaps {
    /// Discovery tasks.
    pub discover: usize,
    /// Tag listings.
    pub tags: usize,
    /// Tag resolutions.
    pub resolve: usize,
    /// Layer downloads and scans (each holds one blocking thread while it scans).
    pub scan_layer: usize,
}

impl StageCaps {
    /// The cap of `stage` (at least 1).
    pub fn of(&self, stage: Stage) -> usize {
        match stage {
            Stage::Discover => self.discover,
            Stage::Tags => self.tags,
            Stage::Resolve => self.resolve,
            Stage::ScanLayer => self.scan_layer,
        }
        .max(1)
    }
}

impl Default for StageCaps {
    fn default() -> Self {
        Self {
            discover: DEFAULT_DISCOVER_CONCURRENCY,
            tags: DEFAULT_TAGS_CONCURRENCY,
            resolve: DEFAULT_RESOLVE_CONCURRENCY,
            // One scan per core: decompression and matching are CPU-bound.
            scan_layer: std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get),
        }
    }
}

/// Everything that shapes how a worker runs the stages.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// Lease duration.
    pub lease: Duration,
    /// Lease renewal interval (must be shorter than `lease`).
    pub heartbeat: Duration,
    /// Attempts per job before parking.
    pub max_attempts: i32,
    /// Jobs in flight per stage.
    pub caps: StageCaps,
    /// Blob chunks buffered per layer between download and scan.
    pub channel_capacity: usize,
    /// How long in-flight jobs may finish after cancellation before they are released.
    pub grace: Duration,
    /// Idle queue poll interval.
    pub idle_poll: Duration,
    /// First retry delay (doubled per attempt).
    pub retry_base: Duration,
    /// Longest retry delay.
    pub retry_max: Duration,
    /// Which tags of a kept repository are analysed.
    pub tag_policy: TagPolicy,
    /// The platform analysed per tag (the registry client picks it from indexes).
    pub platform: Platform,
    /// How often progress is reported (and queue sizes read for it).
    pub progress_interval: Duration,
    /// The most-pulled publishers whose names the typosquat judgement protects, beside the
    /// official images.
    pub typosquat_publishers: usize,
    /// Read each discovered repository's detail for its full description when the listing
    /// that found it did not carry one. Costs one more Hub API request per repository (a
    /// listing page carries a hundred), so it is off by default; the short descriptions every
    /// listing carries are always scanned.
    pub fetch_full_descriptions: bool,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(DEFAULT_LEASE_SECS),
            heartbeat: Duration::from_secs(DEFAULT_HEARTBEAT_SECS),
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            caps: StageCaps::default(),
            channel_capacity: DEFAULT_CHANNEL_CAPACITY,
            grace: Duration::from_secs(DEFAULT_GRACE_SECS),
            idle_poll: Duration::from_millis(DEFAULT_IDLE_POLL_MILLIS),
            retry_base: Duration::from_secs(DEFAULT_RETRY_BASE_SECS),
            retry_max: Duration::from_secs(DEFAULT_RETRY_MAX_SECS),
            tag_policy: TagPolicy::Latest,
            platform: Platform::linux_amd64(),
            progress_interval: Duration::from_secs(1),
            typosquat_publishers: DEFAULT_TYPOSQUAT_PUBLISHERS,
            fetch_full_descriptions: false,
        }
    }
}

impl PipelineConfig {
    /// The delay before attempt `attempts + 1` of a failed job: `retry_base × 2^(attempts-1)`,
    /// capped, with up to 25% jitter so workers that failed together do not retry together.
    pub fn retry_delay(&self, attempts: i32, jitter: f64) -> Duration {
        let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
        let base = self.retry_base.saturating_mul(2u32.saturating_pow(exp)).min(self.retry_max);
        base.mul_f64(1.0 + 0.25 * jitter.clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_double_and_cap() {
        let c = PipelineConfig {
            retry_base: Duration::from_secs(5),
            retry_max: Duration::from_secs(60),
            ..PipelineConfig::default()
        };
        assert_eq!(c.retry_delay(1, 0.0), Duration::from_secs(5));
        assert_eq!(c.retry_delay(2, 0.0), Duration::from_secs(10));
        assert_eq!(c.retry_delay(4, 0.0), Duration::from_secs(40));
        assert_eq!(c.retry_delay(9, 0.0), Duration::from_secs(60));
        assert_eq!(c.retry_delay(1, 1.0), Duration::from_millis(6250));
        assert_eq!(StageCaps { discover: 0, ..StageCaps::default() }.of(Stage::Discover), 1);
    }
}
