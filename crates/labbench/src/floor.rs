//! The floor: the lab's topology wired by hand in namespaces of our own, with no agent.
//!
//! ```text
//! <p>ul   bridge br0 172.18.0.1/24
//!   ├─ <p>n1  eth0 172.18.0.11/24, vxlan.calico 10.99.1.0/32 (VNI 4096, port 4789), forwarding
//!   │     ├─ calia ── <p>a  eth0 10.99.1.2/32, default via 169.254.1.1 (proxy ARP on calia)
//!   │     └─ calib ── <p>b  eth0 10.99.1.3/32
//!   └─ <p>n2  eth0 172.18.0.12/24, vxlan.calico 10.99.2.0/32
//!         └─ calic ── <p>c  eth0 10.99.2.2/32
//! ```
//! The same shape as a calico-lab node with pods wired by the calico CNI plugin: /32 pod
//! addresses, host routes to `cali*` veths with proxy ARP, a VXLAN device with static
//! neighbour/FDB entries and a route per remote block, the same MTUs and veth queue counts (2). The peer rulesets
//! (iptables-legacy, one rule per peer address) go into `<p>n1`'s FORWARD chain.

use std::time::Duration;

use anyhow::Result;

use crate::sys::{delete_netns, in_ns, in_ns_stdin, run};

/// MTU of the pods' veths (calico-lab's CNI configuration: 1450).
pub const POD_MTU: u32 = 1450;
/// MTU the floor's VXLAN device is made with: Felix's choice on a 1500-byte underlay (1450).
/// `run` then copies the MTU calico-node gave the lab's vxlan.calico ([`Floor::set_vxlan_mtu`]).
/// Pods send at most 1450 bytes either way.
pub const VXLAN_MTU: u32 = 1450;

pub struct FloorPod {
    pub name: &'static str,
    pub node: usize,
    pub ip: &'static str,
}

pub const PODS: [FloorPod; 3] = [
    FloorPod {
        name: "a",
        node: 1,
        ip: "10.99.1.2",
    },
    FloorPod {
        name: "b",
        node: 1,
        ip: "10.99.1.3",
    },
    FloorPod {
        name: "c",
        node: 2,
        ip: "10.99.2.2",
    },
];

const CT_ONLY: &str = "table inet lbct {
 chain ct_fwd {
  type filter hook forward priority 0; policy accept;
  ct state established,related accept
 }
 chain ct_in {
  type filter hook input priority 0; policy accept;
  ct state established,related accept
 }
 chain ct_out {
  type filter hook output priority 0; policy accept;
  ct state established,related accept
 }
}
";

/// How the hand-written iptables peer is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IptLayout {
    /// `ESTABLISHED,RELATED -j ACCEPT` first (as Calico and kube-router do): only the first
    /// packet of a connection walks the per-peer rules.
    CtFirst,
    /// No conntrack shortcut: every client→server packet walks the per-peer rules.
    NoCt,
}

/// The hand-made namespaces; removed on drop.
pub struct Floor {
    pub prefix: String,
    made: Vec<String>,
}

impl Floor {
    pub fn ns(&self, part: &str) -> String {
        format!("{}{part}", self.prefix)
    }

