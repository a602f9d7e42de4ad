//! Property tests: random valid resources of every policy-related Calico kind survive
//! `to_value` → `from_value`, YAML text and JSON text unchanged, before and after defaulting,
//! and stay valid. Label values and annotations include strings YAML 1.1 misreads.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use calico_api::codec::{decode_all, to_json, to_yaml};
use calico_api::*;
use proptest::collection::{btree_map, btree_set, vec};
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;

// ----- metadata --------------------------------------------------------------------------

/// Valid label values that YAML 1.1 would read as something other than a string.
const TRICKY_LABELS: &[&str] = &[
    "no", "yes", "0777", "1e3", "null", "true", "off", "On", "Y", "1.5", "0x1F", "1_000", "NULL",
];
/// Annotation values: anything goes.
const TRICKY_ANNOTATIONS: &[&str] = &[
    "no",
    "yes",
    "0777",
    "1e3",
    "~",
    "null",
    "",
    "a: b",
    "#x",
    "- x",
    "{x}",
    " lead",
    "two\nlines",
    "'q'",
    "\"dq\"",
    "-1",
    "+1",
    ".5",
    "@at",
    "%pct",
];

fn label_value() -> impl Strategy<Value = String> {
    prop_oneof![
        select(TRICKY_LABELS).prop_map(String::from),
        "[a-z][a-z0-9]{0,8}",
        Just(String::new()),
    ]
}

fn labels() -> impl Strategy<Value = BTreeMap<String, String>> {
    let key = prop_oneof![
        select(
            &[
                "app",
                "tier",
                "role",
                "example.com/team",
                "projectcalico.org/x"
            ][..]
        )
        .prop_map(String::from),
        "[a-z][a-z0-9]{0,6}",
    ];
    btree_map(key, label_value(), 0..4)
}

fn annotations() -> impl Strategy<Value = BTreeMap<String, String>> {
    let value = prop_oneof![select(TRICKY_ANNOTATIONS).prop_map(String::from), ".{0,12}"];
    btree_map("[a-z][a-z0-9]{0,6}(/[a-z]{1,4})?", value, 0..3)
}

fn dns_label() -> impl Strategy<Value = String> {
    "[a-z]([a-z0-9-]{0,8}[a-z0-9])?"
}

fn meta(
    name: impl Strategy<Value = String>,
    namespaced: bool,
) -> impl Strategy<Value = ObjectMeta> {
    let ns = if namespaced {
        dns_label().boxed()
    } else {
        Just(String::new()).boxed()
    };
    (name, ns, labels(), annotations()).prop_map(|(name, namespace, labels, annotations)| {
        ObjectMeta {
            name,
            namespace,
            labels,
            annotations,
            ..ObjectMeta::default()
        }
    })
}

// ----- rule pieces ------------------------------------------------------------------------

const SELECTORS: &[&str] = &[
    "",
    "all()",
    "app == 'web'",
    "has(role)",
    "tier in {'a', 'b'}",
    "!has(x) && app != 'db'",
    "projectcalico.org/name == 'ns1'",
];

fn selector() -> impl Strategy<Value = String> {
    select(SELECTORS).prop_map(String::from)
}

fn named_port() -> impl Strategy<Value = Port> {
    "[a-zA-Z][a-zA-Z0-9_.-]{0,8}".prop_map(Port::Named)
}

fn port() -> impl Strategy<Value = Port> {
    prop_oneof![
        (1u16..=65535).prop_map(Port::single),
        (1u16..=65000, 0u16..500).prop_map(|(min, d)| Port::Range { min, max: min + d }),
        named_port(),
    ]
}

fn cidr(v4: bool, min_prefix: u8) -> BoxedStrategy<String> {
    if v4 {
        (any::<[u8; 4]>(), min_prefix..=32u8)
            .prop_map(|(a, p)| {
                let net = ipnet::Ipv4Net::new(a.into(), p).unwrap().trunc();
                net.to_string()
            })
            .boxed()
    } else {
        (any::<[u16; 8]>(), min_prefix..=128u8)
            .prop_map(|(a, p)| {
                let net = ipnet::Ipv6Net::new(a.into(), p).unwrap().trunc();
                net.to_string()
            })
            .boxed()
    }
}

