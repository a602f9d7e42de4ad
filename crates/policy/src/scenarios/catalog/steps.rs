//! Scenarios of several steps: policies updated and deleted, pod and namespace labels
//! changed, network sets updated. Each step's matrices describe the cluster after that step.

use super::{ALL, NO_CHANGE, X_FROM_Y_ONLY, X_ISOLATED, XA_ISOLATED, Y_ISOLATED};
use crate::scenarios::{ObjectRef, Relabel, Scenario, Step, tcp, udp};

const fn k8s_np(namespace: &'static str, name: &'static str) -> ObjectRef {
    ObjectRef {
        api_version: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        namespace,
        name,
    }
}

const DENY_INGRESS_X: &str = "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-ingress, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Ingress]
";

pub(super) static LIST: &[Scenario] = &[
    Scenario {
        name: "policy-update",
        description: "x/a's allow list is updated from pods b of x to pods c of every \
                      namespace",
        steps: &[
            Step {
                description: "x/a from x/b",
                apply: "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-list, namespace: x}
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
            },
            Step {
                description: "the same policy now allows pods c of every namespace",
                apply: "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-list, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from:
    - podSelector: {matchLabels: {pod: c}}
      namespaceSelector: {}
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
            },
        ],
    },
    Scenario {
        name: "policy-deletion",
        description: "deleting x's default-deny policy restores the profiles' allow",
        steps: &[
            Step {
                description: "deny ingress in x",
                apply: DENY_INGRESS_X,
                probes: &[tcp(80, X_ISOLATED)],
                ..NO_CHANGE
            },
            Step {
                description: "delete it",
                delete: &[k8s_np("x", "deny-ingress")],
                probes: &[tcp(80, ALL), udp(80, ALL)],
                ..NO_CHANGE
            },
        ],
    },
    Scenario {
        name: "policy-deletion-one-of-two",
        description: "deny-all plus allow-from-y in x; deleting the allow isolates x, \
                      deleting the deny opens it",
        steps: &[
            Step {
                description: "deny-all and allow-from-y in x",
                apply: "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-ingress, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Ingress]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-from-y, namespace: x}
spec:
  podSelector: {}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {ns: 'y'}}
",
                probes: &[tcp(80, X_FROM_Y_ONLY)],
                ..NO_CHANGE
            },
            Step {
                description: "delete allow-from-y",
                delete: &[k8s_np("x", "allow-from-y")],
                probes: &[tcp(80, X_ISOLATED)],
                ..NO_CHANGE
            },
            Step {
                description: "delete deny-ingress",
                delete: &[k8s_np("x", "deny-ingress")],
                probes: &[tcp(80, ALL)],
                ..NO_CHANGE
            },
        ],
    },
    Scenario {
        name: "policy-order-update",
        description: "a Calico deny of y after the k8s allow-all (order 2000) does nothing; \
                      updated to order 100 it comes first",
        steps: &[
            Step {
                description: "k8s allow-all into x; Calico deny-y at order 2000",
                apply: "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-all, namespace: x}
spec:
  podSelector: {}
  ingress:
  - {}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: deny-y, namespace: x}
spec:
  order: 2000
  ingress:
  - action: Deny
    source: {namespaceSelector: ns == 'y'}
",
                probes: &[tcp(80, ALL)],
                ..NO_CHANGE
            },
            Step {
                description: "deny-y moved to order 100",
                apply: "
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: deny-y, namespace: x}
spec:
  order: 100
  ingress:
  - action: Deny
    source: {namespaceSelector: ns == 'y'}
",
                probes: &[tcp(
                    80,
                    "
    xa xb xc ya yb yc za zb zc
xa  .  .  .  .  .  .  .  .  .
xb  .  .  .  .  .  .  .  .  .
xc  .  .  .  .  .  .  .  .  .
ya  X  X  X  .  .  .  .  .  .
yb  X  X  X  .  .  .  .  .  .
yc  X  X  X  .  .  .  .  .  .
za  .  .  .  .  .  .  .  .  .
zb  .  .  .  .  .  .  .  .  .
zc  .  .  .  .  .  .  .  .  .
",
                )],
                ..NO_CHANGE
            },
        ],
    },
    Scenario {
        name: "pod-label-change-peer",
        description: "x/a accepts pods labelled role=client from any namespace; y/c gains \
                      the label, then loses it",
        steps: &[
            Step {
                description: "x/a from role=client anywhere; nobody has the label",
                apply: "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-clients, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from:
    - namespaceSelector: {}
      podSelector: {matchLabels: {role: client}}
",
                probes: &[tcp(80, XA_ISOLATED)],
                ..NO_CHANGE
            },
            Step {
                description: "y/c labelled role=client",
                relabel: &[Relabel {
                    pod: "y/c",
                    labels: &[("pod", "c"), ("role", "client")],
                }],
                probes: &[tcp(
                    80,
                    "
    xa xb xc ya yb yc za zb zc
xa  .  .  .  .  .  .  .  .  .
xb  X  .  .  .  .  .  .  .  .
xc  X  .  .  .  .  .  .  .  .
ya  X  .  .  .  .  .  .  .  .
yb  X  .  .  .  .  .  .  .  .
yc  .  .  .  .  .  .  .  .  .
za  X  .  .  .  .  .  .  .  .
zb  X  .  .  .  .  .  .  .  .
zc  X  .  .  .  .  .  .  .  .
",
                )],
                ..NO_CHANGE
            },
            Step {
                description: "y/c loses the label",
                relabel: &[Relabel {
                    pod: "y/c",
                    labels: &[("pod", "c")],
                }],
                probes: &[tcp(80, XA_ISOLATED)],
                ..NO_CHANGE
            },
        ],
    },
    Scenario {
        name: "pod-label-change-target",
        description: "pods of y labelled isolated=true refuse ingress; y/b gains the label, \
                      then loses it",
        steps: &[
            Step {
                description: "deny ingress to isolated pods of y; none yet",
                apply: "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: isolate, namespace: 'y'}
spec:
  podSelector: {matchLabels: {isolated: 'true'}}
  policyTypes: [Ingress]
",
                probes: &[tcp(80, ALL)],
                ..NO_CHANGE
            },
            Step {
                description: "y/b labelled isolated=true",
                relabel: &[Relabel {
                    pod: "y/b",
                    labels: &[("pod", "b"), ("isolated", "true")],
                }],
                probes: &[tcp(
                    80,
                    "
    xa xb xc ya yb yc za zb zc
xa  .  .  .  .  X  .  .  .  .
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
            },
            Step {
                description: "y/b loses the label",
                relabel: &[Relabel {
                    pod: "y/b",
                    labels: &[("pod", "b")],
                }],
                probes: &[tcp(80, ALL)],
                ..NO_CHANGE
            },
        ],
    },
    Scenario {
        name: "namespace-label-change-peer",
        description: "x accepts namespaces labelled team=blue; z gains the label, then \
                      loses it",
        steps: &[
            Step {
                description: "x from team=blue namespaces; none yet",
                apply: "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-blue, namespace: x}
spec:
  podSelector: {}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {team: blue}}
",
                probes: &[tcp(80, X_ISOLATED)],
                ..NO_CHANGE
            },
            Step {
                description: "namespace z labelled team=blue",
                apply: "
apiVersion: v1
kind: Namespace
metadata:
  name: z
  labels: {kubernetes.io/metadata.name: z, ns: z, team: blue}
",
                probes: &[tcp(
                    80,
                    "
    xa xb xc ya yb yc za zb zc
xa  .  X  X  .  .  .  .  .  .
xb  X  .  X  .  .  .  .  .  .
xc  X  X  .  .  .  .  .  .  .
ya  X  X  X  .  .  .  .  .  .
yb  X  X  X  .  .  .  .  .  .
yc  X  X  X  .  .  .  .  .  .
za  .  .  .  .  .  .  .  .  .
zb  .  .  .  .  .  .  .  .  .
zc  .  .  .  .  .  .  .  .  .
",
                )],
                ..NO_CHANGE
            },
            Step {
                description: "namespace z loses the label",
                apply: "
apiVersion: v1
kind: Namespace
metadata:
  name: z
  labels: {kubernetes.io/metadata.name: z, ns: z}
",
                probes: &[tcp(80, X_ISOLATED)],
                ..NO_CHANGE
            },
        ],
    },
    Scenario {
        name: "namespace-label-change-target",
        description: "a GlobalNetworkPolicy isolates namespaces labelled quarantine=true; \
                      y gains the label, then loses it",
        steps: &[
            Step {
                description: "quarantine policy; no namespace labelled",
                apply: "
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: quarantine}
spec:
  namespaceSelector: quarantine == 'true'
  types: [Ingress]
",
                probes: &[tcp(80, ALL)],
                ..NO_CHANGE
            },
            Step {
                description: "namespace y labelled quarantine=true",
                apply: "
apiVersion: v1
kind: Namespace
metadata:
  name: 'y'
  labels: {kubernetes.io/metadata.name: 'y', ns: 'y', quarantine: 'true'}
",
                probes: &[tcp(80, Y_ISOLATED), udp(81, Y_ISOLATED)],
                ..NO_CHANGE
            },
            Step {
                description: "namespace y loses the label",
                apply: "
apiVersion: v1
kind: Namespace
metadata:
  name: 'y'
  labels: {kubernetes.io/metadata.name: 'y', ns: 'y'}
",
                probes: &[tcp(80, ALL)],
                ..NO_CHANGE
            },
        ],
    },
    Scenario {
        name: "network-set-update",
        description: "x refuses the members of GlobalNetworkSet blocked: first y/a alone, \
                      then namespace z's addresses, then the set is deleted",
        steps: &[
            Step {
                description: "blocked = y/a",
                apply: "
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata: {name: blocked, labels: {role: blocked}}
spec: {nets: [10.244.201.17/32]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: deny-blocked}
spec:
  namespaceSelector: ns == 'x'
  ingress:
  - action: Deny
    source: {selector: role == 'blocked'}
  - action: Allow
",
                probes: &[tcp(
                    80,
                    "
    xa xb xc ya yb yc za zb zc
xa  .  .  .  .  .  .  .  .  .
xb  .  .  .  .  .  .  .  .  .
xc  .  .  .  .  .  .  .  .  .
ya  X  X  X  .  .  .  .  .  .
yb  .  .  .  .  .  .  .  .  .
yc  .  .  .  .  .  .  .  .  .
za  .  .  .  .  .  .  .  .  .
zb  .  .  .  .  .  .  .  .  .
zc  .  .  .  .  .  .  .  .  .
",
                )],
                ..NO_CHANGE
            },
            Step {
                description: "blocked = namespace z's addresses",
                apply: "
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata: {name: blocked, labels: {role: blocked}}
spec: {nets: [10.244.200.24/29, 10.244.201.24/29]}
",
                probes: &[tcp(
                    80,
                    "
    xa xb xc ya yb yc za zb zc
xa  .  .  .  .  .  .  .  .  .
xb  .  .  .  .  .  .  .  .  .
xc  .  .  .  .  .  .  .  .  .
ya  .  .  .  .  .  .  .  .  .
yb  .  .  .  .  .  .  .  .  .
yc  .  .  .  .  .  .  .  .  .
za  X  X  X  .  .  .  .  .  .
zb  X  X  X  .  .  .  .  .  .
zc  X  X  X  .  .  .  .  .  .
",
                )],
                ..NO_CHANGE
            },
            Step {
                description: "the set is deleted",
                delete: &[ObjectRef {
                    api_version: "projectcalico.org/v3",
                    kind: "GlobalNetworkSet",
                    namespace: "",
                    name: "blocked",
                }],
                probes: &[tcp(80, ALL)],
                ..NO_CHANGE
            },
        ],
    },
    Scenario {
        name: "tier-deletion",
        description: "a tier whose policy denies z into x; deleting the policy (then the \
                      tier) restores the default",
        steps: &[
            Step {
                description: "tier security denying z into x, passing the rest",
                apply: "
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: security}
spec: {order: 100}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: security.deny-z}
spec:
  tier: security
  namespaceSelector: ns == 'x'
  ingress:
  - action: Deny
    source: {namespaceSelector: ns == 'z'}
  - action: Pass
",
                probes: &[tcp(
                    80,
                    "
    xa xb xc ya yb yc za zb zc
xa  .  .  .  .  .  .  .  .  .
xb  .  .  .  .  .  .  .  .  .
xc  .  .  .  .  .  .  .  .  .
ya  .  .  .  .  .  .  .  .  .
yb  .  .  .  .  .  .  .  .  .
yc  .  .  .  .  .  .  .  .  .
za  X  X  X  .  .  .  .  .  .
zb  X  X  X  .  .  .  .  .  .
zc  X  X  X  .  .  .  .  .  .
",
                )],
                ..NO_CHANGE
            },
            Step {
                description: "delete the policy, then the tier",
                delete: &[
                    ObjectRef {
                        api_version: "projectcalico.org/v3",
                        kind: "GlobalNetworkPolicy",
                        namespace: "",
                        name: "security.deny-z",
                    },
                    ObjectRef {
                        api_version: "projectcalico.org/v3",
                        kind: "Tier",
                        namespace: "",
                        name: "security",
                    },
                ],
                probes: &[tcp(80, ALL)],
                ..NO_CHANGE
            },
        ],
    },
];
