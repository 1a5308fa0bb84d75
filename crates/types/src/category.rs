//! Finding categories (Sysdig's 2022 taxonomy plus typosquatting) and confidence levels.

use crate::string_enum::string_enum;

string_enum! {
    /// Why an image is counted as malicious. The ids are canonical: the database, the JSON output,
    /// the rule files and the reports all use them. The declaration order (`ALL`) is the fixed
    /// priority used for exclusive counts: most specific evidence first, as Sysdig's table
    /// lists them.
    pub enum Category("category") {
        /// Miner binaries, stratum URLs, pool domains, checksum-valid wallets, miner configs.
        Cryptomining = "cryptomining",
        /// Private keys, planted SSH public keys, cloud and registry credentials, API tokens.
        EmbeddedKeys = "embedded_keys",
        /// Proxy, tunnel and anonymiser tools, proxyware, and domains of such services.
        ProxyAvoidance = "proxy_avoidance",
        /// Domains a newly-registered-domain feed dates shortly before the image was pushed.
        NewlyRegisteredDomain = "newly_registered_domain",
        /// URLs, domains and IPs a malicious-site feed lists.
        MaliciousDomain = "malicious_domain",
        /// Offensive tooling: scanners, brute-forcers, exploit frameworks, reverse shells.
        HackingTool = "hacking_tool",
        /// Domains under dynamic-DNS providers.
        DynamicDns = "dynamic_dns",
        /// Repository names imitating official images or popular publishers.
        Typosquatting = "typosquatting",
        /// Anything else a rule flags as malicious (known-bad hashes, malicious packages).
        Other = "other",
    }
}

impl Category {
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

string_enum! {
    /// How sure a rule is that a finding is malicious (or a live secret).
    ///
    /// `low` is where known false positives go — documentation keys, test fixtures shipped by distro
    /// packages — so they are kept and auditable but not counted in the report.
    pub enum Confidence("confidence") {
        /// Probably benign: a known test key, an example value, a weak single signal.
        Low = "low",
        /// Suspicious: one strong signal without confirmation.
        Medium = "medium",
        /// Confirmed: a checksum validated, a key parsed, several signals agree.
        High = "high",
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
