//! The population: every namespace and repository of the simulated Hub.
//!
//! Building it computes only compact metadata — names, badges, kinds, dates, counts, and which
//! repositories carry a planted threat — about 60 bytes per repository, so 250,000 repositories
//! start in well under a second. Nothing about tags, manifests or layers is materialised here:
//! [`content`] builds a repository's images on first request from `(seed, repository index)`,
//! and a bounded cache keeps recently used ones.
//!
//! Threat placement needs exact counts (Sysdig's table is a set of exact numbers), so the
//! planted repositories are drawn by one seeded shuffle of the eligible community repositories:
//! a repository's threat is a function of `(seed, repos)`, everything else of `(seed, index)`.

pub(crate) mod base;
pub mod campaigns;
pub mod content;
pub mod epochs;
pub(crate) mod files;
pub(crate) mod names;
pub(crate) mod threats;

use std::collections::HashMap;

use hubcensus_types::{Badge, Category, ExclusionReason};

use crate::config::PopulationConfig;
use crate::rng::Rng;

/// What a repository holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RepoKind {
    /// Container images (OCI / Docker schema2).
    Image,
    /// Old images stored as Docker schema1 manifests.
    Schema1Image,
    /// No tags: a description only.
    Imageless,
    /// No tags, and the description is spam.
    Spam,
    /// Helm charts pushed as OCI artifacts.
    Helm,
    /// WebAssembly modules pushed as OCI artifacts.
    Wasm,
}

impl RepoKind {
    /// Whether the repository has any tags.
    pub fn has_tags(self) -> bool {
        !matches!(self, RepoKind::Imageless | RepoKind::Spam)
    }
}

/// A namespace (user or organisation).
#[derive(Debug, Clone)]
pub struct Namespace {
    /// The namespace name.
    pub name: String,
    /// Its badge in v4 search (the same for all its repositories).
    pub badge: Badge,
    /// Index of its first repository.
    pub first: u32,
    /// Number of repositories.
    pub len: u32,
    /// Hub user id (hex, as `/v2/users/{name}` gives it).
    pub id: String,
}

/// Compact per-repository metadata.
#[derive(Debug, Clone)]
pub struct RepoMeta {
    /// Index of its namespace.
    pub ns: u32,
    /// Repository name within the namespace.
    pub name: Box<str>,
    /// What it holds.
    pub kind: RepoKind,
    /// Private repositories are invisible anonymously and answer 401 at the registry.
    pub private: bool,
    /// The planted threat category, if any (on the newest tag's image).
    pub plant: Option<Category>,
    /// A benign look-alike sits in the newest tag's image (must not be counted).
    pub decoy: bool,
    /// Number of tags.
    pub tags: u32,
    /// Registration time (Unix seconds).
    pub registered: i64,
    /// Last push (Unix seconds); the newest tag's push time.
    pub updated: i64,
    /// Pull count.
    pub pull_count: u64,
    /// Star count.
    pub star_count: u32,
    /// Hub reports it inactive: nothing in it pushed or pulled for [`INACTIVE_AFTER`] seconds.
    pub inactive: bool,
    /// Search (v4, v3, legacy) leaves it out: only a namespace listing, the detail endpoint or
    /// a names file finds it (`population.search_hidden`).
    pub search_hidden: bool,
    /// Does not exist at this epoch: deleted, or not created yet (`population.epoch`).
    pub gone: bool,
    /// The round of change whose push its images are (0: the original push); its content is
    /// drawn anew for each push (`population.epoch`).
    pub pushes: u32,
}

/// The whole population.
#[derive(Debug)]
pub struct Population {
    cfg: PopulationConfig,
    namespaces: Vec<Namespace>,
    repos: Vec<RepoMeta>,
    by_ns: HashMap<String, u32>,
    by_name: HashMap<String, u32>,
}

const DAY: i64 = 86_400;

/// How long a repository goes unpushed and unpulled before Hub reports it inactive: six months
/// (the inactive-image rule of Docker's 2020 retention policy, docker/roadmap#152). An inactive
/// repository's last push is at least a month older still, and its images were last pulled
/// within a month of their push.
pub const INACTIVE_AFTER: i64 = 183 * DAY;

