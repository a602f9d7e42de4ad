//! The Kubernetes kinds: `networking.k8s.io/v1` NetworkPolicy, `v1` Namespace and `v1` Pod —
//! decoding real manifests, the API server's defaults, and its validation of the fields
//! Calico uses.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use calico_api::codec::decode_all;
use calico_api::{
    DecodeError, IntOrString, K8sPolicyType, K8sProtocol, LabelSelector, LabelSelectorOperator,
    LabelSelectorRequirement, Resource,
};
use common::check_table;
use serde_json::{Value, json};

fn knp(spec: Value) -> Value {
    json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
           "metadata": {"name": "np", "namespace": "ns"}, "spec": spec})
}

const KNP_YAML: &str = r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: test-network-policy
  namespace: default
spec:
  podSelector:
    matchLabels:
      role: db
  policyTypes:
  - Ingress
  - Egress
  ingress:
  - from:
    - ipBlock:
        cidr: 172.17.0.0/16
        except:
        - 172.17.1.0/24
    - namespaceSelector:
        matchLabels:
          project: myproject
    - podSelector:
        matchLabels:
          role: frontend
      namespaceSelector:
        matchExpressions:
        - {key: env, operator: In, values: [prod, staging]}
    ports:
    - protocol: TCP
      port: 6379
  egress:
  - to:
    - ipBlock:
        cidr: 10.0.0.0/24
    ports:
    - protocol: TCP
      port: 32000
      endPort: 32768
    - port: dns
      protocol: UDP
"#;

#[test]
fn network_policy_manifest() {
    let docs = decode_all(KNP_YAML).unwrap();
    let Ok(Resource::KubernetesNetworkPolicy(p)) = &docs[0].1 else {
        panic!("{:?}", docs[0].1)
    };
    assert_eq!(p.spec.pod_selector.match_labels["role"], "db");
    assert_eq!(p.spec.ingress[0].from.len(), 3);
    assert_eq!(
        p.spec.ingress[0].ports[0].port,
        Some(IntOrString::Int(6379))
    );
    assert_eq!(p.spec.egress[0].ports[0].end_port, Some(32768));
    assert_eq!(
        p.spec.egress[0].ports[1].port,
        Some(IntOrString::String("dns".into()))
    );
    let e = &p.spec.ingress[0].from[2]
        .namespace_selector
        .as_ref()
        .unwrap()
        .match_expressions[0];
    assert_eq!(e.operator, LabelSelectorOperator::In);
    let r = Resource::KubernetesNetworkPolicy(p.clone());
    r.validate().unwrap();
    assert_eq!(r.kind(), "NetworkPolicy");
    assert_eq!(r.info().api_version, "networking.k8s.io/v1");
    // The Calico kind of the same name is still the default without an apiVersion match.
    let calico = json!({"apiVersion": "projectcalico.org/v3", "kind": "NetworkPolicy",
                        "metadata": {"name": "x"}});
    assert!(matches!(
        Resource::from_value(calico).unwrap(),
        Resource::NetworkPolicy(_)
    ));
}

#[test]
fn network_policy_defaults() {
    let mut r = Resource::from_value(json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "np"},
        "spec": {"egress": [{"ports": [{"port": 53}]}], "ingress": [{}]},
    }))
    .unwrap();
    r.apply_defaults();
    let Resource::KubernetesNetworkPolicy(p) = &r else {
        panic!()
    };
    assert_eq!(p.metadata.namespace, "default");
    assert_eq!(
        p.spec.policy_types,
        vec![K8sPolicyType::Ingress, K8sPolicyType::Egress]
    );
    assert_eq!(p.spec.egress[0].ports[0].protocol, Some(K8sProtocol::TCP));
    r.validate().unwrap();

    let mut r = Resource::from_value(knp(json!({"ingress": [{}]}))).unwrap();
    r.apply_defaults();
    let Resource::KubernetesNetworkPolicy(p) = &r else {
        panic!()
    };
    assert_eq!(p.spec.policy_types, vec![K8sPolicyType::Ingress]);

    let mut r = Resource::from_value(knp(json!({"policyTypes": ["Egress"]}))).unwrap();
    r.apply_defaults();
    let Resource::KubernetesNetworkPolicy(p) = &r else {
        panic!()
    };
    assert_eq!(p.spec.policy_types, vec![K8sPolicyType::Egress]);
}

