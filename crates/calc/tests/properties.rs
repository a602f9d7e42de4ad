//! The ordering-contract property: random batches of datastore changes (pods moving between
//! labels, nodes and addresses, namespaces relabelled, policies of every kind edited and
//! deleted, tiers, profiles, network sets, nodes, pools and blocks coming and going). After
//! every batch a consumer applies the graph's messages, refusing any dangling reference,
//! premature remove, impossible delta or no-op update; its state must then equal the state
//! computed from scratch from the datastore contents. A fresh graph fed the final contents in
//! one batch must reach the same state.

mod common;

use std::collections::BTreeMap;

use calico_api::Resource;
use calico_calc::{BlockInfo, CalcGraph, DataplaneState, ResourceKey, Update, expected_state};
use common::res;
use ipnet::IpNet;
use proptest::prelude::*;
use serde_json::{Value, json};

const NODES: [&str; 3] = ["node-1", "node-2", "node-3"];
const NAMESPACES: [&str; 2] = ["x", "y"];

#[derive(Clone, Debug)]
enum Op {
    Pod {
        ns: usize,
        idx: usize,
        node: usize,
        ip: usize,
        app: Option<&'static str>,
        role: bool,
        ports: usize,
        extra_profile: bool,
    },
    DelPod {
        ns: usize,
        idx: usize,
    },
    Namespace {
        ns: usize,
        env: Option<&'static str>,
    },
    DelNamespace {
        ns: usize,
    },
    NetSet {
        global: bool,
        ns: usize,
        idx: usize,
        app: &'static str,
        nets: Vec<&'static str>,
    },
    DelNetSet {
        global: bool,
        ns: usize,
        idx: usize,
    },
    Policy {
        kind: usize,
        ns: usize,
        idx: usize,
        tier: bool,
        order: Option<u32>,
        selector: usize,
        ns_selector: bool,
        types: usize,
        ingress: Vec<usize>,
        egress: Vec<usize>,
    },
    DelPolicy {
        kind: usize,
        ns: usize,
        idx: usize,
        tier: bool,
    },
    Tier {
        order: Option<u32>,
        pass: bool,
    },
    DelTier,
    Profile {
        labels: bool,
        ingress: Vec<usize>,
    },
    DelProfile,
    Node {
        idx: usize,
        tunnel: bool,
        subnet: bool,
    },
    DelNode {
        idx: usize,
    },
    Pool {
        nat: bool,
        vxlan: bool,
    },
    DelPool,
    Block {
        idx: usize,
        node: Option<usize>,
    },
    DelBlock {
        idx: usize,
    },
    Hep {
        idx: usize,
        app: Option<&'static str>,
        ip: usize,
        ports: bool,
    },
    DelHep {
        idx: usize,
    },
}

const SELECTORS: [&str; 6] = [
    "",
    "app == 'web'",
    "app == 'db'",
    "has(role)",
    "all()",
    "pcns.env == 'prod'",
];

fn rule(i: usize) -> Value {
    match i {
        0 => json!({"action": "Allow"}),
        1 => json!({"action": "Allow", "source": {"selector": "app == 'web'"}}),
        2 => json!({"action": "Deny", "source": {"notSelector": "has(role)"}}),
        3 => json!({"action": "Allow", "protocol": "TCP", "destination": {"ports": ["http", 80]}}),
        4 => json!({"action": "Allow", "protocol": "UDP",
                     "destination": {"selector": "app == 'db'", "ports": ["dns"]}}),
        5 => json!({"action": "Pass", "source": {"namespaceSelector": "env == 'prod'"}}),
        6 => json!({"action": "Allow",
                     "source": {"selector": "app == 'web'", "notSelector": "has(role)"}}),
        7 => json!({"action": "Deny",
                     "destination": {"nets": ["10.1.0.0/16"], "notNets": ["10.1.2.0/24"]}}),
        8 => json!({"action": "Allow", "protocol": "TCP",
                     "source": {"selector": "has(app)", "notPorts": ["http"]}}),
        9 => json!({"action": "Allow", "source": {"selector": "app == 'ext'"}}),
        _ => json!({"action": "Log", "protocol": "ICMP", "icmp": {"type": 8, "code": 0}}),
    }
}

