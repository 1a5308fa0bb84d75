//! Numbers, byte counts and the sampling frame as a person reads them, the same in every
//! command's output.

use std::fmt::Write as _;

use hubcensus_store::frame::FrameCounts;

/// `1234567` → `1,234,567`: figures a person compares at a glance.
pub(crate) fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1536` → `1.5 KiB`: binary units, one decimal.
pub(crate) fn human_bytes(n: i64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    #[allow(clippy::cast_precision_loss)] // display only
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{n} B") } else { format!("{v:.1} {}", UNITS[unit]) }
}

/// The frame as `status` and `discover` print it, each line after `indent`: repositories seen,
/// the exclusions that left any out (by reason), repositories kept.
pub(crate) fn frame_lines(frame: &FrameCounts, indent: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{indent}repositories seen      {:>10}", frame.repositories_seen);
    for e in frame.excluded.iter().filter(|e| e.repositories > 0) {
        let _ = writeln!(out, "{indent}  excluded: {:<20} {:>6}", e.reason.as_str(), e.repositories);
    }
    let _ = writeln!(out, "{indent}kept for analysis      {:>10}", frame.repositories_kept);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_and_sizes_read_at_a_glance() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_777), "1,777");
        assert_eq!(thousands(-1_234_567), "-1,234,567");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(12), "12 B");
    }

    #[test]
    fn the_frame_lists_the_reasons_that_left_repositories_out() {
        use hubcensus_store::frame::Exclusion;
        use hubcensus_types::ExclusionReason;
        let frame = FrameCounts {
            repositories_seen: 12,
            repositories_excluded: 4,
            excluded: vec![
                Exclusion { reason: ExclusionReason::Official, repositories: 3 },
                Exclusion { reason: ExclusionReason::Imageless, repositories: 0 },
                Exclusion { reason: ExclusionReason::Inactive, repositories: 1 },
            ],
            repositories_kept: 8,
            repositories_analysed: 0,
        };
        let text = frame_lines(&frame, "  ");
        assert_eq!(
            text,
            "  repositories seen              12\n\
             \x20   excluded: official                  3\n\
             \x20   excluded: inactive                  1\n\
             \x20 kept for analysis               8\n",
            "{text}"
        );
    }
}