#[test]
fn network_policy_validation() {
    let port = |p: Value| knp(json!({"ingress": [{"ports": [p]}]}));
    let peer = |p: Value| knp(json!({"egress": [{"to": [p]}]}));
    check_table(vec![
        ("empty", knp(json!({})), None),
        (
            "deny all",
            knp(json!({"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})),
            None,
        ),
        ("numeric port", port(json!({"port": 80})), None),
        ("named port", port(json!({"port": "http"})), None),
        ("range", port(json!({"port": 80, "endPort": 90})), None),
        ("sctp", port(json!({"protocol": "SCTP"})), None),
        (
            "port 0",
            port(json!({"port": 0})),
            Some(("spec.ingress[0].ports[0].port", "expected 1-65535")),
        ),
        (
            "port 65536",
            port(json!({"port": 65536})),
            Some(("spec.ingress[0].ports[0].port", "expected 1-65535")),
        ),
        (
            "bad port name",
            port(json!({"port": "HTTP"})),
            Some(("spec.ingress[0].ports[0].port", "port name")),
        ),
        (
            "long port name",
            port(json!({"port": "abcdefghijklmnop"})),
            Some(("spec.ingress[0].ports[0].port", "")),
        ),
        (
            "end before start",
            port(json!({"port": 90, "endPort": 80})),
            Some((
                "spec.ingress[0].ports[0].endPort",
                "greater than or equal to `port`",
            )),
        ),
        (
            "end with named port",
            port(json!({"port": "http", "endPort": 80})),
            Some(("spec.ingress[0].ports[0].endPort", "non-numeric")),
        ),
        (
            "end without port",
            port(json!({"endPort": 80})),
            Some(("spec.ingress[0].ports[0].endPort", "not specified")),
        ),
        (
            "end past 65535",
            port(json!({"port": 80, "endPort": 70000})),
            Some(("spec.ingress[0].ports[0].endPort", "expected 1-65535")),
        ),
        (
            "ip block",
            peer(json!({"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}})),
            None,
        ),
        (
            "ip block v6",
            peer(json!({"ipBlock": {"cidr": "fd00::/8", "except": ["fd00:1::/32"]}})),
            None,
        ),
        (
            "ip block host bits",
            peer(json!({"ipBlock": {"cidr": "10.0.0.1/8"}})),
            None,
        ),
        (
            "pod and namespace selectors",
            peer(json!({"podSelector": {}, "namespaceSelector": {}})),
            None,
        ),
        (
            "empty peer",
            peer(json!({})),
            Some(("spec.egress[0].to[0]", "must specify a peer")),
        ),
        (
            "ip block with selector",
            peer(json!({"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}})),
            Some(("spec.egress[0].to[0]", "may not specify more than 1 peer")),
        ),
        (
            "bad cidr",
            peer(json!({"ipBlock": {"cidr": "10.0.0.0"}})),
            Some(("spec.egress[0].to[0].ipBlock.cidr", "not a valid CIDR")),
        ),
        (
            "empty cidr",
            peer(json!({"ipBlock": {"cidr": ""}})),
            Some(("spec.egress[0].to[0].ipBlock.cidr", "must be specified")),
        ),
        (
            "except outside",
            peer(json!({"ipBlock": {"cidr": "10.0.0.0/8", "except": ["11.0.0.0/16"]}})),
            Some(("spec.egress[0].to[0].ipBlock.except[0]", "strict subset")),
        ),
        (
            "except equal",
            peer(json!({"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.0.0.0/8"]}})),
            Some(("spec.egress[0].to[0].ipBlock.except[0]", "strict subset")),
        ),
        (
            "except of another family",
            peer(json!({"ipBlock": {"cidr": "10.0.0.0/8", "except": ["fd00::/64"]}})),
            Some(("spec.egress[0].to[0].ipBlock.except[0]", "strict subset")),
        ),
        (
            "In without values",
            knp(json!({"podSelector": {"matchExpressions": [{"key": "a", "operator": "In"}]}})),
            Some((
                "spec.podSelector.matchExpressions[0].values",
                "must be specified",
            )),
        ),
        (
            "Exists with values",
            knp(
                json!({"podSelector": {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}}),
            ),
            Some((
                "spec.podSelector.matchExpressions[0].values",
                "may not be specified",
            )),
        ),
        (
            "bad key",
            knp(
                json!({"podSelector": {"matchExpressions": [{"key": "a b", "operator": "Exists"}]}}),
            ),
            Some(("spec.podSelector.matchExpressions[0].key", "")),
        ),
        (
            "bad value",
            peer(
                json!({"namespaceSelector": {"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["-x"]}]}}),
            ),
            Some((
                "spec.egress[0].to[0].namespaceSelector.matchExpressions[0].values[0]",
                "label value",
            )),
        ),
        (
            "bad match label",
            knp(json!({"podSelector": {"matchLabels": {"app": "a b"}}})),
            Some(("spec.podSelector.matchLabels[app]", "label value")),
        ),
        (
            "three policy types",
            knp(json!({"policyTypes": ["Ingress", "Egress", "Ingress"]})),
            Some(("spec.policyTypes", "more than two")),
        ),
    ]);
}

#[test]
fn decode_errors_name_their_path() {
    let cases = [
        (
            knp(json!({"podSelector": {"matchLabel": {}}})),
            "spec.podSelector.matchLabel",
            "unknown field",
        ),
        (
            knp(json!({"ingress": [{"from": [{"ipBlok": {}}]}]})),
            "spec.ingress[0].from[0].ipBlok",
            "unknown field",
        ),
        (
            knp(json!({"ingress": [{"ports": [{"protocol": "tcp"}]}]})),
            "spec.ingress[0].ports[0].protocol",
            "unknown variant",
        ),
        (
            knp(json!({"podSelector": {"matchExpressions": [{"key": "a", "operator": "Has"}]}})),
            "spec.podSelector.matchExpressions[0].operator",
            "unknown variant",
        ),
        (
            knp(json!({"policyTypes": ["Both"]})),
            "spec.policyTypes[0]",
            "unknown variant",
        ),
        (
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                   "spec": {"containers": [{"name": "c", "imag": "busybox"}]}}),
            "spec.containers[0].imag",
            "unknown field",
        ),
        (
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"hostNetwrk": true}}),
            "spec.hostNetwrk",
            "unknown field",
        ),
        (
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}, "spec": {"finalisers": []}}),
            "spec.finalisers",
            "unknown field",
        ),
    ];
    for (doc, want, fragment) in cases {
        match Resource::from_value(doc.clone()) {
            Err(DecodeError::Field { path, message, .. }) => {
                assert_eq!(path, want);
                assert!(message.contains(fragment), "{message}");
            }
            other => panic!("{doc}: {other:?}"),
        }
    }
}

#[test]
fn label_selector_matching() {
    let s = LabelSelector {
        match_labels: [("app".to_string(), "web".to_string())].into(),
        match_expressions: vec![LabelSelectorRequirement {
            key: "env".into(),
            operator: LabelSelectorOperator::NotIn,
            values: vec!["dev".into()],
        }],
    };
    let labels = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    };
    assert!(s.matches(&labels(&[("app", "web")])));
    assert!(s.matches(&labels(&[("app", "web"), ("env", "prod")])));
    assert!(!s.matches(&labels(&[("app", "web"), ("env", "dev")])));
    assert!(!s.matches(&labels(&[("app", "db")])));
    assert!(LabelSelector::default().matches(&labels(&[])));
}

/// What `kubectl get namespace -o yaml` prints.
const NAMESPACE_YAML: &str = r#"
apiVersion: v1
kind: Namespace
metadata:
  creationTimestamp: "2024-05-01T10:00:00Z"
  labels:
    kubernetes.io/metadata.name: prod
    team: "no"
  name: prod
  resourceVersion: "1234"
  uid: 0b8c3a7e-1111-2222-3333-444455556666
spec:
  finalizers:
  - kubernetes
status:
  phase: Active
"#;

#[test]
fn namespace_manifest_and_defaults() {
    let docs = decode_all(NAMESPACE_YAML).unwrap();
    let r = docs[0].1.as_ref().unwrap();
    r.validate().unwrap();
    let Resource::Namespace(n) = r else { panic!() };
    assert_eq!(n.metadata.labels["team"], "no");

    let mut r = Resource::from_value(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "dev"}}),
    )
    .unwrap();
    r.apply_defaults();
    let Resource::Namespace(n) = &r else { panic!() };
    assert_eq!(n.metadata.labels["kubernetes.io/metadata.name"], "dev");
    assert_eq!(n.spec.finalizers, vec!["kubernetes".to_string()]);
    assert_eq!(n.status.phase, "Active");
    r.validate().unwrap();

    check_table(vec![
        (
            "dotted name",
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a.b"}}),
            Some(("metadata.name", "not a valid name")),
        ),
        (
            "bad phase",
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}, "status": {"phase": "Gone"}}),
            Some(("status.phase", "expected Active or Terminating")),
        ),
    ]);
}

