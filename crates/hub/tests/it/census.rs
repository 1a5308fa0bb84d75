//! Running discovery to completion against hubsim finds exactly the population its ground truth
//! lists, with the truth's exclusions, past the search cap and the anonymous paging limit.

use std::time::Instant;

use hubcensus_hub::{DiscoveryTask, HubCredentials, NamespacePart, Strategy, seed_tasks};
use hubcensus_hubsim::FaultConfig;

use crate::common::*;

/// 2,000 repositories, a client-side search cap of 200 (hubsim's own is Hub's 2,500) so the
/// search is sharded two levels deep, and an anonymous offset limit of 200 so the biggest
/// namespace (500 repositories) is read from both ends and then in name slices.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_discovery_finds_exactly_the_truth_past_the_caps() {
    let sim = start(2_000, |c| c.service.anonymous_offset_cap = Some(200)).await;
    let client = client_for(sim.hub_url(), |c| {
        c.search_cap = 200;
        c.page_size = 50;
    });
    let started = Instant::now();
    let seeds = seed_tasks(&[Strategy::Search, Strategy::Namespaces(vec![])], 500).unwrap();
    let run = drain(&client, seeds).await;
    let elapsed = started.elapsed();
    let want = truth_map(&truth(&sim), false);
    assert_same(&frame_map(&run.frame), &want);
    let noted = |s: &str| run.notes.iter().filter(|n| n.contains(s)).count();
    assert!(noted("over the cap of 200: sharding") > 1, "search was sharded");
    assert!(noted("anonymous paging stopped") >= 2, "the big namespace hit the limit from both ends");
    assert!(noted("slicing by name") >= 1, "and was sliced");
    figures(&format!("anonymous, cap 200, {elapsed:.1?}"), &want, &run, &client);
    sim.shutdown().await;
}

/// Logged in, the same population needs no namespace slices: one task per namespace.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logged_in_discovery_reads_namespaces_whole() {
    let sim = start(2_000, |c| c.service.anonymous_offset_cap = Some(200)).await;
    let client = client_for(sim.hub_url(), |c| {
        c.search_cap = 200;
        c.page_size = 50;
        c.credentials = Some(HubCredentials::new("census", "census-pat"));
    });
    client.login().await.unwrap();
    assert!(client.is_logged_in());
    let run = drain(&client, seed_tasks(&[Strategy::Search], 500).unwrap()).await;
    assert_same(&frame_map(&run.frame), &truth_map(&truth(&sim), false));
    assert!(!run.notes.iter().any(|n| n.contains("anonymous paging")), "{:?}", run.notes);
    sim.shutdown().await;
}

/// At Hub's real caps (v4 2,500, page size 100) a population bigger than the cap: the root query
/// is read from both ends and sharded once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_caps_with_a_population_over_the_search_cap() {
    let sim = start(3_000, |_| {}).await;
    let client = client_for(sim.hub_url(), |_| {});
    let run = drain(&client, seed_tasks(&[Strategy::Search], 500).unwrap()).await;
    let want = truth_map(&truth(&sim), false);
    assert_same(&frame_map(&run.frame), &want);
    assert!(run.notes.iter().any(|n| n.contains("over the cap of 2500")), "{:?}", run.notes);
    figures("real caps", &want, &run, &client);
    sim.shutdown().await;
}

/// Injected faults (500/502/503, resets, truncated bodies, slow answers) cost retries, not
/// repositories.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_cost_retries_not_repositories() {
    let sim = start(600, |c| {
        c.faults = FaultConfig { slow_ms: 20, ..FaultConfig::uniform(0.05) };
    })
    .await;
    let client = client_for(sim.hub_url(), |c| {
        c.search_cap = 100;
        c.page_size = 50;
    });
    let run = drain(&client, seed_tasks(&[Strategy::Search], 500).unwrap()).await;
    assert_same(&frame_map(&run.frame), &truth_map(&truth(&sim), false));
    assert!(sim.faults_injected() > 10, "faults were injected: {}", sim.faults_injected());
    sim.shutdown().await;
}

