//! Units of discovery work: serialisable, keyed, each yielding repositories and follow-ups.
//!
//! A census runs for days on many workers, so discovery is not one loop but a set of small
//! tasks kept in a Postgres queue: a search shard, a namespace, a chunk of a names file. Each
//! [`DiscoveryTask`] serialises to JSON (the job's payload) and has a stable [`DiscoveryTask::key`]
//! (the job's unique key), so a follow-up reached twice — a namespace seen by a hundred search
//! hits, a shard reached from two parents — is queued once.

use std::{
    collections::{HashMap, HashSet},
    path::PathBuf,
};

use hubcensus_types::{Badge, ExclusionReason, RepoRef};
use serde::{Deserialize, Serialize};

use crate::{HubError, RepoSummary};

/// One unit of discovery work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DiscoveryTask {
    /// A v4 search query, read up to the cap in one sort order. Over the cap it is split into
    /// shards (`query` + one more character) and read from the other end too.
    SearchV4 {
        /// The query (`""` = everything).
        query: String,
        /// Sort field and direction.
        sort: SearchSort,
        /// The `badges=` filter (empty = no filter): `[none]` for community content; the
        /// trusted badges for the frame's exclusions.
        #[serde(default)]
        badges: Vec<Badge>,
    },
    /// A namespace listing (`/v2/namespaces/{ns}/repositories`), not subject to the search cap.
    Namespace {
        /// The namespace.
        namespace: String,
        /// The namespace's badge, when the search that found it said (namespace listings carry
        /// none; Docker's trust programmes are per publisher).
        #[serde(default)]
        badge: Option<Badge>,
        /// Which part of the listing (anonymous listings stop at offset ~1000).
        #[serde(default)]
        part: NamespacePart,
    },
    /// A chunk of a names file (one `namespace/name` per line, e.g. a public name dump): each
    /// name is looked up with the repository-detail endpoint.
    NamesFile {
        /// The file.
        path: PathBuf,
        /// First line of the chunk (0-based; for notes and the key).
        start_line: u64,
        /// Lines in the chunk.
        lines: u64,
        /// Byte offset of `start_line` (so a chunk deep in a huge dump seeks instead of scanning).
        #[serde(default)]
        byte_offset: u64,
    },
    /// A legacy `/v2/search/repositories` query: a fallback that knows officials but no other
    /// badge. Saturated queries (count at the legacy cap) are split like v4 shards.
    LegacySearch {
        /// The query.
        query: String,
    },
}

/// v4 search orders. Each shard is read in its primary order; an oversized one also from the
/// other end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchSort {
    /// Most pulled first (`sort=pull_count&order=desc`): the primary order.
    PullCountDesc,
    /// Least pulled first.
    PullCountAsc,
    /// Most recently updated first (`sort=updated_at&order=desc`).
    UpdatedDesc,
    /// Least recently updated first.
    UpdatedAsc,
}

impl SearchSort {
    /// The order a shard is read in first.
    pub const PRIMARY: SearchSort = SearchSort::PullCountDesc;

    /// `(sort, order)` query values.
    pub fn params(self) -> (&'static str, &'static str) {
        match self {
            SearchSort::PullCountDesc => ("pull_count", "desc"),
            SearchSort::PullCountAsc => ("pull_count", "asc"),
            SearchSort::UpdatedDesc => ("updated_at", "desc"),
            SearchSort::UpdatedAsc => ("updated_at", "asc"),
        }
    }

    /// The same field, the other direction.
    pub fn reversed(self) -> Self {
        match self {
            SearchSort::PullCountDesc => SearchSort::PullCountAsc,
            SearchSort::PullCountAsc => SearchSort::PullCountDesc,
            SearchSort::UpdatedDesc => SearchSort::UpdatedAsc,
            SearchSort::UpdatedAsc => SearchSort::UpdatedDesc,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            SearchSort::PullCountDesc => "pull_count_desc",
            SearchSort::PullCountAsc => "pull_count_asc",
            SearchSort::UpdatedDesc => "updated_desc",
            SearchSort::UpdatedAsc => "updated_asc",
        }
    }
}

