//! The RFC 4271 §9.1 decision process, step by step, and order independence.
#![allow(clippy::unwrap_used)]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use calico_bgp::rib::*;
use calico_bgp::wire::*;
use ipnet::IpNet;
use proptest::prelude::*;

fn path(peer: u8, f: impl FnOnce(&mut PathAttributes, &mut Path)) -> Path {
    let mut a = PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::sequence(vec![65000])),
        ..Default::default()
    };
    let mut p = Path {
        source: Source::Peer(IpAddr::V4(Ipv4Addr::new(10, 0, 0, peer))),
        attrs: Arc::new(PathAttributes::default()),
        next_hop: Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, peer))),
        ebgp: false,
        peer_id: Ipv4Addr::new(1, 1, 1, peer),
        from_rr_client: false,
        stale: false,
    };
    f(&mut a, &mut p);
    p.attrs = Arc::new(a);
    p
}

fn winner(paths: &[Path]) -> Source {
    paths[best_path(paths).unwrap()].source
}

fn peer(n: u8) -> Source {
    Source::Peer(IpAddr::V4(Ipv4Addr::new(10, 0, 0, n)))
}

#[test]
fn each_step_decides() {
    // Local origination first.
    let mut local = path(9, |_, _| {});
    local.source = Source::Local;
    assert_eq!(
        winner(&[path(1, |a, _| a.local_pref = Some(500)), local]),
        Source::Local
    );
    // Highest LOCAL_PREF (absent = 100).
    assert_eq!(
        winner(&[path(1, |_, _| {}), path(2, |a, _| a.local_pref = Some(150))]),
        peer(2)
    );
    assert_eq!(
        winner(&[path(1, |_, _| {}), path(2, |a, _| a.local_pref = Some(50))]),
        peer(1)
    );
    // Shortest AS_PATH (a set counts one).
    let longer = |a: &mut PathAttributes, _: &mut Path| {
        a.as_path = Some(AsPath::sequence(vec![65000, 65001]))
    };
    assert_eq!(winner(&[path(1, longer), path(2, |_, _| {})]), peer(2));
    let set = |a: &mut PathAttributes, _: &mut Path| {
        a.as_path = Some(AsPath {
            segments: vec![
                AsSegment {
                    kind: SegmentKind::Set,
                    asns: vec![1, 2, 3],
                },
                AsSegment {
                    kind: SegmentKind::Sequence,
                    asns: vec![4],
                },
            ],
        })
    };
    assert_eq!(
        winner(&[path(2, set), path(1, longer)]),
        peer(1),
        "equal length 2: later steps decide (router ID)"
    );
    // Lowest ORIGIN.
    assert_eq!(
        winner(&[
            path(1, |a, _| a.origin = Some(Origin::Incomplete)),
            path(2, |a, _| a.origin = Some(Origin::Egp))
        ]),
        peer(2)
    );
    // MED only between paths from the same neighbouring AS.
    assert_eq!(
        winner(&[
            path(1, |a, _| a.med = Some(10)),
            path(2, |a, _| a.med = Some(5))
        ]),
        peer(2)
    );
    let other_as = |a: &mut PathAttributes, _: &mut Path| {
        a.as_path = Some(AsPath::sequence(vec![65009]));
        a.med = Some(50);
    };
    assert_eq!(
        winner(&[path(1, |a, _| a.med = Some(10)), path(2, other_as)]),
        peer(1),
        "MED ignored, peer address decides"
    );
    assert_eq!(
        winner(&[path(3, |a, _| a.med = Some(10)), path(2, other_as)]),
        peer(2)
    );
    // eBGP over iBGP.
    assert_eq!(
        winner(&[path(1, |_, _| {}), path(2, |_, p| p.ebgp = true)]),
        peer(2)
    );
    // Lowest router ID, ORIGINATOR_ID standing in for reflected routes.
    assert_eq!(
        winner(&[
            path(1, |_, p| p.peer_id = Ipv4Addr::new(9, 9, 9, 9)),
            path(2, |_, p| p.peer_id = Ipv4Addr::new(2, 2, 2, 2))
        ]),
        peer(2)
    );
    assert_eq!(
        winner(&[
            path(1, |a, p| {
                p.peer_id = Ipv4Addr::new(1, 0, 0, 0);
                a.originator_id = Some(Ipv4Addr::new(8, 8, 8, 8))
            }),
            path(2, |_, p| p.peer_id = Ipv4Addr::new(2, 2, 2, 2)),
        ]),
        peer(2)
    );
    // Shortest CLUSTER_LIST.
    let id = |p: &mut Path| p.peer_id = Ipv4Addr::new(5, 5, 5, 5);
    assert_eq!(
        winner(&[
            path(1, |a, p| {
                id(p);
                a.cluster_list = vec![Ipv4Addr::new(1, 1, 1, 1), Ipv4Addr::new(2, 2, 2, 2)]
            }),
            path(2, |a, p| {
                id(p);
                a.cluster_list = vec![Ipv4Addr::new(1, 1, 1, 1)]
            }),
        ]),
        peer(2)
    );
    // Lowest peer address.
    assert_eq!(
        winner(&[path(3, |_, p| id(p)), path(2, |_, p| id(p))]),
        peer(2)
    );
    assert_eq!(best_path(&[]), None);
}

