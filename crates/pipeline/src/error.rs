//! The errors that stop a worker. Everything that concerns one item (a repository, a tag, an
//! image, a layer) is recorded on that item or its job and never surfaces here.

use hubcensus_store::StoreError;

/// Why a census operation could not run at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PipelineError {
    /// The database refused or could not be reached where the worker cannot wait it out
    /// (opening a run, the final release of leases).
    #[error("census database")]
    Store(#[from] StoreError),
    /// A sample asked of a run that cannot take it (another design or seed, a smaller size,
    /// a run that analyses every kept repository); the message says what to do instead.
    #[error("{0}")]
    Sample(String),
}

impl PipelineError {
    /// Whether running the same command again later may succeed (the database was down).
    pub fn is_transient(&self) -> bool {
        match self {
            PipelineError::Store(e) => e.is_transient(),
            PipelineError::Sample(_) => false,
        }
    }
}
