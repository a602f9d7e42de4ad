//! Property tests: random valid resources of every infrastructure kind survive
//! `to_value` → `from_value`, YAML text (`to_yaml` → `decode_all`) and JSON text (`to_json` →
//! `decode_all`) unchanged. Free strings, label values and annotations include
//! YAML-1.1-ambiguous values (`no`, `on`, `0777`, `1e3`, `null`, ...).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use calico_api::codec::{decode_all, to_json, to_yaml};
use calico_api::*;
use proptest::prelude::*;
use serde_json::{Value, json};

// ------------------------------------------------------------------------------------------
// Round-trip assertions
// ------------------------------------------------------------------------------------------

fn assert_round_trips(r: &Resource) {
    if let Err(e) = r.validate() {
        panic!(
            "generator produced an invalid resource: {e}\n{:#?}",
            r.to_value()
        );
    }
    let v = r.to_value();
    let back = Resource::from_value(v.clone()).unwrap_or_else(|e| panic!("from_value: {e}\n{v:#}"));
    assert_eq!(&back, r, "value round trip of {v:#}");

    let yaml = to_yaml(&v).unwrap();
    let docs = decode_all(&yaml).unwrap_or_else(|e| panic!("YAML parse: {e}\n{yaml}"));
    assert_eq!(docs.len(), 1, "{yaml}");
    let from_yaml = docs
        .into_iter()
        .next()
        .unwrap()
        .1
        .unwrap_or_else(|e| panic!("YAML decode: {e}\n{yaml}"));
    assert_eq!(&from_yaml, r, "YAML round trip of\n{yaml}");

    let text = to_json(&v).unwrap();
    let docs = decode_all(&text).unwrap();
    let from_json = docs.into_iter().next().unwrap().1.unwrap();
    assert_eq!(&from_json, r, "JSON round trip of\n{text}");
}

// ------------------------------------------------------------------------------------------
// Common generators
// ------------------------------------------------------------------------------------------

const AMBIGUOUS_LABEL_VALUES: &[&str] = &[
    "no", "on", "off", "yes", "y", "n", "true", "False", "0777", "1e3", "null", "NULL", "Yes",
    "0x1F", "1_000", "v1.0", "", "0", "1.5", "12_30",
];

fn label_value() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(AMBIGUOUS_LABEL_VALUES).prop_map(str::to_string),
        "[a-z0-9]([a-z0-9._-]{0,10}[a-z0-9])?",
    ]
}

fn free_string() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "no",
            "on",
            "off",
            "yes",
            "true",
            "False",
            "0777",
            "1e3",
            "null",
            "~",
            "0x1F",
            "1_000",
            "12:30",
            "-",
            "v3.31.0",
            "k8s,bgp",
            "",
            "a b",
            "# not a comment",
            "@at",
            "'quoted'",
            "\"double\"",
            "multi\nline",
            "\u{fc}ber",
            "*star",
            "&anchor",
            "!tag",
            "[x]",
            "{y}",
            "%p",
            " leading",
            "trailing ",
            "1.0",
            ".inf",
            "-.5",
        ])
        .prop_map(str::to_string),
        "[a-zA-Z0-9 /._:-]{0,20}",
    ]
}

fn dns_label() -> impl Strategy<Value = String> {
    "[a-z]([a-z0-9-]{0,8}[a-z0-9])?"
}

fn metadata(name: impl Strategy<Value = String>) -> impl Strategy<Value = ObjectMeta> {
    (
        name,
        prop::collection::btree_map(
            prop::sample::select(vec![
                "app",
                "zone",
                "projectcalico.org/role",
                "a.b/c",
                "x_y",
            ]),
            label_value(),
            0..4,
        ),
        prop::collection::btree_map(
            prop::sample::select(vec!["note", "example.com/owner", "kubectl.kubernetes.io/x"]),
            free_string(),
            0..3,
        ),
    )
        .prop_map(|(name, labels, annotations)| ObjectMeta {
            name,
            labels: labels
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            annotations: annotations
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect::<BTreeMap<_, _>>(),
            ..ObjectMeta::default()
        })
}

fn selector() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "all()",
        "has(edge)",
        "zone == 'east'",
        "rack in {'r1', 'r2'} && !has(spare)",
        "kubernetes.io/os == \"linux\"",
    ])
    .prop_map(str::to_string)
}

fn go_duration() -> impl Strategy<Value = GoDuration> {
    prop_oneof![
        (0i64..100_000).prop_map(GoDuration::from_millis),
        (0i64..200_000).prop_map(GoDuration::from_secs),
        Just(GoDuration::ZERO),
    ]
}

fn as_number() -> impl Strategy<Value = AsNumber> {
    (1u32..=u32::MAX).prop_map(AsNumber)
}

fn ipv4() -> impl Strategy<Value = std::net::Ipv4Addr> {
    (1u8..=223, any::<u8>(), any::<u8>(), 1u8..=254)
        .prop_filter("not link-local", |(a, b, _, _)| !(*a == 169 && *b == 254))
        .prop_map(|(a, b, c, d)| std::net::Ipv4Addr::new(a, b, c, d))
}

fn ipv6() -> impl Strategy<Value = std::net::Ipv6Addr> {
    (any::<u16>(), any::<u16>(), any::<u16>())
        .prop_map(|(a, b, c)| std::net::Ipv6Addr::new(0xfd00, a, b, c, 0, 0, 0, 1))
}

fn community_value() -> impl Strategy<Value = String> {
    prop_oneof![
        (any::<u16>(), any::<u16>()).prop_map(|(a, b)| format!("{a}:{b}")),
        (any::<u32>(), any::<u32>(), any::<u32>()).prop_map(|(a, b, c)| format!("{a}:{b}:{c}")),
    ]
}

// ------------------------------------------------------------------------------------------
// IPPool, IPReservation, IPAMConfiguration
// ------------------------------------------------------------------------------------------

