//! End-to-end tests of `hubcensus scan` on realistic images built from real Debian packages and
//! a real Python site-packages tree (fetched once by scripts/testdata/fetch.sh, cached outside
//! git), with planted threats for every content category; and of `scan docker://` against
//! hubsim's registry (`docker.rs`) and against Debian's `docker-registry` with token auth
//! (`real_registry.rs`).

// Test helpers outside #[test] functions unwrap too: a panic is the assertion.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod builder;
mod docker;
mod images;
mod layout_registry;
mod planted;
mod real_registry;
mod testdata;
mod yara;

use std::{
    path::Path,
    process::{Command, Output},
};

use serde_json::Value;

use crate::images::{C2_HOST, FEED_DOMAIN, NRD_DOMAIN};

/// Runs `hubcensus scan ARGS...` with no config file or environment overrides.
fn hubcensus(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hubcensus"))
        .arg("scan")
        .args(args)
        .env_remove("HUBCENSUS_CONFIG")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn json_scan(args: &[&str]) -> (i32, Value) {
    let out = hubcensus(args);
    (out.status.code().unwrap(), json_of(&out))
}

/// A scan's stdout as JSON (a panic shows its stderr).
fn json_of(out: &Output) -> Value {
    let stderr = String::from_utf8_lossy(&out.stderr);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}); stderr: {stderr}"))
}

fn oci(dir: &Path, tag: &str) -> String {
    format!("oci:{}:{tag}", dir.display())
}

/// An object's keys, sorted: the documented set, whatever order the output has them in (the
/// order of a parsed object depends on serde_json's `preserve_order`, which the YARA engine's
/// dependencies turn on in the builds that have it).
fn keys(object: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = object.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

fn findings(report: &Value) -> &Vec<Value> {
    report["findings"].as_array().unwrap()
}

/// The finding of `rule` at a path starting with `path`, the most confident first.
fn find<'a>(report: &'a Value, rule: &str, path: &str) -> Option<&'a Value> {
    let rank = |f: &Value| ["low", "medium", "high"].iter().position(|c| f["confidence"] == *c);
    findings(report)
        .iter()
        .filter(|f| f["rule"] == rule && f["path"].as_str().unwrap().starts_with(path))
        .max_by_key(|f| rank(f))
}

