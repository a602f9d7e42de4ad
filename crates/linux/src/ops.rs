//! The narrow interface to the kernel's networking: [`NetOps`] and the values it speaks.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use ipnet::IpNet;

use crate::{LinuxError, MacAddr, Result};

/// A veth pair to create: one end in the container's namespace, the peer in the host's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VethSpec {
    pub container_ns: PathBuf,
    pub container_if: String,
    pub host_ns: PathBuf,
    pub host_if: String,
    /// Both ends' MTU; `None` keeps the kernel default (1500).
    pub mtu: Option<u32>,
    /// The host end's MAC; `None` lets the kernel choose.
    pub host_mac: Option<MacAddr>,
    /// The container end's MAC; `None` lets the kernel choose.
    pub container_mac: Option<MacAddr>,
    /// Set both ends up. `false` leaves them down, so per-interface sysctls (IPv6
    /// `accept_dad`) can be set before the kernel starts configuring them.
    pub up: bool,
}

/// What [`NetOps::create_veth`] made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VethPair {
    pub container_index: u32,
    pub container_mac: MacAddr,
    pub host_index: u32,
}

/// A link as the kernel reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub name: String,
    pub index: u32,
    pub mac: Option<MacAddr>,
    pub mtu: Option<u32>,
    pub up: bool,
    /// `veth`, `bridge`, ... (`None` for links without a kind, like `lo`).
    pub kind: Option<String>,
}

/// Route scope, as `ip route` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RouteScope {
    Universe,
    Link,
    Host,
}

impl fmt::Display for RouteScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RouteScope::Universe => "global",
            RouteScope::Link => "link",
            RouteScope::Host => "host",
        })
    }
}

/// A route in the main table.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Route {
    pub dst: IpNet,
    pub gateway: Option<IpAddr>,
    /// The output interface's name.
    pub dev: String,
    pub scope: RouteScope,
}

impl Route {
    /// A directly connected route: `dst dev DEV scope link`.
    pub fn link(dst: IpNet, dev: &str) -> Self {
        Route {
            dst,
            gateway: None,
            dev: dev.into(),
            scope: RouteScope::Link,
        }
    }

    /// A route through a gateway: `dst via GW dev DEV`.
    pub fn via(dst: IpNet, gateway: IpAddr, dev: &str) -> Self {
        Route {
            dst,
            gateway: Some(gateway),
            dev: dev.into(),
            scope: RouteScope::Universe,
        }
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.dst)?;
        if let Some(gw) = self.gateway {
            write!(f, " via {gw}")?;
        }
        write!(f, " dev {} scope {}", self.dev, self.scope)
    }
}

/// A neighbour (ARP/NDP) entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Neighbour {
    pub ip: IpAddr,
    pub mac: MacAddr,
    pub dev: String,
    pub permanent: bool,
}

