use hubcensus_store::{
    Store,
    findings::{SeenIndicator, Target},
    layers::{LayerOutcome, LayerReport, LayerScan, SkippedFile, SkippedFiles, Whiteout},
    repositories::RepositoryRecord,
    tags::{TagPlatform, TagRecord},
};
use hubcensus_types::{
    Badge, Category, Confidence, ExclusionReason, Indicator, IndicatorKind, Platform, RepoRef,
};
use sqlx::PgPool;

use crate::common::{count, digest, finding, image, layer};

fn repo(s: &str) -> RepoRef {
    s.parse().unwrap()
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn repository_upsert_is_idempotent_and_merges(pool: PgPool) {
    let store = Store::from_pool(pool);
    let r = repo("alice/miner");
    let searched = RepositoryRecord { badge: Some(Badge::None), pull_count: Some(500), ..Default::default() };
    let a = store.upsert_repository(None, &r, &searched).await.unwrap();
    // A namespace listing sees the same repository without a badge, with an exact count.
    let listed =
        RepositoryRecord { pull_count: Some(512), description: Some("xmr".into()), ..Default::default() };
    let b = store.upsert_repository(None, &r, &listed).await.unwrap();
    assert_eq!(a, b);
    assert_eq!(count(&store, "repositories").await, 1);
    let (badge, pulls, desc): (Option<String>, Option<i64>, Option<String>) =
        sqlx::query_as("SELECT badge::text, pull_count, description FROM repositories WHERE id = $1")
            .bind(a)
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(badge.as_deref(), Some("none"), "a later record without a badge keeps the badge");
    assert_eq!(pulls, Some(512));
    assert_eq!(desc.as_deref(), Some("xmr"));

    let run = store
        .start_run(&hubcensus_store::runs::NewRun {
            label: "t".into(),
            strategy: vec!["search_v4".into()],
            parameters: serde_json::json!({}),
            hub_url: "http://127.0.0.1:1".into(),
            registry_url: "http://127.0.0.1:2".into(),
            platform: "linux/amd64".into(),
            rules_version: None,
            feeds_version: None,
        })
        .await
        .unwrap();
    store.record_sighting(a, run, "search_v4:a").await.unwrap();
    store.record_sighting(a, run, "search_v4:a").await.unwrap();
    store.record_sighting(a, run, "namespace:alice").await.unwrap();
    assert_eq!(count(&store, "repository_sightings").await, 2);

    store.set_exclusion(a, Some(ExclusionReason::Imageless)).await.unwrap();
    let official = store.upsert_repository(None, &repo("nginx"), &RepositoryRecord::default()).await.unwrap();
    let flags: (bool, bool) =
        sqlx::query_as("SELECT is_official, is_verified_publisher FROM repositories WHERE id = $1")
            .bind(official)
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(flags, (true, false), "library/ is official whatever the badge");
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn tag_upsert_is_idempotent(pool: PgPool) {
    let store = Store::from_pool(pool);
    let repo_id =
        store.upsert_repository(None, &repo("alice/app"), &RepositoryRecord::default()).await.unwrap();
    let tag = TagRecord {
        name: "latest".into(),
        digest: Some(digest("index")),
        platforms: vec![
            TagPlatform {
                platform: Platform::linux_amd64(),
                digest: digest("amd64"),
                size: Some(10),
                last_pushed: None,
            },
            TagPlatform {
                platform: "unknown/unknown".parse().unwrap(),
                digest: digest("attestation"),
                size: Some(1),
                last_pushed: None,
            },
        ],
        ..Default::default()
    };
    let a = store.upsert_tag(repo_id, &tag).await.unwrap();
    let b = store.upsert_tag(repo_id, &tag).await.unwrap();
    assert_eq!(a, b);
    assert_eq!(count(&store, "tags").await, 1);
    assert_eq!(count(&store, "tag_platforms").await, 2);
    store.select_tags(repo_id, &["latest".into()]).await.unwrap();
    let selected: bool = sqlx::query_scalar("SELECT selected FROM tags WHERE id = $1")
        .bind(a)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert!(selected);
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn shared_layers_are_stored_once(pool: PgPool) {
    let store = Store::from_pool(pool);
    let one = store.upsert_image(&image("one")).await.unwrap();
    let two = store.upsert_image(&image("two")).await.unwrap();
    assert_eq!(store.upsert_image(&image("one")).await.unwrap(), one, "same digest, same image");
    assert_eq!(count(&store, "images").await, 2);

    let base = layer("debian-base");
    let ids_one = store.set_image_layers(one, &[base.clone(), layer("one-app")]).await.unwrap();
    let ids_two = store.set_image_layers(two, &[base.clone(), layer("two-app")]).await.unwrap();
    store.set_image_layers(one, &[base, layer("one-app")]).await.unwrap();
    assert_eq!(ids_one[0], ids_two[0], "the base layer is one row");
    assert_eq!(count(&store, "layers").await, 3);
    assert_eq!(count(&store, "image_layers").await, 4);

    let pull_cost: i32 = sqlx::query_scalar("SELECT pull_cost FROM images WHERE id = $1")
        .bind(one)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(pull_cost, 2, "each resolution's manifest GET is accounted");
}

fn skipped(path: &str, reason: &str) -> SkippedFile {
    SkippedFile { path: path.into(), reason: reason.into(), detail: format!("{reason} at {path}") }
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn skipped_files_are_recorded_with_their_count_and_replaced_by_a_new_scan(pool: PgPool) {
    let store = Store::from_pool(pool);
    let img = store.upsert_image(&image("img")).await.unwrap();
    let layer_id = store.set_image_layers(img, &[layer("l")]).await.unwrap()[0];
    let report = |kept: Vec<SkippedFile>, total: i32, rules: &str| LayerReport {
        scan: LayerScan {
            outcome: LayerOutcome::Scanned,
            bytes_scanned: 1 << 30,
            entries_scanned: 300,
            truncated_files: 0,
            rules_version: rules.into(),
            millis: 5,
        },
        whiteouts: Vec::new(),
        findings: Vec::new(),
        indicators: Vec::new(),
        skipped_files: SkippedFiles { kept, total },
    };
    let rows = |store: &Store| {
        let pool = store.pool().clone();
        async move {
            let files: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT path, reason, detail FROM layer_skipped_files WHERE layer_id = $1 ORDER BY path",
            )
            .bind(layer_id)
            .fetch_all(&pool)
            .await
            .unwrap();
            let total: i32 = sqlx::query_scalar("SELECT files_skipped FROM layers WHERE id = $1")
                .bind(layer_id)
                .fetch_one(&pool)
                .await
                .unwrap();
            (files, total)
        }
    };
    // More skips than the scanner keeps: the rows hold the kept ones, the count all of them.
    let first = vec![skipped("var/log/lastlog", "zero_filled"), skipped("app.jar!/bomb.bin", "bomb")];
    store.record_layer_scan(layer_id, &report(first, 300, "r1")).await.unwrap();
    let (files, total) = rows(&store).await;
    assert_eq!(total, 300);
    assert_eq!(
        files,
        [
            ("app.jar!/bomb.bin".into(), "bomb".into(), "bomb at app.jar!/bomb.bin".into()),
            ("var/log/lastlog".into(), "zero_filled".into(), "zero_filled at var/log/lastlog".into()),
        ]
    );
    // A re-scan (new rules, new limits) says what it skipped itself.
    store.record_layer_scan(layer_id, &report(vec![skipped("srv/x.tgz", "too_big")], 1, "r2")).await.unwrap();
    let (files, total) = rows(&store).await;
    assert_eq!(total, 1);
    assert_eq!(files, [("srv/x.tgz".into(), "too_big".into(), "too_big at srv/x.tgz".into())]);
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn findings_and_indicators_are_written_once(pool: PgPool) {
    let store = Store::from_pool(pool);
    let img = store.upsert_image(&image("img")).await.unwrap();
    let layer_id = store.set_image_layers(img, &[layer("l")]).await.unwrap()[0];

    let miner =
        finding(Category::Cryptomining, "xmrig_binary", "usr/bin/xmrig", "xmrig-6.21", Confidence::High);
    let key = finding(Category::EmbeddedKeys, "github_token", "app/.env", "ghp_secret", Confidence::High);
    let indicator = SeenIndicator {
        indicator: Indicator { kind: IndicatorKind::Domain, value: "supportxmr.com".into() },
        first_path: "etc/xmrig.json".into(),
    };
    let report = LayerReport {
        scan: LayerScan {
            outcome: LayerOutcome::Scanned,
            bytes_scanned: 4096,
            entries_scanned: 3,
            truncated_files: 0,
            rules_version: "test-1".into(),
            millis: 5,
        },
        whiteouts: vec![Whiteout { path: "tmp/x".into(), opaque: false }],
        findings: vec![miner.clone(), key.clone()],
        indicators: vec![indicator.clone()],
        skipped_files: SkippedFiles { kept: vec![skipped("var/log/lastlog", "zero_filled")], total: 1 },
    };
    assert_eq!(store.record_layer_scan(layer_id, &report).await.unwrap(), 2);
    assert_eq!(store.record_layer_scan(layer_id, &report).await.unwrap(), 0, "a retried scan adds nothing");
    assert_eq!(count(&store, "findings").await, 2);
    assert_eq!(count(&store, "indicators").await, 1);
    assert_eq!(count(&store, "layer_whiteouts").await, 1);
    assert_eq!(count(&store, "layer_skipped_files").await, 1);

    // The same value in another file is another finding; in the config it is another subject.
    let moved = hubcensus_types::Finding { path: "opt/xmrig".into(), ..miner.clone() };
    assert_eq!(store.record_findings(Target::Layer(layer_id), &[moved], &[], "test-1").await.unwrap(), 1);
    let env =
        finding(Category::EmbeddedKeys, "github_token", "config.Env[0]", "ghp_secret", Confidence::High);
    let config = Target::Image(img);
    assert_eq!(
        store
            .record_findings(config, std::slice::from_ref(&env), std::slice::from_ref(&indicator), "t")
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store.record_findings(config, &[env], std::slice::from_ref(&indicator), "t").await.unwrap(),
        0
    );
    let repo_id =
        store.upsert_repository(None, &repo("alice/spam"), &RepositoryRecord::default()).await.unwrap();
    let spam = finding(
        Category::MaliciousDomain,
        "description_url",
        "description",
        "evil.example",
        Confidence::Medium,
    );
    let meta = Target::Repository(repo_id);
    assert_eq!(
        store
            .record_findings(meta, std::slice::from_ref(&spam), std::slice::from_ref(&indicator), "t")
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.record_findings(meta, &[spam], &[indicator], "t").await.unwrap(), 0);
    assert_eq!(count(&store, "findings").await, 5);
    assert_eq!(count(&store, "indicators").await, 3);

    let stored: String = sqlx::query_scalar("SELECT string_agg(preview, ',') FROM findings")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert!(!stored.contains("ghp_secret"), "secrets are stored redacted: {stored}");
}