fn ippool_spec() -> impl Strategy<Value = IPPoolSpec> {
    let v4 = (1u8..=223, 16u8..=24, 0u8..3)
        .prop_filter("not link-local", |(a, _, _)| *a != 169)
        .prop_flat_map(|(a, prefix, kind)| {
            let cidr = ipnet::Ipv4Net::new(std::net::Ipv4Addr::new(a, 0, 0, 0), prefix)
                .unwrap()
                .trunc()
                .to_string();
            let block = prop_oneof![Just(0i64), (i64::from(prefix.max(20))..=32)];
            (Just(cidr), block, Just(kind))
        });
    let v6 = (any::<u16>(), 48u8..=64).prop_flat_map(|(a, prefix)| {
        let cidr =
            ipnet::Ipv6Net::new(std::net::Ipv6Addr::new(0xfd00, a, 0, 0, 0, 0, 0, 0), prefix)
                .unwrap()
                .trunc()
                .to_string();
        (Just(cidr), prop_oneof![Just(0i64), 116i64..=128], Just(3u8))
    });
    (
        prop_oneof![v4, v6],
        prop::sample::select(vec!["", "Never", "Always", "CrossSubnet"]),
        prop::sample::select(vec!["", "Never", "Always", "CrossSubnet"]),
        any::<(bool, bool, bool)>(),
        prop::option::of(selector()),
        prop::option::of(prop::sample::select(vec!["Automatic", "Manual"])),
        0usize..4,
    )
        .prop_map(
            |(
                (cidr, block_size, kind),
                ipip,
                vxlan,
                (nat, disabled, no_export),
                sel,
                mode,
                uses,
            )| {
                let v6 = kind == 3;
                let lb = kind == 2;
                let mut spec = IPPoolSpec {
                    cidr,
                    block_size,
                    nat_outgoing: nat,
                    disabled,
                    assignment_mode: mode.map(str::to_string),
                    ..IPPoolSpec::default()
                };
                if lb {
                    spec.allowed_uses = vec!["LoadBalancer".into()];
                    spec.node_selector = if sel.is_some() {
                        "all()".into()
                    } else {
                        String::new()
                    };
                    return spec;
                }
                spec.disable_bgp_export = no_export;
                spec.ipip_mode = if v6 { String::new() } else { ipip.to_string() };
                let ipip_on = matches!(spec.ipip_mode.as_str(), "Always" | "CrossSubnet");
                spec.vxlan_mode = if ipip_on {
                    "Never".into()
                } else {
                    vxlan.to_string()
                };
                spec.node_selector = sel.clone().unwrap_or_default();
                spec.allowed_uses = match uses {
                    0 => vec![],
                    1 => vec!["Workload".into()],
                    2 => vec!["Tunnel".into()],
                    _ => vec!["Workload".into(), "Tunnel".into()],
                };
                if uses == 1 {
                    spec.namespace_selector = sel.unwrap_or_default();
                }
                spec
            },
        )
}

fn ippool() -> impl Strategy<Value = Resource> {
    (metadata(dns_label()), ippool_spec(), any::<bool>()).prop_map(
        |(metadata, spec, with_status)| {
            let status = with_status.then(|| IPPoolStatus {
                conditions: vec![Condition {
                    type_: "Allocatable".into(),
                    status: "True".into(),
                    observed_generation: 2,
                    last_transition_time: Some("2026-01-01T00:00:00Z".into()),
                    reason: "OK".into(),
                    message: String::new(),
                }],
            });
            Resource::IPPool(IPPool {
                metadata,
                spec,
                status,
            })
        },
    )
}

fn ipreservation() -> impl Strategy<Value = Resource> {
    (
        metadata(dns_label()),
        prop::collection::vec(
            prop_oneof![
                ipv4().prop_map(|ip| ip.to_string()),
                (ipv4(), 8u8..=32).prop_map(|(ip, p)| format!("{ip}/{p}")),
                ipv6().prop_map(|ip| ip.to_string()),
            ],
            0..4,
        ),
    )
        .prop_map(|(metadata, reserved_cidrs)| {
            Resource::IPReservation(IPReservation {
                metadata,
                spec: IPReservationSpec { reserved_cidrs },
            })
        })
}

fn ipam_configuration() -> impl Strategy<Value = Resource> {
    (
        metadata(Just("default".to_string())),
        any::<(bool, bool)>(),
        0i64..=1_000_000,
        prop::option::of(prop::sample::select(vec!["Enabled", "Disabled"])),
        prop::option::of(0i64..=1200),
    )
        .prop_map(|(metadata, (strict, auto), max_blocks, kv, cooldown)| {
            Resource::IPAMConfiguration(IPAMConfiguration {
                metadata,
                spec: IPAMConfigurationSpec {
                    strict_affinity: strict,
                    max_blocks_per_host: max_blocks,
                    auto_allocate_blocks: auto,
                    kube_virt_vm_address_persistence: kv.map(str::to_string),
                    ip_cooldown_seconds: cooldown,
                },
            })
        })
}

// ------------------------------------------------------------------------------------------
// BGP
// ------------------------------------------------------------------------------------------

fn secret_ref() -> impl Strategy<Value = BGPPassword> {
    (
        dns_label(),
        "[a-z][a-z0-9_.-]{0,10}",
        prop::option::of(any::<bool>()),
    )
        .prop_map(|(name, key, optional)| BGPPassword {
            secret_key_ref: Some(SecretKeySelector {
                name,
                key,
                optional,
            }),
        })
}

