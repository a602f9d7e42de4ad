//! How a route learned over BGP is installed in the kernel: Calico's `calico_kernel_programming`
//! decision (inventory §8.2) as a pure function.
//!
//! For the pool containing the destination:
//! - `ipipMode: Always` → through `tunl0`, `onlink` via the next hop;
//! - `ipipMode: CrossSubnet` → through `tunl0` only when the next hop is not on one of this
//!   node's subnets, directly otherwise;
//! - `vxlanMode` other than `Never` → not installed by BGP: the dataplane programs VXLAN
//!   routes (Calico: "VXLAN routes are handled by Felix");
//! - no encapsulation, or no pool → directly via the next hop, over the interface whose subnet
//!   holds it. A next hop on no local subnet cannot be installed directly.

use std::net::IpAddr;

use ipnet::IpNet;

/// The IP-in-IP device.
pub const IPIP_DEVICE: &str = "tunl0";

/// An IP pool's `ipipMode` / `vxlanMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EncapMode {
    #[default]
    Never,
    Always,
    CrossSubnet,
}

/// What routing needs to know about an IP pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolRouting {
    pub cidr: IpNet,
    pub ipip: EncapMode,
    pub vxlan: EncapMode,
}

/// An address of this node, with its interface (`10.0.0.5/24` on `eth0`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalSubnet {
    pub net: IpNet,
    pub dev: String,
}

/// A kernel route to install.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RouteSpec {
    pub dst: IpNet,
    pub gateway: IpAddr,
    pub dev: String,
    pub onlink: bool,
}

/// The decision for one learned route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoutePlan {
    /// Install this route.
    Install(RouteSpec),
    /// The destination is in a VXLAN pool: the dataplane owns its routes.
    DataplaneOwned,
    /// The next hop is on none of this node's subnets and no tunnel applies.
    Unreachable { next_hop: IpAddr },
}

/// The most specific pool containing `dst`.
pub fn pool_for(dst: IpNet, pools: &[PoolRouting]) -> Option<&PoolRouting> {
    pools
        .iter()
        .filter(|p| p.cidr.contains(&dst))
        .max_by_key(|p| p.cidr.prefix_len())
}

/// The local subnet holding `addr`, most specific first.
pub fn subnet_of(addr: IpAddr, local: &[LocalSubnet]) -> Option<&LocalSubnet> {
    local
        .iter()
        .filter(|s| s.net.contains(&addr))
        .max_by_key(|s| s.net.prefix_len())
}

