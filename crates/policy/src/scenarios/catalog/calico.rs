//! Calico-only semantics of selection and order: order, Deny, Pass and tiers,
//! GlobalNetworkPolicy, selectors and notSelector, network sets, service accounts.

use super::{NO_CHANGE, X_ISOLATED, XA_ISOLATED};
use crate::scenarios::{Scenario, Step, tcp};

pub(super) static LIST: &[Scenario] = &[
    Scenario {
        name: "calico-deny-before-k8s-allow",
        description: "a Calico policy of order 100 denies x/b before the k8s allow-all \
                      (order 1000)",
        steps: &[Step {
            description: "Calico deny x/b (order 100), k8s allow-all",
            apply: "
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: deny-b, namespace: x}
spec:
  order: 100
  selector: pod == 'a'
  ingress:
  - action: Deny
    source: {selector: pod == 'b'}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-all, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - {}
",
            probes: &[tcp(
                80,
                "
    xa xb xc ya yb yc za zb zc
xa  .  .  .  .  .  .  .  .  .
xb  X  .  .  .  .  .  .  .  .
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
        name: "order-within-tier",
        description: "order 10 allows namespace y, order 20 denies everything else",
        steps: &[Step {
            description: "allow y (order 10), deny all (order 20)",
            apply: "
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: z-deny, namespace: x}
spec:
  order: 20
  selector: pod == 'a'
  ingress:
  - action: Deny
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: a-allow-y, namespace: x}
spec:
  order: 10
  selector: pod == 'a'
  ingress:
  - action: Allow
    source: {namespaceSelector: ns == 'y'}
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
        name: "order-tie-broken-by-name",
        description: "two policies of the same order: a-deny sorts before b-allow by name, \
                      so x/a is isolated",
        steps: &[Step {
            description: "b-allow and a-deny, both order 10",
            apply: "
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: b-allow, namespace: x}
spec:
  order: 10
  selector: pod == 'a'
  ingress:
  - action: Allow
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: a-deny, namespace: x}
spec:
  order: 10
  selector: pod == 'a'
  ingress:
  - action: Deny
",
            probes: &[tcp(80, XA_ISOLATED)],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "tier-pass",
        description: "tier security (order 100) allows x, passes y, denies the rest at end of \
                      tier; in the default tier only x/b is isolated, so passed traffic to x/a \
                      and x/c falls through to the profiles",
        steps: &[Step {
            description: "tier security with Pass; x/b isolated in the default tier",
            apply: "
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: security}
spec: {order: 100}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: security.x-ingress}
spec:
  tier: security
  selector: projectcalico.org/namespace == 'x'
  ingress:
  - action: Pass
    source: {namespaceSelector: ns == 'y'}
  - action: Allow
    source: {namespaceSelector: ns == 'x'}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: isolate-b, namespace: x}
spec:
  podSelector: {matchLabels: {pod: b}}
  policyTypes: [Ingress]
",
            probes: &[tcp(
                80,
                "
    xa xb xc ya yb yc za zb zc
xa  .  .  .  .  .  .  .  .  .
xb  .  .  .  .  .  .  .  .  .
xc  .  .  .  .  .  .  .  .  .
ya  .  X  .  .  .  .  .  .  .
yb  .  X  .  .  .  .  .  .  .
yc  .  X  .  .  .  .  .  .  .
za  X  X  X  .  .  .  .  .  .
zb  X  X  X  .  .  .  .  .  .
zc  X  X  X  .  .  .  .  .  .
",
            )],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "tier-default-action-pass",
        description: "tier platform with defaultAction Pass denies z into x; unmatched \
                      traffic passes on to the profiles",
        steps: &[Step {
            description: "tier platform (defaultAction Pass) denying z into x",
            apply: "
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: platform}
spec: {order: 50, defaultAction: Pass}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: platform.deny-z}
spec:
  tier: platform
  namespaceSelector: ns == 'x'
  ingress:
  - action: Deny
    source: {namespaceSelector: ns == 'z'}
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
        }],
    },
    Scenario {
        name: "tier-order",
        description: "tier first (order 10) denies z into x and passes the rest; tier second \
                      (order 20) allows y into x and denies the rest at its end",
        steps: &[Step {
            description: "tiers first and second",
            apply: "
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: second}
spec: {order: 20}
---
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: first}
spec: {order: 10}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: second.allow-y}
spec:
  tier: second
  namespaceSelector: ns == 'x'
  ingress:
  - action: Allow
    source: {namespaceSelector: ns == 'y'}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: first.deny-z}
