//! The census stages that run as work queues in Postgres.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::ParseError;

/// A stage of the census pipeline. Each is a queue of jobs with leases; a job's key is unique
/// within its stage, which is what makes enqueueing idempotent and layer scans happen once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Enumerate one search shard or namespace (key: the shard, e.g. `search:ab` or `ns:bitnami`).
    Discover,
    /// List a repository's tags and apply the tag policy (key: `namespace/name`).
    Tags,
    /// Resolve a tag to the platform image and its config (key: `namespace/name:tag`).
    Resolve,
    /// Fetch and scan one layer blob (key: the layer digest).
    ScanLayer,
}

impl Stage {
    /// Every stage, in pipeline order.
    pub const ALL: [Stage; 4] = [Stage::Discover, Stage::Tags, Stage::Resolve, Stage::ScanLayer];

    /// The canonical id (`scan_layer`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Stage::Discover => "discover",
            Stage::Tags => "tags",
            Stage::Resolve => "resolve",
            Stage::ScanLayer => "scan_layer",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Stage {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Stage::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| ParseError::new("stage", s, "expected discover, tags, resolve or scan_layer"))
    }
}
