//! Golden tests on the message stream: each scenario is a list of batches; the messages of
//! every batch are written as JSON lines under `tests/golden/<scenario>.jsonl`, each batch
//! introduced by a `# <description>` line. `UPDATE_GOLDENS=1 cargo test -p calico-calc`
//! rewrites the files. Every stream is also applied to a contract-checking consumer whose
//! final state must equal the from-scratch computation.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use calico_api::Resource;
use calico_calc::{BlockInfo, CalcGraph, DataplaneState, ResourceKey, Update, expected_state};
use common::{upserts, wep, wep_ports};

const NODES: &str = r#"
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: node-1}
spec:
  bgp: {ipv4Address: 192.168.0.1/24}
  ipv4VXLANTunnelAddr: 10.244.0.1
---
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: node-2}
spec:
  bgp: {ipv4Address: 192.168.0.2/24}
  ipv4VXLANTunnelAddr: 10.244.0.65
  vxlanTunnelMACAddr: "66:AA:BB:CC:DD:EE"
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: default-ipv4-ippool}
spec: {cidr: 10.244.0.0/16, vxlanMode: Always, natOutgoing: true, blockSize: 26}
"#;

const NAMESPACES: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: x, labels: {kubernetes.io/metadata.name: x, env: prod}}
---
apiVersion: v1
kind: Namespace
metadata: {name: "y", labels: {kubernetes.io/metadata.name: "y", env: dev}}
"#;

fn blocks() -> Vec<Update> {
    vec![
        Update::Block(BlockInfo::from_affinity(
            "10.244.0.0/26".parse().expect("cidr"),
            Some("host:node-1"),
        )),
        Update::Block(BlockInfo::from_affinity(
            "10.244.0.64/26".parse().expect("cidr"),
            Some("host:node-2"),
        )),
    ]
}

fn pods() -> Vec<Update> {
    vec![
        Update::Upsert(wep_ports(
            "x",
            "a",
            "node-1",
            "10.244.0.2",
            &[("pod", "a")],
            &[("serve-80-tcp", "TCP", 80), ("serve-80-udp", "UDP", 80)],
        )),
        Update::Upsert(wep_ports(
            "x",
            "b",
            "node-2",
            "10.244.0.66",
            &[("pod", "b")],
            &[("serve-80-tcp", "TCP", 80)],
        )),
        Update::Upsert(wep("y", "c", "node-1", "10.244.0.3", &[("pod", "c")])),
        Update::Upsert(wep("y", "d", "node-2", "10.244.0.67", &[("pod", "d")])),
    ]
}

