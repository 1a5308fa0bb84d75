//! Issue 17, point 3: frame coverage as a figure. hubsim hides a share of its repositories from
//! search; discovery by search, namespace crawl and a names file records what each source
//! reported and collected, and the capture–recapture estimates are checked against hubsim's
//! truth: the independent pair (search × names file) covers the true size with its 95%
//! interval; the dependent pair (search × namespace crawl) cannot see the repositories of
//! namespaces search never reached, and its estimate falls short of the truth by exactly those,
//! as docs/methodology.md says it must.

use std::collections::{BTreeMap, BTreeSet};

use hubcensus_hub::{Strategy, seed_tasks};
use hubcensus_pipeline::Until;
use hubcensus_store::{Store, coverage::Coverage};
use hubcensus_types::Stage;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::common::{Harness, fast_config};

/// Share of community repositories hubsim's search leaves out.
const HIDDEN: f64 = 0.3;

/// Whether the names dump lists the `i`-th repository: about half of them, by a multiplicative
/// hash of the index alone, so the dump is independent of what search hides (hubsim draws that
/// from its own seeded stream).
fn in_dump(i: usize) -> bool {
    (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 63 == 0
}

fn source<'a>(c: &'a Coverage, name: &str) -> &'a hubcensus_store::coverage::SourceCoverage {
    c.sources.iter().find(|s| s.source == name).unwrap_or_else(|| panic!("{name} in {c:?}"))
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn issue_17_capture_recapture_estimates_the_frame_hubsim_hid_from_search(pool: PgPool) {
    let h = Harness::start(Store::from_pool(pool), 800, |cfg| cfg.population.search_hidden = HIDDEN).await;
    let truth = &h.truth;
    let public: Vec<&str> =
        truth.repositories.iter().filter(|r| !r.private).map(|r| r.repository.as_str()).collect();
    assert_eq!(truth.frame.public, public.len() as u64);
    let hidden = truth.frame.search_hidden;
    assert!(hidden > 100, "hubsim hid {hidden} of {} public repositories", public.len());

    // A names dump made outside Hub's search: about half of the public repositories.
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("names.txt");
    let listed: Vec<&str> = public.iter().enumerate().filter(|(i, _)| in_dump(*i)).map(|(_, r)| *r).collect();
    std::fs::write(&dump, listed.join("\n") + "\n").unwrap();

    let (census, _) = h.census(fast_config());
    let mut plan = h.plan(false);
    plan.seeds = seed_tasks(&[Strategy::Search, Strategy::NamesFile(dump)], 100).unwrap();
    let run = census.start(&plan).await.unwrap();
    assert!(census.work(&[Stage::Discover], Until::Drained, CancellationToken::new()).await.unwrap().drained);
    let coverage = h.store.coverage(None).await.unwrap().unwrap();
    assert_eq!(coverage.run_id, run.run_id());

    // Collected ÷ reported: search reports its own index (the hidden repositories are not in
    // its totals either) and collects all of it; the names file and the crawl collect what
    // they report.
    let search = source(&coverage, "search_v4");
    assert_eq!(search.reported, Some((public.len() as u64 - hidden) as i64), "{search:?}");
    assert_eq!(search.collected, search.reported.unwrap(), "{search:?}");
    assert_eq!(search.tasks, 2, "the community seed and the trusted one, each under the cap: {search:?}");
    let names = source(&coverage, "names_file");
    assert_eq!((names.reported, names.collected), (Some(listed.len() as i64), listed.len() as i64));
    let crawl = source(&coverage, "namespace");
    assert_eq!(crawl.reported, Some(crawl.collected), "{crawl:?}");
    assert_eq!(crawl.ratio, Some(1.0));

    // Search × names file: independent by construction, so the truth lies in the interval.
    let pair = |a: &str, b: &str| {
        coverage
            .estimates
            .iter()
            .find(|e| e.first_source == a && e.second_source == b)
            .unwrap_or_else(|| panic!("{a} × {b} in {coverage:?}"))
    };
    let independent = pair("search_v4", "names_file");
    assert!(independent.independent);
    let c = independent.chapman;
    let size = public.len() as f64;
    assert!(c.low <= size && size <= c.high, "truth {size} outside {c:?}");
    assert!((c.observed as f64) < size, "the pair alone did not see everything: {c:?}");
    assert!(c.low >= c.observed as f64);

    // Search × namespace crawl: the crawl lists every namespace search saw, so it saw all that
    // search did (m = n1) and the estimate collapses to what the crawl saw — the public
    // repositories of namespaces with at least one searchable repository. The hidden
    // repositories of namespaces search never reached are missed, and the estimate is low by
    // exactly their number.
    let dependent = pair("search_v4", "namespace");
    assert!(!dependent.independent);
    let d = dependent.chapman;
    assert_eq!(d.both, d.first, "{d:?}");
    assert!(d.variance == 0.0 && d.low == d.high, "{d:?}");
    let mut namespaces: BTreeMap<&str, bool> = BTreeMap::new();
    for r in truth.repositories.iter().filter(|r| !r.private) {
        let ns = r.repository.split_once('/').map_or("library", |(ns, _)| ns);
        *namespaces.entry(ns).or_default() |= !r.search_hidden;
    }
    let unreached: BTreeSet<&str> =
        namespaces.iter().filter(|(_, seen)| !**seen).map(|(ns, _)| *ns).collect();
    let missed = truth
        .repositories
        .iter()
        .filter(|r| !r.private && r.repository.split_once('/').is_some_and(|(ns, _)| unreached.contains(ns)))
        .count();
    assert!(missed > 0, "some namespaces are wholly hidden from search");
    assert!((d.estimate - (size - missed as f64)).abs() < 1e-6, "{missed} missed: {d:?}");
}
