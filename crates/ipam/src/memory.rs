//! [`MemoryStore`]: an in-process [`IpamStore`] for tests and simulations. Clones share state.
//!
//! Records are kept by their etcd key, so listings come back in the same order as from the
//! datastore adapter.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::store::{IpamStore, Listing, Record, RecordKey, Revision, StoreError, Stored};

#[derive(Debug, Default)]
struct State {
    revision: Revision,
    records: BTreeMap<String, (RecordKey, Record, Revision)>,
    writes: u64,
}

/// An in-memory compare-and-swap store.
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Number of successful writes so far.
    pub fn writes(&self) -> u64 {
        self.state().writes
    }

    /// Every record, in key order.
    pub fn dump(&self) -> Vec<Stored<Record>> {
        self.state()
            .records
            .values()
            .map(|(_, r, rev)| Stored {
                value: r.clone(),
                revision: *rev,
            })
            .collect()
    }
}

impl IpamStore for MemoryStore {
    fn get(&self, key: &RecordKey) -> Result<Option<Stored<Record>>, StoreError> {
        Ok(self
            .state()
            .records
            .get(&key.path())
            .map(|(_, r, rev)| Stored {
                value: r.clone(),
                revision: *rev,
            }))
    }

    fn list(&self, what: &Listing) -> Result<Vec<Stored<Record>>, StoreError> {
        let prefix = what.prefix();
        let st = self.state();
        Ok(st
            .records
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter(|(_, (key, _, _))| what.selects(key))
            .map(|(_, (_, r, rev))| Stored {
                value: r.clone(),
                revision: *rev,
            })
            .collect())
    }

    fn create(&self, record: &Record) -> Result<Revision, StoreError> {
        let key = record.key();
        let path = key.path();
        let mut st = self.state();
        if st.records.contains_key(&path) {
            return Err(StoreError::AlreadyExists { key: path });
        }
        st.revision += 1;
        st.writes += 1;
        let rev = st.revision;
        st.records.insert(path, (key, record.clone(), rev));
        Ok(rev)
    }

    fn update(&self, record: &Record, expected: Revision) -> Result<Revision, StoreError> {
        let key = record.key();
        let path = key.path();
        let mut st = self.state();
        let current = match st.records.get(&path) {
            None => return Err(StoreError::NotFound { key: path }),
            Some((_, _, rev)) => *rev,
        };
        if current != expected {
            return Err(StoreError::Conflict { key: path });
        }
        st.revision += 1;
        st.writes += 1;
        let rev = st.revision;
        st.records.insert(path, (key, record.clone(), rev));
        Ok(rev)
    }

    fn delete(&self, key: &RecordKey, expected: Revision) -> Result<(), StoreError> {
        let path = key.path();
        let mut st = self.state();
        let current = match st.records.get(&path) {
            None => return Err(StoreError::NotFound { key: path }),
            Some((_, _, rev)) => *rev,
        };
        if current != expected {
            return Err(StoreError::Conflict { key: path });
        }
        st.revision += 1;
        st.writes += 1;
        st.records.remove(&path);
        Ok(())
    }
}
