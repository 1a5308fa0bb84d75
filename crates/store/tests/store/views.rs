use hubcensus_store::{
    Store,
    feeds::{FeedEntry, FeedRecord},
    findings::{SeenIndicator, Target},
    layers::{LayerOutcome, LayerReport, LayerScan, Whiteout},
    repositories::RepositoryRecord,
    tags::TagRecord,
};
use hubcensus_types::{Category, Confidence, Finding, Indicator, IndicatorKind, RepoRef};
use sqlx::PgPool;

use crate::common::{finding, image, layer};

fn report(findings: Vec<Finding>, whiteouts: Vec<Whiteout>, indicators: Vec<SeenIndicator>) -> LayerReport {
    LayerReport {
        scan: LayerScan {
            outcome: LayerOutcome::Scanned,
            bytes_scanned: 1,
            entries_scanned: 1,
            truncated_files: 0,
            rules_version: "t".into(),
            millis: 1,
        },
        whiteouts,
        findings,
        indicators,
        skipped_files: Default::default(),
    }
}

/// Stores an analysed image `name` with the given layer reports, bottom first, tagged in its
/// own repository; returns the image id.
async fn analysed_image(store: &Store, name: &str, layers: Vec<LayerReport>) -> i64 {
    let img = store.upsert_image(&image(name)).await.unwrap();
    let stack: Vec<_> = (0..layers.len()).map(|i| layer(&format!("{name}-{i}"))).collect();
    let ids = store.set_image_layers(img, &stack).await.unwrap();
    for (id, report) in ids.iter().zip(&layers) {
        store.record_layer_scan(*id, report).await.unwrap();
    }
    store.mark_config_scanned(img, "t").await.unwrap();
    let repo: RepoRef = format!("ns-{name}/app").parse().unwrap();
    let repo_id = store.upsert_repository(None, &repo, &RepositoryRecord::default()).await.unwrap();
    let tag =
        store.upsert_tag(repo_id, &TagRecord { name: "latest".into(), ..Default::default() }).await.unwrap();
    store.set_tag_image(tag, img).await.unwrap();
    img
}

fn count_of(rows: &[hubcensus_store::status::CategoryCount], c: Category) -> (i64, i64) {
    let row = rows.iter().find(|r| r.category == c.as_str()).unwrap();
    (row.images, row.images_deleted_only)
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn category_counts_follow_confidence_and_whiteouts(pool: PgPool) {
    let store = Store::from_pool(pool);
    let miner = finding(Category::Cryptomining, "xmrig", "usr/local/bin/xmrig", "x", Confidence::High);
    let key = finding(Category::EmbeddedKeys, "rsa_private_key", "root/.ssh/id_rsa", "k", Confidence::High);
    let test_key =
        finding(Category::EmbeddedKeys, "rsa_private_key", "usr/share/doc/x/test.pem", "t", Confidence::Low);

    // A miner in a lower layer, untouched: counted.
    analysed_image(&store, "a", vec![report(vec![miner.clone()], vec![], vec![])]).await;
    // A key deleted by an upper layer's whiteout: counted apart, not in `images`.
    analysed_image(
        &store,
        "b",
        vec![
            report(vec![key.clone()], vec![], vec![]),
            report(vec![], vec![Whiteout { path: "root/.ssh/id_rsa".into(), opaque: false }], vec![]),
        ],
    )
    .await;
    // A key hidden by an opaque directory above it: also deleted.
    analysed_image(
        &store,
        "c",
        vec![
            report(vec![key.clone()], vec![], vec![]),
            report(vec![], vec![Whiteout { path: "root".into(), opaque: true }], vec![]),
        ],
    )
    .await;
    // A whiteout *below* the finding deletes nothing; a low-confidence test key is not counted.
    analysed_image(
        &store,
        "d",
        vec![
            report(vec![], vec![Whiteout { path: "root/.ssh/id_rsa".into(), opaque: false }], vec![]),
            report(vec![key, test_key], vec![], vec![]),
        ],
    )
    .await;
    // A clean image: counted among the analysed, in no category.
    analysed_image(&store, "e", vec![report(vec![], vec![], vec![])]).await;
    // A miner inside a jar that an upper layer deletes, and one hidden by an opaque root.
    let jar_miner = finding(Category::Cryptomining, "xmrig", "opt/app.jar!/bin/xmrig", "j", Confidence::High);
    analysed_image(
        &store,
        "f",
        vec![
            report(vec![jar_miner.clone()], vec![], vec![]),
            report(vec![], vec![Whiteout { path: "opt/app.jar".into(), opaque: false }], vec![]),
        ],
    )
    .await;
    analysed_image(
        &store,
        "g",
        vec![
            report(vec![jar_miner], vec![], vec![]),
            report(vec![], vec![Whiteout { path: String::new(), opaque: true }], vec![]),
        ],
    )
    .await;

    let rows = store.category_counts().await.unwrap();
    assert_eq!(rows.len(), Category::ALL.len());
    assert_eq!(
        count_of(&rows, Category::Cryptomining),
        (1, 2),
        "f and g: deleted with the jar / opaque root"
    );
    assert_eq!(count_of(&rows, Category::EmbeddedKeys), (1, 2), "image d counted; b and c deleted-only");
    let crypto = rows.iter().find(|r| r.category == "cryptomining").unwrap();
    assert_eq!(crypto.percent, Some(14.286), "1 of 7 analysed images");
    assert_eq!(crypto.sysdig_2022, Some(608));
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn feed_matches_judge_newly_registered_domains_by_push_date(pool: PgPool) {
    let store = Store::from_pool(pool);
    let seen = |v: &str| SeenIndicator {
        indicator: Indicator { kind: IndicatorKind::Domain, value: v.into() },
        first_path: "etc/x".into(),
    };
    // Both images are pushed 2022-06-15 (see common::image).
    analysed_image(&store, "fresh", vec![report(vec![], vec![], vec![seen("fresh.xyz")])]).await;
    analysed_image(&store, "old", vec![report(vec![], vec![], vec![seen("old.xyz")])]).await;
    let img = analysed_image(&store, "cfg", vec![report(vec![], vec![], vec![])]).await;
    store.record_findings(Target::Image(img), &[], &[seen("evil.example")], "t").await.unwrap();

    let nrd = |v: &str, d: &str| FeedEntry {
        kind: IndicatorKind::Domain,
        value: v.into(),
        category: Category::NewlyRegisteredDomain,
        listed_on: d.parse().ok(),
    };
    let nrd_feed = FeedRecord {
        kind: "nrd".into(),
        name: "nrd".into(),
        sha256: "b".repeat(64),
        category: Some(Category::NewlyRegisteredDomain),
        published_on: None,
    };
    store
        .import_feed(&nrd_feed, &[nrd("fresh.xyz", "2022-06-01"), nrd("old.xyz", "2021-01-01")])
        .await
        .unwrap();
    let bad = FeedRecord {
        kind: "urlhaus".into(),
        name: "urlhaus".into(),
        sha256: "c".repeat(64),
        category: Some(Category::MaliciousDomain),
        published_on: None,
    };
    let entry = FeedEntry {
        kind: IndicatorKind::Domain,
        value: "evil.example".into(),
        category: Category::MaliciousDomain,
        listed_on: None,
    };
    store.import_feed(&bad, &[entry]).await.unwrap();

    let rows = store.category_counts().await.unwrap();
    assert_eq!(
        count_of(&rows, Category::NewlyRegisteredDomain).0,
        1,
        "only the domain registered 14 days before push"
    );
    assert_eq!(count_of(&rows, Category::MaliciousDomain).0, 1, "config indicators are matched too");
}
