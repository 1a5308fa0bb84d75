//! Following Hub's `next` links without being led astray.
//!
//! Links are absolute in every recent capture, relative in older clients' experience
//! (trufflehog resolves them against the base), and once had `&` serialised as `\u0026`; a
//! lying or broken server can also send a link that repeats, never ends, or points at another
//! host. So each link is resolved against the page it came from, must stay on Hub's origin (the
//! login token goes nowhere else), must not have been read before, and a listing stops with an
//! error after a page cap. Anonymous callers stop at Hub's offset limit.

use std::collections::HashSet;

use serde_json::Value;
use url::Url;

use crate::{HubClient, HubError, wire};

/// How a listing ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListEnd {
    /// `next` was null: everything was read.
    Complete,
    /// Enough entries were read for the caller.
    Enough,
    /// Anonymous paging limit (a 403, or the configured offset reached).
    Capped,
    /// A later page answered 404 (the listing shrank while it was read).
    PastEnd,
}

/// A listing read page by page.
#[derive(Debug)]
pub(crate) struct Listing {
    /// `count` of the last page read.
    pub(crate) count: Option<u64>,
    /// Raw entries, in the order served.
    pub(crate) entries: Vec<Value>,
    /// How it ended.
    pub(crate) end: ListEnd,
}

/// Reads a `/v2` listing from `first`, following `next`, until it ends, `want` entries are
/// read, or the anonymous limit is reached.
pub(crate) async fn read_listing(
    client: &HubClient,
    first: Url,
    want: Option<usize>,
) -> Result<Listing, HubError> {
    let config = client.config();
    let mut pager = Pager::new(first, config.max_pages);
    let mut listing = Listing { count: None, entries: Vec::new(), end: ListEnd::Complete };
    while let Some(url) = pager.current().cloned() {
        if want.is_some_and(|w| listing.entries.len() >= w) {
            listing.end = ListEnd::Enough;
            break;
        }
        // Do not ask for a page Hub will refuse anonymously.
        if pager.pages > 0
            && !client.is_logged_in()
            && listing.entries.len() as u64 >= u64::from(config.anonymous_offset_limit)
        {
            listing.end = ListEnd::Capped;
            break;
        }
        let body = match client.get(&url).await {
            Ok(body) => body,
            Err(HubError::PagingCap { .. }) => {
                listing.end = ListEnd::Capped;
                break;
            }
            // Some callers see the limit earlier, with another message (reference §1.4).
            Err(HubError::Forbidden { .. }) if pager.pages > 0 && !client.is_logged_in() => {
                listing.end = ListEnd::Capped;
                break;
            }
            Err(HubError::NotFound { .. }) if pager.pages > 0 => {
                listing.end = ListEnd::PastEnd;
                break;
            }
            Err(e) => return Err(e),
        };
        let page =
            wire::list_page(&body).map_err(|detail| HubError::Malformed { url: url.to_string(), detail })?;
        listing.count = page.count.or(listing.count);
        let empty = page.results.is_empty();
        listing.entries.extend(page.results);
        // A page with nothing on it that still links onwards is a lie; stop rather than loop.
        let next = if empty { None } else { page.next.as_deref() };
        pager.advance(client, &url, next)?;
    }
    Ok(listing)
}

/// The `next` chain of one listing.
#[derive(Debug)]
pub(crate) struct Pager {
    first: Url,
    current: Option<Url>,
    seen: HashSet<String>,
    /// Pages read.
    pub(crate) pages: u32,
    max_pages: u32,
}

impl Pager {
    pub(crate) fn new(first: Url, max_pages: u32) -> Self {
        let seen = HashSet::from([first.to_string()]);
        Self { current: Some(first.clone()), first, seen, pages: 0, max_pages: max_pages.max(1) }
    }

    /// The page to read next, if any.
    pub(crate) fn current(&self) -> Option<&Url> {
        self.current.as_ref()
    }

    /// Records that `read` was read and moves to its `next` link.
    pub(crate) fn advance(
        &mut self,
        client: &HubClient,
        read: &Url,
        next: Option<&str>,
    ) -> Result<(), HubError> {
        self.pages += 1;
        let Some(raw) = next else {
            self.current = None;
            return Ok(());
        };
        let next = resolve_next(read, raw)?;
        if !client.is_hub(&next) {
            return Err(HubError::Malformed {
                url: read.to_string(),
                detail: format!("next link {next} leaves the Hub origin"),
            });
        }
        if !self.seen.insert(next.to_string()) {
            return Err(HubError::PaginationLoop { url: next.to_string() });
        }
        if self.pages >= self.max_pages {
            return Err(HubError::TooManyPages { url: self.first.to_string(), pages: self.max_pages });
        }
        self.current = Some(next);
        Ok(())
    }
}

/// Resolves a `next` link against the page it came from: absolute or relative, with `&`
/// possibly still written as `\u0026`.
pub(crate) fn resolve_next(current: &Url, raw: &str) -> Result<Url, HubError> {
    let cleaned = raw.trim().replace("\\u0026", "&");
    current.join(&cleaned).map_err(|e| HubError::Malformed {
        url: current.to_string(),
        detail: format!("bad next link {raw:?}: {e}"),
    })
}

/// Which way a sequence of keys runs, judged by its adjacent pairs (ties ignored): servers
/// that sort by a collation we do not share still come out as mostly one way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Ascending,
    Descending,
    /// Too few distinct neighbours to tell.
    Unknown,
    /// Neither way.
    Unordered,
}

pub(crate) fn direction<K: PartialOrd>(keys: &[K]) -> Direction {
    let (mut up, mut down) = (0usize, 0usize);
    for pair in keys.windows(2) {
        match pair[0].partial_cmp(&pair[1]) {
            Some(std::cmp::Ordering::Less) => up += 1,
            Some(std::cmp::Ordering::Greater) => down += 1,
            _ => {}
        }
    }
    let total = up + down;
    if total == 0 {
        Direction::Unknown
    } else if up * 10 >= total * 9 {
        Direction::Ascending
    } else if down * 10 >= total * 9 {
        Direction::Descending
    } else {
        Direction::Unordered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_links_absolute_relative_and_escaped() {
        let page =
            Url::parse("https://hub.docker.com/v2/namespaces/x/repositories?page=1&page_size=100").unwrap();
        let abs =
            resolve_next(&page, "https://hub.docker.com/v2/namespaces/x/repositories?page=2&page_size=100");
        assert_eq!(abs.unwrap().query(), Some("page=2&page_size=100"));
        let rel = resolve_next(&page, "/v2/namespaces/x/repositories?page=3\\u0026page_size=100").unwrap();
        assert_eq!(rel.as_str(), "https://hub.docker.com/v2/namespaces/x/repositories?page=3&page_size=100");
        let bare = resolve_next(&page, "?page=4&page_size=100").unwrap();
        assert_eq!(bare.path(), "/v2/namespaces/x/repositories");
    }

    #[test]
    fn directions() {
        assert_eq!(direction(&["a", "b", "b", "c"]), Direction::Ascending);
        assert_eq!(direction(&[5, 4, 3, 1]), Direction::Descending);
        assert_eq!(direction(&[1, 1]), Direction::Unknown);
        assert_eq!(direction(&[1, 5, 2, 4, 3]), Direction::Unordered);
        let mostly: Vec<u32> = (0..40).chain([3]).chain(41..60).collect();
        assert_eq!(direction(&mostly), Direction::Ascending, "one collation quirk in sixty");
    }
}