#[test]
fn the_clean_debian_python_image_has_nothing_high() {
    let dir = tempfile::tempdir().unwrap();
    images::write_clean(dir.path());
    let (code, report) =
        json_scan(&["--format", "json", "--min-confidence", "high", &oci(dir.path(), "clean")]);
    let layers = report["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 2);
    for l in layers {
        assert!(l["error"].is_null() && l["skipped"].is_null(), "{l}");
        assert!(l["entries"].as_u64().unwrap() > 1000, "a real layer has thousands of entries: {l}");
    }
    assert_eq!(layers[0]["media_type"], "application/vnd.oci.image.layer.v1.tar+gzip");
    assert_eq!(layers[1]["media_type"], "application/vnd.oci.image.layer.v1.tar+zstd");
    assert_eq!(findings(&report).len(), 0, "high-confidence findings in a clean image: {report:#}");
    assert_eq!(report["categories"], serde_json::json!([]));
    assert_eq!(code, 0);
}

#[test]
fn every_planted_item_is_found_with_high_confidence() {
    let dir = tempfile::tempdir().unwrap();
    let (planted, digests) = images::write_infected(&dir.path().join("img"));
    let feed = dir.path().join("blocklist.txt");
    std::fs::write(&feed, format!("# local blocklist\n{FEED_DOMAIN}\n")).unwrap();
    // A newly-registered-domain list: one domain inside the 30-day window before the image's
    // date (2026-11-01), one registered long before it.
    let nrd = dir.path().join("nrd.csv");
    std::fs::write(&nrd, format!("{NRD_DOMAIN},2026-10-20\n{FEED_DOMAIN},2026-01-02\n")).unwrap();
    let (code, report) = json_scan(&[
        "--format",
        "json",
        "--min-confidence",
        "low",
        "--feed",
        feed.to_str().unwrap(),
        "--feed",
        nrd.to_str().unwrap(),
        &oci(&dir.path().join("img"), "latest"),
    ]);
    assert_eq!(code, 1, "{report:#}");
    let expected: &[(&str, &str, &str)] = &[
        ("cryptomining", "miner_strings", "usr/local/bin/xmrig"),
        ("cryptomining", "miner_config", "opt/miner/config.json"),
        ("cryptomining", "monero_wallet", "usr/local/bin/start-miner.sh"),
        ("cryptomining", "miner_command_line", "usr/local/bin/start-miner.sh"),
        ("cryptomining", "stratum_url", "opt/miner/config.json"),
        ("embedded_keys", "github_token", "config.Env"),
        ("embedded_keys", "private_key", "home/app/.ssh/id_ed25519"),
        ("embedded_keys", "ssh_authorized_key", "root/.ssh/authorized_keys"),
        ("embedded_keys", "aws_access_key_id", "root/.aws/credentials"),
        ("proxy_avoidance", "proxy_tool_go_module", "usr/local/bin/gost"),
        ("proxy_avoidance", "proxy_tool_go_module", "usr/local/bin/frpc"),
        ("proxy_avoidance", "frp_config", "etc/frp/frpc.ini"),
        ("hacking_tool", "hacking_tool_strings", "usr/bin/masscan"),
        ("hacking_tool", "hacking_tool_strings", "usr/bin/hydra"),
        ("hacking_tool", "reverse_shell_dev_tcp", "config.Cmd"),
        ("other", "download_exec_raw_ip", "history["),
        ("dynamic_dns", "dynamic_dns_host", "usr/local/bin/beacon.sh"),
    ];
    let mut missing = Vec::new();
    for (category, rule, path) in expected {
        match find(&report, rule, path) {
            Some(f) if f["category"] == *category && f["confidence"] == "high" => {
                assert_eq!(f["deleted_in_upper_layer"], false, "{f}");
            }
            other => missing.push(format!("{category}/{rule} at {path}: {other:?}")),
        }
    }
    assert!(
        missing.is_empty(),
        "not found with high confidence:\n{}\nreport: {report:#}",
        missing.join("\n")
    );

    // Deleted keys are reported, flagged, and attributed to the layer that holds them.
    for path in &planted.deleted_keys {
        let f = find(&report, "private_key", path).unwrap_or_else(|| panic!("{path} not found"));
        assert_eq!(f["deleted_in_upper_layer"], true, "{f}");
        assert_eq!(f["layer"], digests[1].as_str());
    }
    // The feed match: a finding of the feed's category where the domain was first seen.
    let feed_hit = findings(&report)
        .iter()
        .find(|f| f["rule"] == "feed:blocklist.txt")
        .unwrap_or_else(|| panic!("no feed finding: {report:#}"));
    assert_eq!(feed_hit["category"], "malicious_domain");
    assert_eq!(feed_hit["path"], "usr/local/bin/beacon.sh");
    assert_eq!(feed_hit["preview"], FEED_DOMAIN);
    let nrd_hits: Vec<&Value> = findings(&report).iter().filter(|f| f["rule"] == "feed:nrd.csv").collect();
    assert_eq!(nrd_hits.len(), 1, "only the domain inside the window: {nrd_hits:?}");
    assert_eq!(nrd_hits[0]["category"], "newly_registered_domain");
    assert_eq!(nrd_hits[0]["preview"], NRD_DOMAIN);

    // Secrets never appear in clear; previews are redacted, fingerprints are their sha256.
    // (A wallet address is public: it is printed, so attribution can cluster on it.)
    assert!(find(&report, "monero_wallet", "opt/miner/config.json").is_some());
    assert_eq!(
        find(&report, "monero_wallet", "usr/local/bin/start-miner.sh").unwrap()["preview"],
        planted.wallet.as_str()
    );
    let text = report.to_string();
    for secret in [&planted.github_token, &planted.aws_key_id] {
        assert!(!text.contains(secret.as_str()), "{secret} printed in clear");
    }
    let token = find(&report, "github_token", "config.Env").unwrap();
    assert_eq!(token["fingerprint"], builder::sha256(planted.github_token.as_bytes())["sha256:".len()..]);
    assert!(report.to_string().contains(C2_HOST));

    let categories: Vec<&str> =
        report["categories"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    for c in [
        "cryptomining",
        "embedded_keys",
        "proxy_avoidance",
        "malicious_domain",
        "hacking_tool",
        "dynamic_dns",
        "other",
    ] {
        assert!(categories.contains(&c), "{c} missing from {categories:?}");
    }
    // Layers: bottom first, amd64's three, with their compression.
    let layers = report["layers"].as_array().unwrap();
    let got: Vec<&str> = layers.iter().map(|l| l["digest"].as_str().unwrap()).collect();
    assert_eq!(got, digests.iter().map(String::as_str).collect::<Vec<_>>());
    let media: Vec<&str> = layers.iter().map(|l| l["media_type"].as_str().unwrap()).collect();
    assert_eq!(
        media,
        [
            "application/vnd.oci.image.layer.v1.tar+gzip",
            "application/vnd.oci.image.layer.v1.tar+zstd",
            "application/vnd.oci.image.layer.v1.tar+gzip"
        ]
    );
    // Exactly the documented keys, nothing more.
    assert_eq!(keys(&report), ["categories", "findings", "image", "layers"]);
    let finding_keys = keys(&findings(&report)[0]);
    assert_eq!(
        finding_keys,
        [
            "category",
            "confidence",
            "deleted_in_upper_layer",
            "fingerprint",
            "layer",
            "path",
            "preview",
            "rule"
        ]
    );
    let layer_keys = keys(&layers[0]);
    assert_eq!(
        layer_keys,
        ["bytes", "digest", "entries", "error", "files_skipped", "media_type", "skipped", "skipped_files"]
    );
}

#[test]
fn a_skipped_feed_line_is_warned_about_with_its_number_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let layer = dir.path().join("layer.tar");
    let mut tar = builder::TarBuilder::new();
    tar.file("opt/run.sh", 0o755, b"#!/bin/sh\ncurl -s https://fresh-reg.example.com/x\n");
    std::fs::write(&layer, tar.finish()).unwrap();
    // A category CSV: an undated newly-registered line can never be judged, so it is skipped.
    let feed = dir.path().join("categories.csv");
    std::fs::write(
        &feed,
        "value,category,date\nfresh-reg.example.com,newly_registered_domain,\nevil.example.net,malware,\n",
    )
    .unwrap();
    let out = hubcensus(&[
        "--format",
        "json",
        "--feed",
        feed.to_str().unwrap(),
        &format!("layer:{}", layer.display()),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    json_of(&out);
    assert!(
        stderr.contains("1 line(s) skipped: line 2: a newly_registered_domain line needs a date"),
        "{stderr}"
    );
    assert!(stderr.contains("\"fresh-reg.example.com\""), "the value is named: {stderr}");
}

#[test]
fn a_key_only_in_a_deleted_file_is_reported_but_not_counted() {
    let dir = tempfile::tempdir().unwrap();
    let layout = builder::OciLayout::create(dir.path());
    let mut rng = planted::Rng::new(7);
    let mut lower = builder::TarBuilder::new();
    lower.file("srv/keys/id_ed25519", 0o600, planted::openssh_private_key(&mut rng, "ops@host").as_bytes());
    let mut upper = builder::TarBuilder::new();
    upper.file("srv/.wh.keys", 0o644, b"");
    let spec = builder::ImageSpec {
        config: serde_json::json!({ "architecture": "amd64", "os": "linux", "config": {} }),
        layers: vec![(lower.finish(), builder::Comp::Plain), (upper.finish(), builder::Comp::Gzip)],
    };
    let (manifest, _) = layout.image(&spec);
    layout.tag_all(vec![(manifest, "v1")]);
    let (code, report) = json_scan(&["--format", "json", &oci(dir.path(), "v1")]);
    let f = find(&report, "private_key", "srv/keys/id_ed25519").expect("the deleted key is still reported");
    assert_eq!(f["deleted_in_upper_layer"], true);
    assert_eq!(report["categories"], serde_json::json!([]), "deleted-only evidence is not counted");
    assert_eq!(code, 1, "the key still ships in the image's lower layer");
}

#[test]
fn platform_flag_picks_the_arm64_decoy_which_is_clean() {
    let dir = tempfile::tempdir().unwrap();
    images::write_infected(dir.path());
    let (code, report) =
        json_scan(&["--format", "json", "--platform", "linux/arm64", &oci(dir.path(), "latest")]);
    assert_eq!(report["layers"].as_array().unwrap().len(), 1, "{report:#}");
    assert_eq!(findings(&report).len(), 0, "{report:#}");
    assert_eq!(code, 0);
}

#[test]
fn docker_archive_gives_the_same_findings_as_the_oci_layout() {
    let dir = tempfile::tempdir().unwrap();
    let (spec, _) = images::infected_spec();
    let archive = dir.path().join("infected.tar");
    builder::docker_archive(&archive, &spec, "evil/miner:latest");
    let layout = builder::OciLayout::create(&dir.path().join("oci"));
    let (manifest, _) = layout.image(&spec);
    layout.tag_all(vec![(manifest, "latest")]);

    let (code_a, from_archive) =
        json_scan(&["--format", "json", &format!("docker-archive:{}", archive.display())]);
    let (code_o, from_oci) = json_scan(&["--format", "json", &oci(&dir.path().join("oci"), "latest")]);
    assert_eq!((code_a, code_o), (1, 1));
    assert_eq!(from_archive["image"], "evil/miner:latest");
    let key = |r: &Value| {
        let mut v: Vec<(String, String, String, bool)> = findings(r)
            .iter()
            .map(|f| {
                (
                    f["rule"].as_str().unwrap().to_owned(),
                    f["path"].as_str().unwrap().to_owned(),
                    f["fingerprint"].as_str().unwrap().to_owned(),
                    f["deleted_in_upper_layer"].as_bool().unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(key(&from_archive), key(&from_oci));
    assert!(!key(&from_oci).is_empty());
    // Legacy archives hold uncompressed layers, named by their diff ids.
    for l in from_archive["layers"].as_array().unwrap() {
        assert_eq!(l["media_type"], "application/vnd.oci.image.layer.v1.tar");
        assert!(l["error"].is_null(), "{l}");
    }
}

#[test]
fn sarif_output_has_one_rule_per_id_and_layer_located_results() {
    let dir = tempfile::tempdir().unwrap();
    let (_, digests) = images::write_infected(dir.path());
    let out = hubcensus(&["--format", "sarif", &oci(dir.path(), "latest")]);
    assert_eq!(out.status.code(), Some(1));
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let mut ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "one rule per id");
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
    }
    let uri = format!("{}/usr/local/bin/xmrig", digests[1]);
    assert!(
        results
            .iter()
            .any(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == uri.as_str()),
        "no result at {uri}"
    );
}

#[test]
fn table_output_lists_findings_then_layers() {
    let dir = tempfile::tempdir().unwrap();
    images::write_infected(dir.path());
    let out = hubcensus(&[&oci(dir.path(), "latest")]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let findings_at = text.find("usr/local/bin/xmrig").expect("a finding line");
    let layers_at = text.find("MEDIA TYPE").expect("the layer table");
    assert!(findings_at < layers_at);
    assert!(text.contains("[deleted in an upper layer]"));
    assert!(text.contains("categories: cryptomining"));
}

#[test]
fn a_file_of_zeros_is_walked_past_and_listed_with_the_layer() {
    // A high uid's /var/log/lastlog, stored as zeros, before a miner config: the layer is
    // scanned to its end, the miner found, and the zero file listed with its reason.
    let config = br#"{"donate-level": 1, "cpu": {"huge-pages": true}, "pools": [{"algo": "rx/0",
        "url": "stratum+tcp://pool.supportxmr.com:443", "pass": "x", "keepalive": true,
        "user": "4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2684Rge"}]}"#;
    let mut tar = builder::TarBuilder::new();
    tar.file("var/log/lastlog", 0o644, &vec![0u8; 200 * 292 * 1024]).file(
        "etc/xmrig/config.json",
        0o644,
        config,
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("layer.tar.gz");
    std::fs::write(&file, builder::Comp::Gzip.compress(&tar.finish())).unwrap();
    let source = format!("layer:{}", file.display());

    let (code, report) = json_scan(&["--format", "json", &source]);
    assert_eq!(code, 1, "{report:#}");
    let layer = &report["layers"][0];
    assert!(layer["error"].is_null(), "{layer}");
    assert_eq!(layer["files_skipped"], 1, "{layer}");
    let skipped = &layer["skipped_files"][0];
    assert_eq!((&skipped["path"], &skipped["reason"]), (&"var/log/lastlog".into(), &"zero_filled".into()));
    assert!(skipped["detail"].as_str().unwrap().contains("59801600 bytes of zeros"), "{skipped}");
    assert!(find(&report, "monero_wallet", "etc/xmrig/config.json").is_some(), "{report:#}");

    let out = hubcensus(&[&source]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("file not (fully) scanned: var/log/lastlog: zero-filled"), "{text}");
}

#[test]
fn a_tampered_blob_is_an_error_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let (_, digests) = images::write_infected(dir.path());
    let layout = builder::OciLayout { dir: dir.path().to_owned() };
    let path = layout.blob_path(&digests[2]);
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff; // the gzip trailer: the stream may still decode, the digest cannot match
    std::fs::write(&path, bytes).unwrap();
    let (code, report) = json_scan(&["--format", "json", &oci(dir.path(), "latest")]);
    assert_eq!(code, 2);
    let error = report["layers"][2]["error"].as_str().expect("the layer records its error");
    assert!(error.contains("digest mismatch"), "{error}");
    assert!(report["layers"][1]["error"].is_null());
    assert!(find(&report, "miner_strings", "usr/local/bin/xmrig").is_some(), "other layers still count");
}

#[test]
fn bad_sources_exit_2_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    images::write_infected(dir.path());
    for (source, wanted) in [
        (oci(dir.path(), "nope"), "no image tagged \"nope\""),
        (format!("oci:{}", dir.path().join("missing").display()), "not an OCI image layout"),
        ("tarball:x".to_owned(), "unknown transport"),
    ] {
        let out = hubcensus(&[&source]);
        assert_eq!(out.status.code(), Some(2), "{source}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(wanted), "{source}: {stderr}");
        assert!(out.stdout.is_empty(), "{source}: nothing on stdout");
    }
    let out = hubcensus(&["--platform", "linux/s390x", &oci(dir.path(), "latest")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("linux/arm64, linux/amd64"));
}