fn k8s_rule(i: usize, ingress: bool) -> Value {
    let peers = match i % 4 {
        0 => json!([{"podSelector": {"matchLabels": {"app": "db"}}}]),
        1 => json!([{"namespaceSelector": {"matchLabels": {"env": "prod"}}}]),
        2 => json!([{"ipBlock": {"cidr": "10.1.0.0/16", "except": ["10.1.2.0/24"]}}]),
        _ => json!([]),
    };
    let ports = if i.is_multiple_of(3) {
        json!([{"port": "http", "protocol": "TCP"}])
    } else {
        json!([{"port": 80, "protocol": "TCP", "endPort": 90}])
    };
    if ingress {
        json!({"from": peers, "ports": ports})
    } else {
        json!({"to": peers, "ports": ports})
    }
}

fn ns_name(ns: usize) -> &'static str {
    NAMESPACES[ns % 2]
}

fn policy_name(idx: usize, tier: bool) -> String {
    if tier {
        format!("t1.pol{idx}")
    } else {
        format!("pol{idx}")
    }
}

fn policy_kind(kind: usize) -> &'static str {
    match kind % 3 {
        0 => "NetworkPolicy",
        1 => "GlobalNetworkPolicy",
        _ => "KubernetesNetworkPolicy",
    }
}

fn block_cidr(idx: usize) -> IpNet {
    format!("10.244.{}.0/24", idx % 3).parse().expect("cidr")
}

fn types(t: usize) -> Value {
    match t % 4 {
        0 => json!([]),
        1 => json!(["Ingress"]),
        2 => json!(["Egress"]),
        _ => json!(["Ingress", "Egress"]),
    }
}

