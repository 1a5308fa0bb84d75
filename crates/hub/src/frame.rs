//! The sampling frame built from many tasks' sightings: one record per repository, merged, with
//! its exclusion decided from everything seen.

use std::collections::{BTreeMap, btree_map::Entry};

use hubcensus_types::{Badge, ExclusionReason, RepoRef};

use crate::{DiscoveredRepo, ExclusionPolicy, RepoSummary, Source, classify};

/// Repositories seen by discovery, merged across strategies.
///
/// Two rules make the merged record right whatever order tasks finish in:
///
/// - values from the richer source win, gaps are filled from the others (detail > namespace
///   listing > v4 search > legacy search);
/// - a repository whose badge no record gives takes its namespace's badge, as v4 search reported
///   it for any repository of that namespace: Docker's trust programmes are per publisher, and
///   namespace listings and names files carry no badge (reference §1.3).
///
/// The pipeline keeps the same frame in Postgres; this in-memory one serves tools and tests.
#[derive(Debug, Clone, Default)]
pub struct Frame {
    repos: BTreeMap<RepoRef, DiscoveredRepo>,
    namespace_badges: BTreeMap<String, Badge>,
}

impl Frame {
    /// An empty frame.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one sighting.
    pub fn add(&mut self, repo: DiscoveredRepo) {
        if let Some(badge) = repo.summary.badge.filter(|_| !repo.reference.is_official()) {
            self.namespace_badges.entry(repo.reference.namespace().to_owned()).or_insert(badge);
        }
        match self.repos.entry(repo.reference.clone()) {
            Entry::Vacant(slot) => {
                slot.insert(repo);
            }
            Entry::Occupied(mut slot) => {
                let held = slot.get_mut();
                if repo.source.detail_rank() > held.source.detail_rank() {
                    let mut richer = repo.summary;
                    richer.fill_from(&held.summary);
                    held.summary = richer;
                    held.source = repo.source;
                } else {
                    held.summary.fill_from(&repo.summary);
                }
            }
        }
    }

    /// Repositories seen.
    pub fn len(&self) -> usize {
        self.repos.len()
    }

    /// Whether nothing was seen.
    pub fn is_empty(&self) -> bool {
        self.repos.is_empty()
    }

    /// The merged record of a repository, its badge inherited from its namespace when unknown.
    pub fn summary(&self, reference: &RepoRef) -> Option<RepoSummary> {
        let repo = self.repos.get(reference)?;
        let mut summary = repo.summary.clone();
        if summary.badge.is_none() {
            summary.badge = self.namespace_badges.get(reference.namespace()).copied();
        }
        Some(summary)
    }

    /// Every repository with its exclusion under `policy`, in name order.
    pub fn classified(&self, policy: &ExclusionPolicy) -> Vec<(RepoRef, Option<ExclusionReason>)> {
        self.repos
            .keys()
            .map(|r| {
                let summary = self.summary(r).unwrap_or_default();
                (r.clone(), classify(r, &summary, policy))
            })
            .collect()
    }

    /// Which strategy gave a repository's record.
    pub fn source(&self, reference: &RepoRef) -> Option<Source> {
        self.repos.get(reference).map(|r| r.source)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::wire;

    fn sighting(name: &str, source: Source, summary: RepoSummary) -> DiscoveredRepo {
        DiscoveredRepo { reference: name.parse().unwrap(), summary, exclusion: None, source }
    }

    #[test]
    fn namespace_badges_and_richer_sources_win() {
        let mut frame = Frame::new();
        let listed = RepoSummary {
            content_types: Some(vec!["image".into()]),
            pull_count: Some(7),
            ..Default::default()
        };
        frame.add(sighting("acme/a", Source::Namespace, listed.clone()));
        frame.add(sighting("acme/b", Source::Namespace, listed));
        // Search saw only acme/b, with its badge and a rounded count.
        let hit =
            RepoSummary { badge: Some(Badge::VerifiedPublisher), pull_count: Some(0), ..Default::default() };
        frame.add(sighting("acme/b", Source::SearchV4, hit));
        let classified = frame.classified(&ExclusionPolicy::default());
        assert_eq!(
            classified.iter().map(|(_, e)| *e).collect::<Vec<_>>(),
            [Some(ExclusionReason::VerifiedPublisher); 2],
            "acme/a inherits its namespace's badge"
        );
        let b = frame.summary(&"acme/b".parse().unwrap()).unwrap();
        assert_eq!(b.pull_count, Some(7), "the listing's exact count wins");
        assert_eq!(frame.source(&"acme/b".parse().unwrap()), Some(Source::Namespace));
    }

    /// A recorded response with the status Hub gives an inactive repository (`status` 0,
    /// `status_description` "inactive": docker/hub-mcp's repository schema).
    fn inactive(fixture: &str) -> Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(fixture);
        let mut v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        v["status"] = json!(0);
        v["status_description"] = json!("inactive");
        v
    }

    /// Issue 18: Hub's inactive status reaches the frame from a namespace listing or from the
    /// detail, never from a search hit, whichever arrives first; the policy decides.
    #[test]
    fn issue_18_inactive_comes_from_the_listing_or_the_detail() {
        let all = ExclusionPolicy::default();
        let mut keep_inactive = ExclusionPolicy::default();
        keep_inactive.reasons.remove(&ExclusionReason::Inactive);

        let (reference, listed) =
            wire::repo_entry(inactive("hub-namespace-repository-entry.ollama.2025-03.json")).unwrap();
        assert_eq!(listed.status.as_deref(), Some("inactive"));
        assert_eq!(classify(&reference, &listed, &all), Some(ExclusionReason::Inactive));
        assert_eq!(classify(&reference, &listed, &keep_inactive), None);

        let hit = wire::search_hit(json!({
            "id": "ollama/ollama", "name": "ollama/ollama", "slug": "ollama/ollama", "type": "image",
            "badge": null, "pull_count": "10M+", "updated_at": "2025-03-04T04:01:22.754331Z",
            "archived": false
        }))
        .unwrap();
        assert_eq!(hit.summary.status, None, "v4 search carries no status");
        assert_eq!(classify(&reference, &hit.summary, &all), None, "so a hit alone is kept");

        // Search first, then the listing; and the other way round.
        for order in [[Source::SearchV4, Source::Namespace], [Source::Namespace, Source::SearchV4]] {
            let mut frame = Frame::new();
            for source in order {
                let summary = if source == Source::SearchV4 { hit.summary.clone() } else { listed.clone() };
                frame.add(DiscoveredRepo { reference: reference.clone(), summary, exclusion: None, source });
            }
            assert_eq!(frame.classified(&all), [(reference.clone(), Some(ExclusionReason::Inactive))]);
            assert_eq!(frame.classified(&keep_inactive), [(reference.clone(), None)]);
        }

        // The detail, merged into a search hit (full descriptions, names files, the tags
        // stage's look-up): the same decision.
        let (datasette, detail) =
            wire::repo_entry(inactive("hub-repository-detail.datasette.2023-03-31.json")).unwrap();
        let mut merged = RepoSummary { badge: Some(Badge::None), ..hit.summary };
        merged.fill_from(&detail);
        assert_eq!(classify(&datasette, &merged, &all), Some(ExclusionReason::Inactive));
        // A verified publisher is counted under its badge, once.
        merged.badge = Some(Badge::VerifiedPublisher);
        assert_eq!(classify(&datasette, &merged, &all), Some(ExclusionReason::VerifiedPublisher));
    }
}
