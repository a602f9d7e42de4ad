//! [`Kernel`]: [`NetOps`] over rtnetlink, one worker thread per namespace touched.

use std::collections::HashMap;
use std::net::IpAddr;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use futures::TryStreamExt;
use ipnet::IpNet;
use netlink_packet_route::AddressFamily;
use netlink_packet_route::address::AddressAttribute;
use netlink_packet_route::link::{
    InfoData, InfoVeth, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourMessage, NeighbourState,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope as NlScope,
    RouteType,
};
use nix::errno::Errno;
use rtnetlink::{Handle, LinkMessageBuilder, LinkUnspec, LinkVeth, RouteMessageBuilder};

use crate::netns::{netns_exists, open_netns};
use crate::worker::{Ctx, Worker};
use crate::{
    Link, LinuxError, MacAddr, Neighbour, NetOps, Result, Route, RouteScope, VethPair, VethSpec,
    sysctl_path,
};

/// The real kernel. Workers are started on first use of a namespace and stopped on drop, so
/// drop a `Kernel` before expecting a namespace it touched to disappear.
#[derive(Default)]
pub struct Kernel {
    workers: Mutex<HashMap<PathBuf, Arc<Worker>>>,
}

impl std::fmt::Debug for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Kernel")
    }
}

impl Kernel {
    pub fn new() -> Self {
        Self::default()
    }

    fn worker(&self, ns: &Path) -> Result<Arc<Worker>> {
        let mut map = self
            .workers
            .lock()
            .map_err(|_| LinuxError::Worker("worker table poisoned".into()))?;
        if let Some(w) = map.get(ns) {
            return Ok(w.clone());
        }
        let w = Arc::new(Worker::spawn(ns)?);
        map.insert(ns.to_path_buf(), w.clone());
        Ok(w)
    }

    /// Stop the worker of `ns`, if any (so the namespace is no longer held by this process).
    pub fn release(&self, ns: &Path) {
        if let Ok(mut map) = self.workers.lock() {
            map.remove(ns);
        }
    }

