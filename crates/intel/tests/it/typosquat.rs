//! Typosquat scoring: each technique, the names that must stay clean (200 real popular
//! repositories), and hubsim's planted typosquats found exactly.

use std::collections::BTreeMap;

use hubcensus_hubsim::{PopulationConfig, Truth, population::Population, population::content::Location};
use hubcensus_intel::{Target, Technique, TyposquatConfig, TyposquatHit, TyposquatScorer};
use hubcensus_types::{Badge, Category, Confidence};

fn scorer() -> TyposquatScorer {
    TyposquatScorer::new(TyposquatConfig::builtin().unwrap(), Target::official_images())
}

fn config_path(file: &str) -> String {
    format!("{}/../../config/typosquat/{file}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn each_technique_is_recognised() {
    let mut s = scorer();
    s.add_target("openjdk", "library", Some(1_000_000_000)).unwrap();
    s.add_target("golang", "library", Some(2_000_000_000)).unwrap();
    use Technique::*;
    let cases: [(&str, &str, Option<i64>, &str, Technique); 20] = [
        ("someuser", "ngnix", None, "nginx", EditDistance), // transposition
        ("someuser", "pyhton", None, "python", EditDistance), // transposition
        ("someuser", "memcahed", None, "memcached", EditDistance), // omission
        ("someuser", "helo-world", None, "hello-world", EditDistance),
        ("someuser", "rabbbitmq", None, "rabbitmq", EditDistance), // doubled letter
        ("someuser", "ubunut", None, "ubuntu", EditDistance),      // transposition at the end
        ("someuser", "ndoe", None, "node", EditDistance),          // short name, transposition
        ("someuser", "nodde", None, "node", EditDistance),         // short name, doubled letter
        ("someuser", "nfinx", None, "nginx", Keyboard),            // g -> f
        ("someuser", "redus", None, "redis", Keyboard),            // i -> u
        ("someuser", "rnariadb", None, "mariadb", Homoglyph),      // rn looks like m
        ("someuser", "pyth0n", None, "python", Homoglyph),
        ("someuser", "a1pine", None, "alpine", Homoglyph),
        ("someuser", "vvordpress", None, "wordpress", Homoglyph),
        ("someuser", "nginx-official", None, "nginx", Affix),
        ("someuser", "offical_redis", None, "redis", Affix),
        ("officialimages", "nginx", None, "nginx", Affix), // the namespace claims it
        ("c43602f9cc95", "openjdk", Some(12_000), "openjdk", RandomNamespace),
        ("700888880a0", "golang", Some(10_500), "golang", RandomNamespace),
        ("libary", "nginx", None, "nginx", EditDistance), // the namespace imitates library/
    ];
    for (ns, name, pulls, imitates, technique) in cases {
        let hit = s.score(ns, name, pulls).unwrap_or_else(|| panic!("{ns}/{name} is not flagged"));
        assert_eq!(hit.imitates.to_string(), format!("library/{imitates}"), "{ns}/{name}: {hit:?}");
        assert_eq!(hit.technique, technique, "{ns}/{name}: {hit:?}");
        assert!(hit.score >= 0.6 && hit.score <= 1.0, "{ns}/{name}: {hit:?}");
        assert!(!hit.evidence.is_empty() && hit.evidence.iter().all(|e| !e.detail.is_empty()));
    }
    // The random-namespace case carries the pull-count evidence and reaches medium confidence.
    let hit = s.score("c43602f9cc95", "openjdk", Some(12_000)).unwrap();
    assert!(hit.evidence.iter().any(|e| e.technique == LowPullCount), "{hit:?}");
    assert_eq!(hit.confidence, Confidence::Medium, "{hit:?}");
    // Independent evidence adds up: a look-alike under a generated namespace is high.
    let strong = s.score("3f9a2c71bd04", "g0lang", Some(50)).unwrap();
    assert_eq!(strong.confidence, Confidence::High, "{strong:?}");
    assert!(strong.score > hit.score);
}

#[test]
fn projects_builds_and_variants_are_not_typosquats() {
    let mut s = scorer();
    s.add_target("nginx", "library", Some(1_000_000_000)).unwrap();
    s.add_target("python", "library", Some(1_000_000_000)).unwrap();
    let clean: [(&str, &str, Option<i64>); 20] = [
        ("library", "nginx", None), // the official image itself
        ("library", "ngnix", None), // nothing in library/ is judged
        ("bitnami", "nginx", None), // an official name under an ordinary namespace
        ("linuxserver", "nginx", None),
        ("someuser", "nginx", Some(12)),        // ... even pulled twelve times
        ("vibersastra", "golang", Some(9_000)), // a real campaign, but the name alone cannot tell
        ("someuser", "node16", None),           // versions
        ("someuser", "python3.12", None),
        ("someuser", "openjdk-11", None),
        ("someuser", "nginx-proxy", None), // extensions
        ("bitnami", "postgresql", None),   // two edits from postgres, which is too short for two
        ("postgis", "postgis", None),
        ("someuser", "mono", None), // an official image of its own, not a typo of mongo
        ("someuser", "store", None), // storm is official but little pulled: no generic edits
        ("someuser", "base", None), // bash is short: only typo-shaped edits count
        ("someuser", "code", None), // c and n are not neighbours
        ("someuser", "nodes", None), // extending a short name is not mistyping it
        ("someuser", "nginx-latest", None), // a tag-like affix needs other evidence
        ("someuser", "docker-python", Some(40)), // ... a low pull count is not enough
        ("someuser", "ab", None),
    ];
    for (ns, name, pulls) in clean {
        assert_eq!(s.score(ns, name, pulls), None, "{ns}/{name}");
    }
    // A tag-like affix with a generated namespace is enough.
    assert_eq!(
        s.score("5f3c9e0a7b21", "nginx-latest", None).map(|h| h.technique),
        Some(Technique::RandomNamespace)
    );
}

#[test]
fn pull_counts_support_and_veto() {
    let mut s = scorer();
    s.add_target("nginx", "library", Some(1_000_000_000)).unwrap();
    let low = s.score("someuser", "ngnix", Some(300)).unwrap();
    let unknown = s.score("someuser", "ngnix", None).unwrap();
    assert!(low.score > unknown.score, "{low:?} {unknown:?}");
    assert!(low.evidence.iter().any(|e| e.technique == Technique::LowPullCount));
    // Pulled a tenth as often as nginx: a project in its own right.
    assert_eq!(s.score("someuser", "ngnix", Some(200_000_000)), None);
}

#[test]
fn publishers_are_protected_by_namespace() {
    let mut s = scorer();
    s.add_target("redis", "bitnami", Some(1_000_000_000)).unwrap();
    s.add_target("server", "vaultwarden", Some(500_000_000)).unwrap();
    let hit = s.score("bitnarni", "redis", None).unwrap();
    assert_eq!(hit.imitates.to_string(), "bitnami/redis");
    assert_eq!(hit.technique, Technique::Homoglyph);
    assert_eq!(s.score("bitnami", "redis", None), None, "the target itself");
    assert_eq!(s.score("bitnami", "redis-cluster", None), None, "the publisher's own repositories");
    assert_eq!(
        s.score("someuser", "server", None),
        None,
        "a publisher's ordinary word under another namespace"
    );
    assert!(s.score("vaultwardem", "server", None).is_some(), "...but under a look-alike namespace");
    assert!(s.add_target("Not Valid", "x", None).is_err());
}

#[test]
fn thresholds_are_data() {
    let text = std::fs::read_to_string(config_path("thresholds.toml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let strict = dir.path().join("strict.toml");
    std::fs::write(
        &strict,
        text.replace("hit = 0.6", "hit = 0.9")
            .replace("medium = 0.75", "medium = 0.95")
            .replace("high = 0.9", "high = 0.99"),
    )
    .unwrap();
    let strict =
        TyposquatScorer::new(TyposquatConfig::from_path(&strict).unwrap(), Target::official_images());
    assert!(scorer().score("someuser", "ngnix", None).is_some());
    assert_eq!(strict.score("someuser", "ngnix", None), None);
}

/// config/typosquat/popular_community.txt: 200 real, popular repositories outside library/.
#[test]
fn none_of_the_200_popular_community_names_is_flagged() {
    let text = std::fs::read_to_string(config_path("popular_community.txt")).unwrap();
    let names: Vec<(&str, &str)> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.trim().split_once('/').unwrap_or_else(|| panic!("{l}: namespace/name")))
        .collect();
    assert_eq!(names.len(), 200);
    let unique: std::collections::HashSet<_> = names.iter().collect();
    assert_eq!(unique.len(), 200, "no duplicates");
    let s = scorer();
    let flagged: Vec<String> = names
        .iter()
        .filter_map(|(ns, name)| {
            s.score(ns, name, None).map(|h| format!("{ns}/{name} -> {}: {:?}", h.imitates, h.evidence))
        })
        .collect();
    println!("popular community names: {} scored, {} flagged", names.len(), flagged.len());
    assert!(flagged.is_empty(), "{flagged:#?}");
}

/// The scorer a census would build for a population: the built-in official list, the real
/// pull counts of the library repositories it saw, and its 50 most-pulled publishers.
fn census_scorer(pop: &Population) -> TyposquatScorer {
    let mut s = scorer();
    let mut publishers = Vec::new();
    for i in 0..pop.len() as u32 {
        let r = pop.repo(i);
        let pulls = Some(r.pull_count as i64);
        match pop.badge(i) {
            Badge::Official => s.add_target(&r.name, "library", pulls).unwrap(),
            Badge::VerifiedPublisher | Badge::OpenSource => publishers.push(i),
            _ => {}
        }
    }
    publishers.sort_by_key(|&i| std::cmp::Reverse(pop.repo(i).pull_count));
    for &i in publishers.iter().take(50) {
        let r = pop.repo(i);
        s.add_target(&r.name, &pop.namespace_of(i).name, Some(r.pull_count as i64)).unwrap();
    }
    s
}

/// Every repository of a population scored; the hits by repository.
fn score_population(pop: &Population) -> BTreeMap<String, TyposquatHit> {
    let s = census_scorer(pop);
    (0..pop.len() as u32)
        .filter_map(|i| {
            let r = pop.repo(i);
            s.score(&pop.namespace_of(i).name, &r.name, Some(r.pull_count as i64))
                .map(|h| (pop.full_name(i), h))
        })
        .collect()
}

fn precision_recall(flagged: usize, planted: usize, both: usize) -> (f64, f64) {
    let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    (ratio(both, flagged), ratio(both, planted))
}

/// hubsim seed 1, 20,000 repositories: the flagged set is exactly the planted set, and each hit
/// names the official image the ground truth says it imitates.
#[test]
fn hubsim_planted_typosquats_are_exactly_the_hits() {
    let pop = Population::new(&PopulationConfig { seed: 1, repos: 20_000, ..PopulationConfig::default() });
    let truth = Truth::build(&pop);
    let planted: BTreeMap<String, String> = truth
        .images
        .iter()
        .filter(|img| img.category == Category::Typosquatting)
        .map(|img| {
            let imitates = img.items.iter().find_map(|it| match &it.location {
                Location::RepoName { imitates } => Some(imitates.clone()),
                _ => None,
            });
            (img.repository.clone(), imitates.unwrap_or_default())
        })
        .collect();
    let by_repo_truth =
        truth.repositories.iter().filter(|r| r.planted == Some(Category::Typosquatting)).count();
    assert_eq!(planted.len(), by_repo_truth);
    assert!(planted.len() >= 4, "the population plants typosquats: {planted:?}");

    let t = std::time::Instant::now();
    let flagged = score_population(&pop);
    let both = flagged.keys().filter(|k| planted.contains_key(*k)).count();
    let (precision, recall) = precision_recall(flagged.len(), planted.len(), both);
    println!(
        "hubsim seed 1, {} repositories scored in {:?}: {} planted, {} flagged, precision {precision:.3}, recall {recall:.3}",
        pop.len(),
        t.elapsed(),
        planted.len(),
        flagged.len()
    );
    for (repo, hit) in &flagged {
        println!(
            "  {repo} imitates {} ({}, {:.2}, {:?})",
            hit.imitates, hit.technique, hit.score, hit.confidence
        );
    }
    assert_eq!(flagged.keys().collect::<Vec<_>>(), planted.keys().collect::<Vec<_>>());
    for (repo, hit) in &flagged {
        assert_eq!(hit.imitates.name(), planted[repo], "{repo}");
    }
    assert_eq!((precision, recall), (1.0, 1.0));
}

/// A population with fifty times hubsim's typosquat rate, to exercise every edit the generator
/// makes. No clean repository may be flagged. Two kinds of planted names are knowingly missed,
/// and each miss must be one of them:
/// * the generator deleted a letter and produced another official image's name (`mongo` →
///   `mono`): that image's own name is never a typo of a third;
/// * two planted names collided in one namespace and the generator appended `0` to one
///   (`nodee0`): a two-edit name no real typo produces, too far for a short or mid-length name.
#[test]
fn hubsim_at_fifty_times_the_rate_has_no_false_positives() {
    let mut cfg = PopulationConfig { seed: 3, repos: 20_000, ..PopulationConfig::default() };
    cfg.threats_per_250k.typosquatting = 2_000;
    let pop = Population::new(&cfg);
    let planted: Vec<u32> =
        (0..pop.len() as u32).filter(|&i| pop.repo(i).plant == Some(Category::Typosquatting)).collect();
    let flagged = score_population(&pop);
    let planted_names: std::collections::BTreeSet<String> =
        planted.iter().map(|&i| pop.full_name(i)).collect();
    let false_positives: Vec<&String> = flagged.keys().filter(|k| !planted_names.contains(*k)).collect();
    let missed: Vec<&String> = planted_names.iter().filter(|k| !flagged.contains_key(*k)).collect();
    let both = planted_names.len() - missed.len();
    let (precision, recall) = precision_recall(flagged.len(), planted_names.len(), both);
    println!(
        "hubsim seed 3 at 50x the typosquat rate: {} planted, {} flagged, precision {precision:.3}, recall {recall:.3}, missed {missed:?}",
        planted_names.len(),
        flagged.len()
    );
    assert!(false_positives.is_empty(), "{false_positives:?}");
    let officials: std::collections::HashSet<String> =
        Target::official_images().into_iter().map(|t| t.repo.name().to_owned()).collect();
    for repo in &missed {
        let name = repo.split_once('/').map_or(repo.as_str(), |(_, n)| n);
        let renamed = name.strip_suffix('0').is_some_and(|base| {
            planted_names.iter().any(|p| {
                p.split_once('/').is_some_and(|(ns, n)| n == base && repo.starts_with(&format!("{ns}/")))
            })
        });
        assert!(officials.contains(name) || renamed, "{repo} is missed for no known reason");
    }
    assert!(recall >= 0.98, "{recall}");
}
