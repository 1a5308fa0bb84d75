//! Rate-limit headers as Docker Hub and the registry send them.
//!
//! - Hub API: `x-ratelimit-limit` (per minute), `x-ratelimit-remaining`, `x-ratelimit-reset`
//!   (Unix time); on 429 `retry-after` carrying a **Unix timestamp** (not seconds), sometimes
//!   `x-retry-after`.
//! - Registry pull quota: `ratelimit-limit: 100;w=21600`, `ratelimit-remaining: 76;w=21600`,
//!   `docker-ratelimit-source`; its 429 has no Retry-After.
//! - Everyone else: `Retry-After` as delta-seconds or an HTTP date (RFC 9110).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;

/// Values this large in `Retry-After` are Unix timestamps (Hub's habit), not delta-seconds:
/// no server asks for a 30-year wait.
const EPOCH_THRESHOLD: u64 = 1_000_000_000;

/// What a response said about the caller's budget.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateLimitInfo {
    /// Requests allowed per window.
    pub limit: Option<u64>,
    /// Requests left in the window.
    pub remaining: Option<u64>,
    /// The window (`w=` of the pull quota; a minute for `x-ratelimit-*`).
    pub window: Option<Duration>,
    /// When the window resets, if the server said.
    pub reset_at: Option<SystemTime>,
    /// `docker-ratelimit-source` (the IP or account the quota is charged to).
    pub source: Option<String>,
    /// Whether these came from the pull-quota headers (`ratelimit-*`) rather than the Hub
    /// API's per-minute `x-ratelimit-*`.
    pub pull_quota: bool,
}

impl RateLimitInfo {
    /// Parses the rate-limit headers of a response received at `now`.
    pub fn from_headers(headers: &HeaderMap, now: SystemTime) -> Self {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
        let mut info =
            RateLimitInfo { source: text("docker-ratelimit-source").map(str::to_owned), ..Self::default() };
        // Present at all means the pull quota applies, even when the count is missing (Hub has
        // sent `RateLimit-Limit: ;w=21600`).
        if let Some((limit, window)) = text("ratelimit-limit").map(parse_quota) {
            info.limit = limit;
            info.window = window;
            info.pull_quota = true;
        }
        if let Some((remaining, window)) = text("ratelimit-remaining").map(parse_quota) {
            info.remaining = remaining;
            info.window = info.window.or(window);
            info.pull_quota = true;
        }
        if !info.pull_quota {
            info.limit = text("x-ratelimit-limit").and_then(|v| v.parse().ok());
            info.remaining = text("x-ratelimit-remaining").and_then(|v| v.parse().ok());
            if info.limit.is_some() || info.remaining.is_some() {
                info.window = Some(Duration::from_secs(60));
            }
            info.reset_at = text("x-ratelimit-reset").and_then(|v| v.parse::<u64>().ok()).map(|secs| {
                if secs >= EPOCH_THRESHOLD {
                    UNIX_EPOCH + Duration::from_secs(secs)
                } else {
                    now + Duration::from_secs(secs)
                }
            });
        }
        info
    }
}

/// Parses `N` or `N;w=W` (RateLimit header fields draft, as Docker sends them); either part
/// may be missing or garbled.
fn parse_quota(value: &str) -> (Option<u64>, Option<Duration>) {
    let mut parts = value.split(';');
    let n = parts.next().and_then(|n| n.trim().parse().ok());
    let window = parts
        .filter_map(|p| p.trim().strip_prefix("w="))
        .find_map(|w| w.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    (n, window)
}

/// When a 429/503 says to come back: `Retry-After` (or `X-Retry-After`) as delta-seconds, a Unix
/// timestamp (Hub) or an HTTP date; `None` when absent or unreadable.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<SystemTime> {
    ["retry-after", "x-retry-after"].iter().find_map(|name| {
        let value = headers.get(*name)?.to_str().ok()?.trim();
        if let Ok(n) = value.parse::<u64>() {
            return Some(if n >= EPOCH_THRESHOLD {
                UNIX_EPOCH + Duration::from_secs(n)
            } else {
                now + Duration::from_secs(n)
            });
        }
        httpdate::parse_http_date(value).ok()
    })
}

#[cfg(test)]
mod tests {
    use reqwest::header::{HeaderName, HeaderValue};

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(HeaderName::from_static(k), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    const NOW: u64 = 1_764_000_000;

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(NOW)
    }

    #[test]
    fn retry_after_in_all_three_spellings() {
        let at = |v: &str| retry_after(&headers(&[("retry-after", v)]), now());
        assert_eq!(at("30"), Some(now() + Duration::from_secs(30)));
        assert_eq!(at("1764000090"), Some(UNIX_EPOCH + Duration::from_secs(NOW + 90)), "Hub's epoch");
        assert_eq!(
            at("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(UNIX_EPOCH + Duration::from_secs(1_445_412_480))
        );
        assert_eq!(at("soon"), None);
        assert_eq!(
            retry_after(&headers(&[("x-retry-after", "1764000005")]), now()),
            Some(now() + Duration::from_secs(5))
        );
        assert_eq!(retry_after(&HeaderMap::new(), now()), None);
    }

    #[test]
    fn pull_quota_headers() {
        let info = RateLimitInfo::from_headers(
            &headers(&[
                ("ratelimit-limit", "100;w=21600"),
                ("ratelimit-remaining", "76;w=21600"),
                ("docker-ratelimit-source", "192.0.2.1"),
            ]),
            now(),
        );
        assert_eq!(info.limit, Some(100));
        assert_eq!(info.remaining, Some(76));
        assert_eq!(info.window, Some(Duration::from_secs(21_600)));
        assert_eq!(info.source.as_deref(), Some("192.0.2.1"));
        assert!(info.pull_quota);

        // Seen from Hub in 2021: the count missing before the window.
        let odd = RateLimitInfo::from_headers(
            &headers(&[("ratelimit-limit", ";w=21600"), ("ratelimit-remaining", ";w=21600")]),
            now(),
        );
        assert_eq!((odd.limit, odd.remaining, odd.pull_quota), (None, None, true));
        assert_eq!(odd.window, Some(Duration::from_secs(21_600)));
    }

    #[test]
    fn hub_api_headers() {
        let info = RateLimitInfo::from_headers(
            &headers(&[
                ("x-ratelimit-limit", "180"),
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", "1764000042"),
            ]),
            now(),
        );
        assert_eq!((info.limit, info.remaining), (Some(180), Some(0)));
        assert_eq!(info.reset_at, Some(now() + Duration::from_secs(42)));
        assert!(!info.pull_quota);
        assert_eq!(RateLimitInfo::from_headers(&HeaderMap::new(), now()), RateLimitInfo::default());
    }
}
