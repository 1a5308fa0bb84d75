//! The census stages that run as work queues in Postgres.

use crate::string_enum::string_enum;

string_enum! {
    /// A stage of the census pipeline. Each is a queue of jobs with leases; a job's key is unique
    /// within its stage, which is what makes enqueueing idempotent and layer scans happen once.
    pub enum Stage("stage") {
        /// Enumerate one search shard or namespace (key: the shard, e.g. `search:ab` or `ns:bitnami`).
        Discover = "discover",
        /// List a repository's tags and apply the tag policy (key: `namespace/name`).
        Tags = "tags",
        /// Resolve a tag to the platform image and its config (key: `namespace/name:tag`).
        Resolve = "resolve",
        /// Fetch and scan one layer blob (key: the layer digest).
        ScanLayer = "scan_layer",
    }
}
