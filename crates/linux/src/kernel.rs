//! [`Kernel`]: [`NetOps`] over rtnetlink, with one blocking netlink socket per namespace.
//!
//! A netlink socket acts in the network namespace of the thread that created it, whichever
//! thread uses it later. The socket of a namespace the calling thread is already in (the
//! node's, for the CNI plugin) is opened right there; for any other namespace a worker thread
//! enters it, opens the socket and hands it back, and stays to write that namespace's sysctls
//! (`/proc/sys/net` shows the namespace of the thread that opens the file). Requests are then
//! plain send/receive calls from the caller's thread; requests to one namespace take turns,
//! requests to different namespaces run in parallel.

use std::collections::HashMap;
use std::fs::File;
use std::net::IpAddr;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use ipnet::IpNet;
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
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use nix::errno::Errno;
use rtnetlink::packet_core::{NLM_F_CREATE, NLM_F_DUMP, NLM_F_ECHO, NLM_F_EXCL, NLM_F_REPLACE};
use rtnetlink::{
    AddressMessageBuilder, LinkMessageBuilder, LinkUnspec, LinkVeth, RouteMessageBuilder,
};

use crate::netns::open_netns_file;
use crate::nl::{NlError, NlSocket};
use crate::worker::{SocketReply, Worker};
use crate::{
    Link, LinuxError, MacAddr, Neighbour, NetOps, Result, Route, RouteScope, VethPair, VethSpec,
    sysctl_path,
};

const CREATE: u16 = NLM_F_CREATE | NLM_F_EXCL;

/// The real kernel. A namespace's socket (and worker thread, if it needs one) is opened on
/// first use and closed on drop (or [`Kernel::release`]), so drop a `Kernel` before expecting
/// a namespace it touched to disappear.
#[derive(Default)]
pub struct Kernel {
    namespaces: Mutex<HashMap<PathBuf, Arc<Ns>>>,
}

impl std::fmt::Debug for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Kernel")
    }
}

/// Identity of a network namespace: the device and inode of its nsfs file.
type NsId = (u64, u64);

/// The calling thread's network namespace.
fn current_netns() -> Option<NsId> {
    std::fs::metadata("/proc/thread-self/ns/net")
        .ok()
        .map(|m| (m.dev(), m.ino()))
}

enum Sock {
    Unopened,
    /// A worker is opening it.
    Pending(SocketReply),
    Ready(NlSocket),
    Failed(String),
}

/// One namespace: its handle, its socket, and its worker (only for a namespace other than the
/// caller's).
struct Ns {
    path: PathBuf,
    file: File,
    id: NsId,
    sock: Mutex<Sock>,
    worker: Mutex<Option<Worker>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Ns {
    fn open(path: &Path) -> Result<Self> {
        let file = open_netns_file(path)?;
        let meta = file.metadata().map_err(|source| LinuxError::Netns {
            path: path.into(),
            source,
        })?;
        Ok(Ns {
            path: path.into(),
            file,
            id: (meta.dev(), meta.ino()),
            sock: Mutex::new(Sock::Unopened),
            worker: Mutex::new(None),
        })
    }

    /// Whether the calling thread is in this namespace.
    fn is_current(&self) -> bool {
        current_netns() == Some(self.id)
    }

    /// Start the worker if there is none; returns the socket reply of a new worker.
    fn start_worker(&self, worker: &mut Option<Worker>) -> Result<Option<SocketReply>> {
        if worker.is_some() {
            return Ok(None);
        }
        let file = self.file.try_clone().map_err(|source| LinuxError::Netns {
            path: self.path.clone(),
            source,
        })?;
        let (w, reply) = Worker::spawn(&self.path, file)?;
        *worker = Some(w);
        Ok(Some(reply))
    }

    /// Begin opening the socket in the background (a worker), unless the caller is in the
    /// namespace (then it is opened on first use, which is cheap).
    fn prepare(&self) {
        let mut sock = lock(&self.sock);
        if !matches!(*sock, Sock::Unopened) || self.is_current() {
            return;
        }
        if let Ok(Some(reply)) = self.start_worker(&mut lock(&self.worker)) {
            *sock = Sock::Pending(reply);
        }
    }

    /// The namespace's socket, opened if need be, held for one or more requests.
    fn socket(&self) -> Result<SockGuard<'_>> {
        let mut sock = lock(&self.sock);
        if matches!(*sock, Sock::Unopened) {
            *sock = if self.is_current() {
                match NlSocket::open() {
                    Ok(s) => Sock::Ready(s),
                    Err(e) => Sock::Failed(format!("netlink socket: {e}")),
                }
            } else {
                match self.start_worker(&mut lock(&self.worker))? {
                    Some(reply) => Sock::Pending(reply),
                    None => Sock::Failed("the namespace worker has no socket".into()),
                }
            };
        }
        if let Sock::Pending(reply) = &*sock {
            *sock = match reply.recv() {
                Ok(Ok(s)) => Sock::Ready(s),
                Ok(Err(e)) => Sock::Failed(e.to_string()),
                Err(_) => Sock::Failed("the namespace worker stopped".into()),
            };
        }
        match &*sock {
            Sock::Ready(_) => Ok(SockGuard {
                guard: sock,
                ns: &self.path,
            }),
            Sock::Failed(e) => Err(LinuxError::Worker(format!(
                "network namespace {}: {e}",
                self.path.display()
            ))),
            Sock::Unopened | Sock::Pending(_) => Err(LinuxError::Worker(format!(
                "network namespace {}: no netlink socket",
                self.path.display()
            ))),
        }
    }