fn bgp_configuration() -> impl Strategy<Value = Resource> {
    let name = prop_oneof![
        Just("default".to_string()),
        dns_label().prop_map(|n| format!("node.{n}"))
    ];
    (
        name,
        prop::option::of(prop::sample::select(vec![
            "Trace", "Debug", "Info", "Warning", "Error", "Fatal",
        ])),
        prop::option::of(any::<bool>()),
        prop::option::of(as_number()),
        prop::collection::btree_set(ipv4().prop_map(|ip| format!("{ip}/32")), 0..3),
        prop::collection::vec((dns_label(), community_value()), 0..3),
        0u16..=65535,
        prop::option::of(secret_ref()),
        prop::option::of(go_duration()),
        (
            prop::option::of(prop::sample::select(vec!["None", "NodeIP"])),
            prop::collection::btree_set("[a-z][a-z0-9*]{0,6}", 0..3),
            prop::option::of(prop::sample::select(vec!["Enabled", "Disabled"])),
            prop::option::of(prop::sample::select(PROGRAM_CLUSTER_ROUTES_VALUES.to_vec())),
            prop::option::of(1i64..=2_147_483_646),
        ),
    )
        .prop_flat_map(
            |(name, log, mesh, asn, ips, comms, port, pw, restart, rest)| {
                let meta = metadata(Just(name.clone()));
                (
                    meta,
                    Just((name, log, mesh, asn, ips, comms, port, pw, restart, rest)),
                )
            },
        )
        .prop_map(
            |(metadata, (name, log, mesh, asn, ips, comms, port, pw, restart, rest))| {
                let is_default = name == "default";
                let (bind, ignored, agg, pcr, prio) = rest;
                // Community names must be unique to keep the set semantics simple.
                let mut seen = std::collections::BTreeSet::new();
                let communities: Vec<Community> = comms
                    .into_iter()
                    .filter(|(n, _)| seen.insert(n.clone()))
                    .map(|(name, value)| Community { name, value })
                    .collect();
                let prefix_advertisements = if communities.is_empty() {
                    vec![]
                } else {
                    vec![PrefixAdvertisement {
                        cidr: "192.168.10.0/28".into(),
                        communities: communities
                            .iter()
                            .map(|c| c.name.clone())
                            .chain(["65000:1".to_string()])
                            .collect(),
                    }]
                };
                let mesh_on = mesh != Some(false);
                let blocks: Vec<ServiceIPBlock> = ips
                    .into_iter()
                    .map(|cidr| ServiceIPBlock { cidr })
                    .collect();
                let spec = BGPConfigurationSpec {
                    log_severity_screen: log.unwrap_or_default().to_string(),
                    node_to_node_mesh_enabled: if is_default { mesh } else { None },
                    as_number: if is_default { asn } else { None },
                    service_load_balancer_ips: if is_default { blocks.clone() } else { vec![] },
                    service_external_ips: if is_default { blocks.clone() } else { vec![] },
                    service_cluster_ips: if is_default { blocks } else { vec![] },
                    service_load_balancer_aggregation: agg.map(str::to_string),
                    communities,
                    prefix_advertisements,
                    listen_port: port,
                    node_mesh_password: if mesh_on { pw } else { None },
                    node_mesh_max_restart_time: if mesh_on { restart } else { None },
                    bind_mode: bind.map(str::to_string),
                    ignored_interfaces: ignored.into_iter().filter(|i| i != "*").collect(),
                    local_workload_peering_ipv4: "169.254.0.179".into(),
                    local_workload_peering_ipv6: String::new(),
                    program_cluster_routes: pcr.map(str::to_string),
                    ipv4_normal_route_priority: prio,
                    ipv6_normal_route_priority: None,
                };
                Resource::BGPConfiguration(BGPConfiguration { metadata, spec })
            },
        )
}

fn bgp_peer() -> impl Strategy<Value = Resource> {
    (
        metadata(dns_label()),
        0u8..3,
        prop::option::of(dns_label()),
        prop::option::of(selector()),
        prop_oneof![
            ipv4().prop_map(|ip| ip.to_string()),
            (ipv4(), 1u16..=65535).prop_map(|(ip, p)| format!("{ip}:{p}")),
            (ipv6(), 1u16..=65535).prop_map(|(ip, p)| format!("[{ip}]:{p}")),
        ],
        as_number(),
        (
            prop::option::of(as_number()),
            any::<bool>(),
            prop::option::of(prop::sample::select(vec!["Auto", "Self", "Keep"])),
            prop::option::of(secret_ref()),
            prop::sample::select(vec!["", "UseNodeIP", "None"]),
            prop::option::of(go_duration()),
            prop::option::of(go_duration()),
            prop::option::of(any::<i32>()),
            prop::option::of(any::<u8>()),
            prop::collection::vec(dns_label(), 0..3),
            prop::option::of(prop::sample::select(vec!["Auto", "Manual"])),
        ),
    )
        .prop_map(|(metadata, mode, node, node_sel, peer_ip, asn, rest)| {
            let (local_asn, keep, nhm, password, src, mrt, kat, nalan, ttl, filters, rev) = rest;
            let mut spec = BGPPeerSpec {
                local_as_number: local_asn,
                next_hop_mode: nhm.map(str::to_string),
                keep_original_next_hop: keep && nhm.is_none(),
                password,
                source_address: src.to_string(),
                max_restart_time: mrt,
                keepalive_time: kat,
                num_allowed_local_as_numbers: nalan,
                ttl_security: ttl,
                filters,
                reverse_peering: rev.map(str::to_string),
                ..BGPPeerSpec::default()
            };
            match (node, node_sel) {
                (Some(n), _) => spec.node = n,
                (None, Some(s)) => spec.node_selector = s,
                (None, None) => {}
            }
            match mode {
                0 => {
                    spec.reachable_by = if peer_ip.starts_with('[') {
                        String::new()
                    } else {
                        "10.0.0.1".into()
                    };
                    spec.peer_ip = peer_ip;
                    spec.as_number = asn;
                }
                1 => spec.peer_selector = "has(route-reflector)".into(),
                _ => {
                    spec.local_workload_selector = "app == 'bgp-speaker'".into();
                    spec.as_number = asn;
                }
            }
            Resource::BGPPeer(BGPPeer { metadata, spec })
        })
}

