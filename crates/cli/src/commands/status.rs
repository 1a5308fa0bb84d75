//! `hubcensus status`: where a census stands, read from the database.

use std::{fmt::Write as _, process::ExitCode};

use hubcensus_store::status::Status;

use crate::{
    cli::{StatusArgs, StatusFormat},
    config::Settings,
};

pub(crate) async fn run(settings: &Settings, args: &StatusArgs) -> anyhow::Result<ExitCode> {
    let store = super::open_store(settings).await?;
    let status = store.status(args.parked).await?;
    match args.format {
        StatusFormat::Json => println!("{}", serde_json::to_string_pretty(&status)?),
        StatusFormat::Table => print!("{}", render(&status)),
    }
    Ok(ExitCode::SUCCESS)
}

/// The human-readable status page.
fn render(s: &Status) -> String {
    let mut out = String::new();
    let t = &s.totals;
    let _ = writeln!(out, "census database: {} run(s)", t.runs);
    let _ = writeln!(out, "\nframe");
    let _ = writeln!(out, "  repositories seen      {:>10}", s.frame.seen);
    for (reason, n) in &s.frame.excluded {
        let _ = writeln!(out, "  excluded: {reason:<20} {n:>6}");
    }
    let _ = writeln!(out, "  kept for analysis      {:>10}", s.frame.kept);
    let _ = writeln!(out, "\nwork queues            pending     leased       done     parked");
    if s.stages.is_empty() {
        let _ = writeln!(out, "  (no jobs yet)");
    }
    for st in &s.stages {
        let _ = writeln!(
            out,
            "  {:<20} {:>9} {:>10} {:>10} {:>10}",
            st.stage, st.pending, st.leased, st.done, st.parked
        );
    }
    let _ =
        writeln!(out, "\nimages                 {:>10} resolved, {} analysed", t.images, t.images_analysed);
    let _ = writeln!(
        out,
        "layers                 {:>10} unique: {} scanned, {} failed, {} skipped",
        t.layers, t.layers_scanned, t.layers_failed, t.layers_skipped
    );
    let _ = writeln!(out, "bytes scanned          {:>10}", human_bytes(t.bytes_scanned));
    let _ = writeln!(out, "findings               {:>10}", t.findings);
    let _ = writeln!(out, "indicators             {:>10}", t.indicators);
    let _ = writeln!(out, "feeds                  {:>10}", t.feeds);
    if !s.parked.is_empty() {
        let _ = writeln!(out, "\nparked jobs (most recent first)");
        for p in &s.parked {
            let err = p.last_error.as_deref().unwrap_or("-");
            let _ = writeln!(out, "  {} {} after {} attempts: {err}", p.stage, p.key, p.attempts);
        }
    }
    out
}

fn human_bytes(n: i64) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_an_empty_census_honestly() {
        let page = render(&Status::default());
        assert!(page.contains("repositories seen               0"));
        assert!(page.contains("(no jobs yet)"));
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(12), "12 B");
    }
}
