//! docs/queries.md, run: every `-- name:` query of the page against a small but realistic census
//! written through the store's API, with its expected rows; and the report over that census.
//!
//! The census (pull counts, push dates and layer stacks chosen so each query has something to
//! say):
//!
//! | image | repositories (pulls) | layers, bottom first | counted categories |
//! |---|---|---|---|
//! | A | minerco/ubuntu-xmr (150), minerco/ubuntu-xmr-old (20) | debian-base, a-miner, a-cleanup (opaque `tmp`) | cryptomining |
//! | B | minerco/golang (12,000) | debian-base, b-miner; AWS key in config | cryptomining, embedded_keys |
//! | C | c43602f9cc95/openjdk (2.5M) | c-miner, c-tools; wallet in config | cryptomining, hacking_tool |
//! | D | devops/ssh-box (40) | alpine-base, d-keys | embedded_keys |
//! | E | jenkinsfan/agent (900) | alpine-base, e-keys (+ a duckdns host) | embedded_keys, dynamic_dns |
//! | F | leaky/webapp (800) | debian-base, f-secret, f-cleanup (deletes the key) | — (deleted only) |
//! | G | tunnelx/gost (5) | alpine-base, g-proxy (+ URLhaus and NRD domains) | proxy_avoidance, newly_registered_domain, malicious_domain |
//! | H | acme/website (100,000) | debian-base, h-app (an old NRD domain), h-big (failed) | — |
//! | I | acme/tools (30) | debian-base, i-doc (a low-confidence test key), i-foreign (skipped) | — |
//! | J | acme/website:next | debian-base, j-pending (not scanned): not analysed | — |
//!
//! One Monero wallet is in A, B and C (four repositories); one SSH key in D and E. With the
//! namespace minerco and image A's own layers (A is in two repositories) these are the four
//! attribution clusters. Five more repositories are excluded, one per reason.

use std::collections::{BTreeMap, BTreeSet};

use hubcensus_store::{
    Store,
    feeds::{FeedEntry, FeedRecord},
    findings::{SeenIndicator, Target},
    layers::{LayerOutcome, LayerReport, LayerScan, Whiteout},
    report::{SYSDIG_2022_BLOG_TOTAL, SYSDIG_2022_TABLE_TOTAL},
    repositories::RepositoryRecord,
    tags::TagRecord,
};
use hubcensus_types::{
    Category, Confidence, ExclusionReason, Finding, Fingerprint, Indicator, IndicatorKind, RepoRef, redact,
};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::common::{digest, finding, image, layer};

/// The page under test: compiled in, so editing it rebuilds and re-runs this test.
const QUERIES_MD: &str = include_str!("../../../../docs/queries.md");

const WALLET: &str =
    "4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2684Rge";
const SSH_KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOperatorKeyNumberOne";
const SSH_KEY_2: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOperatorKeyNumberTwo";

/// The `-- name:` queries of docs/queries.md, in page order.
fn documented_queries() -> Vec<(String, String)> {
    let mut queries = Vec::new();
    let mut block: Option<String> = None;
    for line in QUERIES_MD.lines() {
        match &mut block {
            None if line.trim_start().starts_with("```sql") => block = Some(String::new()),
            None => {}
            Some(sql) if line.trim_start().starts_with("```") => {
                if let Some(name) = sql.lines().next().and_then(|l| l.strip_prefix("-- name:")) {
                    queries.push((name.trim().to_owned(), sql.clone()));
                }
                block = None;
            }
            Some(sql) => {
                sql.push_str(line);
                sql.push('\n');
            }
        }
    }
    queries
}

/// Runs one documented query and returns its rows as JSON objects, in the query's order.
async fn rows(store: &Store, name: &str, sql: &str) -> Vec<Value> {
    let body = sql.trim_end().trim_end_matches(';');
    let wrapped = format!("SELECT to_jsonb(q)::text FROM (\n{body}\n) AS q");
    let texts: Vec<String> = sqlx::query_scalar(&wrapped)
        .fetch_all(store.pool())
        .await
        .unwrap_or_else(|e| panic!("query {name} failed: {e}"));
    texts.iter().map(|t| serde_json::from_str(t).unwrap()).collect()
}

// ---------------------------------------------------------------------------------------------
// The census
// ---------------------------------------------------------------------------------------------

/// Writes a census through the store's API (also used by the cluster tests).
pub(crate) struct Census {
    pub(crate) store: Store,
}

impl Census {
    pub(crate) async fn repo(&self, name: &str, pulls: i64, excluded: Option<ExclusionReason>) -> i64 {
        let reference: RepoRef = name.parse().unwrap();
        let record = RepositoryRecord { pull_count: Some(pulls), ..Default::default() };
        let id = self.store.upsert_repository(None, &reference, &record).await.unwrap();
        if excluded.is_some() {
            self.store.set_exclusion(id, excluded).await.unwrap();
        }
        id
    }