spec:
  tier: first
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
xa  .  X  X  .  .  .  .  .  .
xb  X  .  X  .  .  .  .  .  .
xc  X  X  .  .  .  .  .  .  .
ya  .  .  .  .  .  .  .  .  .
yb  .  .  .  .  .  .  .  .  .
yc  .  .  .  .  .  .  .  .  .
za  X  X  X  .  .  .  .  .  .
zb  X  X  X  .  .  .  .  .  .
zc  X  X  X  .  .  .  .  .  .
",
            )],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "gnp-namespace-selector-egress",
        description: "a GlobalNetworkPolicy for pods c of namespace y denies egress to z, \
                      allows the rest",
        steps: &[Step {
            description: "y/c egress: deny z, allow the rest",
            apply: "
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: yc-egress}
spec:
  namespaceSelector: ns == 'y'
  selector: pod == 'c'
  types: [Egress]
  egress:
  - action: Deny
    destination: {namespaceSelector: ns == 'z'}
  - action: Allow
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
yc  .  .  .  .  .  .  X  X  X
za  .  .  .  .  .  .  .  .  .
zb  .  .  .  .  .  .  .  .  .
zc  .  .  .  .  .  .  .  .  .
",
            )],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "gnp-all-pods-from-x-only",
        description: "a GlobalNetworkPolicy selecting every pod accepts only namespace x",
        steps: &[Step {
            description: "every pod accepts namespace x only",
            apply: "
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: from-x-only}
spec:
  selector: all()
  types: [Ingress]
  ingress:
  - action: Allow
    source: {namespaceSelector: ns == 'x'}
",
            probes: &[tcp(
                80,
                "
    xa xb xc ya yb yc za zb zc
xa  .  .  .  .  .  .  .  .  .
xb  .  .  .  .  .  .  .  .  .
xc  .  .  .  .  .  .  .  .  .
ya  X  X  X  .  X  X  X  X  X
yb  X  X  X  X  .  X  X  X  X
yc  X  X  X  X  X  .  X  X  X
za  X  X  X  X  X  X  .  X  X
zb  X  X  X  X  X  X  X  .  X
zc  X  X  X  X  X  X  X  X  .
",
            )],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "not-selector",
        description: "a namespaced rule with only notSelector pod == 'a': its positive \
                      selector becomes the policy's own namespace",
        steps: &[Step {
            description: "x accepts pods of x that are not a",
            apply: "
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: not-a, namespace: x}
spec:
  selector: all()
  ingress:
  - action: Allow
    source: {notSelector: pod == 'a'}
",
            probes: &[tcp(
                80,
                "
    xa xb xc ya yb yc za zb zc
xa  .  X  X  .  .  .  .  .  .
xb  .  .  .  .  .  .  .  .  .
xc  .  .  .  .  .  .  .  .  .
ya  X  X  X  .  .  .  .  .  .
yb  X  X  X  .  .  .  .  .  .
yc  X  X  X  .  .  .  .  .  .
za  X  X  X  .  .  .  .  .  .
zb  X  X  X  .  .  .  .  .  .
zc  X  X  X  .  .  .  .  .  .
",
            )],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "not-selector-deny",
        description: "a GlobalNetworkPolicy denies everything not labelled pod=c into x, \
                      then allows: only pods c (any namespace) get in",
        steps: &[Step {
            description: "x: deny notSelector pod == 'c', allow",
            apply: "
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: only-c-into-x}
spec:
  namespaceSelector: ns == 'x'
  ingress:
  - action: Deny
    source: {notSelector: pod == 'c'}
  - action: Allow
",
            probes: &[tcp(
                80,
                "
    xa xb xc ya yb yc za zb zc
xa  .  X  X  .  .  .  .  .  .
xb  X  .  X  .  .  .  .  .  .
xc  .  .  .  .  .  .  .  .  .
ya  X  X  X  .  .  .  .  .  .
yb  X  X  X  .  .  .  .  .  .
yc  .  .  .  .  .  .  .  .  .
za  X  X  X  .  .  .  .  .  .
zb  X  X  X  .  .  .  .  .  .
zc  .  .  .  .  .  .  .  .  .
",
            )],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "selector-set",
        description: "x/a and x/b (selector pod in {a, b}) accept x/b and x/c \
                      (selector pod in {b, c}, scoped to x)",
        steps: &[Step {
            description: "set selectors",
            apply: "
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: sets, namespace: x}
spec:
  selector: \"pod in {'a', 'b'}\"
  ingress:
  - action: Allow
    source:
      selector: \"pod in {'b', 'c'}\"
",
            probes: &[tcp(
                80,
                "
    xa xb xc ya yb yc za zb zc
xa  .  X  .  .  .  .  .  .  .
xb  .  .  .  .  .  .  .  .  .
xc  .  .  .  .  .  .  .  .  .
ya  X  X  .  .  .  .  .  .  .
yb  X  X  .  .  .  .  .  .  .
yc  X  X  .  .  .  .  .  .  .
za  X  X  .  .  .  .  .  .  .
zb  X  X  .  .  .  .  .  .  .
zc  X  X  .  .  .  .  .  .  .
",
            )],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "global-network-set",
        description: "a GlobalNetworkSet holding namespace y's addresses is denied into x",
        steps: &[Step {
            description: "deny the blocked set into x",
            apply: "
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata: {name: blocked, labels: {role: blocked}}
spec: {nets: [10.244.200.16/29, 10.244.201.16/29]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: deny-blocked}
spec:
  selector: projectcalico.org/namespace == 'x'
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
yb  X  X  X  .  .  .  .  .  .
yc  X  X  X  .  .  .  .  .  .
za  .  .  .  .  .  .  .  .  .
zb  .  .  .  .  .  .  .  .  .
zc  .  .  .  .  .  .  .  .  .
",
            )],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "namespaced-network-set",
        description: "a NetworkSet in x holding namespace z's addresses is the only allowed \
                      source into x",
        steps: &[Step {
            description: "x accepts its zpods set",
            apply: "
apiVersion: projectcalico.org/v3
kind: NetworkSet
metadata: {name: zpods, namespace: x, labels: {kind: zpods}}
spec: {nets: [10.244.200.24/29, 10.244.201.24/29]}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: from-zpods, namespace: x}
spec:
  ingress:
  - action: Allow
    source: {selector: kind == 'zpods'}
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
        }],
    },
    Scenario {
        name: "network-set-other-namespace",
        description: "a NetworkSet in y is invisible to a rule selector of a policy in x \
                      (scoped to x), so x accepts nobody",
        steps: &[Step {
            description: "the zpods set lives in y",
            apply: "
apiVersion: projectcalico.org/v3
kind: NetworkSet
metadata: {name: zpods, namespace: 'y', labels: {kind: zpods}}
spec: {nets: [10.244.200.24/29, 10.244.201.24/29]}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: from-zpods, namespace: x}
spec:
  ingress:
  - action: Allow
    source: {selector: kind == 'zpods'}
",
            probes: &[tcp(80, X_ISOLATED)],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "service-account-selector",
        description: "a policy with serviceAccountSelector selects x/c (service account \
                      backend), which then accepts namespace x only",
        steps: &[Step {
            description: "backend pods of x accept x",
            apply: "
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: backend-from-x, namespace: x}
spec:
  serviceAccountSelector: projectcalico.org/name == 'backend'
  ingress:
  - action: Allow
    source: {namespaceSelector: ns == 'x'}
",
            probes: &[tcp(
                80,
                "
    xa xb xc ya yb yc za zb zc
xa  .  .  .  .  .  .  .  .  .
xb  .  .  .  .  .  .  .  .  .
xc  .  .  .  .  .  .  .  .  .
ya  .  .  X  .  .  .  .  .  .
yb  .  .  X  .  .  .  .  .  .
yc  .  .  X  .  .  .  .  .  .
za  .  .  X  .  .  .  .  .  .
zb  .  .  X  .  .  .  .  .  .
zc  .  .  X  .  .  .  .  .  .
",
            )],
            ..NO_CHANGE
        }],
    },
    Scenario {
        name: "service-accounts-rule",
        description: "pods of y accept only pods running as service account backend \
                      (pods c of every namespace)",
        steps: &[Step {
            description: "y from serviceAccounts names [backend]",
            apply: "
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: y-from-backend}
spec:
  namespaceSelector: ns == 'y'
  ingress:
  - action: Allow
    source:
      serviceAccounts: {names: [backend]}
",
            probes: &[tcp(
                80,
                "
    xa xb xc ya yb yc za zb zc
xa  .  .  .  X  X  X  .  .  .
xb  .  .  .  X  X  X  .  .  .
xc  .  .  .  .  .  .  .  .  .
ya  .  .  .  .  X  X  .  .  .
yb  .  .  .  X  .  X  .  .  .
yc  .  .  .  .  .  .  .  .  .
za  .  .  .  X  X  X  .  .  .
zb  .  .  .  X  X  X  .  .  .
zc  .  .  .  .  .  .  .  .  .
",
            )],
            ..NO_CHANGE
        }],
    },
];