/// Which part of a namespace listing a task reads. Anonymous callers get 403 past offset
/// ~1000: the listing is then read from its other end (`ordering=-name`), and when even both
/// ends cannot cover it, in slices by the `name=` filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NamespacePart {
    /// The whole listing by name, ascending.
    #[default]
    Whole,
    /// From the other end (`ordering=-name`), after the ascending read stopped at the cap.
    FromEnd {
        /// Repositories the ascending read got before it stopped.
        already_read: u64,
    },
    /// Repositories whose name contains this text (`name=` filter).
    NameContains(String),
}

impl DiscoveryTask {
    /// The stable, unique job key. Equal tasks have equal keys; a namespace has one key whatever
    /// badge the search that found it reported, so it is crawled once.
    pub fn key(&self) -> String {
        match self {
            DiscoveryTask::SearchV4 { query, sort, badges } => {
                let mut b: Vec<&str> = badges.iter().map(|b| b.as_str()).collect();
                b.sort_unstable();
                b.dedup();
                let badges = if b.is_empty() { "any".to_owned() } else { b.join(",") };
                format!("search_v4:{badges}:{}:{query}", sort.as_str())
            }
            DiscoveryTask::Namespace { namespace, part, .. } => match part {
                NamespacePart::Whole => format!("namespace:{namespace}"),
                NamespacePart::FromEnd { .. } => format!("namespace:{namespace}:from_end"),
                NamespacePart::NameContains(q) => format!("namespace:{namespace}:name={q}"),
            },
            DiscoveryTask::NamesFile { path, start_line, lines, .. } => {
                format!("names_file:{}:{start_line}+{lines}", path.display())
            }
            DiscoveryTask::LegacySearch { query } => format!("legacy_search:{query}"),
        }
    }

    /// The strategy this task belongs to.
    pub fn source(&self) -> Source {
        match self {
            DiscoveryTask::SearchV4 { .. } => Source::SearchV4,
            DiscoveryTask::Namespace { .. } => Source::Namespace,
            DiscoveryTask::NamesFile { .. } => Source::NamesFile,
            DiscoveryTask::LegacySearch { .. } => Source::LegacySearch,
        }
    }

    /// Whether the total Hub reports for this task counts towards its source's total: a seed
    /// search (query `""`, primary order: its shards and its reverse read report parts of the
    /// same hits again), a whole namespace listing (its other-end reads and `name=` slices
    /// report parts of it again), every names-file chunk (chunks do not overlap). Summing the
    /// reported totals of the root tasks gives what Hub says the source holds.
    pub fn is_root(&self) -> bool {
        match self {
            DiscoveryTask::SearchV4 { query, sort, .. } => query.is_empty() && *sort == SearchSort::PRIMARY,
            DiscoveryTask::Namespace { part, .. } => *part == NamespacePart::Whole,
            DiscoveryTask::NamesFile { .. } => true,
            DiscoveryTask::LegacySearch { query } => query.is_empty(),
        }
    }

    /// A whole-namespace crawl.
    pub fn namespace(namespace: &str, badge: Option<Badge>) -> Self {
        DiscoveryTask::Namespace { namespace: namespace.to_owned(), badge, part: NamespacePart::Whole }
    }
}

/// Which strategy saw a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// v4 search.
    SearchV4,
    /// A namespace listing.
    Namespace,
    /// A names file (repository detail).
    NamesFile,
    /// Legacy search.
    LegacySearch,
}

impl Source {
    /// The canonical id (`search_v4`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Source::SearchV4 => "search_v4",
            Source::Namespace => "namespace",
            Source::NamesFile => "names_file",
            Source::LegacySearch => "legacy_search",
        }
    }

    /// How much the source tells about a repository: when two records disagree, the richer
    /// source's values win (detail > listing > v4 search > legacy search).
    pub(crate) fn detail_rank(self) -> u8 {
        match self {
            Source::NamesFile => 3,
            Source::Namespace => 2,
            Source::SearchV4 => 1,
            Source::LegacySearch => 0,
        }
    }
}

