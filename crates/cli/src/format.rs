//! Numbers, byte counts and the sampling frame as a person reads them, the same in every
//! command's output.

use std::fmt::Write as _;

use hubcensus_store::{coverage::Coverage, frame::FrameCounts};

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

/// [`thousands`] of a count of any integer type (one past `i64::MAX` shows as `i64::MAX`).
pub(crate) fn thousands_u(n: impl TryInto<i64>) -> String {
    thousands(n.try_into().unwrap_or(i64::MAX))
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

/// The frame's coverage as (term, value) pairs, as `report` (every human format) and `status`
/// print it: per source, what it collected of what Hub reported; per pair of sources,
/// Chapman's estimate of the frame's size with its 95% interval and how much of it was seen.
pub(crate) fn coverage_lines(coverage: &Coverage) -> Vec<(String, String)> {
    let mut items: Vec<(String, String)> = coverage
        .sources
        .iter()
        .map(|s| {
            let reported = match (s.reported, s.ratio) {
                (Some(r), Some(ratio)) => format!(" of {} reported ({:.1}%)", thousands(r), 100.0 * ratio),
                (Some(r), None) => format!(" of {} reported", thousands(r)),
                (None, _) => ", no total reported".to_owned(),
            };
            let tasks = if s.tasks == 1 { "task" } else { "tasks" };
            (
                format!("coverage: {}", s.source),
                format!("{} collected{reported}; {} {tasks}", thousands(s.collected), thousands(s.tasks)),
            )
        })
        .collect();
    items.extend(coverage.estimates.iter().map(|e| {
        let c = &e.chapman;
        let round = |x: f64| thousands(x.round() as i64);
        (
            format!("frame size: {} × {}", e.first_source, e.second_source),
            format!(
                "{} [{}, {}] (Chapman, 95%); {} seen by either ({:.1}%), {} by both; {}",
                round(c.estimate),
                round(c.low),
                round(c.high),
                thousands_u(c.observed),
                100.0 * c.coverage(),
                thousands_u(c.both),
                if e.independent {
                    "sources independent"
                } else {
                    "sources dependent: the estimate leans low, towards what was seen"
                }
            ),
        )
    }));
    items
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

    #[test]
    fn coverage_reads_per_source_and_per_pair() {
        use hubcensus_estimate::{Z95, chapman};
        use hubcensus_store::coverage::{FrameEstimate, SourceCoverage};
        let coverage = Coverage {
            run_id: 3,
            sources: vec![
                SourceCoverage {
                    source: "search_v4".into(),
                    tasks: 12,
                    reported: Some(2_000),
                    collected: 1_900,
                    ratio: Some(0.95),
                },
                SourceCoverage {
                    source: "names_file".into(),
                    tasks: 1,
                    reported: None,
                    collected: 40,
                    ratio: None,
                },
            ],
            estimates: vec![FrameEstimate {
                first_source: "search_v4".into(),
                second_source: "names_file".into(),
                independent: true,
                chapman: chapman(10, 15, 5, Z95).unwrap(),
            }],
        };
        let lines = coverage_lines(&coverage);
        assert_eq!(
            lines,
            [
                (
                    "coverage: search_v4".to_owned(),
                    "1,900 collected of 2,000 reported (95.0%); 12 tasks".to_owned()
                ),
                ("coverage: names_file".to_owned(), "40 collected, no total reported; 1 task".to_owned()),
                (
                    "frame size: search_v4 × names_file".to_owned(),
                    "28 [22, 49] (Chapman, 95%); 20 seen by either (70.6%), 5 by both; sources independent"
                        .to_owned()
                ),
            ]
        );
    }
}
