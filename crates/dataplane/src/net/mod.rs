//! Routes, the VXLAN device, its neighbours and FDB entries, and forwarding sysctls.
//!
//! Pure part: [`desired_net`] computes what the kernel should hold from the desired state
//! and [`plan`] turns (what is there, what should be) into [`NetOp`]s. The kernel part
//! ([`kernel::NetlinkBackend`]) reads the current objects and runs the operations through
//! rtnetlink on the namespace thread.
//!
//! Ownership: routes carry the configured protocol (80 by default) and only routes with it
//! are ever read back as ours or deleted; neighbours and FDB entries are managed only on the
//! VXLAN device, which the dataplane owns.

pub mod kernel;

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};

use calico_calc::messages::{EncapType, RouteType};
use ipnet::IpNet;

use crate::config::Config;
use crate::error::Result;
use crate::render::vxlan_wanted;
use crate::state::DesiredState;

/// A MAC address.
pub type Mac = [u8; 6];

/// Parse `aa:bb:cc:dd:ee:ff`.
pub fn parse_mac(s: &str) -> Option<Mac> {
    let mut m = [0u8; 6];
    let mut parts = s.split(':');
    for b in &mut m {
        *b = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(m)
}

/// Calico's VTEP MAC for a node when its Node names none (the calculation graph's
/// derivation, `felix/calc/vxlan_resolver.go`).
pub fn vtep_mac(node: &str) -> Mac {
    calico_calc::network::vxlan_mac_bytes(node)
}

/// The VXLAN device as it should be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VxlanDevice {
    pub name: String,
    pub vni: u32,
    pub port: u16,
    /// Outer source address (the node's underlay address).
    pub local: Ipv4Addr,
    pub mac: Mac,
    pub mtu: Option<u32>,
    /// The node's tunnel address, put on the device as /32.
    pub address: Ipv4Addr,
}

/// A route in the main table (always with our protocol).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RouteSpec {
    pub dst: IpNet,
    pub gateway: Option<IpAddr>,
    pub dev: String,
    pub onlink: bool,
}

/// A permanent neighbour entry: `ip lladdr mac dev dev`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NeighSpec {
    pub ip: IpAddr,
    pub mac: Mac,
    pub dev: String,
}

/// A permanent FDB entry on the VXLAN device: `mac dst dst dev dev`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FdbSpec {
    pub mac: Mac,
    pub dst: Ipv4Addr,
    pub dev: String,
}

/// The kernel objects the dataplane manages (desired, observed, or believed programmed).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetState {
    pub sysctls: BTreeMap<String, String>,
    pub vxlan: Option<VxlanDevice>,
    pub routes: BTreeSet<RouteSpec>,
    pub neighbours: BTreeSet<NeighSpec>,
    pub fdb: BTreeSet<FdbSpec>,
}

/// One kernel change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetOp {
    SetSysctl {
        key: String,
        value: String,
    },
    /// Delete the named link (a VXLAN device with the wrong parameters, or unwanted).
    DeleteLink {
        name: String,
    },
    /// Create the VXLAN device (up, with its /32 address).
    CreateVxlan(VxlanDevice),
    DeleteRoute(RouteSpec),
    /// Add or replace.
    AddRoute(RouteSpec),
    DeleteNeigh(NeighSpec),
    AddNeigh(NeighSpec),
    DeleteFdb(FdbSpec),
    AddFdb(FdbSpec),
}

