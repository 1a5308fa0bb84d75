//! Every seed, not only the ones a census test happens to use: hubsim populations of twenty
//! seeds are generated (no census: no request is made), each image a census would analyse is built by
//! hubsim's own population code, and its layers and config go straight through the scanner the
//! workers use, with the feeds hubsim exports and the typosquat scorer a census builds. Every
//! planted item must be found in its category at medium or higher (also when an upper layer
//! deletes it), no planted image may show another category, and no clean image (decoys
//! included) may show any.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    sync::Arc,
};

use chrono::NaiveDate;
use hubcensus_hubsim::{
    Sim, SimConfig,
    config::ThreatRates,
    feeds::Feeds,
    population::{
        Population, RepoKind,
        content::{Location, PlantedImage, RepoContent},
    },
    truth::Truth,
};
use hubcensus_intel::{
    ExtractLimits, FeedKind, FeedSet, IndicatorExtractor, Target, TyposquatConfig, TyposquatScorer,
    parse_feed,
};
use hubcensus_layer::{LayerSource, Limits, Walker};
use hubcensus_rules::RuleSet;
use hubcensus_types::{
    Badge, Category, Confidence, Digest, Finding, Indicator, MediaType, MediaTypeKind, Subject,
};
use serde_json::Value;

/// Seeds swept, and the population of each (small populations still plant every category).
const SEEDS: std::ops::RangeInclusive<u64> = 1..=20;
const REPOS: u32 = 200;
/// Planted repositories per category per 250k at this population: hubsim's rates scaled up so
/// that each seed plants several of every category and the sweep reaches every technique.
const PLANTS_PER_CATEGORY: u32 = 3;

/// What scanning one blob found.
#[derive(Debug, Default)]
struct Scanned {
    findings: Vec<Finding>,
    indicators: Vec<Indicator>,
}

/// One linux/amd64 image of a tag: its layer digests (bottom first, with the media type the
/// manifest declares) and its config digest.
struct ImageRef {
    manifest: Digest,
    layers: Vec<(Digest, Option<String>)>,
    config: Option<Digest>,
    pushed: i64,
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

fn digest(v: &Value) -> Digest {
    v.as_str().unwrap().parse().unwrap()
}

/// The linux/amd64 image the census resolves for each tag of `content` (newest first).
fn images(content: &RepoContent) -> Vec<ImageRef> {
    let mut out = Vec::new();
    for tag in &content.tags {
        let top = &content.manifests[&tag.digest];
        let (digest_of, stored) = match &top.amd64_child {
            Some(child) => (child.clone(), &content.manifests[child]),
            None => (tag.digest.clone(), top),
        };
        let m = json(&stored.bytes);
        let image = match MediaType::new(stored.media_type).kind() {
            MediaTypeKind::Schema1 => ImageRef {
                manifest: digest_of,
                // fsLayers lists the top layer first.
                layers: m["fsLayers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .rev()
                    .map(|l| (digest(&l["blobSum"]), None))
                    .collect(),
                config: None,
                pushed: tag.pushed,
            },
            MediaTypeKind::Manifest => {
                let config = digest(&m["config"]["digest"]);
                // Helm charts and wasm modules are not images: a census excludes them.
                if MediaType::new(m["config"]["mediaType"].as_str().unwrap_or_default()).kind()
                    != MediaTypeKind::Config
                {
                    continue;
                }
                ImageRef {
                    manifest: digest_of,
                    layers: m["layers"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|l| (digest(&l["digest"]), l["mediaType"].as_str().map(str::to_owned)))
                        .collect(),
                    config: Some(config),
                    pushed: tag.pushed,
                }
            }
            other => panic!("tag {} resolves to {other:?}", tag.name),
        };
        out.push(image);
    }
    out
}

/// The rules and the extractor every census worker builds.
struct Judge {
    rules: RuleSet,
    extractor: IndicatorExtractor,
}

impl Judge {
    fn walker(&self) -> Walker<'_> {
        Walker::new(&self.rules, &self.extractor, Limits::default())
    }

    fn layer(&self, digest: &Digest, media_type: Option<&str>, bytes: &[u8]) -> Scanned {
        let walker = self.walker();
        let subject = Subject::Layer(digest.clone());
        let declared = match media_type.map(|m| MediaType::new(m).kind()) {
            Some(MediaTypeKind::Layer(c)) => Some(c),
            Some(other) => panic!("layer {digest} has kind {other:?}"),
            None => None,
        };
        let scan = walker.scan_layer_from(bytes, subject, LayerSource { declared, ..LayerSource::default() });
        assert!(scan.error.is_none(), "layer {digest}: {:?}", scan.error);
        Scanned { findings: scan.findings, indicators: scan.indicators.into_iter().map(|(i, _)| i).collect() }
    }

    fn config(&self, bytes: &[u8]) -> Scanned {
        let scan = self.walker().scan_config(bytes);
        assert!(scan.error.is_none(), "config: {:?}", scan.error);
        Scanned { findings: scan.findings, indicators: scan.indicators.into_iter().map(|(i, _)| i).collect() }
    }
}

fn feeds(pop: &Population) -> FeedSet {
    let feeds = Feeds::generate(pop);
    let mut set = FeedSet::new();
    for (name, kind, text, category) in [
        ("urlhaus.csv", FeedKind::Urlhaus, &feeds.urlhaus_csv, None),
        ("nrd.txt", FeedKind::Nrd, &feeds.nrd, None),
        ("dyndns.txt", FeedKind::Domains, &feeds.dyndns, Some(Category::DynamicDns)),
    ] {
        set.add(name, parse_feed(kind, text.as_bytes(), category, None).unwrap());
    }
    set
}

/// The typosquat scorer a census builds: the built-in official list, the library repositories
/// it saw with their pull counts, and its most-pulled publishers.
fn typosquat_scorer(pop: &Population) -> TyposquatScorer {
    let mut s = TyposquatScorer::new(TyposquatConfig::builtin().unwrap(), Target::official_images());
    let mut publishers = Vec::new();
    for i in 0..pop.len() as u32 {
        let r = pop.repo(i);
        match pop.badge(i) {
            Badge::Official => {
                s.add_target(&r.name, "library", Some(r.pull_count as i64)).unwrap();
            }
            Badge::VerifiedPublisher | Badge::OpenSource => {
                publishers.push(i);
            }
            _ => {}
        }
    }
    publishers.sort_by_key(|&i| std::cmp::Reverse(pop.repo(i).pull_count));
    for &i in publishers.iter().take(hubcensus_pipeline::DEFAULT_TYPOSQUAT_PUBLISHERS) {
        let r = pop.repo(i);
        s.add_target(&r.name, &pop.namespace_of(i).name, Some(r.pull_count as i64)).unwrap();
    }
    s
}

fn day(unix: i64) -> NaiveDate {
    chrono::DateTime::from_timestamp(unix, 0).unwrap().date_naive()
}

/// An image's evidence: findings per layer (and config), indicators, feed matches.
struct Evidence<'a> {
    layers: Vec<(&'a Digest, &'a Scanned)>,
    config: Option<&'a Scanned>,
    feed: Vec<(Category, String)>,
}