/// What `kubectl get pod -o yaml` prints for `kubectl run bb --image=busybox -- sleep 3600`.
const BUSYBOX_YAML: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  annotations:
    cni.projectcalico.org/containerID: 5f0c2d9e6c0d1e2f
    cni.projectcalico.org/podIP: 192.168.1.10/32
    cni.projectcalico.org/podIPs: 192.168.1.10/32
  creationTimestamp: "2024-05-01T10:00:00Z"
  labels:
    run: bb
  name: bb
  namespace: default
  resourceVersion: "5678"
  uid: 7d6f3c2a-aaaa-bbbb-cccc-ddddeeeeffff
spec:
  containers:
  - args:
    - sleep
    - "3600"
    image: busybox
    imagePullPolicy: Always
    name: bb
    ports:
    - containerPort: 8080
      name: http
      protocol: TCP
    resources: {}
    terminationMessagePath: /dev/termination-log
    terminationMessagePolicy: File
    volumeMounts:
    - mountPath: /var/run/secrets/kubernetes.io/serviceaccount
      name: kube-api-access-abcde
      readOnly: true
  dnsPolicy: ClusterFirst
  enableServiceLinks: true
  nodeName: node-1
  preemptionPolicy: PreemptLowerPriority
  priority: 0
  restartPolicy: Always
  schedulerName: default-scheduler
  securityContext: {}
  serviceAccount: default
  serviceAccountName: default
  terminationGracePeriodSeconds: 30
  tolerations:
  - effect: NoExecute
    key: node.kubernetes.io/not-ready
    operator: Exists
    tolerationSeconds: 300
  volumes:
  - name: kube-api-access-abcde
    projected:
      defaultMode: 420
      sources:
      - serviceAccountToken:
          expirationSeconds: 3607
          path: token
