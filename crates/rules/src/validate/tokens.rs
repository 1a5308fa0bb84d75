//! GitHub (`ghp_ gho_ ghu_ ghs_ ghr_`) and npm (`npm_`) tokens carry their own checksum: 30
//! random base62 characters followed by the CRC32 of those 30 characters, base62-encoded and
//! left-padded with `0` to 6 characters (github.blog 2021-04-05 and 2021-09-23). Checking it
//! offline turns a regex hit into a near-certain token without calling GitHub or npm.

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Length of the random part.
const RANDOM_LEN: usize = 30;
/// Length of the checksum part.
const CHECKSUM_LEN: usize = 6;

/// The 6-character base62 CRC32 of `random`.
pub(crate) fn checksum(random: &[u8]) -> [u8; CHECKSUM_LEN] {
    let mut n = crc32fast::hash(random);
    let mut out = [b'0'; CHECKSUM_LEN];
    // 62^6 > 2^32, so six digits always suffice.
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out
}

/// Whether `token` is `prefix` followed by 30 base62 characters and their valid checksum.
/// Returns the prefix kind on success.
pub(crate) fn valid_prefixed(token: &[u8], prefixes: &[&'static str]) -> Option<&'static str> {
    let prefix = prefixes.iter().find(|p| token.starts_with(p.as_bytes()))?;
    let body = &token[prefix.len()..];
    if body.len() != RANDOM_LEN + CHECKSUM_LEN || !body.iter().all(u8::is_ascii_alphanumeric) {
        return None;
    }
    let (random, sum) = body.split_at(RANDOM_LEN);
    (checksum(random) == sum).then_some(*prefix)
}

/// The GitHub token prefixes and what each one is.
pub(crate) const GITHUB_PREFIXES: [&str; 5] = ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"];

/// What a GitHub prefix means, for the finding's detail.
pub(crate) fn github_kind(prefix: &str) -> &'static str {
    match prefix {
        "ghp_" => "personal_access_token",
        "gho_" => "oauth_access_token",
        "ghu_" => "user_to_server_token",
        "ghs_" => "server_to_server_token",
        _ => "refresh_token",
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a valid token from a seed, as GitHub and npm would.
    pub(crate) fn make_token(prefix: &str, seed: u64) -> String {
        let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let random: Vec<u8> = (0..RANDOM_LEN)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                BASE62[(x % 62) as usize]
            })
            .collect();
        let sum = checksum(&random);
        format!("{prefix}{}{}", std::str::from_utf8(&random).unwrap(), std::str::from_utf8(&sum).unwrap())
    }

    #[test]
    fn published_examples_validate() {
        // Tokens from DataDog's sensitive-data-scanner test suite (revoked or synthetic).
        for t in ["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", "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"] {
            assert_eq!(valid_prefixed(t.as_bytes(), &GITHUB_PREFIXES), Some("ghp_"), "{t}");
        }
    }

    #[test]
    fn generated_tokens_validate_and_every_single_mutation_fails() {
        for seed in 0..50 {
            for prefix in GITHUB_PREFIXES.iter().chain(["npm_"].iter()) {
                let token = make_token(prefix, seed);
                assert!(valid_prefixed(token.as_bytes(), &[prefix]).is_some(), "{token}");
                for i in prefix.len()..token.len() {
                    let mut bad = token.clone().into_bytes();
                    bad[i] = if bad[i] == b'a' { b'b' } else { b'a' };
                    assert!(valid_prefixed(&bad, &[prefix]).is_none(), "mutation at {i} of {token}");
                }
            }
        }
    }

    #[test]
    fn rejects_wrong_lengths_and_alphabets() {
        let token = make_token("ghp_", 7);
        assert!(valid_prefixed(&token.as_bytes()[..39], &GITHUB_PREFIXES).is_none());
        assert!(valid_prefixed(format!("{token}x").as_bytes(), &GITHUB_PREFIXES).is_none());
        assert!(valid_prefixed(token.replace("ghp_", "ghx_").as_bytes(), &GITHUB_PREFIXES).is_none());
        let mut dashed = token.into_bytes();
        dashed[10] = b'-';
        assert!(valid_prefixed(&dashed, &GITHUB_PREFIXES).is_none());
    }
}
