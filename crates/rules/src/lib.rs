//! Rule sets as data, and the engine that matches them against layer contents.
//!
//! A census scans every byte of every unique layer on Docker Hub, so detection must be both
//! cheap and precise. Rules live in `config/rules/*.toml` (one file per category, plus
//! `known_false_positives.toml`) so researchers can read, audit and extend them without touching
//! code; [`RuleSet::builtin`] embeds those files in the binary and [`RuleSet::from_dir`] loads a
//! directory instead. [`RuleSet::version`] hashes the files so cached verdicts know when the rules
//! changed.
//!
//! Matching runs in two stages, as trufflehog and gitleaks do: one Aho-Corasick automaton over
//! every rule's literal keywords finds candidate places in a single pass; only there does a rule
//! confirm, with a regex over a window around the hit and a named validator where a checksum or
//! structure exists (GitHub/npm CRC32, Monero Keccak, PEM DER, SSH blobs, AWS account decoding).
//! File kind and path weigh the evidence (a miner's strings in an ELF versus in a man page), and
//! known false positives are kept at low confidence with their reason instead of being dropped.
//!
//! The crate is pure and synchronous: no I/O except [`RuleSet::from_dir`], no async runtime.
//!
//! ```
//! use hubcensus_rules::{FileKind, FileMeta, RuleSet};
//!
//! let rules = RuleSet::builtin().unwrap();
//! let data = b"#!/bin/sh\n./xmrig -o stratum+tcp://pool.example.net:3333 --donate-level 1\n";
//! let file = FileMeta { path: "start.sh", kind: FileKind::sniff(data), size: data.len() as u64, executable: true };
//! let mut found = Vec::new();
//! rules.scan_bytes(&file, data, &mut found);
//! assert!(found.iter().any(|m| &*m.rule == "stratum_url"));
//! ```

#![deny(missing_docs)]

mod buckets;
mod command;
mod compile;
mod error;
mod falsepos;
mod file;
mod matcher;
mod matches;
mod prefilter;
mod rule;
mod ruleset;
mod spec;
mod validate;
mod yara;

pub use error::RulesError;
pub use file::{FileKind, FileMeta, SNIFF_LEN};
pub use matcher::MAX_MATCHES_PER_RULE;
pub use matches::Match;
pub use rule::{Rule, Trigger};
pub use ruleset::RuleSet;
pub use yara::{DEFAULT_YARA_MAX_OTHER_BYTES, YaraInput, YaraScanner, YaraScope, YaraSource};
