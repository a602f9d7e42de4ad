//! Checks with several clients racing: compare-and-swap, creates, and watches under load.

use super::*;

pub fn concurrent_cas_exactly_one_wins(new_client: &Factory<'_>) {
    const RACERS: usize = 8;
    let k = format!("{}key", unique_prefix("concurrent_cas_exactly_one_wins"));
    for round in 0..5 {
        let b = new_client();
        let rev0 = match b.get(&k).unwrap() {
            Some(kv) => kv.mod_revision,
            None => b.create(&k, b"start").unwrap().mod_revision,
        };
        let clients: Vec<_> = (0..RACERS).map(|_| new_client()).collect();
        let barrier = Barrier::new(RACERS);
        let results: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = clients
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let (k, barrier) = (&k, &barrier);
                    s.spawn(move || {
                        barrier.wait();
                        c.update(k, format!("r{round}-{i}").as_bytes(), Some(rev0))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let winners: Vec<&KeyValue> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(winners.len(), 1, "exactly one CAS wins: {results:?}");
        let winner = winners[0];
        for r in &results {
            match r {
                Ok(_) => {}
                Err(DatastoreError::Conflict {
                    key,
                    expected,
                    actual,
                }) => {
                    assert_eq!(key, &k);
                    assert_eq!(*expected, rev0);
                    assert_eq!(*actual, winner.mod_revision);
                }
                Err(e) => panic!("a losing CAS must be a Conflict, got {e}"),
            }
        }
        assert_eq!(b.get(&k).unwrap().as_ref(), Some(winner));
    }
}

/// Increment the decimal counter at `key` by one with a CAS-retry loop; returns the retries.
pub fn cas_increment(b: &dyn Backend, key: &str) -> u64 {
    let mut retries = 0;
    loop {
        let cur = b.get(key).unwrap().expect("the counter exists");
        let n: u64 = std::str::from_utf8(&cur.value).unwrap().parse().unwrap();
        match b.update(key, (n + 1).to_string().as_bytes(), Some(cur.mod_revision)) {
            Ok(_) => return retries,
            Err(DatastoreError::Conflict { .. }) => retries += 1,
            Err(e) => panic!("incrementing {key}: {e}"),
        }
    }
}

pub fn concurrent_counter_increments(new_client: &Factory<'_>) {
    const THREADS: usize = 4;
    const EACH: usize = 50;
    let k = format!("{}counter", unique_prefix("concurrent_counter_increments"));
    let b = new_client();
    let start = b.create(&k, b"0").unwrap();
    let clients: Vec<_> = (0..THREADS).map(|_| new_client()).collect();
    std::thread::scope(|s| {
        for c in &clients {
            let k = &k;
            s.spawn(move || {
                for _ in 0..EACH {
                    cas_increment(c.as_ref(), k);
                }
            });
        }
    });
    let end = b.get(&k).unwrap().unwrap();
    assert_eq!(end.value, (THREADS * EACH).to_string().as_bytes());
    assert_eq!(end.create_revision, start.create_revision);
    assert!(end.mod_revision - start.mod_revision >= (THREADS * EACH) as Revision);
}

pub fn concurrent_creates(new_client: &Factory<'_>) {
    const THREADS: usize = 4;
    const EACH: usize = 25;
    let p = unique_prefix("concurrent_creates");
    let shared = format!("{p}shared");
    let clients: Vec<_> = (0..THREADS).map(|_| new_client()).collect();
    let barrier = Barrier::new(THREADS);
    let won: usize = std::thread::scope(|s| {
        let handles: Vec<_> = clients
            .iter()
            .enumerate()
            .map(|(t, c)| {
                let (p, shared, barrier) = (&p, &shared, &barrier);
                s.spawn(move || {
                    barrier.wait();
                    let won = match c.create(shared, format!("{t}").as_bytes()) {
                        Ok(_) => 1,
                        Err(DatastoreError::AlreadyExists { .. }) => 0,
                        Err(e) => panic!("creating {shared}: {e}"),
                    };
                    for i in 0..EACH {
                        c.create(&format!("{p}t{t}/{i:03}"), b"v").unwrap();
                    }
                    won
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(won, 1, "exactly one create of the shared key wins");
    let listed = new_client().list(&p).unwrap().kvs;
    assert_eq!(listed.len(), THREADS * EACH + 1);
    let revs: BTreeSet<_> = listed.iter().map(|kv| kv.mod_revision).collect();
    assert_eq!(revs.len(), listed.len(), "every write has its own revision");
}

/// What [`run_writers`] wrote.
struct Written {
    /// The revision of every create and update.
    puts: BTreeSet<Revision>,
    deletes: usize,
}

/// Four clients for [`run_writers`].
fn writer_clients(new_client: &Factory<'_>) -> Vec<Box<dyn Backend>> {
    (0..4).map(|_| new_client()).collect()
}

/// Run one writer thread per client under `p` (creates, updates, deletes of 5 keys each, 25
/// writes each).
fn run_writers(clients: &[Box<dyn Backend>], p: &str) -> Written {
    const EACH: usize = 25;
    let per_thread: Vec<(Vec<Revision>, usize)> = std::thread::scope(|s| {
        let handles: Vec<_> = clients
            .iter()
            .enumerate()
            .map(|(t, c)| {
                s.spawn(move || {
                    let (mut puts, mut deletes) = (Vec::new(), 0);
                    for i in 0..EACH {
                        let k = format!("{p}t{t}/k{}", i % 5);
                        let value = format!("{i}");
                        match c.get(&k).unwrap() {
                            None => puts.push(c.create(&k, value.as_bytes()).unwrap().mod_revision),
                            Some(kv) if i % 4 == 3 => {
                                c.delete(&k, Some(kv.mod_revision)).unwrap();
                                deletes += 1;
                            }
                            Some(kv) => puts.push(
                                c.update(&k, value.as_bytes(), Some(kv.mod_revision))
                                    .unwrap()
                                    .mod_revision,
                            ),
                        }
                    }
                    (puts, deletes)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    Written {
        puts: per_thread
            .iter()
            .flat_map(|(p, _)| p.iter().copied())
            .collect(),
        deletes: per_thread.iter().map(|(_, d)| d).sum(),
    }
}

/// Feed events into `model` until the put of `sentinel` arrives; checks revision order and
/// returns the put revisions and the number of deletes seen (the sentinel excluded).
fn follow_until(
    w: &Watch,
    model: &mut BTreeMap<String, KeyValue>,
    mut last: Revision,
    sentinel: &KeyValue,
) -> (BTreeSet<Revision>, usize) {
    let (mut puts, mut deletes) = (BTreeSet::new(), 0);
    loop {
        let ev = next_event(w);
        if let WatchEvent::InSync { .. } = ev {
            continue;
        }
        let rev = event_revision(&ev);
        assert!(
            rev > last,
            "events arrive in revision order: {rev} after {last}"
        );
        last = rev;
        apply(model, &ev);
        match ev {
            WatchEvent::Put(kv) if kv == *sentinel => return (puts, deletes),
            WatchEvent::Put(kv) => assert!(puts.insert(kv.mod_revision), "duplicate {kv:?}"),
            _ => deletes += 1,
        }
    }
}

pub fn watch_sees_concurrent_writes_in_order(new_client: &Factory<'_>) {
    let p = unique_prefix("watch_sees_concurrent_writes_in_order");
    let watcher = new_client();
    let rev0 = watcher.revision().unwrap();
    let w = watcher.watch(&p, WatchFrom::After(rev0)).unwrap();
    let written = run_writers(&writer_clients(new_client), &p);
    let sentinel = watcher.create(&format!("{p}~sentinel"), b"end").unwrap();
    let mut model = BTreeMap::new();
    let (puts, deletes) = follow_until(&w, &mut model, rev0, &sentinel);
    assert_eq!(
        puts, written.puts,
        "every create and update is delivered exactly once"
    );
    assert_eq!(
        deletes, written.deletes,
        "every delete is delivered exactly once"
    );
    expect_quiet(&w, Duration::from_millis(200));
    let listed = watcher.list(&p).unwrap().kvs;
    assert_eq!(model.into_values().collect::<Vec<_>>(), listed);
}

pub fn watch_snapshot_during_writes_converges(new_client: &Factory<'_>) {
    let p = unique_prefix("watch_snapshot_during_writes_converges");
    let seed = new_client();
    for i in 0..10 {
        seed.create(&format!("{p}seed/{i}"), b"s").unwrap();
    }
    let watcher = new_client();
    let clients = writer_clients(new_client);
    let w = std::thread::scope(|s| {
        s.spawn(|| run_writers(&clients, &p));
        std::thread::sleep(Duration::from_millis(2));
        watcher.watch(&p, WatchFrom::Snapshot).unwrap()
    });
    let sentinel = seed.create(&format!("{p}~sentinel"), b"end").unwrap();
    let mut model = BTreeMap::new();
    let (snapshot, in_sync) = until_in_sync(&w);
    let snapshot_keys: Vec<_> = snapshot
        .iter()
        .map(|ev| match ev {
            WatchEvent::Put(kv) => {
                assert!(
                    kv.mod_revision <= in_sync,
                    "a snapshot entry is not newer than InSync"
                );
                kv.key.clone()
            }
            other => panic!("a snapshot holds only puts, got {other:?}"),
        })
        .collect();
    let mut sorted = snapshot_keys.clone();
    sorted.sort();
    assert_eq!(snapshot_keys, sorted, "the snapshot is sorted by key");
    for ev in &snapshot {
        apply(&mut model, ev);
    }
    if model.get(&sentinel.key) != Some(&sentinel) {
        follow_until(&w, &mut model, in_sync, &sentinel);
    }
    let listed = seed.list(&p).unwrap().kvs;
    assert_eq!(model.into_values().collect::<Vec<_>>(), listed);
}
