//! A bounded cache of materialised repositories.
//!
//! Building a repository costs milliseconds (its own layers are generated and compressed), so
//! the server keeps recently used ones; a census touches each repository a few times in quick
//! succession (tags, manifests, blobs), then moves on. The cache evicts in insertion order once
//! it holds `capacity` repositories, and concurrent first requests for the same repository wait
//! for one build instead of each building it.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use crate::population::content::RepoContent;

type Cell = Arc<OnceLock<Arc<RepoContent>>>;

/// The cache.
#[derive(Debug)]
pub(crate) struct ContentCache {
    capacity: usize,
    inner: Mutex<(HashMap<u32, Cell>, VecDeque<u32>)>,
}

impl ContentCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self { capacity: capacity.max(1), inner: Mutex::new((HashMap::new(), VecDeque::new())) }
    }

    /// The cached content of `repo`, if built.
    pub(crate) fn peek(&self, repo: u32) -> Option<Arc<RepoContent>> {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.0.get(&repo).and_then(|c| c.get().cloned())
    }

    /// The content of `repo`, building it with `build` on a miss.
    pub(crate) fn get(&self, repo: u32, build: impl FnOnce() -> RepoContent) -> Arc<RepoContent> {
        let cell = {
            let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            let (map, order) = &mut *inner;
            if let Some(c) = map.get(&repo) {
                c.clone()
            } else {
                let c: Cell = Arc::default();
                map.insert(repo, c.clone());
                order.push_back(repo);
                while order.len() > self.capacity {
                    if let Some(old) = order.pop_front() {
                        map.remove(&old);
                    }
                }
                c
            }
        };
        cell.get_or_init(|| Arc::new(build())).clone()
    }

    /// Number of cached repositories.
    pub(crate) fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner).0.len()
    }
}
