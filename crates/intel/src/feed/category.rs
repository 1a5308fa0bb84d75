//! Category names as feeds spell them, mapped to our category ids.
//!
//! Commercial URL-filtering vendors each name their categories differently
//! (`proxy-avoidance-and-anonymizers`, `Anonymizers`, `Dynamic DNS`, `newly-registered-domain`);
//! a category CSV exported from any of them should import without hand-editing. The mapping is
//! deliberately closed: an unknown name is a skipped line with a warning, never a guess.

use hubcensus_types::Category;

/// Our category for a feed's category name: our own ids (`proxy_avoidance`), their dashed or
/// spaced forms, and common vendor spellings. Case, `_`, `-` and spaces are not significant.
pub fn parse_category(raw: &str) -> Option<Category> {
    let key: String =
        raw.trim().chars().map(|c| if c == '_' || c == ' ' { '-' } else { c.to_ascii_lowercase() }).collect();
    let category = match key.as_str() {
        "cryptomining"
        | "crypto-mining"
        | "mining"
        | "cryptominer"
        | "coinminer"
        | "coin-miner"
        | "miner"
        | "cryptocurrency-mining" => Category::Cryptomining,
        "embedded-keys" => Category::EmbeddedKeys,
        "proxy-avoidance"
        | "proxy"
        | "proxies"
        | "anonymizer"
        | "anonymizers"
        | "anonymiser"
        | "anonymisers"
        | "proxy-avoidance-and-anonymizers"
        | "anonymizing-proxies" => Category::ProxyAvoidance,
        "newly-registered-domain" | "newly-registered-domains" | "newly-registered" | "nrd" => {
            Category::NewlyRegisteredDomain
        }
        "malicious-domain"
        | "malicious"
        | "malware"
        | "phishing"
        | "malicious-websites"
        | "malicious-website"
        | "command-and-control"
        | "c2"
        | "botnet" => Category::MaliciousDomain,
        "hacking" | "hacking-tool" | "hacking-tools" => Category::HackingTool,
        "dynamic-dns" | "dyndns" | "ddns" | "dynamic-dns-hosts" => Category::DynamicDns,
        "typosquatting" => Category::Typosquatting,
        "other" => Category::Other,
        _ => return None,
    };
    Some(category)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_spellings_map_to_our_ids() {
        let cases = [
            ("proxy-avoidance", Category::ProxyAvoidance),
            ("Anonymizer", Category::ProxyAvoidance),
            ("proxy-avoidance-and-anonymizers", Category::ProxyAvoidance),
            ("hacking", Category::HackingTool),
            ("Dynamic DNS", Category::DynamicDns),
            ("dyndns", Category::DynamicDns),
            ("newly-registered", Category::NewlyRegisteredDomain),
            ("NRD", Category::NewlyRegisteredDomain),
            ("malware", Category::MaliciousDomain),
            ("Phishing", Category::MaliciousDomain),
            ("malicious", Category::MaliciousDomain),
            ("cryptomining", Category::Cryptomining),
            ("mining", Category::Cryptomining),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_category(raw), Some(want), "{raw}");
        }
        for c in Category::ALL {
            assert_eq!(parse_category(c.as_str()), Some(c));
        }
        assert_eq!(parse_category("shopping"), None);
        assert_eq!(parse_category(""), None);
    }
}
