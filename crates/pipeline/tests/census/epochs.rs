//! Issue 17, point 4: runs over time. Two censuses over one database, hubsim's population one
//! round of change apart (repositories added and deleted, tags re-pushed, planted images
//! cleaned, clean ones infected): `report --compare` must list exactly what the two truths
//! flag in common and apart, and the second census must pull only what changed.

use std::collections::BTreeSet;

use hubcensus_hubsim::{
    Sim,
    config::EpochRates,
    population::{Population, content::Location},
    truth::Truth,
};
use hubcensus_pipeline::Until;
use hubcensus_store::Store;
use hubcensus_types::{Category, Stage};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::common::{Harness, fast_config, scalar};

/// (category, repository, analysed manifest digest) of every image a truth counts.
type Flagged = BTreeSet<(Category, String, String)>;

fn flagged(truth: &Truth) -> Flagged {
    truth
        .images
        .iter()
        .filter(|im| {
            // Counted unless an upper layer deletes every item (counted apart).
            im.items.is_empty()
                || im
                    .items
                    .iter()
                    .any(|it| !matches!(&it.location, Location::LayerFile { deleted_in: Some(_), .. }))
        })
        .map(|im| (im.category, im.repository.clone(), im.manifest_digest.to_string()))
        .collect()
}

/// A census of the harness's simulator to the end, as a new run or the first.
async fn census(h: &Harness, new_run: bool) -> (i64, u64) {
    let (census, registry) = h.census(fast_config());
    let run = census.start(&h.plan(new_run)).await.unwrap().run_id();
    assert!(census.work(&Stage::ALL, Until::Drained, CancellationToken::new()).await.unwrap().drained);
    census.finish(run).await.unwrap();
    (run, registry.quota().pulls_spent)
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn issue_17_two_censuses_an_epoch_apart_compare_as_their_truths_do(pool: PgPool) {
    let rates = EpochRates { added: 0.03, removed: 0.03, repushed: 0.03, cleaned: 0.4, infected: 0.03 };
    let mut h =
        Harness::start(Store::from_pool(pool), 400, |cfg| cfg.population.epochs = rates.clone()).await;
    let truth_a = h.truth.clone();
    let (run_a, pulls_a) = census(&h, false).await;

    // One round of change later, on a new simulator over the same database.
    let mut cfg = h.sim.config().clone();
    cfg.population.epoch = 1;
    let (pop_b, truth_b) = {
        let population = cfg.population.clone();
        tokio::task::spawn_blocking(move || {
            let pop = Population::new(&population);
            let truth = Truth::build(&pop);
            (pop, truth)
        })
        .await
        .unwrap()
    };
    let old = std::mem::replace(&mut h.sim, Sim::start(cfg).await.unwrap());
    old.shutdown().await;
    let changed: BTreeSet<String> =
        (0..pop_b.len() as u32).filter(|&i| pop_b.repo(i).pushes == 1).map(|i| pop_b.full_name(i)).collect();
    let gone = truth_a.repositories.iter().filter(|r| pop_b.find(&r.repository).is_none()).count();
    let before: BTreeSet<&str> = truth_a.repositories.iter().map(|r| r.repository.as_str()).collect();
    let born = truth_b.repositories.iter().filter(|r| !before.contains(r.repository.as_str())).count();
    assert!(
        gone > 0 && born > 0 && !changed.is_empty(),
        "the round changed the population: {gone} gone, {born} born"
    );

    let (run_b, pulls_b) = census(&h, true).await;

    // The comparison is the truths'.
    let (want_a, want_b) = (flagged(&truth_a), flagged(&truth_b));
    assert!(want_a.difference(&want_b).count() > 0, "some planted images were cleaned");
    assert!(want_b.difference(&want_a).count() > 0, "some clean repositories were infected");
    let comparison = h.store.compare_runs(30, run_a, run_b).await.unwrap().unwrap();
    let mut got: [Flagged; 3] = Default::default();
    for c in &comparison.categories {
        for (set, images) in got.iter_mut().zip([&c.both, &c.only_a, &c.only_b]) {
            set.extend(images.iter().map(|i| (c.category, i.repository.clone(), i.digest.clone())));
        }
    }
    let [both, only_a, only_b] = got;
    assert_eq!(both, want_a.intersection(&want_b).cloned().collect::<Flagged>(), "flagged in both");
    assert_eq!(only_a, want_a.difference(&want_b).cloned().collect::<Flagged>(), "flagged only at epoch 0");
    assert_eq!(only_b, want_b.difference(&want_a).cloned().collect::<Flagged>(), "flagged only at epoch 1");
    let images = |set: &Flagged| set.iter().map(|(_, r, d)| (r.clone(), d.clone())).collect::<BTreeSet<_>>();
    assert_eq!(comparison.totals.only_b, images(&only_b).len() as u64);

    // The second census pulled only the changed repositories' new images: every image it
    // resolved that the first did not know belongs to a repository the round re-pushed or
    // created, and each cost at most an index and a manifest GET.
    let new_images: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT r.namespace || '/' || r.name
         FROM run_images ri JOIN tags t ON t.id = ri.tag_id JOIN repositories r ON r.id = t.repository_id
         WHERE ri.run_id = $2
           AND ri.image_id NOT IN (SELECT image_id FROM run_images WHERE run_id = $1)",
    )
    .bind(run_a)
    .bind(run_b)
    .fetch_all(h.store.pool())
    .await
    .unwrap();
    let outside: Vec<&String> = new_images.iter().filter(|r| !changed.contains(*r)).collect();
    assert!(outside.is_empty(), "new images in repositories the round did not change: {outside:?}");
    let fresh = scalar(
        &h.store,
        &format!("SELECT count(DISTINCT image_id) FROM run_images WHERE run_id = {run_b} AND image_id NOT IN (SELECT image_id FROM run_images WHERE run_id = {run_a})"),
    )
    .await;
    assert!(fresh > 0 && pulls_b > 0, "{fresh} new images, {pulls_b} pulls");
    assert!(pulls_b as i64 <= 2 * fresh, "{pulls_b} pulls for {fresh} new images (first census: {pulls_a})");
    assert!(pulls_b * 5 < pulls_a, "the second census pulls a fraction of the first: {pulls_b} vs {pulls_a}");
}