/// Decide how to install `dst` learned with `next_hop`.
pub fn plan_route(
    dst: IpNet,
    next_hop: IpAddr,
    pools: &[PoolRouting],
    local: &[LocalSubnet],
) -> RoutePlan {
    let same_subnet = subnet_of(next_hop, local);
    let pool = pool_for(dst, pools);
    if let Some(p) = pool {
        if p.vxlan != EncapMode::Never {
            return RoutePlan::DataplaneOwned;
        }
        let tunnel = match p.ipip {
            EncapMode::Always => true,
            EncapMode::CrossSubnet => same_subnet.is_none(),
            EncapMode::Never => false,
        };
        if tunnel && next_hop.is_ipv4() {
            return RoutePlan::Install(RouteSpec {
                dst,
                gateway: next_hop,
                dev: IPIP_DEVICE.into(),
                onlink: true,
            });
        }
    }
    match same_subnet {
        Some(s) => RoutePlan::Install(RouteSpec {
            dst,
            gateway: next_hop,
            dev: s.dev.clone(),
            onlink: false,
        }),
        None => RoutePlan::Unreachable { next_hop },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().expect("net")
    }
    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }
    fn local() -> Vec<LocalSubnet> {
        vec![LocalSubnet {
            net: net("10.0.0.5/24"),
            dev: "eth0".into(),
        }]
    }
    fn pool(ipip: EncapMode, vxlan: EncapMode) -> Vec<PoolRouting> {
        vec![PoolRouting {
            cidr: net("192.168.0.0/16"),
            ipip,
            vxlan,
        }]
    }
    fn direct(dst: &str, gw: &str) -> RoutePlan {
        RoutePlan::Install(RouteSpec {
            dst: net(dst),
            gateway: ip(gw),
            dev: "eth0".into(),
            onlink: false,
        })
    }
    fn tunl(dst: &str, gw: &str) -> RoutePlan {
        RoutePlan::Install(RouteSpec {
            dst: net(dst),
            gateway: ip(gw),
            dev: "tunl0".into(),
            onlink: true,
        })
    }

    #[test]
    fn no_encap_is_direct_on_the_shared_subnet() {
        let p = pool(EncapMode::Never, EncapMode::Never);
        assert_eq!(
            plan_route(net("192.168.1.0/26"), ip("10.0.0.6"), &p, &local()),
            direct("192.168.1.0/26", "10.0.0.6")
        );
        assert_eq!(
            plan_route(net("192.168.1.0/26"), ip("10.1.0.6"), &p, &local()),
            RoutePlan::Unreachable {
                next_hop: ip("10.1.0.6")
            }
        );
    }

    #[test]
    fn ipip_always_tunnels_even_on_the_same_subnet() {
        let p = pool(EncapMode::Always, EncapMode::Never);
        assert_eq!(
            plan_route(net("192.168.1.0/26"), ip("10.0.0.6"), &p, &local()),
            tunl("192.168.1.0/26", "10.0.0.6")
        );
        assert_eq!(
            plan_route(net("192.168.1.0/26"), ip("10.1.0.6"), &p, &local()),
            tunl("192.168.1.0/26", "10.1.0.6")
        );
    }

    #[test]
    fn ipip_cross_subnet_tunnels_only_across_subnets() {
        let p = pool(EncapMode::CrossSubnet, EncapMode::Never);
        assert_eq!(
            plan_route(net("192.168.1.0/26"), ip("10.0.0.6"), &p, &local()),
            direct("192.168.1.0/26", "10.0.0.6")
        );
        assert_eq!(
            plan_route(net("192.168.1.0/26"), ip("10.1.0.6"), &p, &local()),
            tunl("192.168.1.0/26", "10.1.0.6")
        );
    }

    #[test]
    fn vxlan_pools_are_left_to_the_dataplane() {
        for m in [EncapMode::Always, EncapMode::CrossSubnet] {
            let p = pool(EncapMode::Never, m);
            assert_eq!(
                plan_route(net("192.168.1.0/26"), ip("10.0.0.6"), &p, &local()),
                RoutePlan::DataplaneOwned
            );
        }
    }

    #[test]
    fn routes_outside_pools_and_ipv6_are_direct() {
        let p = pool(EncapMode::Always, EncapMode::Never);
        assert_eq!(
            plan_route(net("172.16.0.0/24"), ip("10.0.0.6"), &p, &local()),
            direct("172.16.0.0/24", "10.0.0.6")
        );
        let v6 = vec![PoolRouting {
            cidr: net("fd00::/48"),
            ipip: EncapMode::Always,
            vxlan: EncapMode::Never,
        }];
        let l6 = vec![LocalSubnet {
            net: net("fd01::5/64"),
            dev: "eth0".into(),
        }];
        assert_eq!(
            plan_route(net("fd00::/122"), ip("fd01::6"), &v6, &l6),
            RoutePlan::Install(RouteSpec {
                dst: net("fd00::/122"),
                gateway: ip("fd01::6"),
                dev: "eth0".into(),
                onlink: false
            })
        );
    }

    #[test]
    fn most_specific_pool_and_subnet_win() {
        let pools = vec![
            PoolRouting {
                cidr: net("192.168.0.0/16"),
                ipip: EncapMode::Always,
                vxlan: EncapMode::Never,
            },
            PoolRouting {
                cidr: net("192.168.1.0/24"),
                ipip: EncapMode::Never,
                vxlan: EncapMode::Never,
            },
        ];
        assert_eq!(
            plan_route(net("192.168.1.0/26"), ip("10.0.0.6"), &pools, &local()),
            direct("192.168.1.0/26", "10.0.0.6")
        );
    }
}
