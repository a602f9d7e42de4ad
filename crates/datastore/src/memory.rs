//! [`MemoryBackend`]: an in-process store that implements the [`Backend`] contract exactly, for
//! unit tests of the layers above the datastore.
//!
//! All state sits behind one mutex. Every write appends to a history log (bounded by an optional
//! retention, or trimmed by [`Backend::compact`]) and is pushed to the matching watchers while the
//! lock is held, so watchers see writes in revision order with no gap between their initial
//! snapshot or replay and the live changes. Clones share the same store, like several clients
//! of one server.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::backend::{
    Backend, DatastoreError, KeyValue, ListResult, Result, Revision, Watch, WatchEvent, WatchFrom,
};

/// An in-memory [`Backend`]. Cloning gives another handle onto the same store.
#[derive(Clone, Debug, Default)]
pub struct MemoryBackend {
    inner: Arc<Mutex<State>>,
}

/// One entry of the change history.
#[derive(Debug)]
struct Change {
    revision: Revision,
    key: String,
    /// The new pair, or `None` for a deletion.
    kv: Option<KeyValue>,
    /// The pair before the change (for deletions).
    prev: Option<KeyValue>,
}

impl Change {
    fn event(&self) -> WatchEvent {
        match &self.kv {
            Some(kv) => WatchEvent::Put(kv.clone()),
            None => WatchEvent::Delete {
                key: self.key.clone(),
                revision: self.revision,
                prev: self.prev.clone(),
            },
        }
    }
}

#[derive(Debug)]
struct Watcher {
    prefix: String,
    tx: Sender<Result<WatchEvent>>,
}

#[derive(Debug, Default)]
struct State {
    revision: Revision,
    kvs: BTreeMap<String, KeyValue>,
    history: VecDeque<Change>,
    /// Changes older than this revision have been discarded.
    oldest_kept: Revision,
    /// Keep at most this many changes (`None`: keep everything until compacted).
    retention: Option<usize>,
    watchers: HashMap<u64, Watcher>,
    next_watcher: u64,
}

impl MemoryBackend {
    /// An empty store at revision 0 that keeps its whole history.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store that keeps only the last `changes` changes; older ones are compacted away
    /// as new writes arrive.
    pub fn with_history_limit(changes: usize) -> Self {
        let backend = Self::default();
        backend.state().retention = Some(changes.max(1));
        backend
    }

    /// The number of watches that are still open (dropped watches are removed at once).
    pub fn active_watches(&self) -> usize {
        self.state().watchers.len()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // matters for tests, so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    fn check_expected(key: &str, current: &KeyValue, expected: Option<Revision>) -> Result<()> {
        match expected {
            Some(rev) if rev != current.mod_revision => Err(DatastoreError::Conflict {
                key: key.to_owned(),
                expected: rev,
                actual: current.mod_revision,
            }),
            _ => Ok(()),
        }
    }

    /// Record a change at the next revision and push it to the matching watchers.
    fn commit(&mut self, key: &str, kv: Option<KeyValue>, prev: Option<KeyValue>) {
        let change = Change {
            revision: self.revision,
            key: key.to_owned(),
            kv,
            prev,
        };
        let event = change.event();
        self.watchers
            .retain(|_, w| !key.starts_with(&w.prefix) || w.tx.send(Ok(event.clone())).is_ok());
        self.history.push_back(change);
        if let Some(limit) = self.retention {
            while self.history.len() > limit {
                self.history.pop_front();
            }
            if let Some(first) = self.history.front() {
                self.oldest_kept = self.oldest_kept.max(first.revision);
            }
        }
    }
}

impl Backend for MemoryBackend {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn get(&self, key: &str) -> Result<Option<KeyValue>> {
        Ok(self.state().kvs.get(key).cloned())
    }

    fn list(&self, prefix: &str) -> Result<ListResult> {
        let state = self.state();
        let kvs = state
            .kvs
            .range(prefix.to_owned()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(_, kv)| kv.clone())
            .collect();
        Ok(ListResult {
            kvs,
            revision: state.revision,
        })
    }

    fn create(&self, key: &str, value: &[u8]) -> Result<KeyValue> {
        let mut state = self.state();
        if state.kvs.contains_key(key) {
            return Err(DatastoreError::AlreadyExists {
                key: key.to_owned(),
            });
        }
        state.revision += 1;
        let kv = KeyValue {
            key: key.to_owned(),
            value: value.to_vec(),
            create_revision: state.revision,
            mod_revision: state.revision,
        };
        state.kvs.insert(key.to_owned(), kv.clone());
        state.commit(key, Some(kv.clone()), None);
        Ok(kv)
    }

