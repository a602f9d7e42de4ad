//! Property tests against a model: random sequences of allocations, releases and specific
//! assignments by several nodes on IPv4 and IPv6 pools. After every step the store holds exactly
//! the model's allocations, no address is handed out twice, every address lies in a pool and in
//! the block recording it, block bitmaps and handle counts agree exactly, and (without strict
//! affinity) a request only fails when the pool really has too few free addresses.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::time::Duration;

use calico_ipam::{AddrFilter, AssignIpArgs, IpamConfig, IpamError, Pools, ReleaseOptions};
use proptest::prelude::*;
use support::*;

#[derive(Clone, Debug)]
enum Op {
    Alloc {
        host: u8,
        n4: u8,
        n6: u8,
    },
    ReleaseHandle {
        pick: u16,
    },
    ReleaseAddr {
        pick: u16,
        with_seq: bool,
        stale: bool,
    },
    AssignIp {
        host: u8,
        offset: u8,
    },
    Strict(bool),
    Advance,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u8..3, 0u8..5, 0u8..4).prop_map(|(host, n4, n6)| Op::Alloc { host, n4, n6 }),
        3 => any::<u16>().prop_map(|pick| Op::ReleaseHandle { pick }),
        3 => (any::<u16>(), any::<bool>(), any::<bool>())
            .prop_map(|(pick, with_seq, stale)| Op::ReleaseAddr { pick, with_seq, stale }),
        1 => (0u8..3, 0u8..60).prop_map(|(host, offset)| Op::AssignIp { host, offset }),
        1 => any::<bool>().prop_map(Op::Strict),
        1 => Just(Op::Advance),
    ]
}

fn test_pools() -> Pools {
    // 8 IPv4 blocks of 8 (4 addresses reserved) and 8 IPv6 blocks of 8.
    Pools::new(vec![
        pool("v4", "10.0.0.0/26", 29),
        pool("v6", "fd00::/122", 125),
    ])
    .with_reserved(AddrFilter::parse(["10.0.0.60/30"]).unwrap())
}

/// The model: address → (handle, sequence number).
type Model = BTreeMap<IpAddr, (String, u64)>;

fn free(model: &Model, v6: bool) -> usize {
    let used = model.keys().filter(|a| a.is_ipv6() == v6).count();
    let total = 64 - if v6 { 0 } else { 4 };
    total - used
}

fn check(ipam: &Engine, pools: &Pools, model: &Model) {
    let stored = assert_exact(ipam, pools);
    let want: BTreeSet<IpAddr> = model.keys().copied().collect();
    assert_eq!(stored, want, "store and model disagree");
    for a in ipam.snapshot().unwrap().allocations() {
        let (h, seq) = &model[&a.address];
        assert_eq!(a.handle_id.as_deref(), Some(h.as_str()));
        assert_eq!(a.sequence_number, *seq);
        assert_eq!(pools.block_for(a.address), Some(a.block));
    }
}

fn run(ops: Vec<Op>) {
    let pools = test_pools();
    let (ipam, clock) = engine();
    let mut model = Model::new();
    let mut strict = false;
    for (i, op) in ops.into_iter().enumerate() {
        match op {
            Op::Alloc { host, n4, n6 } => {
                let handle = format!("h{i}");
                let req = args(&handle, &format!("n{host}"), n4.into(), n6.into());
                match ipam.auto_assign(&pools, &req) {
                    Ok(got) => {
                        assert_eq!((got.ipv4.len(), got.ipv6.len()), (n4.into(), n6.into()));
                        for a in got.all() {
                            assert!(!pools.reserved.matches(a.address));
                            let prev = model.insert(a.address, (handle.clone(), a.sequence_number));
                            assert!(prev.is_none(), "{} handed out twice", a.address);
                        }
                    }
                    Err(IpamError::Exhausted(e)) => {
                        if !strict {
                            assert!(
                                free(&model, false) < n4.into() || free(&model, true) < n6.into(),
                                "exhausted with room left: {e}"
                            );
                        }
                    }
                    Err(e) => panic!("unexpected error: {e}"),
                }
            }
            Op::ReleaseHandle { pick } => {
                let handles: BTreeSet<String> = model.values().map(|(h, _)| h.clone()).collect();
                let Some(h) = handles
                    .iter()
                    .nth(pick as usize % handles.len().max(1))
                    .cloned()
                else {
                    continue;
                };
                let got: BTreeSet<IpAddr> =
                    ipam.release_by_handle(&h).unwrap().into_iter().collect();
                let want: BTreeSet<IpAddr> = model
                    .iter()
                    .filter(|(_, (x, _))| *x == h)
                    .map(|(a, _)| *a)
                    .collect();
                assert_eq!(got, want);
                model.retain(|_, (x, _)| *x != h);
            }
            Op::ReleaseAddr {
                pick,
                with_seq,
                stale,
            } => {
                let Some((addr, (h, seq))) = model
                    .iter()
                    .nth(pick as usize % model.len().max(1))
                    .map(|(a, v)| (*a, v.clone()))
                else {
                    continue;
                };
                let req = ReleaseOptions {
                    address: addr,
                    handle: Some(h),
                    sequence_number: with_seq.then_some(if stale { seq + 1 } else { seq }),
                };
                let r = ipam
                    .release_ips(&pools, std::slice::from_ref(&req))
                    .unwrap();
                if with_seq && stale {
                    assert_eq!(r.refused.len(), 1);
                } else {
                    assert_eq!(r.released, vec![addr]);
                    model.remove(&addr);
                    let again = ipam.release_ips(&pools, &[req]).unwrap();
                    assert_eq!(again.not_allocated, vec![addr]);
                }
            }
            Op::AssignIp { host, offset } => {
                let address: IpAddr = format!("10.0.0.{offset}").parse().unwrap();
                let req = AssignIpArgs {
                    address,
                    handle_id: format!("s{i}"),
                    attrs: BTreeMap::new(),
                    hostname: format!("n{host}"),
                    intended_use: None,
                };
                match ipam.assign_ip(&pools, &req) {
                    Ok(a) => {
                        let prev =
                            model.insert(address, (req.handle_id.clone(), a.sequence_number));
                        assert!(prev.is_none(), "{address} assigned twice");
                    }
                    Err(IpamError::AlreadyAssigned { .. }) => {
                        assert!(model.contains_key(&address));
                    }
                    Err(IpamError::AffinityConflict { .. }) => assert!(strict),
                    Err(e) => panic!("unexpected error: {e}"),
                }
            }
            Op::Strict(on) => {
                strict = on;
                ipam.set_config(IpamConfig {
                    strict_affinity: on,
                    ..IpamConfig::default()
                })
                .unwrap();
            }
            Op::Advance => clock.advance(Duration::from_secs(61)),
        }
        check(&ipam, &pools, &model);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    #[test]
    fn allocate_release_sequences_keep_the_store_exact(ops in prop::collection::vec(op(), 1..60)) {
        run(ops);
    }
}

#[test]
fn fill_drain_fill() {
    let mut ops = Vec::new();
    for i in 0..40 {
        ops.push(Op::Alloc {
            host: i % 3,
            n4: 2,
            n6: 2,
        });
    }
    for i in 0..40 {
        ops.push(Op::ReleaseHandle { pick: i });
    }
    for i in 0..20 {
        ops.push(Op::Alloc {
            host: i % 2,
            n4: 3,
            n6: 1,
        });
    }
    run(ops);
}
