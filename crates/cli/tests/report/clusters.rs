//! `hubcensus report --clusters`: the attribution clusters in every format, parsed back and
//! compared with the `attribution_clusters` view.
//!
//! | image | repository (pulls) | evidence (layer above its own base) |
//! |---|---|---|
//! | P | ns-a/miner (10) | Monero wallet W |
//! | Q | ns-b/coins (100) | W, and an AWS key of account 111122223333 |
//! | R | ns-c/keys (1,000) | another AWS key of account 111122223333 |
//!
//! Two clusters: the AWS account (Q, R: 1,100 pulls) and the wallet (P, Q: 110 pulls).

use std::collections::BTreeMap;

use hubcensus_store::Store;
use hubcensus_types::{Category, Confidence, Finding, Fingerprint, Subject, redact};
use serde_json::Value;
use sqlx::PgPool;

use crate::{census, hubcensus, stdout_of};

const WALLET: &str =
    "4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2684Rge";
const ACCOUNT: &str = "111122223333";

fn found(category: Category, rule: &str, path: &str, value: &str, detail: &[(&str, &str)]) -> Finding {
    Finding {
        category,
        rule: rule.into(),
        confidence: Confidence::High,
        subject: Subject::Config,
        path: path.into(),
        preview: redact(value),
        fingerprint: Fingerprint::of(value.as_bytes()),
        deleted_in_upper_layer: false,
        detail: detail.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect::<BTreeMap<_, _>>(),
    }
}

async fn fill(pool: &PgPool) {
    let store = Store::from_pool(pool.clone());
    let wallet =
        || found(Category::Cryptomining, "monero_wallet", "opt/config.json", WALLET, &[("coin", "monero")]);
    let aws = |key: &str| {
        found(Category::EmbeddedKeys, "aws_access_key_id", "app/.env", key, &[("aws_account_id", ACCOUNT)])
    };
    let layers = |base: &'static str, app: &'static str, findings: Vec<Finding>| {
        vec![(base, census::scan(vec![], vec![], vec![])), (app, census::scan(findings, vec![], vec![]))]
    };
    census::image(&store, "ns-a/miner", 10, "img-p", layers("p-base", "p-app", vec![wallet()])).await;
    let q = layers("q-base", "q-app", vec![wallet(), aws("AKIAQYLPMN5HFIQR7XYA")]);
    census::image(&store, "ns-b/coins", 100, "img-q", q).await;
    let r = layers("r-base", "r-app", vec![aws("AKIAQYLPMN5HHHHHHHHH")]);
    census::image(&store, "ns-c/keys", 1_000, "img-r", r).await;
}

