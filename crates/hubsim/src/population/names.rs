//! Names: namespaces, repositories, tags, typosquats, domains, descriptions.
//!
//! Names follow Docker Hub's shapes (namespaces are 4–30 lowercase letters and digits; repository
//! names are path components) and its habits (`latest`, semver tags, date and git-sha tags).
//! Typosquats are one edit away from an official image's name, the way
//! `vibersastra/golang`-style campaigns and the USENIX'22 mistyping study describe.

use crate::rng::Rng;

/// Official images (the `library/` namespace), most popular first.
pub(crate) const OFFICIAL: &[&str] = &[
    "nginx",
    "alpine",
    "ubuntu",
    "python",
    "redis",
    "postgres",
    "node",
    "busybox",
    "httpd",
    "mysql",
    "mongo",
    "golang",
    "debian",
    "memcached",
    "traefik",
    "rabbitmq",
    "mariadb",
    "openjdk",
    "docker",
    "hello-world",
    "registry",
    "wordpress",
    "php",
    "centos",
    "amazonlinux",
    "consul",
    "influxdb",
    "elasticsearch",
    "haproxy",
    "tomcat",
    "ruby",
    "rust",
    "perl",
    "sonarqube",
    "nextcloud",
    "ghost",
    "caddy",
    "eclipse-temurin",
    "fedora",
    "gradle",
    "maven",
    "kibana",
    "logstash",
    "telegraf",
    "vault",
    "zookeeper",
    "cassandra",
    "couchdb",
    "neo4j",
    "solr",
    "jetty",
    "composer",
    "bash",
    "swift",
    "julia",
    "erlang",
    "elixir",
    "haskell",
    "clojure",
    "groovy",
    "adminer",
    "matomo",
    "drupal",
    "joomla",
    "redmine",
    "rocket.chat",
    "mediawiki",
    "odoo",
    "percona",
    "chronograf",
];

const WORDS: &[&str] = &[
    "web",
    "api",
    "app",
    "data",
    "ml",
    "dev",
    "test",
    "my",
    "simple",
    "go",
    "py",
    "node",
    "react",
    "flask",
    "django",
    "spring",
    "k8s",
    "ci",
    "build",
    "backend",
    "frontend",
    "worker",
    "bot",
    "db",
    "cache",
    "static",
    "site",
    "blog",
    "shop",
    "auth",
    "gateway",
    "metrics",
    "monitor",
    "logger",
    "sync",
    "report",
    "etl",
    "jupyter",
    "notebook",
    "scraper",
    "crawler",
    "chat",
    "mail",
    "queue",
    "stream",
    "video",
    "image",
    "resize",
    "pdf",
    "docs",
    "wiki",
    "runner",
    "agent",
    "exporter",
    "scheduler",
    "cron",
    "backup",
    "deploy",
    "demo",
    "sample",
    "hello",
    "tutorial",
    "lab",
    "homework",
    "project",
    "service",
    "server",
    "client",
    "cli",
    "tools",
    "utils",
    "base",
    "env",
    "sandbox",
    "playground",
    "portal",
    "dashboard",
    "admin",
    "store",
    "inventory",
    "billing",
];

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ra", "ten", "zu", "vo", "pel", "dar", "nix", "sam", "ju", "lee", "kim", "ana", "max",
    "tom", "ben", "eli", "nova", "ori", "fox", "byte", "code", "dev", "ops", "sky", "sun", "moon", "star",
];

const COMPANY_SUFFIX: &[&str] =
    &["inc", "labs", "io", "hq", "systems", "soft", "cloud", "tech", "data", "works"];

/// A community namespace name (lowercase letters and digits, 4–30 characters).
pub(crate) fn namespace(rng: &mut Rng) -> String {
    let mut s = String::new();
    for _ in 0..rng.range(2, 3) {
        let w: &&str = rng.pick(SYLLABLES);
        s.push_str(w);
    }
    if rng.chance(0.6) {
        s.push_str(&rng.range(1, 9999).to_string());
    }
    s
}

/// A company-like namespace for verified publishers and sponsored projects.
pub(crate) fn company(rng: &mut Rng) -> String {
    format!("{}{}{}", rng.pick(SYLLABLES), rng.pick(SYLLABLES), rng.pick(COMPANY_SUFFIX))
}

/// A repository name.
pub(crate) fn repository(rng: &mut Rng) -> String {
    match rng.below(5) {
        0 => rng.pick(WORDS).to_string(),
        1 | 2 => format!("{}-{}", rng.pick(WORDS), rng.pick(WORDS)),
        3 => format!("{}-{}", rng.pick(OFFICIAL).replace('.', "-"), rng.pick(WORDS)),
        _ => format!("{}{}", rng.pick(WORDS), rng.range(1, 99)),
    }
}