status:
  conditions:
  - lastProbeTime: null
    lastTransitionTime: "2024-05-01T10:00:05Z"
    status: "True"
    type: Ready
  containerStatuses:
  - containerID: containerd://abc
    image: docker.io/library/busybox:latest
    imageID: docker.io/library/busybox@sha256:abc
    lastState: {}
    name: bb
    ready: true
    restartCount: 0
    started: true
    state:
      running:
        startedAt: "2024-05-01T10:00:04Z"
  hostIP: 10.0.0.11
  hostIPs:
  - ip: 10.0.0.11
  phase: Running
  podIP: 192.168.1.10
  podIPs:
  - ip: 192.168.1.10
  qosClass: BestEffort
  startTime: "2024-05-01T10:00:00Z"
"#;

#[test]
fn busybox_pod_manifest() {
    let docs = decode_all(BUSYBOX_YAML).unwrap();
    let r = docs[0].1.as_ref().unwrap_or_else(|e| panic!("{e}"));
    r.validate().unwrap();
    let Resource::Pod(p) = r else { panic!() };
    assert_eq!(p.metadata.labels["run"], "bb");
    assert_eq!(p.spec.node_name, "node-1");
    assert_eq!(p.spec.service_account_name, "default");
    assert!(!p.spec.host_network);
    assert_eq!(p.spec.containers[0].ports[0].container_port, 8080);
    assert_eq!(p.spec.containers[0].ports[0].name, "http");
    let status = p.status.as_ref().unwrap();
    assert_eq!(
        status.ips(),
        vec!["192.168.1.10".parse::<std::net::IpAddr>().unwrap()]
    );
    assert!(!status.is_finished());
    // Pass-through fields survive a round trip verbatim.
    let back = Resource::from_value(r.to_value()).unwrap();
    assert_eq!(&back, r);
    assert_eq!(
        r.to_value()["spec"]["tolerations"][0]["tolerationSeconds"],
        json!(300)
    );
}

