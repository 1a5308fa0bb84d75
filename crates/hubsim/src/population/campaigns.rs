//! Campaigns: operators whose secrets recur across planted repositories.
//!
//! On Docker Hub one Monero wallet sits in dozens of miner images, one `authorized_keys`
//! backdoor key in many, one leaked AWS account behind several key ids; Sysdig's analysts
//! linked images that way by hand, and hubcensus's attribution clusters do it for a census. A
//! simulated Hub where every plant draws its own secrets would give those clusters nothing real
//! to group, so a few campaigns per kind are derived from the seed alone, and a plant whose
//! technique carries such a secret joins one with `JOIN_CHANCE` (35%).
//!
//! Whether and which campaign a plant joins comes from a stream of its own, keyed by the
//! repository: the plant first draws its own value as it always did and only then replaces it,
//! so every other generated value (paths, pools, ELF bytes, push dates, the category counts, the
//! demo's figures) is what it was before campaigns existed.
//!
//! Every linkable secret — a campaign's or a plant's own — carries a [`Link`]: the key the
//! attribution views group it by, so the ground truth can state the clusters a census must
//! find (`Truth::campaigns`).

use serde::Serialize;

use crate::rng::Rng;
use crate::secrets::{self, Ed25519};
use hubcensus_types::Fingerprint;

/// The share of plants, among those whose technique carries a linkable secret, that use a
/// campaign's value instead of their own.
pub(crate) const JOIN_CHANCE: f64 = 0.35;
/// Campaign wallets per population.
const WALLETS: u64 = 3;
/// Campaign SSH key pairs per population.
const SSH_KEYS: u64 = 2;
/// Campaign AWS accounts per population.
const AWS_ACCOUNTS: u64 = 2;
/// Campaign AWS account `k` is `AWS_ACCOUNT_BASE + k * AWS_ACCOUNT_SPAN + below(span)`: twelve
/// digits, distinct per campaign, and far from the plants' own (`100_000_000_000 + repo`).
const AWS_ACCOUNT_BASE: u64 = 300_000_000_000;
const AWS_ACCOUNT_SPAN: u64 = 100_000_000_000;

/// What a shared secret links images by: the `kind` of the attribution views.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// A Monero address (key: sha256 hex of the address).
    Wallet,
    /// An AWS account (key: the 12-digit account id its key ids decode to).
    AwsAccount,
    /// An SSH key pair (key: the OpenSSH `SHA256:` fingerprint of its public key).
    SshKey,
    /// A GitHub or npm token (key: sha256 hex of the token).
    Token,
}

impl LinkKind {
    /// Every kind, in the views' order of strength.
    pub const ALL: [LinkKind; 4] =
        [LinkKind::Wallet, LinkKind::AwsAccount, LinkKind::SshKey, LinkKind::Token];

    /// The id the attribution views use (`aws_account`).
    pub const fn as_str(self) -> &'static str {
        match self {
            LinkKind::Wallet => "wallet",
            LinkKind::AwsAccount => "aws_account",
            LinkKind::SshKey => "ssh_key",
            LinkKind::Token => "token",
        }
    }
}

impl std::fmt::Display for LinkKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// The key an attribution view groups a planted secret by.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Link {
    /// What kind of secret.
    pub kind: LinkKind,
    /// Its key in the views.
    pub key: String,
}

impl Link {
    /// A wallet's or token's link: the sha256 of the value, as findings fingerprint it.
    pub(crate) fn hashed(kind: LinkKind, value: &str) -> Self {
        Self { kind, key: Fingerprint::of(value.as_bytes()).as_str().to_owned() }
    }

    /// An SSH key's link: its public key's fingerprint.
    pub(crate) fn ssh(key: &Ed25519) -> Self {
        Self { kind: LinkKind::SshKey, key: key.fingerprint() }
    }

    /// An AWS account's link.
    pub(crate) fn aws(account: u64) -> Self {
        Self { kind: LinkKind::AwsAccount, key: format!("{account:012}") }
    }
}

/// One plant's campaign draws: whether it joins a campaign of the kind its technique carries,
/// and which one. Each plant asks for one kind at most.
#[derive(Debug)]
pub(crate) struct Join {
    seed: u64,
    /// `None`: campaigns are off (the plant keeps its own secrets), for tests that compare.
    rng: Option<Rng>,
}