/// Every official image name Docker Hub has (the project's list, beyond the popular ones the
/// population holds): a typosquat must not be one of them (`mongo` minus its `g` is `mono`, an
/// official image of its own).
const ALL_OFFICIAL: &str = include_str!("../../../../config/typosquat/official.txt");

fn is_official_name(name: &str) -> bool {
    OFFICIAL.contains(&name)
        || ALL_OFFICIAL.lines().map(|l| l.split('#').next().unwrap_or_default().trim()).any(|l| l == name)
}

/// QWERTY rows: a slipped finger hits a key beside the intended one.
const KEY_ROWS: &[&[u8]] = &[b"1234567890", b"qwertyuiop", b"asdfghjkl", b"zxcvbnm"];

/// A key next to `c` on its row, if `c` is on the keyboard.
fn keyboard_neighbour(rng: &mut Rng, c: u8) -> Option<u8> {
    let row = KEY_ROWS.iter().find(|r| r.contains(&c))?;
    let i = row.iter().position(|&k| k == c)?;
    let mut near = Vec::with_capacity(2);
    if i > 0 {
        near.push(row[i - 1]);
    }
    if i + 1 < row.len() {
        near.push(row[i + 1]);
    }
    Some(*rng.pick(&near))
}

/// The character a typist (or an impersonator) puts in place of `c`: a look-alike digit for
/// `o`, `i` and `l` (`pyth0n`, `a1pine`), another vowel for a vowel (`pythan`), a key beside it
/// otherwise (`nfinx`). Never an arbitrary character: `golana` imitates nobody.
fn substitute(rng: &mut Rng, c: u8) -> Option<u8> {
    const VOWELS: &[u8] = b"aeiou";
    match c {
        b'o' if rng.chance(0.5) => Some(b'0'),
        b'i' | b'l' if rng.chance(0.5) => Some(b'1'),
        _ if VOWELS.contains(&c) => {
            let others: Vec<u8> = VOWELS.iter().copied().filter(|&v| v != c).collect();
            Some(*rng.pick(&others))
        }
        _ => keyboard_neighbour(rng, c),
    }
}

/// A name one edit away from one of the `targets` most popular official images (`ngnix`,
/// `pyhton`, `alpnie`, `redis1`), the way people mistype: two letters swapped, one left out or
/// doubled, a vowel or a look-alike or a neighbouring key in place of one. `targets` is at most
/// the number of official images the population holds, so a typosquat imitates an image the
/// simulated Hub has (with its pull count), as every real one does.
pub(crate) fn typosquat(rng: &mut Rng, targets: usize) -> String {
    let targets = targets.clamp(1, 20) as u64;
    loop {
        let target = OFFICIAL[rng.below(targets) as usize].as_bytes().to_vec();
        let mut s = target.clone();
        let n = s.len();
        match rng.below(4) {
            0 if n > 3 => {
                let i = rng.range(1, n as u64 - 2) as usize;
                s.swap(i, i + 1);
            }
            1 if n > 3 => {
                let i = rng.range(1, n as u64 - 1) as usize;
                s.remove(i);
            }
            2 => {
                let i = rng.range(1, n as u64 - 1) as usize;
                let c = s[i];
                s.insert(i, c);
            }
            _ => {
                let i = rng.range(1, n as u64 - 1) as usize;
                match substitute(rng, s[i]) {
                    Some(c) => s[i] = c,
                    None => continue,
                }
            }
        }
        if s != target && s.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-') {
            let name = String::from_utf8_lossy(&s).into_owned();
            if !is_official_name(&name) && !name.ends_with('-') && !name.starts_with('-') {
                return name;
            }
        }
    }
}

/// The official image a typosquat imitates (smallest edit distance), for the ground truth.
pub(crate) fn imitated(name: &str) -> &'static str {
    OFFICIAL.iter().min_by_key(|o| edit_distance(o, name)).copied().unwrap_or("nginx")
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Tag names for a repository with `n` tags, newest first. The newest is `latest` for most.
pub(crate) fn tags(rng: &mut Rng, n: usize) -> Vec<String> {
    let mut out = Vec::with_capacity(n);
    if n == 0 {
        return out;
    }
    let style = rng.below(4);
    if rng.chance(0.85) {
        out.push("latest".to_string());
    }
    let (mut major, mut minor, mut patch) = (rng.range(0, 5), rng.range(0, 20), rng.range(0, 30));
    let mut k = 0u64;
    while out.len() < n {
        let t = match style {
            0 => format!("v{major}.{minor}.{patch}"),
            1 => format!("{major}.{minor}"),
            2 => format!("sha-{:07x}", rng.next_u64() & 0xfff_ffff),
            _ => format!("build-{}", 10_000 - k),
        };
        if patch > 0 {
            patch -= 1;
        } else if minor > 0 {
            minor -= 1;
            patch = 9;
        } else if major > 0 {
            major -= 1;
            minor = 9;
        } else {
            major = 0;
            minor = 0;
            patch = 0;
            k += 1;
        }
        k += 1;
        if !out.contains(&t) {
            out.push(t);
        } else if style < 2 {
            out.push(format!("{t}-r{k}"));
        }
    }
    out.truncate(n);
    out
}

