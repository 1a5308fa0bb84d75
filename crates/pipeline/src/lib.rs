//! The census: Docker Hub's repositories to per-image findings, as leased Postgres work queues.
//!
//! A census runs for days, on one laptop or fifty machines, against budgets that are not ours,
//! and must end with every image decided and nothing counted twice. So every stage is a queue
//! in the census database (`jobs`), and any number of worker processes drain them:
//!
//! ```text
//! discover ──> tags ──> resolve ──> scan_layer
//! (Hub tasks:   (tag      (tag → platform   (one job per layer digest: fetched and
//!  shards,       policy)   image, config     scanned once, however many images and
//!  namespaces;             scan; no pull     workers reach it)
//!  descriptions            for known digests)
//!  scanned)
//!    ├─ typosquat_names: once discovery has drained, every name judged against the official
//!    │  images and the most-pulled publishers the census saw
//!    └─ unlisted_repositories: once discovery has drained, the tags of kept repositories whose
//!       Hub status no listing gave (their detail is read first: inactive ones are left out)
//! ```
//!
//! - **Metadata is evidence too.** Descriptions (and names) are judged like content and recorded
//!   on the repository (`findings.source = 'metadata'`): the views count them for every image of
//!   the repository, and for image-less repositories on their own.
//!
//! - **Leases, not locks.** A worker leases jobs with `FOR UPDATE SKIP LOCKED`, renews the
//!   leases with heartbeats and ends each job with complete / fail / release; a killed worker's
//!   leases expire and its jobs are taken again. Every job's writes are one transaction or
//!   idempotent, so a job done twice is written once.
//! - **A failed item is a row.** Transient failures (network, rate limits, a database restart)
//!   are retried with backoff and parked with their error after their attempts; permanent ones
//!   are recorded on the item (a tag's resolve error, an image or layer error, an exclusion) and
//!   the census goes on. An exhausted pull quota pauses the resolve stage until it resets.
//! - **Bounded everywhere.** Jobs in flight per stage, blob chunks buffered per layer and the
//!   walker's own limits are configuration ([`PipelineConfig`]); decompression, tar and matching
//!   run on blocking threads behind a bounded channel, never on the async runtime.
//! - **Re-scans touch what changed.** Layers and image configs record the rules version that
//!   scanned them; a new run re-scans only those scanned under another version.
//! - **Progress through a trait** ([`Progress`]): the CLI draws bars or log lines; the pipeline
//!   draws nothing.
//!
//! ```no_run
//! # async fn demo(services: hubcensus_pipeline::Services, plan: hubcensus_pipeline::RunPlan)
//! # -> Result<(), hubcensus_pipeline::PipelineError> {
//! use std::sync::Arc;
//! use hubcensus_pipeline::{Census, NoProgress, PipelineConfig, Until, WorkerId};
//! use hubcensus_types::Stage;
//!
//! let census = Census::new(services, PipelineConfig::default(), WorkerId::generate(), Arc::new(NoProgress));
//! let run = census.start(&plan).await?;
//! let cancel = tokio_util::sync::CancellationToken::new(); // cancelled on Ctrl-C
//! let summary = census.work(&Stage::ALL, Until::Drained, cancel).await?;
//! if summary.drained {
//!     census.finish(run.run_id()).await?;
//! }
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

mod census;
mod config;
mod context;
mod error;
mod feeds;
mod identity;
mod progress;
mod runner;
mod stages;

pub use census::{Census, RunPlan, RunStart, Until, WorkSummary};
pub use config::{
    DEFAULT_CHANNEL_CAPACITY, DEFAULT_DISCOVER_CONCURRENCY, DEFAULT_GRACE_SECS, DEFAULT_HEARTBEAT_SECS,
    DEFAULT_IDLE_POLL_MILLIS, DEFAULT_LEASE_SECS, DEFAULT_MAX_ATTEMPTS, DEFAULT_RESOLVE_CONCURRENCY,
    DEFAULT_RETRY_BASE_SECS, DEFAULT_RETRY_MAX_SECS, DEFAULT_TAGS_CONCURRENCY, DEFAULT_TYPOSQUAT_PUBLISHERS,
    PipelineConfig, StageCaps,
};
pub use context::{Scanner, Services};
pub use error::PipelineError;
pub use feeds::{FeedFile, FeedImportError, Imported, import_feed};
pub use identity::WorkerId;
pub use progress::{Event, NoProgress, Progress, Snapshot, StageProgress};
