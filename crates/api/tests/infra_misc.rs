//! Node, IPAMConfiguration, ClusterInformation and KubeControllersConfiguration: defaults and
//! validation tables, singleton names; and decoding of every infrastructure kind (unknown
//! fields named by path, YAML input).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use calico_api::codec::decode_all;
use calico_api::{
    DecodeError, GoDuration, IPAMConfiguration, KubeControllersConfiguration, Resource,
};
use serde_json::{Value, json};

fn res(kind: &str, name: &str, spec: Value) -> Resource {
    Resource::from_value(json!({
        "apiVersion": "projectcalico.org/v3",
        "kind": kind,
        "metadata": {"name": name},
        "spec": spec,
    }))
    .unwrap_or_else(|e| panic!("{kind} {spec}: {e}"))
}

fn errors(r: &Resource) -> Vec<String> {
    match r.validate() {
        Ok(()) => vec![],
        Err(e) => e.errors.iter().map(|f| f.to_string()).collect(),
    }
}

fn run(kind: &str, name: &str, cases: Vec<(&str, Value, Option<&str>)>) {
    for (desc, spec, want) in cases {
        let errs = errors(&res(kind, name, spec));
        match want {
            None => assert!(
                errs.is_empty(),
                "{kind} {desc}: expected valid, got {errs:?}"
            ),
            Some(path) => assert!(
                errs.iter().any(|e| e.starts_with(&format!("{path}:"))),
                "{kind} {desc}: expected an error at {path}, got {errs:?}"
            ),
        }
    }
}