/// A repository a task saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoveredRepo {
    /// The repository.
    pub reference: RepoRef,
    /// What the endpoint said about it.
    pub summary: RepoSummary,
    /// Why the frame leaves it out, as far as this record tells (see [`crate::classify`]).
    /// Recompute it from the merged record when several strategies saw the repository.
    pub exclusion: Option<ExclusionReason>,
    /// The strategy that saw it.
    pub source: Source,
}

/// What one task produced.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskOutcome {
    /// Repositories seen (each once per task).
    pub repositories: Vec<DiscoveredRepo>,
    /// Tasks to queue (deduplicated by key within the task; the queue deduplicates across).
    pub follow_ups: Vec<DiscoveryTask>,
    /// What the crawl should know: caps hit, 403s, bad lines, shards that could not split.
    pub notes: Vec<String>,
    /// How many repositories Hub says the task's query or listing holds, to set beside
    /// `repositories` (what was collected): a v4 search's `total`, a listing's or a legacy
    /// search's `count`, a names-file chunk's names. `None` when the endpoint did not say.
    #[serde(default)]
    pub reported: Option<u64>,
}

/// Builds a [`TaskOutcome`], deduplicating repositories (merged) and follow-ups (by key) as
/// they arrive: a 2,500-hit search shard names the same namespace hundreds of times.
#[derive(Debug, Default)]
pub(crate) struct OutcomeBuilder {
    outcome: TaskOutcome,
    repos: HashMap<RepoRef, usize>,
    keys: HashSet<String>,
}

impl OutcomeBuilder {
    pub(crate) fn push_repo(&mut self, repo: DiscoveredRepo) {
        match self.repos.get(&repo.reference) {
            Some(&i) => self.outcome.repositories[i].summary.fill_from(&repo.summary),
            None => {
                self.repos.insert(repo.reference.clone(), self.outcome.repositories.len());
                self.outcome.repositories.push(repo);
            }
        }
    }

    pub(crate) fn push_follow_up(&mut self, task: DiscoveryTask) {
        if self.keys.insert(task.key()) {
            self.outcome.follow_ups.push(task);
        }
    }

    pub(crate) fn note(&mut self, note: impl Into<String>) {
        let note = note.into();
        tracing::info!(%note, "discovery note");
        self.outcome.notes.push(note);
    }

    /// Records the total Hub reports for the task's query or listing.
    pub(crate) fn reported(&mut self, total: Option<u64>) {
        self.outcome.reported = total;
    }

    pub(crate) fn finish(self) -> TaskOutcome {
        self.outcome
    }
}

/// A discovery strategy, selectable and combinable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// v4 search: community content (`badges=none`) and the trusted badges (for the frame's
    /// exclusions), sharded past the cap; every namespace seen is crawled.
    Search,
    /// Crawl these namespaces (and `library`, the official images).
    Namespaces(Vec<String>),
    /// Look up every name of a names file, in chunks.
    NamesFile(PathBuf),
    /// Legacy search from the empty query, sharded when saturated.
    Legacy,
}