impl Evidence<'_> {
    fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.layers
            .iter()
            .flat_map(|(_, s)| s.findings.iter())
            .chain(self.config.into_iter().flat_map(|s| s.findings.iter()))
    }

    /// Categories at medium or higher (whether or not an upper layer deletes the evidence).
    fn categories(&self) -> BTreeMap<Category, Vec<String>> {
        let mut out: BTreeMap<Category, Vec<String>> = BTreeMap::new();
        for f in self.findings().filter(|f| f.confidence >= Confidence::Medium) {
            out.entry(f.category).or_default().push(format!("{} at {} ({})", f.rule, f.path, f.preview));
        }
        for (c, v) in &self.feed {
            out.entry(*c).or_default().push(format!("feed lists {v}"));
        }
        out
    }
}

/// Problems found in one seed.
fn sweep_seed(seed: u64, judge: &Judge) -> (Vec<String>, BTreeSet<String>, usize) {
    let mut cfg = SimConfig::for_tests(seed, REPOS);
    let rate = PLANTS_PER_CATEGORY * 250_000 / REPOS;
    cfg.population.threats_per_250k = ThreatRates {
        cryptomining: rate,
        embedded_keys: rate,
        proxy_avoidance: rate,
        newly_registered_domain: rate,
        malicious_domain: rate,
        hacking_tool: rate,
        dynamic_dns: rate,
        typosquatting: rate,
        other: rate,
    };
    cfg.population.decoys_per_250k = rate;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let sim = rt.block_on(Sim::start(cfg)).unwrap();
    let pop = sim.population();
    let truth: Truth = sim.truth();
    let feeds = feeds(pop);
    let scorer = typosquat_scorer(pop);
    let planted: HashMap<&Digest, &PlantedImage> =
        truth.images.iter().map(|p| (&p.manifest_digest, p)).collect();
    let mut problems = Vec::new();
    let mut techniques = BTreeSet::new();
    let mut images_checked = 0;
    let mut scanned: HashMap<Digest, Arc<Scanned>> = HashMap::new();
    let mut seen = BTreeSet::new();

    for i in 0..pop.len() as u32 {
        let meta = pop.repo(i);
        let name = pop.full_name(i);
        // Typosquatting is judged on every community repository's name.
        if pop.badge(i) == Badge::None {
            let hit = scorer
                .score(&pop.namespace_of(i).name, &meta.name, Some(meta.pull_count as i64))
                .filter(|h| h.confidence >= Confidence::Medium);
            match (meta.plant == Some(Category::Typosquatting), hit) {
                (true, None) => problems.push(format!("seed {seed}: typosquat {name} not flagged")),
                (false, Some(h)) => {
                    problems.push(format!("seed {seed}: {name} flagged as imitating {}", h.imitates));
                }
                _ => {}
            }
        }
        if !matches!(meta.kind, RepoKind::Image | RepoKind::Schema1Image) || pop.exclusion(i).is_some() {
            continue;
        }
        let content = sim.content(&name).unwrap();
        for image in images(&content) {
            // Tags share images; the newest tag's push date is the image's (what `Latest` sees).
            if !seen.insert(image.manifest.clone()) {
                continue;
            }
            images_checked += 1;
            let mut layers = Vec::new();
            for (d, media_type) in &image.layers {
                let s = scanned
                    .entry(d.clone())
                    .or_insert_with(|| Arc::new(judge.layer(d, media_type.as_deref(), &content.blobs[d])))
                    .clone();
                layers.push((d, s));
            }
            let config = image.config.as_ref().map(|c| judge.config(&content.blobs[c]));
            let indicators: Vec<Indicator> = layers
                .iter()
                .flat_map(|(_, s)| s.indicators.iter())
                .chain(config.iter().flat_map(|s| s.indicators.iter()))
                .cloned()
                .collect();
            let feed = feeds
                .matches(&indicators, Some(day(image.pushed)), 30)
                .into_iter()
                .map(|m| (m.category, m.indicator.value))
                .collect();
            let evidence = Evidence {
                layers: layers.iter().map(|(d, s)| (*d, s.as_ref())).collect(),
                config: config.as_ref(),
                feed,
            };
            let categories = evidence.categories();
            match planted.get(&image.manifest) {
                None => {
                    if !categories.is_empty() {
                        problems.push(format!(
                            "seed {seed}: clean image {name} ({}) flagged: {categories:?}",
                            image.manifest
                        ));
                    }
                }
                Some(p) => {
                    let mut want: BTreeSet<Category> = BTreeSet::from([p.category]);
                    // A name is judged apart from content: its image shows no category of its own.
                    if p.category == Category::Typosquatting {
                        want.clear();
                    }
                    let got: BTreeSet<Category> = categories.keys().copied().collect();
                    if got != want {
                        problems.push(format!(
                            "seed {seed}: planted {} in {name}: categories {categories:?}",
                            p.category
                        ));
                    }
                    for item in &p.items {
                        techniques.insert(item.technique.clone());
                        if !found(p.category, &item.location, item.indicator.as_deref(), &evidence) {
                            problems.push(format!(
                                "seed {seed}: {} item {} at {:?} in {name} not found (evidence: {categories:?})",
                                p.category, item.technique, item.location
                            ));
                        }
                    }
                }
            }
        }
    }
    rt.block_on(sim.shutdown());
    (problems, techniques, images_checked)
}