fn nets(v4: bool, min_prefix: u8) -> impl Strategy<Value = Vec<String>> {
    btree_set(cidr(v4, min_prefix), 0..3).prop_map(|s| s.into_iter().collect())
}

#[derive(Debug, Clone)]
struct Parts {
    v4: bool,
    src: EntityRule,
    dst: EntityRule,
    service: Option<ServiceMatch>,
}

fn entity(v4: bool) -> impl Strategy<Value = EntityRule> {
    let sa = option::of((btree_set(dns_label(), 0..3), selector()).prop_map(
        |(names, selector)| ServiceAccountMatch {
            names: names.into_iter().collect(),
            selector,
        },
    ));
    let ns_sel = prop_oneof![selector(), Just("global()".to_string())];
    (nets(v4, 0), nets(v4, 1), selector(), selector(), ns_sel, sa).prop_map(
        |(nets, not_nets, selector, not_selector, namespace_selector, service_accounts)| {
            EntityRule {
                nets,
                not_nets,
                selector,
                not_selector,
                namespace_selector,
                service_accounts,
                ..EntityRule::default()
            }
        },
    )
}

fn parts() -> impl Strategy<Value = Parts> {
    any::<bool>().prop_flat_map(|v4| {
        let service = option::weighted(
            0.2,
            (dns_label(), dns_label())
                .prop_map(|(name, namespace)| ServiceMatch { name, namespace }),
        );
        (entity(v4), entity(v4), service).prop_map(move |(src, dst, service)| Parts {
            v4,
            src,
            dst,
            service,
        })
    })
}

fn protocol() -> impl Strategy<Value = Option<Protocol>> {
    prop_oneof![
        Just(None),
        select(&Protocol::NAMED[..]).prop_map(Some),
        (1u8..=255).prop_map(|n| Some(Protocol::Number(n))),
    ]
}

fn icmp() -> impl Strategy<Value = IcmpFields> {
    prop_oneof![
        Just(IcmpFields::default()),
        (0u8..=254).prop_map(|t| IcmpFields {
            icmp_type: Some(t),
            code: None
        }),
        (0u8..=254, any::<u8>()).prop_map(|(t, c)| IcmpFields {
            icmp_type: Some(t),
            code: Some(c)
        }),
    ]
}

fn http() -> impl Strategy<Value = HttpMatch> {
    let path = prop_oneof![
        "/[a-z0-9/]{0,8}".prop_map(|p| HttpPath {
            exact: p,
            prefix: String::new()
        }),
        "/[a-z0-9/]{0,8}".prop_map(|p| HttpPath {
            exact: String::new(),
            prefix: p
        }),
    ];
    (
        btree_set(select(&["GET", "PUT", "POST"][..]), 0..3),
        vec(path, 0..3),
    )
        .prop_map(|(m, paths)| HttpMatch {
            methods: m.into_iter().map(String::from).collect(),
            paths,
        })
}

