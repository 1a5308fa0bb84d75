//! Finding categories (Sysdig's 2022 taxonomy plus typosquatting) and confidence levels.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::ParseError;

/// Why an image is counted as malicious. The ids are canonical: the database, the JSON output,
/// the rule files and the reports all use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Miner binaries, stratum URLs, pool domains, checksum-valid wallets, miner configs.
    Cryptomining,
    /// Private keys, planted SSH public keys, cloud and registry credentials, API tokens.
    EmbeddedKeys,
    /// Proxy, tunnel and anonymiser tools, proxyware, and domains of such services.
    ProxyAvoidance,
    /// Domains a newly-registered-domain feed dates shortly before the image was pushed.
    NewlyRegisteredDomain,
    /// URLs, domains and IPs a malicious-site feed lists.
    MaliciousDomain,
    /// Offensive tooling: scanners, brute-forcers, exploit frameworks, reverse shells.
    HackingTool,
    /// Domains under dynamic-DNS providers.
    DynamicDns,
    /// Repository names imitating official images or popular publishers.
    Typosquatting,
    /// Anything else a rule flags as malicious (known-bad hashes, malicious packages).
    Other,
}

impl Category {
    /// Every category, in the fixed priority order used for exclusive counts (most specific
    /// evidence first, as Sysdig's table lists them).
    pub const ALL: [Category; 9] = [
        Category::Cryptomining,
        Category::EmbeddedKeys,
        Category::ProxyAvoidance,
        Category::NewlyRegisteredDomain,
        Category::MaliciousDomain,
        Category::HackingTool,
        Category::DynamicDns,
        Category::Typosquatting,
        Category::Other,
    ];

    /// The canonical id (`embedded_keys`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Category::Cryptomining => "cryptomining",
            Category::EmbeddedKeys => "embedded_keys",
            Category::ProxyAvoidance => "proxy_avoidance",
            Category::NewlyRegisteredDomain => "newly_registered_domain",
            Category::MaliciousDomain => "malicious_domain",
            Category::HackingTool => "hacking_tool",
            Category::DynamicDns => "dynamic_dns",
            Category::Typosquatting => "typosquatting",
            Category::Other => "other",
        }
    }

    /// The label Sysdig's 2022 report used for this category.
    pub const fn sysdig_label(self) -> &'static str {
        match self {
            Category::Cryptomining => "Crypto mining",
            Category::EmbeddedKeys => "Embedded secrets",
            Category::ProxyAvoidance => "Proxy avoidance",
            Category::NewlyRegisteredDomain => "Newly registered domains",
            Category::MaliciousDomain => "Malicious websites",
            Category::HackingTool => "Hacking",
            Category::DynamicDns => "Dynamic DNS",
            Category::Typosquatting => "Typosquatting",
            Category::Other => "Other",
        }
    }

    /// The number of images Sysdig's 2022 Threat Report gives for this category (of 1,777 in
    /// its table; the blog's headline total is 1,652). `None` where Sysdig gave no figure.
    pub const fn sysdig_2022_images(self) -> Option<u32> {
        match self {
            Category::Cryptomining => Some(608),
            Category::EmbeddedKeys => Some(281),
            Category::ProxyAvoidance => Some(266),
            Category::NewlyRegisteredDomain => Some(134),
            Category::MaliciousDomain => Some(129),
            Category::HackingTool => Some(38),
            Category::DynamicDns => Some(33),
            Category::Typosquatting => None,
            Category::Other => Some(288),
        }
    }

    /// Whether this category is decided by matching indicators against a feed (so it needs no
    /// content rule, and can change when a feed is imported later).
    pub const fn is_feed_decided(self) -> bool {
        matches!(self, Category::NewlyRegisteredDomain | Category::MaliciousDomain)
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Category {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| ParseError::new("category", s, "not one of the category ids"))
    }
}

/// How sure a rule is that a finding is malicious (or a live secret).
///
/// `low` is where known false positives go — documentation keys, test fixtures shipped by distro
/// packages — so they are kept and auditable but not counted in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// Probably benign: a known test key, an example value, a weak single signal.
    Low,
    /// Suspicious: one strong signal without confirmation.
    Medium,
    /// Confirmed: a checksum validated, a key parsed, several signals agree.
    High,
}

impl Confidence {
    /// Every level, lowest first.
    pub const ALL: [Confidence; 3] = [Confidence::Low, Confidence::Medium, Confidence::High];

    /// The canonical id (`high`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Confidence {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Confidence::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| ParseError::new("confidence", s, "expected low, medium or high"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text_and_json() {
        for c in Category::ALL {
            assert_eq!(c.as_str().parse::<Category>().unwrap(), c);
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
        }
        assert!("crypto".parse::<Category>().is_err());
    }

    #[test]
    fn sysdig_figures_add_up_to_the_threat_report_total() {
        let total: u32 = Category::ALL.iter().filter_map(|c| c.sysdig_2022_images()).sum();
        assert_eq!(total, 1_777);
    }

    #[test]
    fn confidence_orders_low_to_high() {
        assert!(Confidence::Low < Confidence::Medium && Confidence::Medium < Confidence::High);
    }
}
