//! The datastore side of the agent: one watch over every Calico key, turned into an ordered
//! stream of key updates for the calculation graph, which survives a lost or compacted watch
//! and datastore restarts.
//!
//! [`SyncState`] is the sans-IO core: it remembers each key's revision, and when the watch has
//! to be restarted from a fresh snapshot it suppresses keys that did not change and emits
//! deletes for keys that vanished meanwhile, so the consumer sees exactly the difference.
//! [`Syncer`] owns the watch: it starts with a snapshot, resumes after the last delivered
//! revision when a watch ends, falls back to a snapshot when that revision was compacted, and
//! retries with backoff while the datastore is unreachable.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use calico_datastore::{Backend, DatastoreError, Revision, Watch, WatchEvent, WatchFrom};

/// Everything calico-node watches.
pub const WATCH_PREFIX: &str = "/calico/";

/// One change for the consumer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyUpdate {
    Put {
        key: String,
        value: Vec<u8>,
        revision: Revision,
    },
    Delete {
        key: String,
    },
    /// The first complete snapshot has been delivered.
    InSync,
}

/// The resync state machine.
#[derive(Debug, Default)]
pub struct SyncState {
    known: BTreeMap<String, Revision>,
    unseen: Option<BTreeSet<String>>,
    in_sync: bool,
    last_revision: Option<Revision>,
}

impl SyncState {
    pub fn new() -> Self {
        Self::default()
    }

    /// A snapshot watch is starting: keys it does not mention by its `InSync` are deleted.
    pub fn start_snapshot(&mut self) {
        self.unseen = Some(self.known.keys().cloned().collect());
    }

    /// Whether the first snapshot has completed.
    pub fn in_sync(&self) -> bool {
        self.in_sync
    }

    /// The revision every change up to which has been delivered.
    pub fn last_revision(&self) -> Option<Revision> {
        self.last_revision
    }

    /// How many keys are known.
    pub fn len(&self) -> usize {
        self.known.len()
    }

    pub fn is_empty(&self) -> bool {
        self.known.is_empty()
    }

    /// How many known keys start with `prefix`.
    pub fn count_prefix(&self, prefix: &str) -> usize {
        self.known
            .range(prefix.to_string()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .count()
    }

    fn bump(&mut self, r: Revision) {
        self.last_revision = Some(self.last_revision.map_or(r, |l| l.max(r)));
    }

    /// Feed one watch event; returns what the consumer must apply.
    pub fn handle(&mut self, ev: WatchEvent, out: &mut Vec<KeyUpdate>) {
        match ev {
            WatchEvent::Put(kv) => {
                self.bump(kv.mod_revision);
                if let Some(unseen) = self.unseen.as_mut() {
                    unseen.remove(&kv.key);
                }
                if self.known.get(&kv.key) == Some(&kv.mod_revision) {
                    return; // replayed by a resync, unchanged
                }
                self.known.insert(kv.key.clone(), kv.mod_revision);
                out.push(KeyUpdate::Put {
                    key: kv.key,
                    value: kv.value,
                    revision: kv.mod_revision,
                });
            }
            WatchEvent::Delete { key, revision, .. } => {
                self.bump(revision);
                if let Some(unseen) = self.unseen.as_mut() {
                    unseen.remove(&key);
                }
                if self.known.remove(&key).is_some() {
                    out.push(KeyUpdate::Delete { key });
                }
            }
            WatchEvent::InSync { revision } => {
                self.bump(revision);
                if let Some(unseen) = self.unseen.take() {
                    for key in unseen {
                        if self.known.remove(&key).is_some() {
                            out.push(KeyUpdate::Delete { key });
                        }
                    }
                }
                if !self.in_sync {
                    self.in_sync = true;
                    out.push(KeyUpdate::InSync);
                }
            }
        }
    }
}

/// What [`Syncer::poll`] saw.
#[derive(Debug, PartialEq, Eq)]
pub enum Poll {
    /// Updates (possibly none after a timeout).
    Updates,
    /// The datastore cannot be reached right now; the syncer keeps retrying.
    Unavailable(String),
}

/// The watch owner. Call [`Syncer::poll`] in a loop; it never blocks longer than `wait`.
pub struct Syncer {
    backend: Arc<dyn Backend>,
    prefix: String,
    state: SyncState,
    watch: Option<Watch>,
    retry_at: Option<Instant>,
    backoff: Duration,
    /// The last watch ended with `Compacted`: the next one starts from a snapshot.
    need_snapshot: bool,
    /// Snapshot (re)starts, for `felix_resyncs_started`.
    pub resyncs_started: u64,
}

impl std::fmt::Debug for Syncer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Syncer")
            .field("prefix", &self.prefix)
            .field("in_sync", &self.state.in_sync)
            .finish()
    }
}

const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(3);

impl Syncer {
    pub fn new(backend: Arc<dyn Backend>, prefix: &str) -> Self {
        Self {
            backend,
            prefix: prefix.to_string(),
            state: SyncState::new(),
            watch: None,
            retry_at: None,
            backoff: BACKOFF_MIN,
            need_snapshot: false,
            resyncs_started: 0,
        }
    }

    pub fn state(&self) -> &SyncState {
        &self.state
    }

