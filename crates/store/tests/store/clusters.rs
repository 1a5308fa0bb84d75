//! The attribution views (`attribution_links`, `attribution_clusters`,
//! `attribution_cluster_members`) and [`Store::clusters`] over a census built so that every kind
//! of link has a cluster, a near miss and a decoy.
//!
//! | image | repositories (pulls) | layers, bottom first | links |
//! |---|---|---|---|
//! | A | m1/xmr-a (100), m8/mirror:v1 (7) | debian, python, a-app | wallet W1 and pool host xmr.c3pool.com in a-app |
//! | B | m1/xmr-b (200) | debian, shared-miner, b-app | W1 and `stratum+tcp://XMR.C3POOL.COM` in config |
//! | C | m2/miner (300) | alpine, shared-miner | wallet W2, stratum to 203.0.113.9 in config |
//! | C2 | m2/miner:old | alpine, shared-miner, c2-app | W2 in config |
//! | D | m3/tools (50) | debian, d-app | token T1, stratum to proxy.evil-pool.xyz, c2-panel.top, only-one.xyz; a low npm token |
//! | E | m4/ci (5) | debian, e-app | config: T1, AWS account 1111…, stratum to pool.evil-pool.xyz, c2-panel.top; the low npm token |
//! | F | m5/web (10) | alpine, f-app | config: AWS account 1111… (another key), stratum to 203.0.113.9 |
//! | G | m6/agent (1,000) | alpine, g-keys | SSH key `SHA256:op`; AWS's documented example key (low) |
//! | H | m7/box (20) | debian, h-secret, h-cleanup | a private key of `SHA256:op` that h-cleanup deletes: not flagged |
//! | K1–K3 | clean/k1–k3 (1 each) | debian, python, kN-app | clean (K2 has the example key too) |
//! | K4 | m3/clean (2) | debian, k4-app | clean; only-one.xyz |
//!
//! The debian layer carries debian.org. Five clean images carry it and three clean images have
//! the python layer above their base: common content at a threshold of 2, campaign links at 20.

use std::collections::BTreeMap;

use hubcensus_store::{
    Store,
    clusters::{ClusterKind, ClusterOptions, ClusterReport, DEFAULT_MAX_CLEAN_IMAGES},
    findings::Target,
    layers::LayerOutcome,
};
use hubcensus_types::{Category, Confidence, Finding, Fingerprint, IndicatorKind, redact};
use sqlx::PgPool;

use crate::{
    common::{digest, finding},
    queries::{Census, seen, whiteout, with_detail},
};

const W1: &str =
    "44W1ownedByTheXmrCampaignAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const W2: &str =
    "48W2ownedBySomeoneElseBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";
const T1: &str = "ghp_sharedTokenOfTheCiOperator0123456789";
const LOW_NPM: &str = "npm_lowConfidenceTokenAAAAAAAAAAAAAAAAAAAA";
const ACCOUNT: &str = "111122223333";

/// Every image of the census, by the seed its digest is made from.
const IMAGES: [&str; 13] = ["A", "B", "C", "C2", "D", "E", "F", "G", "H", "K1", "K2", "K3", "K4"];

