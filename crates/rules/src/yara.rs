//! YARA rules beside the built-in ones, through VirusTotal's yara-x (the `yara` cargo feature).
//!
//! YARA is the language malware researchers write and share rules in, so a researcher brings
//! their own signature sets without touching our TOML. The rules are compiled once, with the
//! built-in rules, into the same [`RuleSet`]: each YARA rule becomes a [`crate::Rule`] with
//! id `yara:NAMESPACE:RULE` (the namespace is the file's stem), its category and confidence from
//! its metadata (`category`, one of our ids, default `other`; `confidence`, `low|medium|high`,
//! default `medium`), and its matches go through the same false-positive lists, redaction and
//! fingerprints as every other rule's. The rule set's [`RuleSet::version`] then hashes the YARA
//! sources and the [`YaraScope`] too, so a census re-scans layers when either changes.
//!
//! Which files YARA sees is the walker's [`YaraScope`]: executables (ELF, scripts) and archive
//! members at any size, other files up to a size cap. A file is fed as the built-in rules read
//! it: whole up to the walker's per-file budget (so the `elf` and `hash` modules see the whole
//! file), else its head and tail, without the zero blocks at either end.
//!
//! Without the feature the types stay (so the walker and the configuration need no feature of
//! their own), but [`RuleSet::with_yara`] refuses any YARA source with
//! [`RulesError::YaraUnavailable`]: a rule a researcher asked for is never silently ignored.

use std::{path::PathBuf, time::Duration};

use crate::{FileKind, FileMeta, Match, RuleSet, error::RulesError};

/// One YARA rule file: where it came from (its stem names the namespace) and its text.
#[derive(Debug, Clone)]
pub struct YaraSource {
    /// The file (named in compile errors; its stem is the rules' namespace).
    pub path: PathBuf,
    /// The rules.
    pub text: String,
}

impl YaraSource {
    /// The namespace of the file's rules: its stem, with characters other than letters,
    /// digits, `_`, `-` and `.` replaced by `_` (so a finding's rule id stays one word).
    pub fn namespace(&self) -> String {
        let stem = self.path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let ns: String = stem
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') { c } else { '_' })
            .collect();
        if ns.is_empty() { "default".to_owned() } else { ns }
    }
}

/// Default for [`YaraScope::max_other_bytes`]: 1 MiB.
pub const DEFAULT_YARA_MAX_OTHER_BYTES: u64 = 1024 * 1024;

/// Which files of a layer YARA rules see. A file is fed when its kind is listed in `kinds`, or
/// it is an archive's member (a jar's class, a wheel's module, a file of a tarball inside the
/// layer, a compressed file's content) and `archive_members` is set, or it is no larger than
/// `max_other_bytes`. Image-config values are never fed: they are not files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YaraScope {
    /// Kinds fed at any size (big ones through the walker's head and tail window).
    pub kinds: Vec<FileKind>,
    /// Whether members of archives inside a layer are fed at any size.
    pub archive_members: bool,
    /// Any other file is fed when it is no larger than this.
    pub max_other_bytes: u64,
}

impl Default for YaraScope {
    fn default() -> Self {
        Self {
            kinds: vec![FileKind::Elf, FileKind::Script],
            archive_members: true,
            max_other_bytes: DEFAULT_YARA_MAX_OTHER_BYTES,
        }
    }
}

impl YaraScope {
    /// Whether a file is fed to YARA (`member`: it lies inside an archive of the layer).
    pub fn wants(&self, file: &FileMeta<'_>, member: bool) -> bool {
        if matches!(file.kind, FileKind::ConfigField | FileKind::NameOnly) {
            return false;
        }
        self.kinds.contains(&file.kind)
            || (member && self.archive_members)
            || file.size <= self.max_other_bytes
    }
}

/// What of a file a YARA scan gets, and where those bytes lie in the file, so matches are
/// reported at file offsets.
#[derive(Debug, Clone, Copy)]
pub struct YaraInput<'d> {
    /// The bytes: the whole file, or its head and tail back to back (zero blocks at either end
    /// left out).
    pub data: &'d [u8],
    /// The file offset of `data[0]`.
    pub offset: u64,
    /// Where the tail starts in `data`, and its file offset, when `data` is a head and a tail.
    pub seam: Option<(usize, u64)>,
    /// Whether `data` is the whole file: modules that parse a file (`elf`, `hash`) are only
    /// right about it then.
    pub whole: bool,
}

