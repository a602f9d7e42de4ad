//! Block affinities: recovery from interrupted claims and releases, pools that stop selecting a
//! node, explicit affinity release, and the check/repair of leftovers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use calico_ipam::{
    AffinityState, Block, BlockAffinity, Handle, IpamError, IpamStore, Pools, Record,
    ReleaseOptions,
};
use support::*;

fn affinity_state(ipam: &Engine, host: &str, cidr: &str) -> Option<AffinityState> {
    ipam.host_blocks(host)
        .unwrap()
        .into_iter()
        .find(|a| a.value.cidr.to_string() == cidr)
        .map(|a| a.value.state)
}

#[test]
fn an_interrupted_claim_is_finished_by_the_next_allocation() {
    let (ipam, _) = engine();
    let pools = Pools::new(vec![pool("p", "10.0.0.0/24", 26)]);
    let cidr = "10.0.0.128/26".parse().unwrap();
    // A claim that died after writing its pending affinity.
    ipam.store()
        .create(&Record::Affinity(BlockAffinity::new(
            "n1",
            cidr,
            AffinityState::Pending,
        )))
        .unwrap();
    let got = ipam.auto_assign(&pools, &args("h", "n1", 1, 0)).unwrap();
    assert_eq!(got.ipv4[0].block, cidr, "the pending block is used");
    assert_eq!(
        affinity_state(&ipam, "n1", "10.0.0.128/26"),
        Some(AffinityState::Confirmed)
    );
    assert_exact(&ipam, &pools);
}

#[test]
fn a_pending_deletion_with_the_block_still_ours_is_reconfirmed() {
    let (ipam, _) = engine();
    let pools = Pools::new(vec![pool("p", "10.0.0.0/24", 26)]);
    let first = ipam.auto_assign(&pools, &args("h1", "n1", 1, 0)).unwrap();
    let cidr = first.ipv4[0].block;
    let aff = ipam.host_blocks("n1").unwrap().remove(0);
    ipam.store()
        .update(
            &Record::Affinity(BlockAffinity::new(
                "n1",
                cidr,
                AffinityState::PendingDeletion,
            )),
            aff.revision,
        )
        .unwrap();
    let got = ipam.auto_assign(&pools, &args("h2", "n1", 1, 0)).unwrap();
    assert_eq!(got.ipv4[0].block, cidr);
    assert_eq!(
        affinity_state(&ipam, "n1", &cidr.to_string()),
        Some(AffinityState::Confirmed)
    );
    assert_exact(&ipam, &pools);
}

#[test]
fn a_stale_affinity_is_dropped() {
    let (ipam, _) = engine();
    let pools = Pools::new(vec![pool("p", "10.0.0.0/24", 26)]);
    let other = ipam.auto_assign(&pools, &args("h1", "n2", 1, 0)).unwrap();
    let cidr = other.ipv4[0].block;
    // n1 believes it owns n2's block.
    ipam.store()
        .create(&Record::Affinity(BlockAffinity::new(
            "n1",
            cidr,
            AffinityState::Confirmed,
        )))
        .unwrap();
    let got = ipam.auto_assign(&pools, &args("h2", "n1", 1, 0)).unwrap();
    assert_ne!(got.ipv4[0].block, cidr);
    assert_eq!(affinity_state(&ipam, "n1", &cidr.to_string()), None);
    assert_exact(&ipam, &pools);
}

#[test]
fn an_empty_block_in_a_pool_that_no_longer_selects_the_node_is_given_back() {
    let (ipam, _) = engine();
    let mut a = pool("a", "10.1.0.0/24", 26);
    a.node_selector = "zone == 'a'".parse().unwrap();
    let mut b = pool("b", "10.2.0.0/24", 26);
    b.node_selector = "zone == 'b'".parse().unwrap();
    let pools = Pools::new(vec![a, b]);
    let mut req = args("h1", "n1", 1, 0);
    req.node_labels.insert("zone".into(), "a".into());
    let got = ipam.auto_assign(&pools, &req).unwrap();
    ipam.release_by_handle("h1").unwrap();
    assert_eq!(
        ipam.host_blocks("n1").unwrap().len(),
        1,
        "last block kept while selected"
    );
    // The node moves to zone b.
    req.handle_id = "h2".into();
    req.node_labels.insert("zone".into(), "b".into());
    let again = ipam.auto_assign(&pools, &req).unwrap();
    assert!(pools.pools[1].cidr.contains(&again.ipv4[0].address));
    let blocks: Vec<_> = ipam.host_blocks("n1").unwrap();
    assert_eq!(blocks.len(), 1);
    assert_ne!(blocks[0].value.cidr, got.ipv4[0].block);
    assert_exact(&ipam, &pools);
}

#[test]
fn requesting_another_pool_keeps_blocks_of_pools_that_still_select_the_node() {
    let (ipam, _) = engine();
    let pools = Pools::new(vec![
        pool("a", "10.1.0.0/24", 26),
        pool("b", "10.2.0.0/24", 26),
    ]);
    let mut req = args("h1", "n1", 1, 0);
    req.ipv4_pools = vec!["a".into()];
    ipam.auto_assign(&pools, &req).unwrap();
    ipam.release_by_handle("h1").unwrap();
    req.ipv4_pools = vec!["b".into()];
    req.handle_id = "h2".into();
    ipam.auto_assign(&pools, &req).unwrap();
    assert_eq!(ipam.host_blocks("n1").unwrap().len(), 2);
}

