//! The one error type of this crate. Rule files are operator input: every failure names the file
//! and, where one is to blame, the rule id, so a broken rule set is fixed in one edit.

use std::path::PathBuf;

/// Why a rule set could not be loaded. All variants are fatal for the rule set being built (a
/// census must not run with half its rules); none is raised while scanning.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RulesError {
    /// A rule file or directory could not be read.
    #[error("cannot read rule file {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A rule file is not valid TOML or does not have the rule-file shape.
    #[error("rule file {file}: {message}")]
    Syntax {
        /// The file name.
        file: String,
        /// The TOML parser's message (with line and column).
        message: String,
    },
    /// One rule is invalid: a bad regex, glob, validator name, confidence, or a missing trigger.
    #[error("rule file {file}, rule {rule:?}: {reason}")]
    InvalidRule {
        /// The file name.
        file: String,
        /// The rule id (or the list entry that is wrong).
        rule: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Two rules share one id; ids key findings in the database, so they must be unique.
    #[error("rule id {rule:?} is defined in both {first} and {second}")]
    DuplicateRule {
        /// The id.
        rule: String,
        /// The file of the first definition.
        first: String,
        /// The file of the second definition.
        second: String,
    },
    /// The directory holds no `*.toml` rule file.
    #[error("no rule files (*.toml) in {0}")]
    NoRuleFiles(PathBuf),
    /// The keyword automaton could not be built (too many or too long keywords).
    #[error("cannot build the keyword automaton: {0}")]
    Automaton(String),
    /// A YARA rule file does not compile, or a rule's metadata is not one hubcensus reads
    /// (an unknown `category` or `confidence`).
    #[error("YARA rule file {}, line {line}{}: {message}", file.display(), rule.as_ref().map(|r| format!(", rule {r}")).unwrap_or_default())]
    YaraCompile {
        /// The file.
        file: PathBuf,
        /// The line (from 1; 0 when unknown).
        line: usize,
        /// The rule the line belongs to, when one does.
        rule: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// YARA rules were given to a build without YARA support.
    #[error(
        "{files} YARA rule file(s) given, but this hubcensus was built without YARA support \
         (the `yara` cargo feature, on by default: rebuild without --no-default-features)"
    )]
    YaraUnavailable {
        /// How many YARA files were given.
        files: usize,
    },
}