impl YaraInput<'_> {
    /// The file offset of `data[i]`.
    pub fn file_offset(&self, i: usize) -> u64 {
        match self.seam {
            Some((at, tail)) if i >= at => tail + (i - at) as u64,
            _ => self.offset + i as u64,
        }
    }

    /// How the file was fed: `whole`, `trimmed` (whole but for zero blocks at an end) or
    /// `head_tail`.
    fn window(&self) -> &'static str {
        match (self.seam.is_some(), self.whole) {
            (true, _) => "head_tail",
            (false, true) => "whole",
            (false, false) => "trimmed",
        }
    }
}

/// Scans files with the YARA rules of one [`RuleSet`]. It holds yara-x's scanner (its compiled
/// rules' instance and match buffers), so a walker keeps one per layer scan and reuses it for
/// every file; it is not shared between threads.
pub struct YaraScanner<'r> {
    #[cfg(feature = "yara")]
    set: &'r RuleSet,
    #[cfg(feature = "yara")]
    inner: yara_x::Scanner<'r>,
    #[cfg(not(feature = "yara"))]
    never: std::convert::Infallible,
    #[cfg(not(feature = "yara"))]
    _set: std::marker::PhantomData<&'r RuleSet>,
}

impl std::fmt::Debug for YaraScanner<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("YaraScanner").finish_non_exhaustive()
    }
}

impl RuleSet {
    /// This rule set with `sources` compiled in as YARA rules, fed the files `scope` selects.
    /// Its [`RuleSet::version`] then covers the YARA sources and the scope too. No sources:
    /// the rule set unchanged.
    ///
    /// # Errors
    /// [`RulesError::YaraCompile`] naming the file, line and rule of the first error (a syntax
    /// error, an unknown module, an unknown `category` or `confidence` in the metadata);
    /// [`RulesError::YaraUnavailable`] when this build has no YARA support.
    pub fn with_yara(self, sources: Vec<YaraSource>, scope: YaraScope) -> Result<RuleSet, RulesError> {
        if sources.is_empty() {
            return Ok(self);
        }
        #[cfg(feature = "yara")]
        {
            engine::compile(self, sources, scope)
        }
        #[cfg(not(feature = "yara"))]
        {
            let _ = scope;
            Err(RulesError::YaraUnavailable { files: sources.len() })
        }
    }

    /// Whether this build can compile YARA rules (the `yara` cargo feature).
    pub const fn yara_supported() -> bool {
        cfg!(feature = "yara")
    }

    /// The files YARA sees, when the set has YARA rules.
    pub fn yara_scope(&self) -> Option<&YaraScope> {
        self.yara.as_ref().map(|y| y.scope())
    }

    /// A scanner of this set's YARA rules, when it has any.
    pub fn yara_scanner(&self) -> Option<YaraScanner<'_>> {
        #[cfg(feature = "yara")]
        {
            self.yara.as_ref().map(|y| YaraScanner { set: self, inner: y.scanner() })
        }
        #[cfg(not(feature = "yara"))]
        {
            None
        }
    }
}

impl YaraScanner<'_> {
    /// Runs the YARA rules over one file's `input`, adding a [`Match`] per rule that holds,
    /// for at most `timeout`. Whether the scan finished: a scan that timed out or failed
    /// reports nothing.
    pub fn scan(
        &mut self,
        file: &FileMeta<'_>,
        input: YaraInput<'_>,
        timeout: Duration,
        out: &mut Vec<Match>,
    ) -> bool {
        #[cfg(feature = "yara")]
        {
            engine::scan(self.set, &mut self.inner, file, input, timeout, out)
        }
        #[cfg(not(feature = "yara"))]
        {
            let _ = (file, input, timeout, out);
            match self.never {}
        }
    }
}

#[cfg(not(feature = "yara"))]
pub(crate) use self::unavailable::Compiled;

#[cfg(not(feature = "yara"))]
mod unavailable {
    /// Compiled YARA rules: none can exist in a build without the `yara` feature.
    #[derive(Debug)]
    pub(crate) enum Compiled {}

    impl Compiled {
        pub(crate) fn scope(&self) -> &super::YaraScope {
            match *self {}
        }
    }
}

#[cfg(feature = "yara")]
pub(crate) use self::engine::Compiled;

#[cfg(feature = "yara")]
mod engine;
