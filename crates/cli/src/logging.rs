//! tracing to stderr: text for people, JSON for log pipelines. RUST_LOG wins over the config.

use tracing_subscriber::{EnvFilter, fmt};

use crate::config::LogFormat;

/// Installs the global subscriber. Logs go to stderr so stdout stays the command's output.
pub(crate) fn init(format: LogFormat, default_level: &str) {
    // sqlx logs server NOTICEs ("relation already exists, skipping") at info: keep them quiet
    // unless RUST_LOG asks for them.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("{default_level},sqlx=warn")));
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false);
    // A second init (tests) is harmless: keep the first subscriber.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