    /// Run `f` inside the namespace: right here when the caller is in it, else on the worker.
    fn inside<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T> + Send + 'static,
    {
        if self.is_current() {
            return f();
        }
        {
            let worker = lock(&self.worker);
            if let Some(w) = worker.as_ref() {
                return w.run(f);
            }
        }
        {
            // Same lock order as `socket`: the socket's state, then the worker.
            let mut sock = lock(&self.sock);
            let mut worker = lock(&self.worker);
            if let Some(reply) = self.start_worker(&mut worker)? {
                // The socket was not asked for yet: keep the worker's answer for when it is.
                if matches!(*sock, Sock::Unopened) {
                    *sock = Sock::Pending(reply);
                }
            }
        }
        match lock(&self.worker).as_ref() {
            Some(w) => w.run(f),
            None => Err(LinuxError::Worker("no namespace worker".into())),
        }
    }
}

/// A namespace's socket, locked for the caller.
struct SockGuard<'a> {
    guard: MutexGuard<'a, Sock>,
    ns: &'a Path,
}

impl SockGuard<'_> {
    fn request(
        &mut self,
        msg: RouteNetlinkMessage,
        flags: u16,
    ) -> std::result::Result<Vec<RouteNetlinkMessage>, NlError> {
        match &mut *self.guard {
            Sock::Ready(s) => s.request(msg, flags),
            _ => Err(NlError::Other("no netlink socket".into())),
        }
    }

    /// The link called `name`, if any.
    fn find_link(&mut self, name: &str) -> Result<Option<LinkMessage>> {
        let msg = LinkUnspec::new_with_name(name).build();
        match self.request(RouteNetlinkMessage::GetLink(msg), 0) {
            Ok(answers) => Ok(answers.into_iter().find_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => Some(l),
                _ => None,
            })),
            Err(NlError::Errno(n)) if n == Errno::ENODEV as i32 => Ok(None),
            Err(e) => Err(e.into_linux(format!("get link {name}"))),
        }
    }

    fn link_index(&mut self, name: &str) -> Result<u32> {
        match self.find_link(name)? {
            Some(m) => Ok(m.header.index),
            None => Err(LinuxError::LinkNotFound {
                ns: self.ns.into(),
                name: name.into(),
            }),
        }
    }

    fn all_links(&mut self) -> Result<Vec<Link>> {
        let answers = self
            .request(
                RouteNetlinkMessage::GetLink(LinkMessage::default()),
                NLM_F_DUMP,
            )
            .map_err(|e| e.into_linux("list links"))?;
        Ok(answers
            .iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => Some(to_link(l)),
                _ => None,
            })
            .collect())
    }

    /// Set the link `name` up. A missing link is [`LinuxError::LinkNotFound`].
    fn set_up(&mut self, name: &str) -> Result<()> {
        let msg = LinkUnspec::new_with_name(name).up().build();
        match self.request(RouteNetlinkMessage::SetLink(msg), 0) {
            Ok(_) => Ok(()),
            Err(NlError::Errno(n)) if n == Errno::ENODEV as i32 => Err(LinuxError::LinkNotFound {
                ns: self.ns.into(),
                name: name.into(),
            }),
            Err(e) => Err(e.into_linux(format!("set {name} up"))),
        }
    }

    fn add_address(&mut self, link: &str, index: u32, addr: IpNet) -> Result<()> {
        let msg = match addr.addr() {
            IpAddr::V4(a) => AddressMessageBuilder::<std::net::Ipv4Addr>::new()
                .index(index)
                .address(a, addr.prefix_len())
                .build(),
            IpAddr::V6(a) => AddressMessageBuilder::<std::net::Ipv6Addr>::new()
                .index(index)
                .address(a, addr.prefix_len())
                .build(),
        };
        self.request(RouteNetlinkMessage::NewAddress(msg), CREATE)
            .map(|_| ())
            .map_err(|e| e.into_linux(format!("add address {addr} to {link}")))
    }

    fn add_route(&mut self, route: &Route, oif: u32) -> Result<()> {
        self.request(
            RouteNetlinkMessage::NewRoute(route_message(route, oif)?),
            CREATE,
        )
        .map(|_| ())
        .map_err(|e| e.into_linux(format!("add route {route}")))
    }

    /// Delete the link `name`; `Ok(false)` when there is none.
    fn delete(&mut self, name: &str) -> Result<bool> {
        let msg = LinkUnspec::new_with_name(name).build();
        match self.request(RouteNetlinkMessage::DelLink(msg), 0) {
            Ok(_) => Ok(true),
            Err(NlError::Errno(n)) if n == Errno::ENODEV as i32 => Ok(false),
            Err(e) => Err(e.into_linux(format!("delete link {name}"))),
        }
    }
}

