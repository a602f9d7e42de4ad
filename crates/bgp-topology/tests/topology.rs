//! Calico's BGP topology rules (inventory §8.1–8.3), one test per rule.
#![allow(clippy::unwrap_used)]

use std::net::{IpAddr, Ipv4Addr};

use calico_api::Resource;
use calico_bgp::export::NextHopMode;
use calico_bgp_topology::topology::{
    Encap, GLOBAL, MESH, NODE_SPECIFIC, NoPlan, NoSecrets, Plan, Secrets, State,
};
use ipnet::IpNet;
use serde_json::json;

fn res(v: serde_json::Value) -> Resource {
    Resource::from_value(v).unwrap()
}

fn node(name: &str, ip: &str, labels: serde_json::Value, bgp_extra: serde_json::Value) -> Resource {
    let mut bgp = json!({"ipv4Address": format!("{ip}/24")});
    if let (Some(b), Some(e)) = (bgp.as_object_mut(), bgp_extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    res(json!({"apiVersion": "projectcalico.org/v3", "kind": "Node",
        "metadata": {"name": name, "labels": labels}, "spec": {"bgp": bgp}}))
}

fn peer(name: &str, spec: serde_json::Value) -> Resource {
    res(
        json!({"apiVersion": "projectcalico.org/v3", "kind": "BGPPeer",
        "metadata": {"name": name}, "spec": spec}),
    )
}

fn bgpconfig(name: &str, spec: serde_json::Value) -> Resource {
    res(
        json!({"apiVersion": "projectcalico.org/v3", "kind": "BGPConfiguration",
        "metadata": {"name": name}, "spec": spec}),
    )
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}
fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

fn three_nodes() -> State {
    let mut s = State::new();
    s.upsert(node("a", "172.18.0.2", json!({}), json!({})));
    s.upsert(node("b", "172.18.0.3", json!({}), json!({})));
    s.upsert(node("c", "172.18.0.10", json!({}), json!({})));
    s
}

fn plan(s: &State, n: &str) -> Plan {
    s.plan(n, None, &NoSecrets).unwrap()
}

fn peer_list(p: &Plan) -> Vec<(String, &str, bool, bool)> {
    p.peers
        .values()
        .map(|c| {
            (
                c.address.to_string(),
                c.description.as_str(),
                c.passive,
                c.rr_client,
            )
        })
        .collect()
}

#[test]
fn full_mesh_by_default_with_default_as_and_node_ip_router_id() {
    let s = three_nodes();
    let p = plan(&s, "a");
    assert_eq!(p.speaker.local_as, 64512);
    assert_eq!(p.speaker.router_id, Ipv4Addr::new(172, 18, 0, 2));
    assert_eq!(p.speaker.listen_port, 179);
    assert_eq!(p.speaker.cluster_id, None);
    // "172.18.0.10" < "172.18.0.2" as strings: a connects to c, and waits for b.
    assert_eq!(
        peer_list(&p),
        vec![
            ("172.18.0.3".into(), MESH, true, false),
            ("172.18.0.10".into(), MESH, false, false),
        ]
    );
    for c in p.peers.values() {
        assert_eq!(c.remote_as, 64512);
    }
    // The other end of each pair makes the opposite choice.
    let pc = plan(&s, "c");
    assert!(pc.peers[&ip("172.18.0.2")].passive);
    let pb = plan(&s, "b");
    assert!(!pb.peers[&ip("172.18.0.2")].passive);
}

#[test]
fn as_numbers_from_bgpconfiguration_and_node() {
    let mut s = three_nodes();
    s.upsert(bgpconfig(
        "default",
        json!({"asNumber": 65010, "listenPort": 1179}),
    ));
    s.upsert(node(
        "b",
        "172.18.0.3",
        json!({}),
        json!({"asNumber": 65020}),
    ));
    let p = plan(&s, "a");
    assert_eq!(p.speaker.local_as, 65010);
    assert_eq!(p.speaker.listen_port, 1179);
    assert_eq!(p.peers[&ip("172.18.0.3")].remote_as, 65020);
    assert_eq!(p.peers[&ip("172.18.0.10")].remote_as, 65010);
    assert_eq!(plan(&s, "b").speaker.local_as, 65020);
    // node.<name> overrides the port.
    s.upsert(bgpconfig("node.a", json!({"listenPort": 2179})));
    assert_eq!(plan(&s, "a").speaker.listen_port, 2179);
    assert_eq!(plan(&s, "b").speaker.listen_port, 1179);
}

#[test]
fn mesh_disabled_leaves_no_peers() {
    let mut s = three_nodes();
    s.upsert(bgpconfig(
        "default",
        json!({"nodeToNodeMeshEnabled": false}),
    ));
    assert!(plan(&s, "a").peers.is_empty());
}

#[test]
fn route_reflector_topology() {
    let mut s = State::new();
    s.upsert(node(
        "rr",
        "172.18.0.2",
        json!({"route-reflector": "true"}),
        json!({"routeReflectorClusterID": "244.0.0.1"}),
    ));
    s.upsert(node("b", "172.18.0.3", json!({}), json!({})));
    s.upsert(node("c", "172.18.0.4", json!({}), json!({})));
    s.upsert(bgpconfig(
        "default",
        json!({"nodeToNodeMeshEnabled": false}),
    ));
    s.upsert(peer(
        "peer-with-route-reflectors",
        json!({"nodeSelector": "all()", "peerSelector": "route-reflector == 'true'"}),
    ));
    // A client peers with the reflector only.
    let pb = plan(&s, "b");
    assert_eq!(
        peer_list(&pb),
        vec![("172.18.0.2".into(), NODE_SPECIFIC, false, false)]
    );
    // The reflector peers back with every client (automatic reverse peering), as rr clients.
    let pr = plan(&s, "rr");
    assert_eq!(pr.speaker.cluster_id, Some(Ipv4Addr::new(244, 0, 0, 1)));
    assert_eq!(
        peer_list(&pr),
        vec![
            ("172.18.0.3".into(), NODE_SPECIFIC, true, true),
            ("172.18.0.4".into(), NODE_SPECIFIC, true, true),
        ]
    );
    // With the mesh on, a reflector still skips the mesh and other nodes skip reflectors.
    s.upsert(bgpconfig("default", json!({})));
    let pb = plan(&s, "b");
    assert_eq!(pb.peers[&ip("172.18.0.4")].description, MESH);
    assert_eq!(pb.peers[&ip("172.18.0.2")].description, NODE_SPECIFIC);
    assert!(plan(&s, "rr").peers.values().all(|c| c.description != MESH));
}

#[test]
fn global_and_node_specific_peers() {
    let mut s = three_nodes();
    s.upsert(peer(
        "tor",
        json!({"peerIP": "172.18.0.254", "asNumber": 65100}),
    ));
    s.upsert(peer(
        "tor-again-for-a",
        json!({"node": "a", "peerIP": "172.18.0.254", "asNumber": 65200}),
    ));
    s.upsert(peer(
        "special",
        json!({"node": "b", "peerIP": "[2001:db8::1]:1179", "asNumber": 65300,
               "keepOriginalNextHop": true, "maxRestartTime": "90s", "filters": ["f1"]}),
    ));
    s.upsert(peer(
        "self",
        json!({"peerIP": "172.18.0.2", "asNumber": 64512}),
    ));
    let pa = plan(&s, "a");
    let tor = &pa.peers[&ip("172.18.0.254")];
    // The global peering wins over the node-specific one to the same address.
    assert_eq!((tor.description.as_str(), tor.remote_as), (GLOBAL, 65100));
    assert!(!tor.passive);
    // Never a peering with our own address.
    assert!(!pa.peers.contains_key(&ip("172.18.0.2")));
    assert!(!pa.peers.contains_key(&ip("2001:db8::1")));
    let pb = plan(&s, "b");
    let sp = &pb.peers[&ip("2001:db8::1")];
    assert_eq!(sp.description, NODE_SPECIFIC);
    assert_eq!(sp.port, 1179);
    assert_eq!(sp.next_hop_mode, NextHopMode::Keep);
    assert_eq!(sp.max_restart_time, Some(90));
    assert_eq!(pb.peer_filters[&ip("2001:db8::1")], vec!["f1".to_string()]);
}

#[test]
fn node_selector_and_peer_selector() {
    let mut s = State::new();
    s.upsert(node("a", "172.18.0.2", json!({"rack": "1"}), json!({})));
    s.upsert(node("b", "172.18.0.3", json!({"rack": "2"}), json!({})));
    s.upsert(node(
        "c",
        "172.18.0.4",
        json!({"rack": "2"}),
        json!({"asNumber": 65001}),
    ));
    s.upsert(bgpconfig(
        "default",
        json!({"nodeToNodeMeshEnabled": false}),
    ));
    s.upsert(peer(
        "rack1-to-rack2",
        json!({"nodeSelector": "rack == '1'", "peerSelector": "rack == '2'",
               "reversePeering": "Manual"}),
    ));
    let pa = plan(&s, "a");
    assert_eq!(pa.peers.len(), 2);
    assert_eq!(pa.peers[&ip("172.18.0.4")].remote_as, 65001);
    // Manual reverse peering: the selected nodes do not peer back.
    assert!(plan(&s, "b").peers.is_empty());
    s.upsert(peer(
        "rack1-to-rack2",
        json!({"nodeSelector": "rack == '1'", "peerSelector": "rack == '2'"}),
    ));
    let pc = plan(&s, "c");
    assert_eq!(
        peer_list(&pc),
        vec![("172.18.0.2".into(), NODE_SPECIFIC, false, false)]
    );
}

#[test]
fn advertised_prefixes_blocks_borrowed_and_services() {
    let mut s = three_nodes();
    s.upsert(res(
        json!({"apiVersion": "projectcalico.org/v3", "kind": "IPPool",
        "metadata": {"name": "p"}, "spec": {"cidr": "10.244.0.0/16", "ipipMode": "CrossSubnet"}}),
    ));
    s.upsert(res(
        json!({"apiVersion": "projectcalico.org/v3", "kind": "IPPool",
        "metadata": {"name": "q"}, "spec": {"cidr": "10.99.0.0/16", "vxlanMode": "Always",
        "disableBGPExport": true}}),
    ));
    s.block(net("10.244.1.0/26"), Some("a".into()));
    s.block(net("10.244.1.64/26"), Some("b".into()));
    s.block(net("10.244.1.128/26"), None);
    let wep = |name: &str, node: &str, ip: &str| {
        res(
            json!({"apiVersion": "projectcalico.org/v3", "kind": "WorkloadEndpoint",
            "metadata": {"name": name, "namespace": "x"},
            "spec": {"node": node, "orchestrator": "k8s", "pod": name, "endpoint": "eth0",
                     "interfaceName": format!("cali{name}"), "ipNetworks": [format!("{ip}/32")]}}),
        )
    };
    s.upsert(wep("own", "a", "10.244.1.5"));
    s.upsert(wep("borrowed", "a", "10.244.1.70"));
    s.upsert(wep("elsewhere", "b", "10.244.1.71"));
    s.upsert(wep("outside", "a", "192.0.2.9"));
    s.upsert(bgpconfig(
        "default",
        json!({"serviceClusterIPs": [{"cidr": "10.96.0.0/12"}]}),
    ));
    let p = plan(&s, "a");
    let adv: Vec<String> = p.advertise.iter().map(|n| n.to_string()).collect();
    assert_eq!(adv, vec!["10.96.0.0/12", "10.244.1.0/26", "10.244.1.70/32"]);
    assert_eq!(
        p.local_blocks
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>(),
        vec!["10.244.1.0/26"]
    );
    assert_eq!(p.pools.len(), 2);
    let pp = p
        .pools
        .iter()
        .find(|x| x.cidr == net("10.244.0.0/16"))
        .unwrap();
    assert_eq!(
        (pp.ipip, pp.vxlan, pp.exported),
        (Encap::CrossSubnet, Encap::Never, true)
    );
    let pq = p
        .pools
        .iter()
        .find(|x| x.cidr == net("10.99.0.0/16"))
        .unwrap();
    assert_eq!((pq.vxlan, pq.exported), (Encap::Always, false));
    // Released: the borrowed address is withdrawn when its endpoint goes.
    s.delete("WorkloadEndpoint", "x", "borrowed");
    assert!(!plan(&s, "a").advertise.contains(&net("10.244.1.70/32")));
    // A block losing its affinity stops being advertised.
    s.block(net("10.244.1.0/26"), None);
    assert!(!plan(&s, "a").advertise.contains(&net("10.244.1.0/26")));
}

struct OneSecret;
impl Secrets for OneSecret {
    fn get(&self, secret: &str, key: &str) -> Result<String, String> {
        if (secret, key) == ("bgp", "pw") {
            Ok("s3cret".into())
        } else {
            Err(format!("no secret {secret}/{key}"))
        }
    }
}

#[test]
fn passwords_from_secrets() {
    let mut s = three_nodes();
    s.upsert(peer(
        "with-pw",
        json!({"peerIP": "172.18.0.254", "asNumber": 65100,
               "password": {"secretKeyRef": {"name": "bgp", "key": "pw"}}}),
    ));
    s.upsert(peer(
        "missing-pw",
        json!({"peerIP": "172.18.0.253", "asNumber": 65100,
               "password": {"secretKeyRef": {"name": "nope", "key": "pw"}}}),
    ));
    let p = s.plan("a", None, &OneSecret).unwrap();
    assert_eq!(
        p.peers[&ip("172.18.0.254")].password.as_deref(),
        Some("s3cret")
    );
    assert!(!p.peers.contains_key(&ip("172.18.0.253")));
    assert!(
        p.problems
            .iter()
            .any(|e| e.starts_with("BGPPeer missing-pw: spec.password.secretKeyRef")),
        "{:?}",
        p.problems
    );
}

#[test]
fn bad_input_is_reported_not_fatal() {
    let mut s = three_nodes();
    // Stored resources are validated by the datastore; the engine still copes with a bad
    // one (e.g. written by an older version).
    let mut bad = match peer(
        "bad-sel",
        json!({"nodeSelector": "all()", "peerSelector": "all()"}),
    ) {
        Resource::BGPPeer(p) => p,
        _ => unreachable!(),
    };
    bad.spec.peer_selector = "rack ==".into();
    s.upsert(Resource::BGPPeer(bad));
    let mut bad_ip = match peer("bad-ip", json!({"peerIP": "172.18.0.254", "asNumber": 1})) {
        Resource::BGPPeer(p) => p,
        _ => unreachable!(),
    };
    bad_ip.spec.peer_ip = "not-an-ip".into();
    s.upsert(Resource::BGPPeer(bad_ip));
    let p = plan(&s, "a");
    assert_eq!(p.peers.len(), 2, "the mesh is unaffected");
    assert!(
        p.problems
            .iter()
            .any(|e| e.starts_with("BGPPeer bad-sel: spec.peerSelector"))
    );
    assert!(
        p.problems
            .iter()
            .any(|e| e.starts_with("BGPPeer bad-ip: spec.peerIP"))
    );
}

#[test]
fn no_plan_without_node_or_address() {
    let mut s = State::new();
    assert_eq!(
        s.plan("a", None, &NoSecrets).unwrap_err(),
        NoPlan::NoNode("a".into())
    );
    s.upsert(res(
        json!({"apiVersion": "projectcalico.org/v3", "kind": "Node",
        "metadata": {"name": "a"}, "spec": {}}),
    ));
    assert_eq!(
        s.plan("a", None, &NoSecrets).unwrap_err(),
        NoPlan::NoAddress("a".into())
    );
    // An explicit router ID is used as given.
    let s = three_nodes();
    let p = s
        .plan("a", Some(Ipv4Addr::new(1, 2, 3, 4)), &NoSecrets)
        .unwrap();
    assert_eq!(p.speaker.router_id, Ipv4Addr::new(1, 2, 3, 4));
}
