//! Golden tests: Kubernetes NetworkPolicy → Calico conversion, compiled endpoint programs and
//! evaluation traces. `UPDATE_GOLDENS=1 cargo test -p calico-policy` rewrites the files.

use std::path::PathBuf;

use calico_api::{Protocol, Resource, codec};
use calico_policy::scenarios;
use calico_policy::{EndpointId, EndpointKind, Model, Packet, compile, evaluate, k8s};

fn check_golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDENS").is_some() {
        std::fs::write(&path, actual).expect("write golden");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDENS=1)", path.display()));
    assert!(
        expected == actual,
        "{} differs (UPDATE_GOLDENS=1 regenerates):\n--- expected\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}

/// Calico's conversion_test.go cases, restated: each k8s policy and what Calico makes of it.
const K8S_POLICIES: &str = r#"
# matchLabels become sorted equality clauses after the orchestrator clause
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: match-labels, namespace: default}
spec:
  podSelector: {matchLabels: {k2: v2, k: v}}
---
# matchExpressions: In / NotIn (values sorted), Exists, DoesNotExist
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: match-expressions, namespace: default}
spec:
  podSelector:
    matchExpressions:
    - {key: role, operator: In, values: [web, api]}
    - {key: env, operator: NotIn, values: [prod]}
    - {key: team, operator: Exists}
    - {key: toast, operator: DoesNotExist}
---
# a peer with only a namespaceSelector: the pod part is just the orchestrator clause
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: namespace-peer, namespace: default}
spec:
  podSelector: {}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {namespaceFoo: bar, namespaceRole: dev}}
---
# an empty namespaceSelector is every namespace (all()); with a podSelector both are set
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: all-namespaces, namespace: default}
spec:
  podSelector: {}
  ingress:
  - from:
    - namespaceSelector: {}
      podSelector: {matchLabels: {app: db}}
---
# ports grouped by protocol (sorted), numbers merged into ranges, named ports kept after,
# a protocol without a port means all its ports; one rule per (protocol, peer)
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ports, namespace: default}
spec:
  podSelector: {}
  ingress:
  - ports:
    - {port: 82}
    - {port: 80}
    - {port: 81}
    - {port: 9090}
    - {port: foo}
    - {protocol: UDP, port: 53}
    - {protocol: SCTP}
    from:
    - podSelector: {matchLabels: {a: b}}
    - ipBlock: {cidr: 192.168.0.0/16}
---
# port + endPort is a range
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: end-port, namespace: default}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - ports:
    - {protocol: TCP, port: 32000, endPort: 32768}
---
# ipBlock with except becomes nets / notNets; egress peers and ports go in the destination
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ipblock, namespace: default}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress, Egress]
  ingress:
  - from:
    - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16, 10.2.0.0/16]}
  egress:
  - to:
    - ipBlock: {cidr: 0.0.0.0/0, except: [169.254.169.254/32]}
    ports:
    - {protocol: UDP, port: 53}
---
# no policyTypes at all: Ingress only (egress rules are kept)
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: no-types, namespace: default}
spec:
  podSelector: {}
  ingress:
  - {}
  egress:
  - {}
---
# a rule with a bad port is dropped, the others are kept
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: bad-rule-dropped, namespace: default}
spec:
  podSelector: {}
  ingress:
  - ports:
    - {port: 90, endPort: 80}
  - ports:
    - {port: 443}
"#;

#[test]
fn k8s_conversion_golden() {
    let docs = codec::decode_all(K8S_POLICIES).expect("decode");
    let mut out = Vec::new();
    for (i, r) in docs {
        let Ok(Resource::KubernetesNetworkPolicy(np)) = r else {
            panic!("document {i} is not a k8s NetworkPolicy: {r:?}");
        };
        out.push(Resource::NetworkPolicy(k8s::convert(&np)).to_value());
    }
    check_golden(
        "k8s_conversion.yaml",
        &codec::to_yaml_multi(&out).expect("yaml"),
    );
}

fn scenario_model(name: &str) -> Model {
    let s = scenarios::find(name).expect("scenario");
    s.model_at(0).expect("model")
}

fn wep(ns: &str, name: &str) -> EndpointId {
    EndpointId {
        kind: EndpointKind::Workload,
        namespace: ns.into(),
        name: name.into(),
    }
}

fn program_yaml(model: &Model, id: &EndpointId) -> String {
    let ep = model.endpoint(id).expect("endpoint");
    let v = serde_json::to_value(compile(model, ep)).expect("json");
    codec::to_yaml(&v).expect("yaml")
}

#[test]
fn compiled_programs_golden() {
    for (scenario, ns, pod) in [
        ("tier-pass", "x", "b"),
        ("not-selector", "x", "a"),
        ("named-port", "x", "a"),
        ("staged-never-enforced", "x", "a"),
        ("gnp-namespace-selector-egress", "y", "c"),
    ] {
        let model = scenario_model(scenario);
        check_golden(
            &format!("program_{scenario}_{ns}_{pod}.yaml"),
            &program_yaml(&model, &wep(ns, pod)),
        );
    }
}

fn ip(ns: &str, pod: &str) -> std::net::IpAddr {
    scenarios::pod_ip(ns, pod).expect("pod")
}

#[test]
fn traces_golden() {
    let cases = [
        ("tier-pass", ("y", "a"), ("x", "b"), Protocol::Tcp, 80),
        ("tier-pass", ("y", "a"), ("x", "a"), Protocol::Tcp, 80),
        ("egress-only", ("x", "a"), ("y", "b"), Protocol::Tcp, 80),
        ("named-port", ("z", "c"), ("x", "a"), Protocol::Tcp, 81),
        ("log-continues", ("y", "b"), ("x", "a"), Protocol::Udp, 80),
    ];
    for (scenario, (sns, spod), (dns, dpod), proto, port) in cases {
        let model = scenario_model(scenario);
        let v = evaluate(
            &model,
            &Packet::ports(ip(sns, spod), ip(dns, dpod), proto, port),
        );
        let yaml = codec::to_yaml(&serde_json::to_value(&v).expect("json")).expect("yaml");
        check_golden(
            &format!("trace_{scenario}_{sns}{spod}_{dns}{dpod}_{proto}{port}.yaml"),
            &yaml,
        );
    }
}
