//! Checks of single-key operations, revisions and listing.

use super::*;

pub fn create_then_get(new_client: &Factory<'_>) {
    let b = new_client();
    let k = format!("{}key", unique_prefix("create_then_get"));
    let before = b.revision().unwrap();
    let kv = b.create(&k, b"v1").unwrap();
    assert_eq!(kv.key, k);
    assert_eq!(kv.value, b"v1");
    assert_eq!(kv.create_revision, kv.mod_revision);
    assert!(
        kv.mod_revision > before,
        "a write gets a new, higher revision"
    );
    assert_eq!(b.get(&k).unwrap(), Some(kv.clone()));
    assert!(b.revision().unwrap() >= kv.mod_revision);
    assert_eq!(
        new_client().get(&k).unwrap(),
        Some(kv),
        "another client sees the write"
    );
}

pub fn create_existing_fails(new_client: &Factory<'_>) {
    let b = new_client();
    let k = format!("{}key", unique_prefix("create_existing_fails"));
    let kv = b.create(&k, b"first").unwrap();
    assert_eq!(
        b.create(&k, b"second"),
        Err(DatastoreError::AlreadyExists { key: k.clone() })
    );
    assert_eq!(
        b.get(&k).unwrap(),
        Some(kv),
        "a failed create changes nothing"
    );
}

pub fn get_missing_is_none(new_client: &Factory<'_>) {
    let b = new_client();
    let p = unique_prefix("get_missing_is_none");
    assert_eq!(b.get(&format!("{p}nothing")).unwrap(), None);
    assert!(b.list(&p).unwrap().kvs.is_empty());
}

pub fn update_semantics(new_client: &Factory<'_>) {
    let b = new_client();
    let k = format!("{}key", unique_prefix("update_semantics"));
    let not_found = Err(DatastoreError::NotFound { key: k.clone() });
    assert_eq!(b.update(&k, b"x", None), not_found);
    assert_eq!(b.update(&k, b"x", Some(1)), not_found);
    assert_eq!(b.get(&k).unwrap(), None, "a failed update creates nothing");

    let created = b.create(&k, b"v1").unwrap();
    let unconditional = b.update(&k, b"v2", None).unwrap();
    assert_eq!(unconditional.value, b"v2");
    assert_eq!(unconditional.create_revision, created.create_revision);
    assert!(unconditional.mod_revision > created.mod_revision);

    let cas = b
        .update(&k, b"v3", Some(unconditional.mod_revision))
        .unwrap();
    assert_eq!(cas.value, b"v3");
    assert_eq!(cas.create_revision, created.create_revision);
    assert!(cas.mod_revision > unconditional.mod_revision);
    assert_eq!(b.get(&k).unwrap(), Some(cas));
}

pub fn update_conflict(new_client: &Factory<'_>) {
    let b = new_client();
    let k = format!("{}key", unique_prefix("update_conflict"));
    let v1 = b.create(&k, b"v1").unwrap();
    let v2 = b.update(&k, b"v2", Some(v1.mod_revision)).unwrap();
    assert_eq!(
        b.update(&k, b"stale", Some(v1.mod_revision)),
        Err(DatastoreError::Conflict {
            key: k.clone(),
            expected: v1.mod_revision,
            actual: v2.mod_revision,
        })
    );
    assert_eq!(
        b.get(&k).unwrap(),
        Some(v2),
        "a conflicting update changes nothing"
    );
}

pub fn delete_semantics(new_client: &Factory<'_>) {
    let b = new_client();
    let p = unique_prefix("delete_semantics");
    let k = format!("{p}key");
    assert_eq!(
        b.delete(&k, None),
        Err(DatastoreError::NotFound { key: k.clone() })
    );

    let v1 = b.create(&k, b"v1").unwrap();
    let v2 = b.update(&k, b"v2", None).unwrap();
    assert_eq!(
        b.delete(&k, Some(v1.mod_revision)),
        Err(DatastoreError::Conflict {
            key: k.clone(),
            expected: v1.mod_revision,
            actual: v2.mod_revision,
        })
    );
    assert_eq!(
        b.get(&k).unwrap(),
        Some(v2.clone()),
        "a conflicting delete keeps the key"
    );

    let deleted = b.delete(&k, Some(v2.mod_revision)).unwrap();
    assert_eq!(deleted, v2, "delete returns the deleted pair");
    assert_eq!(b.get(&k).unwrap(), None);
    assert_eq!(
        b.delete(&k, None),
        Err(DatastoreError::NotFound { key: k.clone() })
    );
    assert!(
        b.revision().unwrap() > v2.mod_revision,
        "a delete gets a revision"
    );

    let again = b.create(&k, b"v3").unwrap();
    assert!(
        again.create_revision > v2.mod_revision,
        "re-creation starts a new life"
    );
    assert_eq!(again.create_revision, again.mod_revision);
    let gone = b.delete(&k, None).unwrap();
    assert_eq!(gone, again, "an unconditional delete also returns the pair");
    assert!(b.list(&p).unwrap().kvs.is_empty());
}