    fn add_ns(&mut self, part: &str) -> Result<String> {
        let ns = self.ns(part);
        run(&["ip", "netns", "add", &ns])?;
        self.made.push(ns.clone());
        run(&["ip", "-n", &ns, "link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// Build it. `prefix` must be unique to this run (e.g. `lbf<pid>-`).
    pub fn new(prefix: &str) -> Result<Floor> {
        let mut f = Floor {
            prefix: prefix.to_string(),
            made: Vec::new(),
        };
        let ul = f.add_ns("ul")?;
        run(&["ip", "-n", &ul, "link", "add", "br0", "type", "bridge"])?;
        run(&[
            "ip",
            "-n",
            &ul,
            "addr",
            "add",
            "172.18.0.1/24",
            "dev",
            "br0",
        ])?;
        run(&["ip", "-n", &ul, "link", "set", "br0", "up"])?;
        for i in 1..=2usize {
            let n = f.add_ns(&format!("n{i}"))?;
            let up = format!("n{i}");
            run(&[
                "ip",
                "-n",
                &ul,
                "link",
                "add",
                &up,
                "numtxqueues",
                "2",
                "numrxqueues",
                "2",
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "numtxqueues",
                "2",
                "numrxqueues",
                "2",
                "netns",
                &n,
            ])?;
            run(&["ip", "-n", &ul, "link", "set", &up, "master", "br0", "up"])?;
            let addr = format!("172.18.0.{}/24", 10 + i);
            run(&["ip", "-n", &n, "addr", "add", &addr, "dev", "eth0"])?;
            run(&["ip", "-n", &n, "link", "set", "eth0", "up"])?;
            run(&[
                "ip",
                "-n",
                &n,
                "route",
                "add",
                "default",
                "via",
                "172.18.0.1",
            ])?;
            in_ns(&n, &["sysctl", "-qw", "net.ipv4.ip_forward=1"])?;
            let local = format!("172.18.0.{}", 10 + i);
            run(&[
                "ip",
                "-n",
                &n,
                "link",
                "add",
                "vxlan.calico",
                "type",
                "vxlan",
                "id",
                "4096",
                "dstport",
                "4789",
                "local",
                &local,
                "nolearning",
            ])?;
            run(&[
                "ip",
                "-n",
                &n,
                "link",
                "set",
                "vxlan.calico",
                "address",
                &format!("66:a1:00:00:00:0{i}"),
                "mtu",
                &VXLAN_MTU.to_string(),
                "up",
            ])?;
            run(&[
                "ip",
                "-n",
                &n,
                "addr",
                "add",
                &format!("10.99.{i}.0/32"),
                "dev",
                "vxlan.calico",
            ])?;
        }
        // Each node: neighbour + FDB entry for the other's VTEP, a route to its block.
        for (i, j) in [(1usize, 2usize), (2, 1)] {
            let n = f.ns(&format!("n{i}"));
            let vtep = format!("10.99.{j}.0");
            let mac = format!("66:a1:00:00:00:0{j}");
            run(&[
                "ip",
                "-n",
                &n,
                "neigh",
                "add",
                &vtep,
                "lladdr",
                &mac,
                "dev",
                "vxlan.calico",
                "nud",
                "permanent",
            ])?;
            in_ns(
                &n,
                &[
                    "bridge",
                    "fdb",
                    "add",
                    &mac,
                    "dev",
                    "vxlan.calico",
                    "dst",
                    &format!("172.18.0.{}", 10 + j),
                ],
            )?;
            run(&[
                "ip",
                "-n",
                &n,
                "route",
                "add",
                &format!("10.99.{j}.0/26"),
                "via",
                &vtep,
                "dev",
                "vxlan.calico",
                "onlink",
            ])?;
        }
        for p in &PODS {
            let pns = f.add_ns(p.name)?;
            let node = f.ns(&format!("n{}", p.node));
            let host = format!("cali{}", p.name);
            let mtu = POD_MTU.to_string();
            run(&[
                "ip",
                "-n",
                &node,
                "link",
                "add",
                &host,
                "mtu",
                &mtu,
                "numtxqueues",
                "2",
                "numrxqueues",
                "2",
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "mtu",
                &mtu,
                "numtxqueues",
                "2",
                "numrxqueues",
                "2",
                "netns",
                &pns,
            ])?;
            run(&[
                "ip",
                "-n",
                &node,
                "link",
                "set",
                &host,
                "address",
                "ee:ee:ee:ee:ee:ee",
                "up",
            ])?;
            in_ns(
                &node,
                &[
                    "sysctl",
                    "-qw",
                    &format!("net.ipv4.conf.{host}.proxy_arp=1"),
                    &format!("net.ipv4.neigh.{host}.proxy_delay=0"),
                ],
            )?;
            run(&[
                "ip",
                "-n",
                &node,
                "route",
                "add",
                &format!("{}/32", p.ip),
                "dev",
                &host,
                "scope",
                "link",
            ])?;
            run(&[
                "ip",
                "-n",
                &pns,
                "addr",
                "add",
                &format!("{}/32", p.ip),
                "dev",
                "eth0",
            ])?;
            run(&["ip", "-n", &pns, "link", "set", "eth0", "up"])?;
            run(&[
                "ip",
                "-n",
                &pns,
                "route",
                "add",
                "169.254.1.1",
                "dev",
                "eth0",
                "scope",
                "link",
            ])?;
            run(&[
                "ip",
                "-n",
                &pns,
                "route",
                "add",
                "default",
                "via",
                "169.254.1.1",
                "dev",
                "eth0",
            ])?;
        }
        Ok(f)
    }

    pub fn pod_ns(&self, name: &str) -> String {
        self.ns(name)
    }

    /// Load the peer ruleset into node 1's FORWARD chain (iptables-legacy-restore): `peers`
    /// rules of one peer address each, the client's own address last; the time the restore took.
    pub fn set_iptables(
        &self,
        peers: usize,
        layout: IptLayout,
        client: &str,
        server: &str,
        ports: &str,
    ) -> Result<Duration> {
        let rules = iptables_ruleset(peers, layout, client, server, ports);
        in_ns_stdin(&self.ns("n1"), &["iptables-legacy-restore"], &rules)
    }

    /// Add (or remove) an nft table in both node namespaces that only tracks connections
    /// (`ct state established,related accept` on forward, input and output).
    pub fn set_conntrack(&self, on: bool) -> Result<()> {
        for i in 1..=2 {
            let n = self.ns(&format!("n{i}"));
            if on {
                in_ns_stdin(&n, &["nft", "-f", "-"], CT_ONLY)?;
            } else {
                in_ns(&n, &["nft", "delete", "table", "inet", "lbct"])?;
            }
        }
        Ok(())
    }

    /// Give both nodes' vxlan.calico this MTU (the lab's, so that the two differ only in rules).
    pub fn set_vxlan_mtu(&self, mtu: u32) -> Result<()> {
        for i in 1..=2 {
            run(&[
                "ip",
                "-n",
                &self.ns(&format!("n{i}")),
                "link",
                "set",
                "vxlan.calico",
                "mtu",
                &mtu.to_string(),
            ])?;
        }
        Ok(())
    }

    /// An empty filter table with ACCEPT policies.
    pub fn clear_iptables(&self) -> Result<()> {
        in_ns_stdin(
            &self.ns("n1"),
            &["iptables-legacy-restore"],
            "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n",
        )?;
        Ok(())
    }
}

/// The `n`-th fake peer address (198.18.0.0/15, benchmarking addresses): every other
/// address, so that no two are adjacent and an interval set cannot merge them into ranges.
pub fn fake_peer_ip(n: usize) -> String {
    let m = 2 * n;
    format!("198.{}.{}.{}", 18 + m / 62500, (m / 250) % 250, m % 250 + 1)
}

/// The peer ruleset: one ACCEPT rule per peer address towards the server, the client last,
/// FORWARD policy DROP.
pub fn iptables_ruleset(
    peers: usize,
    layout: IptLayout,
    client: &str,
    server: &str,
    ports: &str,
) -> String {
    let mut s =
        String::from("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n");
    match layout {
        IptLayout::CtFirst => {
            s.push_str("-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n");
        }
        IptLayout::NoCt => {
            // Replies from the server; the requests walk the per-peer rules.
            s.push_str(&format!("-A FORWARD -s {server}/32 -j ACCEPT\n"));
        }
    }
    for i in 0..peers.saturating_sub(1) {
        s.push_str(&format!(
            "-A FORWARD -s {}/32 -d {server}/32 -p tcp -m multiport --dports {ports} -j ACCEPT\n",
            fake_peer_ip(i)
        ));
    }
    s.push_str(&format!(
        "-A FORWARD -s {client}/32 -d {server}/32 -p tcp -m multiport --dports {ports} -j ACCEPT\nCOMMIT\n"
    ));
    s
}

impl Drop for Floor {
    fn drop(&mut self) {
        for ns in self.made.iter().rev() {
            delete_netns(ns);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ruleset_has_one_rule_per_peer_and_the_client_last() {
        let r = iptables_ruleset(3, IptLayout::CtFirst, "10.0.0.2", "10.0.0.3", "80");
        assert_eq!(r.matches("--dports 80 -j ACCEPT").count(), 3);
        assert!(r.contains(
            "-s 10.0.0.2/32 -d 10.0.0.3/32 -p tcp -m multiport --dports 80 -j ACCEPT\nCOMMIT\n"
        ));
        assert!(r.contains("ESTABLISHED"));
        let r = iptables_ruleset(1, IptLayout::NoCt, "10.0.0.2", "10.0.0.3", "80");
        assert!(!r.contains("ESTABLISHED"));
        assert_eq!(fake_peer_ip(0), "198.18.0.1");
        assert_eq!(fake_peer_ip(1), "198.18.0.3");
        assert_eq!(fake_peer_ip(125), "198.18.1.1");
        let all: std::collections::BTreeSet<String> = (0..20_000).map(fake_peer_ip).collect();
        assert_eq!(all.len(), 20_000);
    }
}
