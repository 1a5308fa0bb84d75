//! Attribution clusters (issue #7) against hubsim's campaigns: after a census, the views
//! `attribution_clusters` and `attribution_cluster_members` hold, for wallets, SSH keys, AWS
//! accounts and tokens, exactly the shared secrets the truth lists — the same keys, the same
//! repositories and images — and no cluster of those kinds the truth does not have (every
//! plant's own secret is its repository's alone).

use std::collections::{BTreeMap, BTreeSet};

use hubcensus_hubsim::population::campaigns::LinkKind;
use hubcensus_pipeline::Until;
use hubcensus_store::Store;
use hubcensus_types::Stage;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::{
    check::assert_truth,
    common::{Harness, fast_config},
};

/// A small population, as the other census tests use.
const REPOS: u32 = 200;
/// Planted repositories of the two categories whose secrets campaigns share: with hubsim's
/// rates a 200-repository population plants one of each, too few for any secret to recur.
/// With these (and the harness's seed) every kind has a campaign of two or more repositories.
const EMBEDDED_KEYS_PLANTS: u32 = 90;
const CRYPTOMINING_PLANTS: u32 = 25;

/// Members per cluster: (kind, key) → {(repository, image digest)}.
type Members = BTreeMap<(String, String), BTreeSet<(String, String)>>;

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn issue_7_the_cluster_views_group_exactly_the_planted_campaigns(pool: PgPool) {
    let h = Harness::start(Store::from_pool(pool), REPOS, |cfg| {
        let rates = &mut cfg.population.threats_per_250k;
        rates.embedded_keys = EMBEDDED_KEYS_PLANTS * 250_000 / REPOS;
        rates.cryptomining = CRYPTOMINING_PLANTS * 250_000 / REPOS;
    })
    .await;
    let kinds: Vec<&str> = LinkKind::ALL.iter().map(|k| k.as_str()).collect();
    for kind in LinkKind::ALL {
        assert!(
            h.truth.campaigns.iter().any(|c| c.kind == kind && c.repositories.len() >= 2),
            "the population has a {kind} campaign of two repositories or more: {:?}",
            h.truth.campaigns
        );
    }

    let (census, _) = h.census(fast_config());
    let run = census.start(&h.plan(false)).await.unwrap();
    assert!(census.work(&Stage::ALL, Until::Drained, CancellationToken::new()).await.unwrap().drained);
    census.finish(run.run_id()).await.unwrap();
    // The census itself is right (campaign secrets are found like any other).
    assert_truth(&h.store, &h.truth).await;

    let expected: Members = h
        .truth
        .campaigns
        .iter()
        .map(|c| {
            let members = c
                .repositories
                .iter()
                .zip(&c.images)
                .map(|(repository, image)| (repository.clone(), image.to_string()))
                .collect();
            ((c.kind.as_str().to_owned(), c.key.clone()), members)
        })
        .collect();

    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT kind, key, repository, image_digest FROM attribution_cluster_members WHERE kind = ANY($1)",
    )
    .bind(&kinds)
    .fetch_all(h.store.pool())
    .await
    .unwrap();
    let mut members = Members::new();
    for (kind, key, repository, image) in rows {
        members.entry((kind, key)).or_default().insert((repository, image));
    }
    let missing: Vec<_> = expected.keys().filter(|k| !members.contains_key(*k)).collect();
    assert!(missing.is_empty(), "campaigns no cluster groups: {missing:?}");
    let extra: Vec<_> = members.keys().filter(|k| !expected.contains_key(*k)).collect();
    assert!(extra.is_empty(), "clusters no campaign explains: {extra:?}");
    assert_eq!(members, expected, "cluster members (repository, image) per (kind, key)");

    // One row per campaign in attribution_clusters, with its counts.
    let clusters: BTreeSet<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT kind, key, images, repositories FROM attribution_clusters WHERE kind = ANY($1)",
    )
    .bind(&kinds)
    .fetch_all(h.store.pool())
    .await
    .unwrap()
    .into_iter()
    .collect();
    let counted: BTreeSet<(String, String, i64, i64)> = h
        .truth
        .campaigns
        .iter()
        .map(|c| {
            (c.kind.as_str().to_owned(), c.key.clone(), c.images.len() as i64, c.repositories.len() as i64)
        })
        .collect();
    assert_eq!(clusters, counted, "attribution_clusters (kind, key, images, repositories)");
}