#[test]
fn node_table() {
    let wg_key = "jlkVyQYooZYzI2wFfNhSZez5eWh44yfq1wKVjLvSXgY=";
    run(
        "Node",
        "node1",
        vec![
            (
                "IPv4 BGP",
                json!({"bgp": {"ipv4Address": "1.2.3.4/32"}}),
                None,
            ),
            (
                "IPv4 BGP with subnet",
                json!({"bgp": {"ipv4Address": "10.0.0.5/24", "asNumber": 64513}}),
                None,
            ),
            (
                "IPv6 BGP",
                json!({"bgp": {"ipv6Address": "aabb:aabb::ffff/128"}}),
                None,
            ),
            (
                "tunnel address",
                json!({"bgp": {"ipv4IPIPTunnelAddr": "10.0.0.1"}}),
                None,
            ),
            ("no BGP", json!({}), None),
            ("empty BGP", json!({"bgp": {}}), Some("spec.bgp")),
            (
                "IPv6 in IPv4 field",
                json!({"bgp": {"ipv4Address": "aabb:aabb::ffff/128"}}),
                Some("spec.bgp.ipv4Address"),
            ),
            (
                "IPv4 in IPv6 field",
                json!({"bgp": {"ipv6Address": "1.2.3.4/32"}}),
                Some("spec.bgp.ipv6Address"),
            ),
            (
                "bad IPv4 address",
                json!({"bgp": {"ipv4Address": "10.0.0.256/24"}}),
                Some("spec.bgp.ipv4Address"),
            ),
            (
                "bad RR cluster ID",
                json!({"bgp": {"ipv4Address": "1.2.3.4/32", "routeReflectorClusterID": "abcdef"}}),
                Some("spec.bgp.routeReflectorClusterID"),
            ),
            (
                "bad RR cluster ID 2",
                json!({"bgp": {"ipv4Address": "1.2.3.4/32", "routeReflectorClusterID": "300.34.3.1"}}),
                Some("spec.bgp.routeReflectorClusterID"),
            ),
            (
                "good RR cluster ID",
                json!({"bgp": {"ipv4Address": "1.2.3.4/32", "routeReflectorClusterID": "245.0.0.1"}}),
                None,
            ),
            (
                "wireguard address",
                json!({"wireguard": {"interfaceIPv4Address": "1.2.3.4"}}),
                None,
            ),
            (
                "bad wireguard address",
                json!({"wireguard": {"interfaceIPv4Address": "foo.bar"}}),
                Some("spec.wireguard.interfaceIPv4Address"),
            ),
            (
                "wireguard IPv6 given IPv4",
                json!({"wireguard": {"interfaceIPv6Address": "1.2.3.4"}}),
                Some("spec.wireguard.interfaceIPv6Address"),
            ),
            (
                "VXLAN",
                json!({"ipv4VXLANTunnelAddr": "10.0.0.1", "vxlanTunnelMACAddr": "66:aa:bb:cc:dd:ee",
                          "ipv6VXLANTunnelAddr": "fd00::1", "vxlanTunnelMACAddrV6": "66:aa:bb:cc:dd:ef"}),
                None,
            ),
            (
                "VXLAN IPv4 given IPv6",
                json!({"ipv4VXLANTunnelAddr": "fd00::1"}),
                Some("spec.ipv4VXLANTunnelAddr"),
            ),
            (
                "VXLAN IPv6 given IPv4",
                json!({"ipv6VXLANTunnelAddr": "10.0.0.1"}),
                Some("spec.ipv6VXLANTunnelAddr"),
            ),
            (
                "bad VXLAN MAC",
                json!({"vxlanTunnelMACAddr": "66:aa:bb:cc:dd"}),
                Some("spec.vxlanTunnelMACAddr"),
            ),
            (
                "addresses",
                json!({"addresses": [{"address": "10.0.0.5", "type": "CalicoNodeIP"},
                                           {"address": "192.168.0.0/24", "type": "InternalIP"},
                                           {"address": "fd00::5"}]}),
                None,
            ),
            (
                "address with host bits",
                json!({"addresses": [{"address": "10.0.0.5/24"}]}),
                Some("spec.addresses[0].address"),
            ),
            (
                "empty address",
                json!({"addresses": [{"address": ""}]}),
                Some("spec.addresses[0].address"),
            ),
            (
                "bad address type",
                json!({"addresses": [{"address": "10.0.0.5", "type": "PublicIP"}]}),
                Some("spec.addresses[0].type"),
            ),
            (
                "interfaces",
                json!({"interfaces": [{"name": "eth0", "addresses": ["10.0.0.5", "fe80::1"]}]}),
                None,
            ),
            (
                "bad interface name",
                json!({"interfaces": [{"name": "Eth_0"}]}),
                Some("spec.interfaces[0].name"),
            ),
            (
                "orchestrator refs",
                json!({"orchRefs": [{"nodeName": "node1", "orchestrator": "k8s"}]}),
                None,
            ),
        ],
    );
    let status = |s: Value| {
        Resource::from_value(json!({
            "apiVersion": "projectcalico.org/v3", "kind": "Node",
            "metadata": {"name": "node1"}, "status": s,
        }))
        .unwrap()
    };
    assert!(
        errors(&status(
            json!({"wireguardPublicKey": wg_key, "podCIDRs": ["10.244.0.0/24"]})
        ))
        .is_empty()
    );
    let e = errors(&status(json!({"wireguardPublicKey": "foobar"})));
    assert!(e[0].starts_with("status.wireguardPublicKey:"), "{e:?}");
}

#[test]
fn node_accessors_and_output() {
    let r = res(
        "Node",
        "node1",
        json!({"bgp": {"ipv4Address": "10.0.0.5/24", "ipv6Address": "fd00::5/64"}}),
    );
    let Resource::Node(n) = &r else {
        unreachable!()
    };
    assert_eq!(n.spec.ipv4_address().unwrap().to_string(), "10.0.0.5");
    assert_eq!(n.spec.ipv6_address().unwrap().to_string(), "fd00::5");
    // Like Calico, the (empty) status is always written.
    assert_eq!(r.to_value()["status"], json!({}));
}

