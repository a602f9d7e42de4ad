//! Exhaustion: the error says which pools were tried and why, and nothing stays half-claimed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use calico_ipam::{
    IntendedUse, IpamConfig, IpamError, IpamStore, PoolInfo, PoolOutcome, Pools, RecordKey,
};
use support::*;

fn exhaustion(e: IpamError) -> calico_ipam::Exhaustion {
    match e {
        IpamError::Exhausted(x) => *x,
        other => panic!("expected an exhaustion error, got {other}"),
    }
}

#[test]
fn small_pool_29_with_block_size_30() {
    let (ipam, _) = engine();
    let pools = Pools::new(vec![pool("small", "10.0.0.0/29", 30)]);
    // Two blocks of four: node n1 takes all eight.
    let got = ipam.auto_assign(&pools, &args("a", "n1", 8, 0)).unwrap();
    assert_eq!(got.ipv4.len(), 8);
    let err = ipam
        .auto_assign(&pools, &args("b", "n1", 1, 0))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Assigned 0 out of 1 requested IPv4 addresses; No IPs available in pools: \
         [10.0.0.0/29]; pools tried for node n1: small (10.0.0.0/29): full"
    );
    // Another node: no block to claim, nothing to borrow.
    let e = exhaustion(
        ipam.auto_assign(&pools, &args("c", "n2", 1, 0))
            .unwrap_err(),
    );
    assert_eq!(e.pools[0].outcome, PoolOutcome::Full);
    assert!(ipam.ips_by_handle("b").unwrap().is_empty());
    assert!(
        ipam.host_blocks("n2").unwrap().is_empty(),
        "no affinity left for n2"
    );
    assert_eq!(assert_exact(&ipam, &pools).len(), 8);
}

#[test]
fn a_request_larger_than_the_pool_leaves_nothing_behind() {
    let (ipam, _) = engine();
    let pools = Pools::new(vec![pool("small", "10.0.0.0/29", 30)]);
    ipam.auto_assign(&pools, &args("a", "n1", 3, 0)).unwrap();
    let before = ipam.snapshot().unwrap();
    let e = exhaustion(
        ipam.auto_assign(&pools, &args("big", "n2", 9, 0))
            .unwrap_err(),
    );
    assert_eq!((e.requested, e.found), (9, 5));
    assert!(
        e.to_string().contains("the 5 found were released again"),
        "{e}"
    );
    assert!(ipam.ips_by_handle("big").unwrap().is_empty());
    let after = ipam.snapshot().unwrap();
    assert_eq!(after.allocations(), before.allocations());
    assert_exact(&ipam, &pools);
}

#[test]
fn disabled_pool() {
    let (ipam, _) = engine();
    let mut p = pool("off", "10.1.0.0/24", 26);
    p.disabled = true;
    let pools = Pools::new(vec![p]);
    let err = ipam
        .auto_assign(&pools, &args("a", "n1", 1, 0))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Assigned 0 out of 1 requested IPv4 addresses; no configured Calico pools for node n1; \
         pools tried for node n1: off (10.1.0.0/24): disabled"
    );
    let mut named = args("a", "n1", 1, 0);
    named.ipv4_pools = vec!["off".into()];
    assert_eq!(
        ipam.auto_assign(&pools, &named).unwrap_err(),
        IpamError::PoolNotFound { pool: "off".into() }
    );
    assert!(ipam.snapshot().unwrap().blocks.is_empty());
}

