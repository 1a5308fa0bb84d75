//! `accuracy`: the scanner's precision and recall on real software nobody here wrote.
//!
//! A detector proven only on hubsim, which this project wrote, is not proven. This program takes
//! the corpus that `scripts/testdata/realworld.sh` fetched from PyPI, npm and Debian, lays each
//! package out as an image layer holds it ([`assemble`]), scans the layer with the same walker
//! and rules a census uses, and compares every medium and high finding with the reviewed
//! expectations in `testdata/realworld/expected.toml` ([`expected`]). It exits non-zero when a
//! finding appears that the file does not list, when a listed one disappears, when a tool the
//! methodology counts is not found in its category, or when a layer cannot be scanned whole.
//!
//! ```sh
//! make accuracy                      # fetch (cached) + this program
//! cargo run --release -p hubcensus-accuracy -- --package tor --verbose
//! ```

mod assemble;
mod compare;
mod corpus;
mod expected;
mod published;
mod report;

use std::{
    path::PathBuf,
    process::ExitCode,
    sync::{
        Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Instant,
};

use anyhow::Context;
use clap::Parser;
use hubcensus_intel::{ExtractLimits, IndicatorExtractor};
use hubcensus_layer::{Limits, Walker};
use hubcensus_rules::{RuleSet, YaraScope, YaraSource};
use hubcensus_types::{Confidence, Digest, Subject};

use crate::{
    compare::{Outcome, PackageScan},
    corpus::{Ecosystem, Package},
    expected::Expected,
};

/// Scan the real-software corpus as image layers and compare with the reviewed expectations.
#[derive(Debug, Parser)]
#[command(name = "accuracy", version)]
struct Args {
    /// The corpus fetched by scripts/testdata/realworld.sh.
    #[arg(long, default_value = "target/cache/realworld", env = "HUBCENSUS_REALWORLD_CACHE")]
    cache: PathBuf,
    /// The reviewed expectations.
    #[arg(long, default_value = "testdata/realworld/expected.toml")]
    expected: PathBuf,
    /// Only these ecosystems (repeatable): pypi, npm, debian.
    #[arg(long = "ecosystem")]
    ecosystems: Vec<Ecosystem>,
    /// Only these packages (repeatable); expectations of other packages are not checked.
    #[arg(long = "package")]
    packages: Vec<String>,
    /// Scanning threads (default: the number of cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Also list every finding, expected or not, and every low-confidence one.
    #[arg(long)]
    verbose: bool,
    /// Print the per-category table as Markdown (for docs/methodology.md) instead of text.
    #[arg(long)]
    markdown: bool,
    /// Write each assembled layer to this folder as NAME.tar, for `hubcensus scan layer:FILE`.
    #[arg(long)]
    write_layers: Option<PathBuf>,
    /// Instead of comparing, print config/rules/published_keys.toml: every private key the
    /// corpus ships (but keys generated at build time and those known_false_positives.toml
    /// lists), with where each was first found.
    #[arg(long)]
    published_keys: bool,
    /// The YARA rules scanned beside the built-in ones: every `*.yar` file of this folder (the
    /// starter set, so the corpus checks it for false positives too). An empty value scans
    /// without YARA.
    #[arg(long, default_value = "config/rules/yara")]
    yara: PathBuf,
    /// The false-positive list whose fingerprints `--published-keys` leaves out.
    #[arg(long, default_value = "config/rules/known_false_positives.toml")]
    known_false_positives: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("accuracy: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &Args) -> anyhow::Result<bool> {
    let ecosystems =
        if args.ecosystems.is_empty() { Ecosystem::ALL.to_vec() } else { args.ecosystems.clone() };
    let mut packages = corpus::load(&args.cache, &ecosystems)?;
    if !args.packages.is_empty() {
        packages.retain(|p| args.packages.contains(&p.name));
    }
    let expected = Expected::load(&args.expected)?;
    if let Some(dir) = &args.write_layers {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }

    let started = Instant::now();
    let scans = scan_all(&packages, args)?;
    let elapsed = started.elapsed();
    if args.published_keys {
        print!("{}", published::list(&scans, &args.known_false_positives)?);
        return Ok(true);
    }

    let outcome = Outcome::compare(&scans, &expected, &ecosystems, !args.packages.is_empty());
    let text =
        if args.markdown { report::markdown(&outcome) } else { report::text(&outcome, &scans, args.verbose) };
    print!("{text}");
    let bytes: u64 = scans.iter().map(|s| s.bytes).sum();
    eprintln!(
        "accuracy: {} packages, {:.0} MiB of layers scanned in {:.1} s",
        scans.len(),
        bytes as f64 / 1048576.0,
        elapsed.as_secs_f64()
    );
    Ok(outcome.passed())
}

/// Assembles and scans every package on `threads` threads, keeping list order.
fn scan_all(packages: &[Package], args: &Args) -> anyhow::Result<Vec<PackageScan>> {
    let rules = RuleSet::builtin()
        .context("loading the built-in rules")?
        .with_yara(yara_sources(&args.yara)?, YaraScope::default())
        .context("compiling the YARA rules")?;
    eprintln!("accuracy: rules {}", rules.version());
    let extractor = IndicatorExtractor::new(ExtractLimits::default());
    let threads =
        args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, anyhow::Result<PackageScan>)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let walker = Walker::new(&rules, &extractor, Limits::default());
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(package) = packages.get(i) else { break };
                    let scanned = scan_one(&walker, package, args.write_layers.as_deref());
                    results.lock().unwrap_or_else(|e| e.into_inner()).push((i, scanned));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// The `*.yar` files of `dir`, sorted (none for an empty path).
fn yara_sources(dir: &std::path::Path) -> anyhow::Result<Vec<YaraSource>> {
    if dir.as_os_str().is_empty() {
        return Ok(Vec::new());
    }
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("listing the YARA rules in {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    paths.retain(|p| p.extension().is_some_and(|e| e == "yar"));
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text =
                std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            Ok(YaraSource { path, text })
        })
        .collect()
}

fn scan_one(
    walker: &Walker<'_>,
    package: &Package,
    write_layers: Option<&std::path::Path>,
) -> anyhow::Result<PackageScan> {
    let layer = assemble::layer(package)?;
    if let Some(dir) = write_layers {
        let name = format!("{}-{}.tar", package.ecosystem, package.name.replace('/', "_"));
        let file = dir.join(name);
        std::fs::write(&file, &layer).with_context(|| format!("writing {}", file.display()))?;
    }
    let scan = walker.scan_layer(std::io::Cursor::new(&layer), Subject::Layer(Digest::sha256_of(&layer)));
    let (counted, low): (Vec<_>, Vec<_>) =
        scan.findings.into_iter().partition(|f| f.confidence >= Confidence::Medium);
    Ok(PackageScan {
        ecosystem: package.ecosystem,
        name: package.name.clone(),
        version: package.version.clone(),
        bytes: scan.bytes,
        findings: counted,
        low,
        error: scan.error.map(|e| e.to_string()),
    })
}
