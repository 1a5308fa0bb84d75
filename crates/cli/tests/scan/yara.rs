//! `hubcensus scan --yara` (issue #19): a researcher's own YARA rule, given as a file, a
//! directory or a `[rules] yara` glob, decides findings in a local image and in one streamed
//! from a loopback registry; a rule that does not compile stops the scan before any work.

use std::{path::Path, process::Command};

use serde_json::{Value, json};

use crate::{
    builder::{Comp, ImageSpec, OciLayout, TarBuilder},
    docker::scan_local_registry,
    find, findings, hubcensus, json_of, layout_registry, oci,
};

/// A user's rule: a dropper's two traits, counted as hacking tools.
const RULES: &str = r#"
rule dropper_traits {
    meta:
        author = "a researcher"
        category = "hacking_tool"
        confidence = "high"
    strings:
        $stage = "STAGE2-LOADER-v7"
        $mutex = "Global\\dropper-7c1e"
    condition:
        $stage and $mutex
}
"#;

/// An image of two layers: the dropper's sample at `opt/tools/loader` and a copy at
/// `tmp/loader` that the upper layer deletes.
fn write_image(dir: &Path) {
    let sample = b"#!/bin/sh\n# STAGE2-LOADER-v7\nmutex='Global\\dropper-7c1e'\n";
    let mut lower = TarBuilder::new();
    lower.file("etc/os-release", 0o644, b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n");
    lower.file("opt/tools/loader", 0o755, sample);
    lower.file("tmp/loader", 0o755, sample);
    let mut upper = TarBuilder::new();
    upper.file("tmp/.wh.loader", 0o644, b"");
    let spec = ImageSpec {
        config: json!({ "architecture": "amd64", "os": "linux", "config": { "Cmd": ["/bin/sh"] } }),
        layers: vec![(lower.finish(), Comp::Gzip), (upper.finish(), Comp::Zstd)],
    };
    let layout = OciLayout::create(dir);
    let (manifest, _) = layout.image(&spec);
    layout.tag_all(vec![(manifest, "v1")]);
}

fn assert_user_rule_found(report: &Value) {
    let live = find(report, "yara:user:dropper_traits", "opt/tools/loader")
        .unwrap_or_else(|| panic!("no YARA finding: {report:#}"));
    assert_eq!(
        (live["category"].as_str(), live["confidence"].as_str()),
        (Some("hacking_tool"), Some("high")),
        "{live}"
    );
    assert_eq!(live["deleted_in_upper_layer"], false);
    assert!(live["preview"].as_str().unwrap().contains("$stage@0xc: STAGE2-LOADER-v7"), "{live}");
    let deleted = find(report, "yara:user:dropper_traits", "tmp/loader").unwrap();
    assert_eq!(deleted["deleted_in_upper_layer"], true, "an upper layer's whiteout deletes it");
    assert!(report["categories"].as_array().unwrap().contains(&json!("hacking_tool")), "{report:#}");
}

#[test]
fn a_user_rule_from_a_file_a_directory_or_the_config_finds_its_sample() {
    let dir = tempfile::tempdir().unwrap();
    write_image(&dir.path().join("img"));
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(rules.join("user.yar"), RULES).unwrap();
    let image = oci(&dir.path().join("img"), "v1");

    for yara in [rules.join("user.yar"), rules.clone()] {
        let out = hubcensus(&["--format", "json", "--yara", yara.to_str().unwrap(), &image]);
        assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
        assert_user_rule_found(&json_of(&out));
    }

    let config = dir.path().join("hubcensus.toml");
    std::fs::write(&config, format!("[rules]\nyara = [\"{}/*.yar\"]\n", rules.display())).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hubcensus"))
        .args(["scan", "--format", "json", &image])
        .env("HUBCENSUS_CONFIG", &config)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert_user_rule_found(&json_of(&out));

    // Without the rule, nothing in this image is a hacking tool.
    let (code, report) = crate::json_scan(&["--format", "json", &image]);
    assert_eq!(code, 0, "{report:#}");
    assert!(findings(&report).is_empty(), "{report:#}");
}

#[test]
fn a_rule_that_does_not_compile_exits_2_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.yar");
    std::fs::write(&bad, "rule fine { condition: true }\n\nrule odd {\n  meta:\n    category = \"miners\"\n  condition: true\n}\n")
        .unwrap();
    // The image does not exist either: the rule's error comes first.
    let out = hubcensus(&["--yara", bad.to_str().unwrap(), "oci:/nonexistent/image:v1"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "YARA rule file {}, line 5, rule odd: unknown category \"miners\"",
            bad.display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("nonexistent"), "nothing else was tried: {stderr}");
    assert!(out.stdout.is_empty());

    let out =
        hubcensus(&["--yara", dir.path().join("missing.yar").to_str().unwrap(), "oci:/nonexistent/image:v1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.yar: no such file"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_rule_finds_its_sample_in_an_image_streamed_from_a_registry() {
    let dir = tempfile::tempdir().unwrap();
    write_image(&dir.path().join("img"));
    let rules = dir.path().join("user.yar");
    std::fs::write(&rules, RULES).unwrap();
    let host = layout_registry::serve(dir.path().join("img")).await;
    let reference = format!("docker://{host}/acme/app:v1");
    let (code, report) =
        scan_local_registry(&["--format", "json", "--yara", rules.to_str().unwrap(), &reference]).await;
    assert_eq!(code, 1, "{report:#}");
    assert_user_rule_found(&report);
}