fn to_update(op: &Op) -> Update {
    match op {
        Op::Pod {
            ns,
            idx,
            node,
            ip,
            app,
            role,
            ports,
            extra_profile,
        } => {
            let ns = ns_name(*ns);
            let pod = format!("p{idx}");
            let node = NODES[node % 3];
            let mut labels = serde_json::Map::new();
            if let Some(a) = app {
                labels.insert("app".into(), json!(a));
            }
            if *role {
                labels.insert("role".into(), json!("x"));
            }
            let ports = match ports % 3 {
                0 => json!([]),
                1 => json!([{"name": "http", "protocol": "TCP", "port": 80}]),
                _ => json!([{"name": "http", "protocol": "TCP", "port": 8080},
                             {"name": "dns", "protocol": "UDP", "port": 53}]),
            };
            let mut profiles = vec![format!("kns.{ns}"), format!("ksa.{ns}.default")];
            if *extra_profile {
                profiles.insert(0, "prof-a".into());
            }
            Update::Upsert(res(json!({
                "apiVersion": "projectcalico.org/v3",
                "kind": "WorkloadEndpoint",
                "metadata": {"namespace": ns, "name": format!("k8s-{pod}-eth0"), "labels": labels},
                "spec": {
                    "orchestrator": "k8s", "node": node, "pod": pod, "endpoint": "eth0",
                    "ipNetworks": [format!("10.244.0.{}/32", ip % 5 + 2)],
                    "profiles": profiles,
                    "interfaceName": format!("cali{ns}{pod}"),
                    "ports": ports,
                }
            })))
        }
        Op::DelPod { ns, idx } => Update::Delete(ResourceKey::new(
            "WorkloadEndpoint",
            ns_name(*ns),
            format!("k8s-p{idx}-eth0"),
        )),
        Op::Namespace { ns, env } => {
            let mut labels = serde_json::Map::new();
            labels.insert("kubernetes.io/metadata.name".into(), json!(ns_name(*ns)));
            if let Some(e) = env {
                labels.insert("env".into(), json!(e));
            }
            Update::Upsert(res(json!({
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": ns_name(*ns), "labels": labels},
            })))
        }
        Op::DelNamespace { ns } => Update::Delete(ResourceKey::new("Namespace", "", ns_name(*ns))),
        Op::NetSet {
            global,
            ns,
            idx,
            app,
            nets,
        } => {
            if *global {
                Update::Upsert(res(json!({
                    "apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkSet",
                    "metadata": {"name": format!("g{idx}"), "labels": {"app": app}},
                    "spec": {"nets": nets},
                })))
            } else {
                Update::Upsert(res(json!({
                    "apiVersion": "projectcalico.org/v3", "kind": "NetworkSet",
                    "metadata": {"name": format!("n{idx}"), "namespace": ns_name(*ns),
                                 "labels": {"app": app}},
                    "spec": {"nets": nets},
                })))
            }
        }
        Op::DelNetSet { global, ns, idx } => {
            if *global {
                Update::Delete(ResourceKey::new("GlobalNetworkSet", "", format!("g{idx}")))
            } else {
                Update::Delete(ResourceKey::new(
                    "NetworkSet",
                    ns_name(*ns),
                    format!("n{idx}"),
                ))
            }
        }
        Op::Policy {
            kind,
            ns,
            idx,
            tier,
            order,
            selector,
            ns_selector,
            types: t,
            ingress,
            egress,
        } => {
            let kind_name = policy_kind(*kind);
            let ns = ns_name(*ns);
            if kind_name == "KubernetesNetworkPolicy" {
                let pod_selector = if selector.is_multiple_of(2) {
                    json!({})
                } else {
                    json!({"matchLabels": {"app": "web"}})
                };
                let mut spec = json!({
                    "podSelector": pod_selector,
                    "ingress": ingress.iter().map(|i| k8s_rule(*i, true)).collect::<Vec<_>>(),
                    "egress": egress.iter().map(|i| k8s_rule(*i, false)).collect::<Vec<_>>(),
                });
                let pt = match t % 4 {
                    1 => json!(["Ingress"]),
                    2 => json!(["Egress"]),
                    3 => json!(["Ingress", "Egress"]),
                    _ => Value::Null,
                };
                if !pt.is_null() {
                    spec["policyTypes"] = pt;
                }
                return Update::Upsert(res(json!({
                    "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                    "metadata": {"name": format!("pol{idx}"), "namespace": ns},
                    "spec": spec,
                })));
            }
            let mut spec = json!({
                "tier": if *tier { "t1" } else { "default" },
                "selector": SELECTORS[selector % SELECTORS.len()],
                "types": types(*t),
                "ingress": ingress.iter().map(|i| rule(*i)).collect::<Vec<_>>(),
                "egress": egress.iter().map(|i| rule(*i)).collect::<Vec<_>>(),
            });
            if let Some(o) = order {
                spec["order"] = json!(o);
            }
            let mut meta = json!({"name": policy_name(*idx, *tier)});
            if kind_name == "NetworkPolicy" {
                meta["namespace"] = json!(ns);
            } else if *ns_selector {
                spec["namespaceSelector"] = json!("env == 'prod'");
            }
            Update::Upsert(res(json!({
                "apiVersion": "projectcalico.org/v3", "kind": kind_name,
                "metadata": meta, "spec": spec,
            })))
        }
        Op::DelPolicy {
            kind,
            ns,
            idx,
            tier,
        } => {
            let kind_name = policy_kind(*kind);
            let (ns, name) = match kind_name {
                "NetworkPolicy" => (ns_name(*ns), policy_name(*idx, *tier)),
                "GlobalNetworkPolicy" => ("", policy_name(*idx, *tier)),
                _ => (ns_name(*ns), format!("pol{idx}")),
            };
            Update::Delete(ResourceKey::new(kind_name, ns, name))
        }
        Op::Tier { order, pass } => {
            let mut spec = json!({"defaultAction": if *pass { "Pass" } else { "Deny" }});
            if let Some(o) = order {
                spec["order"] = json!(o);
            }
            Update::Upsert(res(json!({
                "apiVersion": "projectcalico.org/v3", "kind": "Tier",
                "metadata": {"name": "t1"}, "spec": spec,
            })))
        }
        Op::DelTier => Update::Delete(ResourceKey::new("Tier", "", "t1")),
        Op::Profile { labels, ingress } => {
            let lta = if *labels {
                json!({"app": "web", "team": "blue"})
            } else {
                json!({})
            };
            Update::Upsert(res(json!({
                "apiVersion": "projectcalico.org/v3", "kind": "Profile",
                "metadata": {"name": "prof-a"},
                "spec": {
                    "labelsToApply": lta,
                    "ingress": ingress.iter().map(|i| rule(*i)).collect::<Vec<_>>(),
                    "egress": [{"action": "Allow"}],
                },
            })))
        }
        Op::DelProfile => Update::Delete(ResourceKey::new("Profile", "", "prof-a")),
        Op::Node {
            idx,
            tunnel,
            subnet,
        } => {
            let i = idx % 3 + 1;
            let mut spec = json!({"bgp": {"ipv4Address":
                format!("192.168.{}.{i}/24", if *subnet { 0 } else { i })}});
            if *tunnel {
                spec["ipv4VXLANTunnelAddr"] = json!(format!("10.244.{}.1", i - 1));
            }
            Update::Upsert(res(json!({
                "apiVersion": "projectcalico.org/v3", "kind": "Node",
                "metadata": {"name": NODES[i - 1]}, "spec": spec,
            })))
        }
        Op::DelNode { idx } => Update::Delete(ResourceKey::new("Node", "", NODES[idx % 3])),
        Op::Pool { nat, vxlan } => Update::Upsert(res(json!({
            "apiVersion": "projectcalico.org/v3", "kind": "IPPool",
            "metadata": {"name": "pool"},
            "spec": {"cidr": "10.244.0.0/16", "natOutgoing": nat,
                     "vxlanMode": if *vxlan { "Always" } else { "Never" }},
        }))),
        Op::DelPool => Update::Delete(ResourceKey::new("IPPool", "", "pool")),
        Op::Block { idx, node } => Update::Block(BlockInfo {
            cidr: block_cidr(*idx),
            affinity: node.map(|n| NODES[n % 3].to_string()),
        }),
        Op::DelBlock { idx } => Update::BlockDelete(block_cidr(*idx)),
        Op::Hep {
            idx,
            app,
            ip,
            ports,
        } => {
            let mut labels = serde_json::Map::new();
            if let Some(a) = app {
                labels.insert("app".into(), json!(a));
            }
            let ports = if *ports {
                json!([{"name": "http", "protocol": "TCP", "port": 8443}])
            } else {
                json!([])
            };
            Update::Upsert(res(json!({
                "apiVersion": "projectcalico.org/v3", "kind": "HostEndpoint",
                "metadata": {"name": format!("hep{idx}"), "labels": labels},
                "spec": {"node": NODES[idx % 3], "interfaceName": "eth0",
                         "expectedIPs": [format!("10.244.0.{}", ip % 5 + 2), "fd00::1"],
                         "ports": ports},
            })))
        }
        Op::DelHep { idx } => {
            Update::Delete(ResourceKey::new("HostEndpoint", "", format!("hep{idx}")))
        }
    }
}

