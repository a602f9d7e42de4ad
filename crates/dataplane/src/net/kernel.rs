//! [`NetBackend`] over rtnetlink, run on the namespace thread (a netlink socket belongs to
//! the namespace of the thread that opens it; `/proc/sys/net` to the writing thread's).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use futures::TryStreamExt;
use ipnet::IpNet;
use netlink_packet_route::AddressFamily;
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVxlan, LinkAttribute, LinkInfo, LinkMessage,
};
use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourFlags, NeighbourMessage, NeighbourState,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteHeader, RouteMessage, RouteProtocol, RouteScope,
    RouteType,
};
use rtnetlink::{Handle, LinkVxlan, RouteMessageBuilder};

use super::{FdbSpec, NeighSpec, NetBackend, NetOp, NetState, RouteSpec, VxlanDevice};
use crate::error::{Error, Result};
use crate::nsthread::NsThread;

/// The real kernel, in the dataplane's namespace.
pub struct NetlinkBackend {
    pub(crate) thread: Arc<NsThread>,
}

impl std::fmt::Debug for NetlinkBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NetlinkBackend")
    }
}

fn nl_err(what: impl Into<String>, e: rtnetlink::Error) -> Error {
    let detail = match &e {
        rtnetlink::Error::NetlinkError(m) => match m.code {
            Some(c) => nix::errno::Errno::from_raw(c.get().abs())
                .desc()
                .to_string(),
            None => e.to_string(),
        },
        _ => e.to_string(),
    };
    Error::Netlink {
        what: what.into(),
        detail,
    }
}

fn errno_of(e: &rtnetlink::Error) -> Option<i32> {
    match e {
        rtnetlink::Error::NetlinkError(m) => m.code.map(|c| c.get().abs()),
        _ => None,
    }
}

/// Run an async netlink job with a fresh connection on the namespace thread.
fn with_handle<T, F, Fut>(thread: &NsThread, f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(Handle) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T>>,
{
    thread.run(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .map_err(|e| Error::Netlink {
                what: "tokio runtime".into(),
                detail: e.to_string(),
            })?;
        rt.block_on(async move {
            let (conn, handle, _) = rtnetlink::new_connection().map_err(|e| Error::Netlink {
                what: "open a netlink socket".into(),
                detail: e.to_string(),
            })?;
            let task = tokio::spawn(conn);
            let out = f(handle).await;
            task.abort();
            out
        })
    })?
}

async fn links(h: &Handle) -> Result<Vec<LinkMessage>> {
    h.link()
        .get()
        .execute()
        .try_collect()
        .await
        .map_err(|e| nl_err("list links", e))
}

fn link_name(m: &LinkMessage) -> Option<&str> {
    m.attributes.iter().find_map(|a| match a {
        LinkAttribute::IfName(n) => Some(n.as_str()),
        _ => None,
    })
}

