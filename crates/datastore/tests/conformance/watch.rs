//! Checks of watches: snapshots, replay, prefixes, cancellation and compaction.

use super::*;

pub fn watch_snapshot_then_changes(new_client: &Factory<'_>) {
    let b = new_client();
    let p = unique_prefix("watch_snapshot_then_changes");
    let outside = format!("{}other", unique_prefix("watch_snapshot_then_changes"));
    let a = b.create(&format!("{p}a"), b"a1").unwrap();
    let bb = b.create(&format!("{p}b"), b"b1").unwrap();
    b.create(&outside, b"x").unwrap();

    let w = new_client().watch(&p, WatchFrom::Snapshot).unwrap();
    let (snapshot, in_sync) = until_in_sync(&w);
    assert_eq!(
        snapshot,
        vec![WatchEvent::Put(a.clone()), WatchEvent::Put(bb.clone())]
    );
    assert!(in_sync >= bb.mod_revision);

    let a2 = b.update(&a.key, b"a2", Some(a.mod_revision)).unwrap();
    let deleted = b.delete(&bb.key, None).unwrap();
    let delete_rev = b.revision().unwrap();
    b.update(&outside, b"y", None).unwrap();
    let c = b.create(&format!("{p}c"), b"c1").unwrap();
    assert_eq!(next_event(&w), WatchEvent::Put(a2));
    let del = next_event(&w);
    assert_delete(&del, &deleted, event_revision(&del));
    assert!(event_revision(&del) <= delete_rev && event_revision(&del) > a.mod_revision);
    assert_eq!(next_event(&w), WatchEvent::Put(c));
    expect_quiet(&w, Duration::from_millis(300));
}

pub fn watch_after_replays_history(new_client: &Factory<'_>) {
    let b = new_client();
    let p = unique_prefix("watch_after_replays_history");
    let rev0 = b.revision().unwrap();
    let k1 = b.create(&format!("{p}1"), b"one").unwrap();
    let k1b = b.update(&k1.key, b"uno", None).unwrap();
    let k2 = b.create(&format!("{p}2"), b"two").unwrap();
    let gone = b.delete(&k1.key, Some(k1b.mod_revision)).unwrap();
    let k3 = b.create(&format!("{p}3"), b"three").unwrap();

    let w = new_client().watch(&p, WatchFrom::After(rev0)).unwrap();
    let (events, in_sync) = until_in_sync(&w);
    assert_eq!(events.len(), 5, "{events:?}");
    assert_eq!(events[0], WatchEvent::Put(k1.clone()));
    assert_eq!(events[1], WatchEvent::Put(k1b.clone()));
    assert_eq!(events[2], WatchEvent::Put(k2.clone()));
    assert_delete(&events[3], &gone, event_revision(&events[3]));
    assert!(event_revision(&events[3]) > k2.mod_revision);
    assert_eq!(events[4], WatchEvent::Put(k3.clone()));
    assert!(in_sync >= k3.mod_revision);

    let live = b.update(&k2.key, b"deux", None).unwrap();
    assert_eq!(next_event(&w), WatchEvent::Put(live.clone()));

    // Resuming after the second change replays only the later ones.
    let w2 = new_client()
        .watch(&p, WatchFrom::After(k1b.mod_revision))
        .unwrap();
    let (events, _) = until_in_sync(&w2);
    let revs: Vec<_> = events.iter().map(event_revision).collect();
    assert_eq!(revs.len(), 4, "{events:?}");
    assert_eq!(revs[0], k2.mod_revision);
    assert_eq!(*revs.last().unwrap(), live.mod_revision);

    // Resuming at the newest revision replays nothing.
    let w3 = new_client()
        .watch(&p, WatchFrom::After(live.mod_revision))
        .unwrap();
    let (events, in_sync) = until_in_sync(&w3);
    assert!(events.is_empty(), "{events:?}");
    assert!(in_sync >= live.mod_revision);
}

pub fn watch_prefix_ignores_other_keys(new_client: &Factory<'_>) {
    let b = new_client();
    let p = unique_prefix("watch_prefix_ignores_other_keys");
    let w = new_client()
        .watch(&format!("{p}x/"), WatchFrom::Snapshot)
        .unwrap();
    assert!(until_in_sync(&w).0.is_empty());
    for k in ["x", "xy", "y/1", "x0", "w/x/1"] {
        b.create(&format!("{p}{k}"), b"no").unwrap();
    }
    let hit = b.create(&format!("{p}x/1"), b"yes").unwrap();
    assert_eq!(next_event(&w), WatchEvent::Put(hit));
    b.delete(&format!("{p}x"), None).unwrap();
    expect_quiet(&w, Duration::from_millis(300));
}

pub fn watch_drop_stops(new_client: &Factory<'_>) {
    let b = new_client();
    let p = unique_prefix("watch_drop_stops");
    for i in 0..20 {
        let w = b.watch(&p, WatchFrom::Snapshot).unwrap();
        until_in_sync(&w);
        b.create(&format!("{p}{i}"), b"v").unwrap();
        drop(w);
    }
    // Writes keep working with no one watching, and a new watch sees everything.
    b.create(&format!("{p}last"), b"v").unwrap();
    let w = b.watch(&p, WatchFrom::Snapshot).unwrap();
    assert_eq!(until_in_sync(&w).0.len(), 21);
}

pub fn watch_reports_compaction(new_client: &Factory<'_>) {
    let b = new_client();
    let k = format!("{}key", unique_prefix("watch_reports_compaction"));
    let mut revs = vec![b.create(&k, b"0").unwrap().mod_revision];
    for i in 1..5 {
        revs.push(
            b.update(&k, format!("{i}").as_bytes(), None)
                .unwrap()
                .mod_revision,
        );
    }
    let future = b.revision().unwrap() + 1_000;
    assert!(
        b.compact(future).is_err(),
        "compacting to a future revision is refused"
    );
    b.compact(revs[2]).unwrap();

    let w = b.watch(&k, WatchFrom::After(revs[0])).unwrap();
    match w.recv_timeout(EVENT_TIMEOUT) {
        Ok(Some(Err(DatastoreError::Compacted { requested, oldest }))) => {
            assert_eq!(requested, revs[0]);
            assert_eq!(oldest, revs[2]);
        }
        other => panic!("expected Compacted, got {other:?}"),
    }
    let deadline = Instant::now() + EVENT_TIMEOUT;
    loop {
        match w.recv_timeout(Duration::from_millis(50)) {
            Err(()) => break,
            Ok(None) if Instant::now() < deadline => {}
            other => panic!("a compacted watch must end, got {other:?}"),
        }
    }

    // The oldest revision still kept can be watched from.
    let w = b.watch(&k, WatchFrom::After(revs[2] - 1)).unwrap();
    let (events, _) = until_in_sync(&w);
    let got: Vec<_> = events.iter().map(event_revision).collect();
    assert_eq!(got, revs[2..].to_vec());
    // Compacting again to an older revision is harmless.
    b.compact(revs[1]).unwrap();
    assert_eq!(
        b.get(&k).unwrap().unwrap().value,
        b"4",
        "compaction keeps the state"
    );
}