async fn census(pool: PgPool) -> Store {
    use Category::{Cryptomining, EmbeddedKeys};
    use Confidence::{High, Low};
    use IndicatorKind::{Domain, Host};
    let c = Census { store: Store::from_pool(pool) };
    let scanned = || Some(LayerOutcome::Scanned);
    let with = |f: Finding, pairs: &[(&str, &str)]| pairs.iter().fold(f, |f, (k, v)| with_detail(f, k, v));
    let wallet = |path: &str, w: &str| finding(Cryptomining, "monero_wallet", path, w, High);
    let stratum = |path: &str, pool: &str| {
        let url = format!("stratum+tcp://{pool}:3333");
        with(finding(Cryptomining, "stratum_url", path, &url, High), &[("pool", pool)])
    };
    let token = |path: &str| finding(EmbeddedKeys, "github_token", path, T1, High);
    let low_npm = |path: &str| finding(EmbeddedKeys, "npm_token", path, LOW_NPM, Low);
    let aws = |path: &str, key: &str, account: &str, confidence: Confidence| {
        with(
            finding(EmbeddedKeys, "aws_access_key_id", path, key, confidence),
            &[("aws_account_id", account)],
        )
    };
    let example_key = |path: &str| aws(path, "AKIAIOSFODNN7EXAMPLE", "581039954779", Low);

    let m1a = c.repo("m1/xmr-a", 100, None).await;
    let m1b = c.repo("m1/xmr-b", 200, None).await;
    let m2 = c.repo("m2/miner", 300, None).await;
    let m3 = c.repo("m3/tools", 50, None).await;
    let m3_clean = c.repo("m3/clean", 2, None).await;
    let m4 = c.repo("m4/ci", 5, None).await;
    let m5 = c.repo("m5/web", 10, None).await;
    let m6 = c.repo("m6/agent", 1_000, None).await;
    let m7 = c.repo("m7/box", 20, None).await;
    let m8 = c.repo("m8/mirror", 7, None).await;

    c.layer(
        "debian",
        scanned(),
        vec![],
        vec![],
        vec![seen(Domain, "debian.org", "usr/share/doc/x/copyright")],
    )
    .await;
    c.layer("python", scanned(), vec![], vec![], vec![]).await;
    c.layer("alpine", scanned(), vec![], vec![], vec![]).await;
    let pool_host = with(
        finding(Cryptomining, "mining_pool_domain", "opt/xmrig/config.json", "xmr.c3pool.com", High),
        &[("suffix", "c3pool.com")],
    );
    let a_app = vec![wallet("opt/xmrig/config.json", W1), pool_host];
    let a_indicators = vec![
        seen(Domain, "c3pool.com", "opt/xmrig/config.json"),
        seen(Host, "xmr.c3pool.com", "opt/xmrig/config.json"),
    ];
    c.layer("a-app", scanned(), a_app, vec![], a_indicators).await;
    let miner = finding(Cryptomining, "miner_binary_name", "usr/local/bin/xmrig", "xmrig", High);
    c.layer("shared-miner", scanned(), vec![miner], vec![], vec![]).await;
    for empty in ["b-app", "c2-app", "e-app", "f-app", "k1-app", "k3-app"] {
        c.layer(empty, scanned(), vec![], vec![], vec![]).await;
    }
    let d_app =
        vec![token("app/.env"), stratum("app/start.sh", "proxy.evil-pool.xyz"), low_npm("root/.npmrc")];
    let d_indicators = vec![
        seen(Domain, "c2-panel.top", "app/start.sh"),
        seen(Domain, "evil-pool.xyz", "app/start.sh"),
        seen(Host, "proxy.evil-pool.xyz", "app/start.sh"),
        seen(Domain, "only-one.xyz", "app/README"),
    ];
    c.layer("d-app", scanned(), d_app, vec![], d_indicators).await;
    let ssh = |path: &str, rule: &str, value: &str| {
        with(finding(EmbeddedKeys, rule, path, value, High), &[("ssh_fingerprint", "SHA256:op")])
    };
    let g_keys = vec![
        ssh("root/.ssh/authorized_keys", "ssh_authorized_key", "ssh-ed25519 AAAAop"),
        example_key("usr/share/doc/awscli/examples/credentials.txt"),
    ];
    c.layer("g-keys", scanned(), g_keys, vec![], vec![]).await;
    let private = ssh("root/.ssh/id_ed25519", "private_key", "-----BEGIN OPENSSH PRIVATE KEY----- op");
    c.layer("h-secret", scanned(), vec![private], vec![], vec![]).await;
    c.layer("h-cleanup", scanned(), vec![], vec![whiteout("root/.ssh", false)], vec![]).await;
    let k2_decoy = vec![example_key("usr/lib/python3/dist-packages/botocore/tests/creds.txt")];
    c.layer("k2-app", scanned(), k2_decoy, vec![], vec![]).await;
    c.layer("k4-app", scanned(), vec![], vec![], vec![seen(Domain, "only-one.xyz", "srv/index.html")]).await;

    let image = |seed: &'static str, repo: i64, tag: &'static str, layers: &'static [&'static str]| {
        let c = &c;
        async move { c.image(seed, repo, tag, "2022-06-15", layers, true).await }
    };
    let config = |id: i64, findings: Vec<Finding>, indicators: &[(IndicatorKind, &str)]| {
        let store = c.store.clone();
        let indicators: Vec<_> = indicators.iter().map(|(k, v)| seen(*k, v, "config.Env")).collect();
        async move { store.record_findings(Target::Image(id), &findings, &indicators, "test").await.unwrap() }
    };

    image("A", m1a, "latest", &["debian", "python", "a-app"]).await;
    image("A", m8, "v1", &["debian", "python", "a-app"]).await;
    let b = image("B", m1b, "latest", &["debian", "shared-miner", "b-app"]).await;
    let b_config = vec![wallet("config.Cmd", W1), stratum("config.Cmd", "XMR.C3POOL.COM")];
    config(b, b_config, &[(Domain, "c3pool.com"), (Host, "xmr.c3pool.com")]).await;
    let cc = image("C", m2, "latest", &["alpine", "shared-miner"]).await;
    config(cc, vec![wallet("config.Env[0]", W2), stratum("config.Cmd", "203.0.113.9")], &[]).await;
    let c2 = image("C2", m2, "old", &["alpine", "shared-miner", "c2-app"]).await;
    config(c2, vec![wallet("config.Env[0]", W2)], &[]).await;
    image("D", m3, "latest", &["debian", "d-app"]).await;
    let e = image("E", m4, "latest", &["debian", "e-app"]).await;
    let e_config = vec![
        token("config.Env[1]"),
        aws("config.Env[2]", "AKIAQYLPMN5HFIQR7XYA", ACCOUNT, High),
        stratum("config.Cmd", "pool.evil-pool.xyz"),
        low_npm("config.Env[3]"),
    ];
    config(e, e_config, &[(Domain, "c2-panel.top"), (Domain, "evil-pool.xyz"), (Host, "pool.evil-pool.xyz")])
        .await;
    let f = image("F", m5, "latest", &["alpine", "f-app"]).await;
    let f_config = vec![
        aws("config.Env[0]", "AKIAQYLPMN5HHHHHHHHH", ACCOUNT, High),
        stratum("config.Cmd", "203.0.113.9"),
    ];
    config(f, f_config, &[]).await;
    image("G", m6, "latest", &["alpine", "g-keys"]).await;
    image("H", m7, "latest", &["debian", "h-secret", "h-cleanup"]).await;
    for (seed, app) in [("K1", "k1-app"), ("K2", "k2-app"), ("K3", "k3-app")] {
        let repo = c.repo(&format!("clean/{}", seed.to_lowercase()), 1, None).await;
        let layers: &'static [&'static str] = match app {
            "k1-app" => &["debian", "python", "k1-app"],
            "k2-app" => &["debian", "python", "k2-app"],
            _ => &["debian", "python", "k3-app"],
        };
        image(seed, repo, "latest", layers).await;
    }
    image("K4", m3_clean, "latest", &["debian", "k4-app"]).await;
    c.store
}

