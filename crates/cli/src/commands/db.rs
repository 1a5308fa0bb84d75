//! `hubcensus db migrate`.

use std::process::ExitCode;

use hubcensus_store::{ConnectOptions, Store, redact_url};

use crate::config::Settings;

pub(crate) async fn migrate(settings: &Settings) -> anyhow::Result<ExitCode> {
    let url = settings.database_url()?;
    let options = ConnectOptions {
        max_connections: 2,
        acquire_timeout: std::time::Duration::from_secs(settings.database.acquire_timeout_secs),
    };
    let store = Store::connect(url, &options).await?;
    let applied = store.migrate().await?;
    let total = hubcensus_store::MIGRATOR.iter().count();
    if applied == 0 {
        println!("database {} is up to date ({total} migrations applied before)", redact_url(url));
    } else {
        println!("database {}: applied {applied} of {total} migrations", redact_url(url));
    }
    Ok(ExitCode::SUCCESS)
}
