//! `Node`: Calico's view of a host — its BGP addresses and AS number, tunnel addresses, VXLAN
//! MACs, WireGuard settings, known addresses and interfaces (written by calico/node at startup).

use serde::{Deserialize, Serialize};

use super::infra_common::{
    AsNumber, check_cidr_family, check_ipv4, check_ipv6, check_mac, check_net, check_one_of,
    check_wireguard_key,
};
use crate::meta::ObjectMeta;
use crate::validate::{Validator, is_dns_subdomain};

/// `Node` (cluster-scoped; named after the host).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Node {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: NodeSpec,
    #[serde(default)]
    pub status: NodeStatus,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bgp: Option<NodeBGPSpec>,
    #[serde(
        default,
        rename = "ipv4VXLANTunnelAddr",
        skip_serializing_if = "String::is_empty"
    )]
    pub ipv4_vxlan_tunnel_addr: String,
    #[serde(
        default,
        rename = "vxlanTunnelMACAddr",
        skip_serializing_if = "String::is_empty"
    )]
    pub vxlan_tunnel_mac_addr: String,
    #[serde(
        default,
        rename = "ipv6VXLANTunnelAddr",
        skip_serializing_if = "String::is_empty"
    )]
    pub ipv6_vxlan_tunnel_addr: String,
    #[serde(
        default,
        rename = "vxlanTunnelMACAddrV6",
        skip_serializing_if = "String::is_empty"
    )]
    pub vxlan_tunnel_mac_addr_v6: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orch_refs: Vec<OrchRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wireguard: Option<NodeWireguardSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<NodeAddress>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub interfaces: Vec<NodeInterface>,
}

/// The node's BGP settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeBGPSpec {
    /// The node's AS number; the global default when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_number: Option<AsNumber>,
    /// IPv4 address and subnet, e.g. `10.0.0.5/24`.
    #[serde(
        default,
        rename = "ipv4Address",
        skip_serializing_if = "String::is_empty"
    )]
    pub ipv4_address: String,
    /// IPv6 address and subnet.
    #[serde(
        default,
        rename = "ipv6Address",
        skip_serializing_if = "String::is_empty"
    )]
    pub ipv6_address: String,
    #[serde(
        default,
        rename = "ipv4IPIPTunnelAddr",
        skip_serializing_if = "String::is_empty"
    )]
    pub ipv4_ipip_tunnel_addr: String,
    /// Makes the node a route reflector for this cluster ID (an IPv4 address).
    #[serde(
        default,
        rename = "routeReflectorClusterID",
        skip_serializing_if = "String::is_empty"
    )]
    pub route_reflector_cluster_id: String,
}

/// Correlates the node with the orchestrator's name for it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OrchRef {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub node_name: String,
    #[serde(default)]
    pub orchestrator: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeWireguardSpec {
    #[serde(
        default,
        rename = "interfaceIPv4Address",
        skip_serializing_if = "String::is_empty"
    )]
    pub interface_ipv4_address: String,
    #[serde(
        default,
        rename = "interfaceIPv6Address",
        skip_serializing_if = "String::is_empty"
    )]
    pub interface_ipv6_address: String,
}

/// An address the node can be reached at.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeAddress {
    /// An address or strictly masked CIDR.
    #[serde(default)]
    pub address: String,
    /// `CalicoNodeIP`, `InternalIP` or `ExternalIP`.
    #[serde(default, rename = "type", skip_serializing_if = "String::is_empty")]
    pub type_: String,
}

/// A host interface and its addresses.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeInterface {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeStatus {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub wireguard_public_key: String,
    #[serde(
        default,
        rename = "wireguardPublicKeyV6",
        skip_serializing_if = "String::is_empty"
    )]
    pub wireguard_public_key_v6: String,
    /// Mirrors the Kubernetes node's `spec.podCIDRs`.
    #[serde(default, rename = "podCIDRs", skip_serializing_if = "Vec::is_empty")]
    pub pod_cidrs: Vec<String>,
}

pub const NODE_ADDRESS_TYPES: &[&str] = &["CalicoNodeIP", "InternalIP", "ExternalIP"];

/// Annotations by which the Kubernetes datastore stores Calico node fields on the k8s Node.
pub mod node_annotations {
    pub const IPV4_ADDRESS: &str = "projectcalico.org/IPv4Address";
    pub const IPV6_ADDRESS: &str = "projectcalico.org/IPv6Address";
    pub const IPV4_IPIP_TUNNEL_ADDR: &str = "projectcalico.org/IPv4IPIPTunnelAddr";
    pub const IPV4_VXLAN_TUNNEL_ADDR: &str = "projectcalico.org/IPv4VXLANTunnelAddr";
    pub const IPV6_VXLAN_TUNNEL_ADDR: &str = "projectcalico.org/IPv6VXLANTunnelAddr";
    pub const VXLAN_TUNNEL_MAC_ADDR: &str = "projectcalico.org/VXLANTunnelMACAddr";
    pub const VXLAN_TUNNEL_MAC_ADDR_V6: &str = "projectcalico.org/VXLANTunnelMACAddrV6";
    pub const AS_NUMBER: &str = "projectcalico.org/ASNumber";
    pub const ROUTE_REFLECTOR_CLUSTER_ID: &str = "projectcalico.org/RouteReflectorClusterID";
    pub const WIREGUARD_PUBLIC_KEY: &str = "projectcalico.org/WireguardPublicKey";
    pub const WIREGUARD_PUBLIC_KEY_V6: &str = "projectcalico.org/WireguardPublicKeyV6";
    pub const IPV4_WIREGUARD_INTERFACE_ADDR: &str = "projectcalico.org/IPv4WireguardInterfaceAddr";
    pub const IPV6_WIREGUARD_INTERFACE_ADDR: &str = "projectcalico.org/IPv6WireguardInterfaceAddr";
    pub const INTERFACES: &str = "projectcalico.org/Interfaces";
}

