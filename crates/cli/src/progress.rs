//! How a census shows its progress: one indicatif bar per stage on a terminal, plain log lines
//! everywhere else (CI logs, `nohup`, a cluster's log collector), where redrawn bars are noise.

use std::{
    io::IsTerminal as _,
    sync::Arc,
    time::{Duration, Instant},
};

use hubcensus_pipeline::{Event, Progress, Snapshot, StageProgress};
use hubcensus_types::Stage;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use parking_lot::Mutex;

use crate::format::human_bytes;

/// The progress sink for this process: bars when stderr is a terminal, log lines otherwise.
pub(crate) fn for_stderr(stages: &[Stage]) -> Arc<dyn Progress> {
    if std::io::stderr().is_terminal() { Arc::new(Bars::new(stages)) } else { Arc::new(LogLines::default()) }
}

/// What one stage's line says besides the bar: what it produced, bytes, findings, rate.
fn describe(s: &StageProgress, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64().max(0.001);
    #[allow(clippy::cast_precision_loss)] // display only
    let rate = s.done as f64 / secs;
    let produced = match s.stage {
        // Listings, not repositories: shards and both sort orders list many a repository twice.
        Stage::Discover => format!("{} repository listings read", s.items),
        Stage::Tags => format!("{} tags selected", s.items),
        Stage::Resolve => format!("{} images, {} config findings", s.items, s.findings),
        Stage::ScanLayer => {
            #[allow(clippy::cast_precision_loss)] // display only
            let mbps = s.bytes as f64 / secs / 1e6;
            format!(
                "{} layers, {} ({mbps:.1} MB/s), {} findings",
                s.items,
                human_bytes(i64::try_from(s.bytes).unwrap_or(i64::MAX)),
                s.findings
            )
        }
    };
    let mut text = format!("{produced}; {rate:.1} jobs/s");
    if s.failed > 0 {
        text.push_str(&format!(", {} failed attempts", s.failed));
    }
    if let Some(q) = &s.queue
        && q.parked > 0
    {
        text.push_str(&format!(", {} parked", q.parked));
    }
    text
}

/// Progress bars, one per stage.
#[derive(Debug)]
struct Bars {
    multi: MultiProgress,
    bars: Vec<(Stage, ProgressBar)>,
}

impl Bars {
    fn new(stages: &[Stage]) -> Self {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(4));
        let style = ProgressStyle::with_template(
            "{prefix:>10} [{bar:30.cyan/blue}] {pos:>7}/{len:<7} ETA {eta:>4} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        let bars = stages
            .iter()
            .map(|&stage| {
                let bar =
                    multi.add(ProgressBar::new(0).with_style(style.clone()).with_prefix(stage.as_str()));
                (stage, bar)
            })
            .collect();
        Self { multi, bars }
    }
}

impl Progress for Bars {
    fn update(&self, snapshot: &Snapshot) {
        for (stage, bar) in &self.bars {
            let Some(s) = snapshot.stage(*stage) else { continue };
            if let Some((done, total)) = s.totals() {
                bar.set_length(u64::try_from(total).unwrap_or(0));
                bar.set_position(u64::try_from(done).unwrap_or(0));
            }
            bar.set_message(describe(s, snapshot.elapsed));
        }
    }

    fn event(&self, event: &Event) {
        if let Some(line) = event_line(event) {
            let _ = self.multi.println(line);
        }
    }
}

impl Drop for Bars {
    fn drop(&mut self) {
        for (_, bar) in &self.bars {
            bar.abandon();
        }
    }
}

/// Log lines at most every `LOG_EVERY`, plus one per notable event.
#[derive(Debug, Default)]
struct LogLines {
    last: Mutex<Option<Instant>>,
}

const LOG_EVERY: Duration = Duration::from_secs(10);

impl Progress for LogLines {
    fn update(&self, snapshot: &Snapshot) {
        {
            let mut last = self.last.lock();
            if last.is_some_and(|t| t.elapsed() < LOG_EVERY) {
                return;
            }
            *last = Some(Instant::now());
        }
        for s in &snapshot.stages {
            let Some((done, total)) = s.totals() else { continue };
            if total == 0 {
                continue;
            }
            tracing::info!(stage = %s.stage, "{done}/{total} jobs; {}", describe(s, snapshot.elapsed));
        }
    }

    fn event(&self, event: &Event) {
        if let Some(line) = event_line(event) {
            tracing::warn!("{line}");
        }
    }
}

/// The line an event deserves, if any (retries are routine and only logged at debug level).
fn event_line(event: &Event) -> Option<String> {
    match event {
        Event::Parked { stage, key, error } => {
            Some(format!("{stage} {key}: parked after its attempts: {error}"))
        }
        Event::Paused { stage, until, reason } => {
            let secs = until.duration_since(std::time::SystemTime::now()).unwrap_or_default().as_secs();
            Some(format!("{stage}: paused for {secs} s: {reason}"))
        }
        Event::ItemFailed { stage, key, error } => {
            Some(format!("{stage} {key}: recorded as failed: {error}"))
        }
        Event::LeaseLost { stage, key } => Some(format!("{stage} {key}: lease lost to another worker")),
        Event::StoreUnavailable { error } => Some(format!("database unavailable, retrying: {error}")),
        Event::Retrying { stage, key, error, after_secs } => {
            tracing::debug!(%stage, %key, after_secs, "retrying: {error}");
            None
        }
        // Events added later are shown as they are.
        other => Some(format!("{other:?}")),
    }
}