    fn update(&self, key: &str, value: &[u8], expected: Option<Revision>) -> Result<KeyValue> {
        let mut state = self.state();
        let Some(current) = state.kvs.get(key) else {
            return Err(DatastoreError::NotFound {
                key: key.to_owned(),
            });
        };
        State::check_expected(key, current, expected)?;
        let create_revision = current.create_revision;
        state.revision += 1;
        let kv = KeyValue {
            key: key.to_owned(),
            value: value.to_vec(),
            create_revision,
            mod_revision: state.revision,
        };
        let prev = state.kvs.insert(key.to_owned(), kv.clone());
        state.commit(key, Some(kv.clone()), prev);
        Ok(kv)
    }

    fn delete(&self, key: &str, expected: Option<Revision>) -> Result<KeyValue> {
        let mut state = self.state();
        let Some(current) = state.kvs.get(key) else {
            return Err(DatastoreError::NotFound {
                key: key.to_owned(),
            });
        };
        State::check_expected(key, current, expected)?;
        state.revision += 1;
        let Some(prev) = state.kvs.remove(key) else {
            return Err(DatastoreError::Internal(format!(
                "{key} vanished under the lock"
            )));
        };
        state.commit(key, None, Some(prev.clone()));
        Ok(prev)
    }

    fn revision(&self) -> Result<Revision> {
        Ok(self.state().revision)
    }

    fn watch(&self, prefix: &str, from: WatchFrom) -> Result<Watch> {
        let (tx, rx) = channel();
        let mut state = self.state();
        match from {
            WatchFrom::Snapshot => {
                let kvs = state
                    .kvs
                    .range(prefix.to_owned()..)
                    .take_while(|(k, _)| k.starts_with(prefix));
                for (_, kv) in kvs {
                    // The receiver is still in our hands, so these sends cannot fail.
                    let _ = tx.send(Ok(WatchEvent::Put(kv.clone())));
                }
            }
            WatchFrom::After(rev) => {
                if rev + 1 < state.oldest_kept {
                    let _ = tx.send(Err(DatastoreError::Compacted {
                        requested: rev,
                        oldest: state.oldest_kept,
                    }));
                    return Ok(Watch::new(rx));
                }
                let changes = state
                    .history
                    .iter()
                    .filter(|c| c.revision > rev && c.key.starts_with(prefix));
                for change in changes {
                    let _ = tx.send(Ok(change.event()));
                }
            }
        }
        let _ = tx.send(Ok(WatchEvent::InSync {
            revision: state.revision,
        }));
        let id = state.next_watcher;
        state.next_watcher += 1;
        state.watchers.insert(
            id,
            Watcher {
                prefix: prefix.to_owned(),
                tx,
            },
        );
        drop(state);
        let inner = Arc::downgrade(&self.inner);
        Ok(Watch::with_cancel(rx, move || {
            if let Some(inner) = inner.upgrade() {
                let mut state = inner.lock().unwrap_or_else(PoisonError::into_inner);
                state.watchers.remove(&id);
            }
        }))
    }

    fn compact(&self, revision: Revision) -> Result<()> {
        let mut state = self.state();
        if revision > state.revision {
            return Err(DatastoreError::Config(format!(
                "cannot compact to revision {revision}: the current revision is {}",
                state.revision
            )));
        }
        if revision <= state.oldest_kept {
            return Ok(());
        }
        while state.history.front().is_some_and(|c| c.revision < revision) {
            state.history.pop_front();
        }
        state.oldest_kept = revision;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn dropping_a_watch_unregisters_it_at_once() {
        let store = MemoryBackend::new();
        let w1 = store.watch("/a/", WatchFrom::Snapshot).unwrap();
        let w2 = store.watch("/b/", WatchFrom::Snapshot).unwrap();
        assert_eq!(store.active_watches(), 2);
        drop(w1);
        assert_eq!(store.active_watches(), 1);
        drop(w2);
        assert_eq!(store.active_watches(), 0);
    }

    #[test]
    fn history_limit_compacts_old_changes() {
        let store = MemoryBackend::with_history_limit(3);
        let kv = store.create("/k", b"0").unwrap();
        let mut rev = kv.mod_revision;
        for i in 1..=5 {
            rev = store
                .update("/k", format!("{i}").as_bytes(), Some(rev))
                .unwrap()
                .mod_revision;
        }
        // Six changes happened (revisions 1..=6); the last three (4, 5, 6) are kept.
        let old = store.watch("/", WatchFrom::After(1)).unwrap();
        let err = old.recv_timeout(Duration::from_secs(1)).unwrap().unwrap();
        assert_eq!(
            err,
            Err(DatastoreError::Compacted {
                requested: 1,
                oldest: 4
            })
        );
        let ok = store.watch("/", WatchFrom::After(3)).unwrap();
        let first = ok.recv_timeout(Duration::from_secs(1)).unwrap().unwrap();
        match first.unwrap() {
            WatchEvent::Put(kv) => assert_eq!(kv.mod_revision, 4),
            other => panic!("expected the put at revision 4, got {other:?}"),
        }
    }
}