impl NodeBGPSpec {
    fn is_empty(&self) -> bool {
        *self == NodeBGPSpec::default()
    }
}

impl NodeSpec {
    /// The node's IPv4 BGP address without its prefix length.
    pub fn ipv4_address(&self) -> Option<std::net::IpAddr> {
        let bgp = self.bgp.as_ref()?;
        crate::validate::parse_cidr_or_ip(&bgp.ipv4_address).map(|n| n.addr())
    }

    /// The node's IPv6 BGP address without its prefix length.
    pub fn ipv6_address(&self) -> Option<std::net::IpAddr> {
        let bgp = self.bgp.as_ref()?;
        crate::validate::parse_cidr_or_ip(&bgp.ipv6_address).map(|n| n.addr())
    }
}

crate::impl_kind!(Node, kind: "Node", api_version: crate::resource::CALICO_API_VERSION, plural: "nodes", namespaced: false);

impl Node {
    fn defaults(&mut self) {}

    fn check(&self, v: &mut Validator) {
        let spec = &self.spec;
        v.field("spec", |v| {
            if let Some(bgp) = &spec.bgp {
                v.field("bgp", |v| check_bgp(bgp, v));
            }
            if !spec.ipv4_vxlan_tunnel_addr.is_empty() {
                v.field("ipv4VXLANTunnelAddr", |v| {
                    check_ipv4(v, &spec.ipv4_vxlan_tunnel_addr)
                });
            }
            if !spec.ipv6_vxlan_tunnel_addr.is_empty() {
                v.field("ipv6VXLANTunnelAddr", |v| {
                    check_ipv6(v, &spec.ipv6_vxlan_tunnel_addr)
                });
            }
            if !spec.vxlan_tunnel_mac_addr.is_empty() {
                v.field("vxlanTunnelMACAddr", |v| {
                    check_mac(v, &spec.vxlan_tunnel_mac_addr)
                });
            }
            if !spec.vxlan_tunnel_mac_addr_v6.is_empty() {
                v.field("vxlanTunnelMACAddrV6", |v| {
                    check_mac(v, &spec.vxlan_tunnel_mac_addr_v6)
                });
            }
            if let Some(wg) = &spec.wireguard {
                v.field("wireguard", |v| {
                    if !wg.interface_ipv4_address.is_empty() {
                        v.field("interfaceIPv4Address", |v| {
                            check_ipv4(v, &wg.interface_ipv4_address)
                        });
                    }
                    if !wg.interface_ipv6_address.is_empty() {
                        v.field("interfaceIPv6Address", |v| {
                            check_ipv6(v, &wg.interface_ipv6_address)
                        });
                    }
                });
            }
            v.field("addresses", |v| {
                for (i, a) in spec.addresses.iter().enumerate() {
                    v.index(i, |v| {
                        v.field("address", |v| check_net(v, &a.address, None));
                        if !a.type_.is_empty() {
                            v.field("type", |v| check_one_of(v, &a.type_, NODE_ADDRESS_TYPES));
                        }
                    });
                }
            });
            v.field("interfaces", |v| {
                for (i, iface) in spec.interfaces.iter().enumerate() {
                    if !iface.name.is_empty() && !is_dns_subdomain(&iface.name) {
                        v.index(i, |v| {
                            v.error_at(
                                "name",
                                format!(
                                    "{:?} is not a valid interface name here: expected lower-case \
                                     alphanumerics, '-' and '.'",
                                    iface.name
                                ),
                            )
                        });
                    }
                }
            });
        });
        let status = &self.status;
        v.field("status", |v| {
            if !status.wireguard_public_key.is_empty() {
                v.field("wireguardPublicKey", |v| {
                    check_wireguard_key(v, &status.wireguard_public_key)
                });
            }
            if !status.wireguard_public_key_v6.is_empty() {
                v.field("wireguardPublicKeyV6", |v| {
                    check_wireguard_key(v, &status.wireguard_public_key_v6)
                });
            }
        });
    }
}

fn check_bgp(bgp: &NodeBGPSpec, v: &mut Validator) {
    if bgp.is_empty() {
        v.error(
            "spec.bgp must not be empty: set at least one of asNumber, ipv4Address, ipv6Address, \
             ipv4IPIPTunnelAddr, routeReflectorClusterID, or remove bgp",
        );
        return;
    }
    if !bgp.ipv4_address.is_empty() {
        v.field("ipv4Address", |v| {
            check_cidr_family(v, &bgp.ipv4_address, true)
        });
    }
    if !bgp.ipv6_address.is_empty() {
        v.field("ipv6Address", |v| {
            check_cidr_family(v, &bgp.ipv6_address, false)
        });
    }
    if !bgp.ipv4_ipip_tunnel_addr.is_empty() {
        v.field("ipv4IPIPTunnelAddr", |v| {
            check_ipv4(v, &bgp.ipv4_ipip_tunnel_addr)
        });
    }
    if !bgp.route_reflector_cluster_id.is_empty() {
        v.field("routeReflectorClusterID", |v| {
            check_ipv4(v, &bgp.route_reflector_cluster_id)
        });
    }
}
