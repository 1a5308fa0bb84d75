//! Tools and credentials where real images keep them: executables (never a directory, link or
//! data file by name alone), well-known tool configs, a credential inside a backup archive,
//! and the command the image runs.

use hubcensus_layer::Limits;
use hubcensus_types::{Category, Confidence};

use crate::support::*;

/// `rule` findings as (path, confidence).
fn found(scan: &hubcensus_layer::LayerScan, rule: &str) -> Vec<(String, Confidence)> {
    scan.findings.iter().filter(|f| f.rule == rule).map(|f| (f.path.clone(), f.confidence)).collect()
}

#[test]
fn a_directory_link_or_data_file_named_like_a_tool_is_not_its_binary() {
    // What pip leaves in dist-packages for boto3: botocore's service models for AWS X-Ray.
    let models = "usr/local/lib/python3.11/dist-packages/botocore/data/xray";
    let layer = Tar::new()
        .dir(&format!("{models}/"))
        .dir(&format!("{models}/2016-04-12/"))
        .file(&format!("{models}/2016-04-12/service-2.json.gz"), &gzip(br#"{"version": "2.0"}"#))
        .file(&format!("{models}/2016-04-12/paginators-1.json"), b"{\"pagination\": {}}\n")
        // Debian's tor: usr/sbin/tor is a link to ../bin/tor; a config directory named tor.
        .dir("etc/tor/")
        .symlink("usr/sbin/tor", "../bin/tor")
        .symlink("usr/local/bin/run", "/usr/local/bin/gost")
        .hardlink("usr/local/bin/xmrig", "usr/local/bin/kworker")
        .file("opt/app/xray", b"release notes for the xray module\n")
        .bytes();
    let names = scan(&gzip(&layer));
    assert_eq!(names.error, None);
    assert!(names.findings.is_empty(), "{:?}", hits(&names));
    // The same names as executables are the tools.
    let layer = Tar::new()
        .exe("usr/bin/tor", b"\x7fELF\x02\x01\x01\0tor")
        .exe("usr/local/bin/xray", b"\x7fELF\x02\x01\x01\0xray")
        .exe("usr/local/bin/gost", b"#!/bin/sh\nexec /opt/gost/gost \"$@\"\n")
        .bytes();
    let scan = scan(&layer);
    assert_eq!(found(&scan, "tor_binary"), [("usr/bin/tor".to_owned(), Confidence::Medium)]);
    let mut proxies = found(&scan, "proxy_tool_binary");
    proxies.sort();
    assert_eq!(
        proxies,
        [
            ("usr/local/bin/gost".to_owned(), Confidence::Medium),
            ("usr/local/bin/xray".to_owned(), Confidence::High)
        ]
    );
}

#[test]
fn a_mysql_password_in_a_backup_of_etc_is_an_embedded_credential() {
    let backup = gzip(
        &Tar::new()
            .dir("etc/mysql/")
            .file(
                "etc/mysql/debian.cnf",
                b"[client]\nhost     = localhost\nuser     = debian-sys-maint\npassword = S3cr3tPa55w0rd\nsocket   = /var/run/mysqld/mysqld.sock\n",
            )
            .file("etc/mysql/my.cnf", b"[client-server]\nsocket = /run/mysqld/mysqld.sock\n#password = hunter22\n")
            .bytes(),
    );
    let layer = Tar::new().dir("backup/").file("backup/etc.tar.gz", &backup).bytes();
    let scan = scan(&gzip(&layer));
    assert_eq!(scan.error, None);
    let creds: Vec<_> = scan.findings.iter().filter(|f| f.rule == "mysql_option_file_password").collect();
    assert_eq!(creds.len(), 1, "{:?}", hits(&scan));
    let f = creds[0];
    assert_eq!(f.path, "backup/etc.tar.gz!/etc/mysql/debian.cnf");
    assert_eq!((f.category, f.confidence), (Category::EmbeddedKeys, Confidence::Medium));
    assert!(
        !f.preview.contains("S3cr3tPa55w0rd") && f.preview.starts_with("S3cr"),
        "redacted: {}",
        f.preview
    );
}

#[test]
fn debians_shipped_tool_configs_are_judged_by_what_is_active() {
    let torrc_all_comments = b"## Configuration file for a typical Tor user\n#SocksPort 9050\n## Uncomment this if you want to use bridges\n#UseBridges 1\n#BridgeRelay 1\n";
    let layer = Tar::new()
        .file("etc/tor/torrc", torrc_all_comments)
        .file(
            "etc/proxychains4.conf",
            b"strict_chain\nproxy_dns\n[ProxyList]\n# defaults set to \"tor\"\nsocks4 \t127.0.0.1 9050\n",
        )
        .file("srv/tor/torrc", b"UseBridges 1\nClientTransportPlugin obfs4 exec /usr/bin/obfs4proxy\n")
        .bytes();
    let scan = scan(&layer);
    assert_eq!(scan.error, None);
    let mut bridges = found(&scan, "torrc_bridges");
    bridges.dedup();
    assert_eq!(bridges, [("srv/tor/torrc".to_owned(), Confidence::Medium)], "{:?}", hits(&scan));
    assert_eq!(
        found(&scan, "proxychains_config"),
        [("etc/proxychains4.conf".to_owned(), Confidence::Medium)]
    );
}

/// An image config whose command is `entrypoint` then `cmd` (JSON values).
fn config_scan(entrypoint: &serde_json::Value, cmd: &serde_json::Value) -> Vec<(String, String, String)> {
    let config = serde_json::json!({"config": {"Entrypoint": entrypoint, "Cmd": cmd}});
    let scan = walker(Limits::default()).scan_config(serde_json::to_vec(&config).unwrap().as_slice());
    assert_eq!(scan.error, None);
    let mut out: Vec<_> = scan
        .findings
        .iter()
        .filter(|f| f.rule.ends_with("_entrypoint"))
        .map(|f| (f.rule.clone(), f.path.clone(), f.preview.clone()))
        .collect();
    out.sort();
    out
}

fn one(rule: &str, path: &str, preview: &str) -> Vec<(String, String, String)> {
    vec![(rule.to_owned(), path.to_owned(), preview.to_owned())]
}

#[test]
fn an_image_whose_command_is_a_tool_is_found_at_that_field_with_its_arguments() {
    use serde_json::{Value::Null, json};
    let cases = [
        (
            json!(["xmrig", "-c", "/etc/xmrig.json"]),
            Null,
            one("miner_entrypoint", "config.Entrypoint", "xmrig -c /etc/xmrig.json"),
        ),
        (
            Null,
            json!(["tor", "-f", "/etc/tor/torrc"]),
            one("proxy_tool_entrypoint", "config.Cmd", "tor -f /etc/tor/torrc"),
        ),
        (
            json!(["proxychains4"]),
            json!(["curl", "http://x"]),
            one("proxy_tool_entrypoint", "config.Entrypoint", "proxychains4 curl http://x"),
        ),
        (
            json!(["/usr/local/bin/gost"]),
            json!(["-L", ":8080"]),
            one("proxy_tool_entrypoint", "config.Entrypoint", "/usr/local/bin/gost -L :8080"),
        ),
        (
            json!(["/docker-entrypoint.sh"]),
            json!(["trojan", "/etc/trojan/config.json"]),
            one("proxy_tool_entrypoint", "config.Cmd", "trojan /etc/trojan/config.json"),
        ),
        (
            json!(["/sbin/tini", "--"]),
            json!(["masscan", "-p1-65535", "10.0.0.0/8"]),
            one("hacking_tool_entrypoint", "config.Cmd", "masscan -p1-65535 10.0.0.0/8"),
        ),
        (
            Null,
            json!("exec sqlmap -u http://x/?id=1 --batch"),
            one("hacking_tool_entrypoint", "config.Cmd", "sqlmap -u http://x/?id=1 --batch"),
        ),
        (
            json!(["/bin/sh", "-c", "ngrok http 80"]),
            Null,
            one("proxy_tool_entrypoint", "config.Entrypoint", "ngrok http 80"),
        ),
    ];
    for (entrypoint, cmd, want) in cases {
        assert_eq!(config_scan(&entrypoint, &cmd), want, "{entrypoint} {cmd}");
    }
    // Tools named as arguments, or in a longer name, are not what runs.
    for (entrypoint, cmd) in [
        (json!(["nginx", "-c", "/etc/tor/torrc"]), Null),
        (Null, json!(["tor-browser-docs", "--serve"])),
        (json!(["/docker-entrypoint.sh"]), json!(["echo", "xmrig"])),
        (Null, json!(["python3", "-c", "import nmap"])),
    ] {
        assert_eq!(config_scan(&entrypoint, &cmd), [], "{entrypoint} {cmd}");
    }
}
