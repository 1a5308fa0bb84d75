//! Who holds a lease: `host:pid:random`.
//!
//! The host and process id tell a researcher which machine and process to look at when a
//! lease is stuck; the random suffix makes a restarted process (same host, recycled pid) a
//! different owner, so the fencing checks of the queue never mistake it for its predecessor.

use std::fmt;

/// A worker's identity in leases, logs and pull-quota snapshots.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WorkerId(String);

impl WorkerId {
    /// `host:pid:random` for this process.
    pub fn generate() -> Self {
        let random = uuid::Uuid::new_v4().simple().to_string();
        Self(format!("{}:{}:{}", hostname(), std::process::id(), &random[..8]))
    }

    /// A given name (`hubcensus worker --id NAME`), suffixed with a random part so two
    /// processes given the same name still hold distinct leases.
    pub fn named(name: &str) -> Self {
        let random = uuid::Uuid::new_v4().simple().to_string();
        Self(format!("{name}:{}", &random[..8]))
    }

    /// The identity as stored in `jobs.lease_owner`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for WorkerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The machine's host name (Linux's kernel value, else `$HOSTNAME`, else `localhost`).
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "localhost".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_name_the_process_and_never_repeat() {
        let a = WorkerId::generate();
        let b = WorkerId::generate();
        assert_ne!(a, b);
        let parts: Vec<&str> = a.as_str().split(':').collect();
        assert_eq!(parts.len(), 3, "{a}");
        assert_eq!(parts[1], std::process::id().to_string());
        assert!(WorkerId::named("w1").as_str().starts_with("w1:"));
    }
}
