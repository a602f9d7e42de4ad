//! BGPConfiguration, BGPPeer and BGPFilter: defaults and validation tables (cases restated
//! from Calico's validator tests and CRD rules).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use calico_api::{AsNumber, Resource, parse_community};
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

/// Run a table of `(description, spec, expected error path or None)` cases.
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

fn secret() -> Value {
    json!({"secretKeyRef": {"name": "test-secret", "key": "bgp-password"}})
}

#[test]
fn bgp_configuration_table() {
    let comms = |value: &str| {
        json!({
            "communities": [{"name": "community-test", "value": value}],
            "prefixAdvertisements": [{"cidr": "192.168.10.0/28", "communities": ["100:100"]}],
        })
    };
    run(
        "BGPConfiguration",
        "default",
        vec![
            ("log level Info", json!({"logSeverityScreen": "Info"}), None),
            (
                "log level info",
                json!({"logSeverityScreen": "info"}),
                Some("spec.logSeverityScreen"),
            ),
            (
                "log level INFO",
                json!({"logSeverityScreen": "INFO"}),
                Some("spec.logSeverityScreen"),
            ),
            (
                "log level invalidLvl",
                json!({"logSeverityScreen": "invalidLvl"}),
                Some("spec.logSeverityScreen"),
            ),
            (
                "cluster IP",
                json!({"serviceClusterIPs": [{"cidr": "1.2.3.4"}]}),
                None,
            ),
            (
                "external IP",
                json!({"serviceExternalIPs": [{"cidr": "8.8.8.8"}]}),
                None,
            ),
            (
                "bad cluster IP",
                json!({"serviceClusterIPs": [{"cidr": "x.x.x.x"}]}),
                Some("spec.serviceClusterIPs[0].cidr"),
            ),
            (
                "bad external IP",
                json!({"serviceExternalIPs": [{"cidr": "y.y.y.y"}]}),
                Some("spec.serviceExternalIPs[0].cidr"),
            ),
            (
                "IPv6 cluster IP",
                json!({"serviceClusterIPs": [{"cidr": "fdf5:1234::102:304"}]}),
                None,
            ),
            (
                "IPv6 external IP",
                json!({"serviceExternalIPs": [{"cidr": "fdf5:1234::808:808"}]}),
                None,
            ),
            (
                "LB CIDR with host bits",
                json!({"serviceLoadBalancerIPs": [{"cidr": "10.0.0.1/16"}]}),
                Some("spec.serviceLoadBalancerIPs[0].cidr"),
            ),
            (
                "duplicate LB CIDR",
                json!({"serviceLoadBalancerIPs": [{"cidr": "10.0.0.0/16"}, {"cidr": "10.0.0.0/16"}]}),
                Some("spec.serviceLoadBalancerIPs[1]"),
            ),
            (
                "mesh password with mesh",
                json!({"nodeToNodeMeshEnabled": true, "nodeMeshPassword": secret()}),
                None,
            ),
            (
                "mesh password without mesh",
                json!({"nodeToNodeMeshEnabled": false, "nodeMeshPassword": secret()}),
                Some("spec.nodeMeshPassword"),
            ),
            (
                "mesh restart time with mesh",
                json!({"nodeToNodeMeshEnabled": true, "nodeMeshMaxRestartTime": "200s"}),
                None,
            ),
            (
                "mesh restart time without mesh",
                json!({"nodeToNodeMeshEnabled": false, "nodeMeshMaxRestartTime": "200s"}),
                Some("spec.nodeMeshMaxRestartTime"),
            ),
            (
                "ignored interfaces",
                json!({"ignoredInterfaces": ["valid_iface*", "interface_name"]}),
                None,
            ),
            (
                "ignored interface *",
                json!({"ignoredInterfaces": ["*"]}),
                Some("spec.ignoredInterfaces[0]"),
            ),
            (
                "ignored interface too long",
                json!({"ignoredInterfaces": ["a-very-long-interface"]}),
                Some("spec.ignoredInterfaces[0]"),
            ),
            (
                "communities without prefix advertisements",
                json!({"communities": [{"name": "community-test", "value": "101:5695"}]}),
                Some("spec.communities"),
            ),
            (
                "community without name",
                json!({"communities": [{"value": "536:785"}], "prefixAdvertisements": [{"cidr": "192.168.10.0/28", "communities": ["100:100"]}]}),
                Some("spec.communities[0].name"),
            ),
            (
                "community without value",
                json!({"communities": [{"name": "community-test"}], "prefixAdvertisements": [{"cidr": "192.168.10.0/28", "communities": ["100:100"]}]}),
                Some("spec.communities[0].value"),
            ),
            ("standard community", comms("100:520"), None),
            ("large community", comms("100:520:56"), None),
            (
                "community 100",
                comms("100"),
                Some("spec.communities[0].value"),
            ),
            (
                "community ab-n",
                comms("ab-n"),
                Some("spec.communities[0].value"),
            ),
            (
                "standard community > 16 bits",
                comms("65536:999999"),
                Some("spec.communities[0].value"),
            ),
            (
                "standard community 4147483647:999999",
                comms("4147483647:999999"),
                Some("spec.communities[0].value"),
            ),
            (
                "prefix advertisement without CIDR",
                json!({"prefixAdvertisements": [{"communities": ["100:5964"]}]}),
                Some("spec.prefixAdvertisements[0].cidr"),
            ),
            (
                "prefix advertisement without communities",
                json!({"prefixAdvertisements": [{"cidr": "192.168.10.0/28"}]}),
                Some("spec.prefixAdvertisements[0].communities"),
            ),
            (
                "IPv4 prefix advertisement",
                json!({"prefixAdvertisements": [{"cidr": "192.168.10.0/28", "communities": ["100:5964:50"]}]}),
                None,
            ),
            (
                "IPv6 prefix advertisement",
                json!({"prefixAdvertisements": [{"cidr": "2001:4860::/128", "communities": ["100:5964:50"]}]}),
                None,
            ),
            (
                "two standard values",
                json!({"prefixAdvertisements": [{"cidr": "2001:4860::/128", "communities": ["100:5964", "200:594"]}]}),
                None,
            ),
            (
                "large value",
                json!({"prefixAdvertisements": [{"cidr": "2001:4860::/128", "communities": ["100:5964:1147483647"]}]}),
                None,
            ),
            (
                "standard value > 16 bits",
                json!({"prefixAdvertisements": [{"cidr": "2001:4860::/128", "communities": ["100:1147483647"]}]}),
                Some("spec.prefixAdvertisements[0].communities[0]"),
            ),
            (
                "large value > 32 bits",
                json!({"prefixAdvertisements": [{"cidr": "2001:4860::/128", "communities": ["100:100:5147483647"]}]}),
                Some("spec.prefixAdvertisements[0].communities[0]"),
            ),
            (
                "mixed values",
                json!({"prefixAdvertisements": [{"cidr": "2001:4860::/128", "communities": ["100:5964:1147483647", "100:5223"]}]}),
                None,
            ),
            (
                "undefined community name",
                json!({"prefixAdvertisements": [{"cidr": "2001:4860::/128", "communities": ["nonexistent-community"]}]}),
                Some("spec.prefixAdvertisements[0].communities[0]"),
            ),
            (
                "defined community name",
                json!({"communities": [{"name": "community-test", "value": "101:5695"}], "prefixAdvertisements": [{"cidr": "2001:4860::/128", "communities": ["community-test", "8988:202"]}]}),
                None,
            ),
            (
                "prefix advertisement with host bits",
                json!({"prefixAdvertisements": [{"cidr": "192.168.10.1/28", "communities": ["1:1"]}]}),
                Some("spec.prefixAdvertisements[0].cidr"),
            ),
            ("listen port", json!({"listenPort": 1179}), None),
            ("bind mode NodeIP", json!({"bindMode": "NodeIP"}), None),
            (
                "bind mode bogus",
                json!({"bindMode": "All"}),
                Some("spec.bindMode"),
            ),
            (
                "aggregation Disabled",
                json!({"serviceLoadBalancerAggregation": "Disabled"}),
                None,
            ),
            (
                "aggregation bogus",
                json!({"serviceLoadBalancerAggregation": "Partial"}),
                Some("spec.serviceLoadBalancerAggregation"),
            ),
            (
                "workload peering IPs",
                json!({"localWorkloadPeeringIPV4": "169.254.0.179", "localWorkloadPeeringIPV6": "fe80::179"}),
                None,
            ),
            (
                "workload peering IPv4 given IPv6",
                json!({"localWorkloadPeeringIPV4": "fe80::1"}),
                Some("spec.localWorkloadPeeringIPV4"),
            ),
            (
                "workload peering IPv6 given IPv4",
                json!({"localWorkloadPeeringIPV6": "10.0.0.1"}),
                Some("spec.localWorkloadPeeringIPV6"),
            ),
            (
                "cluster routes",
                json!({"programClusterRoutes": "EnabledNoEncapOnly"}),
                None,
            ),
            (
                "cluster routes bogus",
                json!({"programClusterRoutes": "Sometimes"}),
                Some("spec.programClusterRoutes"),
            ),
            (
                "route priority",
                json!({"ipv4NormalRoutePriority": 1024, "ipv6NormalRoutePriority": 2147483646}),
                None,
            ),
            (
                "route priority 0",
                json!({"ipv4NormalRoutePriority": 0}),
                Some("spec.ipv4NormalRoutePriority"),
            ),
            (
                "AS number",
                json!({"asNumber": 64512, "nodeToNodeMeshEnabled": false}),
                None,
            ),
            ("asdot AS number", json!({"asNumber": "1.10"}), None),
        ],
    );
}

