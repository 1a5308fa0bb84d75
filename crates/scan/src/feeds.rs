//! `--feed FILE`: threat-intelligence feeds matched in memory against the image's indicators.
//!
//! Each file's format is sniffed (hubcensus-intel `FeedKind::sniff`); a date in the file name
//! (`nrd-2022-06-01.txt`) dates entries the file does not date itself. A match becomes a
//! finding of the feed's category, rule `feed:FILE-NAME`, high confidence (the census's
//! `image_categories` view counts feed matches as high too), located where the indicator was
//! first seen — the lowest layer, else the config. Like the census, feed matches are not
//! subject to whiteouts: the indicator is a fact about the image's bytes, deleted or not.

use std::path::PathBuf;

use chrono::NaiveDate;
use hubcensus_intel::{FeedKind, FeedSet, date_in_name, parse_feed};
use hubcensus_types::{Confidence, Finding, Fingerprint, Indicator, Subject};

use crate::FeedError;

/// Feeds loaded in memory (none by default).
#[derive(Debug, Default)]
pub struct Feeds {
    set: FeedSet,
}

impl Feeds {
    /// Reads, sniffs and parses every file of `paths`.
    ///
    /// # Errors
    /// A file that cannot be read, whose format is not recognised, or that does not parse.
    pub fn load(paths: &[PathBuf]) -> Result<Self, FeedError> {
        let mut set = FeedSet::new();
        for path in paths {
            let bytes =
                std::fs::read(path).map_err(|source| FeedError::Read { path: path.clone(), source })?;
            let Some(kind) = FeedKind::sniff(&bytes) else {
                return Err(FeedError::Unrecognised { path: path.clone() });
            };
            let name = path
                .file_name()
                .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
            let parsed = parse_feed(kind, &bytes, None, date_in_name(&name))
                .map_err(|source| FeedError::Parse { path: path.clone(), source })?;
            if let Some(summary) = parsed.skipped_summary(hubcensus_intel::SKIPPED_LINES_SHOWN) {
                tracing::warn!(feed = %path.display(), "{summary}");
            }
            tracing::info!(feed = %path.display(), kind = ?kind, entries = parsed.entries.len(), "feed loaded");
            set.add(name, parsed);
        }
        Ok(Self { set })
    }

    /// Findings for the indicators the feeds list. `seen` says where each indicator was first
    /// found; `pushed` dates the image for newly-registered-domain feeds.
    pub(crate) fn findings(
        &self,
        indicators: &[Indicator],
        seen: &foldhash::HashMap<Indicator, (Subject, String)>,
        pushed: Option<NaiveDate>,
        nrd_window_days: u32,
    ) -> Vec<Finding> {
        if self.set.feeds() == 0 {
            return Vec::new();
        }
        self.set
            .matches(indicators, pushed, nrd_window_days)
            .into_iter()
            .map(|m| {
                let (subject, path) = seen.get(&m.indicator).cloned().unwrap_or_else(|| {
                    // A host matched through its registrable domain: locate it by a host below it.
                    let suffix = format!(".{}", m.indicator.value);
                    seen.iter()
                        .filter(|(i, _)| i.value.ends_with(&suffix))
                        .map(|(_, at)| at.clone())
                        .min_by(|a, b| a.1.cmp(&b.1))
                        .unwrap_or((Subject::Config, String::new()))
                });
                let mut detail = std::collections::BTreeMap::new();
                detail.insert("feed".to_owned(), m.feed.clone());
                detail.insert("indicator_kind".to_owned(), m.indicator.kind.to_string());
                if let Some(on) = m.listed_on {
                    detail.insert("listed_on".to_owned(), on.to_string());
                }
                Finding {
                    category: m.category,
                    rule: format!("feed:{}", m.feed),
                    confidence: Confidence::High,
                    subject,
                    path,
                    preview: printable(&m.indicator.value),
                    fingerprint: Fingerprint::of(m.indicator.value.as_bytes()),
                    deleted_in_upper_layer: false,
                    detail,
                }
            })
            .collect()
    }
}

/// The image's date for NRD windows: the config's `created` (RFC 3339; its date part).
pub(crate) fn date_of(created: Option<&str>) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(created?.get(..10)?, "%Y-%m-%d").ok()
}

/// Indicator values are not secrets, but they come from the image: bound and sanitise them.
fn printable(value: &str) -> String {
    let mut s: String = value.chars().take(200).map(|c| if c.is_control() { '?' } else { c }).collect();
    if value.chars().count() > 200 {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_come_from_configs() {
        assert_eq!(date_of(Some("2023-01-31T10:00:00.123Z")), NaiveDate::from_ymd_opt(2023, 1, 31));
        assert_eq!(date_of(Some("garbage")), None);
    }
}
