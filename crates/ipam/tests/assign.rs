//! Assignment and release on the in-memory store: affine blocks, IPv4 and IPv6, named pools,
//! specific addresses, reservations, handles and attributes, release twice, empty blocks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeMap;
use std::net::IpAddr;

use calico_ipam::{
    AddrFilter, AffinityState, AssignIpArgs, IntendedUse, IpamError, IpamStore, Listing, PoolInfo,
    Pools, ReleaseOptions, ReleaseRefusal, attrs, cni_handle,
};
use support::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn first_allocations_fill_one_affine_block_in_order() {
    let (ipam, _) = engine();
    let pools = Pools::new(vec![pool("p", "10.0.0.0/24", 28)]);
    let mut seen = Vec::new();
    for i in 0..16 {
        let got = ipam
            .auto_assign(&pools, &args(&cni_handle(&format!("c{i}")), "n1", 1, 0))
            .unwrap();
        seen.push(got.ipv4[0].address);
        assert_eq!(
            got.ipv4[0].cidr().prefix_len(),
            28,
            "block-masked like Calico"
        );
    }
    let block = seen[0];
    assert!(
        seen.iter()
            .all(|a| pools.block_for(*a) == pools.block_for(block)),
        "16 addresses from one /28 block: {seen:?}"
    );
    assert_eq!(
        pools.block_for(block).unwrap().network(),
        block,
        "the first address of a fresh block is its network address"
    );
    let affs = ipam.host_blocks("n1").unwrap();
    assert_eq!(affs.len(), 1);
    assert_eq!(affs[0].value.state, AffinityState::Confirmed);
    // The 17th claims a second block.
    ipam.auto_assign(&pools, &args("c16", "n1", 1, 0)).unwrap();
    assert_eq!(ipam.host_blocks("n1").unwrap().len(), 2);
    assert_eq!(assert_exact(&ipam, &pools).len(), 17);
}

#[test]
fn ipv6_and_dual_stack() {
    let (ipam, _) = engine();
    let pools = Pools::new(vec![
        PoolInfo::new("v4", "10.1.0.0/16".parse().unwrap()).unwrap(),
        PoolInfo::new("v6", "fd00:1::/64".parse().unwrap()).unwrap(),
    ]);
    let got = ipam.auto_assign(&pools, &args("h", "n1", 2, 3)).unwrap();
    assert_eq!(got.ipv4.len(), 2);
    assert_eq!(got.ipv6.len(), 3);
    assert!(
        got.ipv6
            .iter()
            .all(|a| a.address.is_ipv6() && a.block.prefix_len() == 122)
    );
    assert_eq!(ipam.ips_by_handle("h").unwrap().len(), 5);
    assert_exact(&ipam, &pools);
    assert_eq!(ipam.release_by_handle("h").unwrap().len(), 5);
    assert_exact(&ipam, &pools);
}

#[test]
fn dual_stack_failure_releases_the_ipv4_half() {
    let (ipam, _) = engine();
    let mut v6 = PoolInfo::new("v6", "fd00:2::/120".parse().unwrap()).unwrap();
    v6.disabled = true;
    let pools = Pools::new(vec![pool("v4", "10.2.0.0/24", 26), v6]);
    let err = ipam
        .auto_assign(&pools, &args("h", "n1", 1, 1))
        .unwrap_err();
    assert!(matches!(err, IpamError::Exhausted(_)), "{err}");
    assert!(ipam.ips_by_handle("h").unwrap().is_empty());
    assert!(assert_exact(&ipam, &pools).is_empty());
}

#[test]
fn named_pools_are_used_and_selectors_ignored() {
    let (ipam, _) = engine();
    let mut a = pool("a", "10.10.0.0/24", 26);
    a.node_selector = "zone == 'x'".parse().unwrap();
    let b = pool("b", "10.20.0.0/24", 26);
    let pools = Pools::new(vec![a, b]);
    let mut req = args("h", "n1", 1, 0);
    req.ipv4_pools = vec!["a".into()];
    let got = ipam.auto_assign(&pools, &req).unwrap();
    assert!(pools.pools[0].cidr.contains(&got.ipv4[0].address));
    req.handle_id = "h2".into();
    req.ipv4_pools = vec!["10.20.0.0/24".into()];
    let got = ipam.auto_assign(&pools, &req).unwrap();
    assert!(pools.pools[1].cidr.contains(&got.ipv4[0].address));
    req.ipv4_pools = vec!["nope".into()];
    assert_eq!(
        ipam.auto_assign(&pools, &req).unwrap_err().to_string(),
        "the given pool (nope) does not exist, or is not enabled"
    );
}