impl Join {
    /// The draws of repository `repo`'s plant.
    pub(crate) fn new(seed: u64, repo: u32) -> Self {
        Self { seed, rng: Some(Rng::new(seed, "campaign-join", u64::from(repo))) }
    }

    /// A plant that joins no campaign.
    #[cfg(test)]
    pub(crate) fn never(seed: u64) -> Self {
        Self { seed, rng: None }
    }

    /// Which of `n` campaigns the plant joins, if it joins one.
    fn pick(&mut self, n: u64) -> Option<u64> {
        let rng = self.rng.as_mut()?;
        rng.chance(JOIN_CHANCE).then(|| rng.below(n))
    }

    /// A campaign's Monero address, or `None` (the plant keeps its own).
    pub(crate) fn wallet(&mut self) -> Option<String> {
        let k = self.pick(WALLETS)?;
        Some(secrets::monero_address(&mut Rng::new(self.seed, "campaign-wallet", k)))
    }

    /// A campaign's SSH key pair.
    pub(crate) fn ssh_key(&mut self) -> Option<Ed25519> {
        let k = self.pick(SSH_KEYS)?;
        Some(Ed25519::generate(&mut Rng::new(self.seed, "campaign-ssh", k)))
    }

    /// A key id and secret of a campaign's AWS account, with that account: every member holds a
    /// key of its own (drawn from this plant's stream) for the one account, as leaked CI keys
    /// of one organisation do.
    pub(crate) fn aws_key_pair(&mut self) -> Option<(String, String, u64)> {
        let k = self.pick(AWS_ACCOUNTS)?;
        let span = Rng::new(self.seed, "campaign-aws", k).below(AWS_ACCOUNT_SPAN);
        let account = AWS_ACCOUNT_BASE + k * AWS_ACCOUNT_SPAN + span;
        let rng = self.rng.as_mut()?;
        let (id, secret) = secrets::aws_key_pair(rng, account);
        Some((id, secret, account))
    }

    /// The campaign token with `prefix` (one GitHub `ghp_`, one npm `npm_` campaign).
    pub(crate) fn token(&mut self, prefix: &str) -> Option<String> {
        self.pick(1)?;
        let mut rng = Rng::new(self.seed, &format!("campaign-token-{prefix}"), 0);
        Some(secrets::checksummed_token(&mut rng, prefix))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn campaign_secrets_depend_on_the_seed_only() {
        let joined = |seed: u64, f: &dyn Fn(&mut Join) -> Option<String>| -> Vec<String> {
            (0..100).filter_map(|repo| f(&mut Join::new(seed, repo))).collect()
        };
        let wallets = joined(5, &|j| j.wallet());
        let distinct: std::collections::BTreeSet<_> = wallets.iter().collect();
        // About JOIN_CHANCE of 100 join, over WALLETS campaigns.
        assert!((20..=50).contains(&wallets.len()), "{} joined", wallets.len());
        assert_eq!(distinct.len(), WALLETS as usize);
        let tokens = joined(5, &|j| j.token("npm_"));
        assert!(tokens.iter().all(|t| t == &tokens[0] && t.starts_with("npm_")));
        assert_ne!(joined(5, &|j| j.token("ghp_"))[0][4..], tokens[0][4..]);
        assert_ne!(joined(6, &|j| j.wallet())[0], wallets[0], "another seed, other campaigns");
        let pairs: Vec<_> = (0..100).filter_map(|repo| Join::new(5, repo).aws_key_pair()).collect();
        assert!(pairs.iter().all(|(id, _, account)| secrets::aws_account_of(id) == *account));
        let ids: std::collections::BTreeSet<_> = pairs.iter().map(|(id, _, _)| id).collect();
        assert_eq!(ids.len(), pairs.len(), "each member holds a key id of its own");
        let accounts: std::collections::BTreeSet<u64> = pairs.iter().map(|(_, _, a)| *a).collect();
        assert_eq!(accounts.len(), AWS_ACCOUNTS as usize);
        assert!(accounts.iter().all(|a| (AWS_ACCOUNT_BASE..1_000_000_000_000).contains(a)));
        assert!(Join::never(5).wallet().is_none());
    }
}