fn vxlan_of(m: &LinkMessage, name: &str) -> Option<VxlanDevice> {
    let mut d = VxlanDevice {
        name: name.into(),
        vni: 0,
        port: 0,
        local: Ipv4Addr::UNSPECIFIED,
        mac: [0; 6],
        mtu: None,
        address: Ipv4Addr::UNSPECIFIED,
    };
    let mut is_vxlan = false;
    for a in &m.attributes {
        match a {
            LinkAttribute::Address(b) if b.len() == 6 => d.mac.copy_from_slice(b),
            LinkAttribute::Mtu(x) => d.mtu = Some(*x),
            LinkAttribute::LinkInfo(infos) => {
                for i in infos {
                    match i {
                        LinkInfo::Kind(InfoKind::Vxlan) => is_vxlan = true,
                        LinkInfo::Data(InfoData::Vxlan(v)) => {
                            for x in v {
                                match x {
                                    InfoVxlan::Id(id) => d.vni = *id,
                                    InfoVxlan::Port(p) => d.port = *p,
                                    InfoVxlan::Local(l) => d.local = *l,
                                    _ => {}
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    is_vxlan.then_some(d)
}

fn route_addr(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(v4) => Some(IpAddr::V4(*v4)),
        RouteAddress::Inet6(v6) => Some(IpAddr::V6(*v6)),
        _ => None,
    }
}

fn route_of(m: &RouteMessage, names: &HashMap<u32, String>) -> Option<RouteSpec> {
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
    if table != u32::from(RouteHeader::RT_TABLE_MAIN) {
        return None;
    }
    let len = m.header.destination_prefix_length;
    let dst = match (dst, m.header.address_family) {
        (Some(d), _) => IpNet::new(d, len).ok()?,
        (None, AddressFamily::Inet) => IpNet::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0).ok()?,
        (None, AddressFamily::Inet6) => IpNet::new(IpAddr::V6(0u128.into()), 0).ok()?,
        _ => return None,
    };
    Some(RouteSpec {
        dst,
        gateway,
        dev: oif.and_then(|i| names.get(&i).cloned()).unwrap_or_default(),
        onlink: m.header.flags.contains(RouteFlags::Onlink),
    })
}

fn route_message(r: &RouteSpec, oif: u32, protocol: u8) -> Result<RouteMessage> {
    let bad = |e: String| Error::Netlink {
        what: format!("route {}", r.dst),
        detail: e,
    };
    let mut b = RouteMessageBuilder::<IpAddr>::new()
        .destination_prefix(r.dst.addr(), r.dst.prefix_len())
        .map_err(|e| bad(e.to_string()))?;
    if let Some(gw) = r.gateway {
        b = b.gateway(gw).map_err(|e| bad(e.to_string()))?;
    }
    let scope = if r.gateway.is_some() {
        RouteScope::Universe
    } else {
        RouteScope::Link
    };
    let mut b = b
        .output_interface(oif)
        .scope(scope)
        .protocol(RouteProtocol::from(protocol));
    if r.onlink {
        b = b.onlink();
    }
    Ok(b.build())
}

async fn observe(h: Handle, protocol: u8, vxlan_dev: String) -> Result<NetState> {
    let mut st = NetState::default();
    let all = links(&h).await?;
    let names: HashMap<u32, String> = all
        .iter()
        .filter_map(|m| link_name(m).map(|n| (m.header.index, n.to_string())))
        .collect();
    let vx = all
        .iter()
        .find(|m| link_name(m) == Some(vxlan_dev.as_str()));
    for family in [AddressFamily::Inet, AddressFamily::Inet6] {
        let mut q = RouteMessageBuilder::<IpAddr>::new().build();
        q.header.address_family = family;
        let msgs: Vec<RouteMessage> = h
            .route()
            .get(q)
            .execute()
            .try_collect()
            .await
            .map_err(|e| nl_err("list routes", e))?;
        st.routes.extend(
            msgs.iter()
                .filter(|m| u8::from(m.header.protocol) == protocol)
                .filter_map(|m| route_of(m, &names)),
        );
    }
    let Some(vx) = vx else {
        return Ok(st);
    };
    let idx = vx.header.index;
    match vxlan_of(vx, &vxlan_dev) {
        Some(mut d) => {
            let addrs: Vec<AddressMessage> = h
                .address()
                .get()
                .set_link_index_filter(idx)
                .execute()
                .try_collect()
                .await
                .map_err(|e| nl_err(format!("list addresses of {vxlan_dev}"), e))?;
            for a in &addrs {
                for attr in &a.attributes {
                    if let AddressAttribute::Address(IpAddr::V4(v4)) = attr
                        && a.header.prefix_len == 32
                    {
                        d.address = *v4;
                    }
                }
            }
            st.vxlan = Some(d);
        }
        None => {
            // A link with our device's name that is not VXLAN: report it so it is replaced.
            st.vxlan = Some(VxlanDevice {
                name: vxlan_dev.clone(),
                vni: 0,
                port: 0,
                local: Ipv4Addr::UNSPECIFIED,
                mac: [0; 6],
                mtu: None,
                address: Ipv4Addr::UNSPECIFIED,
            });
            return Ok(st);
        }
    }
    let neighs: Vec<NeighbourMessage> = h
        .neighbours()
        .get()
        .execute()
        .try_collect()
        .await
        .map_err(|e| nl_err("list neighbours", e))?;
    let mut fdb_q = h.neighbours().get();
    fdb_q.message_mut().header.family = AddressFamily::Bridge;
    let fdbs: Vec<NeighbourMessage> = fdb_q
        .execute()
        .try_collect()
        .await
        .map_err(|e| nl_err("list FDB entries", e))?;
    for m in neighs.iter().chain(fdbs.iter()) {
        if m.header.ifindex != idx {
            continue;
        }
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
                // FDB (AF_BRIDGE) entries carry their VXLAN destination undecoded.
                NeighbourAttribute::Destination(NeighbourAddress::Other(b)) => {
                    ip = match b.len() {
                        4 => <[u8; 4]>::try_from(b.as_slice()).ok().map(IpAddr::from),
                        16 => <[u8; 16]>::try_from(b.as_slice()).ok().map(IpAddr::from),
                        _ => None,
                    }
                }
                NeighbourAttribute::LinkLayerAddress(b) if b.len() == 6 => {
                    let mut x = [0u8; 6];
                    x.copy_from_slice(b);
                    mac = Some(x);
                }
                _ => {}
            }
        }
        let (Some(ip), Some(mac)) = (ip, mac) else {
            continue;
        };
        if m.header.family == AddressFamily::Bridge {
            if let IpAddr::V4(dst) = ip {
                st.fdb.insert(FdbSpec {
                    mac,
                    dst,
                    dev: vxlan_dev.clone(),
                });
            }
        } else if m.header.state == NeighbourState::Permanent {
            st.neighbours.insert(NeighSpec {
                ip,
                mac,
                dev: vxlan_dev.clone(),
            });
        }
    }
    Ok(st)
}

async fn index_of(h: &Handle, name: &str) -> Result<Option<u32>> {
    let mut s = h.link().get().match_name(name.to_string()).execute();
    match s.try_next().await {
        Ok(m) => Ok(m.map(|m| m.header.index)),
        Err(e) if errno_of(&e) == Some(nix::errno::Errno::ENODEV as i32) => Ok(None),
        Err(e) => Err(nl_err(format!("get link {name}"), e)),
    }
}

async fn need_index(h: &Handle, name: &str) -> Result<u32> {
    index_of(h, name).await?.ok_or_else(|| Error::Netlink {
        what: format!("link {name}"),
        detail: "no such device".into(),
    })
}

fn fdb_message(idx: u32, f: &FdbSpec) -> NeighbourMessage {
    let mut m = NeighbourMessage::default();
    m.header.family = AddressFamily::Bridge;
    m.header.ifindex = idx;
    m.header.state = NeighbourState::Permanent;
    m.header.flags = NeighbourFlags::Own;
    m.attributes
        .push(NeighbourAttribute::LinkLayerAddress(f.mac.to_vec()));
    m.attributes
        .push(NeighbourAttribute::Destination(NeighbourAddress::Inet(
            f.dst,
        )));
    m
}

const ESRCH: i32 = nix::errno::Errno::ESRCH as i32;
const ENOENT: i32 = nix::errno::Errno::ENOENT as i32;

async fn run_op(h: &Handle, protocol: u8, op: &NetOp) -> Result<()> {
    match op {
        NetOp::SetSysctl { key, value } => {
            let path = format!("/proc/sys/{key}");
            std::fs::write(&path, value.as_bytes()).map_err(|e| Error::Sysctl {
                key: key.replace('/', "."),
                detail: e.to_string(),
            })
        }
        NetOp::DeleteLink { name } => {
            if let Some(idx) = index_of(h, name).await? {
                h.link()
                    .del(idx)
                    .execute()
                    .await
                    .map_err(|e| nl_err(format!("delete link {name}"), e))?;
            }
            Ok(())
        }
        NetOp::CreateVxlan(d) => {
            let mut b = LinkVxlan::new(&d.name, d.vni)
                .port(d.port)
                .local(d.local)
                .learning(false)
                .address(d.mac.to_vec());
            if let Some(m) = d.mtu {
                b = b.mtu(m);
            }
            h.link().add(b.up().build()).execute().await.map_err(|e| {
                nl_err(
                    format!("create {} (vxlan id {} port {})", d.name, d.vni, d.port),
                    e,
                )
            })?;
            let idx = need_index(h, &d.name).await?;
            h.address()
                .add(idx, IpAddr::V4(d.address), 32)
                .execute()
                .await
                .map_err(|e| nl_err(format!("add {}/32 to {}", d.address, d.name), e))
        }
        NetOp::AddRoute(r) => {
            let idx = need_index(h, &r.dev).await?;
            h.route()
                .add(route_message(r, idx, protocol)?)
                .replace()
                .execute()
                .await
                .map_err(|e| nl_err(format!("add route {} dev {}", r.dst, r.dev), e))
        }
        NetOp::DeleteRoute(r) => {
            let Some(idx) = index_of(h, &r.dev).await? else {
                return Ok(()); // the device, and so the route, is gone
            };
            match h
                .route()
                .del(route_message(r, idx, protocol)?)
                .execute()
                .await
            {
                Ok(()) => Ok(()),
                Err(e) if errno_of(&e) == Some(ESRCH) => Ok(()),
                Err(e) => Err(nl_err(format!("delete route {} dev {}", r.dst, r.dev), e)),
            }
        }
        NetOp::AddNeigh(n) => {
            let idx = need_index(h, &n.dev).await?;
            h.neighbours()
                .add(idx, n.ip)
                .link_layer_address(&n.mac)
                .state(NeighbourState::Permanent)
                .replace()
                .execute()
                .await
                .map_err(|e| nl_err(format!("add neighbour {} on {}", n.ip, n.dev), e))
        }
        NetOp::DeleteNeigh(n) => {
            let Some(idx) = index_of(h, &n.dev).await? else {
                return Ok(());
            };
            let mut m = NeighbourMessage::default();
            m.header.family = match n.ip {
                IpAddr::V4(_) => AddressFamily::Inet,
                IpAddr::V6(_) => AddressFamily::Inet6,
            };
            m.header.ifindex = idx;
            m.attributes
                .push(NeighbourAttribute::Destination(match n.ip {
                    IpAddr::V4(v) => NeighbourAddress::Inet(v),
                    IpAddr::V6(v) => NeighbourAddress::Inet6(v),
                }));
            match h.neighbours().del(m).execute().await {
                Ok(()) => Ok(()),
                Err(e) if errno_of(&e) == Some(ENOENT) => Ok(()),
                Err(e) => Err(nl_err(format!("delete neighbour {} on {}", n.ip, n.dev), e)),
            }
        }
        NetOp::AddFdb(f) => {
            let idx = need_index(h, &f.dev).await?;
            let mut req = h
                .neighbours()
                .add_bridge(idx, &f.mac)
                .destination(IpAddr::V4(f.dst))
                .state(NeighbourState::Permanent)
                .flags(NeighbourFlags::Own)
                .replace();
            req.message_mut().header.kind = RouteType::Unspec;
            req.execute()
                .await
                .map_err(|e| nl_err(format!("add FDB entry dst {} on {}", f.dst, f.dev), e))
        }
        NetOp::DeleteFdb(f) => {
            let Some(idx) = index_of(h, &f.dev).await? else {
                return Ok(());
            };
            match h.neighbours().del(fdb_message(idx, f)).execute().await {
                Ok(()) => Ok(()),
                Err(e) if errno_of(&e) == Some(ENOENT) => Ok(()),
                Err(e) => Err(nl_err(
                    format!("delete FDB entry dst {} on {}", f.dst, f.dev),
                    e,
                )),
            }
        }
    }
}

impl NetBackend for NetlinkBackend {
    fn observe(&mut self, protocol: u8, vxlan_dev: &str) -> Result<NetState> {
        let dev = vxlan_dev.to_string();
        with_handle(&self.thread, move |h| observe(h, protocol, dev))
    }

    fn execute(&mut self, protocol: u8, ops: &[NetOp]) -> Result<Vec<(NetOp, String)>> {
        let ops = ops.to_vec();
        with_handle(&self.thread, move |h| async move {
            let mut failed = Vec::new();
            for op in ops {
                if let Err(e) = run_op(&h, protocol, &op).await {
                    failed.push((op, e.to_string()));
                }
            }
            Ok(failed)
        })
    }
}
