//! Store errors, typed by what the caller does next.

/// What went wrong talking to the census database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database URL does not parse. Fix the configuration.
    #[error("invalid database URL {0}")]
    BadUrl(String, #[source] sqlx::Error),
    /// The server did not answer. Retry later, or start one (`make db`).
    #[error("database {0} is unavailable")]
    Unavailable(String, #[source] sqlx::Error),
    /// Applying the schema failed. Nothing else can work until it is fixed.
    #[error("schema migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A worker no longer holds the lease it tried to act on: another worker has the job now.
    /// Drop the work (its writes are idempotent, so nothing needs undoing).
    #[error("lease on job {job_id} is no longer held by {owner}")]
    LeaseLost {
        /// The job.
        job_id: i64,
        /// The worker that lost it.
        owner: String,
    },
    /// A row holds a value the domain types reject: the database was edited by hand or by a
    /// newer version.
    #[error("unexpected value in the database")]
    Corrupt(#[from] hubcensus_types::ParseError),
    /// A budget was taken from before it was created (`ensure_rate_budget`,
    /// `ensure_quota_budget`): a wiring bug.
    #[error("no budget named {0}")]
    UnknownBudget(String),
    /// A query failed. Connection errors are worth a retry; others are bugs.
    #[error("database query failed")]
    Query(#[from] sqlx::Error),
}

impl StoreError {
    /// Whether retrying the same operation later may succeed (the connection dropped, the
    /// server restarted, the pool timed out).
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Unavailable(..) => true,
            StoreError::Query(e) => matches!(
                e,
                sqlx::Error::Io(_)
                    | sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::WorkerCrashed
            ),
            _ => false,
        }
    }
}
