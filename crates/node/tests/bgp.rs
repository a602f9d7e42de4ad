//! Two calico-node processes, each in its own network namespace joined by a veth (one
//! subnet), on one embedded datastore, with `CALICO_NETWORKING_BACKEND=bird`: the
//! node-to-node mesh establishes, each node learns the other's affine block over BGP and
//! installs it in its kernel (protocol 186, via the peer on eth0), a borrowed address is
//! advertised as a /32 and withdrawn when its endpoint goes, the status file shows the mesh
//! peer Established, and turning the mesh off removes the sessions and their routes.

mod common;

use std::net::IpAddr;
use std::process::Command;
use std::time::Duration;

use calico_api::{Resource, find_kind};
use calico_client::Client;
use calico_client::ipam_store::ClientIpam;
use calico_ipam::AutoAssignArgs;
use common::{Netns, NodeProc, embedded_client, kernel_ready, veth_pair, wait_for, wait_ready};
use serde_json::json;

const LIMIT: Duration = Duration::from_secs(40);

fn routes(ns: &Netns) -> String {
    let out = Command::new("ip")
        .args(["-n", &ns.name, "route", "show", "proto", "186"])
        .output()
        .expect("ip route");
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn env(dir: &std::path::Path, name: &str, ip: &str) -> Vec<(&'static str, String)> {
    vec![
        ("NODENAME", name.into()),
        ("IP", ip.into()),
        ("CALICO_IPV4POOL_CIDR", "10.244.0.0/16".into()),
        ("CALICO_IPV4POOL_VXLAN", "Never".into()),
        ("CALICO_IPV4POOL_IPIP", "Never".into()),
        ("CALICO_NETWORKING_BACKEND", "bird".into()),
        (
            "CALICO_DATASTORE_PATH",
            dir.join("calico.db").display().to_string(),
        ),
        (
            "CALICO_NODENAME_FILE",
            dir.join(format!("nodename-{name}")).display().to_string(),
        ),
        (
            "CALICO_BGP_STATUS_FILE",
            dir.join(format!("bgp-{name}.json")).display().to_string(),
        ),
        (
            "FELIX_MTUFILEPATH",
            dir.join(format!("mtu-{name}")).display().to_string(),
        ),
        ("FELIX_LOGSEVERITYSCREEN", "Debug".into()),
    ]
}

/// One address for `node` from the pool (makes a block affine to it).
fn assign(client: &Client, node: &str, handle: &str) -> IpAddr {
    let ipam = ClientIpam::new(client.clone());
    let got = ipam
        .auto_assign(AutoAssignArgs::new(handle, node))
        .expect("auto-assign");
    got.ipv4.first().expect("an IPv4 address").address
}

fn block_of(ip: IpAddr) -> String {
    let IpAddr::V4(v4) = ip else {
        panic!("IPv4 expected")
    };
    let o = v4.octets();
    format!("{}.{}.{}.{}/26", o[0], o[1], o[2], o[3] & 0xc0)
}

#[test]
fn mesh_exchanges_blocks_and_borrowed_addresses() {
    if !kernel_ready() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let client = embedded_client(dir.path());
    let (a, b) = veth_pair("10.98.0.1/24", "10.98.0.2/24");

    let mut na = NodeProc::start(
        &a,
        dir.path(),
        &[],
        &env(dir.path(), "bgp-a", "10.98.0.1/24"),
    );
    wait_ready(&a, &mut na, LIMIT);
    let mut nb = NodeProc::start(
        &b,
        dir.path(),
        &[],
        &env(dir.path(), "bgp-b", "10.98.0.2/24"),
    );
    wait_ready(&b, &mut nb, LIMIT);
    // Readiness includes the BGP sessions: both are Established by now.
    wait_ready(&a, &mut na, LIMIT);
    let status = std::fs::read_to_string(dir.path().join("bgp-bgp-a.json")).expect("status file");
    let st: serde_json::Value = serde_json::from_str(&status).expect("status JSON");
    let peers = st["peers"].as_array().expect("peers");
    assert_eq!(peers.len(), 1, "{status}");
    assert_eq!(peers[0]["address"], "10.98.0.2", "{status}");
    assert_eq!(peers[0]["peerType"], "node-to-node mesh", "{status}");
    assert_eq!(peers[0]["state"], "up", "{status}");
    assert_eq!(peers[0]["info"], "Established", "{status}");

    // Each node's block reaches the other's kernel via the other's address.
    let ip_a = assign(&client, "bgp-a", "h-a");
    let ip_b = assign(&client, "bgp-b", "h-b");
    let (blk_a, blk_b) = (block_of(ip_a), block_of(ip_b));
    assert_ne!(blk_a, blk_b);
    let want_b = format!("{blk_b} via 10.98.0.2 dev eth0");
    wait_for(LIMIT, || routes(&a).contains(&want_b).then_some(()))
        .unwrap_or_else(|| panic!("node a lacks {want_b}:\n{}\n{}", routes(&a), na.log_text()));
    // Each node blackholes its own block (more specific workload routes win over it).
    let hole = format!("blackhole {blk_a}");
    wait_for(LIMIT, || routes(&a).contains(&hole).then_some(()))
        .unwrap_or_else(|| panic!("node a lacks {hole}:\n{}", routes(&a)));
    let want_a = format!("{blk_a} via 10.98.0.1 dev eth0");
    wait_for(LIMIT, || routes(&b).contains(&want_a).then_some(()))
        .unwrap_or_else(|| panic!("node b lacks {want_a}:\n{}\n{}", routes(&b), nb.log_text()));

    // A workload on a using an address from b's block: a advertises it as a /32.
    let borrowed = match ip_b {
        IpAddr::V4(v) => std::net::Ipv4Addr::from(u32::from(v) + 5),
        IpAddr::V6(_) => unreachable!(),
    };
    client
        .apply(
            Resource::from_value(json!({
                "apiVersion": "projectcalico.org/v3", "kind": "WorkloadEndpoint",
                "metadata": {"name": "bgp--a-k8s-p1-eth0", "namespace": "default"},
                "spec": {"orchestrator": "k8s", "node": "bgp-a", "pod": "p1",
                         "endpoint": "eth0", "interfaceName": "calip1",
                         "ipNetworks": [format!("{borrowed}/32")]}
            }))
            .expect("wep"),
        )
        .expect("apply wep");
    let want = format!("{borrowed} via 10.98.0.1 dev eth0");
    wait_for(LIMIT, || routes(&b).contains(&want).then_some(()))
        .unwrap_or_else(|| panic!("node b lacks {want}:\n{}\n{}", routes(&b), na.log_text()));
    client
        .delete(
            find_kind("WorkloadEndpoint", None).expect("kind"),
            "default",
            "bgp--a-k8s-p1-eth0",
            None,
        )
        .expect("delete wep");
    wait_for(LIMIT, || (!routes(&b).contains(&want)).then_some(()))
        .unwrap_or_else(|| panic!("node b still has {want}:\n{}", routes(&b)));

    // Mesh off: the session goes, and with it the learned routes.
    client
        .apply(
            Resource::from_value(json!({
                "apiVersion": "projectcalico.org/v3", "kind": "BGPConfiguration",
                "metadata": {"name": "default"},
                "spec": {"nodeToNodeMeshEnabled": false}
            }))
            .expect("bgpconfig"),
        )
        .expect("apply bgpconfig");
    wait_for(LIMIT, || (routes(&a).trim() == hole).then_some(()))
        .unwrap_or_else(|| panic!("node a keeps learned BGP routes:\n{}", routes(&a)));
    wait_for(LIMIT, || {
        let s = std::fs::read_to_string(dir.path().join("bgp-bgp-a.json")).ok()?;
        let v: serde_json::Value = serde_json::from_str(&s).ok()?;
        v["peers"].as_array()?.is_empty().then_some(())
    })
    .expect("status file lists no peers");
    assert!(na.alive() && nb.alive());
}

/// `vxlanMode: CrossSubnet` without BGP: nodes on one subnet reach each other's blocks
/// directly through eth0 (Felix's routes, protocol 80), not through `vxlan.calico`.
#[test]
fn vxlan_cross_subnet_goes_direct_on_one_subnet() {
    if !kernel_ready() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let client = embedded_client(dir.path());
    let (a, b) = veth_pair("10.96.0.1/24", "10.96.0.2/24");
    let vx = |name: &str, ip: &str| {
        let mut e = env(dir.path(), name, ip);
        for (k, v) in e.iter_mut() {
            match *k {
                "CALICO_IPV4POOL_VXLAN" => *v = "CrossSubnet".into(),
                "CALICO_NETWORKING_BACKEND" => *v = "vxlan".into(),
                _ => {}
            }
        }
        e
    };
    let mut na = NodeProc::start(&a, dir.path(), &[], &vx("xs-a", "10.96.0.1/24"));
    wait_ready(&a, &mut na, LIMIT);
    let mut nb = NodeProc::start(&b, dir.path(), &[], &vx("xs-b", "10.96.0.2/24"));
    wait_ready(&b, &mut nb, LIMIT);
    let ip_b = assign(&client, "xs-b", "h-xs-b");
    let want = format!("{} via 10.96.0.2 dev eth0 proto 80", block_of(ip_b));
    let felix_routes = || {
        let out = Command::new("ip")
            .args(["-n", &a.name, "route", "show"])
            .output()
            .expect("ip route");
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    wait_for(LIMIT, || felix_routes().contains(&want).then_some(())).unwrap_or_else(|| {
        panic!(
            "node a lacks {want}:\n{}\n{}",
            felix_routes(),
            na.log_text()
        )
    });
    assert!(routes(&a).trim().is_empty(), "no BGP routes in vxlan mode");
}
