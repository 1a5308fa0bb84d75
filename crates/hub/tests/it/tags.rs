//! Tag selection against hubsim: newest first whatever ordering Hub honours, and the anonymous
//! limit on a repository with more than a thousand tags.

use hubcensus_hub::{HubCredentials, TagPolicy};
use hubcensus_types::RepoRef;

use crate::common::*;

/// The repository with the most tags (hubsim gives its big organisation's first one 1,120).
fn biggest(sim: &hubcensus_hubsim::Sim) -> (RepoRef, Vec<String>) {
    let pop = sim.population();
    let i = (0..pop.len() as u32).max_by_key(|&i| pop.repo(i).tags).unwrap();
    let name = pop.full_name(i);
    let content = tokio::task::block_in_place(|| sim.content(&name)).unwrap();
    // Newest first, as hubsim keeps them.
    let mut tags: Vec<_> = content.tags.iter().map(|t| (t.pushed, t.name.clone())).collect();
    tags.sort_by_key(|t| std::cmp::Reverse(t.0));
    (name.parse().unwrap(), tags.into_iter().map(|(_, n)| n).collect())
}

fn names(listing: &hubcensus_hub::TagListing) -> Vec<String> {
    listing.tags.iter().map(|t| t.name.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_select_the_newest_tags() {
    let sim = start(5_000, |_| {}).await;
    let (repo, newest) = biggest(&sim);
    assert!(newest.len() > 1_000, "{} tags", newest.len());
    let client = client_for(sim.hub_url(), |_| {});

    let latest = client.tags(&repo, &TagPolicy::Latest).await.unwrap();
    assert_eq!(names(&latest), newest[..1]);
    assert!(latest.complete && latest.notes.is_empty(), "{:?}", latest.notes);
    assert_eq!(latest.count, Some(newest.len() as u64));
    assert!(latest.tags[0].digest.is_some() && !latest.tags[0].images.is_empty());

    let recent = client.tags(&repo, &TagPolicy::Recent(150)).await.unwrap();
    assert_eq!(names(&recent), newest[..150]);

    // Anonymous: 1,000 of 1,120, flagged incomplete.
    let all = client.tags(&repo, &TagPolicy::All { cap: 5_000 }).await.unwrap();
    assert_eq!(names(&all), newest[..1_000]);
    assert!(!all.complete);
    assert!(all.notes.iter().any(|n| n.contains("anonymous paging stopped after 1000")), "{:?}", all.notes);

    // Logged in: all of them.
    let logged =
        client_for(sim.hub_url(), |c| c.credentials = Some(HubCredentials::new("census", "census-pat")));
    logged.login().await.unwrap();
    let all = logged.tags(&repo, &TagPolicy::All { cap: 5_000 }).await.unwrap();
    assert_eq!(names(&all), newest);
    assert!(all.complete);
    let capped = logged.tags(&repo, &TagPolicy::All { cap: 250 }).await.unwrap();
    assert_eq!(names(&capped), newest[..250]);
    sim.shutdown().await;
}

/// Hub has served `-last_updated` oldest first (hubsim reproduces it): a client that asks for it
/// notices and turns round.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inverted_ordering_is_noticed_and_turned_round() {
    let sim = start(5_000, |_| {}).await;
    let (repo, newest) = biggest(&sim);
    let client = client_for(sim.hub_url(), |c| c.tag_ordering = "-last_updated".into());
    let recent = client.tags(&repo, &TagPolicy::Recent(3)).await.unwrap();
    assert_eq!(names(&recent), newest[..3]);
    assert!(recent.notes.iter().any(|n| n.contains("came oldest first")), "{:?}", recent.notes);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repository_detail_and_missing_repositories() {
    let sim = start(300, |_| {}).await;
    let client = client_for(sim.hub_url(), |_| {});
    let truth = truth(&sim);
    let public =
        truth.repositories.iter().find(|r| !r.private && r.tags > 0 && r.exclusion.is_none()).unwrap();
    let summary = client.repository(&public.repository.parse().unwrap()).await.unwrap();
    assert_eq!(summary.content_types.as_deref(), Some(&["image".to_owned()][..]));
    assert!(summary.full_description.is_some() && summary.date_registered.is_some());
    let private = truth.repositories.iter().find(|r| r.private).unwrap();
    let err = client.repository(&private.repository.parse().unwrap()).await.unwrap_err();
    assert!(matches!(err, hubcensus_hub::HubError::NotFound { .. }) && !err.is_transient(), "{err}");
    let err = client.tags(&private.repository.parse().unwrap(), &TagPolicy::Latest).await.unwrap_err();
    assert!(matches!(err, hubcensus_hub::HubError::NotFound { .. }), "{err}");
    // A namespace that does not exist lists as empty (200, count 0): a note, not an error.
    let task = hubcensus_hub::DiscoveryTask::namespace("thisrepositorydoesnotactuallyexist", None);
    let outcome = client.run(&task).await.unwrap();
    assert!(outcome.repositories.is_empty() && outcome.follow_ups.is_empty());
    assert!(outcome.notes[0].contains("empty or does not exist"), "{:?}", outcome.notes);
    let bad = hubcensus_hub::DiscoveryTask::namespace("../etc", None);
    assert!(matches!(client.run(&bad).await.unwrap_err(), hubcensus_hub::HubError::InvalidTask { .. }));
    sim.shutdown().await;
}
