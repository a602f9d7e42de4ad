//! Routes, VXLAN tunnel endpoints, pools and this host's address, computed from Nodes,
//! IPPools, IPAM block affinities and the local workloads (Felix's `L3RouteResolver`,
//! `VXLANResolver` and pool handling). These are small, so they are recomputed whole and
//! diffed.
//!
//! The VXLAN MAC of a node without `spec.vxlanTunnelMACAddr` is derived as Felix's
//! `vtepMACForHost` (`felix/calc/vxlan_resolver.go`) does: the byte `0x66` (`'f'`, a locally
//! administered unicast address) followed by the first five bytes of SHA-1 of the node name.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use calico_api::{EncapMode, IPPool, Node};
use ipnet::{IpNet, Ipv4Net};
use sha1::{Digest, Sha1};

use crate::input::BlockInfo;
use crate::messages::{EncapType, Pool, Route, RouteType, Vtep};

/// Everything the network part of the graph tells the dataplane.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NetworkState {
    pub routes: BTreeMap<IpNet, Route>,
    pub vteps: BTreeMap<String, Vtep>,
    pub pools: BTreeMap<String, Pool>,
    pub host_ipv4: Option<Ipv4Net>,
}

/// The MAC Felix gives a node's `vxlan.calico` device when the Node does not name one:
/// `0x66` then the first five bytes of SHA-1 of the node name (`felix/calc/vxlan_resolver.go`).
pub fn vxlan_mac_bytes(node: &str) -> [u8; 6] {
    let d = Sha1::digest(node.as_bytes());
    [0x66, d[0], d[1], d[2], d[3], d[4]]
}

