//! End to end below the agent (root): datastore resources → the calculation graph
//! (`calico-calc`) → this dataplane → the kernel, on two nodes joined by VXLAN. The policy
//! decides real connections, and the graph's message stream is what drives every object.

mod common;

use calico_api::Resource;
use calico_calc::{BlockInfo, CalcGraph, Update};
use calico_dataplane::{Config, Dataplane};
use common::lab::{Lab, Server, connects, sh, sh_ok};
use serde_json::{Value, json};

const BASE: &str = r#"
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: node-1}
spec:
  bgp: {ipv4Address: 172.16.0.1/24}
  ipv4VXLANTunnelAddr: 10.65.0.1
---
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: node-2}
spec:
  bgp: {ipv4Address: 172.16.0.2/24}
  ipv4VXLANTunnelAddr: 10.65.0.65
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: default-ipv4-ippool}
spec: {cidr: 10.65.0.0/16, vxlanMode: Always, natOutgoing: false, blockSize: 26}
---
apiVersion: v1
kind: Namespace
metadata: {name: x, labels: {kubernetes.io/metadata.name: x}}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: allow-db, namespace: x}
spec:
  selector: app == 'web'
  ingress:
  - action: Allow
    protocol: TCP
    source: {selector: app == 'db'}
    destination: {ports: [80]}
"#;

fn resources() -> Vec<Update> {
    let mut out: Vec<Update> = calico_api::codec::decode_all(BASE)
        .expect("test YAML parses")
        .into_iter()
        .map(|(_, r)| {
            let mut r = r.expect("test resource decodes");
            r.apply_defaults();
            Update::Upsert(r)
        })
        .collect();
    for (pod, node, ip, app) in [
        ("a", "node-1", "10.65.0.10", "web"),
        ("c", "node-1", "10.65.0.11", "other"),
        ("b", "node-2", "10.65.0.70", "db"),
    ] {
        out.push(Update::Upsert(wep(pod, node, ip, app)));
    }
    for (cidr, node) in [("10.65.0.0/26", "node-1"), ("10.65.0.64/26", "node-2")] {
        out.push(Update::Block(BlockInfo::from_affinity(
            cidr.parse().expect("cidr"),
            Some(&format!("host:{node}")),
        )));
    }
    out.push(Update::InSync);
    out
}

fn wep(pod: &str, node: &str, ip: &str, app: &str) -> Resource {
    let v: Value = json!({
        "apiVersion": "projectcalico.org/v3",
        "kind": "WorkloadEndpoint",
        "metadata": {"namespace": "x", "name": format!("{node}-k8s-{pod}-eth0"), "labels": {"app": app}},
        "spec": {
            "orchestrator": "k8s", "node": node, "pod": pod, "endpoint": "eth0",
            "containerID": "c0ffee", "ipNetworks": [format!("{ip}/32")],
            "profiles": ["kns.x", "ksa.x.default"], "interfaceName": format!("cali{pod}"),
        }
    });
    let mut r = Resource::from_value(v).expect("test WEP decodes");
    r.apply_defaults();
    r
}

#[test]
fn calc_graph_messages_drive_policy_and_vxlan_in_the_kernel() {
    if !sh_ok(&["nft", "--version"]) {
        println!("SKIP: the nft binary is not installed");
        return;
    }
    let mut lab = Lab::new("calc");
    let under = lab.ns("under");
    sh(&["ip", "-n", &under, "link", "add", "br0", "type", "bridge"]);
    sh(&["ip", "-n", &under, "link", "set", "br0", "up"]);
    let n1 = lab.ns("node1");
    let n2 = lab.ns("node2");
    for (n, ip, port) in [(&n1, "172.16.0.1/24", "u1"), (&n2, "172.16.0.2/24", "u2")] {
        lab.wire(n, "eth0", ip, &under, port, "");
        sh(&["ip", "-n", &under, "link", "set", port, "master", "br0"]);
        sh(&["ip", "-n", n, "route", "add", "default", "dev", "eth0"]);
    }
    let pa = lab.pod(&n1, "a", "calia", "10.65.0.10", true);
    let pc = lab.pod(&n1, "c", "calic", "10.65.0.11", true);
    let pb = lab.pod(&n2, "b", "calib", "10.65.0.70", true);
    let _sa = Server::start(&pa, 80);
    let _sb = Server::start(&pb, 80);
    let _sc = Server::start(&pc, 80);

    let mut dps = Vec::new();
    for (node, ns) in [("node-1", &n1), ("node-2", &n2)] {
        let mut g = CalcGraph::new(node);
        let out = g.apply(resources());
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        let mut dp = Dataplane::new(Config {
            netns: Some(Lab::path(ns)),
            ..Config::default()
        })
        .expect("dataplane");
        let stats = dp.apply(&out.messages).expect("apply the graph's messages");
        assert!(stats.programmed && stats.warnings.is_empty(), "{stats:?}");
        dps.push(dp);
    }
    assert!(
        connects(&pb, "10.65.0.10:80"),
        "db (node-2) → web over VXLAN: allowed"
    );
    assert!(
        !connects(&pc, "10.65.0.10:80"),
        "other → web: denied (end of tier)"
    );
    assert!(connects(&pa, "10.65.0.70:80"), "web → db: profile allows");
    assert!(
        connects(&pa, "10.65.0.11:80"),
        "web → other on the same node: profile allows"
    );
}