/// A valid rule for direction `dir` (in a global policy when `global`).
fn rule(dir: PolicyType, global: bool) -> impl Strategy<Value = Rule> {
    let action = select(&[Action::Allow, Action::Deny, Action::Log, Action::Pass][..]);
    let pieces = (
        action,
        protocol(),
        option::of(select(
            &[Protocol::Tcp, Protocol::Udp, Protocol::Number(47)][..],
        )),
        any::<bool>(),
        parts(),
        (
            vec(port(), 0..3),
            vec(port(), 0..2),
            vec(port(), 0..2),
            vec(named_port(), 0..2),
        ),
        (option::of(icmp()), option::of(icmp())),
        option::weighted(0.2, http()),
        option::weighted(0.2, annotations()),
    );
    pieces.prop_map(
        move |(
            action,
            protocol,
            not_protocol,
            set_version,
            p,
            (sp, dp, dnp, named),
            (ic, nic),
            http,
            ann,
        )| {
            let Parts {
                mut v4,
                mut src,
                mut dst,
                service,
            } = p;
            // The protocol decides which ports and ICMP matches are allowed.
            let (src_ports, dst_ports, dst_not_ports) = match protocol {
                Some(pr) if pr.supports_ports() => (sp, dp, dnp),
                None => (named.clone(), named, vec![]),
                Some(_) => (vec![], vec![], vec![]),
            };
            src.ports = src_ports;
            dst.ports = dst_ports;
            dst.not_ports = dst_not_ports;
            let is_icmp = protocol.is_some_and(|p| p.is_icmp() || p.is_icmpv6());
            // ICMP protocols fix the family of the nets.
            if let Some(pr) = protocol
                && (pr.is_icmp() || pr.is_icmpv6())
                && pr.is_icmp() != v4
            {
                v4 = pr.is_icmp();
                for e in [&mut src, &mut dst] {
                    e.nets.clear();
                    e.not_nets.clear();
                }
            }
            let ip_version = set_version.then_some(if v4 { 4 } else { 6 });
            // Services: ingress source or egress destination, alone with ports only.
            if let Some(mut svc) = service {
                if !global && svc.namespace.len() % 2 == 0 {
                    svc.namespace.clear();
                }
                let end = match dir {
                    PolicyType::Ingress => &mut src,
                    PolicyType::Egress => &mut dst,
                };
                *end = EntityRule {
                    ports: if dir == PolicyType::Ingress {
                        end.ports.clone()
                    } else {
                        vec![]
                    },
                    not_ports: if dir == PolicyType::Ingress {
                        end.not_ports.clone()
                    } else {
                        vec![]
                    },
                    services: Some(svc),
                    ..EntityRule::default()
                };
            }
            let http = http.filter(|_| {
                action == Action::Allow
                    && dir == PolicyType::Ingress
                    && protocol.is_none_or(|p| p == Protocol::Tcp)
            });
            Rule {
                action,
                ip_version,
                protocol,
                icmp: ic.filter(|_| is_icmp),
                not_protocol,
                not_icmp: nic.filter(|_| is_icmp),
                source: src,
                destination: dst,
                http,
                metadata: ann.map(|annotations| RuleMetadata { annotations }),
            }
        },
    )
}

fn rules(dir: PolicyType, global: bool) -> impl Strategy<Value = Vec<Rule>> {
    vec(rule(dir, global), 0..3)
}

fn order() -> impl Strategy<Value = Option<f64>> {
    option::of((-2000i32..20000).prop_map(|n| f64::from(n) / 2.0))
}

fn types() -> impl Strategy<Value = Vec<PolicyType>> {
    use PolicyType::{Egress, Ingress};
    select(vec![
        vec![],
        vec![Ingress],
        vec![Egress],
        vec![Ingress, Egress],
        vec![Egress, Ingress],
    ])
}

fn hints() -> impl Strategy<Value = Vec<PerformanceHint>> {
    select(vec![vec![], vec![PerformanceHint::AssumeNeededOnEveryNode]])
}

fn tier_name() -> impl Strategy<Value = String> {
    select(&["", "default", "security", "kube-admin"][..]).prop_map(String::from)
}

// ----- kinds ------------------------------------------------------------------------------

fn network_policy() -> impl Strategy<Value = Resource> {
    let spec = (
        tier_name(),
        order(),
        rules(PolicyType::Ingress, false),
        rules(PolicyType::Egress, false),
        selector(),
        types(),
        selector(),
        hints(),
    )
        .prop_map(
            |(
                tier,
                order,
                ingress,
                egress,
                selector,
                types,
                service_account_selector,
                performance_hints,
            )| {
                NetworkPolicySpec {
                    tier,
                    order,
                    ingress,
                    egress,
                    selector,
                    types,
                    service_account_selector,
                    performance_hints,
                }
            },
        );
    (meta(dns_label(), true), spec).prop_map(|(metadata, spec)| {
        Resource::NetworkPolicy(NetworkPolicy {
            metadata,
            spec,
            status: None,
        })
    })
}

