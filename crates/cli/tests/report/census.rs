//! A small census written through the store's API: three kept repositories and one excluded,
//! three analysed images sharing nothing, a miner with a deleted key, and indicators that only
//! feeds imported later will judge.
//!
//! | image | repository | pushed | evidence |
//! |---|---|---|---|
//! | X | ns-a/miner (10 pulls) | 2022-06-15 | xmrig (counted); a private key an upper layer deletes |
//! | Y | ns-b/fetcher (100) | 2022-06-15 | host `dl.evil-cdn.top`; domain `late-domain.xyz` |
//! | Z | ns-c/clean (1,000) | 2022-06-15 | domain `fresh-z.xyz` |

use std::collections::BTreeMap;

use hubcensus_store::{
    Store,
    findings::SeenIndicator,
    images::{ImageLayer, ImageRecord},
    layers::{LayerOutcome, LayerReport, LayerScan, Whiteout},
    repositories::RepositoryRecord,
    tags::TagRecord,
};
use hubcensus_types::{
    Category, Confidence, Digest, ExclusionReason, Finding, Fingerprint, Indicator, IndicatorKind, Platform,
    RepoRef, Subject, redact,
};
use sqlx::PgPool;

pub(crate) const PUSHED: &str = "2022-06-15T12:00:00Z";

/// Fills `pool`'s database with the census above.
pub(crate) async fn fill(pool: &PgPool) {
    let store = Store::from_pool(pool.clone());
    let official = repo(&store, "library/nginx", 1_000_000).await;
    store.set_exclusion(official, Some(ExclusionReason::Official)).await.unwrap();

    let miner = Finding {
        category: Category::Cryptomining,
        rule: "miner_binary_name".into(),
        confidence: Confidence::High,
        subject: Subject::Config,
        path: "usr/local/bin/xmrig".into(),
        preview: "xmrig".into(),
        fingerprint: Fingerprint::of(b"xmrig"),
        deleted_in_upper_layer: false,
        detail: BTreeMap::new(),
    };
    let key_value = "-----BEGIN OPENSSH PRIVATE KEY----- x";
    let key = Finding {
        category: Category::EmbeddedKeys,
        rule: "private_key".into(),
        path: "root/.ssh/id_rsa".into(),
        preview: redact(key_value),
        fingerprint: Fingerprint::of(key_value.as_bytes()),
        ..miner.clone()
    };
    let x = vec![
        ("x-base", scan(vec![miner, key], vec![], vec![])),
        ("x-cleanup", scan(vec![], vec![Whiteout { path: "root/.ssh".into(), opaque: false }], vec![])),
    ];
    image(&store, "ns-a/miner", 10, "img-x", x).await;

    let y = vec![(
        "y-app",
        scan(
            vec![],
            vec![],
            vec![
                seen(IndicatorKind::Host, "dl.evil-cdn.top"),
                seen(IndicatorKind::Domain, "evil-cdn.top"),
                seen(IndicatorKind::Domain, "late-domain.xyz"),
            ],
        ),
    )];
    image(&store, "ns-b/fetcher", 100, "img-y", y).await;
    let z = vec![("z-app", scan(vec![], vec![], vec![seen(IndicatorKind::Domain, "fresh-z.xyz")]))];
    image(&store, "ns-c/clean", 1_000, "img-z", z).await;
}

async fn repo(store: &Store, name: &str, pulls: i64) -> i64 {
    let reference: RepoRef = name.parse().unwrap();
    let record = RepositoryRecord { pull_count: Some(pulls), ..Default::default() };
    store.upsert_repository(None, &reference, &record).await.unwrap()
}

/// An analysed image with the given layers (bottom first), tagged `latest` in `repository`.
pub(crate) async fn image(
    store: &Store,
    repository: &str,
    pulls: i64,
    seed: &str,
    layers: Vec<(&str, LayerReport)>,
) {
    let repo_id = repo(store, repository, pulls).await;
    let record = ImageRecord {
        digest: Digest::sha256_of(seed.as_bytes()),
        media_type: "application/vnd.oci.image.manifest.v1+json".into(),
        platform: Platform::linux_amd64(),
        config_digest: None,
        created: None,
        pushed_at: Some(PUSHED.parse().unwrap()),
        pull_cost: 1,
    };
    let image_id = store.upsert_image(&record).await.unwrap();
    let stack: Vec<ImageLayer> = layers
        .iter()
        .map(|(name, _)| ImageLayer {
            digest: Digest::sha256_of(name.as_bytes()),
            media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into(),
            size: Some(4096),
            diff_id: None,
        })
        .collect();
    let ids = store.set_image_layers(image_id, &stack).await.unwrap();
    for (id, (_, report)) in ids.iter().zip(&layers) {
        store.record_layer_scan(*id, report).await.unwrap();
    }
    store.mark_config_scanned(image_id, "test").await.unwrap();
    let tag =
        store.upsert_tag(repo_id, &TagRecord { name: "latest".into(), ..Default::default() }).await.unwrap();
    store.set_tag_image(tag, image_id).await.unwrap();
}

pub(crate) fn scan(
    findings: Vec<Finding>,
    whiteouts: Vec<Whiteout>,
    indicators: Vec<SeenIndicator>,
) -> LayerReport {
    LayerReport {
        scan: LayerScan {
            outcome: LayerOutcome::Scanned,
            bytes_scanned: 65_536,
            entries_scanned: 10,
            truncated_files: 0,
            rules_version: "test".into(),
            millis: 1,
        },
        whiteouts,
        findings,
        indicators,
        skipped_files: Default::default(),
    }
}

fn seen(kind: IndicatorKind, value: &str) -> SeenIndicator {
    SeenIndicator { indicator: Indicator { kind, value: value.into() }, first_path: "app/start.sh".into() }
}