/// Everything calico-rs does to the kernel's networking. Every method names the network
/// namespace it acts in by path (`/run/netns/NAME`, `/proc/PID/ns/net`, ...).
///
/// Deletions report whether there was something to delete, so callers can be idempotent.
pub trait NetOps: Send + Sync {
    /// Whether `ns` names an existing network namespace.
    fn netns_exists(&self, ns: &Path) -> bool;
    /// A hint that the namespaces will be used soon: an implementation may get ready for them
    /// in the background (the kernel adapter starts their worker threads). Never fails.
    fn prepare(&self, namespaces: &[&Path]) {
        let _ = namespaces;
    }
    /// Create a veth pair per `spec`, each end in its namespace (up when `spec.up`).
    fn create_veth(&self, spec: &VethSpec) -> Result<VethPair>;
    /// The link called `name`, if any.
    fn link(&self, ns: &Path, name: &str) -> Result<Option<Link>>;
    /// Every link of the namespace.
    fn links(&self, ns: &Path) -> Result<Vec<Link>>;
    /// Set a link up.
    fn set_link_up(&self, ns: &Path, name: &str) -> Result<()>;
    /// Delete a link (for a veth, both ends). `Ok(false)` when there was none.
    fn delete_link(&self, ns: &Path, name: &str) -> Result<bool>;
    /// Add an address to a link.
    fn add_address(&self, ns: &Path, link: &str, addr: IpNet) -> Result<()>;
    /// A link's addresses (both families).
    fn addresses(&self, ns: &Path, link: &str) -> Result<Vec<IpNet>>;
    /// Add a route to the main table.
    fn add_route(&self, ns: &Path, route: &Route) -> Result<()>;
    /// [`NetOps::add_address`] on a link whose index is known (as [`NetOps::create_veth`]
    /// returned it): an implementation may skip looking `link` up by name. The default does
    /// the lookup.
    fn add_address_at(&self, ns: &Path, link: &str, index: u32, addr: IpNet) -> Result<()> {
        let _ = index;
        self.add_address(ns, link, addr)
    }
    /// [`NetOps::add_route`] through a link whose index is known (`route.dev` is its name):
    /// an implementation may skip looking the link up by name. The default does the lookup.
    fn add_route_at(&self, ns: &Path, route: &Route, index: u32) -> Result<()> {
        let _ = index;
        self.add_route(ns, route)
    }
    /// Delete a route from the main table. `Ok(false)` when there was none.
    fn delete_route(&self, ns: &Path, route: &Route) -> Result<bool>;
    /// The main table's unicast routes (both families).
    fn routes(&self, ns: &Path) -> Result<Vec<Route>>;
    /// Add or replace a permanent neighbour entry.
    fn add_neighbour(&self, ns: &Path, neighbour: &Neighbour) -> Result<()>;
    /// A link's neighbour entries that have a link-layer address.
    fn neighbours(&self, ns: &Path, link: &str) -> Result<Vec<Neighbour>>;
    /// Write a sysctl, named with slashes under `/proc/sys`
    /// (`net/ipv4/conf/cali0123456789a/proxy_arp`).
    fn set_sysctl(&self, ns: &Path, key: &str, value: &str) -> Result<()>;
    /// Write several sysctls of one namespace, in order, stopping at the first failure (the
    /// kernel adapter does them in one trip to the namespace's worker).
    fn set_sysctls(&self, ns: &Path, entries: &[(String, &str)]) -> Result<()> {
        for (key, value) in entries {
            self.set_sysctl(ns, key, value)?;
        }
        Ok(())
    }
    /// Read a sysctl (trimmed).
    fn sysctl(&self, ns: &Path, key: &str) -> Result<String>;
}

/// The `/proc/sys` path of a sysctl key written with slashes; rejects keys that would leave
/// `/proc/sys/net`.
pub fn sysctl_path(key: &str) -> Result<PathBuf> {
    let ok = key.starts_with("net/")
        && key
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..");
    if !ok {
        return Err(LinuxError::Invalid(format!(
            "sysctl key {key:?}: expected a path under net/ like net/ipv4/ip_forward"
        )));
    }
    Ok(Path::new("/proc/sys").join(key))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sysctl_keys() {
        assert_eq!(
            sysctl_path("net/ipv4/conf/eth0/proxy_arp").unwrap(),
            PathBuf::from("/proc/sys/net/ipv4/conf/eth0/proxy_arp")
        );
        for bad in ["", "kernel/x", "net/../x", "net//x", "/net/x", "net/ipv4/"] {
            assert!(sysctl_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn route_display() {
        let r = Route::via(
            "0.0.0.0/0".parse().unwrap(),
            "169.254.1.1".parse().unwrap(),
            "eth0",
        );
        assert_eq!(
            r.to_string(),
            "0.0.0.0/0 via 169.254.1.1 dev eth0 scope global"
        );
        let r = Route::link("10.0.0.1/32".parse().unwrap(), "cali1");
        assert_eq!(r.to_string(), "10.0.0.1/32 dev cali1 scope link");
    }
}