struct Scenario {
    name: &'static str,
    steps: Vec<(&'static str, Vec<Update>)>,
}

fn scenarios() -> Vec<Scenario> {
    let snapshot = || {
        let mut s = upserts(NODES);
        s.extend(upserts(NAMESPACES));
        s.extend(blocks());
        s.extend(pods());
        s
    };
    vec![
        Scenario {
            name: "snapshot",
            steps: vec![
                ("snapshot: nodes, pool, blocks, namespaces, four pods", {
                    let mut s = snapshot();
                    s.push(Update::InSync);
                    s
                }),
                ("re-sending the same resources changes nothing", snapshot()),
            ],
        },
        Scenario {
            name: "k8s_policy",
            steps: vec![
                ("snapshot", {
                    let mut s = snapshot();
                    s.push(Update::InSync);
                    s
                }),
                (
                    "k8s policy in x: pod a accepts pods of namespaces with env=prod on its named port",
                    upserts(
                        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-prod, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {env: prod}}
    ports:
    - {port: serve-80-tcp, protocol: TCP}
"#,
                    ),
                ),
                (
                    "namespace y becomes prod: pods c and d join the selector set",
                    upserts(
                        r#"
apiVersion: v1
kind: Namespace
metadata: {name: "y", labels: {kubernetes.io/metadata.name: "y", env: prod}}
"#,
                    ),
                ),
                (
                    "pod b (remote) gets a second address-less label: nothing changes",
                    vec![Update::Upsert(wep_ports(
                        "x",
                        "b",
                        "node-2",
                        "10.244.0.66",
                        &[("pod", "b"), ("extra", "1")],
                        &[("serve-80-tcp", "TCP", 80)],
                    ))],
                ),
                (
                    "policy deleted: endpoint first, then the policy, then its sets",
                    vec![Update::Delete(ResourceKey::new(
                        "KubernetesNetworkPolicy",
                        "x",
                        "allow-prod",
                    ))],
                ),
            ],
        },
        Scenario {
            name: "tiers",
            steps: vec![
                ("snapshot", {
                    let mut s = snapshot();
                    s.push(Update::InSync);
                    s
                }),
                (
                    "tier security (order 10, Pass) with a global deny of dev, and a default-tier policy",
                    upserts(
                        r#"
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: security}
spec: {order: 10, defaultAction: Pass}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: security.deny-dev}
spec:
  tier: security
  order: 1
  selector: all()
  namespaceSelector: env == 'prod'
  ingress:
  - action: Deny
    source: {namespaceSelector: env == 'dev'}
  - action: Log
    protocol: ICMP
    icmp: {type: 8}
  egress:
  - action: Deny
    destination: {nets: [203.0.113.0/24], notNets: [203.0.113.7/32]}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: allow-a-from-b, namespace: x}
spec:
  order: 100
  selector: pod == 'a'
  types: [Ingress]
  ingress:
  - action: Allow
    protocol: TCP
    source: {selector: pod == 'b', notSelector: extra == '1'}
    destination: {ports: [80, "8000:8080"], notPorts: [8081]}
---
apiVersion: projectcalico.org/v3
kind: StagedNetworkPolicy
metadata: {name: staged-ignored, namespace: x}
spec:
  selector: all()
  ingress: [{action: Deny}]
"#,
                    ),
                ),
                (
                    "tier security becomes Deny: only the endpoints' tier entries change",
                    upserts(
                        r#"
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: security}
spec: {order: 10, defaultAction: Deny}
"#,
                    ),
                ),
            ],
        },
        Scenario {
            name: "network",
            steps: vec![
                ("snapshot", {
                    let mut s = snapshot();
                    s.push(Update::InSync);
                    s
                }),
                (
                    "node-3 joins with its block; node-2's block moves to node-3",
                    {
                        let mut s = upserts(
                            r#"
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: node-3}
spec:
  bgp: {ipv4Address: 192.168.1.3/24}
  ipv4VXLANTunnelAddr: 10.244.0.129
"#,
                        );
                        s.push(Update::Block(BlockInfo::from_affinity(
                            "10.244.0.128/26".parse().expect("cidr"),
                            Some("host:node-3"),
                        )));
                        s.push(Update::Block(BlockInfo::from_affinity(
                            "10.244.0.64/26".parse().expect("cidr"),
                            Some("host:node-3"),
                        )));
                        s
                    },
                ),
                ("node-2 leaves; the pool stops natOutgoing", {
                    let mut s = vec![Update::Delete(ResourceKey::new("Node", "", "node-2"))];
                    s.extend(upserts(
                        r#"
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: default-ipv4-ippool}
spec: {cidr: 10.244.0.0/16, vxlanMode: Always, natOutgoing: false, blockSize: 26}
"#,
                    ));
                    s
                }),
            ],
        },
        Scenario {
            name: "netsets_profiles",
            steps: vec![
                ("snapshot", {
                    let mut s = snapshot();
                    s.push(Update::InSync);
                    s
                }),
                (
                    "network sets (global and namespaced) selected by a rule; a host endpoint too",
                    upserts(
                        r#"
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata: {name: external, labels: {role: external}}
spec: {nets: [203.0.113.0/24, 2001:db8::/64]}
---
apiVersion: projectcalico.org/v3
kind: NetworkSet
metadata: {name: partners, namespace: x, labels: {role: external}}
spec: {nets: [198.51.100.0/24]}
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: node-2-eth0, labels: {role: external}}
spec: {node: node-2, interfaceName: eth0, expectedIPs: [192.168.0.2]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: from-external}
spec:
  selector: pod == 'a'
  ingress:
  - action: Allow
    source: {selector: role == 'external'}
  - action: Deny
    source: {namespaceSelector: global()}
"#,
                    ),
                ),
                (
                    "pod c names a missing profile first: it gets the deny-all stand-in",
                    vec![Update::Upsert({
                        let mut r = wep("y", "c", "node-1", "10.244.0.3", &[("pod", "c")]);
                        if let Resource::WorkloadEndpoint(w) = &mut r {
                            w.spec.profiles.insert(0, "team-blue".into());
                        }
                        r
                    })],
                ),
                (
                    "the profile appears with labelsToApply role=external: pod c joins the set",
                    upserts(
                        r#"
apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: team-blue}
spec:
  labelsToApply: {role: external}
  ingress: [{action: Allow, source: {nets: [10.0.0.0/8]}}]
  egress: [{action: Allow}]
"#,
                    ),
                ),
                (
                    "the namespaced network set is deleted",
                    vec![Update::Delete(ResourceKey::new(
                        "NetworkSet",
                        "x",
                        "partners",
                    ))],
                ),
            ],
        },
        Scenario {
            name: "bad_input",
            steps: vec![
                ("snapshot", {
                    let mut s = snapshot();
                    s.push(Update::InSync);
                    s
                }),
                (
                    "a policy with a selector that does not parse is reported and ignored",
                    upserts(
                        r#"
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: broken}
spec:
  selector: all()
  ingress:
  - action: Allow
    source: {selector: "pod == "}
"#,
                    ),
                ),
                (
                    "fixed: it applies",
                    upserts(
                        r#"
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: broken}
spec:
  selector: all()
  ingress:
  - action: Allow
    source: {selector: "pod == 'a'"}
"#,
                    ),
                ),
                (
                    "broken again: the working version is withdrawn",
                    upserts(
                        r#"
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: broken}
spec:
  selector: all()
  ingress:
  - action: Allow
    source: {selector: "pod =="}
"#,
                    ),
                ),
            ],
        },
    ]
}

