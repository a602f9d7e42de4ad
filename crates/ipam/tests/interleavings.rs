//! Concurrency on the in-memory store, deterministically: several engines (two nodes, and two
//! processes on one node) run on their own threads while a random schedule decides which one's
//! next store operation goes first. Every interleaving of reads and compare-and-swap writes is
//! reachable, and proptest shrinks a failing schedule. Also: a "process" killed after any number
//! of writes leaves the store consistent (only leaks), and repair makes it exact.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeSet;
use std::net::IpAddr;

use calico_ipam::{AddrFilter, Ipam, IpamError, ManualClock, MemoryStore, Pools, ReleaseOptions};
use proptest::prelude::*;
use support::*;

type Task = Box<dyn FnOnce(Stepped<MemoryStore>) -> Vec<IpAddr> + Send>;

/// `per_actor` single-address allocations by each actor (`hosts[i]` is actor i's node).
fn allocators(hosts: &[&str], per_actor: usize, pools: &Pools, release_some: bool) -> Vec<Task> {
    hosts
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let host = host.to_string();
            let pools = pools.clone();
            Box::new(move |store: Stepped<MemoryStore>| {
                let ipam = Ipam::new(store, ManualClock::default());
                let mut mine = Vec::new();
                for k in 0..per_actor {
                    let handle = format!("a{i}-{k}");
                    match ipam.auto_assign(&pools, &args(&handle, &host, 1, 0)) {
                        Ok(got) => mine.extend(addrs(&got)),
                        Err(IpamError::Exhausted(_)) => {}
                        Err(e) => panic!("actor {i}: {e}"),
                    }
                    if release_some && k % 3 == 2 {
                        let h = format!("a{i}-{}", k - 1);
                        let freed = ipam.release_by_handle(&h).unwrap();
                        mine.retain(|a| !freed.contains(a));
                    }
                }
                mine
            }) as Task
        })
        .collect()
}

fn small_pools() -> Pools {
    // 4 blocks of 4 addresses.
    Pools::new(vec![pool("p", "10.0.0.0/28", 30)])
}

fn check_outcome(store: &MemoryStore, pools: &Pools, results: Vec<Vec<IpAddr>>) -> usize {
    let all: Vec<IpAddr> = results.into_iter().flatten().collect();
    assert_unique(&all);
    let ipam = Ipam::new(store.clone(), ManualClock::default());
    let stored = assert_exact(&ipam, pools);
    let mine: BTreeSet<IpAddr> = all.iter().copied().collect();
    assert_eq!(stored, mine, "every address accounted for");
    all.len()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    /// Two nodes racing for the same blocks: nobody gets an address twice, and since the pool
    /// has room for everyone, everyone succeeds.
    #[test]
    fn two_nodes_racing(schedule in prop::collection::vec(any::<u8>(), 0..400)) {
        let pools = small_pools();
        let store = MemoryStore::new();
        let results = Stepped::run(store.clone(), schedule, allocators(&["n1", "n2"], 7, &pools, false));
        prop_assert_eq!(check_outcome(&store, &pools, results), 14);
    }

    /// Two processes on one node and one on another, over-subscribing the pool: exactly the
    /// pool's 16 addresses are handed out, each once.
    #[test]
    fn oversubscribed(schedule in prop::collection::vec(any::<u8>(), 0..600)) {
        let pools = small_pools();
        let store = MemoryStore::new();
        let results = Stepped::run(store.clone(), schedule, allocators(&["n1", "n1", "n2"], 7, &pools, false));
        prop_assert_eq!(check_outcome(&store, &pools, results), 16);
    }

    /// Allocations and releases interleaved (blocks empty out and are given back while the
    /// other node claims): the store stays exact.
    #[test]
    fn churn(schedule in prop::collection::vec(any::<u8>(), 0..600)) {
        let pools = small_pools().with_reserved(AddrFilter::parse(["10.0.0.5"]).unwrap());
        let store = MemoryStore::new();
        let results = Stepped::run(store.clone(), schedule, allocators(&["n1", "n2", "n1"], 8, &pools, true));
        check_outcome(&store, &pools, results);
    }

    /// A process killed after `writes` store writes (during allocation or release) leaves only
    /// leaks; later operations work and repair makes the store exact.
    #[test]
    fn killed_mid_operation(
        writes in 0i64..40,
        before in 0usize..12,
        release_first in any::<bool>(),
        n in 1usize..9,
    ) {
        let pools = Pools::new(vec![pool("p", "10.0.0.0/27", 30), pool("v6", "fd00::/120", 126)]);
        let store = MemoryStore::new();
        let ipam = Ipam::new(store.clone(), ManualClock::default());
        for i in 0..before {
            ipam.auto_assign(&pools, &args(&format!("b{i}"), if i % 2 == 0 { "n1" } else { "n2" }, 1, 1)).unwrap();
        }
        let dying = Ipam::new(Crashing::new(store.clone(), writes), ManualClock::default());
        if release_first && before > 0 {
            let _ = dying.release_by_handle("b0");
            let addrs = ipam.ips_by_handle("b1").unwrap();
            let reqs: Vec<_> = addrs.into_iter().map(ReleaseOptions::address).collect();
            let _ = dying.release_ips(&pools, &reqs);
        }
        let _ = dying.auto_assign(&pools, &args("victim", "n1", n, 1));
        let report = ipam.check_consistency(Some(&pools)).unwrap();
        prop_assert!(report.is_consistent(), "{:#?}", report);
        // Life goes on: both nodes allocate; no duplicates.
        ipam.auto_assign(&pools, &args("after1", "n1", 2, 1)).unwrap();
        ipam.auto_assign(&pools, &args("after2", "n2", 2, 1)).unwrap();
        ipam.release_by_handle("victim").unwrap();
        let report = ipam.check_consistency(Some(&pools)).unwrap();
        prop_assert!(report.is_consistent(), "{:#?}", report);
        ipam.repair_leaks().unwrap();
        assert_exact(&ipam, &pools);
    }
}