fn bgp_filter_rule(v4: bool) -> impl Strategy<Value = BGPFilterRule> {
    let cidr = if v4 {
        (ipv4(), 8u8..=32)
            .prop_map(|(ip, p)| ipnet::Ipv4Net::new(ip, p).unwrap().trunc().to_string())
            .boxed()
    } else {
        (ipv6(), 16u8..=128)
            .prop_map(|(ip, p)| ipnet::Ipv6Net::new(ip, p).unwrap().trunc().to_string())
            .boxed()
    };
    let max = if v4 { 32 } else { 128 };
    (
        prop::option::of((
            cidr,
            prop::sample::select(vec!["Equal", "NotEqual", "In", "NotIn"]),
        )),
        prop::option::of((prop::option::of(0..=max), prop::option::of(0..=max))),
        prop::sample::select(vec!["", "RemotePeers"]),
        prop::sample::select(vec!["", "*", "eth0", "vxlan.*", "cali*"]),
        prop::sample::select(vec!["", "eBGP", "iBGP"]),
        prop::option::of(community_value()),
        prop::collection::vec(as_number(), 0..3),
        prop::option::of(1i64..=2_147_483_646),
        any::<bool>(),
        prop::collection::vec(
            prop_oneof![
                community_value().prop_map(|v| BGPFilterOperation {
                    add_community: Some(BGPFilterAddCommunity { value: Some(v) }),
                    ..BGPFilterOperation::default()
                }),
                prop::collection::vec(as_number(), 1..4).prop_map(|prefix| BGPFilterOperation {
                    prepend_as_path: Some(BGPFilterPrependASPath { prefix }),
                    ..BGPFilterOperation::default()
                }),
                (1i64..=2_147_483_646).prop_map(|p| BGPFilterOperation {
                    set_priority: Some(BGPFilterSetPriority { value: Some(p) }),
                    ..BGPFilterOperation::default()
                }),
            ],
            0..4,
        ),
    )
        .prop_map(
            |(m, pl, source, iface, peer, comm, path, prio, accept, ops)| {
                let (cidr, op) = m.map(|(c, o)| (c, o.to_string())).unwrap_or_default();
                let has_cidr = !cidr.is_empty();
                BGPFilterRule {
                    cidr,
                    prefix_length: pl
                        .filter(|_| has_cidr)
                        .map(|(min, max)| BGPFilterPrefixLength { min, max }),
                    source: source.into(),
                    interface: iface.into(),
                    match_operator: op,
                    peer_type: peer.into(),
                    communities: comm.map(|c| BGPFilterCommunityMatch { values: vec![c] }),
                    as_path_prefix: path,
                    priority: prio,
                    action: if accept { "Accept" } else { "Reject" }.into(),
                    operations: if accept { ops } else { vec![] },
                }
            },
        )
}

fn bgp_filter() -> impl Strategy<Value = Resource> {
    (
        metadata(dns_label()),
        prop::collection::vec(bgp_filter_rule(true), 0..3),
        prop::collection::vec(bgp_filter_rule(true), 0..3),
        prop::collection::vec(bgp_filter_rule(false), 0..3),
        prop::collection::vec(bgp_filter_rule(false), 0..3),
    )
        .prop_map(|(metadata, export_v4, import_v4, export_v6, import_v6)| {
            Resource::BGPFilter(BGPFilter {
                metadata,
                spec: BGPFilterSpec {
                    export_v4,
                    import_v4,
                    export_v6,
                    import_v6,
                },
            })
        })
}

// ------------------------------------------------------------------------------------------
// Node, ClusterInformation, KubeControllersConfiguration
// ------------------------------------------------------------------------------------------

fn node() -> impl Strategy<Value = Resource> {
    (
        metadata(dns_label()),
        prop::option::of((
            prop::option::of(as_number()),
            ipv4(),
            8u8..=32,
            prop::option::of(ipv6()),
            any::<bool>(),
        )),
        prop::option::of((ipv4(), "[0-9a-f]{2}(:[0-9a-f]{2}){5}")),
        prop::collection::vec(
            (dns_label(), prop::sample::select(vec!["k8s", "openstack"])),
            0..2,
        ),
        prop::option::of(ipv4()),
        prop::collection::vec(
            (
                ipv4(),
                prop::sample::select(vec!["", "CalicoNodeIP", "InternalIP", "ExternalIP"]),
            ),
            0..3,
        ),
        prop::collection::vec(
            (dns_label(), prop::collection::vec(free_string(), 0..2)),
            0..2,
        ),
        prop::option::of(prop::sample::select(vec![
            "jlkVyQYooZYzI2wFfNhSZez5eWh44yfq1wKVjLvSXgY=",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        ])),
    )
        .prop_map(|(metadata, bgp, vxlan, orch, wg, addrs, ifaces, key)| {
            let spec = NodeSpec {
                bgp: bgp.map(|(asn, ip, p, v6, rr)| NodeBGPSpec {
                    as_number: asn,
                    ipv4_address: format!("{ip}/{p}"),
                    ipv6_address: v6.map(|a| format!("{a}/64")).unwrap_or_default(),
                    ipv4_ipip_tunnel_addr: "10.244.0.1".into(),
                    route_reflector_cluster_id: if rr {
                        "224.0.0.1".into()
                    } else {
                        String::new()
                    },
                }),
                ipv4_vxlan_tunnel_addr: vxlan
                    .as_ref()
                    .map(|(ip, _)| ip.to_string())
                    .unwrap_or_default(),
                vxlan_tunnel_mac_addr: vxlan.map(|(_, mac)| mac).unwrap_or_default(),
                orch_refs: orch
                    .into_iter()
                    .map(|(node_name, o)| OrchRef {
                        node_name,
                        orchestrator: o.into(),
                    })
                    .collect(),
                wireguard: wg.map(|ip| NodeWireguardSpec {
                    interface_ipv4_address: ip.to_string(),
                    interface_ipv6_address: String::new(),
                }),
                addresses: addrs
                    .into_iter()
                    .map(|(ip, t)| NodeAddress {
                        address: ip.to_string(),
                        type_: t.into(),
                    })
                    .collect(),
                interfaces: ifaces
                    .into_iter()
                    .map(|(name, addresses)| NodeInterface { name, addresses })
                    .collect(),
                ..NodeSpec::default()
            };
            let status = NodeStatus {
                wireguard_public_key: key.unwrap_or_default().into(),
                wireguard_public_key_v6: String::new(),
                pod_cidrs: vec!["10.244.1.0/24".into()],
            };
            Resource::Node(Node {
                metadata,
                spec,
                status,
            })
        })
}

fn cluster_information() -> impl Strategy<Value = Resource> {
    (
        metadata(Just("default".to_string())),
        free_string(),
        free_string(),
        free_string(),
        prop::option::of(any::<bool>()),
        free_string(),
    )
        .prop_map(|(metadata, guid, ty, ver, ready, variant)| {
            Resource::ClusterInformation(ClusterInformation {
                metadata,
                spec: ClusterInformationSpec {
                    cluster_guid: guid,
                    cluster_type: ty,
                    calico_version: ver,
                    datastore_ready: ready,
                    variant,
                },
            })
        })
}