#[test]
fn pod_defaults_and_validation() {
    let mut r = Resource::from_value(json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 53}]}]},
    }))
    .unwrap();
    r.apply_defaults();
    let Resource::Pod(p) = &r else { panic!() };
    assert_eq!(p.metadata.namespace, "default");
    assert_eq!(p.spec.service_account_name, "default");
    assert_eq!(
        p.spec.containers[0].ports[0].protocol,
        Some(K8sProtocol::TCP)
    );
    r.validate().unwrap();

    let pod = |spec: Value, status: Value| {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "a"},
               "spec": spec, "status": status})
    };
    let c =
        |ports: Value| json!({"containers": [{"name": "c", "image": "busybox", "ports": ports}]});
    check_table(vec![
        (
            "host network",
            pod(
                json!({"hostNetwork": true, "containers": [{"name": "c"}]}),
                json!({}),
            ),
            None,
        ),
        (
            "no containers",
            pod(json!({}), json!({})),
            Some(("spec.containers", "at least one container")),
        ),
        (
            "duplicate containers",
            pod(
                json!({"containers": [{"name": "c"}], "initContainers": [{"name": "c"}]}),
                json!({}),
            ),
            Some(("spec.initContainers[0].name", "duplicate")),
        ),
        (
            "bad container name",
            pod(json!({"containers": [{"name": "C_1"}]}), json!({})),
            Some(("spec.containers[0].name", "not a valid name")),
        ),
        (
            "port 0",
            pod(c(json!([{"containerPort": 0}])), json!({})),
            Some((
                "spec.containers[0].ports[0].containerPort",
                "expected 1-65535",
            )),
        ),
        (
            "bad port name",
            pod(c(json!([{"containerPort": 80, "name": "Web"}])), json!({})),
            Some(("spec.containers[0].ports[0].name", "port name")),
        ),
        (
            "duplicate port name",
            pod(
                c(
                    json!([{"containerPort": 80, "name": "web"}, {"containerPort": 81, "name": "web"}]),
                ),
                json!({}),
            ),
            Some(("spec.containers[0].ports[1].name", "duplicate")),
        ),
        (
            "bad host IP",
            pod(
                c(json!([{"containerPort": 80, "hostPort": 80, "hostIP": "x"}])),
                json!({}),
            ),
            Some(("spec.containers[0].ports[0].hostIP", "")),
        ),
        (
            "bad pod IP",
            pod(c(json!([])), json!({"podIP": "1.2.3"})),
            Some(("status.podIP", "not a valid IP address")),
        ),
        (
            "bad pod IPs",
            pod(
                c(json!([])),
                json!({"podIPs": [{"ip": "10.0.0.1"}, {"ip": "nope"}]}),
            ),
            Some(("status.podIPs[1].ip", "not a valid IP address")),
        ),
        (
            "bad node name",
            pod(
                json!({"nodeName": "Node_1", "containers": [{"name": "c"}]}),
                json!({}),
            ),
            Some(("spec.nodeName", "")),
        ),
    ]);
}
