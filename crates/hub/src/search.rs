//! Search tasks: v4 (the website's search, the only source of badges) and the legacy
//! `/v2/search/repositories` fallback, both sharded past their caps.
//!
//! v4 refuses `from + size > 2500` and legacy search saturates its `count` at 10,000, so no single
//! query reaches more. A query over the cap is split into shards — the query plus one more
//! character of [`SHARD_ALPHABET`] — recursively until every shard fits, and read from both sort
//! orders. Every namespace seen becomes a namespace crawl, which no search cap limits; that also
//! catches the few repositories no shard reaches (a name that is a substring of more than a cap's
//! worth of others).

use hubcensus_types::{Badge, RepoRef};
use url::Url;

use crate::{
    DiscoveredRepo, DiscoveryTask, HubClient, HubError, RepoSummary, SHARD_ALPHABET, SearchSort, Source,
    TaskOutcome, classify,
    paging::{ListEnd, read_listing},
    task::OutcomeBuilder,
    wire,
};

/// Runs a v4 search shard.
pub(crate) async fn run_v4(
    client: &HubClient,
    query: &str,
    sort: SearchSort,
    badges: &[Badge],
) -> Result<TaskOutcome, HubError> {
    let config = client.config();
    let cap = config.search_cap.max(1);
    let size = config.page_size();
    let mut outcome = OutcomeBuilder::default();
    let mut total: Option<u64> = None;
    let mut from: u32 = 0;
    let mut refused_early = false;
    while from < cap {
        let url = v4_url(client, query, sort, badges, from, size.min(cap - from));
        let body = match client.get(&url).await {
            Ok(body) => body,
            // v4 answers 400 past its window; a smaller window than configured is a cap too.
            Err(HubError::Status { status: 400, .. }) if from > 0 => {
                outcome.note(format!(
                    "v4 search {query:?}: refused at from={from}, before the configured cap {cap}"
                ));
                refused_early = true;
                break;
            }
            Err(e) => return Err(e),
        };
        let page = wire::search_page(&body)
            .map_err(|detail| HubError::Malformed { url: url.to_string(), detail })?;
        total = page.total.or(total);
        let served = page.results.len() as u32;
        for value in page.results {
            match wire::search_hit(value) {
                Ok(hit) => {
                    if let Some(badge) = &hit.unknown_badge {
                        outcome.note(format!("{}: unknown badge {badge:?} (kept as unknown)", hit.reference));
                    }
                    seen(client, &mut outcome, hit.reference, hit.summary, Source::SearchV4);
                }
                Err(e) => outcome.note(format!("v4 search {query:?} from={from}: {e}")),
            }
        }
        from += size.min(cap - from);
        if served == 0 || total.is_some_and(|t| u64::from(from) >= t) {
            break;
        }
    }
    outcome.reported(total);
    let oversized = refused_early || total.is_some_and(|t| t > u64::from(cap));
    if oversized {
        outcome.note(format!(
            "v4 search {query:?} ({}) has {} hits, over the cap of {cap}: sharding",
            badge_list(badges),
            total.map_or("unknown".into(), |t| t.to_string())
        ));
        if sort == SearchSort::PRIMARY {
            outcome.push_follow_up(DiscoveryTask::SearchV4 {
                query: query.to_owned(),
                sort: sort.reversed(),
                badges: badges.to_vec(),
            });
            shard(client, &mut outcome, query, |q| DiscoveryTask::SearchV4 {
                query: q,
                sort: SearchSort::PRIMARY,
                badges: badges.to_vec(),
            });
        }
    }
    Ok(outcome.finish())
}

/// Runs a legacy search query, following `next` links.
pub(crate) async fn run_legacy(client: &HubClient, query: &str) -> Result<TaskOutcome, HubError> {
    let config = client.config();
    let mut url = client.url("/v2/search/repositories/");
    url.query_pairs_mut()
        .append_pair("query", query)
        .append_pair("page_size", &config.page_size().to_string());
    let listing = read_listing(client, url, None).await?;
    let mut outcome = OutcomeBuilder::default();
    outcome.reported(listing.count);
    for value in listing.entries {
        match wire::legacy_hit(value) {
            Ok((reference, summary)) => seen(client, &mut outcome, reference, summary, Source::LegacySearch),
            Err(e) => outcome.note(format!("legacy search {query:?}: {e}")),
        }
    }
    let saturated = listing.count.is_some_and(|c| c >= u64::from(config.legacy_search_cap));
    if saturated || listing.end == ListEnd::Capped {
        outcome.note(format!(
            "legacy search {query:?}: {} (count {}): sharding",
            if saturated { "saturated" } else { "paging refused" },
            listing.count.map_or("unknown".into(), |c| c.to_string())
        ));
        shard(client, &mut outcome, query, |query| DiscoveryTask::LegacySearch { query });
    }
    Ok(outcome.finish())
}

fn v4_url(client: &HubClient, query: &str, sort: SearchSort, badges: &[Badge], from: u32, size: u32) -> Url {
    let (sort_field, order) = sort.params();
    let mut url = client.url("/api/search/v4");
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("query", query)
            .append_pair("from", &from.to_string())
            .append_pair("size", &size.to_string())
            .append_pair("sort", sort_field)
            .append_pair("order", order);
        if !badges.is_empty() {
            q.append_pair("badges", &badge_list(badges));
        }
    }
    url
}

fn badge_list(badges: &[Badge]) -> String {
    if badges.is_empty() {
        return "any badge".into();
    }
    badges.iter().map(|b| b.as_str()).collect::<Vec<_>>().join(",")
}

/// Emits the shards of `query`, unless it is already as long as a shard may grow.
fn shard(
    client: &HubClient,
    outcome: &mut OutcomeBuilder,
    query: &str,
    task: impl Fn(String) -> DiscoveryTask,
) {
    if query.chars().count() >= client.config().max_query_len {
        outcome.note(format!(
            "shard {query:?} is still over the cap at the longest query allowed; not split further"
        ));
        return;
    }
    for c in SHARD_ALPHABET.chars() {
        outcome.push_follow_up(task(format!("{query}{c}")));
    }
}

/// Records a repository a search saw, and its namespace for a crawl.
fn seen(
    client: &HubClient,
    outcome: &mut OutcomeBuilder,
    reference: RepoRef,
    summary: RepoSummary,
    source: Source,
) {
    let config = client.config();
    if config.crawl_seen_namespaces {
        let badge = if reference.is_official() { Some(Badge::Official) } else { summary.badge };
        outcome.push_follow_up(DiscoveryTask::namespace(reference.namespace(), badge));
    }
    let exclusion = classify(&reference, &summary, &config.exclude);
    outcome.push_repo(DiscoveredRepo { reference, summary, exclusion, source });
}