fn op() -> impl Strategy<Value = Op> {
    let app = prop_oneof![Just(None), Just(Some("web")), Just(Some("db"))];
    let env = prop_oneof![Just(None), Just(Some("prod")), Just(Some("dev"))];
    let nets = prop::sample::subsequence(
        vec!["10.244.0.2/32", "10.1.0.0/16", "192.168.5.0/24"],
        0..=3,
    );
    let rules = prop::collection::vec(0usize..11, 0..3);
    prop_oneof![
        6 => (0usize..2, 0usize..5, 0usize..3, 0usize..5, app, any::<bool>(), 0usize..3, prop::bool::weighted(0.2))
            .prop_map(|(ns, idx, node, ip, app, role, ports, extra_profile)| Op::Pod {
                ns, idx, node, ip, app, role, ports, extra_profile
            }),
        2 => (0usize..2, 0usize..5).prop_map(|(ns, idx)| Op::DelPod { ns, idx }),
        2 => (0usize..2, env).prop_map(|(ns, env)| Op::Namespace { ns, env }),
        1 => (0usize..2).prop_map(|ns| Op::DelNamespace { ns }),
        2 => (any::<bool>(), 0usize..2, 0usize..2, prop_oneof![Just("web"), Just("ext")], nets)
            .prop_map(|(global, ns, idx, app, nets)| Op::NetSet { global, ns, idx, app, nets }),
        1 => (any::<bool>(), 0usize..2, 0usize..2).prop_map(|(global, ns, idx)| Op::DelNetSet { global, ns, idx }),
        6 => (
            (0usize..3, 0usize..2, 0usize..3, any::<bool>()),
            (prop::option::of(prop_oneof![Just(10u32), Just(20u32)]), 0usize..6, any::<bool>(), 0usize..4),
            (rules.clone(), rules),
        )
            .prop_map(|((kind, ns, idx, tier), (order, selector, ns_selector, types), (ingress, egress))| {
                Op::Policy { kind, ns, idx, tier, order, selector, ns_selector, types, ingress, egress }
            }),
        2 => (0usize..3, 0usize..2, 0usize..3, any::<bool>())
            .prop_map(|(kind, ns, idx, tier)| Op::DelPolicy { kind, ns, idx, tier }),
        1 => (prop::option::of(prop_oneof![Just(5u32), Just(2_000_000u32)]), any::<bool>())
            .prop_map(|(order, pass)| Op::Tier { order, pass }),
        1 => Just(Op::DelTier),
        1 => (any::<bool>(), prop::collection::vec(0usize..11, 0..3))
            .prop_map(|(labels, ingress)| Op::Profile { labels, ingress }),
        1 => Just(Op::DelProfile),
        2 => (0usize..3, any::<bool>(), any::<bool>())
            .prop_map(|(idx, tunnel, subnet)| Op::Node { idx, tunnel, subnet }),
        1 => (0usize..3).prop_map(|idx| Op::DelNode { idx }),
        1 => (any::<bool>(), any::<bool>()).prop_map(|(nat, vxlan)| Op::Pool { nat, vxlan }),
        1 => Just(Op::DelPool),
        1 => (0usize..3, prop::option::of(0usize..3)).prop_map(|(idx, node)| Op::Block { idx, node }),
        1 => (0usize..3).prop_map(|idx| Op::DelBlock { idx }),
        1 => (0usize..2, prop_oneof![Just(None), Just(Some("web")), Just(Some("db"))], 0usize..5, any::<bool>())
            .prop_map(|(idx, app, ip, ports)| Op::Hep { idx, app, ip, ports }),
        1 => (0usize..2).prop_map(|idx| Op::DelHep { idx }),
    ]
}

