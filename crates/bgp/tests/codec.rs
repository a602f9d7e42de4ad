//! Codec tests: golden bytes, round trips (proptest) and RFC 7606 / RFC 4271 error handling.
#![allow(clippy::unwrap_used)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use calico_bgp::wire::*;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use proptest::prelude::*;

const O2: WireOptions = WireOptions {
    four_octet_as: false,
};
const O4: WireOptions = WireOptions {
    four_octet_as: true,
};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn decode(b: &[u8], o: WireOptions) -> Decoded {
    decode_message(b, o).unwrap()
}

/// Wrap a body in a header of type `ty`.
fn frame(ty: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![0xff; 16];
    v.extend_from_slice(&((19 + body.len()) as u16).to_be_bytes());
    v.push(ty);
    v.extend_from_slice(body);
    v
}

fn update_body(withdrawn: &[u8], attrs: &[u8], nlri: &[u8]) -> Vec<u8> {
    let mut v = (withdrawn.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(withdrawn);
    v.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
    v.extend_from_slice(attrs);
    v.extend_from_slice(nlri);
    v
}

// ORIGIN IGP, AS_PATH (4-octet) [65001], NEXT_HOP 10.0.0.1
const BASIC_ATTRS: &str = "40 01 01 00  40 02 06 02 01 0000fde9  40 03 04 0a000001";

#[test]
fn golden_keepalive() {
    let b = Message::Keepalive.encode(O4).unwrap();
    assert_eq!(b, hex("ffffffffffffffffffffffffffffffff 0013 04"));
    assert_eq!(decode(&b, O4).message, Message::Keepalive);
}

/// An OPEN as BIRD 2 sends it for `local as 64512` with MP IPv4+IPv6, route refresh,
/// graceful restart (120 s, both families forwarding), 4-octet AS and enhanced route refresh.
#[test]
fn golden_open_bird_like() {
    let bytes = hex("ffffffffffffffffffffffffffffffff 0041 01
         04 fc00 00f0 0a000001 24
         02 22
           01 04 0001 00 01
           01 04 0002 00 01
           02 00
           40 0a 0078 0001 01 80 0002 01 80
           41 04 0000fc00
           46 00");
    let d = decode(&bytes, O2);
    let Message::Open(o) = &d.message else {
        panic!()
    };
    assert_eq!(o.asn(), 64512);
    assert_eq!(o.hold_time, 240);
    assert_eq!(o.bgp_id, Ipv4Addr::new(10, 0, 0, 1));
    assert_eq!(
        o.families(),
        vec![AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST]
    );
    let gr = o.graceful_restart().unwrap();
    assert_eq!(gr.restart_time, 120);
    assert!(!gr.restarting);
    assert_eq!(
        gr.families,
        vec![(AfiSafi::IPV4_UNICAST, true), (AfiSafi::IPV6_UNICAST, true)]
    );
    assert!(o.has(|c| *c == Capability::EnhancedRouteRefresh));
    // Our encoder writes the same bytes back.
    assert_eq!(d.message.encode(O2).unwrap(), bytes);
}

#[test]
fn golden_update_ipv4() {
    let body = update_body(
        &hex("18 0a0102"),
        &hex(BASIC_ATTRS),
        &hex("18 c0a800 20 0a000005"),
    );
    let bytes = frame(2, &body);
    let d = decode(&bytes, O4);
    assert!(d.issues.is_empty());
    let Message::Update(u) = &d.message else {
        panic!()
    };
    assert_eq!(u.withdrawn, vec!["10.1.2.0/24".parse::<IpNet>().unwrap()]);
    assert_eq!(
        u.nlri,
        vec![
            "192.168.0.0/24".parse::<IpNet>().unwrap(),
            "10.0.0.5/32".parse().unwrap()
        ]
    );
    assert_eq!(u.attrs.origin, Some(Origin::Igp));
    assert_eq!(u.attrs.as_path, Some(AsPath::sequence(vec![65001])));
    assert_eq!(u.attrs.next_hop, Some(Ipv4Addr::new(10, 0, 0, 1)));
    assert_eq!(d.message.encode(O4).unwrap(), bytes);
}

#[test]
fn golden_update_ipv6_mp_reach_with_link_local() {
    let attrs = hex(
        "80 0e 2e 0002 01 20 fd000000000000000000000000000001 fe800000000000000000000000000001 00
           40 fd00000000000001
         40 01 01 00  40 02 00",
    );
    let bytes = frame(2, &update_body(&[], &attrs, &[]));
    let d = decode(&bytes, O4);
    assert!(d.issues.is_empty(), "{:?}", d.issues);
    let Message::Update(u) = &d.message else {
        panic!()
    };
    let m = u.attrs.mp_reach.as_ref().unwrap();
    assert_eq!(m.afi_safi, AfiSafi::IPV6_UNICAST);
    assert_eq!(m.next_hop.len(), 2);
    assert_eq!(m.nlri, vec!["fd00:0:0:1::/64".parse::<IpNet>().unwrap()]);
    assert_eq!(u.attrs.as_path, Some(AsPath::default()));
    assert_eq!(d.message.encode(O4).unwrap(), bytes);
}

#[test]
fn golden_notification_and_route_refresh() {
    let n = Message::Notification(Notification::new(6, 2, vec![]));
    assert_eq!(
        n.encode(O4).unwrap(),
        hex("ffffffffffffffffffffffffffffffff 0015 03 06 02")
    );
    let rr = Message::RouteRefresh(RouteRefresh {
        afi_safi: AfiSafi::IPV6_UNICAST,
        subtype: 0,
    });
    let b = rr.encode(O4).unwrap();
    assert_eq!(
        b,
        hex("ffffffffffffffffffffffffffffffff 0017 05 0002 00 01")
    );
    assert_eq!(decode(&b, O4).message, rr);
}

#[test]
fn end_of_rib_markers() {
    for f in [AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST] {
        let b = Message::Update(Update::end_of_rib(f)).encode(O4).unwrap();
        let Message::Update(u) = decode(&b, O4).message else {
            panic!()
        };
        assert_eq!(u.is_end_of_rib(), Some(f));
    }
    assert_eq!(
        Message::Update(Update::end_of_rib(AfiSafi::IPV4_UNICAST))
            .encode(O4)
            .unwrap(),
        hex("ffffffffffffffffffffffffffffffff 0017 02 0000 0000")
    );
}

#[test]
fn as4_path_reconstruction_on_two_octet_session() {
    let mut attrs = PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::sequence(vec![65001, 4_200_000_001, 65002])),
        next_hop: Some(Ipv4Addr::new(10, 0, 0, 1)),
        aggregator: Some(Aggregator {
            asn: 4_200_000_002,
            address: Ipv4Addr::new(1, 1, 1, 1),
        }),
        ..Default::default()
    };
    let u = Update {
        nlri: vec!["10.9.0.0/16".parse().unwrap()],
        attrs: attrs.clone(),
        ..Default::default()
    };
    let b = Message::Update(u.clone()).encode(O2).unwrap();
    // The 2-octet AS_PATH carries AS_TRANS.
    assert!(b.windows(2).any(|w| w == AS_TRANS.to_be_bytes()));
    let d = decode(&b, O2);
    assert!(d.issues.is_empty(), "{:?}", d.issues);
    assert_eq!(d.message, Message::Update(u));
    // A 2-octet-only path with an AS4_PATH that is longer than AS_PATH: AS4_PATH ignored.
    attrs.aggregator = None;
    let raw = hex(
        "40 01 01 00  40 02 04 02 01 fde9  c0 11 0a 02 02 0000fde9 fa56ea01  40 03 04 0a000001",
    );
    let Message::Update(u) = decode(&frame(2, &update_body(&[], &raw, &hex("08 0a"))), O2).message
    else {
        panic!()
    };
    assert_eq!(u.attrs.as_path, Some(AsPath::sequence(vec![65001])));
}