/// The first tasks of a census for the chosen strategies. Names files are split into chunks of
/// `names_chunk_lines` lines (their byte offsets are found now, one pass over the file).
///
/// # Errors
///
/// [`HubError::NamesFile`] when a names file cannot be read.
pub fn seed_tasks(strategies: &[Strategy], names_chunk_lines: u64) -> Result<Vec<DiscoveryTask>, HubError> {
    let mut tasks: Vec<DiscoveryTask> = Vec::new();
    let mut push = |t: DiscoveryTask| {
        if !tasks.iter().any(|x| x.key() == t.key()) {
            tasks.push(t);
        }
    };
    for strategy in strategies {
        match strategy {
            Strategy::Search => {
                push(DiscoveryTask::SearchV4 {
                    query: String::new(),
                    sort: SearchSort::PRIMARY,
                    badges: vec![Badge::None],
                });
                push(DiscoveryTask::SearchV4 {
                    query: String::new(),
                    sort: SearchSort::PRIMARY,
                    badges: vec![Badge::Official, Badge::VerifiedPublisher, Badge::OpenSource],
                });
            }
            Strategy::Namespaces(namespaces) => {
                push(DiscoveryTask::namespace("library", Some(Badge::Official)));
                for ns in namespaces {
                    push(DiscoveryTask::namespace(ns, None));
                }
            }
            Strategy::NamesFile(path) => {
                for (start_line, lines, byte_offset) in crate::name_lists::chunks(path, names_chunk_lines)? {
                    push(DiscoveryTask::NamesFile { path: path.clone(), start_line, lines, byte_offset });
                }
            }
            Strategy::Legacy => push(DiscoveryTask::LegacySearch { query: String::new() }),
        }
    }
    Ok(tasks)
}

/// The namespace of a task path, validated (a namespace is a distribution path component).
pub(crate) fn valid_namespace(task: &DiscoveryTask, namespace: &str) -> Result<(), HubError> {
    RepoRef::new(namespace, "x")
        .map(|_| ())
        .map_err(|e| HubError::InvalidTask { key: task.key(), reason: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_round_trip_as_json_and_keys_are_stable() {
        let tasks = [
            DiscoveryTask::SearchV4 {
                query: "ab".into(),
                sort: SearchSort::PullCountAsc,
                badges: vec![Badge::OpenSource, Badge::Official],
            },
            DiscoveryTask::namespace("bitnami", Some(Badge::VerifiedPublisher)),
            DiscoveryTask::Namespace {
                namespace: "big".into(),
                badge: None,
                part: NamespacePart::FromEnd { already_read: 1000 },
            },
            DiscoveryTask::Namespace {
                namespace: "big".into(),
                badge: None,
                part: NamespacePart::NameContains("x-".into()),
            },
            DiscoveryTask::NamesFile {
                path: "/data/names.txt".into(),
                start_line: 500,
                lines: 500,
                byte_offset: 9,
            },
            DiscoveryTask::LegacySearch { query: String::new() },
        ];
        let keys: Vec<String> = tasks.iter().map(DiscoveryTask::key).collect();
        assert_eq!(
            keys,
            [
                "search_v4:official,open_source:pull_count_asc:ab",
                "namespace:bitnami",
                "namespace:big:from_end",
                "namespace:big:name=x-",
                "names_file:/data/names.txt:500+500",
                "legacy_search:",
            ]
        );
        for t in &tasks {
            let json = serde_json::to_string(t).unwrap();
            assert_eq!(&serde_json::from_str::<DiscoveryTask>(&json).unwrap(), t, "{json}");
        }
        // A namespace is one job whatever badge its finder reported; old payloads still parse.
        assert_eq!(DiscoveryTask::namespace("bitnami", None).key(), keys[1]);
        let old: DiscoveryTask = serde_json::from_str(r#"{"kind":"namespace","namespace":"x"}"#).unwrap();
        assert_eq!(old, DiscoveryTask::namespace("x", None));
    }

    #[test]
    fn seeds_per_strategy() {
        let seeds =
            seed_tasks(&[Strategy::Search, Strategy::Namespaces(vec!["acme".into()]), Strategy::Legacy], 10)
                .unwrap();
        let keys: Vec<String> = seeds.iter().map(DiscoveryTask::key).collect();
        assert_eq!(
            keys,
            [
                "search_v4:none:pull_count_desc:",
                "search_v4:official,open_source,verified_publisher:pull_count_desc:",
                "namespace:library",
                "namespace:acme",
                "legacy_search:",
            ]
        );
        let err = seed_tasks(&[Strategy::NamesFile("/nonexistent/names.txt".into())], 10).unwrap_err();
        assert!(matches!(err, HubError::NamesFile { .. }));
    }
}
