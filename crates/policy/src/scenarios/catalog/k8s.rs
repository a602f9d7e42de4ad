//! Kubernetes NetworkPolicy scenarios (`networking.k8s.io/v1`), as the upstream e2e suite
//! exercises them.

use super::{
    ALL, NO_CHANGE, SELF_ONLY, X_EGRESS_ISOLATED, X_FROM_Y_ONLY, X_FULLY_ISOLATED, X_ISOLATED,
    XA_ISOLATED,
};
use crate::scenarios::{Scenario, Step, icmp, tcp, udp};

pub(super) static LIST: &[Scenario] = &[
    Scenario {
        name: "no-policy",
        description: "no policy: the namespace profiles kns.<ns> allow everything",
        steps: &[Step {
            description: "base cluster",
            probes: &[tcp(80, ALL), udp(81, ALL), icmp(ALL)],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "default-deny-ingress",
        description: "k8s policy selecting every pod of x with no ingress rules",
        steps: &[Step {
            description: "deny ingress in x",
            apply: "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-ingress, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Ingress]
",
            probes: &[tcp(80, X_ISOLATED), udp(80, X_ISOLATED)],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "default-deny-egress",
        description: "k8s policy selecting every pod of x with no egress rules",
        steps: &[Step {
            description: "deny egress in x",
            apply: "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-egress, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Egress]
",
            probes: &[tcp(80, X_EGRESS_ISOLATED), udp(81, X_EGRESS_ISOLATED)],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "default-deny-both",
        description: "k8s policy selecting every pod of x for ingress and egress, no rules",
        steps: &[Step {
            description: "deny ingress and egress in x",
            apply: "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
",
            probes: &[tcp(80, X_FULLY_ISOLATED), udp(80, X_FULLY_ISOLATED)],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "default-deny-ingress-everywhere",
        description: "a deny-ingress policy in each of x, y and z: only a pod to itself",
        steps: &[Step {
            description: "deny ingress in x, y and z",
            apply: "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-ingress, namespace: x}
spec: {podSelector: {}, policyTypes: [Ingress]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-ingress, namespace: 'y'}
spec: {podSelector: {}, policyTypes: [Ingress]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-ingress, namespace: z}
spec: {podSelector: {}, policyTypes: [Ingress]}
",
            probes: &[tcp(80, SELF_ONLY), udp(81, SELF_ONLY)],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "allow-all-beside-deny-all",
        description: "policies are additive: an allow-all ingress policy beside a deny-all \
                      one in x lets everything in",
        steps: &[Step {
            description: "deny-all and allow-all in x",
            apply: "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-ingress, namespace: x}
spec: {podSelector: {}, policyTypes: [Ingress]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-all, namespace: x}
spec:
  podSelector: {}
  ingress:
  - {}
",
            probes: &[tcp(80, ALL), udp(80, ALL)],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "allow-from-pod-selector",
        description: "x/a accepts only pods labelled pod=b of its own namespace",
        steps: &[Step {
            description: "x/a from pods b of x",
            apply: "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-b, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from:
    - podSelector: {matchLabels: {pod: b}}
",
            probes: &[tcp(
                80,
                "
    xa xb xc ya yb yc za zb zc
xa  .  .  .  .  .  .  .  .  .
xb  .  .  .  .  .  .  .  .  .
xc  X  .  .  .  .  .  .  .  .
ya  X  .  .  .  .  .  .  .  .
yb  X  .  .  .  .  .  .  .  .
yc  X  .  .  .  .  .  .  .  .
za  X  .  .  .  .  .  .  .  .
zb  X  .  .  .  .  .  .  .  .
zc  X  .  .  .  .  .  .  .  .
",
            )],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "allow-from-namespace-selector",
        description: "x/a accepts every pod of namespaces labelled ns=y",
        steps: &[Step {
            description: "x/a from namespace y",
            apply: "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-ns-y, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {ns: 'y'}}
",
            probes: &[tcp(
                80,
                "
    xa xb xc ya yb yc za zb zc
xa  .  .  .  .  .  .  .  .  .
xb  X  .  .  .  .  .  .  .  .
xc  X  .  .  .  .  .  .  .  .
ya  .  .  .  .  .  .  .  .  .
yb  .  .  .  .  .  .  .  .  .
yc  .  .  .  .  .  .  .  .  .
za  X  .  .  .  .  .  .  .  .
zb  X  .  .  .  .  .  .  .  .
zc  X  .  .  .  .  .  .  .  .
",
            )],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "allow-from-pod-and-namespace",
        description: "one peer with both selectors: pods b of namespace y only",
        steps: &[Step {
            description: "x/a from y/b",
            apply: "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-y-b, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {ns: 'y'}}
      podSelector: {matchLabels: {pod: b}}
",
            probes: &[tcp(
                80,
                "
    xa xb xc ya yb yc za zb zc
xa  .  .  .  .  .  .  .  .  .
xb  X  .  .  .  .  .  .  .  .
xc  X  .  .  .  .  .  .  .  .
ya  X  .  .  .  .  .  .  .  .
yb  .  .  .  .  .  .  .  .  .
yc  X  .  .  .  .  .  .  .  .
za  X  .  .  .  .  .  .  .  .
zb  X  .  .  .  .  .  .  .  .
zc  X  .  .  .  .  .  .  .  .
",
            )],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "allow-from-pod-or-namespace",
        description: "two peers: pods b of x, or any pod of y",
        steps: &[Step {
            description: "x/a from x/b or namespace y",
            apply: "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-b-or-y, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from:
    - podSelector: {matchLabels: {pod: b}}
    - namespaceSelector: {matchLabels: {ns: 'y'}}
",
            probes: &[tcp(
                80,
                "
    xa xb xc ya yb yc za zb zc
xa  .  .  .  .  .  .  .  .  .
xb  .  .  .  .  .  .  .  .  .
xc  X  .  .  .  .  .  .  .  .
ya  .  .  .  .  .  .  .  .  .
yb  .  .  .  .  .  .  .  .  .
yc  .  .  .  .  .  .  .  .  .
za  X  .  .  .  .  .  .  .  .
zb  X  .  .  .  .  .  .  .  .
zc  X  .  .  .  .  .  .  .  .
",
            )],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "allow-from-all-namespaces",
        description: "an empty namespaceSelector means every namespace: pods c anywhere",
        steps: &[Step {
            description: "x/a from pods c of every namespace",
            apply: "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-c-anywhere, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from:
    - namespaceSelector: {}
      podSelector: {matchLabels: {pod: c}}
",
            probes: &[tcp(
                80,
                "
    xa xb xc ya yb yc za zb zc
xa  .  .  .  .  .  .  .  .  .
xb  X  .  .  .  .  .  .  .  .
xc  .  .  .  .  .  .  .  .  .
ya  X  .  .  .  .  .  .  .  .
yb  X  .  .  .  .  .  .  .  .
yc  .  .  .  .  .  .  .  .  .
za  X  .  .  .  .  .  .  .  .
zb  X  .  .  .  .  .  .  .  .
zc  .  .  .  .  .  .  .  .  .
",
            )],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "match-expressions",
        description: "x/a accepts pods b and c (In) of namespaces other than z (NotIn)",
        steps: &[Step {
            description: "x/a from pod in {b, c}, ns not in {z}",
            apply: "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: expressions, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from:
    - namespaceSelector:
        matchExpressions: [{key: ns, operator: NotIn, values: [z]}]
      podSelector:
        matchExpressions: [{key: pod, operator: In, values: [b, c]}]
",
            probes: &[tcp(
                80,
                "
    xa xb xc ya yb yc za zb zc
xa  .  .  .  .  .  .  .  .  .
xb  .  .  .  .  .  .  .  .  .
xc  .  .  .  .  .  .  .  .  .
ya  X  .  .  .  .  .  .  .  .
yb  .  .  .  .  .  .  .  .  .
yc  .  .  .  .  .  .  .  .  .
za  X  .  .  .  .  .  .  .  .
zb  X  .  .  .  .  .  .  .  .
zc  X  .  .  .  .  .  .  .  .
",
            )],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "ipblock-except",
        description: "x/a accepts both node blocks (10.244.200.0/23) except namespace y's \
                      addresses (10.244.200.16/29, 10.244.201.16/29)",
        steps: &[Step {
            description: "x/a from an ipBlock with except",
            apply: "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ipblock, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from:
    - ipBlock: {cidr: 10.244.200.0/23, except: [10.244.200.16/29, 10.244.201.16/29]}
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
        name: "ipblock-node-block",
        description: "x/a accepts only node 1's block 10.244.201.0/26 (x/b, y/a, y/c, z/b): \
                      every allowed pair crosses the overlay",
        steps: &[Step {
            description: "x/a from node 1's pods",
            apply: "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-node-1, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from:
    - ipBlock: {cidr: 10.244.201.0/26}
",
            probes: &[
                tcp(
                    80,
                    "
    xa xb xc ya yb yc za zb zc
xa  .  .  .  .  .  .  .  .  .
xb  .  .  .  .  .  .  .  .  .
xc  X  .  .  .  .  .  .  .  .
ya  .  .  .  .  .  .  .  .  .
yb  X  .  .  .  .  .  .  .  .
yc  .  .  .  .  .  .  .  .  .
za  X  .  .  .  .  .  .  .  .
zb  .  .  .  .  .  .  .  .  .
zc  X  .  .  .  .  .  .  .  .
",
                ),
                udp(
                    81,
                    "
    xa xb xc ya yb yc za zb zc
xa  .  .  .  .  .  .  .  .  .
xb  .  .  .  .  .  .  .  .  .
xc  X  .  .  .  .  .  .  .  .
ya  .  .  .  .  .  .  .  .  .
yb  X  .  .  .  .  .  .  .  .
yc  .  .  .  .  .  .  .  .  .
za  X  .  .  .  .  .  .  .  .
zb  .  .  .  .  .  .  .  .  .
zc  X  .  .  .  .  .  .  .  .
",
                ),
            ],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "port-specific",
        description: "x/a accepts anyone, but only on TCP port 80 (protocol defaults to TCP)",
        steps: &[Step {
            description: "x/a on TCP 80",
            apply: "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: tcp-80, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - ports:
    - {port: 80}
",
            probes: &[tcp(80, ALL), tcp(81, XA_ISOLATED), udp(80, XA_ISOLATED)],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "udp-port",
        description: "x/a accepts only UDP port 80",
        steps: &[Step {
            description: "x/a on UDP 80",
            apply: "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: udp-80, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - ports:
    - {protocol: UDP, port: 80}
",
            probes: &[udp(80, ALL), tcp(80, XA_ISOLATED), udp(81, XA_ISOLATED)],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "multiple-ports-and-protocols",
        description: "x/a accepts TCP 80 and UDP 81, nothing else",
        steps: &[Step {
            description: "x/a on TCP 80 and UDP 81",
            apply: "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: tcp-80-udp-81, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - ports:
    - {protocol: TCP, port: 80}
    - {protocol: UDP, port: 81}
",
            probes: &[
                tcp(80, ALL),
                udp(81, ALL),
                tcp(81, XA_ISOLATED),
                udp(80, XA_ISOLATED),
            ],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "named-port",
        description: "x/a accepts only its port named serve-81-udp (UDP 81)",
        steps: &[Step {
            description: "x/a on serve-81-udp",
            apply: "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: named, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - ports:
    - {protocol: UDP, port: serve-81-udp}
",
            probes: &[udp(81, ALL), udp(80, XA_ISOLATED), tcp(81, XA_ISOLATED)],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "named-port-from-namespace",
        description: "pods of x accept namespace y on the port named serve-80-tcp",
        steps: &[Step {
            description: "x from y on serve-80-tcp",
            apply: "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: named-from-y, namespace: x}
spec:
  podSelector: {}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {ns: 'y'}}
    ports:
    - {port: serve-80-tcp}
",
            probes: &[
                tcp(80, X_FROM_Y_ONLY),
                tcp(81, X_ISOLATED),
                udp(80, X_ISOLATED),
            ],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "port-range",
        description: "x/a accepts TCP ports 81 to 90 (port + endPort)",
        steps: &[Step {
            description: "x/a on TCP 81-90",
            apply: "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: range, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - ports:
    - {protocol: TCP, port: 81, endPort: 90}
",
            probes: &[tcp(81, ALL), tcp(80, XA_ISOLATED), udp(81, XA_ISOLATED)],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "port-range-udp-both-ports",
        description: "x/a accepts UDP ports 80 to 81",
        steps: &[Step {
            description: "x/a on UDP 80-81",
            apply: "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: udp-range, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - ports:
    - {protocol: UDP, port: 80, endPort: 81}
",
            probes: &[udp(80, ALL), udp(81, ALL), tcp(80, XA_ISOLATED)],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "egress-only",
        description: "x/a may only send to pods b of x on TCP 80; its ingress is untouched",
        steps: &[Step {
            description: "x/a egress to x/b on TCP 80",
            apply: "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: egress-to-b, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  egress:
  - to:
    - podSelector: {matchLabels: {pod: b}}
    ports:
    - {port: 80}
",
            probes: &[
                tcp(
                    80,
                    "
    xa xb xc ya yb yc za zb zc
xa  .  .  X  X  X  X  X  X  X
xb  .  .  .  .  .  .  .  .  .
xc  .  .  .  .  .  .  .  .  .
ya  .  .  .  .  .  .  .  .  .
yb  .  .  .  .  .  .  .  .  .
yc  .  .  .  .  .  .  .  .  .
za  .  .  .  .  .  .  .  .  .
zb  .  .  .  .  .  .  .  .  .
zc  .  .  .  .  .  .  .  .  .
",
                ),
                tcp(
                    81,
                    "
    xa xb xc ya yb yc za zb zc
xa  .  X  X  X  X  X  X  X  X
xb  .  .  .  .  .  .  .  .  .
xc  .  .  .  .  .  .  .  .  .
ya  .  .  .  .  .  .  .  .  .
yb  .  .  .  .  .  .  .  .  .
yc  .  .  .  .  .  .  .  .  .
za  .  .  .  .  .  .  .  .  .
zb  .  .  .  .  .  .  .  .  .
zc  .  .  .  .  .  .  .  .  .
",
                ),
            ],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "egress-to-namespace",
        description: "pods of x may only send to namespace y",
        steps: &[Step {
            description: "x egress to namespace y",
            apply: "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: egress-to-y, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to:
    - namespaceSelector: {matchLabels: {ns: 'y'}}
",
            probes: &[tcp(
                80,
                "
    xa xb xc ya yb yc za zb zc
xa  .  X  X  .  .  .  X  X  X
xb  X  .  X  .  .  .  X  X  X
xc  X  X  .  .  .  .  X  X  X
ya  .  .  .  .  .  .  .  .  .
yb  .  .  .  .  .  .  .  .  .
yc  .  .  .  .  .  .  .  .  .
za  .  .  .  .  .  .  .  .  .
zb  .  .  .  .  .  .  .  .  .
zc  .  .  .  .  .  .  .  .  .
",
            )],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "egress-ipblock",
        description: "pods of y may only send to namespace z's addresses",
        steps: &[Step {
            description: "y egress to 10.244.200.24/29 and 10.244.201.24/29",
            apply: "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: egress-z-net, namespace: 'y'}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to:
    - ipBlock: {cidr: 10.244.200.24/29}
    - ipBlock: {cidr: 10.244.201.24/29}
",
            probes: &[tcp(
                80,
                "
    xa xb xc ya yb yc za zb zc
xa  .  .  .  .  .  .  .  .  .
xb  .  .  .  .  .  .  .  .  .
xc  .  .  .  .  .  .  .  .  .
ya  X  X  X  .  X  X  .  .  .
yb  X  X  X  X  .  X  .  .  .
yc  X  X  X  X  X  .  .  .  .
za  .  .  .  .  .  .  .  .  .
zb  .  .  .  .  .  .  .  .  .
zc  .  .  .  .  .  .  .  .  .
",
            )],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "egress-ipblock-except",
        description: "x/a may send to the pool except node 0's block: only node 1's pods",
        steps: &[Step {
            description: "x/a egress to 10.244.0.0/16 except 10.244.200.0/26",
            apply: "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: egress-not-node-0, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  egress:
  - to:
    - ipBlock: {cidr: 10.244.0.0/16, except: [10.244.200.0/26]}
",
            probes: &[tcp(
                80,
                "
    xa xb xc ya yb yc za zb zc
xa  .  .  X  .  X  .  X  .  X
xb  .  .  .  .  .  .  .  .  .
xc  .  .  .  .  .  .  .  .  .
ya  .  .  .  .  .  .  .  .  .
yb  .  .  .  .  .  .  .  .  .
yc  .  .  .  .  .  .  .  .  .
za  .  .  .  .  .  .  .  .  .
zb  .  .  .  .  .  .  .  .  .
zc  .  .  .  .  .  .  .  .  .
",
            )],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "egress-and-ingress-together",
        description: "x/a may only send to namespace y, and y/b only accepts x/a: both \
                      sides must allow",
        steps: &[Step {
            description: "x/a egress to y; y/b ingress from x/a",
            apply: "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a-to-y, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  egress:
  - to:
    - namespaceSelector: {matchLabels: {ns: 'y'}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: b-from-xa, namespace: 'y'}
spec:
  podSelector: {matchLabels: {pod: b}}
  policyTypes: [Ingress]
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {ns: x}}
      podSelector: {matchLabels: {pod: a}}
",
            probes: &[tcp(
                80,
                "
    xa xb xc ya yb yc za zb zc
xa  .  X  X  .  .  .  X  X  X
xb  .  .  .  .  X  .  .  .  .
xc  .  .  .  .  X  .  .  .  .
ya  .  .  .  .  X  .  .  .  .
yb  .  .  .  .  .  .  .  .  .
yc  .  .  .  .  X  .  .  .  .
za  .  .  .  .  X  .  .  .  .
zb  .  .  .  .  X  .  .  .  .
zc  .  .  .  .  X  .  .  .  .
",
            )],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "policy-types-defaulted",
        description: "no policyTypes but egress rules: the API server defaults the types to \
                      Ingress and Egress, so x accepts nothing and sends only within x, \
                      which x's ingress then refuses",
        steps: &[Step {
            description: "x egress to x only, no policyTypes",
            apply: "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: egress-within-x, namespace: x}
spec:
  podSelector: {}
  egress:
  - to:
    - podSelector: {}
",
            probes: &[tcp(80, X_FULLY_ISOLATED)],
            ..NO_CHANGE
        }],
    },
];