// ---- RFC 7606 / RFC 4271 error handling ----

fn expect_notification(b: &[u8], o: WireOptions, code: u8, sub: u8) -> DecodeError {
    let e = decode_message(b, o).unwrap_err();
    assert_eq!(
        (e.notification.code, e.notification.subcode),
        (code, sub),
        "{e}"
    );
    e
}

#[test]
fn truncated_open_is_bad_message_length() {
    let full = Message::Open(Open::new(64512, 90, Ipv4Addr::new(1, 2, 3, 4), vec![]))
        .encode(O4)
        .unwrap();
    let mut short = full[..25].to_vec();
    short[16..18].copy_from_slice(&25u16.to_be_bytes());
    let e = expect_notification(&short, O4, 1, 2);
    assert!(e.reason.contains("OPEN"), "{e}");
    // Header length says more than arrived.
    expect_notification(&full[..25], O4, 1, 2);
    // Optional parameter length overruns.
    let mut bad = full.clone();
    bad[28] = 5;
    expect_notification(&bad, O4, 2, 0);
}

#[test]
fn unsupported_version_carries_supported_version() {
    let mut b = Message::Open(Open::new(64512, 90, Ipv4Addr::new(1, 2, 3, 4), vec![]))
        .encode(O4)
        .unwrap();
    b[19] = 3;
    let e = expect_notification(&b, O4, 2, 1);
    assert_eq!(e.notification.data, vec![0, 4]);
}

