//! The datastore objects of the benchmark, as calicoctl YAML.

use crate::floor::fake_peer_ip;

/// Namespace of every benchmark pod and policy.
pub const NS: &str = "x";
/// Ports the allow policy opens to peers: iperf3 and the ping-pong tool.
pub const ALLOWED_PORTS: &str = "5201,7000";
pub const IPERF_PORT: u16 = 5201;
pub const PP_PORT: u16 = 7000;
/// The port the apply-latency changes open (served by calico-lab's server in pod b).
pub const FLIP_PORT: u16 = 80;

/// Default deny (ingress) for every endpoint of the namespace.
pub fn default_deny() -> String {
    format!(
        "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {{name: default-deny, namespace: {NS}}}\nspec:\n  order: 1000\n  selector: all()\n  types: [Ingress]\n"
    )
}

/// The one allow policy: peers (`role == 'peer'`, a set) to servers on the allowed ports.
pub fn allow_peers() -> String {
    format!(
        "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {{name: allow-peers, namespace: {NS}}}\nspec:\n  order: 100\n  selector: role == 'server'\n  types: [Ingress]\n  ingress:\n  - action: Allow\n    protocol: TCP\n    source: {{selector: role == 'peer'}}\n    destination: {{ports: [{ALLOWED_PORTS}]}}\n"
    )
}

/// The change of the apply-latency benchmark: peers may reach servers on FLIP_PORT.
pub fn flip() -> String {
    format!(
        "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {{name: flip, namespace: {NS}}}\nspec:\n  order: 50\n  selector: role == 'server'\n  types: [Ingress]\n  ingress:\n  - action: Allow\n    protocol: TCP\n    source: {{selector: role == 'peer'}}\n    destination: {{ports: [{FLIP_PORT}]}}\n"
    )
}

/// Fake peers `from..to`: WorkloadEndpoints of pods on a node that does not exist, labelled
/// `role: peer`, addresses from 198.18.0.0/15.
pub fn fake_peers(from: usize, to: usize) -> String {
    let mut s = String::new();
    for i in from..to {
        s.push_str(&format!(
            "---\napiVersion: projectcalico.org/v3\nkind: WorkloadEndpoint\nmetadata:\n  name: ghost-k8s-f{i}-eth0\n  namespace: {NS}\n  labels: {{role: peer, idx: \"{i}\", projectcalico.org/namespace: {NS}, projectcalico.org/orchestrator: k8s}}\nspec:\n  orchestrator: k8s\n  node: ghost\n  pod: f{i}\n  endpoint: eth0\n  interfaceName: calif{i:010}\n  ipNetworks: [{}/32]\n  profiles: [kns.{NS}]\n",
            fake_peer_ip(i)
        ));
    }
    s
}

/// Filler policies `from..to`: each selects one fake peer (`idx == 'i'`) and allows TCP 9
/// from a documentation network; they make the policy count grow without touching the path
/// under test.
pub fn fillers(from: usize, to: usize) -> String {
    let mut s = String::new();
    for i in from..to {
        s.push_str(&format!(
            "---\napiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {{name: filler-{i}, namespace: {NS}}}\nspec:\n  order: 500\n  selector: idx == '{i}'\n  types: [Ingress]\n  ingress:\n  - action: Allow\n    protocol: TCP\n    source: {{nets: [192.0.2.{}/32]}}\n    destination: {{ports: [9]}}\n",
            i % 250 + 1
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generators_count() {
        assert_eq!(
            fake_peers(0, 3).matches("kind: WorkloadEndpoint").count(),
            3
        );
        assert_eq!(fillers(5, 7).matches("kind: NetworkPolicy").count(), 2);
        assert!(fake_peers(9999, 10000).contains("calif0000009999"));
    }
}