/// What the kernel should hold for `st`.
pub fn desired_net(cfg: &Config, st: &DesiredState) -> NetState {
    let mut d = NetState::default();
    d.sysctls.insert("net/ipv4/ip_forward".into(), "1".into());
    if cfg.ipv6 {
        d.sysctls
            .insert("net/ipv6/conf/all/forwarding".into(), "1".into());
    }
    // Routes to local workloads (the CNI plugin makes them too; we make sure they exist).
    for ep in st.endpoints.values() {
        for n in &ep.nets {
            d.routes.insert(RouteSpec {
                dst: n.trunc(),
                gateway: None,
                dev: ep.iface_name.clone(),
                onlink: false,
            });
        }
    }
    if !vxlan_wanted(cfg, st) {
        return d;
    }
    let dev = cfg.vxlan.device.clone();
    if let Some(me) = st.local_vtep() {
        d.vxlan = Some(VxlanDevice {
            name: dev.clone(),
            vni: cfg.vxlan.vni,
            port: cfg.vxlan.port,
            local: me.parent_device_ip,
            mac: parse_mac(&me.mac).unwrap_or_else(|| vtep_mac(&me.node)),
            mtu: cfg.vxlan.mtu,
            address: me.tunnel_ip,
        });
    }
    if d.vxlan.is_none() {
        return d;
    }
    for v in st.remote_vteps() {
        let mac = parse_mac(&v.mac).unwrap_or_else(|| vtep_mac(&v.node));
        d.neighbours.insert(NeighSpec {
            ip: IpAddr::V4(v.tunnel_ip),
            mac,
            dev: dev.clone(),
        });
        d.fdb.insert(FdbSpec {
            mac,
            dst: v.parent_device_ip,
            dev: dev.clone(),
        });
    }
    for r in st.routes.values() {
        if r.route_type != RouteType::RemoteWorkload || r.encap != EncapType::Vxlan {
            continue;
        }
        // CrossSubnet: a node on our subnet is reached directly, without encapsulation.
        if r.same_subnet
            && cross_subnet_pool(st, &r.dst)
            && let (Some(parent), Some(gw @ IpAddr::V4(_))) =
                (&cfg.vxlan.parent_device, r.dst_node_ip)
        {
            d.routes.insert(RouteSpec {
                dst: r.dst.trunc(),
                gateway: Some(gw),
                dev: parent.clone(),
                onlink: false,
            });
            continue;
        }
        let Some(vtep) = r.dst_node.as_ref().and_then(|n| st.vteps.get(n)) else {
            continue; // no VTEP yet for that node: wait for it
        };
        if Some(&vtep.node) == st.hostname.as_ref() || !matches!(r.dst, IpNet::V4(_)) {
            continue;
        }
        d.routes.insert(RouteSpec {
            dst: r.dst.trunc(),
            gateway: Some(IpAddr::V4(vtep.tunnel_ip)),
            dev: dev.clone(),
            onlink: true,
        });
    }
    d
}

/// Whether the most specific pool holding `dst` has `vxlanMode: CrossSubnet`.
fn cross_subnet_pool(st: &DesiredState, dst: &IpNet) -> bool {
    st.pools
        .values()
        .filter(|p| p.cidr.contains(dst))
        .max_by_key(|p| p.cidr.prefix_len())
        .is_some_and(|p| p.cross_subnet)
}

fn diff<T: Ord + Clone>(have: &BTreeSet<T>, want: &BTreeSet<T>) -> (Vec<T>, Vec<T>) {
    (
        have.difference(want).cloned().collect(),
        want.difference(have).cloned().collect(),
    )
}

/// The operations that turn `have` into `want`. `full` re-applies every sysctl (a resync).
pub fn plan(have: &NetState, want: &NetState, full: bool) -> Vec<NetOp> {
    let mut ops = Vec::new();
    for (k, v) in &want.sysctls {
        if full || have.sysctls.get(k) != Some(v) {
            ops.push(NetOp::SetSysctl {
                key: k.clone(),
                value: v.clone(),
            });
        }
    }
    let mut have = have.clone();
    if have.vxlan != want.vxlan {
        if let Some(old) = &have.vxlan {
            ops.push(NetOp::DeleteLink {
                name: old.name.clone(),
            });
            // Everything on the old device went with it.
            let gone = old.name.clone();
            have.routes.retain(|r| r.dev != gone);
            have.neighbours.retain(|n| n.dev != gone);
            have.fdb.retain(|f| f.dev != gone);
        }
        if let Some(new) = &want.vxlan {
            ops.push(NetOp::CreateVxlan(new.clone()));
        }
    }
    let (del_fdb, add_fdb) = diff(&have.fdb, &want.fdb);
    let (del_n, add_n) = diff(&have.neighbours, &want.neighbours);
    let (del_r, add_r) = diff(&have.routes, &want.routes);
    ops.extend(del_r.into_iter().map(NetOp::DeleteRoute));
    ops.extend(del_n.into_iter().map(NetOp::DeleteNeigh));
    ops.extend(del_fdb.into_iter().map(NetOp::DeleteFdb));
    ops.extend(add_fdb.into_iter().map(NetOp::AddFdb));
    ops.extend(add_n.into_iter().map(NetOp::AddNeigh));
    ops.extend(add_r.into_iter().map(NetOp::AddRoute));
    ops
}

impl NetState {
    /// Record that `op` succeeded.
    pub fn record(&mut self, op: &NetOp) {
        match op {
            NetOp::SetSysctl { key, value } => {
                self.sysctls.insert(key.clone(), value.clone());
            }
            NetOp::DeleteLink { name } => {
                if self.vxlan.as_ref().is_some_and(|v| &v.name == name) {
                    self.vxlan = None;
                }
                self.routes.retain(|r| &r.dev != name);
                self.neighbours.retain(|n| &n.dev != name);
                self.fdb.retain(|f| &f.dev != name);
            }
            NetOp::CreateVxlan(d) => self.vxlan = Some(d.clone()),
            NetOp::DeleteRoute(r) => {
                self.routes.remove(r);
            }
            NetOp::AddRoute(r) => {
                // A replace drops any other route of ours to the same destination.
                self.routes.retain(|x| x.dst != r.dst);
                self.routes.insert(r.clone());
            }
            NetOp::DeleteNeigh(n) => {
                self.neighbours.remove(n);
            }
            NetOp::AddNeigh(n) => {
                self.neighbours.insert(n.clone());
            }
            NetOp::DeleteFdb(f) => {
                self.fdb.remove(f);
            }
            NetOp::AddFdb(f) => {
                self.fdb.insert(f.clone());
            }
        }
    }
}