#[test]
fn open_semantic_errors() {
    let open = |hold, id| {
        Message::Open(Open::new(1, hold, id, vec![]))
            .encode(O4)
            .unwrap()
    };
    expect_notification(&open(2, Ipv4Addr::new(1, 1, 1, 1)), O4, 2, 6);
    expect_notification(&open(90, Ipv4Addr::UNSPECIFIED), O4, 2, 3);
    let mut b = open(90, Ipv4Addr::new(1, 1, 1, 1));
    b.extend_from_slice(&[1, 0]);
    b[28] = 2;
    b[17] += 2;
    expect_notification(&b, O4, 2, 4);
}

#[test]
fn header_errors() {
    let mut b = Message::Keepalive.encode(O4).unwrap();
    b[3] = 0;
    expect_notification(&b, O4, 1, 1);
    let mut b = Message::Keepalive.encode(O4).unwrap();
    b[18] = 9;
    let e = expect_notification(&b, O4, 1, 3);
    assert_eq!(e.notification.data, vec![9]);
    let b = frame(4, &[0]);
    expect_notification(&b, O4, 1, 2);
    let mut f = Framer::default();
    let mut b = Message::Keepalive.encode(O4).unwrap();
    b[17] = 5;
    f.push(&b);
    assert_eq!(f.next_frame().unwrap_err().notification.subcode, 2);
}

#[test]
fn bad_attribute_length_is_treat_as_withdraw() {
    // ORIGIN with length 2.
    let attrs = hex("40 01 02 00 00  40 02 00  40 03 04 0a000001");
    let d = decode(&frame(2, &update_body(&[], &attrs, &hex("08 0a"))), O4);
    assert!(d.treat_as_withdraw());
    assert_eq!(d.issues[0].type_code, attr::ORIGIN);
    // Last attribute's length overruns the attribute list: NLRI still known, so
    // treat-as-withdraw.
    let attrs = hex("40 01 01 00  40 02 00  40 03 09 0a000001");
    let d = decode(&frame(2, &update_body(&[], &attrs, &hex("08 0a"))), O4);
    assert!(d.treat_as_withdraw());
    let Message::Update(u) = d.message else {
        panic!()
    };
    assert_eq!(u.nlri.len(), 1);
    // ... and without any NLRI to withdraw: session reset.
    expect_notification(&frame(2, &update_body(&[], &attrs, &[])), O4, 3, 5);
    // Total attribute length beyond the message: malformed attribute list.
    let mut body = update_body(&[], &hex(BASIC_ATTRS), &[]);
    body[3] += 10;
    expect_notification(&frame(2, &body), O4, 3, 1);
}