impl Population {
    /// Builds the population's metadata from its configuration.
    pub fn new(cfg: &PopulationConfig) -> Self {
        let cfg = cfg.clone();
        let n = cfg.repos as usize;
        let seed = cfg.seed;
        let mut namespaces = Vec::new();
        let mut repos: Vec<RepoMeta> = Vec::with_capacity(n);
        let mut by_ns = HashMap::new();

        let officials = names::OFFICIAL.len().min(10 + n / 2000).min(n / 4);
        namespaces.push(Namespace {
            name: "library".into(),
            badge: Badge::Official,
            first: 0,
            len: officials as u32,
            id: ns_id(seed, 0),
        });
        by_ns.insert("library".to_string(), 0);
        for name in names::OFFICIAL.iter().take(officials) {
            let i = repos.len() as u64;
            let mut r = Rng::new(seed, "repo", i);
            let registered = cfg.anchor_unix - r.range(3000, 4300) as i64 * DAY;
            repos.push(RepoMeta {
                ns: 0,
                name: (*name).into(),
                kind: RepoKind::Image,
                private: false,
                plant: None,
                decoy: false,
                tags: r.range(6, 40) as u32,
                registered,
                updated: cfg.anchor_unix - r.range(1, 20) as i64 * DAY - r.range(0, DAY as u64) as i64,
                pull_count: r.range(100_000_000, 12_000_000_000),
                star_count: r.range(1_000, 20_000) as u32,
                inactive: false,
                search_hidden: false,
                gone: false,
                pushes: 0,
            });
        }

        let big = (cfg.big_namespace_repos as usize).min(n / 4);
        let mut ns_index = 1u64;
        while repos.len() < n {
            let mut r = Rng::new(seed, "namespace", ns_index);
            let size = if ns_index == 1 && big > 0 {
                big
            } else {
                match r.below(100) {
                    0..=69 => 1,
                    70..=84 => 2,
                    85..=92 => r.range(3, 5) as usize,
                    93..=97 => r.range(6, 20) as usize,
                    _ => r.range(21, 100) as usize,
                }
            }
            .min(n - repos.len());
            let badge = if ns_index == 1 && big > 0 {
                Badge::None
            } else if r.chance(cfg.shares.verified_namespaces) {
                Badge::VerifiedPublisher
            } else if r.chance(cfg.shares.open_source_namespaces) {
                Badge::OpenSource
            } else {
                Badge::None
            };
            let mut name = if ns_index == 1 && big > 0 {
                "megacorpci".to_string()
            } else if badge == Badge::None {
                names::namespace(&mut r)
            } else {
                names::company(&mut r)
            };
            while by_ns.contains_key(&name) || name == "library" {
                name.push_str(&r.below(10).to_string());
            }
            let nsi = namespaces.len() as u32;
            by_ns.insert(name.clone(), nsi);
            let first = repos.len() as u32;
            let mut seen = std::collections::HashSet::new();
            for _ in 0..size {
                let i = repos.len() as u64;
                let mut rr = Rng::new(seed, "repo", i);
                let mut rname = names::repository(&mut rr);
                while !seen.insert(rname.clone()) {
                    rname = format!("{rname}{}", rr.below(10));
                }
                repos.push(community_repo(
                    &cfg,
                    &mut rr,
                    nsi,
                    rname,
                    badge,
                    ns_index == 1 && i == first as u64,
                ));
            }
            namespaces.push(Namespace { name, badge, first, len: size as u32, id: ns_id(seed, nsi) });
            ns_index += 1;
        }

        let unplanted = assign_threats(&cfg, &namespaces, &mut repos);
        mark_inactive(&cfg, &mut repos, unplanted);
        hide_from_search(&cfg, &mut repos);
        epochs::apply(&cfg, &namespaces, &mut repos);

        let mut by_name = HashMap::with_capacity(n);
        for (i, r) in repos.iter().enumerate() {
            by_name.insert(format!("{}/{}", namespaces[r.ns as usize].name, r.name), i as u32);
        }
        Self { cfg, namespaces, repos, by_ns, by_name }
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &PopulationConfig {
        &self.cfg
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.cfg.seed
    }

    /// Number of repositories.
    pub fn len(&self) -> usize {
        self.repos.len()
    }

    /// Whether there are no repositories (never, for a validated configuration).
    pub fn is_empty(&self) -> bool {
        self.repos.is_empty()
    }

    /// All namespaces.
    pub fn namespaces(&self) -> &[Namespace] {
        &self.namespaces
    }

    /// All repositories' metadata, by index.
    pub fn repos(&self) -> &[RepoMeta] {
        &self.repos
    }

    /// One repository's metadata.
    pub fn repo(&self, i: u32) -> &RepoMeta {
        &self.repos[i as usize]
    }

    /// The namespace of a repository.
    pub fn namespace_of(&self, i: u32) -> &Namespace {
        &self.namespaces[self.repos[i as usize].ns as usize]
    }

    /// `namespace/name` of a repository.
    pub fn full_name(&self, i: u32) -> String {
        format!("{}/{}", self.namespace_of(i).name, self.repos[i as usize].name)
    }

    /// Looks a namespace up by name.
    pub fn find_namespace(&self, name: &str) -> Option<u32> {
        self.by_ns.get(name).copied()
    }

    /// Looks a repository up by `namespace/name` (none when it is gone at this epoch).
    pub fn find(&self, full: &str) -> Option<u32> {
        self.by_name.get(full).copied().filter(|&i| !self.repos[i as usize].gone)
    }

    /// The badge of a repository (its namespace's).
    pub fn badge(&self, i: u32) -> Badge {
        self.namespace_of(i).badge
    }

    /// Why a census of community images should leave this repository out, if it should.
    pub fn exclusion(&self, i: u32) -> Option<ExclusionReason> {
        let r = self.repo(i);
        if let Some(e) = self.badge(i).exclusion() {
            return Some(e);
        }
        if r.private {
            return Some(ExclusionReason::Unavailable);
        }
        match r.kind {
            RepoKind::Imageless | RepoKind::Spam => Some(ExclusionReason::Imageless),
            RepoKind::Helm | RepoKind::Wasm => Some(ExclusionReason::NotImage),
            RepoKind::Image | RepoKind::Schema1Image => r.inactive.then_some(ExclusionReason::Inactive),
        }
    }

    /// The Hub repository id (an integer, as tag objects' `repository` field carries).
    pub fn repo_id(&self, i: u32) -> u64 {
        1_000_000 + u64::from(i) * 7 + (Rng::new(self.cfg.seed, "repo-id", u64::from(i)).below(7))
    }
}

fn ns_id(seed: u64, ns: u32) -> String {
    let mut r = Rng::new(seed, "ns-id", u64::from(ns));
    format!("{:016x}{:016x}", r.next_u64(), r.next_u64())
}

fn community_repo(
    cfg: &PopulationConfig,
    r: &mut Rng,
    ns: u32,
    name: String,
    badge: Badge,
    big_tags: bool,
) -> RepoMeta {
    let s = &cfg.shares;
    let kind = if big_tags {
        RepoKind::Image
    } else {
        let u = r.unit();
        let mut acc = 0.0;
        let mut pick = RepoKind::Image;
        for (share, kind) in [
            (s.imageless, RepoKind::Imageless),
            (s.spam, RepoKind::Spam),
            (s.helm, RepoKind::Helm),
            (s.wasm, RepoKind::Wasm),
            (s.schema1, RepoKind::Schema1Image),
        ] {
            acc += share;
            if u < acc {
                pick = kind;
                break;
            }
        }
        if badge != Badge::None && pick == RepoKind::Spam { RepoKind::Imageless } else { pick }
    };
    let private = kind == RepoKind::Image && !big_tags && r.chance(s.private);
    let (registered, updated) = if kind == RepoKind::Schema1Image {
        // 2015-06 .. 2017-06 registration, last push before schema1 pushes were retired.
        let reg = 1_433_116_800 + r.range(0, 730) as i64 * DAY;
        (reg, reg + r.range(10, 500) as i64 * DAY)
    } else {
        let reg = cfg.anchor_unix - r.range(40, 2400) as i64 * DAY - r.range(0, DAY as u64) as i64;
        let span = (cfg.anchor_unix - reg - DAY).max(DAY);
        (reg, reg + DAY / 2 + (r.unit().powf(0.5) * span as f64) as i64)
    };
    let tags = if big_tags {
        cfg.big_repo_tags.max(1)
    } else if !kind.has_tags() {
        0
    } else {
        match r.below(100) {
            0..=39 => 1,
            40..=69 => r.range(2, 3) as u32,
            70..=91 => r.range(4, 8) as u32,
            _ => r.range(9, 30) as u32,
        }
    };
    let pull_count = match badge {
        Badge::None => (r.unit().powi(6) * 2_000_000.0) as u64,
        _ => r.range(50_000, 500_000_000),
    };
    RepoMeta {
        ns,
        name: name.into(),
        kind,
        private,
        plant: None,
        decoy: false,
        tags,
        registered,
        updated,
        pull_count,
        star_count: (r.unit().powi(8) * 500.0) as u32,
        inactive: false,
        search_hidden: false,
        gone: false,
        pushes: 0,
    }
}

/// Scales a per-250k rate to the population, rounding up so a non-zero rate shows up.
pub(crate) fn scaled(rate: u32, repos: u32) -> usize {
    (u64::from(rate) * u64::from(repos)).div_ceil(250_000) as usize
}

/// Plants the threats and the decoys in community image repositories drawn by one seeded
/// shuffle; returns the rest of the shuffle (eligible repositories with neither), in order.
fn assign_threats(cfg: &PopulationConfig, namespaces: &[Namespace], repos: &mut [RepoMeta]) -> Vec<u32> {
    // Typosquats imitate the official images the population holds (library/ comes first).
    let officials = namespaces.first().map_or(0, |n| n.len as usize);
    let mut eligible: Vec<u32> = repos
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            r.kind == RepoKind::Image
                && !r.private
                && namespaces[r.ns as usize].badge == Badge::None
                && r.tags < 100
        })
        .map(|(i, _)| i as u32)
        .collect();
    let mut rng = Rng::new(cfg.seed, "threat-shuffle", u64::from(cfg.repos));
    for i in (1..eligible.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        eligible.swap(i, j);
    }
    let mut next = eligible.into_iter();
    for cat in Category::ALL {
        for _ in 0..scaled(cfg.threats_per_250k.get(cat), cfg.repos) {
            let Some(i) = next.next() else { return Vec::new() };
            repos[i as usize].plant = Some(cat);
            if cat == Category::Typosquatting {
                let mut rr = Rng::new(cfg.seed, "typosquat", u64::from(i));
                // Unique in its namespace as drawn: the renaming below would add a second edit.
                let ns = repos[i as usize].ns;
                let taken = |name: &str| repos.iter().any(|o| o.ns == ns && &*o.name == name);
                let mut name = names::typosquat(&mut rr, officials);
                while taken(&name) {
                    name = names::typosquat(&mut rr, officials);
                }
                let r = &mut repos[i as usize];
                r.name = name.into();
            }
        }
    }
    for _ in 0..scaled(cfg.decoys_per_250k, cfg.repos) {
        let Some(i) = next.next() else { return Vec::new() };
        repos[i as usize].decoy = true;
    }
    let unplanted = next.collect();
    // Typosquat renames can collide with a sibling's name: make names unique per namespace.
    let mut seen: HashMap<(u32, Box<str>), ()> = HashMap::new();
    for r in repos.iter_mut() {
        while seen.contains_key(&(r.ns, r.name.clone())) {
            r.name = format!("{}0", r.name).into();
        }
        seen.insert((r.ns, r.name.clone()), ());
    }
    unplanted
}