fn run(s: Scenario) -> String {
    let mut g = CalcGraph::new("node-1");
    let mut dp = DataplaneState::default();
    let mut store: BTreeMap<ResourceKey, Resource> = BTreeMap::new();
    let mut blocks = BTreeMap::new();
    let mut text = String::new();
    for (desc, updates) in s.steps {
        for u in &updates {
            match u {
                Update::Upsert(r) => {
                    store.insert(ResourceKey::of(r), r.clone());
                }
                Update::Delete(k) => {
                    store.remove(k);
                }
                Update::Block(b) => {
                    blocks.insert(b.cidr, b.clone());
                }
                Update::BlockDelete(c) => {
                    blocks.remove(c);
                }
                Update::InSync => {}
            }
        }
        let out = g.apply(updates);
        text.push_str(&format!("# {desc}\n"));
        for e in &out.errors {
            text.push_str(&format!("! {e}\n"));
        }
        for m in &out.messages {
            text.push_str(&serde_json::to_string(m).expect("messages serialize"));
            text.push('\n');
        }
        if let Err((i, e)) = dp.apply_all(&out.messages) {
            panic!("{}: {desc}: message {i} breaks the contract: {e}", s.name);
        }
        let mut want = expected_state("node-1", store.values(), blocks.values());
        want.in_sync = dp.in_sync;
        assert_eq!(dp, want, "{}: {desc}: state differs from scratch", s.name);
    }
    text
}

#[test]
fn golden_streams() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let update = std::env::var_os("UPDATE_GOLDENS").is_some();
    let mut failures = Vec::new();
    for s in scenarios() {
        let name = s.name;
        let got = run(s);
        let path = dir.join(format!("{name}.jsonl"));
        if update {
            std::fs::write(&path, &got).expect("write golden");
            continue;
        }
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDENS=1)", path.display()));
        if want != got {
            failures.push(format!(
                "{name}: stream differs from {} (UPDATE_GOLDENS=1 to accept):\n{got}",
                path.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