/// Whether a planted item is found where it sits, in its category, at medium or higher.
fn found(category: Category, location: &Location, indicator: Option<&str>, e: &Evidence<'_>) -> bool {
    let strong = |f: &&Finding| f.category == category && f.confidence >= Confidence::Medium;
    let listed = || {
        category.is_feed_decided()
            && indicator
                .is_some_and(|ind| e.feed.iter().any(|(c, v)| *c == category && ind.contains(v.as_str())))
    };
    match location {
        Location::LayerFile { layer, path, .. } => {
            let Some((_, s)) = e.layers.iter().find(|(d, _)| *d == layer) else { return false };
            s.findings
                .iter()
                .filter(strong)
                .any(|f| f.path == *path || f.path.starts_with(&format!("{path}!/")))
                || listed()
        }
        Location::Config { field } => {
            e.config.is_some_and(|s| s.findings.iter().filter(strong).any(|f| f.path == *field)) || listed()
        }
        // Judged from the name (above).
        Location::RepoName { .. } => true,
    }
}

#[test]
fn every_planted_item_of_every_seed_is_found_and_no_clean_image_is_flagged() {
    let judge = Judge {
        rules: RuleSet::builtin().unwrap(),
        extractor: IndicatorExtractor::new(ExtractLimits::default()),
    };
    let started = std::time::Instant::now();
    // Seeds are independent: one thread per core takes the next seed until none is left.
    let next = std::sync::atomic::AtomicU64::new(*SEEDS.start());
    let threads = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get).min(4);
    let results: Vec<(Vec<String>, BTreeSet<String>, usize)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let seed = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if !SEEDS.contains(&seed) {
                            return out;
                        }
                        out.push(sweep_seed(seed, &judge));
                    }
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap()).collect()
    });
    let mut problems = Vec::new();
    let mut techniques = BTreeSet::new();
    let mut images = 0;
    for (p, t, n) in results {
        problems.extend(p);
        techniques.extend(t);
        images += n;
    }
    println!(
        "swept {} seeds x {REPOS} repositories: {images} images, {} techniques, {:?}",
        SEEDS.count(),
        techniques.len(),
        started.elapsed()
    );
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
    // Every technique hubsim plants (41 today) is reached by the seeds swept.
    assert!(techniques.len() >= 41, "techniques reached: {techniques:?}");
}
