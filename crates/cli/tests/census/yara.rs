//! A census with a researcher's YARA rule configured (issue #19): the rule's category is
//! counted for the images whose layers carry its sample, apart when an upper layer deletes
//! it, and the report shows it.
//!
//! hubsim plants the EICAR test file in some images of category `other` (`tmp/eicar.com`,
//! live; `opt/sample.com`, deleted by an upper layer). The user's rule calls it a hacking tool,
//! a category those images have no other evidence for.

use std::{
    collections::BTreeSet,
    process::{Command, Stdio},
};

use hubcensus_hubsim::{
    Sim, SimConfig, Truth,
    population::{Population, content::Location},
};
use hubcensus_store::Store;
use sqlx::PgPool;

use crate::{database_url, finish, hubcensus};

const RULE: &str = r#"
rule eicar_sample {
    meta:
        description = "the EICAR test string, as a stand-in for a sample a researcher hunts"
        category = "hacking_tool"
        confidence = "high"
    strings:
        $eicar = "EICAR-STANDARD-ANTIVIRUS-TEST-FILE"
    condition:
        $eicar
}
"#;

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn a_configured_yara_rule_counts_its_category_for_the_planted_sample(pool: PgPool) {
    let store = Store::from_pool(pool.clone());
    let url = database_url(&pool);
    // A small population in which one repository in six plants an `other` threat, so both
    // EICAR techniques occur.
    let mut cfg = SimConfig::for_tests(23, 120);
    cfg.limits.pulls_anonymous = None;
    cfg.limits.pulls_authenticated = None;
    cfg.population.threats_per_250k.other = 40_000;
    let truth = {
        let pop = Population::new(&cfg.population);
        tokio::task::spawn_blocking(move || Truth::build(&pop)).await.unwrap()
    };
    let sim = Sim::start(cfg).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("hunt")).unwrap();
    std::fs::write(dir.path().join("hunt/user.yar"), RULE).unwrap();
    let config = dir.path().join("hubcensus.toml");
    std::fs::write(&config, format!("[rules]\nyara = [\"{}/hunt/*.yar\"]\n", dir.path().display())).unwrap();
    let with_config = |args: &[&str]| {
        let mut cmd: Command = hubcensus(&sim, &url, args);
        cmd.env("HUBCENSUS_CONFIG", &config).stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd
    };

    let out = finish(with_config(&["census", "--label", "yara"]).spawn().unwrap()).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // The images that carry the sample, live or deleted by an upper layer.
    let (mut live, mut deleted) = (BTreeSet::new(), BTreeSet::new());
    for image in &truth.images {
        for item in &image.items {
            if let Location::LayerFile { deleted_in, .. } = &item.location
                && item.technique.starts_with("known_bad_hash")
            {
                let set = if deleted_in.is_some() { &mut deleted } else { &mut live };
                set.insert(image.manifest_digest.to_string());
            }
        }
    }
    let other: Vec<&str> = truth
        .images
        .iter()
        .filter(|i| i.category == hubcensus_types::Category::Other)
        .flat_map(|i| i.items.iter().map(|it| it.technique.as_str()))
        .collect();
    assert!(
        !live.is_empty() && !deleted.is_empty(),
        "the population plants both: {live:?} {deleted:?} {other:?}"
    );

    let rows: Vec<(String, bool, bool)> = sqlx::query_as(
        "SELECT i.digest, ic.counted, ic.only_deleted FROM image_categories ic JOIN images i ON i.id = ic.image_id
         WHERE ic.category = 'hacking_tool'",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    for digest in &live {
        assert!(rows.iter().any(|(d, counted, _)| d == digest && *counted), "{digest} not counted: {rows:?}");
    }
    for digest in &deleted {
        assert!(
            rows.iter().any(|(d, counted, only_deleted)| d == digest && !*counted && *only_deleted),
            "{digest} not counted apart: {rows:?}"
        );
    }
    let findings: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT rule_id, category::text, confidence::text FROM findings WHERE rule_id LIKE 'yara:%' GROUP BY 1, 2, 3",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(
        findings,
        [("yara:user:eicar_sample".to_owned(), "hacking_tool".to_owned(), "high".to_owned())]
    );

    // The report counts them: hubsim's hacking-tool images and the sample's live ones.
    let hacking: BTreeSet<String> = truth
        .images
        .iter()
        .filter(|i| i.category == hubcensus_types::Category::HackingTool)
        .map(|i| i.manifest_digest.to_string())
        .collect();
    let out = finish(with_config(&["report", "--format", "json"]).spawn().unwrap()).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let row =
        report["categories"].as_array().unwrap().iter().find(|r| r["category"] == "hacking_tool").unwrap();
    assert_eq!(row["images"], hacking.union(&live).count(), "{row}");
    assert!(row["images_deleted_only"].as_u64().unwrap() >= 1, "{row}");

    // The run records the rules version, YARA file included: another rule set is another
    // version, which `census --new` rescans layers for.
    let version: String =
        sqlx::query_scalar("SELECT rules_version FROM census_runs").fetch_one(store.pool()).await.unwrap();
    let builtin = hubcensus_rules::RuleSet::builtin().unwrap();
    assert_ne!(version, builtin.version(), "the YARA file is part of the rules version");
    sim.shutdown().await;
}
