//! `calicoctl explain`: golden output on a fixed datastore (a private embedded store), and
//! the errors for bad input. `UPDATE_GOLDENS=1 cargo test -p calicoctl --test explain`
//! rewrites the golden files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Env, golden};

/// Two namespaces; x/a and x/c have WorkloadEndpoints, y/b is a Pod without one (a cluster
/// without API server), y/pending a Pod that was never scheduled. A tier `security` logs,
/// denies UDP into x, passes y on to the default tier, where a Kubernetes policy lets y in on
/// TCP 80 and a staged deny-all shows but is not enforced.
const CLUSTER: &str = r#"apiVersion: v1
kind: Namespace
metadata:
  name: x
  labels: {ns: x}
---
apiVersion: v1
kind: Namespace
metadata:
  name: "y"
  labels: {ns: "y"}
---
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata:
  name: node--0-k8s-a-eth0
  namespace: x
  labels: {pod: a, projectcalico.org/namespace: x, projectcalico.org/orchestrator: k8s}
spec:
  orchestrator: k8s
  node: node-0
  pod: a
  endpoint: eth0
  interfaceName: cali1111111111a
  serviceAccountName: frontend
  ipNetworks: [10.244.200.9/32]
  profiles: [kns.x, ksa.x.frontend]
  ports:
  - {name: serve-80-tcp, protocol: TCP, port: 80}
---
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata:
  name: node--0-k8s-c-eth0
  namespace: x
  labels: {pod: c, projectcalico.org/namespace: x, projectcalico.org/orchestrator: k8s}
spec:
  orchestrator: k8s
  node: node-0
  pod: c
  endpoint: eth0
  interfaceName: cali1111111111c
  ipNetworks: [10.244.200.11/32]
  profiles: [kns.x]
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: "y", labels: {pod: b}}
spec:
  nodeName: node-1
  containers:
  - name: serve
    ports:
    - {name: serve-80-tcp, containerPort: 80, protocol: TCP}
status:
  phase: Running
  podIP: 10.244.201.18
  podIPs: [{ip: 10.244.201.18}]
---
apiVersion: v1
kind: Pod
metadata: {name: pending, namespace: "y"}
spec:
  containers:
  - name: serve
---
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: security}
spec: {order: 100}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: security.gate}
spec:
  tier: security
  namespaceSelector: ns == 'x'
  types: [Ingress]
  ingress:
  - action: Log
  - action: Deny
    protocol: UDP
  - action: Pass
    source: {namespaceSelector: ns == 'y'}
  - action: Allow
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-y-80, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {ns: 'y'}}
    ports:
    - {port: serve-80-tcp}
---
apiVersion: projectcalico.org/v3
kind: StagedNetworkPolicy
metadata: {name: staged-deny, namespace: x}
spec:
  selector: all()
  types: [Ingress]
  ingress:
  - action: Deny
"#;

fn env() -> Env {
    let env = Env::new();
    env.run_file(&["apply"], CLUSTER).ok();
    env
}

fn explain(env: &Env, args: &[&str]) -> common::Run {
    let mut all = vec!["explain"];
    all.extend_from_slice(args);
    env.run(&all)
}

#[test]
fn explain_golden() {
    let env = env();
    let cases: &[(&str, &[&str])] = &[
        (
            "explain-pass-then-allow.txt",
            &[
                "--from",
                "y/b",
                "--to",
                "x/a",
                "--port",
                "80",
                "--protocol",
                "tcp",
            ],
        ),
        (
            "explain-end-of-tier.txt",
            &[
                "--from",
                "y/b",
                "--to",
                "x/a",
                "--port",
                "81",
                "--protocol",
                "tcp",
            ],
        ),
        (
            "explain-deny.txt",
            &[
                "--from",
                "y/b",
                "--to",
                "x/a",
                "--port",
                "80",
                "--protocol",
                "udp",
            ],
        ),
        (
            "explain-icmp.txt",
            &["--from", "x/a", "--to", "y/b", "--protocol", "icmp"],
        ),
        (
            "explain-same-namespace.txt",
            &["--from", "x/c", "--to", "x/a", "--port", "80"],
        ),
    ];
    for (file, args) in cases {
        golden(file, explain(&env, args).ok());
    }
}