/// A names file (every repository of the truth, private ones included, plus comments, junk and
/// a name that does not exist) merged with search: the whole truth, private repositories as
/// unavailable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_file_and_search_together_give_the_whole_truth() {
    let sim = start(300, |_| {}).await;
    let truth = truth(&sim);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("names.txt");
    let mut text = String::from("# a public name dump\n\n");
    for r in &truth.repositories {
        // Officials as dumps list them: bare names.
        text.push_str(r.repository.strip_prefix("library/").unwrap_or(&r.repository));
        text.push('\n');
    }
    text.push_str("Not A Name\nsomebody/never-pushed-anything\nbad/name:with-tag\n");
    std::fs::write(&path, text).unwrap();

    let client = client_for(sim.hub_url(), |c| c.search_cap = 100);
    let seeds = seed_tasks(&[Strategy::NamesFile(path.clone()), Strategy::Search], 40).unwrap();
    assert!(seeds.len() > 8, "the file is chunked");
    let run = drain(&client, seeds).await;
    let mut want = truth_map(&truth, true);
    want.insert("somebody/never-pushed-anything".into(), Some(hubcensus_types::ExclusionReason::Unavailable));
    assert_same(&frame_map(&run.frame), &want);
    let bad: Vec<_> = run.notes.iter().filter(|n| n.contains("names.txt:")).collect();
    assert_eq!(bad.len(), 2, "two bad lines reported with their line numbers: {bad:?}");
    sim.shutdown().await;
}

/// Legacy search alone, saturated at a small cap so it shards: every public repository is found;
/// it knows officials but no other badge, so only those exclusions can match the truth.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_search_fallback_finds_every_repository() {
    let sim = start(300, |_| {}).await;
    let client = client_for(sim.hub_url(), |c| c.legacy_search_cap = 60);
    let run = drain(&client, seed_tasks(&[Strategy::Legacy], 500).unwrap()).await;
    let truth = truth(&sim);
    let got = frame_map(&run.frame);
    let want = truth_map(&truth, false);
    assert_eq!(got.keys().collect::<Vec<_>>(), want.keys().collect::<Vec<_>>());
    for r in truth.repositories.iter().filter(|r| !r.private) {
        if matches!(r.badge, hubcensus_types::Badge::Official | hubcensus_types::Badge::None) {
            assert_eq!(got[&r.repository], r.exclusion, "{}", r.repository);
        }
    }
    assert!(run.notes.iter().any(|n| n.contains("saturated")), "{:?}", run.notes);
    sim.shutdown().await;
}

/// A namespace between one and two times the anonymous limit: read by name from the start, then
/// from the end, and nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_namespace_past_the_limit_is_read_from_both_ends() {
    let sim = start(2_000, |c| c.service.anonymous_offset_cap = Some(300)).await;
    let pop = sim.population();
    let big = pop.namespaces().iter().max_by_key(|n| n.len).unwrap().clone();
    let public: std::collections::BTreeSet<String> = (big.first..big.first + big.len)
        .filter(|&i| !pop.repo(i).private)
        .map(|i| pop.full_name(i))
        .collect();
    assert!(public.len() > 300 && public.len() <= 600, "{}", public.len());
    let client = client_for(sim.hub_url(), |_| {});
    let first = client.run(&DiscoveryTask::namespace(&big.name, None)).await.unwrap();
    assert_eq!(first.repositories.len(), 300);
    let [from_end] = first.follow_ups.as_slice() else { panic!("{:?}", first.follow_ups) };
    assert_eq!(
        from_end,
        &DiscoveryTask::Namespace {
            namespace: big.name.clone(),
            badge: None,
            part: NamespacePart::FromEnd { already_read: 300 }
        }
    );
    let second = client.run(from_end).await.unwrap();
    assert!(second.follow_ups.is_empty(), "both ends cover it: {:?}", second.notes);
    let got: std::collections::BTreeSet<String> =
        first.repositories.iter().chain(&second.repositories).map(|r| r.reference.to_string()).collect();
    assert_eq!(got, public);
    sim.shutdown().await;
}