#[test]
fn rib_tracks_changes_and_stale_paths() {
    let mut rib = Rib::new();
    let pfx: IpNet = "10.0.0.0/24".parse().unwrap();
    rib.insert(pfx, path(1, |_, _| {}));
    rib.insert(pfx, path(2, |a, _| a.local_pref = Some(200)));
    let ch = rib.take_changes();
    assert_eq!(ch.len(), 2);
    assert_eq!(ch[1].best.as_ref().unwrap().source, peer(2));
    rib.mark_stale(peer(2), Family::Ipv4);
    rib.mark_stale(peer(2), Family::Ipv6);
    assert!(rib.best(&pfx).unwrap().stale);
    assert_eq!(rib.sweep_stale(peer(2), Family::Ipv6), 0);
    assert_eq!(rib.sweep_stale(peer(2), Family::Ipv4), 1);
    assert_eq!(rib.best(&pfx).unwrap().source, peer(1));
    rib.remove_source(peer(1));
    assert!(rib.is_empty());
    let ch = rib.take_changes();
    assert_eq!(ch.last().unwrap().best, None);
    assert_eq!(rib.adj_in(peer(1)).count(), 0);
}

proptest! {
    #[test]
    fn best_path_is_order_independent(spec in prop::collection::vec((1u8..20, 0u32..3, 1usize..4, 0u8..3, prop::option::of(0u32..3), any::<bool>(), 0u8..3), 1..8), seed in any::<u64>()) {
        let mut paths: Vec<Path> = Vec::new();
        for (n, lp, len, org, med, ebgp, nas) in spec {
            if paths.iter().any(|p| p.source == peer(n)) { continue; }
            paths.push(path(n, |a, p| {
                a.local_pref = Some(100 + lp);
                a.as_path = Some(AsPath::sequence((0..len as u32).map(|i| 65000 + u32::from(nas) + i * 10).collect()));
                a.origin = Some([Origin::Igp, Origin::Egp, Origin::Incomplete][usize::from(org)]);
                a.med = med;
                p.ebgp = ebgp;
            }));
        }
        let w = winner(&paths);
        let mut shuffled = paths.clone();
        let k = shuffled.len();
        shuffled.rotate_left((seed as usize) % k);
        shuffled.reverse();
        prop_assert_eq!(winner(&shuffled), w);
    }
}

#[test]
fn installing_many_routes_is_fast_enough_to_be_linear() {
    // Not a timing test: 100k inserts and removals just have to complete (quadratic
    // behaviour would take minutes in a debug build).
    let mut rib = Rib::new();
    let a = Arc::new(PathAttributes {
        origin: Some(Origin::Igp),
        ..Default::default()
    });
    for i in 0..100_000u32 {
        let pfx = IpNet::new(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + (i << 8))), 24).unwrap();
        let mut p = path(1, |_, _| {});
        p.attrs = a.clone();
        rib.insert(pfx, p);
    }
    assert_eq!(rib.len(), 100_000);
    assert_eq!(rib.take_changes().len(), 100_000);
    rib.remove_source(peer(1));
    assert!(rib.is_empty());
}
