//! One module per subcommand. Commands never import each other: what several share is in
//! `crate::wiring` (clients, the census worker), `crate::progress` and `crate::format`.

mod census;
mod db;
mod discover;
mod feeds;
mod plan;
mod report;
mod scan;
mod status;
mod worker;

use std::process::ExitCode;

use crate::{
    cli::{Command, DbCommand},
    config::{CensusFlags, Settings},
};

/// The `--platform` flag of the subcommands that have one, as a config override.
pub(crate) fn platform_flag(command: &Command) -> Option<CensusFlags> {
    let platform = match command {
        Command::Census(args) => args.platform.clone(),
        Command::Scan(args) => args.platform.clone(),
        _ => None,
    };
    platform.map(|platform| CensusFlags { platform })
}

/// Runs one subcommand to completion.
pub(crate) fn run(command: Command, settings: &Settings) -> anyhow::Result<ExitCode> {
    match command {
        Command::Db(args) => match args.command {
            DbCommand::Migrate => block_on(db::migrate(settings)),
        },
        Command::Status(args) => block_on(status::run(settings, &args)),
        Command::Plan(args) => block_on(plan::run(settings, &args)),
        Command::Census(args) => block_on(census::run(settings, &args)),
        Command::Worker(args) => block_on(worker::run(settings, &args)),
        Command::Discover(args) => block_on(discover::run(settings, &args)),
        Command::Scan(args) => scan::run(&args, settings),
        Command::Report(args) => block_on(report::run(settings, &args)),
        Command::Feeds(args) => block_on(feeds::run(settings, &args.command)),
    }
}

fn block_on<F: std::future::Future<Output = anyhow::Result<ExitCode>>>(
    future: F,
) -> anyhow::Result<ExitCode> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(future)
}