    /// Records one layer's scan (`None`: left pending).
    pub(crate) async fn layer(
        &self,
        seed: &str,
        outcome: Option<LayerOutcome>,
        findings: Vec<Finding>,
        whiteouts: Vec<Whiteout>,
        indicators: Vec<SeenIndicator>,
    ) {
        let desc = layer(seed);
        let id = self.store.ensure_layer(&desc.digest, &desc.media_type, Some(10_000)).await.unwrap();
        let Some(outcome) = outcome else { return };
        let scan = LayerScan {
            outcome,
            bytes_scanned: 1_000_000,
            entries_scanned: 100,
            truncated_files: 0,
            rules_version: "test".into(),
            millis: 5,
        };
        self.store
            .record_layer_scan(
                id,
                &LayerReport { scan, whiteouts, findings, indicators, skipped_files: Default::default() },
            )
            .await
            .unwrap();
    }

    /// Stores image `seed` with its layer stack and tags it `repo:tag`; returns its id.
    pub(crate) async fn image(
        &self,
        seed: &str,
        repo: i64,
        tag: &str,
        pushed: &str,
        layers: &[&str],
        analysed: bool,
    ) -> i64 {
        let mut record = image(seed);
        record.pushed_at = Some(format!("{pushed}T12:00:00Z").parse().unwrap());
        let id = self.store.upsert_image(&record).await.unwrap();
        let stack: Vec<_> = layers.iter().map(|l| layer(l)).collect();
        self.store.set_image_layers(id, &stack).await.unwrap();
        if analysed {
            self.store.mark_config_scanned(id, "test").await.unwrap();
        }
        let tag = TagRecord { name: tag.into(), ..Default::default() };
        let tag_id = self.store.upsert_tag(repo, &tag).await.unwrap();
        self.store.set_tag_image(tag_id, id).await.unwrap();
        id
    }

    pub(crate) async fn config_finding(&self, image: i64, finding: Finding) {
        self.store.record_findings(Target::Image(image), &[finding], &[], "test").await.unwrap();
    }

    async fn feed(
        &self,
        kind: &str,
        name: &str,
        category: Option<Category>,
        entries: &[(&str, &str, Category, &str)],
    ) {
        let feed = FeedRecord {
            kind: kind.into(),
            name: name.into(),
            sha256: hex_of(name),
            category,
            published_on: None,
        };
        let entries: Vec<FeedEntry> = entries
            .iter()
            .map(|(k, v, c, d)| FeedEntry {
                kind: k.parse().unwrap(),
                value: (*v).into(),
                category: *c,
                listed_on: d.parse().ok(),
            })
            .collect();
        self.store.import_feed(&feed, &entries).await.unwrap();
    }
}

fn hex_of(name: &str) -> String {
    Fingerprint::of(name.as_bytes()).as_str().to_owned()
}

pub(crate) fn with_detail(mut f: Finding, key: &str, value: &str) -> Finding {
    f.detail.insert(key.into(), value.into());
    f
}

pub(crate) fn seen(kind: IndicatorKind, value: &str, path: &str) -> SeenIndicator {
    SeenIndicator { indicator: Indicator { kind, value: value.into() }, first_path: path.into() }
}

pub(crate) fn whiteout(path: &str, opaque: bool) -> Whiteout {
    Whiteout { path: path.into(), opaque }
}