#[test]
fn releasing_the_affinity_of_a_block_in_use_makes_its_addresses_borrowed() {
    let (ipam, _) = engine();
    let pools = Pools::new(vec![pool("p", "10.3.0.0/24", 26)]);
    let got = ipam.auto_assign(&pools, &args("h", "n1", 2, 0)).unwrap();
    let cidr = got.ipv4[0].block;
    assert!(matches!(
        ipam.release_block_affinity("n1", cidr, true),
        Err(IpamError::BlockNotEmpty { in_use: 2, .. })
    ));
    ipam.release_block_affinity("n1", cidr, false).unwrap();
    assert!(ipam.host_blocks("n1").unwrap().is_empty());
    let snap = ipam.snapshot().unwrap();
    assert_eq!(snap.blocks[0].value.affinity, None);
    assert_eq!(snap.allocations().len(), 2);
    // Releasing its last addresses deletes the unaffine block.
    let reqs: Vec<_> = got
        .ipv4
        .iter()
        .map(|a| ReleaseOptions::address(a.address))
        .collect();
    ipam.release_ips(&pools, &reqs).unwrap();
    assert!(ipam.snapshot().unwrap().blocks.is_empty());
    assert!(matches!(
        ipam.release_block_affinity("n1", cidr, true),
        Err(IpamError::NotAffine { .. })
    ));
    assert_exact(&ipam, &pools);
}

#[test]
fn release_host_affinities_skips_blocks_in_use() {
    let (ipam, _) = engine();
    let pools = Pools::new(vec![pool("p", "10.4.0.0/24", 28)]);
    ipam.auto_assign(&pools, &args("h", "n1", 16, 0)).unwrap();
    ipam.auto_assign(&pools, &args("h2", "n1", 1, 0)).unwrap();
    assert_eq!(ipam.host_blocks("n1").unwrap().len(), 2);
    assert!(ipam.release_host_affinities("n1", true).unwrap().is_empty());
    // Emptying a block that is not the node's last gives it back at once.
    ipam.release_by_handle("h2").unwrap();
    assert_eq!(ipam.host_blocks("n1").unwrap().len(), 1);
    // The last block stays until released explicitly.
    ipam.release_by_handle("h").unwrap();
    assert_eq!(ipam.host_blocks("n1").unwrap().len(), 1);
    assert_eq!(ipam.release_host_affinities("n1", true).unwrap().len(), 1);
    assert!(ipam.host_blocks("n1").unwrap().is_empty());
    assert!(ipam.snapshot().unwrap().blocks.is_empty());
    assert_exact(&ipam, &pools);
}

#[test]
fn check_reports_leaks_and_repair_removes_them() {
    let (ipam, _) = engine();
    let pools = Pools::new(vec![pool("p", "10.5.0.0/24", 26)]);
    let got = ipam.auto_assign(&pools, &args("h", "n1", 2, 0)).unwrap();
    let cidr = got.ipv4[0].block;
    let store = ipam.store();
    // A handle counted up by a process that died before writing the block.
    let mut ghost = Handle::new("ghost");
    ghost.adjust(cidr, 1);
    store.create(&Record::Handle(ghost)).unwrap();
    // An affinity left pending by an interrupted claim of a block someone else created.
    let other: ipnet::IpNet = ["10.5.0.0/26", "10.5.0.64/26"]
        .iter()
        .map(|c| c.parse().unwrap())
        .find(|c| *c != cidr)
        .unwrap();
    let blk = Block::new(other, Some("host:n2".into()), std::time::UNIX_EPOCH).unwrap();
    store.create(&Record::Block(blk)).unwrap();
    store
        .create(&Record::Affinity(BlockAffinity::new(
            "n1",
            other,
            AffinityState::Pending,
        )))
        .unwrap();
    let r = ipam.check_consistency(Some(&pools)).unwrap();
    assert!(r.is_consistent(), "{r:#?}");
    assert!(!r.is_exact());
    assert_eq!(r.leaks.len(), 3, "{:#?}", r.leaks); // ghost handle, stale affinity, n2's record
    let rep = ipam.repair_leaks().unwrap();
    assert_eq!(rep.handles_deleted, 1);
    assert_eq!(rep.affinities_deleted, 1);
    assert_eq!(rep.affinities_created, 1);
    assert_exact(&ipam, &pools);
    // A broken invariant is a problem, not a leak: a handle count below the allocations.
    let h = ipam
        .snapshot()
        .unwrap()
        .handles
        .into_iter()
        .find(|h| h.value.handle_id == "h")
        .unwrap();
    let mut low = h.value.clone();
    low.adjust(cidr, -1);
    store.update(&Record::Handle(low), h.revision).unwrap();
    let r = ipam.check_consistency(Some(&pools)).unwrap();
    assert_eq!(r.problems.len(), 1, "{r:#?}");
}
