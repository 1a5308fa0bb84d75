//! `hubcensus`: the command-line entry point. Parses flags, loads the layered configuration,
//! sets up logging, runs one subcommand, and maps the outcome to an exit code (0 ok, 1 `scan`
//! found something, 2 error).

mod budgets;
mod cli;
mod commands;
mod config;
mod format;
mod logging;
mod metrics;
mod progress;
mod rules;
mod wiring;

use std::process::ExitCode;

use clap::Parser;

use crate::{
    cli::Cli,
    config::{DatabaseFlags, FlagOverrides, LogFlags, Settings},
};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let flags = FlagOverrides {
        database: cli.global.database_url.clone().map(|url| DatabaseFlags { url }),
        log: cli.global.log_format.map(|format| LogFlags { format }),
        census: commands::platform_flag(&cli.command),
    };
    let settings = match Settings::load(cli.global.config.as_deref(), &flags) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("hubcensus: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    logging::init(settings.log.format, &settings.log.level);
    match commands::run(cli.command, &settings) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("hubcensus: error: {}", error_chain(&e));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes on one line, skipping causes whose text an outer message already
/// includes (many libraries print their source inside their own message).
pub(crate) fn error_chain(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}