async fn census(pool: PgPool) -> Store {
    use Category::*;
    use Confidence::{High, Low};
    use IndicatorKind::{Domain, Host, Url};
    let c = Census { store: Store::from_pool(pool) };

    c.repo("library/nginx", 1_000_000_000, Some(ExclusionReason::Official)).await;
    c.repo("bitnami/redis", 500_000_000, Some(ExclusionReason::VerifiedPublisher)).await;
    c.repo("apache/airflow", 10_000_000, Some(ExclusionReason::SponsoredOss)).await;
    c.repo("spamvendor/free-robux", 0, Some(ExclusionReason::Imageless)).await;
    c.repo("oldstuff/abandoned", 3, Some(ExclusionReason::Inactive)).await;
    let ubuntu_xmr = c.repo("minerco/ubuntu-xmr", 150, None).await;
    let ubuntu_xmr_old = c.repo("minerco/ubuntu-xmr-old", 20, None).await;
    let golang = c.repo("minerco/golang", 12_000, None).await;
    let openjdk = c.repo("c43602f9cc95/openjdk", 2_500_000, None).await;
    let ssh_box = c.repo("devops/ssh-box", 40, None).await;
    let agent = c.repo("jenkinsfan/agent", 900, None).await;
    let webapp = c.repo("leaky/webapp", 800, None).await;
    let gost = c.repo("tunnelx/gost", 5, None).await;
    let website = c.repo("acme/website", 100_000, None).await;
    let tools = c.repo("acme/tools", 30, None).await;

    let wallet = |path: &str| {
        with_detail(finding(Cryptomining, "monero_wallet", path, WALLET, High), "coin", "monero")
    };
    let ssh = |path: &str, key: &str, fp: &str| {
        with_detail(finding(EmbeddedKeys, "ssh_authorized_key", path, key, High), "ssh_fingerprint", fp)
    };
    let none = Vec::new;
    let scanned = || Some(LayerOutcome::Scanned);

    c.layer("debian-base", scanned(), none(), vec![], vec![]).await;
    c.layer("alpine-base", scanned(), none(), vec![], vec![]).await;
    c.layer(
        "a-miner",
        scanned(),
        vec![
            finding(Cryptomining, "miner_binary_name", "usr/local/bin/xmrig", "xmrig-a", High),
            wallet("usr/local/bin/config.json"),
            finding(Cryptomining, "miner_command_line", "tmp/install.sh", "--donate-level 1 -a rx/0", High),
        ],
        vec![],
        vec![],
    )
    .await;
    c.layer("a-cleanup", scanned(), none(), vec![whiteout("tmp", true)], vec![]).await;
    c.layer(
        "b-miner",
        scanned(),
        vec![
            finding(Cryptomining, "miner_binary_name", "usr/local/bin/xmrig", "xmrig-b", High),
            wallet("etc/xmrig/config.json"),
        ],
        vec![],
        vec![],
    )
    .await;
    let renamed = finding(Cryptomining, "miner_strings", "opt/java/bin/jvm-helper", "xmrig randomx", High);
    c.layer("c-miner", scanned(), vec![renamed], vec![], vec![]).await;
    let masscan = finding(HackingTool, "hacking_tool_binary", "usr/bin/masscan", "masscan", High);
    c.layer("c-tools", scanned(), vec![masscan], vec![], vec![]).await;
    let d_key = ssh("root/.ssh/authorized_keys", SSH_KEY, "SHA256:operator-one");
    c.layer("d-keys", scanned(), vec![d_key], vec![], vec![]).await;
    let jenkins_keys = "home/jenkins/.ssh/authorized_keys";
    c.layer(
        "e-keys",
        scanned(),
        vec![
            ssh(jenkins_keys, SSH_KEY, "SHA256:operator-one"),
            ssh(jenkins_keys, SSH_KEY_2, "SHA256:operator-two"),
        ],
        vec![],
        vec![seen(Host, "myhome.duckdns.org", "etc/hosts"), seen(Domain, "duckdns.org", "etc/hosts")],
    )
    .await;
    let private = with_detail(
        finding(
            EmbeddedKeys,
            "private_key",
            "root/.ssh/id_rsa",
            "-----BEGIN OPENSSH PRIVATE KEY----- leaky",
            High,
        ),
        "ssh_fingerprint",
        "SHA256:leaky",
    );
    c.layer("f-secret", scanned(), vec![private], vec![], vec![]).await;
    c.layer("f-cleanup", scanned(), none(), vec![whiteout("root/.ssh/id_rsa", false)], vec![]).await;
    c.layer(
        "g-proxy",
        scanned(),
        vec![finding(ProxyAvoidance, "proxy_tool_binary", "usr/bin/gost", "gost", High)],
        vec![],
        vec![
            seen(Domain, "fresh-pool.xyz", "etc/gost.json"),
            seen(Domain, "evil-cdn.top", "start.sh"),
            seen(Host, "cdn.evil-cdn.top", "start.sh"),
            seen(Url, "http://cdn.evil-cdn.top/x.sh", "start.sh"),
        ],
    )
    .await;
    let h_app =
        vec![seen(Domain, "github.com", "app/README"), seen(Domain, "old-domain.xyz", "app/config.js")];
    c.layer("h-app", scanned(), none(), vec![], h_app).await;
    let too_big = LayerOutcome::Failed { error: "layer exceeded max_layer_bytes (8589934592)".into() };
    c.layer("h-big", Some(too_big), none(), vec![], vec![]).await;
    let test_key =
        finding(EmbeddedKeys, "private_key", "usr/share/doc/openssl/test.pem", "test-key-pem", Low);
    c.layer("i-doc", scanned(), vec![test_key], vec![], vec![]).await;
    let foreign = LayerOutcome::Skipped { reason: "foreign layer (non-distributable)".into() };
    c.layer("i-foreign", Some(foreign), none(), vec![], vec![]).await;
    c.layer("j-pending", None, none(), vec![], vec![]).await;

    let a_layers = ["debian-base", "a-miner", "a-cleanup"];
    c.image("img-a", ubuntu_xmr, "latest", "2022-06-15", &a_layers, true).await;
    // The same image pushed to a second repository, earlier: the earliest push date wins.
    c.image("img-a", ubuntu_xmr_old, "v1", "2022-06-01", &a_layers, true).await;
    let b = c.image("img-b", golang, "latest", "2022-07-01", &["debian-base", "b-miner"], true).await;
    let aws = with_detail(
        finding(EmbeddedKeys, "aws_access_key_id", "config.Env[2]", "AKIA2E0A8F3B244C9986", High),
        "aws_account_id",
        "123456789012",
    );
    c.config_finding(b, aws).await;
    let cj = c.image("img-c", openjdk, "latest", "2022-05-20", &["c-miner", "c-tools"], true).await;
    c.config_finding(cj, wallet("config.Cmd")).await;
    c.image("img-d", ssh_box, "latest", "2022-03-01", &["alpine-base", "d-keys"], true).await;
    c.image("img-e", agent, "latest", "2022-04-10", &["alpine-base", "e-keys"], true).await;
    c.image("img-f", webapp, "latest", "2022-06-15", &["debian-base", "f-secret", "f-cleanup"], true).await;
    c.image("img-g", gost, "latest", "2022-06-15", &["alpine-base", "g-proxy"], true).await;
    c.image("img-h", website, "latest", "2022-01-10", &["debian-base", "h-app", "h-big"], true).await;
    c.image("img-i", tools, "latest", "2022-02-02", &["debian-base", "i-doc", "i-foreign"], true).await;
    c.image("img-j", website, "next", "2022-08-01", &["debian-base", "j-pending"], false).await;

    c.feed(
        "urlhaus",
        "urlhaus-2022-06-20.csv",
        Some(MaliciousDomain),
        &[
            ("url", "http://cdn.evil-cdn.top/x.sh", MaliciousDomain, "2022-06-10"),
            ("host", "cdn.evil-cdn.top", MaliciousDomain, "2022-06-10"),
            ("domain", "evil-cdn.top", MaliciousDomain, "2022-06-10"),
            ("domain", "other-bad.top", MaliciousDomain, "2022-06-11"),
        ],
    )
    .await;
    c.feed(
        "nrd",
        "nrd-2022-06.txt",
        Some(NewlyRegisteredDomain),
        &[
            ("domain", "fresh-pool.xyz", NewlyRegisteredDomain, "2022-06-05"),
            ("domain", "old-domain.xyz", NewlyRegisteredDomain, "2021-01-01"),
            ("domain", "unused.xyz", NewlyRegisteredDomain, "2022-06-01"),
        ],
    )
    .await;
    c.feed(
        "category_csv",
        "categories.csv",
        None,
        &[("domain", "duckdns.org", DynamicDns, ""), ("domain", "ngrok.io", ProxyAvoidance, "")],
    )
    .await;
    c.runs(&[ubuntu_xmr, golang, openjdk, ssh_box]).await;
    c.store
}

