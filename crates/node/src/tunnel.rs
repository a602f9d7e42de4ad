//! The node's VXLAN tunnel address, as calico/node's `allocateip` does it: an address from an
//! IPv4 pool with VXLAN enabled (that selects this node and allows the `Tunnel` use), held by
//! the IPAM handle `vxlan-tunnel-addr-<node>` with attributes `node=<node>` and
//! `type=vxlanTunnelAddress`, stored in `Node.spec.ipv4VXLANTunnelAddr`; the device MAC is
//! stored in `spec.vxlanTunnelMACAddr` (derived from the node name as Felix derives it).
//! Without a VXLAN pool the address is released and both fields are cleared.
//!
//! The IP-in-IP tunnel address is the same with an IPv4 pool whose `ipipMode` is not `Never`:
//! handle `ipip-tunnel-addr-<node>`, `type=ipipTunnelAddress`, stored in
//! `Node.spec.bgp.ipv4IPIPTunnelAddr` (it goes on `tunl0`).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use calico_api::{EncapMode, IPPool, Node, Resource};
use calico_client::Client;
use calico_client::ipam_store::{ClientIpam, IpamClientError};
use calico_ipam::{AssignIpArgs, AutoAssignArgs, IntendedUse, attrs};
use calico_selector::Selector;

use crate::startup::{StartupError, get_node, kind, update_node};

/// The IPAM attribute `type` of a VXLAN tunnel address.
pub const VXLAN_ATTR_TYPE: &str = "vxlanTunnelAddress";
/// The IPAM attribute `type` of an IP-in-IP tunnel address.
pub const IPIP_ATTR_TYPE: &str = "ipipTunnelAddress";

/// Which tunnel an address is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tunnel {
    Vxlan,
    Ipip,
}

impl Tunnel {
    fn name(self) -> &'static str {
        match self {
            Tunnel::Vxlan => "VXLAN",
            Tunnel::Ipip => "IP-in-IP",
        }
    }
    fn handle(self, node: &str) -> String {
        match self {
            Tunnel::Vxlan => vxlan_handle(node),
            Tunnel::Ipip => ipip_handle(node),
        }
    }
    fn attr_type(self) -> &'static str {
        match self {
            Tunnel::Vxlan => VXLAN_ATTR_TYPE,
            Tunnel::Ipip => IPIP_ATTR_TYPE,
        }
    }
    fn enabled_in(self, p: &IPPool) -> bool {
        match self {
            Tunnel::Vxlan => p.spec.vxlan().is_some_and(EncapMode::is_enabled),
            Tunnel::Ipip => p.spec.ipip().is_some_and(EncapMode::is_enabled),
        }
    }
    /// The address stored on the Node.
    fn stored(self, n: &Node) -> String {
        match self {
            Tunnel::Vxlan => n.spec.ipv4_vxlan_tunnel_addr.clone(),
            Tunnel::Ipip => n
                .spec
                .bgp
                .as_ref()
                .map(|b| b.ipv4_ipip_tunnel_addr.clone())
                .unwrap_or_default(),
        }
    }
}

/// The IPAM handle of a node's IP-in-IP tunnel address.
pub fn ipip_handle(node: &str) -> String {
    format!("ipip-tunnel-addr-{node}")
}

/// The IPAM handle of a node's VXLAN tunnel address.
pub fn vxlan_handle(node: &str) -> String {
    format!("vxlan-tunnel-addr-{node}")
}

/// The MAC of a node's `vxlan.calico` device when the Node does not set one (Felix's
/// derivation; one definition, in the calculation graph).
pub use calico_calc::network::vxlan_mac_for_node as vxlan_mac;

fn ipam_err(e: IpamClientError) -> StartupError {
    StartupError::Ipam(e.to_string())
}

/// The names of the IPv4 pools a VXLAN tunnel address for `node` may come from.
pub fn vxlan_pools(pools: &[IPPool], node: &Node) -> Vec<String> {
    tunnel_pools(Tunnel::Vxlan, pools, node)
}

/// The names of the IPv4 pools a tunnel address of kind `t` for `node` may come from.
pub fn tunnel_pools(t: Tunnel, pools: &[IPPool], node: &Node) -> Vec<String> {
    pools
        .iter()
        .filter(|p| {
            let v4 = p.spec.is_ipv4() == Some(true);
            let vxlan = t.enabled_in(p);
            let uses =
                p.spec.allowed_uses.is_empty() || p.spec.allowed_uses.iter().any(|u| u == "Tunnel");
            let selects = p.spec.node_selector.trim().is_empty()
                || Selector::parse(&p.spec.node_selector)
                    .is_ok_and(|s| s.matches(&node.metadata.labels));
            v4 && vxlan && uses && selects && !p.spec.disabled
        })
        .map(|p| p.metadata.name.clone())
        .collect()
}

/// Make the Node's VXLAN tunnel address match the pools; returns the address in use.
pub fn reconcile_vxlan_tunnel(
    client: &Client,
    nodename: &str,
) -> Result<Option<Ipv4Addr>, StartupError> {
    reconcile_tunnel(client, nodename, Tunnel::Vxlan)
}

/// Make the Node's IP-in-IP tunnel address match the pools; returns the address in use.
pub fn reconcile_ipip_tunnel(
    client: &Client,
    nodename: &str,
) -> Result<Option<Ipv4Addr>, StartupError> {
    reconcile_tunnel(client, nodename, Tunnel::Ipip)
}