#[test]
fn rfc7606_attribute_cases() {
    let run = |attrs: &str| decode(&frame(2, &update_body(&[], &hex(attrs), &hex("08 0a"))), O4);
    // Bad ORIGIN value.
    assert!(run("40 01 01 07  40 02 00  40 03 04 0a000001").treat_as_withdraw());
    // Bad AS_PATH segment type; zero-length segment.
    assert!(run("40 01 01 00  40 02 06 09 01 0000fde9  40 03 04 0a000001").treat_as_withdraw());
    assert!(run("40 01 01 00  40 02 02 02 00  40 03 04 0a000001").treat_as_withdraw());
    // NEXT_HOP wrong length / multicast.
    assert!(run("40 01 01 00  40 02 00  40 03 03 0a0000").treat_as_withdraw());
    assert!(run("40 01 01 00  40 02 00  40 03 04 e0000001").treat_as_withdraw());
    // Missing NEXT_HOP with classic NLRI.
    assert!(run("40 01 01 00  40 02 00").treat_as_withdraw());
    // Flags conflict (ORIGIN marked optional).
    assert!(run("c0 01 01 00  40 02 00  40 03 04 0a000001").treat_as_withdraw());
    // Communities length not a multiple of 4.
    assert!(run("40 01 01 00  40 02 00  40 03 04 0a000001  c0 08 03 000000").treat_as_withdraw());
    // ATOMIC_AGGREGATE with data, AGGREGATOR wrong length: attribute discard only.
    let d = run("40 01 01 00  40 02 00  40 03 04 0a000001  40 06 01 00  c0 07 03 000000");
    assert!(!d.treat_as_withdraw());
    assert_eq!(d.issues.len(), 2);
    assert!(
        d.issues
            .iter()
            .all(|i| i.action == IssueAction::AttributeDiscard)
    );
    // Duplicate attribute: later copy discarded.
    let d = run("40 01 01 00  40 01 01 02  40 02 00  40 03 04 0a000001");
    let Message::Update(u) = &d.message else {
        panic!()
    };
    assert_eq!(u.attrs.origin, Some(Origin::Igp));
    assert!(!d.treat_as_withdraw());
    // Duplicate MP_UNREACH_NLRI: session reset.
    let b = frame(
        2,
        &update_body(&[], &hex("80 0f 03 0002 01  80 0f 03 0002 01"), &[]),
    );
    expect_notification(&b, O4, 3, 1);
    // MP_REACH_NLRI whose NLRI overruns: session reset.
    let b = frame(
        2,
        &update_body(&[], &hex("80 0e 0a 0001 01 04 0a000001 00 20 0a"), &[]),
    );
    expect_notification(&b, O4, 3, 9);
    // Unknown well-known attribute: session reset; unknown optional transitive: kept.
    expect_notification(
        &frame(2, &update_body(&[], &hex("40 63 01 00"), &[])),
        O4,
        3,
        2,
    );
    let d = run("40 01 01 00  40 02 00  40 03 04 0a000001  e0 63 02 abcd  80 64 01 00");
    let Message::Update(u) = &d.message else {
        panic!()
    };
    assert_eq!(
        u.attrs.unknown,
        vec![RawAttribute {
            flags: 0xe0,
            type_code: 0x63,
            value: vec![0xab, 0xcd]
        }]
    );
    // Bad NLRI: session reset (invalid network field).
    let b = frame(
        2,
        &update_body(&[], &hex(BASIC_ATTRS), &hex("21 0a000000 00")),
    );
    expect_notification(&b, O4, 3, 10);
}

#[test]
fn huge_as_path_decodes_linearly() {
    // 4,000 ASNs in 16 segments of 250, and a path of 300 one-AS segments (over 255 segments).
    let mut asp = Vec::new();
    for s in 0..16u32 {
        asp.extend_from_slice(&[2, 250]);
        for i in 0..250u32 {
            asp.extend_from_slice(&(s * 1000 + i + 1).to_be_bytes());
        }
    }
    let mut attrs = hex("40 01 01 00");
    attrs.extend_from_slice(&[0x50, 2]);
    attrs.extend_from_slice(&(asp.len() as u16).to_be_bytes());
    attrs.extend_from_slice(&asp);
    attrs.extend_from_slice(&hex("40 03 04 0a000001"));
    // 16,000 bytes is beyond 4096: this is what an extended message would carry; decoding
    // must still be linear, so exercise the attribute decoder via a smaller variant below
    // and the large one through the segment parser by building a 1,000-AS path that fits.
    let mut small = Vec::new();
    for s in 0..4u32 {
        small.extend_from_slice(&[2, 250]);
        for i in 0..250u32 {
            small.extend_from_slice(&(s * 1000 + i + 1).to_be_bytes());
        }
    }
    let mut a2 = hex("40 01 01 00");
    a2.extend_from_slice(&[0x50, 2]);
    a2.extend_from_slice(&(small.len() as u16).to_be_bytes());
    a2.extend_from_slice(&small);
    a2.extend_from_slice(&hex("40 03 04 0a000001"));
    let d = decode(&frame(2, &update_body(&[], &a2, &hex("08 0a"))), O4);
    let Message::Update(u) = &d.message else {
        panic!()
    };
    assert_eq!(u.attrs.as_path.as_ref().unwrap().len(), 1000);
    // Oversized frame: a header error, not a panic.
    let big = frame(2, &update_body(&[], &attrs, &hex("08 0a")));
    expect_notification(&big, O4, 1, 2);
    // 300 segments (2-octet): more than 255 segments decode.
    let mut many = Vec::new();
    for i in 0..300u16 {
        many.extend_from_slice(&[1, 1]);
        many.extend_from_slice(&(i + 1).to_be_bytes());
    }
    let mut a3 = hex("40 01 01 00");
    a3.extend_from_slice(&[0x50, 2]);
    a3.extend_from_slice(&(many.len() as u16).to_be_bytes());
    a3.extend_from_slice(&many);
    a3.extend_from_slice(&hex("40 03 04 0a000001"));
    let d = decode(&frame(2, &update_body(&[], &a3, &hex("08 0a"))), O2);
    let Message::Update(u) = &d.message else {
        panic!()
    };
    assert_eq!(u.attrs.as_path.as_ref().unwrap().segments.len(), 300);
    assert_eq!(u.attrs.as_path.as_ref().unwrap().len(), 300);
}