/// The datastore as the test sees it.
#[derive(Default)]
struct Store {
    resources: BTreeMap<ResourceKey, Resource>,
    blocks: BTreeMap<IpNet, BlockInfo>,
}

impl Store {
    fn apply(&mut self, u: &Update) {
        match u {
            Update::Upsert(r) => {
                self.resources.insert(ResourceKey::of(r), r.clone());
            }
            Update::Delete(k) => {
                self.resources.remove(k);
            }
            Update::Block(b) => {
                self.blocks.insert(b.cidr, b.clone());
            }
            Update::BlockDelete(c) => {
                self.blocks.remove(c);
            }
            Update::InSync => {}
        }
    }

    fn expected(&self, in_sync: bool) -> DataplaneState {
        let mut st = expected_state("node-1", self.resources.values(), self.blocks.values());
        st.in_sync = in_sync;
        st
    }

    fn snapshot(&self) -> Vec<Update> {
        let mut out: Vec<Update> = self
            .resources
            .values()
            .cloned()
            .map(Update::Upsert)
            .collect();
        out.extend(self.blocks.values().cloned().map(Update::Block));
        out.push(Update::InSync);
        out
    }
}

fn check(batches: Vec<Vec<Op>>) -> Result<(), TestCaseError> {
    let mut g = CalcGraph::new("node-1");
    let mut dp = DataplaneState::default();
    let mut store = Store::default();
    for (n, batch) in batches.into_iter().enumerate() {
        let mut updates: Vec<Update> = batch.iter().map(to_update).collect();
        if n == 0 {
            updates.push(Update::InSync);
        }
        for u in &updates {
            store.apply(u);
        }
        let out = g.apply(updates);
        prop_assert!(out.errors.is_empty(), "input errors: {:?}", out.errors);
        if let Err((i, e)) = dp.apply_all(&out.messages) {
            return Err(TestCaseError::fail(format!(
                "batch {n}: message {i} breaks the contract: {e}\n{:#?}",
                out.messages
            )));
        }
        prop_assert_eq!(
            &dp,
            &store.expected(true),
            "batch {}: state differs from scratch",
            n
        );
    }
    // A fresh graph fed the final contents reaches the same state.
    let mut fresh = CalcGraph::new("node-1");
    let mut dp2 = DataplaneState::default();
    let out = fresh.apply(store.snapshot());
    if let Err((i, e)) = dp2.apply_all(&out.messages) {
        return Err(TestCaseError::fail(format!("snapshot: message {i}: {e}")));
    }
    prop_assert_eq!(&dp2, &dp, "fresh graph differs from the incremental one");
    // And the state's own message form rebuilds it.
    let mut dp3 = DataplaneState::default();
    if let Err((i, e)) = dp3.apply_all(&dp.to_messages("node-1")) {
        return Err(TestCaseError::fail(format!(
            "to_messages: message {i}: {e}"
        )));
    }
    prop_assert_eq!(&dp3, &dp);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    #[test]
    fn incremental_equals_from_scratch(
        batches in prop::collection::vec(prop::collection::vec(op(), 1..10), 1..7)
    ) {
        check(batches)?;
    }
}