/// Make the Node's tunnel address of kind `t` match the pools; returns the address in use.
pub fn reconcile_tunnel(
    client: &Client,
    nodename: &str,
    t: Tunnel,
) -> Result<Option<Ipv4Addr>, StartupError> {
    let ipam = ClientIpam::new(client.clone());
    let (pool_list, _) = client.list(kind("IPPool")?, None)?;
    let pools: Vec<IPPool> = pool_list
        .into_iter()
        .filter_map(|r| match r {
            Resource::IPPool(p) => Some(p),
            _ => None,
        })
        .collect();
    let node = get_node(client, nodename)?.ok_or_else(|| StartupError::NodeMissing {
        node: nodename.to_string(),
    })?;
    let mut names = tunnel_pools(t, &pools, &node);
    if t == Tunnel::Ipip
        && node
            .spec
            .bgp
            .as_ref()
            .is_none_or(|b| b.ipv4_address.is_empty())
    {
        names.clear(); // no IPv4 BGP address: IP-in-IP cannot carry this node's traffic
    }
    let handle = t.handle(nodename);
    let current: Option<Ipv4Addr> = t.stored(&node).trim().parse().ok();

    if names.is_empty() {
        ipam.release_by_handle(&handle).map_err(ipam_err)?;
        match t {
            Tunnel::Vxlan
                if !node.spec.ipv4_vxlan_tunnel_addr.is_empty()
                    || !node.spec.vxlan_tunnel_mac_addr.is_empty() =>
            {
                update_node(client, nodename, |n| {
                    n.spec.ipv4_vxlan_tunnel_addr.clear();
                    n.spec.vxlan_tunnel_mac_addr.clear();
                })?;
            }
            Tunnel::Ipip if !t.stored(&node).is_empty() => {
                update_node(client, nodename, |n| {
                    if let Some(b) = n.spec.bgp.as_mut() {
                        b.ipv4_ipip_tunnel_addr.clear();
                    }
                })?;
            }
            _ => {}
        }
        return Ok(None);
    }

    let in_vxlan_pool = |ip: Ipv4Addr| {
        pools.iter().any(|p| {
            names.contains(&p.metadata.name)
                && p.spec
                    .parsed_cidr()
                    .is_some_and(|c| c.contains(&IpAddr::V4(ip)))
        })
    };
    let attributes = BTreeMap::from([
        (attrs::NODE.to_string(), nodename.to_string()),
        (attrs::TYPE.to_string(), t.attr_type().to_string()),
    ]);

    let mut keep = None;
    if let Some(ip) = current.filter(|ip| in_vxlan_pool(*ip)) {
        match ipam
            .get_assignment_attributes(IpAddr::V4(ip))
            .map_err(ipam_err)?
        {
            Some(info) if info.handle_id.as_deref() == Some(handle.as_str()) => keep = Some(ip),
            Some(_) => {} // someone else's address: allocate a new one
            None => {
                // Stored on the Node but not allocated: claim it under our handle.
                let args = AssignIpArgs {
                    address: IpAddr::V4(ip),
                    handle_id: handle.clone(),
                    attrs: attributes.clone(),
                    hostname: nodename.to_string(),
                    intended_use: Some(IntendedUse::Tunnel),
                };
                if ipam.assign_ip(&args).is_ok() {
                    keep = Some(ip);
                }
            }
        }
    }
    let ip = match keep {
        Some(ip) => {
            // Release anything else the handle holds (an older address).
            if let Ok(held) = ipam.engine().ips_by_handle(&handle) {
                let stale: Vec<_> = held.into_iter().filter(|a| *a != IpAddr::V4(ip)).collect();
                if !stale.is_empty() {
                    let pools_now = ipam.pools().map_err(ipam_err)?;
                    let reqs: Vec<_> = stale
                        .into_iter()
                        .map(|a| calico_ipam::ReleaseOptions {
                            handle: Some(handle.clone()),
                            ..calico_ipam::ReleaseOptions::address(a)
                        })
                        .collect();
                    let _ = ipam.engine().release_ips(&pools_now, &reqs);
                }
            }
            ip
        }
        None => {
            ipam.release_by_handle(&handle).map_err(ipam_err)?;
            let mut args = AutoAssignArgs::new(handle.clone(), nodename);
            args.attrs = attributes;
            args.ipv4_pools = names.clone();
            args.intended_use = IntendedUse::Tunnel;
            let got = ipam.auto_assign(args).map_err(ipam_err)?;
            match got.ipv4.first().map(|a| a.address) {
                Some(IpAddr::V4(ip)) => ip,
                _ => {
                    return Err(StartupError::Ipam(format!(
                        "no {} tunnel address for node {nodename} could be allocated from \
                         pools {names:?}",
                        t.name()
                    )));
                }
            }
        }
    };
    let want_ip = ip.to_string();
    if t == Tunnel::Ipip {
        if t.stored(&node) != want_ip {
            update_node(client, nodename, |n| {
                n.spec
                    .bgp
                    .get_or_insert_with(Default::default)
                    .ipv4_ipip_tunnel_addr = want_ip.clone();
            })?;
        }
        return Ok(Some(ip));
    }
    let want_mac = if node.spec.vxlan_tunnel_mac_addr.is_empty() {
        vxlan_mac(nodename)
    } else {
        node.spec.vxlan_tunnel_mac_addr.clone()
    };
    if node.spec.ipv4_vxlan_tunnel_addr != want_ip || node.spec.vxlan_tunnel_mac_addr != want_mac {
        update_node(client, nodename, |n| {
            n.spec.ipv4_vxlan_tunnel_addr = want_ip.clone();
            n.spec.vxlan_tunnel_mac_addr = want_mac.clone();
        })?;
    }
    Ok(Some(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_is_derived_from_the_name() {
        let m = vxlan_mac("node-1");
        assert!(m.starts_with("66:"), "{m}");
        assert_eq!(m.len(), 17);
        assert_eq!(m, vxlan_mac("node-1"));
        assert_ne!(m, vxlan_mac("node-2"));
    }
}