/// GNP flag combinations that pass the CEL rules: (doNotTrack, preDNAT, applyOnForward).
const GNP_FLAGS: &[(bool, bool, bool)] = &[
    (false, false, false),
    (false, false, true),
    (true, false, true),
    (false, true, true),
];

fn global_spec() -> impl Strategy<Value = GlobalNetworkPolicySpec> {
    (
        (
            tier_name(),
            order(),
            selector(),
            types(),
            selector(),
            selector(),
            hints(),
        ),
        rules(PolicyType::Ingress, true),
        rules(PolicyType::Egress, true),
        select(GNP_FLAGS),
    )
        .prop_map(
            |(
                (tier, order, selector, mut types, sa, ns, performance_hints),
                ingress,
                mut egress,
                (dnt, pre, aof),
            )| {
                if pre {
                    egress.clear();
                    types.retain(|t| *t == PolicyType::Ingress);
                }
                GlobalNetworkPolicySpec {
                    tier,
                    order,
                    ingress,
                    egress,
                    selector,
                    types,
                    do_not_track: dnt,
                    pre_dnat: pre,
                    apply_on_forward: aof,
                    service_account_selector: sa,
                    namespace_selector: ns,
                    performance_hints,
                }
            },
        )
}

fn global_network_policy() -> impl Strategy<Value = Resource> {
    (meta(dns_label(), false), global_spec()).prop_map(|(metadata, spec)| {
        Resource::GlobalNetworkPolicy(GlobalNetworkPolicy { metadata, spec })
    })
}

fn staged_action() -> impl Strategy<Value = Option<StagedAction>> {
    select(vec![
        None,
        Some(StagedAction::Set),
        Some(StagedAction::Learn),
        Some(StagedAction::Ignore),
        Some(StagedAction::Delete),
    ])
}

fn staged_network_policy() -> impl Strategy<Value = Resource> {
    (network_policy(), staged_action()).prop_map(|(r, staged_action)| {
        let Resource::NetworkPolicy(p) = r else {
            unreachable!()
        };
        let s = p.spec;
        let spec = if staged_action == Some(StagedAction::Delete) {
            StagedNetworkPolicySpec {
                staged_action,
                tier: s.tier,
                ..StagedNetworkPolicySpec::default()
            }
        } else {
            StagedNetworkPolicySpec {
                staged_action,
                tier: s.tier,
                order: s.order,
                ingress: s.ingress,
                egress: s.egress,
                selector: s.selector,
                types: s.types,
                service_account_selector: s.service_account_selector,
                performance_hints: s.performance_hints,
            }
        };
        Resource::StagedNetworkPolicy(StagedNetworkPolicy {
            metadata: p.metadata,
            spec,
        })
    })
}

fn staged_global_network_policy() -> impl Strategy<Value = Resource> {
    (meta(dns_label(), false), global_spec(), staged_action()).prop_map(
        |(metadata, s, staged_action)| {
            let spec = if staged_action == Some(StagedAction::Delete) {
                StagedGlobalNetworkPolicySpec {
                    staged_action,
                    tier: s.tier,
                    ..StagedGlobalNetworkPolicySpec::default()
                }
            } else {
                StagedGlobalNetworkPolicySpec {
                    staged_action,
                    tier: s.tier,
                    order: s.order,
                    ingress: s.ingress,
                    egress: s.egress,
                    selector: s.selector,
                    types: s.types,
                    do_not_track: s.do_not_track,
                    pre_dnat: s.pre_dnat,
                    apply_on_forward: s.apply_on_forward,
                    service_account_selector: s.service_account_selector,
                    namespace_selector: s.namespace_selector,
                    performance_hints: s.performance_hints,
                }
            };
            Resource::StagedGlobalNetworkPolicy(StagedGlobalNetworkPolicy { metadata, spec })
        },
    )
}