fn kcc_spec() -> impl Strategy<Value = KubeControllersConfigurationSpec> {
    let ed = || prop::sample::select(vec!["", "Enabled", "Disabled"]).prop_map(str::to_string);
    let rc = || {
        prop::option::of(
            prop::option::of(go_duration()).prop_map(|p| ReconcilerConfig {
                reconciler_period: p,
            }),
        )
    };
    (
        prop::sample::select(vec!["", "Debug", "Info", "Warning", "Error", "Fatal"]),
        ed(),
        prop::option::of(go_duration()),
        prop::option::of(0i64..=65535),
        prop::option::of(0i64..=65535),
        prop::option::of((
            prop::option::of(go_duration()),
            ed(),
            prop::option::of((
                ed(),
                ed(),
                prop::collection::vec((dns_label(), label_value(), selector()), 0..2),
            )),
            prop::option::of(go_duration()),
        )),
        (rc(), rc(), rc(), rc()),
        prop::option::of(prop::sample::select(vec![
            "",
            "AllServices",
            "RequestedServicesOnly",
        ])),
        prop::option::of(ed()),
    )
        .prop_map(
            |(log, health, compaction, metrics, debug, node, (p, w, s, n), lb, mig)| {
                KubeControllersConfigurationSpec {
                    log_severity_screen: log.into(),
                    health_checks: health,
                    etcd_v3_compaction_period: compaction,
                    prometheus_metrics_port: metrics,
                    debug_profile_port: debug,
                    controllers: ControllersConfig {
                        node: node.map(|(rp, sync, hep, leak)| NodeControllerConfig {
                            reconciler_period: rp,
                            sync_labels: sync,
                            host_endpoint: hep.map(|(auto, dflt, templates)| {
                                AutoHostEndpointConfig {
                                    auto_create: auto,
                                    create_default_host_endpoint: dflt,
                                    templates: templates
                                        .into_iter()
                                        .map(|(gen_name, value, sel)| AutoHostEndpointTemplate {
                                            generate_name: gen_name,
                                            interface_cidrs: vec!["10.0.0.0/8".into()],
                                            interface_pattern: "^eth[0-9]+$".into(),
                                            labels: [("role".to_string(), value)]
                                                .into_iter()
                                                .collect(),
                                            node_selector: sel,
                                        })
                                        .collect(),
                                }
                            }),
                            leak_grace_period: leak,
                        }),
                        policy: p,
                        workload_endpoint: w,
                        service_account: s,
                        namespace: n,
                        load_balancer: lb.map(|a| LoadBalancerControllerConfig {
                            assign_ips: a.into(),
                        }),
                        migration: mig.map(|m| MigrationControllerConfig {
                            policy_name_migrator: m,
                        }),
                    },
                }
            },
        )
}

fn kube_controllers() -> impl Strategy<Value = Resource> {
    (
        metadata(Just("default".to_string())),
        kcc_spec(),
        prop::option::of(kcc_spec()),
        prop::collection::btree_map("[A-Z_]{1,10}", free_string(), 0..3),
    )
        .prop_map(|(metadata, spec, running, env)| {
            Resource::KubeControllersConfiguration(KubeControllersConfiguration {
                metadata,
                spec,
                status: KubeControllersConfigurationStatus {
                    running_config: running,
                    environment_vars: env,
                },
            })
        })
}

// ------------------------------------------------------------------------------------------
// FelixConfiguration: a random subset of every field, each with a valid value
// ------------------------------------------------------------------------------------------

type Gen = BoxedStrategy<Value>;

fn boolean() -> Gen {
    any::<bool>().prop_map(Value::from).boxed()
}

fn int(lo: i64, hi: i64) -> Gen {
    (lo..=hi).prop_map(Value::from).boxed()
}

fn duration() -> Gen {
    go_duration()
        .prop_map(|d| Value::from(d.to_string()))
        .boxed()
}