/// [`vxlan_mac_bytes`] in the Node resource's text form (`66:b3:68:28:39:8e`).
pub fn vxlan_mac_for_node(node: &str) -> String {
    vxlan_mac_bytes(node)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// A node's IPv4 address and subnet from `spec.bgp.ipv4Address` (`10.0.0.5/24` or a bare
/// address).
pub fn node_ipv4(n: &Node) -> Option<Ipv4Net> {
    let s = n.spec.bgp.as_ref()?.ipv4_address.trim();
    s.parse::<Ipv4Net>()
        .ok()
        .or_else(|| s.parse::<Ipv4Addr>().ok().map(Ipv4Net::from))
}

fn node_ipv6(n: &Node) -> Option<IpNet> {
    let s = n.spec.bgp.as_ref()?.ipv6_address.trim();
    s.parse::<ipnet::Ipv6Net>().ok().map(IpNet::V6).or_else(|| {
        s.parse::<std::net::Ipv6Addr>()
            .ok()
            .map(|a| IpNet::from(IpAddr::V6(a)))
    })
}

fn parse_addr(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    s.parse::<IpAddr>()
        .ok()
        .or_else(|| s.parse::<IpNet>().ok().map(|n| n.addr()))
}

/// A pool as the dataplane sees it (`None` for an unparsable CIDR).
pub fn pool_of(p: &IPPool) -> Option<Pool> {
    let cidr = p.spec.parsed_cidr()?.trunc();
    let vxlan = p.spec.vxlan().unwrap_or(EncapMode::Never);
    let ipip = p.spec.ipip().unwrap_or(EncapMode::Never);
    let (encap, mode) = if vxlan.is_enabled() {
        (EncapType::Vxlan, vxlan)
    } else if ipip.is_enabled() {
        (EncapType::Ipip, ipip)
    } else {
        (EncapType::None, EncapMode::Never)
    };
    Some(Pool {
        cidr,
        nat_outgoing: p.spec.nat_outgoing,
        encap,
        cross_subnet: mode == EncapMode::CrossSubnet,
        disabled: p.spec.disabled,
    })
}

/// Computes the network state from scratch. `workloads` are the addresses of every workload
/// endpoint with its node: this node's get `LocalWorkload` routes; another node's get a
/// `RemoteWorkload` `/32` (or `/128`) when the address is in a pool but in no block affine to
/// that node (an address borrowed from another node's block).
pub fn compute<'n, 'p, 'b, 'w>(
    hostname: &str,
    nodes: impl IntoIterator<Item = &'n Node>,
    pools: impl IntoIterator<Item = &'p IPPool>,
    blocks: impl IntoIterator<Item = &'b BlockInfo>,
    workloads: impl IntoIterator<Item = (IpAddr, &'w str)>,
) -> NetworkState {
    let mut st = NetworkState::default();
    for p in pools {
        if let Some(pool) = pool_of(p) {
            st.pools.insert(p.metadata.name.clone(), pool);
        }
    }
    let pool_for = |dst: &IpNet| -> Option<&Pool> {
        st.pools
            .values()
            .filter(|p| p.cidr.contains(dst))
            .max_by_key(|p| p.cidr.prefix_len())
    };
    let mut routes: BTreeMap<IpNet, Route> = BTreeMap::new();
    for pool in st.pools.values() {
        routes.insert(
            pool.cidr,
            Route {
                dst: pool.cidr,
                route_type: RouteType::CidrInfo,
                encap: pool.encap,
                dst_node: None,
                dst_node_ip: None,
                same_subnet: false,
                nat_outgoing: pool.nat_outgoing,
            },
        );
    }
    let nodes: BTreeMap<&str, &Node> = nodes
        .into_iter()
        .map(|n| (n.metadata.name.as_str(), n))
        .collect();
    let my_net = nodes.get(hostname).and_then(|n| node_ipv4(n));
    st.host_ipv4 = my_net;
    let same_subnet = |ip: Option<IpAddr>| match (my_net, ip) {
        (Some(net), Some(IpAddr::V4(a))) => net.contains(&a),
        _ => false,
    };
    let route =
        |dst: IpNet, route_type, node: &str, node_ip: Option<IpAddr>, encap: Option<EncapType>| {
            let pool = pool_for(&dst);
            Route {
                dst,
                route_type,
                encap: encap.or(pool.map(|p| p.encap)).unwrap_or(EncapType::None),
                dst_node: Some(node.to_string()),
                dst_node_ip: node_ip,
                same_subnet: node != hostname && same_subnet(node_ip),
                nat_outgoing: pool.is_some_and(|p| p.nat_outgoing),
            }
        };
    for (name, n) in &nodes {
        let local = *name == hostname;
        let v4 = node_ipv4(n);
        let ip = v4.map(|n| IpAddr::V4(n.addr()));
        let host_type = if local {
            RouteType::LocalHost
        } else {
            RouteType::RemoteHost
        };
        let tunnel_type = if local {
            RouteType::LocalTunnel
        } else {
            RouteType::RemoteTunnel
        };
        if let Some(ip) = ip {
            let dst = IpNet::from(ip);
            routes.insert(
                dst,
                route(dst, host_type, name, Some(ip), Some(EncapType::None)),
            );
        }
        if let Some(v6) = node_ipv6(n) {
            let dst = IpNet::from(v6.addr());
            routes.insert(
                dst,
                route(dst, host_type, name, Some(v6.addr()), Some(EncapType::None)),
            );
        }
        let tunnels = [
            (parse_addr(&n.spec.ipv4_vxlan_tunnel_addr), EncapType::Vxlan),
            (
                n.spec
                    .bgp
                    .as_ref()
                    .and_then(|b| parse_addr(&b.ipv4_ipip_tunnel_addr)),
                EncapType::Ipip,
            ),
        ];
        for (addr, encap) in tunnels {
            if let Some(a) = addr {
                let dst = IpNet::from(a);
                routes.insert(dst, route(dst, tunnel_type, name, ip, Some(encap)));
            }
        }
        if let (Some(IpAddr::V4(tunnel_ip)), Some(parent)) =
            (parse_addr(&n.spec.ipv4_vxlan_tunnel_addr), v4)
        {
            let mac = if n.spec.vxlan_tunnel_mac_addr.is_empty() {
                vxlan_mac_for_node(name)
            } else {
                n.spec.vxlan_tunnel_mac_addr.to_lowercase()
            };
            st.vteps.insert(
                name.to_string(),
                Vtep {
                    node: name.to_string(),
                    mac,
                    tunnel_ip,
                    parent_device_ip: parent.addr(),
                },
            );
        }
    }
    let blocks: Vec<&BlockInfo> = blocks.into_iter().collect();
    for b in &blocks {
        let Some(node) = &b.affinity else { continue };
        let local = node == hostname;
        let node_ip = nodes
            .get(node.as_str())
            .and_then(|n| node_ipv4(n))
            .map(|n| IpAddr::V4(n.addr()));
        let ty = if local {
            RouteType::LocalWorkload
        } else {
            RouteType::RemoteWorkload
        };
        let dst = b.cidr.trunc();
        routes.insert(dst, route(dst, ty, node, node_ip, None));
    }
    let mut remote = Vec::new();
    for (a, node) in workloads {
        let dst = IpNet::from(a);
        if node == hostname {
            let my_ip = my_net.map(|n| IpAddr::V4(n.addr()));
            routes.insert(dst, route(dst, RouteType::LocalWorkload, node, my_ip, None));
        } else {
            let in_own_block = blocks
                .iter()
                .any(|b| b.affinity.as_deref() == Some(node) && b.cidr.contains(&a));
            if !in_own_block && pool_for(&dst).is_some() {
                remote.push((dst, node));
            }
        }
    }
    for (dst, node) in remote {
        if routes
            .get(&dst)
            .is_some_and(|r| r.route_type == RouteType::LocalWorkload)
        {
            continue;
        }
        let node_ip = nodes
            .get(node)
            .and_then(|n| node_ipv4(n))
            .map(|n| IpAddr::V4(n.addr()));
        routes.insert(
            dst,
            route(dst, RouteType::RemoteWorkload, node, node_ip, None),
        );
    }
    st.routes = routes;
    st
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vxlan_mac_is_0x66_then_sha1_of_the_node_name() {
        // SHA-1("node-1") starts b3 68 28 39 8e.
        assert_eq!(vxlan_mac_for_node("node-1"), "66:b3:68:28:39:8e");
        // Locally administered, unicast.
        let first = u8::from_str_radix(&vxlan_mac_for_node("anything")[..2], 16);
        assert_eq!(first.map(|b| (b & 0b10, b & 0b01)), Ok((0b10, 0)));
    }

    #[test]
    fn node_address_with_or_without_prefix() {
        let mut n = Node::default();
        n.spec.bgp = Some(calico_api::NodeBGPSpec {
            ipv4_address: "10.0.0.5/24".into(),
            ..Default::default()
        });
        assert_eq!(node_ipv4(&n), "10.0.0.5/24".parse().ok());
        if let Some(b) = n.spec.bgp.as_mut() {
            b.ipv4_address = "10.0.0.5".into();
        }
        assert_eq!(node_ipv4(&n), "10.0.0.5/32".parse().ok());
    }
}
