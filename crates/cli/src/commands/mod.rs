//! One module per subcommand. Subcommands whose capability has not landed yet say so in one
//! line and exit 2: nothing prints output it did not compute.

mod db;
mod scan;
mod status;

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
        Command::Census(_) => not_yet("census", "the census pipeline (issue #6)"),
        Command::Worker(_) => not_yet("worker", "the census pipeline (issue #6)"),
        Command::Discover(_) => not_yet("discover", "the crawler clients (issue #5)"),
        Command::Scan(args) => scan::run(&args, settings),
        Command::Report(_) => not_yet("report", "the census report (issue #6)"),
        Command::Feeds(_) => not_yet("feeds", "feeds in the census database (issue #6)"),
    }
}

fn not_yet(name: &str, lands_with: &str) -> anyhow::Result<ExitCode> {
    eprintln!("hubcensus {name}: not available in this build yet; it lands with {lands_with}");
    Ok(ExitCode::from(2))
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