/// A cluster as the assertions spell it: kind, key, label, images, repositories, namespaces,
/// pulls, categories, and members as `repository:tags@image` (sorted).
type Row = (ClusterKind, String, String, i64, i64, i64, i64, Vec<Category>, Vec<String>);

fn rows(report: &ClusterReport) -> Vec<Row> {
    let seeds: BTreeMap<String, &str> = IMAGES.iter().map(|s| (digest(s).to_string(), *s)).collect();
    report
        .clusters
        .iter()
        .map(|c| {
            let mut members: Vec<String> = c
                .members
                .iter()
                .map(|m| format!("{}:{}@{}", m.repository, m.tags.join(","), seeds[&m.image.to_string()]))
                .collect();
            members.sort();
            (
                c.kind,
                c.key.clone(),
                c.label.clone(),
                c.images,
                c.repositories,
                c.namespaces,
                c.pull_count,
                c.categories.clone(),
                members,
            )
        })
        .collect()
}

/// The clusters at a threshold of 2 clean images, in report order.
fn expected_at_two() -> Vec<Row> {
    use Category::{Cryptomining as Cm, EmbeddedKeys as Ek};
    use ClusterKind::*;
    let same = |k: &str| (k.to_owned(), k.to_owned());
    let fp = |v: &str| (Fingerprint::of(v.as_bytes()).as_str().to_owned(), redact(v));
    let layer = |seed: &str| same(digest(seed).as_str());
    let row = |kind, (key, label): (String, String), n: [i64; 4], cats: &[Category], members: &[&str]| {
        let mut members: Vec<String> = members.iter().map(|m| (*m).to_owned()).collect();
        members.sort();
        (kind, key, label, n[0], n[1], n[2], n[3], cats.to_vec(), members)
    };
    let ab = ["m1/xmr-a:latest@A", "m8/mirror:v1@A", "m1/xmr-b:latest@B"];
    let de = ["m3/tools:latest@D", "m4/ci:latest@E"];
    vec![
        row(Wallet, fp(W1), [2, 3, 2, 307], &[Cm], &ab),
        row(Pool, same("c3pool.com"), [2, 3, 2, 307], &[Cm], &ab),
        row(Domain, same("c3pool.com"), [2, 3, 2, 307], &[Cm], &ab),
        row(
            Layer,
            layer("shared-miner"),
            [3, 2, 2, 500],
            &[Cm],
            &["m1/xmr-b:latest@B", "m2/miner:latest@C", "m2/miner:old@C2"],
        ),
        row(SshKey, same("SHA256:op"), [2, 2, 2, 1_020], &[Ek], &["m6/agent:latest@G", "m7/box:latest@H"]),
        row(Pool, same("203.0.113.9"), [2, 2, 2, 310], &[Cm, Ek], &["m2/miner:latest@C", "m5/web:latest@F"]),
        row(Namespace, same("m1"), [2, 2, 1, 300], &[Cm], &["m1/xmr-a:latest@A", "m1/xmr-b:latest@B"]),
        row(Token, fp(T1), [2, 2, 2, 55], &[Cm, Ek], &de),
        row(Pool, same("evil-pool.xyz"), [2, 2, 2, 55], &[Cm, Ek], &de),
        row(Domain, same("c2-panel.top"), [2, 2, 2, 55], &[Cm, Ek], &de),
        row(Domain, same("evil-pool.xyz"), [2, 2, 2, 55], &[Cm, Ek], &de),
        row(AwsAccount, same(ACCOUNT), [2, 2, 2, 15], &[Cm, Ek], &["m4/ci:latest@E", "m5/web:latest@F"]),
        row(Layer, layer("a-app"), [1, 2, 2, 107], &[Cm], &["m1/xmr-a:latest@A", "m8/mirror:v1@A"]),
        row(Wallet, fp(W2), [2, 1, 1, 300], &[Cm], &["m2/miner:latest@C", "m2/miner:old@C2"]),
    ]
}

