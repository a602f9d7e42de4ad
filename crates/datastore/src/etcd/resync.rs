//! The pure part of watch recovery: the consumer's view of a prefix as `key → mod_revision`,
//! and the events that bring that view to a fresh listing when the change history it would
//! have replayed has been compacted away.

use std::collections::{HashMap, HashSet};

use crate::backend::{KeyValue, Revision, WatchEvent};

/// What the consumer of one watch has been told exists: key → `mod_revision`.
pub(crate) type Known = HashMap<String, Revision>;

/// Build the view from a listing.
pub(crate) fn known_from(kvs: &[KeyValue]) -> Known {
    kvs.iter()
        .map(|kv| (kv.key.clone(), kv.mod_revision))
        .collect()
}

/// Apply one delivered event to the view.
pub(crate) fn apply(known: &mut Known, event: &WatchEvent) {
    match event {
        WatchEvent::Put(kv) => {
            known.insert(kv.key.clone(), kv.mod_revision);
        }
        WatchEvent::Delete { key, .. } => {
            known.remove(key);
        }
        WatchEvent::InSync { .. } => {}
    }
}

/// Does the view equal a listing (same keys, same `mod_revision`s)?
pub(crate) fn matches(known: &Known, kvs: &[KeyValue]) -> bool {
    kvs.len() == known.len()
        && kvs
            .iter()
            .all(|kv| known.get(&kv.key) == Some(&kv.mod_revision))
}

/// The events that turn the view into `current` (a listing at `revision`, sorted by key):
/// `Put` for new or changed keys in key order, `Delete` (at `revision`, no previous value) for
/// vanished keys in key order, then `InSync { revision }`. Updates the view.
pub(crate) fn diff(
    known: &mut Known,
    current: Vec<KeyValue>,
    revision: Revision,
) -> Vec<WatchEvent> {
    let mut events = Vec::new();
    let mut present = HashSet::with_capacity(current.len());
    for kv in current {
        present.insert(kv.key.clone());
        if known.get(&kv.key) != Some(&kv.mod_revision) {
            known.insert(kv.key.clone(), kv.mod_revision);
            events.push(WatchEvent::Put(kv));
        }
    }
    let mut gone: Vec<String> = known
        .keys()
        .filter(|k| !present.contains(*k))
        .cloned()
        .collect();
    gone.sort();
    for key in gone {
        known.remove(&key);
        events.push(WatchEvent::Delete {
            key,
            revision,
            prev: None,
        });
    }
    events.push(WatchEvent::InSync { revision });
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(key: &str, rev: Revision) -> KeyValue {
        KeyValue {
            key: key.to_owned(),
            value: format!("v{rev}").into_bytes(),
            create_revision: 1,
            mod_revision: rev,
        }
    }

    #[test]
    fn diff_emits_changes_deletions_and_in_sync() {
        let mut known = known_from(&[kv("/a", 2), kv("/b", 3), kv("/c", 4)]);
        let events = diff(&mut known, vec![kv("/a", 2), kv("/c", 9), kv("/d", 8)], 10);
        assert_eq!(
            events,
            vec![
                WatchEvent::Put(kv("/c", 9)),
                WatchEvent::Put(kv("/d", 8)),
                WatchEvent::Delete {
                    key: "/b".to_owned(),
                    revision: 10,
                    prev: None
                },
                WatchEvent::InSync { revision: 10 },
            ]
        );
        assert!(matches(&known, &[kv("/a", 2), kv("/c", 9), kv("/d", 8)]));
        // A second resync against the same state changes nothing.
        let again = diff(&mut known, vec![kv("/a", 2), kv("/c", 9), kv("/d", 8)], 11);
        assert_eq!(again, vec![WatchEvent::InSync { revision: 11 }]);
    }

    #[test]
    fn apply_tracks_puts_and_deletes() {
        let mut known = Known::new();
        apply(&mut known, &WatchEvent::Put(kv("/a", 5)));
        assert!(matches(&known, &[kv("/a", 5)]));
        apply(
            &mut known,
            &WatchEvent::Delete {
                key: "/a".to_owned(),
                revision: 6,
                prev: None,
            },
        );
        assert!(matches(&known, &[]));
        assert!(!matches(&known, &[kv("/a", 5)]));
    }
}
