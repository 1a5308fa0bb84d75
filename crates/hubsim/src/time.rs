//! Time: the simulator's (optionally accelerated) clock and Hub-style timestamps.
//!
//! Quota windows are six hours and tokens live five minutes; tests of that behaviour cannot wait
//! so long, so the clock runs `time_scale` simulated seconds per real second. Everything
//! time-based in the service (token expiry, quota windows, the Hub's per-minute limit, signed
//! CDN URL expiry) reads this clock; population dates are fixed and do not.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// An accelerated clock starting at the real current time.
#[derive(Debug, Clone)]
pub struct Clock {
    start: Instant,
    start_unix: f64,
    scale: f64,
}

impl Clock {
    /// A clock running `scale` simulated seconds per real second.
    pub fn new(scale: f64) -> Self {
        let start_unix = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
        Self { start: Instant::now(), start_unix, scale }
    }

    /// Simulated Unix time in seconds.
    pub fn now(&self) -> f64 {
        self.start_unix + self.start.elapsed().as_secs_f64() * self.scale
    }

    /// Simulated Unix time, whole seconds.
    pub fn now_secs(&self) -> i64 {
        self.now() as i64
    }

    /// Simulated seconds per real second.
    pub fn scale(&self) -> f64 {
        self.scale
    }
}

fn mix(t: i64) -> u64 {
    let mut z = (t as u64).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z ^ (z >> 31)
}

/// RFC 3339 UTC with a deterministic fraction of up to `digits` digits, trailing zeros cut —
/// Hub prints `…52Z`, `…48.1674Z` and `…00.613197154Z` alike.
pub fn rfc3339(unix: i64, digits: u32) -> String {
    let dt = chrono::DateTime::from_timestamp(unix, 0).unwrap_or_default();
    let base = dt.format("%Y-%m-%dT%H:%M:%S").to_string();
    if digits == 0 {
        return format!("{base}Z");
    }
    let modulus = 10u64.pow(digits.min(9));
    let frac = mix(unix) % modulus;
    let text = format!("{frac:0width$}", width = digits as usize);
    let trimmed = text.trim_end_matches('0');
    if trimmed.is_empty() { format!("{base}Z") } else { format!("{base}.{trimmed}Z") }
}

/// RFC 3339 with nanoseconds from a float time (token `issued_at`).
pub fn rfc3339_nanos(unix: f64) -> String {
    let secs = unix.floor() as i64;
    let nanos = ((unix - unix.floor()) * 1e9) as u32;
    let dt = chrono::DateTime::from_timestamp(secs, nanos).unwrap_or_default();
    dt.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_look_like_hubs() {
        assert_eq!(rfc3339(1_705_438_492, 0), "2024-01-16T20:54:52Z");
        let t = rfc3339(1_705_438_492, 6);
        assert!(t.starts_with("2024-01-16T20:54:52"));
        assert!(!t.contains("0Z"));
        assert!(rfc3339_nanos(1_727_917_869.171_382).starts_with("2024-10-03T01:11:09.171"));
        let c = Clock::new(1000.0);
        let a = c.now();
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(c.now() - a >= 10.0);
    }
}