#[test]
fn ipam_configuration() {
    let e = errors(&res(
        "IPAMConfiguration",
        "other",
        json!({"strictAffinity": true}),
    ));
    assert!(
        e.iter()
            .any(|e| e.starts_with("metadata.name:") && e.contains("default")),
        "{e:?}"
    );
    run(
        "IPAMConfiguration",
        "default",
        vec![
            (
                "strict affinity",
                json!({"strictAffinity": true, "maxBlocksPerHost": 4}),
                None,
            ),
            (
                "max blocks -1",
                json!({"maxBlocksPerHost": -1}),
                Some("spec.maxBlocksPerHost"),
            ),
            (
                "max blocks 1000000",
                json!({"maxBlocksPerHost": 1000000}),
                None,
            ),
            (
                "max blocks 1000001",
                json!({"maxBlocksPerHost": 1000001}),
                Some("spec.maxBlocksPerHost"),
            ),
            ("cooldown 0", json!({"ipCooldownSeconds": 0}), None),
            ("cooldown 1200", json!({"ipCooldownSeconds": 1200}), None),
            (
                "cooldown 1201",
                json!({"ipCooldownSeconds": 1201}),
                Some("spec.ipCooldownSeconds"),
            ),
            (
                "cooldown -1",
                json!({"ipCooldownSeconds": -1}),
                Some("spec.ipCooldownSeconds"),
            ),
            (
                "KubeVirt Disabled",
                json!({"kubeVirtVMAddressPersistence": "Disabled"}),
                None,
            ),
            (
                "KubeVirt bogus",
                json!({"kubeVirtVMAddressPersistence": "Sometimes"}),
                Some("spec.kubeVirtVMAddressPersistence"),
            ),
        ],
    );

    // autoAllocateBlocks defaults to true when omitted; strictAffinity to false; both are
    // always written.
    let r = res("IPAMConfiguration", "default", json!({}));
    let Resource::IPAMConfiguration(c) = &r else {
        unreachable!()
    };
    assert!(c.spec.auto_allocate_blocks);
    assert!(!c.spec.strict_affinity);
    assert_eq!(c.spec.effective_max_blocks_per_host(), 20);
    assert!(c.spec.kube_virt_vm_address_persistence_enabled());
    assert_eq!(
        r.to_value()["spec"],
        json!({"strictAffinity": false, "autoAllocateBlocks": true})
    );
    let r = res(
        "IPAMConfiguration",
        "default",
        json!({"autoAllocateBlocks": false}),
    );
    let Resource::IPAMConfiguration(c) = &r else {
        unreachable!()
    };
    assert!(!c.spec.auto_allocate_blocks);

    // The IPAM library's rules when the configuration is set.
    let rules = |spec: Value| {
        let Resource::IPAMConfiguration(c) = res("IPAMConfiguration", "default", spec) else {
            unreachable!()
        };
        c.spec.check_ipam_set_rules()
    };
    assert!(rules(json!({})).is_empty());
    assert_eq!(
        rules(json!({"autoAllocateBlocks": false}))[0].path,
        "spec.autoAllocateBlocks"
    );
    assert_eq!(
        rules(json!({"maxBlocksPerHost": 5}))[0].path,
        "spec.maxBlocksPerHost"
    );
    assert!(
        rules(json!({"maxBlocksPerHost": 5, "strictAffinity": true, "autoAllocateBlocks": false}))
            .is_empty()
    );

    let d = IPAMConfiguration::startup_default();
    assert_eq!(d.metadata.name, "default");
    assert_eq!(
        d.spec.kube_virt_vm_address_persistence.as_deref(),
        Some("Enabled")
    );
}

#[test]
fn cluster_information() {
    let spec = json!({"clusterGUID": "0123abcd", "clusterType": "k8s,bgp,kdd",
                      "calicoVersion": "v3.31.0", "datastoreReady": true, "variant": "Calico"});
    assert!(errors(&res("ClusterInformation", "default", spec.clone())).is_empty());
    let e = errors(&res("ClusterInformation", "cluster", spec));
    assert!(e.iter().any(|e| e.starts_with("metadata.name:")), "{e:?}");
    let Resource::ClusterInformation(c) = res(
        "ClusterInformation",
        "default",
        json!({"datastoreReady": false}),
    ) else {
        unreachable!()
    };
    assert!(!c.spec.is_datastore_ready());
}

