//! The ground truth agrees with what the server serves: a population of 2,000 is walked through
//! the HTTP API and every planted item is found exactly where the truth says.

use hubcensus_hubsim::Truth;
use hubcensus_hubsim::population::content::Location;
use hubcensus_types::{Category, Fingerprint};
use serde_json::Value;

use crate::common::*;

/// Whether some substring of `hay` of length `len` has the fingerprint `fp`.
fn contains_secret(hay: &[u8], len: usize, fp: &Fingerprint) -> bool {
    hay.len() >= len && hay.windows(len).any(|w| Fingerprint::of(w) == *fp)
}

fn secret_len(preview: &str) -> usize {
    preview.rsplit_once("(len ").and_then(|(_, r)| r.trim_end_matches(')').parse().ok()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_planted_item_is_served_where_the_truth_says() {
    let sim = start(2_000, |_| {}).await;
    let truth: Truth = tokio::task::block_in_place(|| sim.truth());
    // Every category is planted, each image carries exactly one, and the table adds up.
    for cat in Category::ALL {
        assert!(truth.images.iter().any(|i| i.category == cat), "{cat} planted");
    }
    let total: u64 = truth.table.iter().map(|r| r.images).sum();
    assert_eq!(total, truth.frame.malicious_images);
    assert_eq!(truth.images.len() as u64, truth.frame.malicious_images);
    // Standalone truth (what `hubsim truth` prints) equals the server's.
    let standalone = tokio::task::block_in_place(|| Truth::build(sim.population()));
    assert_eq!(standalone.to_json(), truth.to_json());

    let c = client();
    let mut checked = 0;
    let mut placements = std::collections::BTreeSet::new();
    for img in &truth.images {
        let repo = &img.repository;
        let t = token(&c, &sim, repo).await;
        let (digest, m) = amd64_manifest(&c, &sim, repo, &img.tag, &t).await;
        assert_eq!(digest, img.manifest_digest.as_str(), "{repo}");
        assert_eq!(m["config"]["digest"], img.config_digest.as_str());
        let config: Value =
            serde_json::from_slice(&blob(&c, &sim, repo, img.config_digest.as_str(), &t).await).unwrap();
        let layers: Vec<String> = m["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["digest"].as_str().unwrap().to_string())
            .collect();
        for item in &img.items {
            let haystack: Vec<u8> = match &item.location {
                Location::LayerFile { layer, path, deleted_in } => {
                    let pos = layers
                        .iter()
                        .position(|l| l == layer.as_str())
                        .unwrap_or_else(|| panic!("{repo}: layer not in manifest"));
                    let entries = untar(&blob(&c, &sim, repo, layer.as_str(), &t).await);
                    let (_, data) = entries
                        .iter()
                        .find(|(p, _)| p == path)
                        .unwrap_or_else(|| panic!("{repo}: {path} not in layer"));
                    assert_eq!(item.value_sha256.as_deref(), Some(sha256_hex(data).as_str()));
                    if let Some(upper) = deleted_in {
                        let upos = layers.iter().position(|l| l == upper.as_str()).unwrap();
                        assert!(upos > pos);
                        let (dir, file) = path.rsplit_once('/').unwrap();
                        let wh = format!("{dir}/.wh.{file}");
                        assert!(
                            untar(&blob(&c, &sim, repo, upper.as_str(), &t).await)
                                .iter()
                                .any(|(p, _)| *p == wh),
                            "{repo}: whiteout {wh}"
                        );
                        placements.insert("whiteout");
                    } else {
                        placements.insert("layer_file");
                    }
                    data.clone()
                }
                Location::Config { field } => {
                    let value: String = if let Some(rest) = field.strip_prefix("config.Env[") {
                        let i: usize = rest.trim_end_matches(']').parse().unwrap();
                        placements.insert("env");
                        config["config"]["Env"][i].as_str().unwrap().to_string()
                    } else if field == "config.Cmd" || field == "config.Entrypoint" {
                        placements.insert("cmd_entrypoint");
                        config["config"][&field["config.".len()..]].to_string()
                    } else if let Some(key) = field.strip_prefix("config.Labels.") {
                        placements.insert("label");
                        config["config"]["Labels"][key].as_str().unwrap().to_string()
                    } else if let Some(rest) = field.strip_prefix("history[") {
                        let i: usize = rest.split(']').next().unwrap().parse().unwrap();
                        placements.insert("history");
                        config["history"][i]["created_by"].as_str().unwrap().to_string()
                    } else {
                        panic!("unknown field {field}");
                    };
                    assert_eq!(
                        item.value_sha256.as_deref(),
                        Some(sha256_hex(value.as_bytes()).as_str()),
                        "{repo} {field}"
                    );
                    value.into_bytes()
                }
                Location::RepoName { imitates } => {
                    let name = repo.split('/').nth(1).unwrap();
                    assert_ne!(name, imitates);
                    assert!(hubcensus_types::RepoRef::new("library", imitates).is_ok());
                    placements.insert("repo_name");
                    Vec::new()
                }
            };
            if let (Some(preview), Some(fp)) = (&item.secret_preview, &item.secret_fingerprint) {
                assert!(
                    contains_secret(&haystack, secret_len(preview), fp),
                    "{repo}: secret {preview} not found"
                );
            }
            // Indicators are in the served bytes (a tool's name in its binary's strings too).
            if let Some(ind) = &item.indicator {
                assert!(String::from_utf8_lossy(&haystack).contains(ind.as_str()), "{repo}: indicator {ind}");
            }
            checked += 1;
        }
    }
    assert!(checked >= truth.images.len());
    for p in ["layer_file", "whiteout", "env", "cmd_entrypoint", "history", "repo_name"] {
        assert!(placements.contains(p), "placement {p} exercised (got {placements:?})");
    }
    // Decoys are served where the truth says too.
    for d in &truth.decoys {
        let (repo, tag) = d.image.rsplit_once(':').unwrap();
        let t = token(&c, &sim, repo).await;
        let (_, m) = amd64_manifest(&c, &sim, repo, tag, &t).await;
        assert!(m["layers"].as_array().unwrap().iter().any(|l| l["digest"] == d.layer.as_str()));
        let entries = untar(&blob(&c, &sim, repo, &d.layer, &t).await);
        assert!(entries.iter().any(|(p, _)| *p == d.path));
    }
    sim.shutdown().await;
}

#[test]
fn default_population_reproduces_sysdigs_table() {
    let pop = hubcensus_hubsim::population::Population::new(&hubcensus_hubsim::PopulationConfig::default());
    for cat in Category::ALL {
        let n = pop.repos().iter().filter(|r| r.plant == Some(cat)).count() as u32;
        match cat.sysdig_2022_images() {
            Some(expected) => assert_eq!(n, expected, "{cat}"),
            None => assert_eq!(n, 40, "{cat}"),
        }
    }
}