#[test]
fn framer_handles_partial_reads() {
    let msgs = [
        Message::Keepalive,
        Message::Update(Update::end_of_rib(AfiSafi::IPV6_UNICAST)),
        Message::Notification(Notification::cease(2)),
    ];
    let stream: Vec<u8> = msgs.iter().flat_map(|m| m.encode(O4).unwrap()).collect();
    for chunk in [1, 3, 7, 19, 100] {
        let mut f = Framer::default();
        let mut got = Vec::new();
        for c in stream.chunks(chunk) {
            f.push(c);
            while let Some(fr) = f.next_frame().unwrap() {
                got.push(decode(&fr, O4).message);
            }
        }
        assert_eq!(got, msgs);
        assert_eq!(f.pending(), 0);
    }
}

// ---- round trips ----

fn v4net() -> impl Strategy<Value = IpNet> {
    (any::<u32>(), 0u8..=32)
        .prop_map(|(a, l)| IpNet::V4(Ipv4Net::new(Ipv4Addr::from(a), l).unwrap().trunc()))
}
fn v6net() -> impl Strategy<Value = IpNet> {
    (any::<u128>(), 0u8..=128)
        .prop_map(|(a, l)| IpNet::V6(Ipv6Net::new(Ipv6Addr::from(a), l).unwrap().trunc()))
}
fn unicast_v4() -> impl Strategy<Value = Ipv4Addr> {
    (1u32..0xdfff_ffff).prop_map(Ipv4Addr::from)
}

fn as_path(max_as: u32, confed: bool) -> impl Strategy<Value = AsPath> {
    let kinds = if confed {
        prop_oneof![
            Just(SegmentKind::Sequence),
            Just(SegmentKind::Set),
            Just(SegmentKind::ConfedSequence),
            Just(SegmentKind::ConfedSet)
        ]
        .boxed()
    } else {
        prop_oneof![Just(SegmentKind::Sequence), Just(SegmentKind::Set)].boxed()
    };
    prop::collection::vec(
        (kinds, prop::collection::vec(0..max_as, 1..20))
            .prop_map(|(kind, asns)| AsSegment { kind, asns }),
        0..4,
    )
    .prop_map(|segments| AsPath { segments })
}