#[test]
fn kube_controllers_configuration() {
    let e = errors(&res(
        "KubeControllersConfiguration",
        "kcc",
        json!({"controllers": {}}),
    ));
    assert!(e.iter().any(|e| e.starts_with("metadata.name:")), "{e:?}");
    run(
        "KubeControllersConfiguration",
        "default",
        vec![
            (
                "invalid health checks",
                json!({"healthChecks": "invalid"}),
                Some("spec.healthChecks"),
            ),
            (
                "health checks Enabled",
                json!({"healthChecks": "Enabled"}),
                None,
            ),
            (
                "invalid log severity",
                json!({"logSeverityScreen": "invalid"}),
                Some("spec.logSeverityScreen"),
            ),
            (
                "log severity Error",
                json!({"logSeverityScreen": "Error"}),
                None,
            ),
            (
                "compaction period",
                json!({"etcdV3CompactionPeriod": "12m"}),
                None,
            ),
            ("no controllers", json!({"controllers": {}}), None),
            (
                "empty controllers",
                json!({"controllers": {"node": {}, "policy": {}, "workloadEndpoint": {},
                                                     "serviceAccount": {}, "namespace": {}}}),
                None,
            ),
            (
                "node reconciler period",
                json!({"controllers": {"node": {"reconcilerPeriod": "5m"}}}),
                None,
            ),
            (
                "sync labels yes",
                json!({"controllers": {"node": {"syncLabels": "yes"}}}),
                Some("spec.controllers.node.syncLabels"),
            ),
            (
                "sync labels Disabled",
                json!({"controllers": {"node": {"syncLabels": "Disabled"}}}),
                None,
            ),
            (
                "auto create Totally",
                json!({"controllers": {"node": {"hostEndpoint": {"autoCreate": "Totally"}}}}),
                Some("spec.controllers.node.hostEndpoint.autoCreate"),
            ),
            (
                "auto create Enabled",
                json!({"controllers": {"node": {"hostEndpoint": {"autoCreate": "Enabled"}}}}),
                None,
            ),
            (
                "empty host endpoint",
                json!({"controllers": {"node": {"hostEndpoint": {}}}}),
                None,
            ),
            (
                "reconciler periods",
                json!({"controllers": {"policy": {"reconcilerPeriod": "330s"}, "workloadEndpoint": {"reconcilerPeriod": "330s"},
                                                      "serviceAccount": {"reconcilerPeriod": "330s"}, "namespace": {"reconcilerPeriod": "330s"}}}),
                None,
            ),
            (
                "templates",
                json!({"controllers": {"node": {"hostEndpoint": {"autoCreate": "Enabled", "templates": [{
            "generateName": "eth0-hep", "interfaceCIDRs": ["10.0.0.0/8"], "interfacePattern": "^eth[0-9]+$",
            "labels": {"role": "edge"}, "nodeSelector": "has(edge)"}]}}}}),
                None,
            ),
            (
                "bad template",
                json!({"controllers": {"node": {"hostEndpoint": {"templates": [{
            "generateName": "Bad_Name", "interfaceCIDRs": ["nope"], "interfacePattern": "(", "nodeSelector": "a =="}]}}}}),
                Some("spec.controllers.node.hostEndpoint.templates[0].interfacePattern"),
            ),
            (
                "LB assign IPs",
                json!({"controllers": {"loadBalancer": {"assignIPs": "RequestedServicesOnly"}}}),
                None,
            ),
            (
                "LB assign IPs bogus",
                json!({"controllers": {"loadBalancer": {"assignIPs": "Some"}}}),
                Some("spec.controllers.loadBalancer.assignIPs"),
            ),
            (
                "migration",
                json!({"controllers": {"migration": {"policyNameMigrator": "Disabled"}}}),
                None,
            ),
            (
                "metrics port 0",
                json!({"prometheusMetricsPort": 0, "debugProfilePort": 6060}),
                None,
            ),
            (
                "metrics port 65536",
                json!({"prometheusMetricsPort": 65536}),
                Some("spec.prometheusMetricsPort"),
            ),
        ],
    );
    let bad_template = errors(&res(
        "KubeControllersConfiguration",
        "default",
        json!({"controllers": {"node": {"hostEndpoint": {"templates": [{
        "generateName": "Bad_Name", "interfaceCIDRs": ["nope"], "interfacePattern": "(", "nodeSelector": "a =="}]}}}}),
    ));
    assert_eq!(bad_template.len(), 4, "{bad_template:?}");
}