const TLDS: &[&str] = &["com", "net", "xyz", "top", "online", "site", "info", "live", "click", "shop"];
const DOMAIN_WORDS: &[&str] = &[
    "update",
    "cdn",
    "check",
    "sync",
    "status",
    "node",
    "cloud",
    "secure",
    "api",
    "metric",
    "telemetry",
    "panel",
    "stat",
    "img",
    "load",
    "get",
    "host",
    "edge",
    "pkg",
    "repo",
    "mirror",
    "files",
    "dl",
    "boot",
];

/// Index ranges that keep generated domains of different uses apart (a domain embeds its index).
pub(crate) const DOMAIN_NRD: u64 = 0;
pub(crate) const DOMAIN_URLHAUS: u64 = 100_000_000;
pub(crate) const DOMAIN_NOISE_URLHAUS: u64 = 200_000_000;
pub(crate) const DOMAIN_NOISE_NRD: u64 = 300_000_000;
pub(crate) const DOMAIN_SPAM: u64 = 400_000_000;

/// A plausible domain, unique by construction: it embeds `index` (use the ranges above).
pub(crate) fn domain(rng: &mut Rng, index: u64) -> String {
    format!("{}-{}{}.{}", rng.pick(DOMAIN_WORDS), rng.pick(DOMAIN_WORDS), index, rng.pick(TLDS))
}

const MOVIES: &[&str] = &[
    "The Last Horizon",
    "Midnight Express",
    "Silent River",
    "Crimson Tide Rising",
    "Eternal Summer",
    "Broken Arrow II",
    "Galaxy Quest Returns",
    "Ocean Drive",
];

/// A spam description in the style of the metadata-only campaigns JFrog reported.
pub(crate) fn spam_description(rng: &mut Rng) -> String {
    let movie = rng.pick(MOVIES);
    match rng.below(3) {
        0 => format!(
            "Watch {movie} ({}) Full Movie Online Free HD 1080p - stream now at https://{}",
            rng.range(2019, 2026),
            {
                let k = DOMAIN_SPAM + rng.below(1_000_000);
                domain(rng, k)
            }
        ),
        1 => format!(
            "Free {} gift card generator 2025 no human verification >> https://{}",
            rng.pick(&["Steam", "Roblox", "V-Bucks", "PSN"]),
            {
                let k = DOMAIN_SPAM + rng.below(1_000_000);
                domain(rng, k)
            }
        ),
        _ => format!("Buy cheap e-books PDF download {movie} ebook epub https://{}", {
            let k = DOMAIN_SPAM + rng.below(1_000_000);
            domain(rng, k)
        }),
    }
}

/// A short description for an ordinary repository.
pub(crate) fn description(rng: &mut Rng, name: &str) -> String {
    match rng.below(5) {
        0 => String::new(),
        1 => format!("{name} image"),
        2 => format!("Docker image for {name}, built from source"),
        3 => format!("My {name} project"),
        _ => format!("{} for {}", rng.pick(WORDS), name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_valid_and_typosquats_are_one_edit_away() {
        for i in 0..500 {
            let mut r = Rng::new(9, "n", i);
            let ns = namespace(&mut r);
            assert!(ns.len() >= 4 && ns.len() <= 30, "{ns}");
            let repo = repository(&mut r);
            assert!(hubcensus_types::RepoRef::new(&ns, &repo).is_ok(), "{ns}/{repo}");
            let t = typosquat(&mut r, 20);
            assert!(hubcensus_types::RepoRef::new(&ns, &t).is_ok(), "{t}");
            assert_eq!(edit_distance(imitated(&t), &t).min(2), edit_distance(imitated(&t), &t));
            assert!(!OFFICIAL.contains(&t.as_str()));
            let tags = tags(&mut r, (i % 12) as usize);
            assert_eq!(tags.len(), (i % 12) as usize);
            let set: std::collections::HashSet<_> = tags.iter().collect();
            assert_eq!(set.len(), tags.len());
        }
    }
}
