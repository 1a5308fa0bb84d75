//! Tag listings: which tags of a repository a census analyses.
//!
//! `ordering=last_updated` is documented as newest first, but Hub has served `-last_updated` as
//! oldest first and the default the other way round (reference §4), so the client checks the
//! order it got: newest-first is read only as far as the policy needs; oldest-first is asked for
//! again the other way round; no order at all means reading the whole listing (up to the page cap
//! and, anonymously, the offset limit) and sorting it here.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use crate::{
    HubClient, HubError, TagSummary,
    paging::{Direction, ListEnd, Listing, direction, read_listing},
    wire,
};
use hubcensus_types::RepoRef;

/// Which tags of a repository to analyse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TagPolicy {
    /// The most recently pushed tag (Sysdig analysed one image per repository).
    Latest,
    /// The N most recently pushed tags.
    Recent(u32),
    /// Every tag, newest first, at most `cap` per repository.
    All {
        /// Most tags taken from one repository.
        cap: u32,
    },
}

impl TagPolicy {
    fn limit(self) -> usize {
        match self {
            TagPolicy::Latest => 1,
            TagPolicy::Recent(n) => n.max(1) as usize,
            TagPolicy::All { cap } => cap.max(1) as usize,
        }
    }
}

/// The tags a policy selected, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagListing {
    /// Selected tags, most recently pushed first.
    pub tags: Vec<TagSummary>,
    /// Hub's `count` (all tags of the repository).
    pub count: Option<u64>,
    /// Whether the selection is certain: false when the anonymous limit or the page cap stopped
    /// the listing before the policy was satisfied.
    pub complete: bool,
    /// Orderings that were not honoured, limits hit, entries that did not parse.
    pub notes: Vec<String>,
}

impl HubClient {
    /// Lists the tags `policy` selects: `/v2/namespaces/{ns}/repositories/{repo}/tags`.
    ///
    /// # Errors
    ///
    /// [`HubError::NotFound`] for a private or missing repository; [`HubError::Malformed`],
    /// [`HubError::PaginationLoop`], [`HubError::TooManyPages`] for a listing that cannot be
    /// trusted; gate errors (see [`HubError::is_transient`]).
    pub async fn tags(&self, repo: &RepoRef, policy: &TagPolicy) -> Result<TagListing, HubError> {
        let want = policy.limit();
        let mut notes = Vec::new();
        let ordering = self.config().tag_ordering.clone();
        let first = read_listing(self, self.tags_url(repo, &ordering), Some(want)).await?;
        let (first_tags, first_order) = convert(repo, &first, &mut notes);
        let (listing, mut tags) = if matches!(first.end, ListEnd::Complete | ListEnd::PastEnd) {
            // Everything there is, is here: sort it ourselves.
            (first, first_tags)
        } else {
            match first_order {
                Direction::Descending | Direction::Unknown => (first, first_tags),
                Direction::Ascending => {
                    let other = opposite(&ordering);
                    notes.push(format!(
                        "{repo}: ordering={ordering} came oldest first; asking ordering={other}"
                    ));
                    let second = read_listing(self, self.tags_url(repo, &other), Some(want)).await?;
                    let (second_tags, second_order) = convert(repo, &second, &mut notes);
                    if matches!(second.end, ListEnd::Complete | ListEnd::PastEnd)
                        || matches!(second_order, Direction::Descending | Direction::Unknown)
                    {
                        (second, second_tags)
                    } else {
                        notes.push(format!(
                            "{repo}: ordering={other} is not newest first either; reading all tags"
                        ));
                        self.all_tags(repo, &ordering, &mut notes).await?
                    }
                }
                Direction::Unordered => {
                    notes.push(format!("{repo}: ordering={ordering} is not honoured; reading all tags"));
                    self.all_tags(repo, &ordering, &mut notes).await?
                }
            }
        };
        // Newest first; a tag without a push time goes last. Stable: ties keep Hub's order.
        tags.sort_by_key(|t| std::cmp::Reverse(t.pushed_at()));
        tags.truncate(want);
        let capped = matches!(listing.end, ListEnd::Capped);
        if capped {
            notes.push(format!(
                "{repo}: anonymous paging stopped after {} of {} tags",
                listing.entries.len(),
                listing.count.map_or("unknown".into(), |c| c.to_string())
            ));
        }
        let complete = !capped || tags.len() >= want;
        Ok(TagListing { tags, count: listing.count, complete, notes })
    }

    async fn all_tags(
        &self,
        repo: &RepoRef,
        ordering: &str,
        notes: &mut Vec<String>,
    ) -> Result<(Listing, Vec<TagSummary>), HubError> {
        let listing = read_listing(self, self.tags_url(repo, ordering), None).await?;
        let (tags, _) = convert(repo, &listing, notes);
        Ok((listing, tags))
    }

    fn tags_url(&self, repo: &RepoRef, ordering: &str) -> Url {
        let mut url =
            self.url(&format!("/v2/namespaces/{}/repositories/{}/tags", repo.namespace(), repo.name()));
        url.query_pairs_mut()
            .append_pair("page_size", &self.config().page_size().to_string())
            .append_pair("ordering", ordering);
        url
    }
}

/// Parses a listing's tags and says which way their push times run.
fn convert(repo: &RepoRef, listing: &Listing, notes: &mut Vec<String>) -> (Vec<TagSummary>, Direction) {
    let tags: Vec<TagSummary> = listing
        .entries
        .iter()
        .cloned()
        .filter_map(|v: Value| wire::tag(v).map_err(|e| notes.push(format!("{repo}: {e}"))).ok())
        .collect();
    let times: Vec<_> = tags.iter().filter_map(TagSummary::pushed_at).collect();
    (tags, direction(&times))
}

fn opposite(ordering: &str) -> String {
    match ordering.strip_prefix('-') {
        Some(field) => field.to_owned(),
        None => format!("-{ordering}"),
    }
}
