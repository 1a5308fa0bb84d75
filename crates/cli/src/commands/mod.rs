//! One module per subcommand (`census`, `worker` and `discover` share the census wiring in
//! `census.rs` and the progress display in `progress.rs`).

mod census;
mod db;
mod discover;
mod feeds;
mod progress;
mod report;
mod scan;
mod status;
mod worker;

use std::process::ExitCode;

use hubcensus_store::{ConnectOptions, Store};

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

/// Connects to the configured database and brings its schema up to date.
pub(crate) async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    let options = ConnectOptions {
        max_connections: settings.database.max_connections,
        acquire_timeout: std::time::Duration::from_secs(settings.database.acquire_timeout_secs),
    };
    Ok(Store::open(settings.database_url()?, &options).await?)
}
