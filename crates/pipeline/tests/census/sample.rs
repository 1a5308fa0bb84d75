//! Issue #16: a sampled census. Discovery builds the whole frame; the draw chooses the sample
//! once discovery has drained; only the repositories drawn are listed, resolved and scanned
//! (by any worker that joins); an extension keeps the first draw; the report's intervals
//! contain hubsim's true proportions.

use hubcensus_estimate::{Design, Selector, stratum_of};
use hubcensus_pipeline::{RunStart, Until};
use hubcensus_store::{Store, samples::NewSample};
use hubcensus_types::Stage;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::common::{Harness, fast_config, scalar};

/// Every tag, image and resolve job belongs to a repository drawn (nothing else was listed,
/// resolved or scanned), and every repository drawn and still kept was listed.
async fn assert_only_the_sample_was_touched(store: &Store) {
    let outside = scalar(
        store,
        "SELECT count(*) FROM tags t
         WHERE NOT EXISTS (SELECT 1 FROM sample_repositories sr WHERE sr.repository_id = t.repository_id)",
    )
    .await;
    assert_eq!(outside, 0, "tags of repositories outside the sample");
    let resolved_outside = scalar(
        store,
        "SELECT count(*) FROM jobs j WHERE j.stage IN ('tags', 'resolve')
           AND NOT EXISTS (SELECT 1 FROM sample_repositories sr JOIN repositories r ON r.id = sr.repository_id
                           WHERE j.key = r.namespace || '/' || r.name
                              OR starts_with(j.key, r.namespace || '/' || r.name || ':'))",
    )
    .await;
    assert_eq!(resolved_outside, 0, "tags or resolve jobs of repositories outside the sample");
    let images = scalar(store, "SELECT count(*) FROM images").await;
    let sampled_images = scalar(
        store,
        "SELECT count(DISTINCT t.image_id) FROM tags t JOIN sample_repositories sr ON sr.repository_id = t.repository_id",
    )
    .await;
    assert_eq!(images, sampled_images, "every image is one of the sample's");
    let unlisted = scalar(
        store,
        "SELECT count(*) FROM sample_repositories sr JOIN repositories r ON r.id = sr.repository_id
         WHERE r.excluded_reason IS NULL AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.repository_id = r.id)",
    )
    .await;
    assert_eq!(unlisted, 0, "repositories drawn and kept whose tags were never listed");
}

/// The repositories drawn, as the census stored them, by draw.
async fn members(store: &Store, draw: i32) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT r.namespace || '/' || r.name FROM sample_repositories sr JOIN repositories r ON r.id = sr.repository_id
         WHERE sr.draw <= $1 ORDER BY 1",
    )
    .bind(draw)
    .fetch_all(store.pool())
    .await
    .unwrap()
}