    /// Run an async netlink job in `ns`.
    fn nl<T, F, Fut>(&self, ns: &Path, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(Handle, PathBuf) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T>>,
    {
        let path = ns.to_path_buf();
        self.worker(ns)?
            .run(move |ctx: &Ctx| ctx.rt.block_on(f(ctx.handle.clone(), path)))
    }
}

async fn find_link(h: &Handle, name: &str) -> Result<Option<LinkMessage>> {
    let mut s = h.link().get().match_name(name.to_string()).execute();
    match s.try_next().await {
        Ok(m) => Ok(m),
        Err(e) => {
            let err = LinuxError::netlink(format!("get link {name}"), e);
            if err.errno() == Some(Errno::ENODEV as i32) {
                Ok(None)
            } else {
                Err(err)
            }
        }
    }
}

async fn link_index(h: &Handle, ns: &Path, name: &str) -> Result<u32> {
    match find_link(h, name).await? {
        Some(m) => Ok(m.header.index),
        None => Err(LinuxError::LinkNotFound {
            ns: ns.into(),
            name: name.into(),
        }),
    }
}

fn to_link(m: &LinkMessage) -> Link {
    let mut l = Link {
        name: String::new(),
        index: m.header.index,
        mac: None,
        mtu: None,
        up: m.header.flags.contains(LinkFlags::Up),
        kind: None,
    };
    for a in &m.attributes {
        match a {
            LinkAttribute::IfName(n) => l.name = n.clone(),
            LinkAttribute::Address(b) => l.mac = MacAddr::from_bytes(b),
            LinkAttribute::Mtu(m) => l.mtu = Some(*m),
            LinkAttribute::LinkInfo(infos) => {
                for i in infos {
                    if let LinkInfo::Kind(k) = i {
                        l.kind = Some(k.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    l
}

async fn all_links(h: &Handle) -> Result<Vec<Link>> {
    h.link()
        .get()
        .execute()
        .map_ok(|m| to_link(&m))
        .try_collect()
        .await
        .map_err(|e| LinuxError::netlink("list links", e))
}

fn nl_scope(s: RouteScope) -> NlScope {
    match s {
        RouteScope::Universe => NlScope::Universe,
        RouteScope::Link => NlScope::Link,
        RouteScope::Host => NlScope::Host,
    }
}

fn route_message(route: &Route, oif: u32) -> Result<RouteMessage> {
    let bad = |e: String| LinuxError::Invalid(format!("route {route}: {e}"));
    let mut b = RouteMessageBuilder::<IpAddr>::new()
        .destination_prefix(route.dst.addr(), route.dst.prefix_len())
        .map_err(|e| bad(e.to_string()))?;
    if let Some(gw) = route.gateway {
        b = b.gateway(gw).map_err(|e| bad(e.to_string()))?;
    }
    Ok(b.output_interface(oif)
        .scope(nl_scope(route.scope))
        .protocol(RouteProtocol::Boot)
        .build())
}

fn route_addr(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(v4) => Some(IpAddr::V4(*v4)),
        RouteAddress::Inet6(v6) => Some(IpAddr::V6(*v6)),
        _ => None,
    }
}

fn from_route_message(m: &RouteMessage, names: &HashMap<u32, String>) -> Option<Route> {
    let mut table = u32::from(m.header.table);
    let (mut dst, mut gateway, mut oif) = (None, None, None);
    for a in &m.attributes {
        match a {
            RouteAttribute::Destination(d) => dst = route_addr(d),
            RouteAttribute::Gateway(g) => gateway = route_addr(g),
            RouteAttribute::Oif(i) => oif = Some(*i),
            RouteAttribute::Table(t) => table = *t,
            _ => {}
        }
    }
    if table != u32::from(RouteHeader::RT_TABLE_MAIN) || m.header.kind != RouteType::Unicast {
        return None;
    }
    let len = m.header.destination_prefix_length;
    let dst = match (dst, m.header.address_family) {
        (Some(d), _) => IpNet::new(d, len).ok()?,
        (None, AddressFamily::Inet) => IpNet::new(IpAddr::V4(0u32.into()), 0).ok()?,
        (None, AddressFamily::Inet6) => IpNet::new(IpAddr::V6(0u128.into()), 0).ok()?,
        _ => return None,
    };
    let scope = match m.header.scope {
        NlScope::Link => RouteScope::Link,
        NlScope::Host => RouteScope::Host,
        // IPv6 has no route scopes (the kernel reports universe): a route without a gateway
        // is directly connected, which is what `Link` means for IPv4.
        _ if dst.addr().is_ipv6() && gateway.is_none() && m.header.kind == RouteType::Unicast => {
            RouteScope::Link
        }
        _ => RouteScope::Universe,
    };
    Some(Route {
        dst,
        gateway,
        dev: oif.and_then(|i| names.get(&i).cloned()).unwrap_or_default(),
        scope,
    })
}

fn neighbour_of(m: &NeighbourMessage, dev: &str) -> Option<Neighbour> {
    let mut ip = None;
    let mut mac = None;
    for a in &m.attributes {
        match a {
            NeighbourAttribute::Destination(NeighbourAddress::Inet(v4)) => {
                ip = Some(IpAddr::V4(*v4))
            }
            NeighbourAttribute::Destination(NeighbourAddress::Inet6(v6)) => {
                ip = Some(IpAddr::V6(*v6))
            }
            NeighbourAttribute::LinkLayerAddress(b) => mac = MacAddr::from_bytes(b),
            _ => {}
        }
    }
    Some(Neighbour {
        ip: ip?,
        mac: mac?,
        dev: dev.into(),
        permanent: m.header.state == NeighbourState::Permanent,
    })
}

impl NetOps for Kernel {
    fn netns_exists(&self, ns: &Path) -> bool {
        netns_exists(ns)
    }

    fn prepare(&self, namespaces: &[&Path]) {
        for ns in namespaces {
            let _ = self.worker(ns);
        }
    }

    fn create_veth(&self, spec: &VethSpec) -> Result<VethPair> {
        let host_ns_file = open_netns(&spec.host_ns)?;
        let s = spec.clone();
        let (container_index, container_mac) =
            self.nl(&spec.container_ns, move |h, ns| async move {
                let mut peer = LinkMessageBuilder::<LinkUnspec>::new()
                    .name(s.host_if.clone())
                    .setns_by_fd(host_ns_file.as_raw_fd());
                let mut b = LinkVeth::new(&s.container_if, &s.host_if);
                if s.up {
                    b = b.up();
                }
                if let Some(mtu) = s.mtu {
                    peer = peer.mtu(mtu);
                    b = b.mtu(mtu);
                }
                if let Some(mac) = s.host_mac {
                    peer = peer.address(mac.0.to_vec());
                }
                if let Some(mac) = s.container_mac {
                    b = b.address(mac.0.to_vec());
                }
                let msg = b
                    .set_info_data(InfoData::Veth(InfoVeth::Peer(peer.build())))
                    .build();
                h.link().add(msg).execute().await.map_err(|e| {
                    LinuxError::netlink(
                        format!("create veth {} (peer {})", s.container_if, s.host_if),
                        e,
                    )
                })?;
                drop(host_ns_file);
                let m = find_link(&h, &s.container_if).await?.ok_or_else(|| {
                    LinuxError::LinkNotFound {
                        ns: ns.clone(),
                        name: s.container_if.clone(),
                    }
                })?;
                let l = to_link(&m);
                let mac = l.mac.ok_or_else(|| {
                    LinuxError::Invalid(format!("{} has no MAC address", s.container_if))
                })?;
                Ok((l.index, mac))
            })?;
        let host_if = spec.host_if.clone();
        let up = spec.up;
        // The peer cannot be created up in another namespace (the kernel answers ENOTCONN),
        // so it is set up here, from the host namespace.
        let host_index = self.nl(&spec.host_ns, move |h, ns| async move {
            let idx = link_index(&h, &ns, &host_if).await?;
            if up {
                h.link()
                    .set(LinkUnspec::new_with_index(idx).up().build())
                    .execute()
                    .await
                    .map_err(|e| LinuxError::netlink(format!("set {host_if} up"), e))?;
            }
            Ok(idx)
        })?;
        Ok(VethPair {
            container_index,
            container_mac,
            host_index,
        })
    }

    fn link(&self, ns: &Path, name: &str) -> Result<Option<Link>> {
        let name = name.to_string();
        self.nl(ns, move |h, _| async move {
            Ok(find_link(&h, &name).await?.as_ref().map(to_link))
        })
    }

    fn links(&self, ns: &Path) -> Result<Vec<Link>> {
        self.nl(ns, move |h, _| async move { all_links(&h).await })
    }

    fn set_link_up(&self, ns: &Path, name: &str) -> Result<()> {
        let name = name.to_string();
        self.nl(ns, move |h, ns| async move {
            let idx = link_index(&h, &ns, &name).await?;
            h.link()
                .set(LinkUnspec::new_with_index(idx).up().build())
                .execute()
                .await
                .map_err(|e| LinuxError::netlink(format!("set {name} up"), e))
        })
    }

    fn delete_link(&self, ns: &Path, name: &str) -> Result<bool> {
        let name = name.to_string();
        self.nl(ns, move |h, _| async move {
            let Some(m) = find_link(&h, &name).await? else {
                return Ok(false);
            };
            match h.link().del(m.header.index).execute().await {
                Ok(()) => Ok(true),
                Err(e) => {
                    let err = LinuxError::netlink(format!("delete link {name}"), e);
                    if err.errno() == Some(Errno::ENODEV as i32) {
                        Ok(false)
                    } else {
                        Err(err)
                    }
                }
            }
        })
    }

    fn add_address(&self, ns: &Path, link: &str, addr: IpNet) -> Result<()> {
        let link = link.to_string();
        self.nl(ns, move |h, ns| async move {
            let idx = link_index(&h, &ns, &link).await?;
            h.address()
                .add(idx, addr.addr(), addr.prefix_len())
                .execute()
                .await
                .map_err(|e| LinuxError::netlink(format!("add address {addr} to {link}"), e))
        })
    }

    fn addresses(&self, ns: &Path, link: &str) -> Result<Vec<IpNet>> {
        let link = link.to_string();
        self.nl(ns, move |h, ns| async move {
            let idx = link_index(&h, &ns, &link).await?;
            let msgs: Vec<_> = h
                .address()
                .get()
                .set_link_index_filter(idx)
                .execute()
                .try_collect()
                .await
                .map_err(|e| LinuxError::netlink(format!("list addresses of {link}"), e))?;
            let mut out = Vec::new();
            for m in msgs {
                if m.header.index != idx {
                    continue;
                }
                let ip = m.attributes.iter().find_map(|a| match a {
                    AddressAttribute::Address(ip) => Some(*ip),
                    _ => None,
                });
                if let Some(net) = ip.and_then(|ip| IpNet::new(ip, m.header.prefix_len).ok()) {
                    out.push(net);
                }
            }
            Ok(out)
        })
    }

    fn add_route(&self, ns: &Path, route: &Route) -> Result<()> {
        let route = route.clone();
        self.nl(ns, move |h, ns| async move {
            let oif = link_index(&h, &ns, &route.dev).await?;
            h.route()
                .add(route_message(&route, oif)?)
                .execute()
                .await
                .map_err(|e| LinuxError::netlink(format!("add route {route}"), e))
        })
    }

    fn delete_route(&self, ns: &Path, route: &Route) -> Result<bool> {
        let route = route.clone();
        self.nl(ns, move |h, _| async move {
            let Some(link) = find_link(&h, &route.dev).await? else {
                return Ok(false);
            };
            match h
                .route()
                .del(route_message(&route, link.header.index)?)
                .execute()
                .await
            {
                Ok(()) => Ok(true),
                Err(e) => {
                    let err = LinuxError::netlink(format!("delete route {route}"), e);
                    if err.errno() == Some(Errno::ESRCH as i32) {
                        Ok(false)
                    } else {
                        Err(err)
                    }
                }
            }
        })
    }

    fn routes(&self, ns: &Path) -> Result<Vec<Route>> {
        self.nl(ns, move |h, _| async move {
            let names: HashMap<u32, String> = all_links(&h)
                .await?
                .into_iter()
                .map(|l| (l.index, l.name))
                .collect();
            let mut out = Vec::new();
            for family in [AddressFamily::Inet, AddressFamily::Inet6] {
                let mut q = RouteMessageBuilder::<IpAddr>::new().build();
                q.header.address_family = family;
                let msgs: Vec<_> = h
                    .route()
                    .get(q)
                    .execute()
                    .try_collect()
                    .await
                    .map_err(|e| LinuxError::netlink("list routes", e))?;
                out.extend(msgs.iter().filter_map(|m| from_route_message(m, &names)));
            }
            Ok(out)
        })
    }

    fn add_neighbour(&self, ns: &Path, n: &Neighbour) -> Result<()> {
        let n = n.clone();
        self.nl(ns, move |h, ns| async move {
            let idx = link_index(&h, &ns, &n.dev).await?;
            let state = if n.permanent {
                NeighbourState::Permanent
            } else {
                NeighbourState::Reachable
            };
            h.neighbours()
                .add(idx, n.ip)
                .link_layer_address(&n.mac.0)
                .state(state)
                .replace()
                .execute()
                .await
                .map_err(|e| LinuxError::netlink(format!("add neighbour {} on {}", n.ip, n.dev), e))
        })
    }

    fn neighbours(&self, ns: &Path, link: &str) -> Result<Vec<Neighbour>> {
        let link = link.to_string();
        self.nl(ns, move |h, ns| async move {
            let idx = link_index(&h, &ns, &link).await?;
            let msgs: Vec<_> = h
                .neighbours()
                .get()
                .execute()
                .try_collect()
                .await
                .map_err(|e| LinuxError::netlink("list neighbours", e))?;
            Ok(msgs
                .iter()
                .filter(|m| m.header.ifindex == idx)
                .filter_map(|m| neighbour_of(m, &link))
                .collect())
        })
    }

    fn set_sysctl(&self, ns: &Path, key: &str, value: &str) -> Result<()> {
        let path = sysctl_path(key)?;
        let (key, value) = (key.to_string(), value.to_string());
        self.worker(ns)?.run(move |_| {
            std::fs::write(&path, value.as_bytes())
                .map_err(|source| LinuxError::Sysctl { key, source })
        })
    }

    fn set_sysctls(&self, ns: &Path, entries: &[(String, &str)]) -> Result<()> {
        let writes = entries
            .iter()
            .map(|(key, value)| Ok((sysctl_path(key)?, key.clone(), value.to_string())))
            .collect::<Result<Vec<_>>>()?;
        self.worker(ns)?.run(move |_| {
            for (path, key, value) in writes {
                std::fs::write(&path, value.as_bytes())
                    .map_err(|source| LinuxError::Sysctl { key, source })?;
            }
            Ok(())
        })
    }

    fn sysctl(&self, ns: &Path, key: &str) -> Result<String> {
        let path = sysctl_path(key)?;
        let key = key.to_string();
        self.worker(ns)?.run(move |_| {
            std::fs::read_to_string(&path)
                .map(|s| s.trim().to_string())
                .map_err(|source| LinuxError::Sysctl { key, source })
        })
    }
}