fn tier() -> impl Strategy<Value = Resource> {
    let custom = (
        meta("t[a-z0-9]{0,6}", false),
        order(),
        option::of(select(&[Action::Deny, Action::Pass][..])),
    )
        .prop_map(|(metadata, order, default_action)| Tier {
            metadata,
            spec: TierSpec {
                order,
                default_action,
            },
            status: None,
        });
    let known =
        (meta(Just("default".to_string()), false), any::<bool>()).prop_map(|(metadata, set)| {
            Tier {
                metadata,
                spec: TierSpec {
                    order: set.then_some(1_000_000.0),
                    default_action: set.then_some(Action::Deny),
                },
                status: None,
            }
        });
    prop_oneof![4 => custom, 1 => known].prop_map(Resource::Tier)
}

fn set_nets() -> impl Strategy<Value = Vec<String>> {
    let item = prop_oneof![
        any::<[u8; 4]>().prop_map(|a| std::net::Ipv4Addr::from(a).to_string()),
        (any::<[u8; 4]>(), 0u8..=32)
            .prop_map(|(a, p)| format!("{}/{p}", std::net::Ipv4Addr::from(a))),
        (any::<[u16; 8]>(), 0u8..=128)
            .prop_map(|(a, p)| format!("{}/{p}", std::net::Ipv6Addr::from(a))),
    ];
    btree_set(item, 0..4).prop_map(|s: BTreeSet<String>| s.into_iter().collect())
}

fn network_set() -> impl Strategy<Value = Resource> {
    (meta(dns_label(), true), set_nets()).prop_map(|(metadata, nets)| {
        Resource::NetworkSet(NetworkSet {
            metadata,
            spec: NetworkSetSpec { nets },
        })
    })
}

fn global_network_set() -> impl Strategy<Value = Resource> {
    (meta(dns_label(), false), set_nets()).prop_map(|(metadata, nets)| {
        Resource::GlobalNetworkSet(GlobalNetworkSet {
            metadata,
            spec: GlobalNetworkSetSpec { nets },
        })
    })
}

fn port_protocol() -> impl Strategy<Value = Protocol> {
    select(
        &[
            Protocol::Tcp,
            Protocol::Udp,
            Protocol::Sctp,
            Protocol::Number(6),
            Protocol::Number(132),
        ][..],
    )
}

fn iana_name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9]{0,6}(-[a-z0-9]{1,4})?"
}

fn host_endpoint() -> impl Strategy<Value = Resource> {
    let ips = btree_set(
        prop_oneof![
            any::<[u8; 4]>().prop_map(|a| std::net::Ipv4Addr::from(a).to_string()),
            any::<[u16; 8]>().prop_map(|a| std::net::Ipv6Addr::from(a).to_string()),
        ],
        0..3,
    );
    let ports = vec(
        (iana_name(), port_protocol(), 1u16..=65535).prop_map(|(name, protocol, port)| {
            EndpointPort {
                name,
                protocol,
                port,
            }
        }),
        0..3,
    );
    let spec = (
        dns_label(),
        select(&["", "*", "eth0", "ens3.100"][..]),
        ips,
        btree_set(dns_label(), 0..3),
        ports,
    )
        .prop_map(|(node, iface, ips, profiles, ports)| {
            let mut interface_name = iface.to_string();
            if interface_name.is_empty() && ips.is_empty() {
                interface_name = "eth0".into();
            }
            HostEndpointSpec {
                node,
                interface_name,
                expected_ips: ips.into_iter().collect(),
                profiles: profiles.into_iter().collect(),
                ports,
            }
        });
    (meta(dns_label(), false), spec)
        .prop_map(|(metadata, spec)| Resource::HostEndpoint(HostEndpoint { metadata, spec }))
}