    fn open(&mut self) -> Result<(), DatastoreError> {
        if let Some(rev) = self.state.last_revision().filter(|_| !self.need_snapshot) {
            match self.backend.watch(&self.prefix, WatchFrom::After(rev)) {
                Ok(w) => {
                    self.watch = Some(w);
                    return Ok(());
                }
                Err(DatastoreError::Compacted { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        let w = self.backend.watch(&self.prefix, WatchFrom::Snapshot)?;
        self.state.start_snapshot();
        self.need_snapshot = false;
        self.resyncs_started += 1;
        self.watch = Some(w);
        Ok(())
    }

    /// Wait up to `wait` for events, then drain whatever else is already queued (up to
    /// `max_batch` events), appending the resulting updates to `out`.
    pub fn poll(&mut self, wait: Duration, max_batch: usize, out: &mut Vec<KeyUpdate>) -> Poll {
        if self.watch.is_none() {
            if let Some(at) = self.retry_at {
                let now = Instant::now();
                if now < at {
                    std::thread::sleep((at - now).min(wait));
                    return Poll::Updates;
                }
            }
            if let Err(e) = self.open() {
                self.retry_at = Some(Instant::now() + self.backoff);
                self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
                return Poll::Unavailable(e.to_string());
            }
            self.retry_at = None;
            self.backoff = BACKOFF_MIN;
        }
        let Some(watch) = self.watch.as_ref() else {
            return Poll::Updates;
        };
        let mut first = match watch.recv_timeout(wait) {
            Ok(None) => return Poll::Updates,
            Ok(Some(ev)) => Some(ev),
            Err(()) => {
                self.watch = None;
                return Poll::Updates;
            }
        };
        let mut n = 0;
        while let Some(ev) = first.take() {
            match ev {
                Ok(ev) => self.state.handle(ev, out),
                Err(e) => {
                    // Compacted (memory/embedded) or a broken stream: re-list next time.
                    self.watch = None;
                    if matches!(e, DatastoreError::Compacted { .. }) {
                        self.need_snapshot = true;
                    } else {
                        return Poll::Unavailable(e.to_string());
                    }
                    return Poll::Updates;
                }
            }
            n += 1;
            if n >= max_batch {
                break;
            }
            if let Some(w) = self.watch.as_ref() {
                match w.try_recv() {
                    Ok(Some(ev)) => first = Some(ev),
                    Ok(None) => {}
                    Err(()) => self.watch = None,
                }
            }
        }
        Poll::Updates
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use calico_datastore::{KeyValue, MemoryBackend};

    use super::*;

    fn put(key: &str, rev: Revision) -> WatchEvent {
        WatchEvent::Put(KeyValue {
            key: key.into(),
            value: format!("v{rev}").into_bytes(),
            create_revision: rev,
            mod_revision: rev,
        })
    }

    fn keys(out: &[KeyUpdate]) -> Vec<String> {
        out.iter()
            .map(|u| match u {
                KeyUpdate::Put { key, .. } => format!("put {key}"),
                KeyUpdate::Delete { key } => format!("del {key}"),
                KeyUpdate::InSync => "in-sync".into(),
            })
            .collect()
    }

    #[test]
    fn resync_emits_only_the_difference() {
        let mut s = SyncState::new();
        let mut out = Vec::new();
        s.start_snapshot();
        for ev in [
            put("/a", 1),
            put("/b", 2),
            put("/c", 3),
            WatchEvent::InSync { revision: 3 },
        ] {
            s.handle(ev, &mut out);
        }
        assert_eq!(keys(&out), ["put /a", "put /b", "put /c", "in-sync"]);
        out.clear();
        // The watch was lost and history compacted: a new snapshot where /b changed, /c
        // vanished and /d appeared.
        s.start_snapshot();
        for ev in [
            put("/a", 1),
            put("/b", 7),
            put("/d", 8),
            WatchEvent::InSync { revision: 9 },
        ] {
            s.handle(ev, &mut out);
        }
        assert_eq!(keys(&out), ["put /b", "put /d", "del /c"]);
        assert_eq!(s.last_revision(), Some(9));
        assert_eq!(s.len(), 3);
    }

    #[test]
    fn deletes_of_unknown_keys_are_dropped() {
        let mut s = SyncState::new();
        let mut out = Vec::new();
        s.handle(
            WatchEvent::Delete {
                key: "/x".into(),
                revision: 4,
                prev: None,
            },
            &mut out,
        );
        assert!(out.is_empty());
    }

    #[test]
    fn syncer_recovers_from_compaction_by_relisting() {
        let mem = Arc::new(MemoryBackend::new());
        mem.create("/calico/a", b"1").unwrap();
        mem.create("/calico/b", b"1").unwrap();
        let mut sy = Syncer::new(mem.clone(), "/calico/");
        let mut out = Vec::new();
        for _ in 0..20 {
            sy.poll(Duration::from_millis(50), 100, &mut out);
            if sy.state().in_sync() {
                break;
            }
        }
        assert_eq!(keys(&out), ["put /calico/a", "put /calico/b", "in-sync"]);
        assert_eq!(sy.resyncs_started, 1);
        // Drop the watch (as if it had ended), change things and compact the history away.
        sy.watch = None;
        out.clear();
        let b = mem.get("/calico/b").unwrap().unwrap();
        mem.delete("/calico/b", Some(b.mod_revision)).unwrap();
        mem.create("/calico/c", b"1").unwrap();
        let rev = mem.revision().unwrap();
        mem.compact(rev).unwrap();
        for _ in 0..20 {
            sy.poll(Duration::from_millis(50), 100, &mut out);
            if out.len() >= 2 {
                break;
            }
        }
        assert_eq!(keys(&out), ["put /calico/c", "del /calico/b"]);
        assert_eq!(sy.resyncs_started, 2);
    }
}