#[test]
fn specific_address_claims_its_block_and_refuses_duplicates() {
    let (ipam, _) = engine();
    let pools = Pools::new(vec![pool("p", "10.3.0.0/24", 26)]);
    let req = AssignIpArgs {
        address: ip("10.3.0.70"),
        handle_id: "h1".into(),
        attrs: BTreeMap::from([(attrs::POD.to_string(), "web".to_string())]),
        hostname: "n1".into(),
        intended_use: Some(IntendedUse::Workload),
    };
    let a = ipam.assign_ip(&pools, &req).unwrap();
    assert_eq!(a.block, "10.3.0.64/26".parse().unwrap());
    assert_eq!(ipam.host_blocks("n1").unwrap().len(), 1);
    let dup = AssignIpArgs {
        handle_id: "h2".into(),
        ..req.clone()
    };
    assert_eq!(
        ipam.assign_ip(&pools, &dup).unwrap_err(),
        IpamError::AlreadyAssigned {
            ip: ip("10.3.0.70"),
            handle: "h1".into()
        }
    );
    let outside = AssignIpArgs {
        address: ip("10.9.0.1"),
        ..req.clone()
    };
    assert_eq!(
        ipam.assign_ip(&pools, &outside).unwrap_err().to_string(),
        "IP address 10.9.0.1 is not in a configured pool"
    );
    let info = ipam
        .get_assignment_attributes(&pools, ip("10.3.0.70"))
        .unwrap()
        .unwrap();
    assert_eq!(info.handle_id.as_deref(), Some("h1"));
    assert_eq!(info.attrs.get("pod").map(String::as_str), Some("web"));
    assert_eq!(info.sequence_number, a.sequence_number);
    // Auto-assignment on the same node skips the taken address.
    let got = ipam.auto_assign(&pools, &args("h3", "n1", 64, 0)).unwrap();
    assert!(!got.ipv4.iter().any(|x| x.address == ip("10.3.0.70")));
    assert_exact(&ipam, &pools);
}

#[test]
fn specific_address_respects_allowed_uses() {
    let (ipam, _) = engine();
    let mut p = pool("tunnels", "10.4.0.0/24", 26);
    p.allowed_uses = vec![IntendedUse::Tunnel];
    let pools = Pools::new(vec![p]);
    let req = AssignIpArgs {
        address: ip("10.4.0.1"),
        handle_id: "h".into(),
        attrs: BTreeMap::new(),
        hostname: "n1".into(),
        intended_use: Some(IntendedUse::Workload),
    };
    let err = ipam.assign_ip(&pools, &req).unwrap_err().to_string();
    assert!(err.contains("not allowed for use \"Workload\""), "{err}");
}

#[test]
fn reservations_are_never_handed_out() {
    let (ipam, _) = engine();
    let pools = Pools::new(vec![pool("p", "10.5.0.0/28", 29)])
        .with_reserved(AddrFilter::parse(["10.5.0.0/30", "10.5.0.9", "10.5.0.8/29"]).unwrap());
    // 10.5.0.0/29 has 4 unreserved addresses; 10.5.0.8/29 is wholly reserved.
    let got = ipam.auto_assign(&pools, &args("h", "n1", 4, 0)).unwrap();
    let mut a = addrs(&got);
    a.sort();
    assert_eq!(
        a,
        vec![
            ip("10.5.0.4"),
            ip("10.5.0.5"),
            ip("10.5.0.6"),
            ip("10.5.0.7")
        ]
    );
    let err = ipam
        .auto_assign(&pools, &args("h2", "n1", 1, 0))
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("Assigned 0 out of 1 requested IPv4 addresses")
    );
    assert_exact(&ipam, &pools);
}

#[test]
fn release_by_address_and_handle_twice_is_harmless() {
    let (ipam, _) = engine();
    let pools = Pools::new(vec![pool("p", "10.6.0.0/24", 26)]);
    let got = ipam.auto_assign(&pools, &args("h1", "n1", 3, 0)).unwrap();
    let first = got.ipv4[0].clone();
    let req = [ReleaseOptions {
        address: first.address,
        handle: Some("h1".into()),
        sequence_number: Some(first.sequence_number),
    }];
    let r = ipam.release_ips(&pools, &req).unwrap();
    assert_eq!(r.released, vec![first.address]);
    let r = ipam.release_ips(&pools, &req).unwrap();
    assert_eq!(
        r.not_allocated,
        vec![first.address],
        "second release is a no-op"
    );
    assert!(r.released.is_empty());
    assert_eq!(ipam.ips_by_handle("h1").unwrap().len(), 2);
    assert_eq!(ipam.release_by_handle("h1").unwrap().len(), 2);
    assert!(ipam.release_by_handle("h1").unwrap().is_empty());
    assert!(ipam.release_by_handle("never-existed").unwrap().is_empty());
    let r = ipam
        .release_ips(&pools, &[ReleaseOptions::address(ip("192.168.9.9"))])
        .unwrap();
    assert_eq!(r.not_allocated, vec![ip("192.168.9.9")]);
    assert!(assert_exact(&ipam, &pools).is_empty());
    assert!(ipam.store().list(&Listing::Handles).unwrap().is_empty());
}

