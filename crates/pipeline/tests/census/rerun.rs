//! Running a census again: a finished one is left alone, a new run over the same database
//! spends no pull and scans nothing again, except what older rules scanned.

use hubcensus_pipeline::{RunStart, Until};
use hubcensus_store::Store;
use hubcensus_types::Stage;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::common::{Harness, fast_config, scalar};

/// Row counts that a census that changes nothing leaves as they are.
async fn footprint(store: &Store) -> Vec<i64> {
    let mut out = Vec::new();
    for sql in [
        "SELECT count(*) FROM repositories",
        "SELECT count(*) FROM tags",
        "SELECT count(*) FROM images",
        "SELECT coalesce(sum(pull_cost), 0)::bigint FROM images",
        "SELECT count(*) FROM layers",
        "SELECT coalesce(sum(scan_count), 0)::bigint FROM layers",
        "SELECT count(*) FROM findings",
        "SELECT count(*) FROM indicators",
        "SELECT count(*) FROM image_layers",
        "SELECT count(*) FROM jobs",
    ] {
        out.push(scalar(store, sql).await);
    }
    out
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn a_second_census_changes_nothing_and_new_rules_rescan_only_their_layers(pool: PgPool) {
    let h = Harness::start(Store::from_pool(pool), 150, |_| {}).await;
    let (first, registry) = h.census(fast_config());
    let run = first.start(&h.plan(false)).await.unwrap();
    assert!(first.work(&Stage::ALL, Until::Drained, CancellationToken::new()).await.unwrap().drained);
    first.finish(run.run_id()).await.unwrap();
    let pulls = registry.quota().pulls_spent;
    let images = scalar(&h.store, "SELECT count(*) FROM images").await;
    assert!(images > 50, "{images} images");
    assert!(pulls as i64 <= 2 * images, "at most a GET per index and one per manifest: {pulls} for {images}");
    let before = footprint(&h.store).await;

    // Running `census` again: the finished run is not restarted.
    let (second, _) = h.census(fast_config());
    assert_eq!(second.start(&h.plan(false)).await.unwrap(), RunStart::Finished { run_id: run.run_id() });
    assert!(second.work(&Stage::ALL, Until::Drained, CancellationToken::new()).await.unwrap().drained);
    assert_eq!(footprint(&h.store).await, before);

    // A new census over the same database: the frame is crawled again, known images cost no
    // pull, no layer is scanned again, no row is duplicated.
    let (third, registry) = h.census(fast_config());
    let started = third.start(&h.plan(true)).await.unwrap();
    let RunStart::Started { rearmed, .. } = started else { panic!("{started:?}") };
    assert!(rearmed.discover > 0 && rearmed.tags > 0 && rearmed.resolve > 0, "{rearmed:?}");
    assert_eq!(rearmed.scan_layer, 0, "{rearmed:?}");
    assert!(third.work(&Stage::ALL, Until::Drained, CancellationToken::new()).await.unwrap().drained);
    third.finish(started.run_id()).await.unwrap();
    assert_eq!(registry.quota().pulls_spent, 0, "known images cost no manifest GET");
    assert_eq!(footprint(&h.store).await, before);

    // Rules changed for one layer and one config: a new run re-scans exactly those.
    let layer: (i64, String) =
        sqlx::query_as("SELECT id, digest FROM layers WHERE scan_state = 'scanned' ORDER BY id LIMIT 1")
            .fetch_one(h.store.pool())
            .await
            .unwrap();
    sqlx::query("UPDATE layers SET rules_version = 'rules-of-2025' WHERE id = $1")
        .bind(layer.0)
        .execute(h.store.pool())
        .await
        .unwrap();
    // One config of each kind: a blob, and a schema 1 manifest's (no blob: the manifest again).
    let image: i64 = scalar(
        &h.store,
        "SELECT min(id) FROM images WHERE config_digest IS NOT NULL AND media_type NOT LIKE '%manifest.v1%'",
    )
    .await;
    // Known from its tag listing's digest, so no manifest GET would happen on its own.
    let schema1: i64 = scalar(
        &h.store,
        "SELECT coalesce(min(i.id), 0) FROM images i JOIN tags t ON t.image_id = i.id AND t.digest = i.digest
         WHERE i.media_type LIKE '%distribution.manifest.v1%'",
    )
    .await;
    assert!(image > 0 && schema1 > 0, "hubsim's population holds both kinds");
    sqlx::query("UPDATE images SET rules_version = 'rules-of-2025' WHERE id = ANY($1)")
        .bind([image, schema1])
        .execute(h.store.pool())
        .await
        .unwrap();
    let (fourth, _) = h.census(fast_config());
    let started = fourth.start(&h.plan(true)).await.unwrap();
    let RunStart::Started { rearmed, .. } = started else { panic!("{started:?}") };
    assert_eq!(rearmed.scan_layer, 1, "{rearmed:?}");
    assert!(fourth.work(&Stage::ALL, Until::Drained, CancellationToken::new()).await.unwrap().drained);
    let rescanned: Vec<(String, i32)> =
        sqlx::query_as("SELECT digest, scan_count FROM layers WHERE scan_count <> 1")
            .fetch_all(h.store.pool())
            .await
            .unwrap();
    assert_eq!(rescanned, vec![(layer.1, 2)]);
    // With the resolve jobs' errors, to tell a job that gave up from a rescan left out.
    let stale: Vec<(i64, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT i.id, i.rules_version, min(j.last_error) FROM images i
         LEFT JOIN tags t ON t.image_id = i.id
         LEFT JOIN repositories r ON r.id = t.repository_id
         LEFT JOIN jobs j ON j.stage = 'resolve' AND j.key = r.namespace || '/' || r.name || ':' || t.name
         WHERE i.id = ANY($1) AND (i.rules_version = 'rules-of-2025' OR i.rules_version IS NULL)
         GROUP BY i.id, i.rules_version",
    )
    .bind([image, schema1])
    .fetch_all(h.store.pool())
    .await
    .unwrap();
    assert_eq!(stale, vec![], "stale configs were scanned again under the current rules");
    let after = footprint(&h.store).await;
    assert_eq!(after[5], before[5] + 1, "one more layer scan");
    assert_eq!(after[6], before[6], "the same findings (written once)");
}
