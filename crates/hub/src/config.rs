//! What the hub client may do: where Hub is, how big its pages and caps are, who to log in as,
//! and which repositories the sampling frame leaves out.

use std::collections::BTreeSet;

use hubcensus_types::ExclusionReason;
use url::Url;

use crate::HubCredentials;

/// Docker Hub's catalog API.
pub const DEFAULT_BASE_URL: &str = "https://hub.docker.com";
/// Hub's largest page (`page_size` / v4 `size`); bigger values are clamped or refused.
pub const DEFAULT_PAGE_SIZE: u32 = 100;
/// v4 search refuses `from + size > 2500`.
pub const DEFAULT_SEARCH_CAP: u32 = 2_500;
/// Legacy search reports at most 10,000 results (`count` saturates there).
pub const DEFAULT_LEGACY_SEARCH_CAP: u32 = 10_000;
/// Anonymous Hub listings answer 403 from offset 1000 (observed from 2026-08-11).
pub const DEFAULT_ANONYMOUS_OFFSET_LIMIT: u32 = 1_000;
/// Pages one listing may take before it is treated as endless (100,000 repositories at 100 a page).
pub const DEFAULT_MAX_PAGES: u32 = 1_000;
/// Longest search query a shard may grow to. Real names are rarely longer; a shard still over
/// the cap at this length is recorded as a note instead of splitting forever.
pub const DEFAULT_MAX_QUERY_LEN: usize = 24;
/// Repository-detail lookups in flight at once within one names-file task (the gate still
/// paces the host).
pub const DEFAULT_DETAIL_CONCURRENCY: usize = 4;
/// Largest response body read (a 100-entry page with full descriptions is well under 2 MiB; a
/// lying server must not make the crawler buffer gigabytes).
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// Times a request is re-sent when its body breaks off mid-way (the gate retries failures only
/// up to the headers).
pub const DEFAULT_BODY_RETRIES: u32 = 3;
/// Lines of a names file per discovery task: a few minutes of work at Hub's 180 requests a minute.
pub const DEFAULT_NAMES_CHUNK_LINES: u64 = 500;
/// The `ordering` asked of the tag listing: newest first according to Hub's documentation. The
/// client checks what it gets and turns round if the server inverts it.
pub const DEFAULT_TAG_ORDERING: &str = "last_updated";
/// Characters appended to a search query to split it into shards (Hub names are lowercase
/// alphanumerics with `-`, `_` and `.` separators).
pub const SHARD_ALPHABET: &str = "abcdefghijklmnopqrstuvwxyz0123456789-_";

/// Hub client configuration. The CLI builds it from `[hub]`.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// Hub API base (`https://hub.docker.com`; hubsim's URL in tests). The login token is sent
    /// to this origin only.
    pub base_url: Url,
    /// Page size of every list request (Hub's maximum is 100).
    pub page_size: u32,
    /// v4 search's `from + size` limit: a query with more hits is split into shards.
    pub search_cap: u32,
    /// Legacy search's saturated `count`: a query reaching it is split into shards.
    pub legacy_search_cap: u32,
    /// Offset at which anonymous listings stop (403); the client does not ask past it.
    pub anonymous_offset_limit: u32,
    /// Hub account (username + personal access token); logging in lifts the offset limit.
    pub credentials: Option<HubCredentials>,
    /// Which exclusions the sampling frame applies.
    pub exclude: ExclusionPolicy,
    /// Whether every namespace seen in search becomes a namespace crawl.
    pub crawl_seen_namespaces: bool,
    /// Pages one listing may take before it fails as endless.
    pub max_pages: u32,
    /// Longest shard query.
    pub max_query_len: usize,
    /// Detail lookups in flight within one names-file task.
    pub detail_concurrency: usize,
    /// Largest response body read.
    pub max_body_bytes: usize,
    /// Re-sends of a request whose body broke off.
    pub body_retries: u32,
    /// `ordering` of the first tag-listing request.
    pub tag_ordering: String,
}

impl Default for HubConfig {
    fn default() -> Self {
        Self {
            // invariant: a constant, valid URL.
            base_url: Url::parse(DEFAULT_BASE_URL).unwrap_or_else(|_| unreachable!()),
            page_size: DEFAULT_PAGE_SIZE,
            search_cap: DEFAULT_SEARCH_CAP,
            legacy_search_cap: DEFAULT_LEGACY_SEARCH_CAP,
            anonymous_offset_limit: DEFAULT_ANONYMOUS_OFFSET_LIMIT,
            credentials: None,
            exclude: ExclusionPolicy::default(),
            crawl_seen_namespaces: true,
            max_pages: DEFAULT_MAX_PAGES,
            max_query_len: DEFAULT_MAX_QUERY_LEN,
            detail_concurrency: DEFAULT_DETAIL_CONCURRENCY,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            body_retries: DEFAULT_BODY_RETRIES,
            tag_ordering: DEFAULT_TAG_ORDERING.to_owned(),
        }
    }
}

impl HubConfig {
    /// The default configuration against another base URL (hubsim, a mirror).
    pub fn with_base_url(base_url: Url) -> Self {
        Self { base_url, ..Self::default() }
    }

    /// The page size actually sent: at least 1, at most Hub's 100.
    pub(crate) fn page_size(&self) -> u32 {
        self.page_size.clamp(1, 100)
    }
}

/// Which repositories the sampling frame leaves out. Every exclusion is still recorded with its
/// reason; the policy only decides which reasons apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExclusionPolicy {
    /// The reasons that exclude.
    pub reasons: BTreeSet<ExclusionReason>,
}

impl ExclusionPolicy {
    /// A policy that keeps everything (a census of all of Hub, not only community images).
    pub fn keep_all() -> Self {
        Self { reasons: BTreeSet::new() }
    }

    /// Whether `reason` excludes a repository under this policy.
    pub fn excludes(&self, reason: ExclusionReason) -> bool {
        self.reasons.contains(&reason)
    }
}

impl Default for ExclusionPolicy {
    /// Sysdig's frame: community images only — every reason Hub data can decide.
    fn default() -> Self {
        Self { reasons: ExclusionReason::ALL.into_iter().collect() }
    }
}