fn srs(size: u32) -> NewSample {
    NewSample {
        design: Design::Srs,
        size,
        seed: 7,
        bands: Vec::new(),
        allocation: "proportional".into(),
        pilot_prevalence: None,
    }
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn issue_16_a_sampled_census_works_on_its_sample_and_extends_it(pool: PgPool) {
    let h = Harness::start(Store::from_pool(pool), 400, |_| {}).await;
    let (census, _) = h.census(fast_config());
    let plan = |size| {
        let mut p = h.plan(false);
        p.sample = Some(srs(size));
        p
    };
    let run = census.start(&plan(60)).await.unwrap();
    assert!(matches!(run, RunStart::Started { .. }), "{run:?}");
    let done = census.work(&Stage::ALL, Until::Drained, CancellationToken::new()).await.unwrap();
    assert!(done.drained);
    census.finish(run.run_id()).await.unwrap();

    // The draw is the 60 smallest keys of the frame it was drawn from.
    let sample = h.store.sample(run.run_id()).await.unwrap().unwrap();
    let frame = h.store.draw_frame(run.run_id(), 0, 1_000_000).await.unwrap();
    assert_eq!(sample.frame_size, Some(frame.len() as i64));
    let kept = h.truth.repositories.iter().filter(|r| r.exclusion.is_none()).count();
    assert!(frame.len() >= kept, "the frame holds every repository the truth keeps");
    let mut selector = Selector::new(7, vec![60]);
    for unit in &frame {
        selector.offer(stratum_of(0, &[]), &unit.name, unit.name.clone());
    }
    let mut expected = selector.finish().remove(0);
    expected.sort();
    let first = members(&h.store, 1).await;
    assert_eq!(first, expected, "the draw is reproducible from its seed");
    assert_only_the_sample_was_touched(&h.store).await;
    let p: f64 = sqlx::query_scalar("SELECT max(inclusion_probability) FROM sample_repositories")
        .fetch_one(h.store.pool())
        .await
        .unwrap();
    assert!((p - 60.0 / frame.len() as f64).abs() < 1e-12, "inclusion probability n/N: {p}");

    // Extended to 150 on the finished run, with a second worker joining: the first 60 stay.
    let (joining, _) = h.census(fast_config());
    let extended = census.start(&plan(150)).await.unwrap();
    assert_eq!(extended, RunStart::Extended { run_id: run.run_id(), from: 60, to: 150 });
    assert_eq!(h.store.open_run().await.unwrap(), Some(run.run_id()), "the run is open again");
    let (a, b) = tokio::join!(
        census.work(&Stage::ALL, Until::Drained, CancellationToken::new()),
        joining.work(&Stage::ALL, Until::Drained, CancellationToken::new()),
    );
    assert!(a.unwrap().drained && b.unwrap().drained);
    census.finish(run.run_id()).await.unwrap();
    let all = members(&h.store, 2).await;
    assert_eq!(all.len(), 150);
    assert!(first.iter().all(|m| all.contains(m)), "the extension keeps the first draw");
    assert_eq!(members(&h.store, 1).await, first);
    assert_only_the_sample_was_touched(&h.store).await;
    // Asking for another seed, or fewer, is refused.
    let mut other = plan(150);
    other.sample.as_mut().unwrap().seed = 8;
    assert!(census.start(&other).await.is_err());
    assert!(census.start(&plan(100)).await.is_err());

    // The report: the design, the sizes, and intervals around hubsim's truth.
    let report = h.store.report(30).await.unwrap();
    assert_eq!(report.design, Design::Srs);
    assert_eq!(report.sample_size, 150);
    assert_eq!(report.frame_size, frame.len() as i64);
    let s = report.sample.as_ref().unwrap();
    let excluded: u64 = s.excluded.iter().map(|e| u64::try_from(e.repositories).unwrap()).sum();
    assert_eq!(s.drawn, 150);
    assert_eq!(s.analysed + excluded + s.not_analysed, 150, "every repository drawn is accounted for");
    assert!(s.analysed > 100, "{s:?}");
    let analysed = h.truth.frame.analysed as f64;
    for (row, truth) in report.categories.iter().zip(&h.truth.table) {
        assert_eq!(row.category, truth.category);
        let share = (truth.images - truth.deleted_only) as f64 / analysed;
        assert!(
            row.ci_low <= share && share <= row.ci_high,
            "{}: truth {share:.4} outside [{:.4}, {:.4}]",
            row.category,
            row.ci_low,
            row.ci_high
        );
        assert!(row.ci_low < row.ci_high, "{}: a sample's interval is not a point", row.category);
        // The counts are the proportions times the frame's estimated analysed repositories.
        let units = f64::from(u32::try_from(s.analysed).unwrap()) * report.frame_size as f64 / 150.0;
        assert!((row.estimate_images - row.estimate * units).abs() < 1e-6, "{}", row.category);
        assert!((row.ci_high_images - row.ci_high * units).abs() < 1e-6, "{}", row.category);
    }
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn issue_16_a_stratified_sample_draws_within_pull_bands(pool: PgPool) {
    let h = Harness::start(Store::from_pool(pool), 300, |_| {}).await;
    let (census, _) = h.census(fast_config());
    let mut plan = h.plan(false);
    plan.sample = Some(NewSample { design: Design::Stratified, bands: vec![100, 10_000], ..srs(40) });
    let run = census.start(&plan).await.unwrap();
    assert!(census.work(&Stage::ALL, Until::Drained, CancellationToken::new()).await.unwrap().drained);
    let sample = h.store.sample(run.run_id()).await.unwrap().unwrap();
    let strata = &sample.strata.0;
    assert_eq!(strata.len(), 3);
    assert_eq!(strata.iter().map(|s| s.sampled).sum::<u64>(), 40);
    // Every member sits in its band, with probability n_h / N_h.
    let rows: Vec<(i64, i32, f64)> = sqlx::query_as(
        "SELECT coalesce(r.pull_count, 0), sr.stratum, sr.inclusion_probability
         FROM sample_repositories sr JOIN repositories r ON r.id = sr.repository_id",
    )
    .fetch_all(h.store.pool())
    .await
    .unwrap();
    assert_eq!(rows.len(), 40);
    for (pulls, stratum, p) in rows {
        let h_ = stratum_of(u64::try_from(pulls).unwrap(), &[100, 10_000]);
        assert_eq!(h_, usize::try_from(stratum).unwrap());
        let s = strata[h_];
        assert!((p - s.sampled as f64 / s.population as f64).abs() < 1e-12);
    }
    assert_only_the_sample_was_touched(&h.store).await;
    let report = h.store.report(30).await.unwrap();
    assert_eq!(report.design, Design::Stratified);
    assert_eq!(report.sample.as_ref().unwrap().strata.len(), 3);
}