#[test]
fn kube_controllers_defaults() {
    let mut r = res(
        "KubeControllersConfiguration",
        "default",
        json!({"controllers": {
        "node": {"syncLabels": "Enabled"}, "loadBalancer": {}, "migration": {}}}),
    );
    r.apply_defaults();
    let v = r.to_value();
    assert_eq!(v["spec"]["healthChecks"], "Enabled");
    assert_eq!(v["spec"]["prometheusMetricsPort"], 9094);
    assert_eq!(v["spec"]["controllers"]["node"]["leakGracePeriod"], "15m0s");
    assert_eq!(
        v["spec"]["controllers"]["loadBalancer"]["assignIPs"],
        "AllServices"
    );
    assert_eq!(
        v["spec"]["controllers"]["migration"]["policyNameMigrator"],
        "Enabled"
    );
    assert!(
        v["spec"]["controllers"].get("policy").is_none(),
        "absent controllers stay absent"
    );
    assert_eq!(v["status"], json!({}));
    // Without a node section there is no leak grace period to default.
    let mut r = res(
        "KubeControllersConfiguration",
        "default",
        json!({"controllers": {}}),
    );
    r.apply_defaults();
    assert!(r.to_value()["spec"]["controllers"].get("node").is_none());

    let d = KubeControllersConfiguration::kube_controllers_default();
    let node = d.spec.controllers.node.as_ref().unwrap();
    assert_eq!(node.leak_grace_period, Some(GoDuration::from_mins(15)));
    assert_eq!(
        d.spec.etcd_v3_compaction_period,
        Some(GoDuration::from_mins(10))
    );
    assert!(Resource::KubeControllersConfiguration(d).validate().is_ok());
}

#[test]
fn kube_controllers_status() {
    let r = Resource::from_value(json!({
        "apiVersion": "projectcalico.org/v3", "kind": "KubeControllersConfiguration",
        "metadata": {"name": "default"},
        "spec": {"controllers": {}},
        "status": {"runningConfig": {"controllers": {"node": {"syncLabels": "Enabled"}},
                                     "healthChecks": "Enabled"},
                   "environmentVars": {"ENABLED_CONTROLLERS": "node"}},
    }))
    .unwrap();
    assert!(r.validate().is_ok());
    assert_eq!(Resource::from_value(r.to_value()).unwrap(), r);
}

fn decode_err(doc: Value) -> String {
    match Resource::from_value(doc) {
        Err(DecodeError::Field { path, message, .. }) => format!("{path}: {message}"),
        other => panic!("expected a field error, got {other:?}"),
    }
}

