//! In-memory feed matching, for `hubcensus scan --feed FILE` (no database).
//!
//! This is the same decision the census makes in SQL with the view `image_feed_matches`
//! (migrations/): an image indicator matches a feed entry of the same kind and value; a
//! `newly_registered_domain` entry counts only when it is dated within `nrd_window_days` before
//! the image's push date (both ends included); every other category counts whatever its date.
//! The SQL joins on exact (kind, value) because the extractor stores a `Domain` indicator for
//! every host's registrable domain; [`FeedSet::matches`] derives that domain from `Host`
//! indicators itself, so callers passing only hosts get the same answer.

use std::collections::{BTreeSet, HashMap};

use chrono::{Days, NaiveDate};
use hubcensus_types::{Category, Indicator, IndicatorKind};

use crate::{feed::ParsedFeed, host::registrable_of_normalised};

/// One indicator listed by one feed under one category.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FeedMatch {
    /// The category the feed assigns.
    pub category: Category,
    /// The listed indicator (for a host matched through its registrable domain, the domain).
    pub indicator: Indicator,
    /// The feed's name, as given to [`FeedSet::add`].
    pub feed: String,
    /// The date the feed gives the entry.
    pub listed_on: Option<NaiveDate>,
}

/// Where one listed (kind, value) comes from.
#[derive(Debug, Clone)]
struct Listing {
    feed: usize,
    category: Category,
    listed_on: Option<NaiveDate>,
}

/// Many parsed feeds, indexed by (kind, value).
#[derive(Debug, Clone, Default)]
pub struct FeedSet {
    names: Vec<String>,
    index: HashMap<(IndicatorKind, String), Vec<Listing>>,
    entries: usize,
}

impl FeedSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a parsed feed under a name (its file name, say).
    pub fn add(&mut self, name: impl Into<String>, feed: ParsedFeed) {
        let id = self.names.len();
        self.names.push(name.into());
        for e in feed.entries {
            self.entries += 1;
            self.index.entry((e.kind, e.value)).or_default().push(Listing {
                feed: id,
                category: e.category,
                listed_on: e.listed_on,
            });
        }
    }

    /// The number of feeds added.
    pub fn feeds(&self) -> usize {
        self.names.len()
    }

    /// The number of entries across all feeds.
    pub fn entries(&self) -> usize {
        self.entries
    }

    /// The listings that apply to these indicators, deduplicated and sorted.
    ///
    /// `pushed` is the image's push date. Without it no `newly_registered_domain` entry is
    /// judged (there is no "before" to be newly registered in), as in SQL where a NULL
    /// `pushed_at` never satisfies the window.
    pub fn matches(
        &self,
        indicators: &[Indicator],
        pushed: Option<NaiveDate>,
        nrd_window_days: u32,
    ) -> Vec<FeedMatch> {
        let window_start = pushed.and_then(|p| p.checked_sub_days(Days::new(u64::from(nrd_window_days))));
        let mut out = BTreeSet::new();
        let mut look = |kind: IndicatorKind, value: &str| {
            let Some(listings) = self.index.get(&(kind, value.to_owned())) else { return };
            for l in listings {
                if l.category == Category::NewlyRegisteredDomain {
                    let (Some(start), Some(end), Some(on)) = (window_start, pushed, l.listed_on) else {
                        continue;
                    };
                    if on < start || on > end {
                        continue;
                    }
                }
                out.insert(FeedMatch {
                    category: l.category,
                    indicator: Indicator { kind, value: value.to_owned() },
                    feed: self.names[l.feed].clone(),
                    listed_on: l.listed_on,
                });
            }
        };
        for ind in indicators {
            look(ind.kind, &ind.value);
            if ind.kind == IndicatorKind::Host
                && let Some(domain) = registrable_of_normalised(&ind.value)
            {
                look(IndicatorKind::Domain, domain);
            }
        }
        out.into_iter().collect()
    }
}