#[test]
fn node_selector_excludes_the_node() {
    let (ipam, _) = engine();
    let mut p = pool("zone-b", "10.2.0.0/24", 26);
    p.node_selector = "zone == 'b'".parse().unwrap();
    let mut open = pool("other", "10.3.0.0/24", 26);
    open.disabled = true;
    let pools = Pools::new(vec![p, open]);
    let mut req = args("a", "n1", 1, 0);
    req.node_labels.insert("zone".into(), "a".into());
    let e = exhaustion(ipam.auto_assign(&pools, &req).unwrap_err());
    assert_eq!(
        e.pools[0].outcome,
        PoolOutcome::NodeNotSelected {
            selector: "zone == \"b\"".into()
        }
    );
    assert!(
        e.to_string().contains(
            "zone-b (10.2.0.0/24): nodeSelector \"zone == \\\"b\\\"\" does not select the node"
        ),
        "{e}"
    );
    assert_eq!(e.pools[1].outcome, PoolOutcome::Disabled);
    // The same node with the right label gets an address.
    req.node_labels.insert("zone".into(), "b".into());
    assert_eq!(ipam.auto_assign(&pools, &req).unwrap().ipv4.len(), 1);
}

#[test]
fn allowed_uses_filter_pools() {
    let (ipam, _) = engine();
    let mut p = pool("tunnels-only", "10.4.0.0/24", 26);
    p.allowed_uses = vec![IntendedUse::Tunnel];
    let pools = Pools::new(vec![p]);
    let err = ipam
        .auto_assign(&pools, &args("a", "n1", 1, 0))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("cannot find a qualified ippool, no pools match the required use (Workload)"),
        "{err}"
    );
    let mut tunnel = args("ipip-tunnel-addr-n1", "n1", 1, 0);
    tunnel.intended_use = IntendedUse::Tunnel;
    assert_eq!(ipam.auto_assign(&pools, &tunnel).unwrap().ipv4.len(), 1);
}

#[test]
fn ipv6_small_pool_exhausts() {
    let (ipam, _) = engine();
    let pools = Pools::new(vec![pool("v6", "fd00::/126", 127)]);
    let got = ipam.auto_assign(&pools, &args("a", "n1", 0, 4)).unwrap();
    assert_eq!(got.ipv6.len(), 4);
    let err = ipam
        .auto_assign(&pools, &args("b", "n2", 0, 1))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Assigned 0 out of 1 requested IPv6 addresses; No IPs available in pools: [fd00::/126]; \
         pools tried for node n2: v6 (fd00::/126): full"
    );
    // No IPv6 pool at all.
    let v4_only = Pools::new(vec![pool("v4", "10.0.0.0/24", 26)]);
    let err = ipam
        .auto_assign(&v4_only, &args("c", "n1", 0, 1))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("no configured Calico pools for node n1")
    );
}

#[test]
fn block_limit() {
    let (ipam, _) = engine();
    ipam.set_config(IpamConfig {
        strict_affinity: true,
        auto_allocate_blocks: true,
        max_blocks_per_host: 2,
    })
    .unwrap();
    let pools = Pools::new(vec![pool("p", "10.5.0.0/24", 28)]);
    ipam.auto_assign(&pools, &args("a", "n1", 32, 0)).unwrap();
    let e = exhaustion(
        ipam.auto_assign(&pools, &args("b", "n1", 1, 0))
            .unwrap_err(),
    );
    assert_eq!(e.pools[0].outcome, PoolOutcome::BlockLimit { limit: 2 });
    assert!(
        e.to_string().contains(
            "Need to allocate an IPAM block but could not - limit of 2 blocks reached for this node"
        ),
        "{e}"
    );
    // The per-request limit applies when stricter.
    let mut req = args("c", "n2", 17, 0);
    req.max_blocks_per_host = 1;
    let e = exhaustion(ipam.auto_assign(&pools, &req).unwrap_err());
    assert_eq!(e.pools[0].outcome, PoolOutcome::BlockLimit { limit: 1 });
    assert!(ipam.ips_by_handle("c").unwrap().is_empty());
    assert_exact(&ipam, &pools);
}

#[test]
fn default_block_limit_is_20_without_borrowing() {
    let (ipam, _) = engine();
    let pools = Pools::new(vec![pool("p", "10.6.0.0/16", 30)]);
    ipam.auto_assign(&pools, &args("a", "n1", 80, 0)).unwrap();
    assert_eq!(ipam.host_blocks("n1").unwrap().len(), 20);
    let e = exhaustion(
        ipam.auto_assign(&pools, &args("b", "n1", 1, 0))
            .unwrap_err(),
    );
    assert_eq!(e.pools[0].outcome, PoolOutcome::BlockLimit { limit: 20 });
}