#[test]
fn bgp_configuration_per_node_fields() {
    run(
        "BGPConfiguration",
        "node.worker-1",
        vec![
            (
                "per-node log level and port",
                json!({"logSeverityScreen": "Debug", "listenPort": 1179}),
                None,
            ),
            (
                "per-node mesh setting",
                json!({"nodeToNodeMeshEnabled": false}),
                Some("spec.nodeToNodeMeshEnabled"),
            ),
            (
                "per-node AS number",
                json!({"asNumber": 65000}),
                Some("spec.asNumber"),
            ),
            (
                "per-node LB IPs",
                json!({"serviceLoadBalancerIPs": [{"cidr": "10.0.0.0/24"}]}),
                Some("spec.serviceLoadBalancerIPs"),
            ),
            (
                "per-node external IPs",
                json!({"serviceExternalIPs": [{"cidr": "10.0.0.0/24"}]}),
                Some("spec.serviceExternalIPs"),
            ),
            (
                "per-node cluster IPs",
                json!({"serviceClusterIPs": [{"cidr": "10.0.0.0/24"}]}),
                Some("spec.serviceClusterIPs"),
            ),
        ],
    );
}

#[test]
fn bgp_configuration_defaults_and_effective_values() {
    let mut r = res("BGPConfiguration", "default", json!({}));
    let Resource::BGPConfiguration(c) = &r else {
        unreachable!()
    };
    assert!(c.spec.effective_node_to_node_mesh_enabled());
    assert_eq!(c.spec.effective_as_number(), AsNumber(64512));
    assert_eq!(c.spec.effective_listen_port(), 179);
    assert_eq!(c.spec.effective_log_severity_screen(), "Info");
    assert!(c.spec.service_load_balancer_aggregation_enabled());
    r.apply_defaults();
    let v = r.to_value();
    assert_eq!(
        v["spec"],
        json!({"logSeverityScreen": "Info", "serviceLoadBalancerAggregation": "Enabled"})
    );
    // Explicit values are kept.
    let mut r = res(
        "BGPConfiguration",
        "default",
        json!({"logSeverityScreen": "Debug"}),
    );
    r.apply_defaults();
    assert_eq!(r.to_value()["spec"]["logSeverityScreen"], "Debug");
}