#[test]
fn explain_details() {
    let env = env();
    // A WorkloadEndpoint's own name works as well as the pod's.
    let by_wep = explain(
        &env,
        &[
            "--from",
            "y/b",
            "--to",
            "x/node--0-k8s-a-eth0",
            "--port",
            "80",
        ],
    );
    let by_pod = explain(&env, &["--from", "y/b", "--to", "x/a", "--port", "80"]);
    assert_eq!(
        by_wep.ok().replace("x/node--0-k8s-a-eth0", "x/a"),
        by_pod.ok()
    );
    // A pod to itself never leaves it.
    let own = explain(&env, &["--from", "x/a", "--to", "x/a", "--port", "80"]);
    assert!(
        own.ok().contains("verdict: ALLOWED by loopback-allow"),
        "{own:?}"
    );
    // JSON: the evaluator's trace.
    let out = explain(
        &env,
        &[
            "--from",
            "y/b",
            "--to",
            "x/a",
            "--port",
            "80",
            "--protocol",
            "udp",
            "-o",
            "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(out.ok()).unwrap();
    assert_eq!(v["verdict"]["allowed"], false);
    assert_eq!(
        v["verdict"]["deciding"],
        "tier/security/policy/gnp/security.gate/ingress/1"
    );
    assert_eq!(v["packet"]["protocol"], "UDP");
    assert_eq!(v["packet"]["dstPort"], 80);
}

#[test]
fn explain_bad_input() {
    let env = env();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--from", "xa", "--to", "x/a", "--port", "80"],
            "--from \"xa\": expected NAMESPACE/POD",
        ),
        (
            &["--from", "y/b", "--to", "x/a/b", "--port", "80"],
            "--to \"x/a/b\": expected NAMESPACE/POD",
        ),
        (
            &["--from", "x/nope", "--to", "x/a", "--port", "80"],
            "unknown pod x/nope: no WorkloadEndpoint or Pod of that name in namespace x",
        ),
        (
            &["--from", "y/b", "--to", "y/pending", "--port", "80"],
            "pod y/pending has no Calico endpoint",
        ),
        (
            &["--from", "y/b", "--to", "x/a", "--port", "http"],
            "--port \"http\": expected a port number 1-65535",
        ),
        (
            &["--from", "y/b", "--to", "x/a", "--port", "0"],
            "--port \"0\": expected a port number 1-65535",
        ),
        (
            &["--from", "y/b", "--to", "x/a", "--port", "65536"],
            "--port \"65536\": expected a port number 1-65535",
        ),
        (
            &["--from", "y/b", "--to", "x/a", "--protocol", "udp"],
            "--port is required with --protocol tcp, udp or sctp",
        ),
        (
            &[
                "--from",
                "y/b",
                "--to",
                "x/a",
                "--protocol",
                "icmp",
                "--port",
                "80",
            ],
            "ICMP has no ports",
        ),
        (
            &[
                "--from",
                "y/b",
                "--to",
                "x/a",
                "--protocol",
                "gre",
                "--port",
                "80",
            ],
            "invalid value 'gre' for '--protocol <PROTOCOL>'",
        ),
        (&["--from", "y/b", "--port", "80"], "--to <NS/POD>"),
    ];
    for (args, want) in cases {
        let out = explain(&env, args);
        let err = out.fails();
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}: {out:?}");
    }
}

#[test]
fn explain_is_in_the_help() {
    let env = Env::new();
    let help = env.run(&["--help"]);
    assert!(help.ok().contains("explain"), "{help:?}");
    let help = env.run(&["explain", "--help"]);
    let text = help.ok();
    for flag in [
        "--from",
        "--to",
        "--port",
        "--protocol",
        "tcp, udp, sctp, icmp",
    ] {
        assert!(text.contains(flag), "{flag}: {text}");
    }
}
