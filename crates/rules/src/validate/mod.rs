//! Named validators: checks a regex cannot express (checksums, decoding, structure) that turn a
//! pattern hit into a confirmed value. Each returns what it learned for the finding's detail.

pub(crate) mod aws;
pub(crate) mod creds;
pub(crate) mod entropy;
pub(crate) mod monero;
pub(crate) mod pem;
pub(crate) mod ssh;
pub(crate) mod tokens;

use std::collections::BTreeMap;

/// The validators a rule may name in its `validator` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Validator {
    GithubToken,
    NpmToken,
    MoneroAddress,
    AwsKeyId,
    PemPrivateKey,
    SshPublicKey,
    DockerAuth,
    NotPlaceholder,
    Base64PemPrivateKey,
}

/// What a validator confirmed.
#[derive(Debug, Default)]
pub(crate) struct Verdict {
    /// Facts for the finding's detail map.
    pub(crate) detail: BTreeMap<String, String>,
    /// The bytes to fingerprint instead of the matched text (a decoded key body, an SSH blob),
    /// so one key is one fingerprint however it was written.
    pub(crate) canonical: Option<Vec<u8>>,
    /// A safe preview to show instead of the redacted value (a private key's type and size:
    /// its first and last characters are only armour).
    pub(crate) preview: Option<String>,
}

impl Validator {
    /// Every name, for error messages and docs.
    pub(crate) const NAMES: [&'static str; 9] = [
        "github_token",
        "npm_token",
        "monero_address",
        "aws_key_id",
        "pem_private_key",
        "ssh_public_key",
        "docker_auth",
        "not_placeholder",
        "base64_pem_private_key",
    ];

    /// Parses a rule-file validator name.
    pub(crate) fn from_name(name: &str) -> Option<Validator> {
        Some(match name {
            "github_token" => Validator::GithubToken,
            "npm_token" => Validator::NpmToken,
            "monero_address" => Validator::MoneroAddress,
            "aws_key_id" => Validator::AwsKeyId,
            "pem_private_key" => Validator::PemPrivateKey,
            "ssh_public_key" => Validator::SshPublicKey,
            "docker_auth" => Validator::DockerAuth,
            "not_placeholder" => Validator::NotPlaceholder,
            "base64_pem_private_key" => Validator::Base64PemPrivateKey,
            _ => return None,
        })
    }

    /// Checks one matched value; `None` rejects it.
    pub(crate) fn check(self, value: &[u8]) -> Option<Verdict> {
        let mut v = Verdict::default();
        match self {
            Validator::GithubToken => {
                let prefix = tokens::valid_prefixed(value, &tokens::GITHUB_PREFIXES)?;
                v.detail.insert("token_kind".into(), tokens::github_kind(prefix).into());
            }
            Validator::NpmToken => {
                tokens::valid_prefixed(value, &["npm_"])?;
                v.detail.insert("token_kind".into(), "npm_access_token".into());
            }
            Validator::MoneroAddress => {
                let addr = monero::validate(value)?;
                v.detail.insert("wallet_kind".into(), addr.kind.into());
                v.detail.insert("network".into(), addr.network.into());
                v.detail.insert("coin".into(), "monero".into());
            }
            Validator::AwsKeyId => {
                let kind = aws::key_kind(value)?;
                v.detail.insert("aws_key_kind".into(), kind.into());
                if let Some(account) = aws::account_id(value) {
                    v.detail.insert("aws_account_id".into(), account);
                }
            }
            Validator::PemPrivateKey => return Some(private_key_verdict(pem::parse(value)?)),
            Validator::Base64PemPrivateKey => {
                return Some(private_key_verdict(pem::parse(&creds::base64_pem(value)?)?));
            }
            Validator::SshPublicKey => {
                let key = ssh::parse(value)?;
                v.detail.insert("key_type".into(), key.key_type);
                v.detail.insert("ssh_fingerprint".into(), ssh::fingerprint(&key.blob));
                v.canonical = Some(key.blob);
            }
            Validator::DockerAuth => {
                let user = creds::docker_auth_user(value)?;
                v.detail.insert("registry_user".into(), user);
            }
            Validator::NotPlaceholder => {
                if creds::is_placeholder(value) {
                    return None;
                }
            }
        }
        Some(v)
    }
}

fn private_key_verdict(key: pem::PrivateKey) -> Verdict {
    let mut v = Verdict::default();
    let state = if key.encrypted { "encrypted" } else { "unencrypted" };
    v.preview = Some(format!("{state} {} private key ({} bytes of key data)", key.key_type, key.body.len()));
    v.detail.insert("key_type".into(), key.key_type);
    v.detail.insert("encrypted".into(), key.encrypted.to_string());
    if let Some(blob) = &key.public_blob {
        v.detail.insert("ssh_fingerprint".into(), ssh::fingerprint(blob));
    }
    v.canonical = Some(key.body);
    v
}