/// What the dataplane needs from the kernel's networking; [`kernel::NetlinkBackend`] is
/// the real one.
pub trait NetBackend: Send {
    /// The objects the dataplane owns as the kernel holds them now: routes with `protocol`,
    /// the VXLAN device named `vxlan_dev` (if it is one) and its neighbours and FDB entries.
    fn observe(&mut self, protocol: u8, vxlan_dev: &str) -> Result<NetState>;
    /// Run `ops` in order; each failure is returned with its operation, the rest still run.
    fn execute(&mut self, protocol: u8, ops: &[NetOp]) -> Result<Vec<(NetOp, String)>>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha1::{Digest, Sha1};

    #[test]
    fn vtep_mac_as_calico_derives_it() {
        // SHA-1("node1") = 3ee9...; Calico's MAC is 66 followed by its first five bytes.
        let m = vtep_mac("node1");
        assert_eq!(m[0], 0x66);
        let d = Sha1::digest(b"node1");
        assert_eq!(&m[1..], &d[..5]);
        assert_eq!(
            parse_mac("66:0a:ff:00:01:02"),
            Some([0x66, 0x0a, 0xff, 0, 1, 2])
        );
        assert_eq!(parse_mac("66:0a:ff:00:01"), None);
    }

    #[allow(clippy::unwrap_used)]
    #[test]
    fn cross_subnet_routes_go_direct_on_the_same_subnet_only() {
        use calico_calc::messages::{Pool, Route, Vtep};
        let net = |s: &str| s.parse::<IpNet>().unwrap();
        let mut st = DesiredState {
            hostname: Some("me".into()),
            ..Default::default()
        };
        st.pools.insert(
            "p".into(),
            Pool {
                cidr: net("10.244.0.0/16"),
                nat_outgoing: false,
                encap: EncapType::Vxlan,
                cross_subnet: true,
                disabled: false,
            },
        );
        let vtep = |node: &str, tunnel: [u8; 4], parent: [u8; 4]| Vtep {
            node: node.into(),
            mac: String::new(),
            tunnel_ip: Ipv4Addr::from(tunnel),
            parent_device_ip: Ipv4Addr::from(parent),
        };
        st.vteps
            .insert("me".into(), vtep("me", [10, 244, 0, 0], [172, 18, 0, 11]));
        st.vteps.insert(
            "near".into(),
            vtep("near", [10, 244, 1, 0], [172, 18, 0, 12]),
        );
        st.vteps
            .insert("far".into(), vtep("far", [10, 244, 2, 0], [192, 0, 2, 7]));
        let route = |dst: &str, node: &str, ip: [u8; 4], same: bool| Route {
            dst: net(dst),
            route_type: RouteType::RemoteWorkload,
            encap: EncapType::Vxlan,
            dst_node: Some(node.into()),
            dst_node_ip: Some(IpAddr::V4(Ipv4Addr::from(ip))),
            same_subnet: same,
            nat_outgoing: false,
        };
        st.routes.insert(
            net("10.244.1.0/26"),
            route("10.244.1.0/26", "near", [172, 18, 0, 12], true),
        );
        st.routes.insert(
            net("10.244.2.0/26"),
            route("10.244.2.0/26", "far", [192, 0, 2, 7], false),
        );
        let mut cfg = Config::default();
        cfg.vxlan.mode = crate::VxlanMode::Enabled;
        cfg.vxlan.parent_device = Some("eth0".into());
        let d = desired_net(&cfg, &st);
        let routes: Vec<String> = d
            .routes
            .iter()
            .map(|r| {
                format!(
                    "{} via {:?} dev {} onlink {}",
                    r.dst, r.gateway, r.dev, r.onlink
                )
            })
            .collect();
        assert_eq!(
            routes,
            vec![
                "10.244.1.0/26 via Some(172.18.0.12) dev eth0 onlink false",
                "10.244.2.0/26 via Some(10.244.2.0) dev vxlan.calico onlink true",
            ]
        );
        // Without a known parent device, everything goes through VXLAN.
        cfg.vxlan.parent_device = None;
        let d = desired_net(&cfg, &st);
        assert!(d.routes.iter().all(|r| r.dev == "vxlan.calico"));
        // An Always pool never goes direct.
        if let Some(p) = st.pools.get_mut("p") {
            p.cross_subnet = false;
        }
        cfg.vxlan.parent_device = Some("eth0".into());
        let d = desired_net(&cfg, &st);
        assert!(d.routes.iter().all(|r| r.dev == "vxlan.calico"));
    }
}