#[test]
fn strict_affinity_never_borrows() {
    let (ipam, _) = engine();
    let pools = Pools::new(vec![pool("p", "10.7.0.0/29", 30)]);
    // n1 holds both blocks: one full, one with three free addresses.
    ipam.auto_assign(&pools, &args("a", "n1", 5, 0)).unwrap();
    ipam.set_config(IpamConfig {
        strict_affinity: true,
        ..IpamConfig::default()
    })
    .unwrap();
    let e = exhaustion(
        ipam.auto_assign(&pools, &args("b", "n2", 1, 0))
            .unwrap_err(),
    );
    assert_eq!(e.pools[0].outcome, PoolOutcome::StrictAffinity);
    assert!(
        e.to_string()
            .contains("No more free affine blocks and strict affinity enabled"),
        "{e}"
    );
    // Without strict affinity n2 borrows one of n1's free addresses.
    ipam.set_config(IpamConfig::default()).unwrap();
    let got = ipam.auto_assign(&pools, &args("b", "n2", 3, 0)).unwrap();
    assert_eq!(got.ipv4.len(), 3);
    assert!(
        ipam.host_blocks("n2").unwrap().is_empty(),
        "borrowing claims nothing"
    );
    assert_exact(&ipam, &pools);
}

#[test]
fn an_idle_empty_block_of_another_node_is_reclaimed_after_a_minute() {
    let (ipam, clock) = engine();
    let pools = Pools::new(vec![pool("p", "10.8.0.0/29", 30)]);
    ipam.auto_assign(&pools, &args("a", "n1", 8, 0)).unwrap();
    // n1 empties one of its two blocks but keeps its affinity to it.
    let a = ipam.ips_by_handle("a").unwrap();
    let first_block: Vec<_> = a
        .iter()
        .filter(|ip| pools.block_for(**ip) == pools.block_for(a[0]))
        .map(|ip| calico_ipam::ReleaseOptions::address(*ip))
        .collect();
    let mut opts = *ipam.options();
    opts.release_empty_blocks = false;
    let keep = calico_ipam::Ipam::with_options(ipam.store().clone(), clock.clone(), opts);
    keep.release_ips(&pools, &first_block).unwrap();
    assert_eq!(ipam.host_blocks("n1").unwrap().len(), 2);
    // With strict affinity n2 cannot borrow; n1's claim is too recent to take over.
    ipam.set_config(IpamConfig {
        strict_affinity: true,
        ..IpamConfig::default()
    })
    .unwrap();
    let e = exhaustion(
        ipam.auto_assign(&pools, &args("b", "n2", 1, 0))
            .unwrap_err(),
    );
    assert_eq!(e.pools[0].outcome, PoolOutcome::StrictAffinity);
    clock.advance(Duration::from_secs(61));
    let got = ipam.auto_assign(&pools, &args("b", "n2", 4, 0)).unwrap();
    assert_eq!(got.ipv4.len(), 4);
    assert_eq!(ipam.host_blocks("n2").unwrap().len(), 1);
    assert_eq!(ipam.host_blocks("n1").unwrap().len(), 1);
    assert_exact(&ipam, &pools);
}

#[test]
fn unusable_pools_are_reported() {
    let (ipam, _) = engine();
    let mut pools = Pools::new(vec![]);
    pools
        .unusable
        .push(("broken".into(), "blockSize 40 is out of range".into()));
    let err = ipam
        .auto_assign(&pools, &args("a", "n1", 1, 0))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("broken: unusable: blockSize 40 is out of range"),
        "{err}"
    );
    assert!(PoolInfo::with_block_size("x", "10.0.0.0/24".parse().unwrap(), 23).is_err());
    assert!(ipam.store().get(&RecordKey::Config).unwrap().is_none());
}