fn one_of(values: &[&'static str]) -> Gen {
    prop::sample::select(values.to_vec())
        .prop_map(Value::from)
        .boxed()
}

fn free() -> Gen {
    free_string().prop_map(Value::from).boxed()
}

fn mask() -> Gen {
    prop::sample::select(vec![0xffff_0000u32, 0xff00_0000, 0x00ff_ff00, 0x3])
        .prop_map(Value::from)
        .boxed()
}

fn cidr_list(v4_only: bool) -> Gen {
    let one = if v4_only {
        (ipv4(), 8u8..=32)
            .prop_map(|(ip, p)| format!("{ip}/{p}"))
            .boxed()
    } else {
        prop_oneof![
            (ipv4(), 8u8..=32).prop_map(|(ip, p)| format!("{ip}/{p}")),
            ipv6().prop_map(|ip| ip.to_string()),
        ]
        .boxed()
    };
    prop::collection::vec(one, 0..3)
        .prop_map(|v| json!(v))
        .boxed()
}

fn ifaces() -> Gen {
    prop::collection::vec(
        prop::sample::select(vec!["docker+", "docker0", "br-1", "eth0.100"]),
        0..3,
    )
    .prop_map(|v| json!(v))
    .boxed()
}

fn proto_ports() -> Gen {
    prop::collection::vec(
        (
            prop::sample::select(vec!["", "TCP", "UDP", "SCTP", "tcp", "udp"]),
            any::<u16>(),
            prop::option::of(prop::sample::select(vec![
                "10.0.0.0/8",
                "fd00::/8",
                "192.168.1.1",
            ])),
        )
            .prop_map(|(proto, port, net)| {
                let mut m = serde_json::Map::new();
                if !proto.is_empty() {
                    m.insert("protocol".into(), proto.into());
                }
                m.insert("port".into(), port.into());
                if let Some(n) = net {
                    m.insert("net".into(), n.into());
                }
                Value::Object(m)
            }),
        0..4,
    )
    .prop_map(Value::Array)
    .boxed()
}

fn port_value() -> BoxedStrategy<Value> {
    prop_oneof![
        any::<u16>().prop_map(Value::from),
        (any::<u16>(), any::<u16>()).prop_map(|(a, b)| Value::from(format!(
            "{}:{}",
            a.min(b),
            a.max(b)
        ))),
    ]
    .boxed()
}

fn port() -> Gen {
    port_value()
}

fn ports() -> Gen {
    prop::collection::vec(port_value(), 0..7)
        .prop_map(Value::Array)
        .boxed()
}

fn log_filters() -> Gen {
    prop::collection::btree_map(
        prop::sample::select(vec!["all", "weps", "heps", "eth0"]),
        prop::sample::select(vec!["tcp", "udp port 53", "host 10.0.0.1"]),
        0..3,
    )
    .prop_map(|m| json!(m))
    .boxed()
}

fn health_overrides() -> Gen {
    prop::collection::vec(
        (
            prop::sample::select(vec![
                "InternalDataplaneMainLoop",
                "CalculationGraph",
                "async calc",
            ]),
            go_duration(),
        ),
        0..3,
    )
    .prop_map(|v| {
        Value::Array(
            v.into_iter()
                .map(|(n, d)| json!({"name": n, "timeout": d.to_string()}))
                .collect(),
        )
    })
    .boxed()
}

fn route_table_ranges() -> Gen {
    prop::collection::vec((1i64..=60000, 0i64..=100), 0..4)
        .prop_map(|v| {
            Value::Array(
                v.into_iter()
                    .map(|(min, len)| json!({"min": min, "max": min + len}))
                    .collect(),
            )
        })
        .boxed()
}

fn conntrack_timeouts() -> Gen {
    prop::collection::btree_map(
        prop::sample::select(vec![
            "creationGracePeriod",
            "tcpSynSent",
            "tcpEstablished",
            "tcpFinsSeen",
            "tcpResetSeen",
            "udpTimeout",
            "genericTimeout",
            "icmpTimeout",
        ]),
        prop::sample::select(vec!["Auto", "10s", "1h", "1m30s", "1.5s", "250ms"]),
        0..4,
    )
    .prop_map(|m| json!(m))
    .boxed()
}

fn dscp() -> Gen {
    prop_oneof![
        (0u8..=63).prop_map(Value::from),
        prop::sample::select(vec!["EF", "AF11", "CS3", "DF"]).prop_map(Value::from)
    ]
    .boxed()
}

fn felix_fields() -> Vec<(&'static str, Gen)> {
    vec![
        ("useInternalDataplaneDriver", boolean()),
        ("dataplaneDriver", free()),
        ("dataplaneWatchdogTimeout", duration()),
        ("ipv6Support", boolean()),
        ("routeRefreshInterval", duration()),
        ("interfaceRefreshInterval", duration()),
        ("iptablesRefreshInterval", duration()),
        ("iptablesPostWriteCheckInterval", duration()),
        ("iptablesLockProbeInterval", duration()),
        (
            "featureDetectOverride",
            one_of(&[
                "SNATFullyRandom=true,MASQFullyRandom=false",
                "RestoreSupportsLock=",
                "",
            ]),
        ),
        (
            "featureGates",
            one_of(&[
                "BPFConnectTimeLoadBalancingWorkaround=enabled,XyZ=false",
                "a=b",
            ]),
        ),
        ("ipsetsRefreshInterval", duration()),
        ("maxIpsetSize", int(0, 1000000)),
        ("iptablesBackend", one_of(&["Legacy", "NFT", "Auto"])),
        ("xdpRefreshInterval", duration()),
        ("netlinkTimeout", duration()),
        ("metadataAddr", free()),
        ("metadataPort", int(0, 65535)),
        ("openstackRegion", one_of(&["region-one", "r1"])),
        ("interfacePrefix", one_of(&["cali", "cali,tap", "veth_1"])),
        ("interfaceExclude", free()),
        (
            "chainInsertMode",
            one_of(&["Insert", "Append", "insert", "append"]),
        ),
        (
            "defaultEndpointToHostAction",
            one_of(&["Drop", "Accept", "Return"]),
        ),
        ("iptablesFilterAllowAction", one_of(&["Accept", "Return"])),
        ("iptablesMangleAllowAction", one_of(&["Accept", "Return"])),
        ("iptablesFilterDenyAction", one_of(&["Drop", "Reject"])),
        ("logPrefix", one_of(&["calico-packet", "drop %t/%n:", "x"])),
        ("logFilePath", free()),
        (
            "logSeverityFile",
            one_of(&["Trace", "Debug", "Info", "Warning", "Error", "Fatal"]),
        ),
        (
            "logSeverityScreen",
            one_of(&["Trace", "Debug", "Info", "Warning", "Error", "Fatal"]),
        ),
        (
            "logSeveritySys",
            one_of(&["Trace", "Debug", "Info", "Warning", "Error", "Fatal"]),
        ),
        (
            "logDebugFilenameRegex",
            one_of(&["^route.*\\.go$", "int_dataplane"]),
        ),
        (
            "logActionRateLimit",
            one_of(&["10/second", "1/minute", "9999/hour", "5/day"]),
        ),
        ("logActionRateLimitBurst", int(0, 9999)),
        ("ipipEnabled", boolean()),
        ("ipipMTU", int(0, 1000000)),
        ("vxlanEnabled", boolean()),
        ("vxlanMTU", int(0, 1000000)),
        ("vxlanMTUV6", int(0, 1000000)),
        ("vxlanPort", int(1, 65535)),
        ("vxlanVNI", int(0, 1000000)),
        ("allowVXLANPacketsFromWorkloads", boolean()),
        ("allowIPIPPacketsFromWorkloads", boolean()),
        ("reportingInterval", duration()),
        ("reportingTTL", duration()),
        ("endpointReportingEnabled", boolean()),
        ("endpointReportingDelay", duration()),
        ("endpointStatusPathPrefix", free()),
        ("iptablesMarkMask", mask()),
        ("disableConntrackInvalidCheck", boolean()),
        ("healthEnabled", boolean()),
        ("healthHost", one_of(&["localhost", "0.0.0.0", "::"])),
        ("healthPort", int(0, 65535)),
        ("healthTimeoutOverrides", health_overrides()),
        ("prometheusMetricsEnabled", boolean()),
        ("prometheusGoMetricsEnabled", boolean()),
        ("prometheusProcessMetricsEnabled", boolean()),
        ("prometheusWireGuardMetricsEnabled", boolean()),
        (
            "prometheusMetricsHost",
            one_of(&["localhost", "10.0.0.1", "fe80::1"]),
        ),
        ("prometheusMetricsPort", int(0, 65535)),
        ("prometheusMetricsCAFile", free()),
        ("prometheusMetricsCertFile", free()),
        ("prometheusMetricsKeyFile", free()),
        (
            "prometheusMetricsClientAuth",
            one_of(&[
                "NoClientCert",
                "RequireAnyClientCert",
                "VerifyClientCertIfGiven",
                "RequireAndVerifyClientCert",
            ]),
        ),
        ("failsafeInboundHostPorts", proto_ports()),
        ("failsafeOutboundHostPorts", proto_ports()),
        ("kubeNodePortRanges", ports()),
        ("policySyncPathPrefix", free()),
        ("usageReportingEnabled", boolean()),
        ("usageReportingInitialDelay", duration()),
        ("usageReportingInterval", duration()),
        ("natPortRange", port()),
        ("natOutgoingAddress", one_of(&["10.0.0.1", "192.168.1.254"])),
        (
            "natOutgoingExclusions",
            one_of(&["IPPoolsOnly", "IPPoolsAndHostIPs"]),
        ),
        ("deviceRouteSourceAddress", one_of(&["10.0.0.1"])),
        (
            "deviceRouteSourceAddressIPv6",
            one_of(&["fd00::1", "2001:db8::5"]),
        ),
        ("deviceRouteProtocol", int(0, 1000000)),
        ("removeExternalRoutes", boolean()),
        (
            "programClusterRoutes",
            one_of(&[
                "Enabled",
                "Disabled",
                "EnabledIPIPOnly",
                "EnabledNoEncapOnly",
            ]),
        ),
        ("ipForwarding", one_of(&["Enabled", "Disabled"])),
        ("externalNodesList", cidr_list(true)),
        ("debugMemoryProfilePath", free()),
        ("debugDisableLogDropping", boolean()),
        ("debugSimulateCalcGraphHangAfter", duration()),
        ("debugSimulateDataplaneHangAfter", duration()),
        ("debugSimulateDataplaneApplyDelay", duration()),
        ("debugHost", free()),
        ("debugPort", int(0, 65535)),
        (
            "iptablesNATOutgoingInterfaceFilter",
            one_of(&["eth+", "cali-123"]),
        ),
        ("sidecarAccelerationEnabled", boolean()),
        ("xdpEnabled", boolean()),
        ("genericXDPEnabled", boolean()),
        ("nftablesMode", one_of(&["Auto", "Enabled", "Disabled"])),
        ("nftablesRefreshInterval", duration()),
        ("nftablesFilterAllowAction", one_of(&["Accept", "Return"])),
        ("nftablesMangleAllowAction", one_of(&["Accept", "Return"])),
        ("nftablesFilterDenyAction", one_of(&["Drop", "Reject"])),
        ("nftablesMarkMask", mask()),
        ("bpfEnabled", boolean()),
        ("bpfDisableUnprivileged", boolean()),
        ("bpfJITHardening", one_of(&["Auto", "Strict"])),
        ("bpfLogLevel", one_of(&["Off", "Info", "Debug"])),
        ("bpfConntrackLogLevel", one_of(&["Off", "Debug"])),
        (
            "bpfConntrackMode",
            one_of(&["Auto", "Userspace", "BPFProgram"]),
        ),
        ("bpfConntrackTimeouts", conntrack_timeouts()),
        ("bpfLogFilters", log_filters()),
        ("bpfCTLBLogFilter", free()),
        (
            "bpfDataIfacePattern",
            one_of(&[
                "^eth.*",
                "^((en|wl|ww|sl|ib)[Popsx].*|(eth|wlan|wwan|bond).*)",
            ]),
        ),
        ("bpfL3IfacePattern", one_of(&["^wg.*", "tun[0-9]+"])),
        ("bpfConnectTimeLoadBalancingEnabled", boolean()),
        (
            "bpfConnectTimeLoadBalancing",
            one_of(&["TCP", "Enabled", "Disabled"]),
        ),
        (
            "bpfHostNetworkedNATWithoutCTLB",
            one_of(&["Enabled", "Disabled"]),
        ),
        ("bpfExternalServiceMode", one_of(&["Tunnel", "DSR"])),
        ("bpfDSROptoutCIDRs", cidr_list(false)),
        ("bpfExtToServiceConnmark", int(0, 4294967295)),
        ("bpfKubeProxyIptablesCleanupEnabled", boolean()),
        ("bpfKubeProxyMinSyncPeriod", duration()),
        ("bpfKubeProxyHealthzPort", int(0, 65535)),
        ("bpfPSNATPorts", port()),
        ("bpfMapSizeNATFrontend", int(0, 1000000)),
        ("bpfMapSizeNATBackend", int(0, 1000000)),
        ("bpfMapSizeNATAffinity", int(0, 1000000)),
        ("bpfMapSizeRoute", int(0, 1000000)),
        ("bpfMapSizeConntrack", int(0, 1000000)),
        ("bpfMapSizePerCpuConntrack", int(0, 1000000)),
        (
            "bpfMapSizeConntrackScaling",
            one_of(&["Disabled", "DoubleIfFull", "doubleiffull"]),
        ),
        ("bpfMapSizeConntrackCleanupQueue", int(1, 1000000)),
        ("bpfMapSizeIPSets", int(0, 1000000)),
        ("bpfMapSizeIfState", int(0, 1000000)),
        ("bpfHostConntrackBypass", boolean()),
        (
            "bpfEnforceRPF",
            one_of(&["Disabled", "Strict", "Loose", "loose"]),
        ),
        ("bpfPolicyDebugEnabled", boolean()),
        ("bpfForceTrackPacketsFromIfaces", ifaces()),
        ("bpfDisableGROForIfaces", one_of(&["^eth1$"])),
        ("bpfExcludeCIDRsFromNAT", cidr_list(false)),
        ("bpfExportBufferSizeMB", int(0, 1000000)),
        ("bpfRedirectToPeer", one_of(&["Enabled", "Disabled"])),
        ("bpfProfiling", one_of(&["Enabled", "Disabled"])),
        ("bpfAttachType", one_of(&["Netkit", "TCX", "TC"])),
        ("bpfMaglevMaxEndpointsPerService", int(1, 3000)),
        ("bpfMaglevMaxServices", int(1, 3000)),
        (
            "bpfOverlayHostSourceIP",
            one_of(&["TunnelAddress", "HostAddress"]),
        ),
        ("bpfIPFragTimeout", duration()),
        ("bpfIPFragmentReassemblyEnabled", boolean()),
        ("cgroupV2Path", free()),
        ("routeSource", one_of(&["CalicoIPAM", "WorkloadIPs"])),
        ("routeTableRanges", route_table_ranges()),
        ("routeSyncDisabled", boolean()),
        ("wireguardEnabled", boolean()),
        ("wireguardEnabledV6", boolean()),
        ("wireguardThreadingEnabled", boolean()),
        ("wireguardListeningPort", int(1, 65535)),
        ("wireguardListeningPortV6", int(1, 65535)),
        ("wireguardRoutingRulePriority", int(1, 32765)),
        ("wireguardInterfaceName", one_of(&["wg0", "wireguard.cali"])),
        ("wireguardInterfaceNameV6", one_of(&["wg-v6.cali", "wg1"])),
        ("wireguardMTU", int(0, 1000000)),
        ("wireguardMTUV6", int(0, 1000000)),
        ("wireguardHostEncryptionEnabled", boolean()),
        ("wireguardKeepAlive", duration()),
        (
            "awsSrcDstCheck",
            one_of(&["DoNothing", "Enable", "Disable"]),
        ),
        (
            "serviceLoopPrevention",
            one_of(&["Drop", "Reject", "Disabled"]),
        ),
        ("workloadSourceSpoofing", one_of(&["Disabled", "Any"])),
        ("mtuIfacePattern", one_of(&["^eth.*", "^(en|eth).*"])),
        ("floatingIPs", one_of(&["Enabled", "Disabled"])),
        (
            "windowsManageFirewallRules",
            one_of(&["Enabled", "Disabled"]),
        ),
        ("goGCThreshold", int(-1, 1000)),
        ("goMemoryLimitMB", int(-1, 100000)),
        ("goMaxProcs", int(-1, 256)),
        ("requireMTUFile", boolean()),
        ("ipv4ElevatedRoutePriority", int(1, 2147483646)),
        ("ipv4NormalRoutePriority", int(1, 2147483646)),
        ("ipv6ElevatedRoutePriority", int(1, 2147483646)),
        ("ipv6NormalRoutePriority", int(1, 2147483646)),
        ("liveMigrationRouteConvergenceTime", duration()),
        ("istioAmbientMode", one_of(&["Enabled", "Disabled"])),
        ("istioDSCPMark", dscp()),
        (
            "localSubnetL2Reachability",
            one_of(&["Disabled", "PodsAndLoadBalancers"]),
        ),
        ("localSubnetL2ReachabilityRefreshInterval", duration()),
        ("flowLogsFlushInterval", duration()),
        ("flowLogsGoldmaneServer", free()),
        ("flowLogsLocalReporter", one_of(&["Enabled", "Disabled"])),
        (
            "flowLogsPolicyEvaluationMode",
            one_of(&["None", "Continuous"]),
        ),
        ("flowLogsCollectorDebugTrace", boolean()),
    ]
}

fn felix_configuration() -> impl Strategy<Value = Resource> {
    let fields = felix_fields();
    let n = fields.len();
    let gens: Vec<Gen> = fields
        .iter()
        .map(|(name, g)| {
            let name = *name;
            g.clone()
                .prop_map(move |v| json!({ "name": name, "value": v }))
                .boxed()
        })
        .collect();
    let picked = prop::sample::subsequence((0..n).collect::<Vec<_>>(), 0..25);
    let name = prop_oneof![
        Just("default".to_string()),
        dns_label().prop_map(|n| format!("node.{n}")),
        dns_label().prop_map(|n| format!("sel-{n}")),
    ];
    (picked, name)
        .prop_flat_map(move |(idx, name)| {
            let chosen: Vec<Gen> = idx.iter().map(|i| gens[*i].clone()).collect();
            (chosen, metadata(Just(name)), prop::option::of(selector()))
        })
        .prop_map(|(entries, metadata, sel)| {
            let mut spec = serde_json::Map::new();
            for e in entries {
                if let (Some(Value::String(k)), Some(v)) = (e.get("name"), e.get("value")) {
                    spec.insert(k.clone(), v.clone());
                }
            }
            if metadata.name.starts_with("sel-")
                && let Some(s) = sel
            {
                spec.insert("nodeSelector".into(), s.into());
            }
            let doc = json!({
                "apiVersion": "projectcalico.org/v3",
                "kind": "FelixConfiguration",
                "metadata": serde_json::to_value(&metadata).unwrap(),
                "spec": Value::Object(spec),
            });
            Resource::from_value(doc.clone()).unwrap_or_else(|e| panic!("{e}\n{doc:#}"))
        })
}

// ------------------------------------------------------------------------------------------
// The properties
// ------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn ippool_round_trips(r in ippool()) { assert_round_trips(&r); }

    #[test]
    fn ippool_defaults_are_idempotent_and_valid(r in ippool()) {
        let mut once = r.clone();
        once.apply_defaults();
        prop_assert!(once.validate().is_ok(), "{:?}", once.validate());
        let mut twice = once.clone();
        twice.apply_defaults();
        prop_assert_eq!(&once, &twice);
        assert_round_trips(&once);
    }

    #[test]
    fn ipreservation_round_trips(r in ipreservation()) { assert_round_trips(&r); }

    #[test]
    fn ipam_configuration_round_trips(r in ipam_configuration()) { assert_round_trips(&r); }

    #[test]
    fn bgp_configuration_round_trips(r in bgp_configuration()) { assert_round_trips(&r); }

    #[test]
    fn bgp_peer_round_trips(r in bgp_peer()) { assert_round_trips(&r); }

    #[test]
    fn bgp_filter_round_trips(r in bgp_filter()) { assert_round_trips(&r); }

    #[test]
    fn felix_configuration_round_trips(r in felix_configuration()) {
        assert_round_trips(&r);
        let mut d = r.clone();
        d.apply_defaults();
        assert_round_trips(&d);
    }

    #[test]
    fn node_round_trips(r in node()) { assert_round_trips(&r); }

    #[test]
    fn cluster_information_round_trips(r in cluster_information()) { assert_round_trips(&r); }

    #[test]
    fn kube_controllers_round_trips(r in kube_controllers()) {
        assert_round_trips(&r);
        let mut d = r.clone();
        d.apply_defaults();
        assert_round_trips(&d);
    }

    #[test]
    fn durations_round_trip(n in any::<i64>()) {
        let d = GoDuration::from_nanos(n);
        prop_assert_eq!(GoDuration::parse(&d.to_string()).unwrap(), d);
    }
}
