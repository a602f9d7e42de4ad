//! Properties of the evaluator: deterministic, and staged policies never change a verdict.

use calico_api::Protocol;
use calico_policy::scenarios::{self, NAMESPACES, POD_NAMES, SCENARIOS};
use calico_policy::{Packet, evaluate};
use proptest::prelude::*;

const STAGED: &str = "
---
apiVersion: projectcalico.org/v3
kind: StagedGlobalNetworkPolicy
metadata: {name: staged-deny}
spec:
  order: 1
  selector: all()
  types: [Ingress, Egress]
  ingress:
  - action: Deny
  egress:
  - action: Deny
---
apiVersion: projectcalico.org/v3
kind: StagedNetworkPolicy
metadata: {name: staged-allow, namespace: x}
spec:
  order: 1
  tier: default
  selector: all()
  types: [Ingress, Egress]
  ingress:
  - action: Allow
  egress:
  - action: Pass
";

fn packet(from: (usize, usize), to: (usize, usize), proto: u8, port: u16) -> Packet {
    let ip = |(n, p): (usize, usize)| scenarios::pod_ip(NAMESPACES[n], POD_NAMES[p]).expect("pod");
    match proto {
        0 => Packet::ping(ip(from), ip(to)),
        1 => Packet::ports(ip(from), ip(to), Protocol::Udp, port),
        _ => Packet::ports(ip(from), ip(to), Protocol::Tcp, port),
    }
}

proptest! {
    #[test]
    fn deterministic_and_staged_is_inert(
        scenario in 0..SCENARIOS.len(),
        from in (0usize..3, 0usize..3),
        to in (0usize..3, 0usize..3),
        proto in 0u8..3,
        port in prop_oneof![Just(80u16), Just(81u16), 1u16..=65535],
    ) {
        let s = &SCENARIOS[scenario];
        let mut cluster = scenarios::Cluster::new();
        cluster.apply_step(&s.steps[0]).expect("step");
        let model = cluster.model().expect("model");
        let again = cluster.model().expect("model");
        let staged_step = scenarios::Step { apply: STAGED, ..s.steps[0] };
        cluster.apply_step(&staged_step).expect("staged");
        let staged = cluster.model().expect("model");
        let pkt = packet(from, to, proto, port);
        let v = evaluate(&model, &pkt);
        prop_assert_eq!(&v, &evaluate(&again, &pkt));
        let vs = evaluate(&staged, &pkt);
        prop_assert_eq!(v.allowed, vs.allowed);
        prop_assert_eq!(v.deciding, vs.deciding);
    }
}
