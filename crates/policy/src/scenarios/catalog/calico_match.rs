//! Calico-only match fields and actions: nets/notNets, notPorts and source ports,
//! notProtocol and protocol numbers, ICMP type/code and notICMP, ipVersion, Log, staged
//! policies, profiles deciding.

use super::{ALL, NO_CHANGE, X_ISOLATED, XA_ISOLATED, Y_ISOLATED, Z_ISOLATED};
use crate::scenarios::{Scenario, Step, icmp, tcp, udp};

pub(super) static LIST: &[Scenario] = &[
    Scenario {
        name: "nets-and-not-nets",
        description: "pods of z may send only to node 0's block: egress Deny to notNets \
                      10.244.200.0/26, then Allow; x/a accepts nets 10.244.200.0/23 minus \
                      notNets 10.244.201.0/26 (node 0's pods only)",
        steps: &[Step {
            description: "z egress and x/a ingress by nets / notNets",
            apply: "
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: z-to-node-0}
spec:
  namespaceSelector: ns == 'z'
  types: [Egress]
  egress:
  - action: Deny
    destination: {notNets: [10.244.200.0/26]}
  - action: Allow
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: a-from-node-0, namespace: x}
spec:
  selector: pod == 'a'
  ingress:
  - action: Allow
    source: {nets: [10.244.200.0/23], notNets: [10.244.201.0/26]}
",
            probes: &[tcp(
                80,
                "
    xa xb xc ya yb yc za zb zc
xa  .  .  .  .  .  .  .  .  .
xb  X  .  .  .  .  .  .  .  .
xc  .  .  .  .  .  .  .  .  .
ya  X  .  .  .  .  .  .  .  .
yb  .  .  .  .  .  .  .  .  .
yc  X  .  .  .  .  .  .  .  .
za  .  X  .  X  .  X  .  X  .
zb  X  X  .  X  .  X  .  .  .
zc  .  X  .  X  .  X  .  X  .
",
            )],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "not-ports",
        description: "x/a accepts TCP on any port but 80",
        steps: &[Step {
            description: "x/a: TCP notPorts [80]",
            apply: "
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: not-80, namespace: x}
spec:
  selector: pod == 'a'
  ingress:
  - action: Allow
    protocol: TCP
    destination: {notPorts: [80]}
",
            probes: &[tcp(81, ALL), tcp(80, XA_ISOLATED), udp(81, XA_ISOLATED)],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "source-ports",
        description: "ports in the source match the client's port, never 80 or 81 here: \
                      x/a accepts nothing",
        steps: &[Step {
            description: "x/a: TCP from source ports 80-81",
            apply: "
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: source-ports, namespace: x}
spec:
  selector: pod == 'a'
  ingress:
  - action: Allow
    protocol: TCP
    source: {ports: ['80:81']}
",
            probes: &[tcp(80, XA_ISOLATED)],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "not-protocol",
        description: "pods of x accept everything but UDP",
        steps: &[Step {
            description: "x: notProtocol UDP",
            apply: "
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: x-not-udp}
spec:
  namespaceSelector: ns == 'x'
  ingress:
  - action: Allow
    notProtocol: UDP
",
            probes: &[tcp(80, ALL), icmp(ALL), udp(80, X_ISOLATED)],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "protocol-number",
        description: "pods of x accept protocol 17 (UDP by number) only",
        steps: &[Step {
            description: "x: protocol 17",
            apply: "
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: udp-by-number, namespace: x}
spec:
  selector: all()
  ingress:
  - action: Allow
    protocol: 17
",
            probes: &[udp(80, ALL), udp(81, ALL), tcp(80, X_ISOLATED)],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "icmp-only",
        description: "pods of x accept ICMP echo requests (type 8) only",
        steps: &[Step {
            description: "x: ICMP type 8",
            apply: "
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: x-ping}
spec:
  namespaceSelector: ns == 'x'
  ingress:
  - action: Allow
    protocol: ICMP
    icmp: {type: 8}
",
            probes: &[icmp(ALL), tcp(80, X_ISOLATED)],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "icmp-deny",
        description: "pods of y refuse ICMP and accept the rest",
        steps: &[Step {
            description: "y: deny ICMP, allow",
            apply: "
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: y-no-ping}
spec:
  namespaceSelector: ns == 'y'
  ingress:
  - action: Deny
    protocol: ICMP
  - action: Allow
",
            probes: &[icmp(Y_ISOLATED), tcp(80, ALL), udp(81, ALL)],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "icmp-type-code",
        description: "pods of z allow ICMP type 8 code 1 (an echo request is code 0, so it \
                      does not match) and TCP",
        steps: &[Step {
            description: "z: ICMP type 8 code 1, TCP",
            apply: "
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: z-icmp-code}
spec:
  namespaceSelector: ns == 'z'
  ingress:
  - action: Allow
    protocol: ICMP
    icmp: {type: 8, code: 1}
  - action: Allow
    protocol: TCP
",
            probes: &[icmp(Z_ISOLATED), tcp(80, ALL), udp(80, Z_ISOLATED)],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "not-icmp",
        description: "pods of x accept ICMP except echo requests (notICMP type 8)",
        steps: &[Step {
            description: "x: ICMP notICMP type 8",
            apply: "
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: x-no-echo}
spec:
  namespaceSelector: ns == 'x'
  ingress:
  - action: Allow
    protocol: ICMP
    notICMP: {type: 8}
",
            probes: &[icmp(X_ISOLATED), tcp(80, X_ISOLATED)],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "ip-version",
        description: "pods of x accept IPv6 anything and IPv4 UDP only (the pods are IPv4)",
        steps: &[Step {
            description: "x: ipVersion 6 all, ipVersion 4 UDP",
            apply: "
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: x-ip-version}
spec:
  namespaceSelector: ns == 'x'
  ingress:
  - action: Allow
    ipVersion: 6
  - action: Allow
    ipVersion: 4
    protocol: UDP
",
            probes: &[udp(80, ALL), tcp(80, X_ISOLATED), icmp(X_ISOLATED)],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "staged-never-enforced",
        description: "staged deny-all policies change nothing",
        steps: &[Step {
            description: "staged deny-all, namespaced and global",
            apply: "
apiVersion: projectcalico.org/v3
kind: StagedNetworkPolicy
metadata: {name: deny-all, namespace: x}
spec:
  selector: all()
  types: [Ingress, Egress]
  ingress:
  - action: Deny
  egress:
  - action: Deny
---
apiVersion: projectcalico.org/v3
kind: StagedGlobalNetworkPolicy
metadata: {name: deny-all}
spec:
  selector: all()
  types: [Ingress, Egress]
",
            probes: &[tcp(80, ALL), icmp(ALL)],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "log-continues",
        description: "a Log rule matches and evaluation goes on to the Deny after it",
        steps: &[Step {
            description: "x/a: Log, deny y, allow all namespaces",
            apply: "
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: log-then-deny-y, namespace: x}
spec:
  selector: pod == 'a'
  ingress:
  - action: Log
  - action: Deny
    source: {namespaceSelector: ns == 'y'}
  - action: Allow
    source: {namespaceSelector: all()}
",
            probes: &[tcp(
                80,
                "
    xa xb xc ya yb yc za zb zc
xa  .  .  .  .  .  .  .  .  .
xb  .  .  .  .  .  .  .  .  .
xc  .  .  .  .  .  .  .  .  .
ya  X  .  .  .  .  .  .  .  .
yb  X  .  .  .  .  .  .  .  .
yc  X  .  .  .  .  .  .  .  .
za  .  .  .  .  .  .  .  .  .
zb  .  .  .  .  .  .  .  .  .
zc  .  .  .  .  .  .  .  .  .
",
            )],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "profiles-decide-ingress",
        description: "a policy selecting x only for egress leaves x's ingress to the profiles",
        steps: &[Step {
            description: "x egress TCP 81 only",
            apply: "
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: x-egress-tcp-81}
spec:
  namespaceSelector: ns == 'x'
  types: [Egress]
  egress:
  - action: Allow
    protocol: TCP
    destination: {ports: [81]}
",
            probes: &[
                tcp(
                    80,
                    "
    xa xb xc ya yb yc za zb zc
xa  .  X  X  X  X  X  X  X  X
xb  X  .  X  X  X  X  X  X  X
xc  X  X  .  X  X  X  X  X  X
ya  .  .  .  .  .  .  .  .  .
yb  .  .  .  .  .  .  .  .  .
yc  .  .  .  .  .  .  .  .  .
za  .  .  .  .  .  .  .  .  .
zb  .  .  .  .  .  .  .  .  .
zc  .  .  .  .  .  .  .  .  .
",
                ),
                tcp(81, ALL),
            ],
            ..NO_CHANGE
        }],
    },
];