pub fn revisions_are_monotonic(new_client: &Factory<'_>) {
    let b = new_client();
    let p = unique_prefix("revisions_are_monotonic");
    let mut last = b.revision().unwrap();
    let mut created = BTreeMap::new();
    for i in 0..30 {
        let k = format!("{p}k{}", i % 3);
        let kv = match b.get(&k).unwrap() {
            None => {
                let kv = b.create(&k, format!("{i}").as_bytes()).unwrap();
                created.insert(k.clone(), kv.create_revision);
                kv
            }
            Some(cur) if i % 7 == 0 => {
                let old = b.delete(&k, Some(cur.mod_revision)).unwrap();
                let rev = b.revision().unwrap();
                assert!(rev > last && rev > old.mod_revision);
                last = rev;
                continue;
            }
            Some(cur) => b
                .update(&k, format!("{i}").as_bytes(), Some(cur.mod_revision))
                .unwrap(),
        };
        assert!(
            kv.mod_revision > last,
            "revision {} after {last}",
            kv.mod_revision
        );
        assert_eq!(
            Some(&kv.create_revision),
            created.get(&k),
            "create_revision is kept"
        );
        last = kv.mod_revision;
        assert!(b.revision().unwrap() >= last);
    }
}

pub fn values_are_opaque_bytes(new_client: &Factory<'_>) {
    let b = new_client();
    let p = unique_prefix("values_are_opaque_bytes");
    let all_bytes: Vec<u8> = (0..=255u8).collect();
    let big: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let cases: Vec<(String, Vec<u8>)> = vec![
        (format!("{p}empty"), Vec::new()),
        (format!("{p}all-bytes"), all_bytes),
        (format!("{p}big"), big),
        (format!("{p}ключ 🔑 with spaces"), b"unicode key".to_vec()),
    ];
    let watch = b.watch(&p, WatchFrom::Snapshot).unwrap();
    assert_eq!(until_in_sync(&watch).0, vec![]);
    for (k, v) in &cases {
        let kv = b.create(k, v).unwrap();
        assert_eq!(&kv.value, v);
        assert_eq!(b.get(k).unwrap().unwrap().value, *v, "{k}");
        match next_event(&watch) {
            WatchEvent::Put(ev) => assert_eq!(ev, kv),
            other => panic!("expected a put of {k}, got {other:?}"),
        }
    }
    let listed = b.list(&p).unwrap().kvs;
    let mut expected: Vec<_> = cases.iter().map(|(k, _)| k.as_str()).collect();
    expected.sort_unstable();
    assert_eq!(keys(&listed), expected);
    for kv in &listed {
        let want = &cases.iter().find(|(k, _)| *k == kv.key).unwrap().1;
        assert_eq!(&kv.value, want);
    }
    // An empty value is still a value, distinct from a missing key.
    let empty = b.update(&format!("{p}empty"), b"", None).unwrap();
    assert_eq!(b.get(&format!("{p}empty")).unwrap(), Some(empty));
}

pub fn list_prefix_is_literal(new_client: &Factory<'_>) {
    let b = new_client();
    let p = unique_prefix("list_prefix_is_literal");
    let names = ["a/b", "a/b.x", "a/b/1", "a/b/2", "a/b0", "a/bc", "a/c", "b"];
    let mut last = 0;
    for name in names.iter().rev() {
        last = b
            .create(&format!("{p}{name}"), name.as_bytes())
            .unwrap()
            .mod_revision;
    }
    let under = |prefix: &str| {
        let listed = b.list(&format!("{p}{prefix}")).unwrap();
        assert!(
            listed.revision >= last,
            "the list revision covers every write"
        );
        for kv in &listed.kvs {
            assert!(kv.mod_revision <= listed.revision);
            assert_eq!(kv.value, &kv.key.as_bytes()[p.len()..]);
        }
        listed
            .kvs
            .iter()
            .map(|kv| kv.key[p.len()..].to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(under("a/b/"), ["a/b/1", "a/b/2"]);
    assert_eq!(
        under("a/b"),
        ["a/b", "a/b.x", "a/b/1", "a/b/2", "a/b0", "a/bc"]
    );
    assert_eq!(under("a/b/1"), ["a/b/1"]);
    assert_eq!(
        under("a/"),
        ["a/b", "a/b.x", "a/b/1", "a/b/2", "a/b0", "a/bc", "a/c"]
    );
    assert_eq!(under(""), names, "sorted by key bytes");
    assert!(under("a/d").is_empty());
    assert!(under("a/b/1/").is_empty());
}