fn qos() -> impl Strategy<Value = QosControls> {
    let bw = prop_oneof![Just(0i64), 1_000i64..=1_000_000_000_000_000];
    let pkt = prop_oneof![Just(0i64), 1i64..=10_000];
    let dscp = option::of(prop_oneof![
        (0u8..=63).prop_map(Dscp::Number),
        select(&DSCP_NAMES[..]).prop_map(|(n, _)| Dscp::Named(n.to_string())),
    ]);
    (bw.clone(), bw, pkt.clone(), pkt, dscp).prop_map(|(ib, eb, ipr, epr, dscp)| QosControls {
        ingress_bandwidth: ib,
        egress_bandwidth: eb,
        ingress_packet_rate: ipr,
        egress_packet_burst: epr,
        dscp,
        ..QosControls::default()
    })
}

fn workload_endpoint() -> impl Strategy<Value = Resource> {
    let ids = (
        select(&["k8s", "cni", "libnetwork", "openstack"][..]),
        dns_label(),
        dns_label(),
        dns_label(),
        "[a-z0-9]{1,12}",
    );
    let addrs = btree_set(any::<[u8; 4]>(), 1..3);
    let ports = vec(
        (
            option::of(iana_name()),
            port_protocol(),
            1u16..=65535,
            1u16..=65535,
            any::<bool>(),
        )
            .prop_map(
                |(name, protocol, port, host_port, with_ip)| WorkloadEndpointPort {
                    host_port: if name.is_none() { host_port } else { 0 },
                    host_ip: if name.is_none() && with_ip {
                        "10.0.0.1".into()
                    } else {
                        String::new()
                    },
                    name: name.unwrap_or_default(),
                    protocol,
                    port,
                },
            ),
        0..3,
    );
    let extra = (
        addrs,
        any::<bool>(),
        btree_set(dns_label(), 0..2),
        ports,
        option::of(qos()),
        any::<bool>(),
        "[0-9a-f]{11}",
    );
    (meta(Just(String::new()), true), ids, extra).prop_map(
        |(
            mut metadata,
            (orch, node, third, endpoint, cid),
            (addrs, nat, profiles, ports, qos, mac, iface),
        )| {
            let mut spec = WorkloadEndpointSpec {
                orchestrator: orch.into(),
                node,
                endpoint,
                interface_name: format!("cali{iface}"),
                profiles: profiles.into_iter().collect(),
                ports,
                qos_controls: qos,
                ..WorkloadEndpointSpec::default()
            };
            match orch {
                "k8s" => spec.pod = third,
                "cni" => spec.container_id = cid,
                "libnetwork" => {}
                _ => spec.workload = third,
            }
            let addrs: Vec<std::net::Ipv4Addr> = addrs.into_iter().map(Into::into).collect();
            spec.ip_networks = addrs.iter().map(|a| format!("{a}/32")).collect();
            spec.ip_networks.push("fd00::1/128".into());
            if nat {
                spec.ip_nats = vec![IpNat {
                    internal_ip: addrs[0].to_string(),
                    external_ip: "192.0.2.1".into(),
                }];
                spec.ipv4_gateway = "169.254.1.1".into();
                spec.ipv6_gateway = "fe80::ecee:eeff:feee:eeee".into();
                spec.allow_spoofed_source_prefixes = vec!["10.0.0.0/8".into(), "10.1.2.3".into()];
            }
            if mac {
                spec.mac = "ee:ee:ee:ee:ee:ee".into();
            }
            if spec.orchestrator == "k8s" {
                spec.service_account_name = "default".into();
            }
            metadata.name = spec.identifiers().name().unwrap();
            Resource::WorkloadEndpoint(WorkloadEndpoint { metadata, spec })
        },
    )
}

fn profile() -> impl Strategy<Value = Resource> {
    let spec = (
        rules(PolicyType::Ingress, false),
        rules(PolicyType::Egress, false),
        labels(),
    )
        .prop_map(|(ingress, egress, labels_to_apply)| ProfileSpec {
            ingress,
            egress,
            labels_to_apply,
        });
    (meta("(kns|ksa)\\.[a-z]{1,6}", false), spec)
        .prop_map(|(metadata, spec)| Resource::Profile(Profile { metadata, spec }))
}