/// The two clusters of common content a threshold of 20 lets in: debian.org (five clean images
/// carry it) and the python layer (three clean images build on it).
fn common_content() -> [Row; 2] {
    let debian_org = (
        ClusterKind::Domain,
        "debian.org".to_owned(),
        "debian.org".to_owned(),
        4,
        5,
        4,
        362,
        vec![Category::Cryptomining, Category::EmbeddedKeys],
        ["m1/xmr-a:latest@A", "m1/xmr-b:latest@B", "m3/tools:latest@D", "m4/ci:latest@E", "m8/mirror:v1@A"]
            .map(str::to_owned)
            .to_vec(),
    );
    let python = (
        ClusterKind::Layer,
        digest("python").to_string(),
        digest("python").to_string(),
        4,
        5,
        3,
        110,
        vec![Category::Cryptomining],
        [
            "clean/k1:latest@K1",
            "clean/k2:latest@K2",
            "clean/k3:latest@K3",
            "m1/xmr-a:latest@A",
            "m8/mirror:v1@A",
        ]
        .map(str::to_owned)
        .to_vec(),
    );
    [debian_org, python]
}

fn options(max_clean_images: u32, limit: Option<u32>) -> ClusterOptions {
    ClusterOptions { limit, max_clean_images, ..ClusterOptions::default() }
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn every_kind_of_link_clusters_exactly_what_it_shares(pool: PgPool) {
    let store = census(pool).await;
    let report = store.clusters(&options(2, None)).await.unwrap();
    assert_eq!((report.clusters_total, report.max_clean_images, report.nrd_window_days), (14, 2, 30));
    let got = rows(&report);
    let want = expected_at_two();
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "cluster {}", i + 1);
    }
    assert_eq!(got.len(), want.len());

    // Members carry their own categories: H's key is deleted by its upper layer, so H is in
    // the SSH cluster (the key is in every pull) without a counted category of its own.
    let ssh = report.clusters.iter().find(|c| c.kind == ClusterKind::SshKey).unwrap();
    let categories: Vec<(&str, &[Category])> =
        ssh.members.iter().map(|m| (m.repository.namespace(), m.categories.as_slice())).collect();
    assert_eq!(categories, [("m6", &[Category::EmbeddedKeys][..]), ("m7", &[][..])]);
    let mirror = report.clusters[0].members.iter().find(|m| m.repository.namespace() == "m8").unwrap();
    assert_eq!((mirror.tags.as_slice(), mirror.pull_count), (&["v1".to_owned()][..], Some(7)));
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn common_content_links_nothing_above_the_threshold(pool: PgPool) {
    let store = census(pool).await;
    let at = |n: u32| {
        let store = store.clone();
        async move { rows(&store.clusters(&options(n, None)).await.unwrap()) }
    };
    let [debian_org, python] = common_content();

    let mut want = vec![debian_org.clone(), python.clone()];
    want.extend(expected_at_two());
    assert_eq!(at(DEFAULT_MAX_CLEAN_IMAGES).await, want, "at 20, both are shared content of flagged images");

    // The threshold is inclusive: three clean images on the python layer are allowed at 3,
    // five carrying debian.org are not.
    let mut want = vec![python];
    want.extend(expected_at_two());
    assert_eq!(at(3).await, want);

    // A plain session (no setting) sees the documented default.
    let plain: i64 = sqlx::query_scalar("SELECT count(*) FROM attribution_clusters")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(plain, 16);
    let members: i64 = sqlx::query_scalar("SELECT count(*) FROM attribution_cluster_members")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let listed: usize = at(DEFAULT_MAX_CLEAN_IMAGES).await.iter().map(|r| r.8.len()).sum();
    assert_eq!(usize::try_from(members).unwrap(), listed, "the members view lists what the report lists");
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn low_confidence_and_base_layers_link_nothing(pool: PgPool) {
    let store = census(pool).await;
    // Before any cluster threshold: the links themselves.
    let links: Vec<(String, String)> =
        sqlx::query_as("SELECT DISTINCT kind, key FROM attribution_links ORDER BY kind, key")
            .fetch_all(store.pool())
            .await
            .unwrap();
    let has = |kind: &str, key: &str| links.iter().any(|(k, v)| k == kind && v == key);
    assert!(
        !has("aws_account", "581039954779"),
        "AWS's example key is rated low: in G and K2, linking neither"
    );
    assert!(!has("token", Fingerprint::of(LOW_NPM.as_bytes()).as_str()), "a low npm token links nothing");
    for base in ["debian", "alpine"] {
        assert!(!has("layer", digest(base).as_str()), "{base} is every stack's position 0");
    }
    assert!(has("domain", "only-one.xyz"), "D's domain is a link of D...");
    let only_one: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM attribution_clusters WHERE kind = 'domain' AND key = 'only-one.xyz'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(only_one, 0, "...but K4, the other image with it, is clean: no cluster");
    let namespace = |ns: &'static str| {
        let pool = store.pool().clone();
        async move {
            let counts: (i64, i64) = sqlx::query_as(
                "SELECT count(DISTINCT image_id), count(DISTINCT repository_id) FROM attribution_links
                 WHERE kind = 'namespace' AND key = $1",
            )
            .bind(ns)
            .fetch_one(&pool)
            .await
            .unwrap();
            counts
        }
    };
    assert_eq!(
        namespace("m3").await,
        (1, 1),
        "m3 links through m3/tools only: m3/clean has no flagged image"
    );
    let m2 = namespace("m2").await;
    assert_eq!(m2, (2, 1), "two flagged tags of one repository make no namespace cluster");
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn the_limit_keeps_the_largest(pool: PgPool) {
    let store = census(pool).await;
    let report = store.clusters(&options(2, Some(3))).await.unwrap();
    assert_eq!(report.clusters_total, 14, "the total counts every cluster, not the ones shown");
    assert_eq!(rows(&report), expected_at_two()[..3]);
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn an_empty_census_has_no_clusters(pool: PgPool) {
    let none = Store::from_pool(pool).clusters(&ClusterOptions::default()).await.unwrap();
    assert_eq!((none.clusters_total, none.clusters.len()), (0, 0));
}
