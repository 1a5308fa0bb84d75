//! Category names as feeds spell them, mapped to our category ids.
//!
//! Commercial URL-filtering vendors each name their categories differently
//! (`proxy-avoidance-and-anonymizers`, `Anonymizer`, `Proxy/Anonymizer`, `Dynamic DNS Host`,
//! `Newly Registered Domain`); a category CSV exported from any of them should import without
//! hand-editing. The table is data (config/feeds/category_aliases.csv, compiled in) so a reader
//! can check every mapping without reading Rust. The mapping is deliberately closed: an unknown
//! name is a skipped line with a warning, never a guess.

use std::{collections::HashMap, str::FromStr, sync::OnceLock};

use hubcensus_types::Category;

/// The alias table compiled into the binary.
const ALIASES: &str = include_str!("../../../../config/feeds/category_aliases.csv");

/// The lookup key of a category name: lowercase ASCII alphanumerics, every run of anything else
/// one `-`, none at either end (`Proxy/Anonymizer` → `proxy-anonymizer`).
pub(super) fn category_key(raw: &str) -> String {
    let mut key = String::with_capacity(raw.len());
    for c in raw.trim().chars() {
        if c.is_ascii_alphanumeric() {
            key.push(c.to_ascii_lowercase());
        } else if !key.is_empty() && !key.ends_with('-') {
            key.push('-');
        }
    }
    while key.ends_with('-') {
        key.pop();
    }
    key
}

/// `alias,category` lines of the table, with their line numbers; `Err` for a line that does not
/// name one of our categories (the crate's tests require there are none).
fn table_lines() -> impl Iterator<Item = (usize, Result<(String, Category), String>)> {
    ALIASES.lines().enumerate().filter_map(|(i, line)| {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line == "alias,category" {
            return None;
        }
        let parsed = line
            .split_once(',')
            .and_then(|(alias, id)| Some((category_key(alias), Category::from_str(id.trim()).ok()?)))
            .filter(|(alias, _)| !alias.is_empty())
            .ok_or_else(|| line.to_owned());
        Some((i + 1, parsed))
    })
}

fn aliases() -> &'static HashMap<String, Category> {
    static TABLE: OnceLock<HashMap<String, Category>> = OnceLock::new();
    TABLE.get_or_init(|| table_lines().filter_map(|(_, parsed)| parsed.ok()).collect())
}

/// Our category for a feed's category name: our own ids (`proxy_avoidance`), their dashed or
/// spaced forms, and the vendor spellings of config/feeds/category_aliases.csv. Case and
/// punctuation are not significant.
pub fn parse_category(raw: &str) -> Option<Category> {
    aliases().get(&category_key(raw)).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_of_the_table_is_valid_and_unique() {
        let mut seen = HashMap::new();
        for (n, parsed) in table_lines() {
            let (alias, category) =
                parsed.unwrap_or_else(|line| panic!("category_aliases.csv:{n}: {line:?}"));
            if let Some(other) = seen.insert(alias.clone(), category) {
                panic!("category_aliases.csv:{n}: {alias} listed twice ({other} and {category})");
            }
        }
        assert!(seen.len() >= 60, "{}", seen.len());
    }

    #[test]
    fn vendor_spellings_map_to_our_ids() {
        let cases = [
            ("proxy-avoidance", Category::ProxyAvoidance),
            ("Anonymizer", Category::ProxyAvoidance),
            ("proxy-avoidance-and-anonymizers", Category::ProxyAvoidance),
            ("Proxy/Anonymizer", Category::ProxyAvoidance),
            ("Proxy Avoid and Anonymizers", Category::ProxyAvoidance),
            ("hacking", Category::HackingTool),
            ("Hacking/Computer Crime", Category::HackingTool),
            ("Dynamic DNS", Category::DynamicDns),
            ("Dynamic DNS Host", Category::DynamicDns),
            ("dyndns", Category::DynamicDns),
            ("newly-registered", Category::NewlyRegisteredDomain),
            ("Newly Registered Domain", Category::NewlyRegisteredDomain),
            ("NRD", Category::NewlyRegisteredDomain),
            ("malware", Category::MaliciousDomain),
            ("Phishing", Category::MaliciousDomain),
            ("malicious", Category::MaliciousDomain),
            ("Malicious Websites", Category::MaliciousDomain),
            ("Malicious Sources/Malnets", Category::MaliciousDomain),
            ("Command and Control & Botnet", Category::MaliciousDomain),
            ("cryptomining", Category::Cryptomining),
            ("Crypto Mining", Category::Cryptomining),
            ("mining", Category::Cryptomining),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_category(raw), Some(want), "{raw}");
        }
        for c in Category::ALL {
            assert_eq!(parse_category(c.as_str()), Some(c));
        }
        for unknown in ["shopping", "", "Newly Observed Domain", "Cryptocurrency", "Suspicious", "---"] {
            assert_eq!(parse_category(unknown), None, "{unknown}");
        }
    }

    #[test]
    fn keys_ignore_case_and_punctuation() {
        assert_eq!(category_key("  Proxy/Anonymizer "), "proxy-anonymizer");
        assert_eq!(category_key("Command and Control & Botnet"), "command-and-control-botnet");
        assert_eq!(category_key("malicious_domain"), "malicious-domain");
        assert_eq!(category_key("--x--"), "x");
    }
}