// ----- the property -----------------------------------------------------------------------

fn round_trips(r: &Resource) -> Result<(), TestCaseError> {
    if let Err(e) = r.validate() {
        return Err(TestCaseError::fail(format!(
            "generated resource is invalid: {e}\n{r:?}"
        )));
    }
    let value = r.to_value();
    let back = Resource::from_value(value.clone())
        .map_err(|e| TestCaseError::fail(format!("{e}\n{value}")))?;
    prop_assert_eq!(&back, r);
    let yaml = to_yaml(&value).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let docs = decode_all(&yaml).map_err(|e| TestCaseError::fail(format!("{e}\n{yaml}")))?;
    prop_assert_eq!(docs.len(), 1);
    match &docs[0].1 {
        Ok(d) => prop_assert_eq!(d, r, "through YAML:\n{}", yaml),
        Err(e) => return Err(TestCaseError::fail(format!("{e}\n{yaml}"))),
    }
    let json = to_json(&value).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let docs = decode_all(&json).map_err(|e| TestCaseError::fail(format!("{e}\n{json}")))?;
    prop_assert_eq!(docs.len(), 1);
    match &docs[0].1 {
        Ok(d) => prop_assert_eq!(d, r, "through JSON:\n{}", json),
        Err(e) => return Err(TestCaseError::fail(format!("{e}\n{json}"))),
    }
    Ok(())
}

fn check(r: Resource) -> Result<(), TestCaseError> {
    round_trips(&r)?;
    let mut d = r.clone();
    d.apply_defaults();
    round_trips(&d)?;
    let mut again = d.clone();
    again.apply_defaults();
    prop_assert_eq!(again, d, "defaulting is idempotent");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn network_policy_round_trips(r in network_policy()) { check(r)?; }

    #[test]
    fn global_network_policy_round_trips(r in global_network_policy()) { check(r)?; }

    #[test]
    fn staged_network_policy_round_trips(r in staged_network_policy()) { check(r)?; }

    #[test]
    fn staged_global_network_policy_round_trips(r in staged_global_network_policy()) { check(r)?; }

    #[test]
    fn tier_round_trips(r in tier()) { check(r)?; }

    #[test]
    fn network_set_round_trips(r in network_set()) { check(r)?; }

    #[test]
    fn global_network_set_round_trips(r in global_network_set()) { check(r)?; }

    #[test]
    fn host_endpoint_round_trips(r in host_endpoint()) { check(r)?; }

    #[test]
    fn workload_endpoint_round_trips(r in workload_endpoint()) { check(r)?; }

    #[test]
    fn profile_round_trips(r in profile()) { check(r)?; }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary strings and numbers in rule fields are reported, never a panic.
    #[test]
    fn garbage_never_panics(
        nets in vec(".{0,24}", 0..3),
        sel in ".{0,24}",
        ns_sel in ".{0,24}",
        port in prop_oneof![".{0,12}".prop_map(serde_json::Value::from), any::<i64>().prop_map(serde_json::Value::from)],
        proto in prop_oneof![".{0,8}".prop_map(serde_json::Value::from), any::<i64>().prop_map(serde_json::Value::from)],
        icmp_type in any::<i64>(),
        ip_version in any::<i64>(),
        name in ".{0,20}",
    ) {
        let doc = serde_json::json!({
            "apiVersion": "projectcalico.org/v3", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": "x"},
            "spec": {"selector": sel, "ingress": [{
                "action": "Allow", "protocol": proto, "ipVersion": ip_version,
                "icmp": {"type": icmp_type},
                "source": {"nets": nets, "namespaceSelector": ns_sel, "ports": [port]},
            }]},
        });
        if let Ok(mut r) = Resource::from_value(doc) {
            let _ = r.validate();
            r.apply_defaults();
            let _ = r.validate();
        }
    }
}
