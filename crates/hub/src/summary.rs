//! What Hub says about a repository and its tags, parsed once at the edge.
//!
//! Every field is optional: Hub's endpoints each carry a different subset (v4 search has the
//! badge but no content types; namespace listings have content types but no badge; the 2018
//! detail shape has neither), and records from several of them are merged. The field set mirrors
//! the store's repository record, so the pipeline maps one onto the other.

use chrono::{DateTime, Utc};
use hubcensus_types::{Badge, Digest, MediaType, Platform};
use serde::{Deserialize, Serialize};

/// One repository, as far as the endpoints that saw it tell.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoSummary {
    /// The v4 search badge (`Some(Badge::None)` = community); `None` = not known (only v4
    /// search and the namespace it came from say).
    pub badge: Option<Badge>,
    /// Pulls: exact from `/v2` endpoints, a lower bound from v4's rounded strings (`"500K+"`).
    pub pull_count: Option<u64>,
    /// Stars.
    pub star_count: Option<u64>,
    /// Hub's `last_updated` (v4: `updated_at`).
    pub last_updated: Option<DateTime<Utc>>,
    /// Hub's `date_registered` (v4: `created_at`).
    pub date_registered: Option<DateTime<Utc>>,
    /// Hub's `status_description` (`active` / `inactive`).
    pub status: Option<String>,
    /// `image`, `plugin`, or absent (imageless repositories have none).
    pub repository_type: Option<String>,
    /// v4 search's `type` (`image`, `plugin`, `extension`).
    pub search_type: Option<String>,
    /// Hub's `content_types` (`image`, `helm`, `wasm`, `unrecognized`...); empty = nothing pushed.
    pub content_types: Option<Vec<String>>,
    /// Hub's `media_types` (config and manifest types seen in the repository).
    pub media_types: Option<Vec<String>>,
    /// Short description (metadata rules scan it: spam campaigns live here).
    pub description: Option<String>,
    /// Full description (markdown; detail endpoint only).
    pub full_description: Option<String>,
    /// Hub's `is_private`.
    pub is_private: Option<bool>,
    /// v4 search's `archived`.
    pub archived: Option<bool>,
    /// `Some(true)` when the detail endpoint answered 404 (private or gone: Hub does not say
    /// which); `Some(false)` when an endpoint listed or described it.
    pub unavailable: Option<bool>,
}

impl RepoSummary {
    /// Fills every field this record lacks from `other`. Values already here win: merge the
    /// more detailed record into the less detailed one's gaps, not the other way round.
    pub fn fill_from(&mut self, other: &RepoSummary) {
        fn fill<T: Clone>(mine: &mut Option<T>, theirs: &Option<T>) {
            if mine.is_none() {
                mine.clone_from(theirs);
            }
        }
        fill(&mut self.badge, &other.badge);
        fill(&mut self.pull_count, &other.pull_count);
        fill(&mut self.star_count, &other.star_count);
        fill(&mut self.last_updated, &other.last_updated);
        fill(&mut self.date_registered, &other.date_registered);
        fill(&mut self.status, &other.status);
        fill(&mut self.repository_type, &other.repository_type);
        fill(&mut self.search_type, &other.search_type);
        fill(&mut self.content_types, &other.content_types);
        fill(&mut self.media_types, &other.media_types);
        fill(&mut self.description, &other.description);
        fill(&mut self.full_description, &other.full_description);
        fill(&mut self.is_private, &other.is_private);
        fill(&mut self.archived, &other.archived);
        fill(&mut self.unavailable, &other.unavailable);
    }
}

/// One tag from the Hub tag listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagSummary {
    /// Tag name.
    pub name: String,
    /// Digest of what the tag points at (an index or a manifest).
    pub digest: Option<Digest>,
    /// `tag_last_pushed`: when the tag last moved.
    pub last_pushed: Option<DateTime<Utc>>,
    /// `last_updated` (equal to `tag_last_pushed` in every recorded sample).
    pub last_updated: Option<DateTime<Utc>>,
    /// `tag_status` (`active` / `inactive`: pushed or pulled in the past month).
    pub status: Option<String>,
    /// Media type of the tagged manifest or index.
    pub media_type: Option<MediaType>,
    /// `content_type` (`image`, `helm`, `wasm`, `model`...).
    pub content_type: Option<String>,
    /// `full_size`: the first image's compressed size (not a sum across platforms).
    pub full_size: Option<u64>,
    /// One entry per platform manifest, attestation (`unknown/unknown`) entries included as
    /// Hub lists them. May be empty (Hub's 2025-08 regression).
    pub images: Vec<TagImage>,
}

/// One `images[]` entry of a tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagImage {
    /// Platform (`unknown/unknown` for BuildKit attestations).
    pub platform: Platform,
    /// Platform manifest digest (nullable on Hub).
    pub digest: Option<Digest>,
    /// Compressed size.
    pub size: Option<u64>,
    /// When this platform's manifest was pushed.
    pub last_pushed: Option<DateTime<Utc>>,
}

impl TagSummary {
    /// When the tag last moved: `tag_last_pushed`, else `last_updated`.
    pub fn pushed_at(&self) -> Option<DateTime<Utc>> {
        self.last_pushed.or(self.last_updated)
    }

    /// The image for `wanted` (attestation entries never match), if Hub listed one.
    pub fn image_for(&self, wanted: &Platform) -> Option<&TagImage> {
        self.images.iter().find(|i| !i.platform.is_unknown() && wanted.accepts(&i.platform))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_keeps_what_is_known() {
        let mut listing = RepoSummary {
            pull_count: Some(12),
            content_types: Some(vec![]),
            unavailable: Some(false),
            ..RepoSummary::default()
        };
        let search = RepoSummary {
            badge: Some(Badge::VerifiedPublisher),
            pull_count: Some(10_000),
            content_types: None,
            ..RepoSummary::default()
        };
        listing.fill_from(&search);
        assert_eq!(listing.badge, Some(Badge::VerifiedPublisher));
        assert_eq!(listing.pull_count, Some(12), "the exact count stays");
        assert_eq!(listing.content_types, Some(vec![]), "known-empty is not unknown");
    }
}