impl Census {
    /// Two census runs: run 1 resolved the first two repositories' tags; run 2 (the latest)
    /// saw `repos` by v4 search (its seed reporting one more) and the first two again by a
    /// namespace crawl, and resolved the first and the third repositories' tags (the second's
    /// miner gone, say, and the third newly flagged).
    async fn runs(&self, repos: &[i64]) {
        let run = |label: &str| hubcensus_store::runs::NewRun {
            label: label.into(),
            strategy: vec!["search".into()],
            parameters: json!({}),
            hub_url: "http://hub.test".into(),
            registry_url: "http://registry.test".into(),
            platform: "linux/amd64".into(),
            rules_version: None,
            feeds_version: None,
        };
        let first = self.store.start_run(&run("first")).await.unwrap();
        let second = self.store.start_run(&run("second")).await.unwrap();
        for &id in repos {
            self.store.record_sighting(id, second, "search_v4:none:pull_count_desc:").await.unwrap();
        }
        for &id in &repos[..2] {
            self.store.record_sighting(id, second, "namespace:minerco").await.unwrap();
        }
        let tally =
            |root, reported, collected| hubcensus_store::coverage::Tally { root, reported, collected };
        self.store
            .record_tally(second, "search_v4:none:pull_count_desc:", tally(true, Some(5), 4))
            .await
            .unwrap();
        self.store
            .record_tally(second, "search_v4:none:pull_count_desc:a", tally(false, Some(3), 3))
            .await
            .unwrap();
        self.store.record_tally(second, "namespace:minerco", tally(true, Some(2), 2)).await.unwrap();
        for (run, seen) in [(first, [repos[0], repos[1]]), (second, [repos[0], repos[2]])] {
            sqlx::query(
                "INSERT INTO run_images (run_id, tag_id, image_id)
                 SELECT $1, t.id, t.image_id FROM tags t WHERE t.repository_id = ANY($2) AND t.image_id IS NOT NULL",
            )
            .bind(run)
            .bind(seen.to_vec())
            .execute(self.store.pool())
            .await
            .unwrap();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Expected rows, one entry per documented query
// ---------------------------------------------------------------------------------------------

fn expected() -> BTreeMap<&'static str, Vec<Value>> {
    let flagged = |c: &str, repo: &str, image: &str, runs: &str| json!({"category": c, "repository": repo, "tag": "latest", "digest": digest(image).as_str(), "runs": runs});
    let category = |c: &str, images: i64, repos: i64, pct: f64, excl: i64, deleted: i64, sysdig: Value| {
        json!({"category": c, "images": images, "repositories": repos, "percent": pct, "exclusive": excl,
               "images_deleted_only": deleted, "sysdig_2022": sysdig})
    };
    let rule = |c: &str, r: &str, conf: &str, n: i64, images: i64, deleted: i64| json!({"category": c, "rule_id": r, "confidence": conf, "image_findings": n, "images": images, "deleted": deleted});
    let bucket =
        |c: &str, pulls: &str| json!({"category": c, "pulls": pulls, "images": 1, "repositories": 1});
    let ns = |n: &str, repos: i64, images: i64, all: i64| json!({"namespace": n, "flagged_repositories": repos, "flagged_images": images, "repositories": all});
    let pair = |a: &str, b: &str| json!({"category": a, "also": b, "images": 1});
    let member = |repo: &str, tag: &str, pulls: i64, categories: &[&str]| {
        json!({"wallet_fingerprint": Fingerprint::of(WALLET.as_bytes()).as_str(), "repository": repo,
               "tags": [tag], "pull_count": pulls, "categories": categories})
    };
    let frame = |f: &str, n: i64| json!({"frame": f, "repositories": n});
    let third = 33.333;
    let ninth = 11.111;
    BTreeMap::from([
        (
            "category_table",
            vec![
                category("cryptomining", 3, 4, third, 3, 0, json!(608)),
                category("embedded_keys", 3, 3, third, 2, 1, json!(281)),
                category("proxy_avoidance", 1, 1, ninth, 1, 0, json!(266)),
                category("newly_registered_domain", 1, 1, ninth, 0, 0, json!(134)),
                category("malicious_domain", 1, 1, ninth, 0, 0, json!(129)),
                category("hacking_tool", 1, 1, ninth, 0, 0, json!(38)),
                category("dynamic_dns", 1, 1, ninth, 0, 0, json!(33)),
                category("typosquatting", 0, 0, 0.0, 0, 0, Value::Null),
                category("other", 0, 0, 0.0, 0, 0, json!(288)),
            ],
        ),
        (
            "shared_wallets",
            vec![json!({
                "fingerprint": Fingerprint::of(WALLET.as_bytes()).as_str(),
                "wallet": redact(WALLET),
                "images": 3,
                "repositories": 4,
                "repository_names": ["c43602f9cc95/openjdk", "minerco/golang", "minerco/ubuntu-xmr", "minerco/ubuntu-xmr-old"],
            })],
        ),
        (
            "shared_ssh_keys",
            vec![json!({"ssh_fingerprint": "SHA256:operator-one", "images": 2,
                        "repositories": ["devops/ssh-box", "jenkinsfan/agent"]})],
        ),
        (
            "flagged_repositories_per_namespace",
            vec![
                ns("minerco", 3, 2, 3),
                ns("c43602f9cc95", 1, 1, 1),
                ns("devops", 1, 1, 1),
                ns("jenkinsfan", 1, 1, 1),
                ns("tunnelx", 1, 1, 1),
            ],
        ),
        (
            "clusters",
            vec![
                json!({"kind": "wallet", "key": Fingerprint::of(WALLET.as_bytes()).as_str(), "label": redact(WALLET),
                       "images": 3, "repositories": 4, "namespaces": 2, "pull_count": 2_512_170,
                       "categories": ["cryptomining", "embedded_keys", "hacking_tool"]}),
                json!({"kind": "namespace", "key": "minerco", "label": "minerco", "images": 2, "repositories": 3,
                       "namespaces": 1, "pull_count": 12_170, "categories": ["cryptomining", "embedded_keys"]}),
                json!({"kind": "ssh_key", "key": "SHA256:operator-one", "label": "SHA256:operator-one", "images": 2,
                       "repositories": 2, "namespaces": 2, "pull_count": 940,
                       "categories": ["embedded_keys", "dynamic_dns"]}),
                // Image A in two repositories: its own layers link them (the lowest one names the stack).
                json!({"kind": "layer", "key": digest("a-miner").as_str(), "label": digest("a-miner").as_str(),
                       "images": 1, "repositories": 2, "namespaces": 1, "pull_count": 170,
                       "categories": ["cryptomining"]}),
            ],
        ),
        (
            "wallet_cluster_members",
            vec![
                member("c43602f9cc95/openjdk", "latest", 2_500_000, &["cryptomining", "hacking_tool"]),
                member("minerco/golang", "latest", 12_000, &["cryptomining", "embedded_keys"]),
                member("minerco/ubuntu-xmr", "latest", 150, &["cryptomining"]),
                member("minerco/ubuntu-xmr-old", "v1", 20, &["cryptomining"]),
            ],
        ),
        (
            "repositories_linked_several_ways",
            vec![
                json!({"repository": "minerco/ubuntu-xmr", "linked_by": ["layer", "namespace", "wallet"], "clusters": 3}),
                json!({"repository": "minerco/ubuntu-xmr-old", "linked_by": ["layer", "namespace", "wallet"], "clusters": 3}),
                json!({"repository": "minerco/golang", "linked_by": ["namespace", "wallet"], "clusters": 2}),
            ],
        ),
        (
            "aws_accounts",
            vec![json!({"aws_account_id": "123456789012", "images": 1, "repositories": ["minerco/golang"]})],
        ),
        (
            "clusters_by_kind",
            vec![
                json!({"kind": "layer", "clusters": 1, "widest": 2, "pulls": 170}),
                json!({"kind": "namespace", "clusters": 1, "widest": 3, "pulls": 12_170}),
                json!({"kind": "ssh_key", "clusters": 1, "widest": 2, "pulls": 940}),
                json!({"kind": "wallet", "clusters": 1, "widest": 4, "pulls": 2_512_170}),
            ],
        ),
        (
            "findings_per_rule",
            vec![
                rule("cryptomining", "miner_binary_name", "high", 2, 2, 0),
                rule("cryptomining", "miner_command_line", "high", 1, 1, 1),
                rule("cryptomining", "miner_strings", "high", 1, 1, 0),
                rule("cryptomining", "monero_wallet", "high", 3, 3, 0),
                rule("embedded_keys", "aws_access_key_id", "high", 1, 1, 0),
                rule("embedded_keys", "private_key", "high", 1, 1, 1),
                rule("embedded_keys", "private_key", "low", 1, 1, 0),
                rule("embedded_keys", "ssh_authorized_key", "high", 3, 2, 0),
                rule("proxy_avoidance", "proxy_tool_binary", "high", 1, 1, 0),
                rule("hacking_tool", "hacking_tool_binary", "high", 1, 1, 0),
            ],
        ),
        (
            "common_miner_paths",
            vec![
                json!({"path": "usr/local/bin/xmrig", "images": 2, "rules": ["miner_binary_name"]}),
                json!({"path": "opt/java/bin/jvm-helper", "images": 1, "rules": ["miner_strings"]}),
            ],
        ),
        (
            "secret_types",
            vec![
                json!({"rule_id": "ssh_authorized_key", "distinct_secrets": 2, "images": 2}),
                json!({"rule_id": "aws_access_key_id", "distinct_secrets": 1, "images": 1}),
            ],
        ),
        (
            "deleted_findings",
            vec![
                json!({"repositories": "leaky/webapp", "category": "embedded_keys", "rule_id": "private_key",
                       "path": "root/.ssh/id_rsa", "layer_position": 1}),
                json!({"repositories": "minerco/ubuntu-xmr, minerco/ubuntu-xmr-old", "category": "cryptomining",
                       "rule_id": "miner_command_line", "path": "tmp/install.sh", "layer_position": 1}),
            ],
        ),
        (
            "category_overlap",
            vec![
                pair("cryptomining", "embedded_keys"),
                pair("cryptomining", "hacking_tool"),
                pair("embedded_keys", "dynamic_dns"),
                pair("proxy_avoidance", "newly_registered_domain"),
                pair("proxy_avoidance", "malicious_domain"),
                pair("newly_registered_domain", "malicious_domain"),
            ],
        ),
        (
            "categories_by_pull_bucket",
            vec![
                bucket("cryptomining", "< 100"),
                bucket("cryptomining", "100 - 9,999"),
                bucket("cryptomining", "10,000 - 999,999"),
                bucket("cryptomining", ">= 1,000,000"),
                bucket("embedded_keys", "< 100"),
                bucket("embedded_keys", "100 - 9,999"),
                bucket("embedded_keys", "10,000 - 999,999"),
                bucket("proxy_avoidance", "< 100"),
                bucket("newly_registered_domain", "< 100"),
                bucket("malicious_domain", "< 100"),
                bucket("hacking_tool", ">= 1,000,000"),
                bucket("dynamic_dns", "100 - 9,999"),
            ],
        ),
        (
            "nrd_age_at_push",
            vec![
                json!({"domain": "fresh-pool.xyz", "registered_on": "2022-06-05", "pushed_on": "2022-06-15",
                       "age_at_push_days": 10, "counted": true}),
                json!({"domain": "old-domain.xyz", "registered_on": "2021-01-01", "pushed_on": "2022-01-10",
                       "age_at_push_days": 374, "counted": false}),
            ],
        ),
        (
            "feed_hits",
            vec![
                json!({"name": "categories.csv", "kind": "category_csv", "category": "dynamic_dns", "images": 1, "indicators": 1}),
                json!({"name": "nrd-2022-06.txt", "kind": "nrd", "category": "newly_registered_domain", "images": 1, "indicators": 1}),
                json!({"name": "urlhaus-2022-06-20.csv", "kind": "urlhaus", "category": "malicious_domain", "images": 1, "indicators": 3}),
            ],
        ),
        (
            "exclusions_by_reason",
            vec![
                frame("official", 1),
                frame("verified_publisher", 1),
                frame("sponsored_oss", 1),
                frame("imageless", 1),
                frame("inactive", 1),
                frame("kept", 10),
            ],
        ),
        (
            "coverage_per_source",
            vec![
                json!({"source": "namespace", "tasks": 1, "reported": 2, "collected": 2}),
                json!({"source": "search_v4", "tasks": 2, "reported": 5, "collected": 4}),
            ],
        ),
        (
            "flagged_in_two_runs",
            vec![
                flagged("cryptomining", "c43602f9cc95/openjdk", "img-c", "only_b"),
                flagged("cryptomining", "minerco/golang", "img-b", "only_a"),
                flagged("cryptomining", "minerco/ubuntu-xmr", "img-a", "both"),
                flagged("embedded_keys", "minerco/golang", "img-b", "only_a"),
                flagged("hacking_tool", "c43602f9cc95/openjdk", "img-c", "only_b"),
            ],
        ),
        (
            "most_shared_layers",
            vec![
                json!({"digest": digest("debian-base").as_str(), "images": 6, "repositories": 6}),
                json!({"digest": digest("alpine-base").as_str(), "images": 3, "repositories": 3}),
            ],
        ),
        (
            "unscanned_layers",
            vec![
                json!({"scan_state": "pending", "reason": null, "layers": 1, "images": 1}),
                json!({"scan_state": "failed", "reason": "layer exceeded max_layer_bytes (8589934592)", "layers": 1, "images": 1}),
                json!({"scan_state": "skipped", "reason": "foreign layer (non-distributable)", "layers": 1, "images": 1}),
            ],
        ),
    ])
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn every_documented_query_returns_the_expected_rows(pool: PgPool) {
    let store = census(pool).await;
    let queries = documented_queries();
    let mut expected = expected();
    let names: BTreeSet<&str> = queries.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.len(), queries.len(), "query names in docs/queries.md are unique");
    assert!(queries.len() >= 10, "docs/queries.md documents at least 10 queries");
    assert_eq!(
        names,
        expected.keys().copied().collect::<BTreeSet<_>>(),
        "every documented query has expected rows here, and every expectation a query there"
    );
    for (name, sql) in &queries {
        let want = expected.remove(name.as_str()).unwrap();
        assert_eq!(rows(&store, name, sql).await, want, "query {name} of docs/queries.md");
    }
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn the_newly_registered_window_is_a_session_setting(pool: PgPool) {
    let store = census(pool).await;
    let (_, sql) = documented_queries().into_iter().find(|(n, _)| n == "nrd_age_at_push").unwrap();
    let mut conn = store.pool().acquire().await.unwrap();
    sqlx::query("SET hubcensus.nrd_window_days = 400").execute(&mut *conn).await.unwrap();
    let body = sql.trim_end().trim_end_matches(';');
    let counted: Vec<bool> =
        sqlx::query_scalar(&format!("SELECT counted FROM ({body}) q")).fetch_all(&mut *conn).await.unwrap();
    assert_eq!(counted, [true, true], "a 400-day window counts the domain registered 374 days before");
}

// ---------------------------------------------------------------------------------------------
// The report over the same census
// ---------------------------------------------------------------------------------------------

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn the_report_counts_what_the_views_count(pool: PgPool) {
    let store = census(pool).await;
    let report = store.report(30).await.unwrap();

    let f = &report.frame;
    assert_eq!((f.repositories_seen, f.repositories_excluded, f.repositories_kept), (15, 5, 10));
    assert_eq!(f.repositories_analysed, 10, "every kept repository has an analysed image");
    let reasons: Vec<(&str, i64)> = f.excluded.iter().map(|e| (e.reason.as_str(), e.repositories)).collect();
    let expected: Vec<(&str, i64)> = ExclusionReason::ALL
        .iter()
        .map(|r| {
            (r.as_str(), i64::from(!matches!(r, ExclusionReason::NotImage | ExclusionReason::Unavailable)))
        })
        .collect();
    assert_eq!(reasons, expected, "every reason, in the schema's order, zeros included");
    assert_eq!(&store.status(0).await.unwrap().frame, f, "`status` shows the report's frame");

    let t = &report.totals;
    assert_eq!((t.images, t.images_analysed, t.images_flagged, t.images_deleted_only), (10, 9, 6, 1));
    assert_eq!(
        (t.layers, t.layers_scanned, t.layers_failed, t.layers_skipped, t.layers_pending),
        (17, 14, 1, 1, 1)
    );
    assert_eq!(t.bytes_scanned, 16 * 1_000_000, "every recorded layer, failed and skipped ones too");
    assert_eq!(t.bytes_compressed, 17 * 10_000);
    assert_eq!((t.findings, t.findings_deleted, t.images_with_deleted_findings), (15, 2, 2));
    assert_eq!((t.indicators, t.feeds, t.feed_entries), (8, 3, 9));
    assert_eq!(t.nrd_window_days, 30);
    assert_eq!((t.sysdig_2022_blog_total, t.sysdig_2022_table_total), (1_652, 1_777));

    // The same numbers as the category_counts view, row for row, in Category::ALL order.
    let view = store.category_counts().await.unwrap();
    assert_eq!(report.categories.len(), Category::ALL.len());
    for ((row, v), c) in report.categories.iter().zip(&view).zip(Category::ALL) {
        assert_eq!(row.category, c);
        assert_eq!(row.category.as_str(), v.category);
        assert_eq!(
            (row.images, row.repositories, row.images_deleted_only),
            (v.images, v.repositories, v.images_deleted_only)
        );
        assert_eq!(Some(row.percent), v.percent);
        assert_eq!(row.sysdig_2022, c.sysdig_2022_images().map(i64::from), "the view and the types agree");
        assert_eq!(row.label, c.sysdig_label());
    }
    let exclusive: Vec<i64> = report.categories.iter().map(|c| c.images_exclusive).collect();
    assert_eq!(exclusive, [3, 2, 1, 0, 0, 0, 0, 0, 0]);
    assert_eq!(
        exclusive.iter().sum::<i64>(),
        t.images_flagged,
        "the exclusive counts add up to the flagged images"
    );
    assert_eq!(
        report.categories.iter().filter_map(|c| c.sysdig_2022).sum::<i64>(),
        SYSDIG_2022_TABLE_TOTAL,
        "Sysdig's table sums to the Threat Report's total, not the blog's {SYSDIG_2022_BLOG_TOTAL}"
    );
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn a_wider_window_counts_older_registrations(pool: PgPool) {
    let store = census(pool).await;
    let nrd = |r: &hubcensus_store::report::Report| {
        r.categories.iter().find(|c| c.category == Category::NewlyRegisteredDomain).unwrap().images
    };
    let narrow = store.report(30).await.unwrap();
    let wide = store.report(400).await.unwrap();
    assert_eq!(
        (nrd(&narrow), nrd(&wide)),
        (1, 2),
        "image H's domain was registered 374 days before its push"
    );
    assert_eq!(wide.totals.images_flagged, 7);
    assert_eq!(wide.totals.nrd_window_days, 400);
    // The window lives in the report's transaction only: a plain session sees the default.
    let default: Option<String> =
        sqlx::query_scalar("SELECT current_setting('hubcensus.nrd_window_days', true)")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert!(default.as_deref().is_none_or(str::is_empty), "{default:?}");

    let feeds = store.feed_summaries(400).await.unwrap();
    let matched: Vec<(&str, i64)> = feeds.iter().map(|f| (f.name.as_str(), f.images_matched)).collect();
    assert_eq!(matched, [("urlhaus-2022-06-20.csv", 1), ("nrd-2022-06.txt", 2), ("categories.csv", 1)]);
    assert_eq!(feeds[1].entries, 3);
    assert_eq!(feeds[2].category, None, "a feed of several categories has none of its own");
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn an_empty_census_reports_zeros(pool: PgPool) {
    let store = Store::from_pool(pool);
    let report = store.report(30).await.unwrap();
    assert_eq!(report.frame.repositories_seen, 0);
    assert_eq!(report.frame.excluded.len(), ExclusionReason::ALL.len());
    assert_eq!(report.categories.len(), Category::ALL.len());
    assert!(report.categories.iter().all(|c| c.images == 0 && c.images_exclusive == 0 && c.percent == 0.0));
    assert_eq!(report.totals.images_flagged, 0);
    assert_eq!(report.totals.sysdig_2022_table_total, 1_777);
    assert!(store.feed_summaries(30).await.unwrap().is_empty());
}

/// Issue 17: a run's report counts the images that run resolved, and only those; the whole
/// database's report stays as it was.
#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn issue_17_a_runs_report_counts_its_own_images(pool: PgPool) {
    let store = census(pool).await;
    let images = |r: &hubcensus_store::report::Report, c: Category| {
        r.categories.iter().find(|x| x.category == c).map(|x| x.images).unwrap()
    };
    let whole = store.report(30).await.unwrap();
    let first = store.run_report(30, 1).await.unwrap().unwrap();
    let second = store.run_report(30, 2).await.unwrap().unwrap();
    assert_eq!((whole.run_id, first.run_id, second.run_id), (None, Some(1), Some(2)));
    assert!(images(&whole, Category::Cryptomining) > 2, "{:?}", whole.categories);
    // Run 1: img-a and img-b; run 2: img-a and img-c (the only one with masscan).
    assert_eq!((first.totals.images_analysed, second.totals.images_analysed), (2, 2));
    assert_eq!((images(&first, Category::Cryptomining), images(&second, Category::Cryptomining)), (2, 2));
    assert_eq!((images(&first, Category::HackingTool), images(&second, Category::HackingTool)), (0, 1));
    // Each run's coverage is its own: run 2 did the discovery.
    assert!(first.coverage.unwrap().sources.is_empty());
    assert_eq!(second.coverage.unwrap().sources.len(), 2);
    assert!(store.run_report(30, 99).await.unwrap().is_none());
    assert_eq!(store.default_report_run().await.unwrap(), Some(2));
}
