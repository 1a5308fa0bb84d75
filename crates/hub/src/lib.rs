//! Docker Hub enumeration for hubcensus: which repositories exist, which the census keeps, and
//! which tags of them to analyse.
//!
//! Docker Hub has no supported way to list its repositories. Search stops at 2,500 hits (v4) or
//! 10,000 (legacy); anonymous listings stop at offset 1000; only v4 search says which
//! repositories are verified publishers or sponsored open source. A census of "every community
//! image" therefore combines strategies, each resumable, and records every exclusion it makes,
//! because the sampling frame is part of the result:
//!
//! - **v4 search**, sharded by query prefix until every shard fits under the cap and read from
//!   both sort orders — once for community content (`badges=none`) and once for the trusted
//!   badges, whose namespaces the frame excludes;
//! - **namespace crawls** of every namespace seen, past the anonymous offset limit by reading a
//!   listing from both ends and, beyond that, in `name=` slices;
//! - **names files** (public name dumps), in chunks, each name looked up by the detail endpoint;
//! - **legacy search** as a fallback.
//!
//! The work is cut into [`DiscoveryTask`]s — serialisable, with a stable [`DiscoveryTask::key`]
//! — that a Postgres queue hands to any number of workers. [`HubClient::run`] runs one and
//! returns a [`TaskOutcome`]: the repositories seen, follow-up tasks, and notes (caps hit,
//! 403s, bad lines). [`classify`] decides a repository's
//! [`ExclusionReason`](hubcensus_types::ExclusionReason); [`Frame`] merges sightings the way the
//! store does. [`HubClient::tags`] selects tags per [`TagPolicy`].
//!
//! Every request passes the `hubcensus-net` gate (per-origin budget, Retry-After, retries,
//! SSRF policy). A login ([`HubCredentials`]: username + personal access token) lifts the
//! offset limit; its token goes to the Hub origin only.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::{collections::{HashSet, VecDeque}, sync::Arc};
//! use hubcensus_hub::{Frame, HubClient, HubConfig, Strategy, seed_tasks};
//! use hubcensus_net::{Gate, GateConfig};
//!
//! let client = HubClient::new(Arc::new(Gate::new(GateConfig::default())?), HubConfig::default());
//! let mut queue: VecDeque<_> = seed_tasks(&[Strategy::Search], 500)?.into();
//! let mut seen: HashSet<String> = queue.iter().map(|t| t.key()).collect();
//! let mut frame = Frame::new();
//! while let Some(task) = queue.pop_front() {
//!     let outcome = client.run(&task).await?;
//!     outcome.repositories.into_iter().for_each(|r| frame.add(r));
//!     queue.extend(outcome.follow_ups.into_iter().filter(|t| seen.insert(t.key())));
//! }
//! println!("{} repositories", frame.len());
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

mod classify;
mod client;
mod config;
mod credentials;
mod error;
mod frame;
mod name_lists;
mod namespace;
mod paging;
mod run;
mod search;
mod summary;
mod tags;
mod task;
mod wire;

pub use classify::classify;
pub use client::HubClient;
pub use config::{
    DEFAULT_ANONYMOUS_OFFSET_LIMIT, DEFAULT_BASE_URL, DEFAULT_BODY_RETRIES, DEFAULT_DETAIL_CONCURRENCY,
    DEFAULT_LEGACY_SEARCH_CAP, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_PAGES, DEFAULT_MAX_QUERY_LEN,
    DEFAULT_NAMES_CHUNK_LINES, DEFAULT_PAGE_SIZE, DEFAULT_SEARCH_CAP, DEFAULT_TAG_ORDERING, ExclusionPolicy,
    HubConfig, SHARD_ALPHABET,
};
pub use credentials::{CredentialsError, ENV_TOKEN, ENV_USERNAME, HubCredentials};
pub use error::HubError;
pub use frame::Frame;
pub use summary::{RepoSummary, TagImage, TagSummary};
pub use tags::{TagListing, TagPolicy};
pub use task::{
    DiscoveredRepo, DiscoveryTask, NamespacePart, SearchSort, Source, Strategy, TaskOutcome, seed_tasks,
};