#[test]
fn unknown_fields_are_named_by_path() {
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "IPPool",
            json!({"cidr": "10.0.0.0/16", "ipip": {"enabled": true}}),
            "spec.ipip",
        ),
        (
            "IPPool",
            json!({"cidr": "10.0.0.0/16", "nat-outgoing": true}),
            "spec.nat-outgoing",
        ),
        (
            "IPReservation",
            json!({"reservedCidrs": []}),
            "spec.reservedCidrs",
        ),
        (
            "IPAMConfiguration",
            json!({"strictAffinty": true}),
            "spec.strictAffinty",
        ),
        (
            "BGPConfiguration",
            json!({"nodeMeshPassword": {"secretKeyRef": {"key": "k", "nme": "x"}}}),
            "spec.nodeMeshPassword.secretKeyRef.nme",
        ),
        ("BGPPeer", json!({"peerIp": "1.2.3.4"}), "spec.peerIp"),
        (
            "BGPFilter",
            json!({"exportV4": [{"action": "Accept", "operations": [{"addCommunity": {"value": "1:1", "extra": 1}}]}]}),
            "spec.exportV4[0].operations[0].addCommunity.extra",
        ),
        (
            "FelixConfiguration",
            json!({"logSeverityScren": "Info"}),
            "spec.logSeverityScren",
        ),
        (
            "FelixConfiguration",
            json!({"failsafeInboundHostPorts": [{"protocol": "TCP", "port": 22, "cidr": "x"}]}),
            "spec.failsafeInboundHostPorts[0].cidr",
        ),
        (
            "Node",
            json!({"bgp": {"ipv4Address": "10.0.0.1/24", "asnumber": 1}}),
            "spec.bgp.asnumber",
        ),
        (
            "ClusterInformation",
            json!({"clusterGuid": "x"}),
            "spec.clusterGuid",
        ),
        (
            "KubeControllersConfiguration",
            json!({"controllers": {"node": {"syncLabel": "Enabled"}}}),
            "spec.controllers.node.syncLabel",
        ),
    ];
    for (kind, spec, path) in cases {
        let msg = decode_err(json!({
            "apiVersion": "projectcalico.org/v3", "kind": kind,
            "metadata": {"name": "default"}, "spec": spec,
        }));
        assert!(msg.starts_with(&format!("{path}: ")), "{kind}: {msg}");
        assert!(msg.contains("unknown field"), "{kind}: {msg}");
    }
    // Wrong types are decode errors too.
    let msg = decode_err(
        json!({"apiVersion": "projectcalico.org/v3", "kind": "IPPool",
        "metadata": {"name": "p"}, "spec": {"cidr": "10.0.0.0/16", "blockSize": "26"}}),
    );
    assert!(msg.starts_with("spec.blockSize: "), "{msg}");
    let msg = decode_err(
        json!({"apiVersion": "projectcalico.org/v3", "kind": "BGPPeer",
        "metadata": {"name": "p"}, "spec": {"asNumber": "1.70000"}}),
    );
    assert!(msg.starts_with("spec.asNumber: "), "{msg}");
}

#[test]
fn yaml_documents() {
    let text = r#"
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: default-ipv4-ippool
spec:
  cidr: 192.168.0.0/16
  ipipMode: Always
  natOutgoing: true
  nodeSelector: all()
---
apiVersion: projectcalico.org/v3
kind: FelixConfiguration
metadata:
  name: default
spec:
  logSeverityScreen: Info
  reportingInterval: 0s
  iptablesMarkMask: 0xffff0000
  failsafeInboundHostPorts:
  - protocol: TCP
    port: 22
  kubeNodePortRanges: ["30000:32767", 8080]
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: rack1-tor
spec:
  peerIP: 192.20.30.40
  asNumber: 64567
  nodeSelector: rack == 'rack-1'
  keepaliveTime: 10s
"#;
    let docs = decode_all(text).unwrap();
    assert_eq!(docs.len(), 3);
    for (i, d) in docs {
        let r = d.unwrap_or_else(|e| panic!("doc {i}: {e}"));
        assert!(r.validate().is_ok(), "doc {i}: {:?}", r.validate());
        if let Resource::FelixConfiguration(f) = &r {
            assert_eq!(f.spec.iptables_mark_mask, Some(0xffff_0000));
            assert_eq!(f.spec.reporting_interval, Some(GoDuration::ZERO));
        }
    }
}