impl Kernel {
    pub fn new() -> Self {
        Self::default()
    }

    fn ns(&self, path: &Path) -> Result<Arc<Ns>> {
        let mut map = lock(&self.namespaces);
        if let Some(ns) = map.get(path) {
            return Ok(ns.clone());
        }
        let ns = Arc::new(Ns::open(path)?);
        map.insert(path.to_path_buf(), ns.clone());
        Ok(ns)
    }

    /// Close the socket (and stop the worker) of `ns`, if any, so the namespace is no longer
    /// held by this process.
    pub fn release(&self, ns: &Path) {
        let gone = lock(&self.namespaces).remove(ns);
        drop(gone);
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
        crate::netns::netns_exists(ns)
    }

    fn prepare(&self, namespaces: &[&Path]) {
        for ns in namespaces {
            if let Ok(ns) = self.ns(ns) {
                ns.prepare();
            }
        }
    }

    fn create_veth(&self, spec: &VethSpec) -> Result<VethPair> {
        let host = self.ns(&spec.host_ns)?;
        let cont = self.ns(&spec.container_ns)?;
        // Created from the host's namespace: the host end is the device created (up at once
        // when asked), the container end its peer, created in the container's namespace. A
        // veth peer cannot be created up (it is opened before the pair is joined: ENOTCONN),
        // so the container end is set up afterwards, from its own namespace.
        let mut peer = LinkMessageBuilder::<LinkUnspec>::new()
            .name(spec.container_if.clone())
            .setns_by_fd(cont.file.as_raw_fd());
        let mut b = LinkVeth::new(&spec.host_if, &spec.container_if);
        if spec.up {
            b = b.up();
        }
        if let Some(mtu) = spec.mtu {
            peer = peer.mtu(mtu);
            b = b.mtu(mtu);
        }
        if let Some(mac) = spec.host_mac {
            b = b.address(mac.0.to_vec());
        }
        if let Some(mac) = spec.container_mac {
            peer = peer.address(mac.0.to_vec());
        }
        let msg = b
            .set_info_data(InfoData::Veth(InfoVeth::Peer(peer.build())))
            .build();
        let mut hs = host.socket()?;
        // NLM_F_ECHO: the kernel answers with the new link (its index), where supported.
        let answers = hs
            .request(RouteNetlinkMessage::NewLink(msg), CREATE | NLM_F_ECHO)
            .map_err(|e| {
                e.into_linux(format!(
                    "create veth {} (peer {})",
                    spec.container_if, spec.host_if
                ))
            })?;
        let echoed = answers.iter().find_map(|m| match m {
            RouteNetlinkMessage::NewLink(l) if to_link(l).name == spec.host_if => {
                Some(l.header.index)
            }
            _ => None,
        });
        let finish = |hs: &mut SockGuard<'_>| -> Result<VethPair> {
            let host_index = match echoed {
                Some(i) => i,
                None => hs.link_index(&spec.host_if)?,
            };
            let mut cs = cont.socket()?;
            if spec.up {
                cs.set_up(&spec.container_if)?;
            }
            let l = cs
                .find_link(&spec.container_if)?
                .map(|m| to_link(&m))
                .ok_or_else(|| LinuxError::LinkNotFound {
                    ns: spec.container_ns.clone(),
                    name: spec.container_if.clone(),
                })?;
            let container_mac = l.mac.ok_or_else(|| {
                LinuxError::Invalid(format!("{} has no MAC address", spec.container_if))
            })?;
            Ok(VethPair {
                container_index: l.index,
                container_mac,
                host_index,
            })
        };
        let res = finish(&mut hs);
        if res.is_err() {
            // Leave nothing half made: deleting one end deletes both.
            let _ = hs.delete(&spec.host_if);
        }
        res
    }

    fn link(&self, ns: &Path, name: &str) -> Result<Option<Link>> {
        let ns = self.ns(ns)?;
        let mut s = ns.socket()?;
        Ok(s.find_link(name)?.as_ref().map(to_link))
    }

    fn links(&self, ns: &Path) -> Result<Vec<Link>> {
        self.ns(ns)?.socket()?.all_links()
    }

    fn set_link_up(&self, ns: &Path, name: &str) -> Result<()> {
        self.ns(ns)?.socket()?.set_up(name)
    }

    fn delete_link(&self, ns: &Path, name: &str) -> Result<bool> {
        self.ns(ns)?.socket()?.delete(name)
    }

    fn add_address(&self, ns: &Path, link: &str, addr: IpNet) -> Result<()> {
        let ns = self.ns(ns)?;
        let mut s = ns.socket()?;
        let idx = s.link_index(link)?;
        s.add_address(link, idx, addr)
    }

    fn add_address_at(&self, ns: &Path, link: &str, index: u32, addr: IpNet) -> Result<()> {
        self.ns(ns)?.socket()?.add_address(link, index, addr)
    }

    fn addresses(&self, ns: &Path, link: &str) -> Result<Vec<IpNet>> {
        let ns = self.ns(ns)?;
        let mut s = ns.socket()?;
        let idx = s.link_index(link)?;
        let answers = s
            .request(
                RouteNetlinkMessage::GetAddress(Default::default()),
                NLM_F_DUMP,
            )
            .map_err(|e| e.into_linux(format!("list addresses of {link}")))?;
        let mut out = Vec::new();
        for m in answers {
            let RouteNetlinkMessage::NewAddress(m) = m else {
                continue;
            };
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
    }

    fn add_route(&self, ns: &Path, route: &Route) -> Result<()> {
        let ns = self.ns(ns)?;
        let mut s = ns.socket()?;
        let oif = s.link_index(&route.dev)?;
        s.add_route(route, oif)
    }

    fn add_route_at(&self, ns: &Path, route: &Route, index: u32) -> Result<()> {
        self.ns(ns)?.socket()?.add_route(route, index)
    }

    fn delete_route(&self, ns: &Path, route: &Route) -> Result<bool> {
        let ns = self.ns(ns)?;
        let mut s = ns.socket()?;
        let Some(link) = s.find_link(&route.dev)? else {
            return Ok(false);
        };
        match s.request(
            RouteNetlinkMessage::DelRoute(route_message(route, link.header.index)?),
            0,
        ) {
            Ok(_) => Ok(true),
            Err(NlError::Errno(n)) if n == Errno::ESRCH as i32 => Ok(false),
            Err(e) => Err(e.into_linux(format!("delete route {route}"))),
        }
    }

    fn routes(&self, ns: &Path) -> Result<Vec<Route>> {
        let ns = self.ns(ns)?;
        let mut s = ns.socket()?;
        let names: HashMap<u32, String> = s
            .all_links()?
            .into_iter()
            .map(|l| (l.index, l.name))
            .collect();
        let mut out = Vec::new();
        for family in [AddressFamily::Inet, AddressFamily::Inet6] {
            let mut q = RouteMessageBuilder::<IpAddr>::new().build();
            q.header.address_family = family;
            let answers = s
                .request(RouteNetlinkMessage::GetRoute(q), NLM_F_DUMP)
                .map_err(|e| e.into_linux("list routes"))?;
            out.extend(answers.iter().filter_map(|m| match m {
                RouteNetlinkMessage::NewRoute(r) => from_route_message(r, &names),
                _ => None,
            }));
        }
        Ok(out)
    }

    fn add_neighbour(&self, ns: &Path, n: &Neighbour) -> Result<()> {
        let ns = self.ns(ns)?;
        let mut s = ns.socket()?;
        let idx = s.link_index(&n.dev)?;
        let mut msg = NeighbourMessage::default();
        msg.header.family = match n.ip {
            IpAddr::V4(_) => AddressFamily::Inet,
            IpAddr::V6(_) => AddressFamily::Inet6,
        };
        msg.header.ifindex = idx;
        msg.header.state = if n.permanent {
            NeighbourState::Permanent
        } else {
            NeighbourState::Reachable
        };
        msg.header.kind = RouteType::Unspec;
        msg.attributes
            .push(NeighbourAttribute::Destination(match n.ip {
                IpAddr::V4(v4) => NeighbourAddress::Inet(v4),
                IpAddr::V6(v6) => NeighbourAddress::Inet6(v6),
            }));
        msg.attributes
            .push(NeighbourAttribute::LinkLayerAddress(n.mac.0.to_vec()));
        s.request(
            RouteNetlinkMessage::NewNeighbour(msg),
            NLM_F_CREATE | NLM_F_REPLACE,
        )
        .map(|_| ())
        .map_err(|e| e.into_linux(format!("add neighbour {} on {}", n.ip, n.dev)))
    }

    fn neighbours(&self, ns: &Path, link: &str) -> Result<Vec<Neighbour>> {
        let ns = self.ns(ns)?;
        let mut s = ns.socket()?;
        let idx = s.link_index(link)?;
        let answers = s
            .request(
                RouteNetlinkMessage::GetNeighbour(NeighbourMessage::default()),
                NLM_F_DUMP,
            )
            .map_err(|e| e.into_linux("list neighbours"))?;
        Ok(answers
            .iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewNeighbour(m) if m.header.ifindex == idx => {
                    neighbour_of(m, link)
                }
                _ => None,
            })
            .collect())
    }

    fn set_sysctl(&self, ns: &Path, key: &str, value: &str) -> Result<()> {
        let path = sysctl_path(key)?;
        let (key, value) = (key.to_string(), value.to_string());
        self.ns(ns)?.inside(move || {
            std::fs::write(&path, value.as_bytes())
                .map_err(|source| LinuxError::Sysctl { key, source })
        })
    }

    fn set_sysctls(&self, ns: &Path, entries: &[(String, &str)]) -> Result<()> {
        let writes = entries
            .iter()
            .map(|(key, value)| Ok((sysctl_path(key)?, key.clone(), value.to_string())))
            .collect::<Result<Vec<_>>>()?;
        self.ns(ns)?.inside(move || {
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
        self.ns(ns)?.inside(move || {
            std::fs::read_to_string(&path)
                .map(|s| s.trim().to_string())
                .map_err(|source| LinuxError::Sysctl { key, source })
        })
    }
}