#[test]
fn bgp_peer_table() {
    run(
        "BGPPeer",
        "peer1",
        vec![
            ("peer IP", json!({"peerIP": "1.2.3.4"}), None),
            (
                "bad IPv4 peer",
                json!({"peerIP": "999.999.999.999"}),
                Some("spec.peerIP"),
            ),
            (
                "bad IPv6 peer",
                json!({"peerIP": "xyz:::"}),
                Some("spec.peerIP"),
            ),
            (
                "node and nodeSelector",
                json!({"node": "my-node", "nodeSelector": "has(mylabel)"}),
                Some("spec.node"),
            ),
            (
                "peerIP and peerSelector",
                json!({"peerIP": "1.2.3.4", "peerSelector": "has(mylabel)"}),
                Some("spec.peerIP"),
            ),
            (
                "asNumber and peerSelector",
                json!({"asNumber": 61234, "peerSelector": "has(mylabel)"}),
                Some("spec.asNumber"),
            ),
            (
                "nodeSelector and peerSelector",
                json!({"nodeSelector": "has(mylabel)", "peerSelector": "has(mylabel)"}),
                None,
            ),
            (
                "reachableBy without peerIP",
                json!({"reachableBy": "100.200.0.0"}),
                Some("spec.reachableBy"),
            ),
            (
                "IPv6 reachableBy without peerIP",
                json!({"reachableBy": "aabb::abcd"}),
                Some("spec.reachableBy"),
            ),
            (
                "reachableBy and IPv4:port",
                json!({"peerIP": "9.9.9.9:4444", "reachableBy": "1.2.3.4"}),
                None,
            ),
            (
                "reachableBy and [IPv6]:port",
                json!({"peerIP": "[aabb::ffff]:4444", "reachableBy": "aabb:aabb::ffff"}),
                None,
            ),
            (
                "bad reachableBy",
                json!({"peerIP": "9.9.9.9:4444", "reachableBy": "999.999.999.999"}),
                Some("spec.reachableBy"),
            ),
            (
                "bad IPv6 reachableBy",
                json!({"peerIP": "[aabb::ffff]:4444", "reachableBy": "xyz:::"}),
                Some("spec.reachableBy"),
            ),
            (
                "family mismatch v4 peer",
                json!({"peerIP": "1.2.3.4", "reachableBy": "aabb:aabb::ffff"}),
                Some("spec.reachableBy"),
            ),
            (
                "family mismatch v4 peer:port",
                json!({"peerIP": "9.9.9.9:4444", "reachableBy": "aabb:aabb::ffff"}),
                Some("spec.reachableBy"),
            ),
            (
                "family mismatch v6 peer",
                json!({"peerIP": "aabb:aabb::ffff", "reachableBy": "1.2.3.4"}),
                Some("spec.reachableBy"),
            ),
            (
                "family mismatch v6 peer:port",
                json!({"peerIP": "[aabb::ffff]:4444", "reachableBy": "1.2.3.4"}),
                Some("spec.reachableBy"),
            ),
            (
                "password",
                json!({"peerIP": "1.2.3.4", "password": {"secretKeyRef": {"name": "tigera-bgp-passwords", "key": "my-peering"}}}),
                None,
            ),
            (
                "bad nodeSelector",
                json!({"nodeSelector": "kubernetes.io/hostname: == 'casey-crc-kadm-node-4'"}),
                Some("spec.nodeSelector"),
            ),
            ("IPv4 with port", json!({"peerIP": "192.168.1.1:500"}), None),
            ("IPv6 with port", json!({"peerIP": "[9000::]:500"}), None),
            (
                "bracketed IPv4 bad port",
                json!({"peerIP": "[192.168.0.0]:98956"}),
                Some("spec.peerIP"),
            ),
            (
                "IPv4 port 65536",
                json!({"peerIP": "192.168.0.0:65536"}),
                Some("spec.peerIP"),
            ),
            (
                "IPv4 port 0",
                json!({"peerIP": "192.168.0.0:0"}),
                Some("spec.peerIP"),
            ),
            (
                "bad IPv4 with port",
                json!({"peerIP": "192.168.0.330:170"}),
                Some("spec.peerIP"),
            ),
            (
                "IPv6 port 98956",
                json!({"peerIP": "[9000::]:98956"}),
                Some("spec.peerIP"),
            ),
            (
                "IPv4 empty port",
                json!({"peerIP": "192.168.0.0:"}),
                Some("spec.peerIP"),
            ),
            (
                "IPv6 empty port",
                json!({"peerIP": "[9000::]:"}),
                Some("spec.peerIP"),
            ),
            (
                "IPv6 port 65536",
                json!({"peerIP": "[9000::]:65536"}),
                Some("spec.peerIP"),
            ),
            (
                "IPv6 port 0",
                json!({"peerIP": "[9000::]:0"}),
                Some("spec.peerIP"),
            ),
            (
                "bad IPv6 with port",
                json!({"peerIP": "[9000::FFFFF]:170"}),
                Some("spec.peerIP"),
            ),
            (
                "port without IPv4",
                json!({"peerIP": ":8552"}),
                Some("spec.peerIP"),
            ),
            (
                "port without IPv6",
                json!({"peerIP": "[]:8552"}),
                Some("spec.peerIP"),
            ),
            (
                "source address UseNodeIP",
                json!({"sourceAddress": "UseNodeIP"}),
                None,
            ),
            (
                "source address None",
                json!({"sourceAddress": "None"}),
                None,
            ),
            (
                "source address rubbish",
                json!({"sourceAddress": "rubbish"}),
                Some("spec.sourceAddress"),
            ),
            ("max restart time", json!({"maxRestartTime": "10s"}), None),
            ("keepalive time", json!({"keepaliveTime": "30s"}), None),
            (
                "local workload selector",
                json!({"localWorkloadSelector": "app == 'bgp'", "asNumber": 65001}),
                None,
            ),
            (
                "local workload selector without AS",
                json!({"localWorkloadSelector": "app == 'bgp'"}),
                Some("spec.asNumber"),
            ),
            (
                "local workload selector with peerIP",
                json!({"localWorkloadSelector": "app == 'bgp'", "asNumber": 65001, "peerIP": "10.0.0.1"}),
                Some("spec.peerIP"),
            ),
            (
                "local workload selector with peerSelector",
                json!({"localWorkloadSelector": "app == 'bgp'", "asNumber": 65001, "peerSelector": "all()"}),
                Some("spec.peerSelector"),
            ),
            ("next hop mode Self", json!({"nextHopMode": "Self"}), None),
            (
                "next hop mode bogus",
                json!({"nextHopMode": "Other"}),
                Some("spec.nextHopMode"),
            ),
            (
                "keepOriginalNextHop with nextHopMode",
                json!({"keepOriginalNextHop": true, "nextHopMode": "Keep"}),
                Some("spec.keepOriginalNextHop"),
            ),
            (
                "keepOriginalNextHop alone",
                json!({"keepOriginalNextHop": true}),
                None,
            ),
            (
                "reverse peering Manual",
                json!({"reversePeering": "Manual"}),
                None,
            ),
            (
                "reverse peering bogus",
                json!({"reversePeering": "Never"}),
                Some("spec.reversePeering"),
            ),
            ("filters", json!({"filters": ["export-only", "f2"]}), None),
            (
                "bad filter name",
                json!({"filters": ["ok", "Not_OK"]}),
                Some("spec.filters[1]"),
            ),
            (
                "bad node name",
                json!({"node": "Node_1"}),
                Some("spec.node"),
            ),
            (
                "asdot AS number",
                json!({"peerIP": "10.0.0.1", "asNumber": "1.10", "localASNumber": 64512}),
                None,
            ),
            (
                "ttl security",
                json!({"peerIP": "10.0.0.1", "ttlSecurity": 1, "numAllowedLocalASNumbers": 2}),
                None,
            ),
        ],
    );
}