#[test]
fn stale_sequence_numbers_never_release_a_reallocated_address() {
    let (ipam, _) = engine();
    let pools = Pools::new(vec![pool("p", "10.7.0.0/30", 30)]);
    let got = ipam.auto_assign(&pools, &args("old", "n1", 4, 0)).unwrap();
    let victim = got.ipv4[1].clone();
    ipam.release_ips(&pools, &[ReleaseOptions::address(victim.address)])
        .unwrap();
    // The freed address is the only free one: it is re-allocated to a new owner.
    let again = ipam.auto_assign(&pools, &args("new", "n1", 1, 0)).unwrap();
    assert_eq!(again.ipv4[0].address, victim.address);
    // A garbage collector acting on its old reading must not free it.
    let stale = ReleaseOptions {
        address: victim.address,
        handle: None,
        sequence_number: Some(victim.sequence_number),
    };
    let r = ipam.release_ips(&pools, &[stale]).unwrap();
    assert!(r.released.is_empty());
    assert!(matches!(
        r.refused[0].1,
        ReleaseRefusal::SequenceMismatch { .. }
    ));
    let wrong_handle = ReleaseOptions {
        address: victim.address,
        handle: Some("old".into()),
        sequence_number: None,
    };
    let r = ipam.release_ips(&pools, &[wrong_handle]).unwrap();
    assert!(matches!(
        r.refused[0].1,
        ReleaseRefusal::HandleMismatch { .. }
    ));
    assert_eq!(ipam.ips_by_handle("new").unwrap(), vec![victim.address]);
    assert_exact(&ipam, &pools);
}

#[test]
fn an_emptied_block_loses_its_affinity_but_a_node_keeps_its_last_block() {
    let (ipam, _) = engine();
    let pools = Pools::new(vec![pool("p", "10.8.0.0/24", 28)]);
    // 20 addresses: two blocks.
    for i in 0..20 {
        ipam.auto_assign(&pools, &args(&format!("h{i}"), "n1", 1, 0))
            .unwrap();
    }
    assert_eq!(ipam.host_blocks("n1").unwrap().len(), 2);
    for i in 16..20 {
        ipam.release_by_handle(&format!("h{i}")).unwrap();
    }
    let left = ipam.host_blocks("n1").unwrap();
    assert_eq!(left.len(), 1, "the emptied second block was given back");
    assert_eq!(ipam.snapshot().unwrap().blocks.len(), 1, "and deleted");
    for i in 0..16 {
        ipam.release_by_handle(&format!("h{i}")).unwrap();
    }
    assert_eq!(
        ipam.host_blocks("n1").unwrap().len(),
        1,
        "the node's last block is kept"
    );
    assert!(assert_exact(&ipam, &pools).is_empty());
}

#[test]
fn attributes_and_handle_records_are_stored_like_calico() {
    let (ipam, _) = engine();
    let pools = Pools::new(vec![pool("p", "10.9.0.0/24", 26)]);
    let mut req = args(&cni_handle("abc"), "n1", 1, 0);
    req.attrs.insert(attrs::NAMESPACE.into(), "default".into());
    req.attrs.insert(attrs::POD.into(), "web-1".into());
    req.attrs.insert(attrs::NODE.into(), "n1".into());
    let got = ipam.auto_assign(&pools, &req).unwrap();
    let snap = ipam.snapshot().unwrap();
    let h = &snap.handles[0].value;
    assert_eq!(h.handle_id, "k8s-pod-network.abc");
    assert_eq!(h.block.get(&got.ipv4[0].block), Some(&1));
    let b = &snap.blocks[0].value;
    assert_eq!(b.affinity.as_deref(), Some("host:n1"));
    assert_eq!(
        b.attributes[0].secondary.get("pod").map(String::as_str),
        Some("web-1")
    );
    let handle_crlf = format!("{}\r\n", cni_handle("abc"));
    assert_eq!(ipam.release_by_handle(&handle_crlf).unwrap().len(), 1);
}

#[test]
fn bad_requests_are_errors_not_panics() {
    let (ipam, _) = engine();
    let pools = Pools::new(vec![pool("p", "10.11.0.0/24", 26)]);
    assert_eq!(
        ipam.auto_assign(&pools, &args("", "n1", 1, 0)).unwrap_err(),
        IpamError::EmptyHandle
    );
    assert!(matches!(
        ipam.auto_assign(&pools, &args("h", "a/b", 1, 0))
            .unwrap_err(),
        IpamError::InvalidNode { .. }
    ));
    let mut lb = args("h", "n1", 1, 0);
    lb.intended_use = IntendedUse::LoadBalancer;
    assert!(matches!(
        ipam.auto_assign(&pools, &lb).unwrap_err(),
        IpamError::UseNotSupported { .. }
    ));
    let mut wrong = args("h", "n1", 1, 0);
    wrong.ipv4_pools = vec!["fd00::/64".into()];
    let pools6 = Pools::new(vec![
        pool("p", "10.11.0.0/24", 26),
        PoolInfo::new("v6", "fd00::/64".parse().unwrap()).unwrap(),
    ]);
    assert!(matches!(
        ipam.auto_assign(&pools6, &wrong).unwrap_err(),
        IpamError::PoolVersion { .. }
    ));
    assert_eq!(
        ipam.auto_assign(&pools, &args("h", "n1", 0, 0))
            .unwrap()
            .all()
            .count(),
        0
    );
}