/// Leaves a share (`search_hidden`) of the public community repositories out of search, each
/// by its own draw, independently of everything else about it: Hub's search index lags and
/// under-reports, so some repositories are reachable only by listing their namespace or by
/// name. Officials stay searchable (Hub lists them first everywhere).
fn hide_from_search(cfg: &PopulationConfig, repos: &mut [RepoMeta]) {
    if cfg.search_hidden <= 0.0 {
        return;
    }
    for (i, repo) in repos.iter_mut().enumerate().filter(|(_, r)| r.ns != 0 && !r.private) {
        repo.search_hidden = Rng::new(cfg.seed, "search_hidden", i as u64).chance(cfg.search_hidden);
    }
}

/// Marks the repositories Hub reports inactive: the first of `unplanted` (the threat shuffle's
/// rest, so none holds a plant or a decoy, and all are public community images) whose last
/// push leaves room for a last pull a month later that is still [`INACTIVE_AFTER`] old.
fn mark_inactive(cfg: &PopulationConfig, repos: &mut [RepoMeta], unplanted: Vec<u32>) {
    let before = cfg.anchor_unix - INACTIVE_AFTER - 31 * DAY;
    let wanted = scaled(cfg.inactive_per_250k, cfg.repos);
    let idle: Vec<u32> =
        unplanted.into_iter().filter(|&i| repos[i as usize].updated < before).take(wanted).collect();
    for i in idle {
        repos[i as usize].inactive = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_threat_counts_and_kinds() {
        let cfg = PopulationConfig { repos: 250_000, ..PopulationConfig::default() };
        let t = std::time::Instant::now();
        let p = Population::new(&cfg);
        // A guard against accidental per-layer work at start-up (release: well under a second;
        // debug builds on a loaded 2-core machine are much slower, hence the generous bound).
        assert!(t.elapsed().as_secs() < 60, "250k population took {:?}", t.elapsed());
        assert_eq!(p.len(), 250_000);
        for cat in Category::ALL {
            let n = p.repos().iter().filter(|r| r.plant == Some(cat)).count();
            assert_eq!(n, cfg.threats_per_250k.get(cat) as usize, "{cat}");
        }
        let planted: usize = p.repos().iter().filter(|r| r.plant.is_some()).count();
        assert_eq!(planted, 1_777 + 40);
        for (i, r) in p.repos().iter().enumerate() {
            if r.plant.is_some() {
                assert_eq!(p.exclusion(i as u32), None);
            }
            assert_eq!(p.find(&p.full_name(i as u32)), Some(i as u32));
        }
        assert!(p.namespaces().iter().any(|n| n.len >= 1_100));
        assert!(p.repos().iter().any(|r| r.kind == RepoKind::Spam));
        assert!(p.namespaces().iter().any(|n| n.badge == Badge::VerifiedPublisher));
        assert!(p.namespaces().iter().any(|n| n.badge == Badge::OpenSource));
    }

    /// Issue 18: the repositories Hub reports inactive are exactly the configured share, each
    /// a public community image with nothing planted, last pushed and pulled over six months
    /// before the anchor, and inactive is its only reason to be left out.
    #[test]
    fn inactive_repositories_are_idle_community_images_with_nothing_planted() {
        let cfg = PopulationConfig { repos: 20_000, ..PopulationConfig::default() };
        let p = Population::new(&cfg);
        let inactive: Vec<u32> = (0..p.len() as u32).filter(|&i| p.repo(i).inactive).collect();
        assert_eq!(inactive.len(), scaled(cfg.inactive_per_250k, cfg.repos));
        assert_eq!(inactive.len(), 300, "1.5% of the population");
        let idle_since = cfg.anchor_unix - INACTIVE_AFTER;
        for &i in &inactive {
            let r = p.repo(i);
            assert_eq!(p.badge(i), Badge::None, "{}", p.full_name(i));
            assert!(r.kind == RepoKind::Image && !r.private && r.plant.is_none() && !r.decoy);
            assert!(r.updated < idle_since, "{} pushed {}", p.full_name(i), r.updated);
            assert_eq!(p.exclusion(i), Some(ExclusionReason::Inactive));
        }
        let bases = base::BaseLayers::shared(cfg.seed, cfg.anchor_unix);
        for &i in inactive.iter().take(5) {
            let c = content::materialise(&p, &bases, i);
            assert!(c.tags.iter().all(|t| t.pulled < idle_since && t.pulled >= t.pushed));
        }
        let active = (0..p.len() as u32).find(|&i| p.exclusion(i).is_none()).unwrap();
        let c = content::materialise(&p, &bases, active);
        assert!(c.tags.iter().all(|t| t.pulled > cfg.anchor_unix - 41 * DAY), "the rest are pulled");
    }

    #[test]
    fn deterministic_from_seed() {
        let cfg = PopulationConfig { repos: 3_000, ..PopulationConfig::default() };
        let a = Population::new(&cfg);
        let b = Population::new(&cfg);
        for i in 0..3_000 {
            assert_eq!(a.full_name(i), b.full_name(i));
            assert_eq!(a.repo(i).plant, b.repo(i).plant);
            assert_eq!(a.repo(i).inactive, b.repo(i).inactive);
        }
        let c = Population::new(&PopulationConfig { seed: 2, ..cfg });
        assert!((0..3_000).any(|i| a.full_name(i) != c.full_name(i)));
    }
}