fn attrs(four: bool) -> impl Strategy<Value = PathAttributes> {
    let max_as = if four { u32::MAX } else { 65535 };
    (
        (
            prop::option::of(prop_oneof![
                Just(Origin::Igp),
                Just(Origin::Egp),
                Just(Origin::Incomplete)
            ]),
            prop::option::of(as_path(max_as, four)),
            prop::option::of(unicast_v4()),
            prop::option::of(any::<u32>()),
            prop::option::of(any::<u32>()),
            any::<bool>(),
        ),
        (
            prop::option::of((0..max_as, any::<u32>()).prop_map(|(asn, a)| Aggregator {
                asn,
                address: Ipv4Addr::from(a),
            })),
            prop::collection::vec(any::<u32>(), 0..5),
            prop::option::of(any::<u32>().prop_map(Ipv4Addr::from)),
            prop::collection::vec(any::<u32>().prop_map(Ipv4Addr::from), 0..4),
            prop::option::of(prop_oneof![
                (
                    prop::collection::vec(v6net(), 0..10),
                    any::<u128>(),
                    prop::option::of(any::<u128>())
                )
                    .prop_map(|(nlri, g, ll)| {
                        let mut next_hop = vec![IpAddr::V6(Ipv6Addr::from(g))];
                        next_hop.extend(ll.map(|l| IpAddr::V6(Ipv6Addr::from(l))));
                        MpReach {
                            afi_safi: AfiSafi::IPV6_UNICAST,
                            next_hop,
                            nlri,
                        }
                    }),
                (prop::collection::vec(v4net(), 0..10), any::<u32>()).prop_map(|(nlri, g)| {
                    MpReach {
                        afi_safi: AfiSafi::IPV4_UNICAST,
                        next_hop: vec![IpAddr::V4(Ipv4Addr::from(g))],
                        nlri,
                    }
                }),
            ]),
            prop::option::of(prop::collection::vec(v6net(), 0..10).prop_map(|withdrawn| {
                MpUnreach {
                    afi_safi: AfiSafi::IPV6_UNICAST,
                    withdrawn,
                }
            })),
            prop::collection::vec(
                (100u8..=255, prop::collection::vec(any::<u8>(), 0..300)),
                0..3,
            ),
        ),
    )
        .prop_map(
            |(
                (origin, as_path, next_hop, med, local_pref, atomic_aggregate),
                (aggregator, communities, originator_id, cluster_list, mp_reach, mp_unreach, unk),
            )| {
                let mut unknown: Vec<RawAttribute> = unk
                    .into_iter()
                    .map(|(type_code, value)| RawAttribute {
                        flags: 0xc0,
                        type_code,
                        value,
                    })
                    .collect();
                unknown.sort_by_key(|r| r.type_code);
                unknown.dedup_by_key(|r| r.type_code);
                PathAttributes {
                    origin,
                    as_path,
                    next_hop,
                    med,
                    local_pref,
                    atomic_aggregate,
                    aggregator,
                    communities,
                    originator_id,
                    cluster_list,
                    mp_reach,
                    mp_unreach,
                    unknown,
                }
            },
        )
}

fn update(four: bool) -> impl Strategy<Value = Update> {
    (
        prop::collection::vec(v4net(), 0..20),
        attrs(four),
        prop::collection::vec(v4net(), 0..20),
    )
        .prop_map(|(withdrawn, attrs, nlri)| Update {
            withdrawn,
            attrs,
            nlri,
        })
}

fn capability() -> impl Strategy<Value = Capability> {
    let fam = (1u16..3, 1u8..3).prop_map(|(afi, safi)| AfiSafi { afi, safi });
    prop_oneof![
        fam.clone().prop_map(Capability::Multiprotocol),
        Just(Capability::RouteRefresh),
        Just(Capability::EnhancedRouteRefresh),
        any::<u32>().prop_map(Capability::FourOctetAs),
        (
            any::<bool>(),
            any::<bool>(),
            0u16..4096,
            prop::collection::vec((fam, any::<bool>()), 0..3)
        )
            .prop_map(|(restarting, notification, restart_time, families)| {
                Capability::GracefulRestart(GracefulRestart {
                    restarting,
                    notification,
                    restart_time,
                    families,
                })
            }),
        (128u8..=255, prop::collection::vec(any::<u8>(), 0..10))
            .prop_map(|(code, value)| Capability::Unknown { code, value }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn update_round_trip_four_octet(u in update(true)) {
        let m = Message::Update(u);
        if let Ok(b) = m.encode(O4) {
            let d = decode_message(&b, O4).unwrap();
            // Missing well-known attributes are flagged, never dropped.
            prop_assert!(d.issues.iter().all(|i| i.reason.starts_with("missing")), "{:?}", d.issues);
            prop_assert_eq!(d.message, m);
        }
    }

    #[test]
    fn update_round_trip_two_octet(u in update(false)) {
        let m = Message::Update(u);
        if let Ok(b) = m.encode(O2) {
            let d = decode_message(&b, O2).unwrap();
            prop_assert_eq!(d.message, m);
        }
    }

    #[test]
    fn open_round_trip(asn in any::<u32>(), hold in prop_oneof![Just(0u16), 3u16..], id in 1u32..0xffff_ffff,
                       caps in prop::collection::vec(capability(), 0..12)) {
        let m = Message::Open(Open::new(asn, hold, Ipv4Addr::from(id), caps));
        let b = m.encode(O4).unwrap();
        prop_assert_eq!(decode_message(&b, O4).unwrap().message, m);
    }

    #[test]
    fn decoder_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200), ty in 1u8..=5) {
        let _ = decode_message(&bytes, O4);
        let f = frame(ty, &bytes);
        let _ = decode_message(&f, O2);
        let _ = decode_message(&f, O4);
    }
}