#[test]
fn bgp_peer_accessors() {
    let r = res(
        "BGPPeer",
        "p",
        json!({"peerIP": "[fd00::1]:1790", "asNumber": "1.10"}),
    );
    let Resource::BGPPeer(p) = &r else {
        unreachable!()
    };
    let (ip, port) = p.spec.peer_address().unwrap();
    assert_eq!(ip.to_string(), "fd00::1");
    assert_eq!(port, 1790);
    assert_eq!(p.spec.as_number, AsNumber(65546));
    assert!(p.spec.is_global());
    assert_eq!(p.spec.effective_source_address(), "UseNodeIP");
    assert_eq!(p.spec.effective_reverse_peering(), "Auto");
    // asdot input is written back as a number.
    assert_eq!(r.to_value()["spec"]["asNumber"], json!(65546));
}

#[test]
fn bgp_filter_table() {
    let v4 = |rule: Value| json!({"exportV4": [rule]});
    let v6 = |rule: Value| json!({"importV6": [rule]});
    run(
        "BGPFilter",
        "f",
        vec![
            (
                "v4 In",
                v4(json!({"cidr": "10.0.10.0/32", "matchOperator": "In", "action": "Accept"})),
                None,
            ),
            (
                "bad v4 CIDR",
                v4(json!({"cidr": "x.x.x.x/26", "matchOperator": "In", "action": "Accept"})),
                Some("spec.exportV4[0].cidr"),
            ),
            (
                "v6 CIDR in v4 rule",
                v4(json!({"cidr": "ffee::/64", "matchOperator": "In", "action": "Accept"})),
                Some("spec.exportV4[0].cidr"),
            ),
            (
                "bad v6 CIDR",
                v6(json!({"cidr": "xxxx::/64", "matchOperator": "In", "action": "Accept"})),
                Some("spec.importV6[0].cidr"),
            ),
            (
                "v4 CIDR in v6 rule",
                v6(json!({"cidr": "10.0.10.0/32", "matchOperator": "In", "action": "Accept"})),
                Some("spec.importV6[0].cidr"),
            ),
            (
                "v4 CIDR with host bits",
                v4(json!({"cidr": "10.0.10.1/24", "matchOperator": "In", "action": "Accept"})),
                Some("spec.exportV4[0].cidr"),
            ),
            (
                "bad v4 operator",
                v4(
                    json!({"cidr": "10.0.10.0/32", "matchOperator": "fancyOperator", "action": "Accept"}),
                ),
                Some("spec.exportV4[0].matchOperator"),
            ),
            (
                "bad v6 operator",
                v6(
                    json!({"cidr": "ffff::/128", "matchOperator": "fancyOperator", "action": "Accept"}),
                ),
                Some("spec.importV6[0].matchOperator"),
            ),
            (
                "v6 In",
                v6(json!({"cidr": "ffff::/128", "matchOperator": "In", "action": "Accept"})),
                None,
            ),
            (
                "v4 NotIn",
                v4(json!({"cidr": "10.0.10.0/32", "matchOperator": "NotIn", "action": "Accept"})),
                None,
            ),
            (
                "v6 Equal",
                v6(json!({"cidr": "ffff::/128", "matchOperator": "Equal", "action": "Accept"})),
                None,
            ),
            (
                "v4 NotEqual",
                v4(
                    json!({"cidr": "10.0.10.0/32", "matchOperator": "NotEqual", "action": "Reject"}),
                ),
                None,
            ),
            (
                "operator without CIDR",
                v4(json!({"matchOperator": "NotEqual", "action": "Reject"})),
                Some("spec.exportV4[0].cidr"),
            ),
            (
                "CIDR without operator",
                v6(json!({"cidr": "ffff::/128", "action": "Reject"})),
                Some("spec.importV6[0].matchOperator"),
            ),
            (
                "bad action",
                v4(
                    json!({"cidr": "10.0.10.0/32", "matchOperator": "NotEqual", "action": "ActionX"}),
                ),
                Some("spec.exportV4[0].action"),
            ),
            (
                "no action",
                v6(json!({"matchOperator": "NotEqual", "cidr": "ffff::/128"})),
                Some("spec.importV6[0].action"),
            ),
            ("just an action", v4(json!({"action": "Reject"})), None),
            (
                "prefix length min",
                v4(
                    json!({"cidr": "10.0.10.0/24", "matchOperator": "In", "action": "Reject", "prefixLength": {"min": 25}}),
                ),
                None,
            ),
            (
                "prefix length max",
                v4(
                    json!({"cidr": "10.0.10.0/24", "matchOperator": "In", "action": "Reject", "prefixLength": {"max": 30}}),
                ),
                None,
            ),
            (
                "v4 prefix length 64",
                v4(
                    json!({"cidr": "10.0.10.0/24", "matchOperator": "In", "action": "Reject", "prefixLength": {"max": 64}}),
                ),
                Some("spec.exportV4[0].prefixLength.max"),
            ),
            (
                "prefix length without CIDR",
                v4(json!({"interface": "ethx.", "action": "Reject", "prefixLength": {"min": 16}})),
                Some("spec.exportV4[0].prefixLength"),
            ),
            (
                "v6 prefix length min 65",
                v6(
                    json!({"cidr": "ffff::/128", "matchOperator": "In", "action": "Reject", "prefixLength": {"min": 65}}),
                ),
                None,
            ),
            (
                "v6 prefix length max 96",
                v6(
                    json!({"cidr": "ffff::/128", "matchOperator": "In", "action": "Reject", "prefixLength": {"max": 96}}),
                ),
                None,
            ),
            (
                "v6 prefix length negative",
                v6(
                    json!({"cidr": "ffff::/128", "matchOperator": "In", "action": "Reject", "prefixLength": {"min": -16}}),
                ),
                Some("spec.importV6[0].prefixLength.min"),
            ),
            (
                "v6 prefix length without CIDR",
                v6(
                    json!({"interface": "*.calico", "action": "Reject", "prefixLength": {"min": 120}}),
                ),
                Some("spec.importV6[0].prefixLength"),
            ),
            (
                "interface *",
                v4(json!({"interface": "*", "action": "Accept"})),
                None,
            ),
            (
                "bad interface",
                v4(json!({"interface": "eth0/1", "action": "Accept"})),
                Some("spec.exportV4[0].interface"),
            ),
            (
                "source RemotePeers",
                v4(json!({"source": "RemotePeers", "action": "Accept"})),
                None,
            ),
            (
                "bad source",
                v4(json!({"source": "Local", "action": "Accept"})),
                Some("spec.exportV4[0].source"),
            ),
            (
                "peer type",
                v4(json!({"peerType": "eBGP", "action": "Accept"})),
                None,
            ),
            (
                "bad peer type",
                v4(json!({"peerType": "EBGP", "action": "Accept"})),
                Some("spec.exportV4[0].peerType"),
            ),
            (
                "community match",
                v4(json!({"communities": {"values": ["65000:100"]}, "action": "Accept"})),
                None,
            ),
            (
                "two community values",
                v4(json!({"communities": {"values": ["65000:100", "1:2"]}, "action": "Accept"})),
                Some("spec.exportV4[0].communities.values"),
            ),
            (
                "community value > 16 bits",
                v4(json!({"communities": {"values": ["65536:1"]}, "action": "Accept"})),
                Some("spec.exportV4[0].communities.values[0]"),
            ),
            (
                "AS path prefix and priority",
                v4(json!({"asPathPrefix": [65000, "1.1"], "priority": 512, "action": "Accept"})),
                None,
            ),
            (
                "priority 0",
                v4(json!({"priority": 0, "action": "Accept"})),
                Some("spec.exportV4[0].priority"),
            ),
            (
                "operations",
                v4(json!({"action": "Accept", "operations": [
                    {"addCommunity": {"value": "65000:1"}},
                    {"prependASPath": {"prefix": [65000, 65001]}},
                    {"setPriority": {"value": 100}},
                ]})),
                None,
            ),
            (
                "operations on Reject",
                v4(json!({"action": "Reject", "operations": [{"setPriority": {"value": 100}}]})),
                Some("spec.exportV4[0].operations"),
            ),
            (
                "operation with two fields",
                v4(
                    json!({"action": "Accept", "operations": [{"setPriority": {"value": 1}, "addCommunity": {"value": "1:1"}}]}),
                ),
                Some("spec.exportV4[0].operations[0]"),
            ),
            (
                "empty operation",
                v4(json!({"action": "Accept", "operations": [{}]})),
                Some("spec.exportV4[0].operations[0]"),
            ),
            (
                "empty AS path prepend",
                v4(json!({"action": "Accept", "operations": [{"prependASPath": {"prefix": []}}]})),
                Some("spec.exportV4[0].operations[0].prependASPath.prefix"),
            ),
            (
                "priority out of range",
                v4(
                    json!({"action": "Accept", "operations": [{"setPriority": {"value": 2147483647}}]}),
                ),
                Some("spec.exportV4[0].operations[0].setPriority.value"),
            ),
            (
                "bad added community",
                v4(
                    json!({"action": "Accept", "operations": [{"addCommunity": {"value": "1:2:3:4"}}]}),
                ),
                Some("spec.exportV4[0].operations[0].addCommunity.value"),
            ),
        ],
    );
}

#[test]
fn communities_parse() {
    assert_eq!(parse_community("100:200").unwrap(), vec![100, 200]);
    assert_eq!(
        parse_community("4294967295:0:1").unwrap(),
        vec![u32::MAX, 0, 1]
    );
    assert!(parse_community("65536:0").is_err());
    assert!(parse_community("1:2:3:4").is_err());
    assert!(parse_community("a:b").is_err());
    assert!(parse_community("").is_err());
}
