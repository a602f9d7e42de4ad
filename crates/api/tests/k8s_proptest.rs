//! Property tests: random valid Kubernetes NetworkPolicies, Namespaces and Pods survive
//! `to_value` → `from_value`, YAML text and JSON text unchanged, before and after defaulting.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use calico_api::codec::{decode_all, to_json, to_yaml};
use calico_api::*;
use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;

const TRICKY_LABELS: &[&str] = &[
    "no", "yes", "0777", "1e3", "null", "true", "off", "1.5", "NULL", "y",
];
const TRICKY_ANNOTATIONS: &[&str] = &[
    "no",
    "~",
    "null",
    "0777",
    "1e3",
    "",
    "a: b",
    "- x",
    "two\nlines",
];

fn label_value() -> impl Strategy<Value = String> {
    prop_oneof![
        select(TRICKY_LABELS).prop_map(String::from),
        "[a-z][a-z0-9]{0,8}"
    ]
}

fn labels() -> impl Strategy<Value = BTreeMap<String, String>> {
    btree_map("([a-z]{1,5}\\.io/)?[a-z][a-z0-9]{0,6}", label_value(), 0..4)
}

fn dns_label() -> impl Strategy<Value = String> {
    "[a-z]([a-z0-9-]{0,8}[a-z0-9])?"
}

fn meta(namespaced: bool) -> impl Strategy<Value = ObjectMeta> {
    let ns = if namespaced {
        dns_label().boxed()
    } else {
        Just(String::new()).boxed()
    };
    let annotations = btree_map(
        "[a-z]{1,6}",
        select(TRICKY_ANNOTATIONS).prop_map(String::from),
        0..3,
    );
    (dns_label(), ns, labels(), annotations).prop_map(|(name, namespace, labels, annotations)| {
        ObjectMeta {
            name,
            namespace,
            labels,
            annotations,
            ..ObjectMeta::default()
        }
    })
}

fn label_selector() -> impl Strategy<Value = LabelSelector> {
    let req = (
        "[a-z]{1,6}",
        select(
            &[
                LabelSelectorOperator::In,
                LabelSelectorOperator::NotIn,
                LabelSelectorOperator::Exists,
                LabelSelectorOperator::DoesNotExist,
            ][..],
        ),
        vec(label_value(), 1..3),
    )
        .prop_map(|(key, operator, values)| LabelSelectorRequirement {
            key,
            operator,
            values: match operator {
                LabelSelectorOperator::In | LabelSelectorOperator::NotIn => values,
                _ => vec![],
            },
        });
    (btree_map("[a-z]{1,6}", label_value(), 0..3), vec(req, 0..2)).prop_map(
        |(match_labels, match_expressions)| LabelSelector {
            match_labels,
            match_expressions,
        },
    )
}

fn k8s_port() -> impl Strategy<Value = NetworkPolicyPort> {
    let protocol = option::of(select(
        &[K8sProtocol::TCP, K8sProtocol::UDP, K8sProtocol::SCTP][..],
    ));
    let port = prop_oneof![
        Just((None, None)),
        (1i32..=65535).prop_map(|p| (Some(IntOrString::Int(p)), None)),
        (1i32..=60000, 0i32..5000).prop_map(|(p, d)| (Some(IntOrString::Int(p)), Some(p + d))),
        "[a-z][a-z0-9]{0,6}".prop_map(|n| (Some(IntOrString::String(n)), None)),
    ];
    (protocol, port).prop_map(|(protocol, (port, end_port))| NetworkPolicyPort {
        protocol,
        port,
        end_port,
    })
}

fn peer() -> impl Strategy<Value = NetworkPolicyPeer> {
    let block = (any::<[u8; 4]>(), 8u8..=24, option::of(0u8..=255)).prop_map(|(a, p, except)| {
        let net = ipnet::Ipv4Net::new(a.into(), p).unwrap().trunc();
        let except = except
            .map(|x| {
                let o = net.network().octets();
                let sub = ipnet::Ipv4Net::new([o[0], o[1], o[2], x].into(), 32).unwrap();
                vec![sub.to_string()]
            })
            .unwrap_or_default();
        IpBlock {
            cidr: net.to_string(),
            except,
        }
    });
    prop_oneof![
        block.prop_map(|b| NetworkPolicyPeer {
            ip_block: Some(b),
            ..NetworkPolicyPeer::default()
        }),
        (
            option::of(label_selector()),
            label_selector(),
            any::<bool>()
        )
            .prop_map(|(pod, ns, both)| {
                NetworkPolicyPeer {
                    pod_selector: if both {
                        pod.or(Some(LabelSelector::default()))
                    } else {
                        None
                    },
                    namespace_selector: Some(ns),
                    ip_block: None,
                }
            }),
        label_selector().prop_map(|s| NetworkPolicyPeer {
            pod_selector: Some(s),
            ..NetworkPolicyPeer::default()
        }),
    ]
}