fn clusters_json(pool: &PgPool, extra: &[&str]) -> Value {
    let mut args = vec!["report", "--clusters", "--format", "json"];
    args.extend_from_slice(extra);
    serde_json::from_str(&stdout_of(pool, &args)).unwrap()
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn json_lists_the_views_clusters_with_their_members(pool: PgPool) {
    fill(&pool).await;
    let report = clusters_json(&pool, &[]);
    // Sorted: a parsed object's order depends on serde_json's `preserve_order` (on in the builds
    // with YARA, whose engine's dependencies ask for it).
    let mut keys: Vec<&str> = report.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["clusters", "clusters_total", "max_clean_images", "nrd_window_days"]);
    assert_eq!((report["clusters_total"].as_i64(), report["max_clean_images"].as_i64()), (Some(2), Some(20)));

    let view: Vec<(String, String, i64, i64, i64)> = sqlx::query_as(
        "SELECT kind, key, images, repositories, pull_count FROM attribution_clusters
         ORDER BY repositories DESC, images DESC, pull_count DESC",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let printed: Vec<(String, String, i64, i64, i64)> = report["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let n = |k: &str| c[k].as_i64().unwrap();
            (
                c["kind"].as_str().unwrap().into(),
                c["key"].as_str().unwrap().into(),
                n("images"),
                n("repositories"),
                n("pull_count"),
            )
        })
        .collect();
    assert_eq!(printed, view, "the report prints the view's clusters, in its order");
    let fingerprint = Fingerprint::of(WALLET.as_bytes()).to_string();
    assert_eq!(
        printed,
        [("aws_account".into(), ACCOUNT.into(), 2, 2, 1_100), ("wallet".into(), fingerprint, 2, 2, 110)]
    );

    let aws = &report["clusters"][0];
    assert_eq!(aws["categories"], serde_json::json!(["cryptomining", "embedded_keys"]));
    let members: Vec<(&str, i64, &Value)> = aws["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["repository"].as_str().unwrap(), m["pull_count"].as_i64().unwrap(), &m["tags"]))
        .collect();
    assert_eq!(
        members,
        [
            ("ns-b/coins", 100, &serde_json::json!(["latest"])),
            ("ns-c/keys", 1_000, &serde_json::json!(["latest"]))
        ]
    );
    assert!(aws["members"][0]["image"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(report["clusters"][1]["label"], redact(WALLET), "a wallet is shown redacted");
    assert!(!stdout_of(&pool, &["report", "--clusters", "--format", "json"]).contains(WALLET));

    let first = clusters_json(&pool, &["--limit", "1"]);
    assert_eq!(first["clusters"].as_array().unwrap().len(), 1);
    assert_eq!(first["clusters_total"], 2, "the total counts what the limit leaves out");
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn table_markdown_and_csv_render_the_same_clusters(pool: PgPool) {
    fill(&pool).await;
    let table = stdout_of(&pool, &["report", "--clusters"]);
    assert!(table.contains("\n1. aws_account 111122223333\n"), "{table}");
    assert!(table.contains(&format!("\n2. wallet {}\n", redact(WALLET))), "{table}");
    assert!(table.contains(&format!("   key         {}\n", Fingerprint::of(WALLET.as_bytes()))), "{table}");
    assert!(table.contains("2 images, 2 repositories, 2 namespaces, 1,100 pulls"), "{table}");
    let keys = table.lines().find(|l| l.contains("ns-c/keys:latest")).unwrap();
    assert!(keys.contains("1,000") && keys.contains("sha256:") && keys.ends_with("embedded_keys"), "{keys}");
    for line in table.lines() {
        assert!(line.chars().count() <= 80, "wider than 80 columns: {line:?}");
    }
    let limited = stdout_of(&pool, &["report", "--clusters", "--limit", "1"]);
    assert!(limited.contains("The 1 largest of 2 clusters") && !limited.contains("2. wallet"), "{limited}");

    let markdown = stdout_of(&pool, &["report", "--clusters", "--format", "markdown"]);
    assert!(markdown.contains("### 1. aws_account `111122223333`"), "{markdown}");
    assert!(markdown.contains("| ns-a/miner | latest | 10 | `sha256:"), "{markdown}");
    assert_eq!(markdown.matches("| repository | tags | pulls | image | categories |").count(), 2);

    let csv = stdout_of(&pool, &["report", "--clusters", "--format", "csv"]);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(header[..4], ["rank", "kind", "key", "label"]);
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let rows: Vec<(&str, &str, &str, &str)> = records.iter().map(|r| (&r[0], &r[1], &r[9], &r[11])).collect();
    assert_eq!(
        rows,
        [
            ("1", "aws_account", "ns-b/coins", "100"),
            ("1", "aws_account", "ns-c/keys", "1000"),
            ("2", "wallet", "ns-a/miner", "10"),
            ("2", "wallet", "ns-b/coins", "100"),
        ],
        "one row per member, raw numbers"
    );
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn html_is_refused_and_an_empty_census_says_so(pool: PgPool) {
    let out = hubcensus(&pool, &["report", "--clusters", "--format", "html"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no html format"));

    // The category report's census links nothing: one flagged image, nothing shared.
    census::fill(&pool).await;
    let table = stdout_of(&pool, &["report", "--clusters"]);
    assert!(table.contains("No clusters"), "{table}");
    assert_eq!(clusters_json(&pool, &[])["clusters"], serde_json::json!([]));
    let csv = stdout_of(&pool, &["report", "--clusters", "--format", "csv"]);
    assert_eq!(csv.lines().count(), 1, "a header and no rows: {csv}");
}