fn k8s_network_policy() -> impl Strategy<Value = Resource> {
    let ingress = vec(
        (vec(k8s_port(), 0..3), vec(peer(), 0..3))
            .prop_map(|(ports, from)| NetworkPolicyIngressRule { ports, from }),
        0..3,
    );
    let egress = vec(
        (vec(k8s_port(), 0..3), vec(peer(), 0..3))
            .prop_map(|(ports, to)| NetworkPolicyEgressRule { ports, to }),
        0..3,
    );
    let types = select(vec![
        vec![],
        vec![K8sPolicyType::Ingress],
        vec![K8sPolicyType::Egress],
        vec![K8sPolicyType::Ingress, K8sPolicyType::Egress],
    ]);
    (meta(true), label_selector(), ingress, egress, types).prop_map(
        |(metadata, pod_selector, ingress, egress, policy_types)| {
            Resource::KubernetesNetworkPolicy(KubernetesNetworkPolicy {
                metadata,
                spec: KubernetesNetworkPolicySpec {
                    pod_selector,
                    ingress,
                    egress,
                    policy_types,
                },
            })
        },
    )
}

fn namespace() -> impl Strategy<Value = Resource> {
    (
        meta(false),
        any::<bool>(),
        select(&["", "Active", "Terminating"][..]),
    )
        .prop_map(|(metadata, fin, phase)| {
            Resource::Namespace(Namespace {
                metadata,
                spec: NamespaceSpec {
                    finalizers: if fin {
                        vec!["kubernetes".into()]
                    } else {
                        vec![]
                    },
                },
                status: NamespaceStatus {
                    phase: phase.into(),
                    conditions: vec![],
                },
            })
        })
}

fn container(name: String) -> impl Strategy<Value = Container> {
    let port = (
        option::of("[a-z][a-z0-9]{0,6}"),
        1i32..=65535,
        option::of(select(&[K8sProtocol::TCP, K8sProtocol::UDP][..])),
        any::<bool>(),
    )
        .prop_map(|(name, container_port, protocol, host)| ContainerPort {
            name: name.unwrap_or_default(),
            container_port,
            protocol,
            host_port: if host { container_port } else { 0 },
            host_ip: if host {
                "10.0.0.1".into()
            } else {
                String::new()
            },
        });
    (vec(port, 0..3), any::<bool>()).prop_map(move |(ports, args)| {
        let mut seen = std::collections::BTreeSet::new();
        let ports = ports
            .into_iter()
            .filter(|p| p.name.is_empty() || seen.insert(p.name.clone()))
            .collect();
        Container {
            name: name.clone(),
            image: "busybox".into(),
            ports,
            args: args.then(|| serde_json::json!(["sleep", "3600"])),
            resources: args.then(|| serde_json::json!({})),
            ..Container::default()
        }
    })
}

fn pod() -> impl Strategy<Value = Resource> {
    let spec = (
        container("main".into()),
        option::of(container("sidecar".into())),
        option::of(dns_label()),
        dns_label(),
        any::<bool>(),
    )
        .prop_map(|(main, sidecar, sa, node, host_network)| PodSpec {
            containers: std::iter::once(main).chain(sidecar).collect(),
            service_account_name: sa.unwrap_or_default(),
            node_name: node,
            host_network,
            restart_policy: Some(serde_json::json!("Always")),
            tolerations: host_network.then(|| serde_json::json!([{"operator": "Exists"}])),
            ..PodSpec::default()
        });
    let status = option::of(
        (
            select(&["Pending", "Running", "Succeeded"][..]),
            any::<[u8; 4]>(),
            any::<bool>(),
        )
            .prop_map(|(phase, ip, v6)| {
                let ip = std::net::Ipv4Addr::from(ip).to_string();
                let mut pod_ips = vec![PodIp { ip: ip.clone() }];
                if v6 {
                    pod_ips.push(PodIp {
                        ip: "fd00::10".into(),
                    });
                }
                PodStatus {
                    phase: phase.into(),
                    pod_ip: ip,
                    pod_ips,
                    qos_class: Some(serde_json::json!("BestEffort")),
                    ..PodStatus::default()
                }
            }),
    );
    (meta(true), spec, status).prop_map(|(metadata, spec, status)| {
        Resource::Pod(Pod {
            metadata,
            spec,
            status,
        })
    })
}

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
    for text in [
        to_yaml(&value).map_err(|e| TestCaseError::fail(e.to_string()))?,
        to_json(&value).map_err(|e| TestCaseError::fail(e.to_string()))?,
    ] {
        let docs = decode_all(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(docs.len(), 1);
        match &docs[0].1 {
            Ok(d) => prop_assert_eq!(d, r, "through\n{}", text),
            Err(e) => return Err(TestCaseError::fail(format!("{e}\n{text}"))),
        }
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
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn k8s_network_policy_round_trips(r in k8s_network_policy()) { check(r)?; }

    #[test]
    fn namespace_round_trips(r in namespace()) { check(r)?; }

    #[test]
    fn pod_round_trips(r in pod()) { check(r)?; }
}
