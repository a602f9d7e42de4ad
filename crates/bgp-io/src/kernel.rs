//! Kernel routes of the BGP speaker, through rtnetlink.
//!
//! Every route carries [`BGP_ROUTE_PROTOCOL`] (186, the kernel's `RTPROT_BGP`, shown by `ip`
//! as `proto bgp`). It is deliberately not the dataplane's 80: the dataplane's resync deletes
//! stale routes carrying 80, and this speaker's own resync deletes stale routes carrying 186,
//! so neither ever removes the other's routes. Routes with any other protocol are never read
//! back as ours nor deleted.
//!
//! The [`Netlink`] table must be used on the thread (and so in the network namespace) whose
//! runtime opened it.

use std::collections::HashMap;
use std::net::IpAddr;

use futures::TryStreamExt;
use ipnet::IpNet;
use netlink_packet_route::AddressFamily;
use netlink_packet_route::link::{LinkAttribute, LinkMessage};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteHeader, RouteMessage, RouteProtocol, RouteScope,
};
use rtnetlink::{Handle, RouteMessageBuilder};

use crate::routes::RouteSpec;

/// `RTPROT_BGP`.
pub const BGP_ROUTE_PROTOCOL: u8 = 186;

/// A kernel failure, naming the route or object.
#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    #[error("{what}: {detail}")]
    Netlink { what: String, detail: String },
    #[error("route {dst} via {gateway}: device {dev} does not exist")]
    NoDevice {
        dst: IpNet,
        gateway: IpAddr,
        dev: String,
    },
}

/// Where the speaker's routes go: the kernel ([`Netlink`]) or a recording fake ([`Fake`]).
pub trait RouteTable {
    /// Add or replace the route to `r.dst`.
    fn replace(&mut self, r: &RouteSpec) -> impl Future<Output = Result<(), KernelError>>;
    /// Remove the route to `dst` if it is ours (absent is fine).
    fn delete(&mut self, dst: IpNet) -> impl Future<Output = Result<(), KernelError>>;
    /// Our routes currently in the main table.
    fn list(&mut self) -> impl Future<Output = Result<Vec<RouteSpec>, KernelError>>;
}

/// The kernel's main table in the current thread's namespace.
#[derive(Debug)]
pub struct Netlink {
    handle: Handle,
    protocol: u8,
}

fn nl_err(what: impl Into<String>, e: rtnetlink::Error) -> KernelError {
    let detail = match &e {
        rtnetlink::Error::NetlinkError(m) => match m.code {
            Some(c) => nix::errno::Errno::from_raw(c.get().abs())
                .desc()
                .to_string(),
            None => e.to_string(),
        },
        _ => e.to_string(),
    };
    KernelError::Netlink {
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

fn route_addr(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(v4) => Some(IpAddr::V4(*v4)),
        RouteAddress::Inet6(v6) => Some(IpAddr::V6(*v6)),
        _ => None,
    }
}

fn link_name(m: &LinkMessage) -> Option<&str> {
    m.attributes.iter().find_map(|a| match a {
        LinkAttribute::IfName(n) => Some(n.as_str()),
        _ => None,
    })
}

impl Netlink {
    /// Open a netlink connection on the current runtime (spawns its task) with `protocol`
    /// (normally [`BGP_ROUTE_PROTOCOL`]).
    pub fn open(protocol: u8) -> Result<Self, KernelError> {
        let (conn, handle, _) = rtnetlink::new_connection().map_err(|e| KernelError::Netlink {
            what: "open a netlink socket".into(),
            detail: e.to_string(),
        })?;
        tokio::spawn(conn);
        Ok(Self { handle, protocol })
    }

    async fn links(&self) -> Result<HashMap<u32, String>, KernelError> {
        let v: Vec<LinkMessage> = self
            .handle
            .link()
            .get()
            .execute()
            .try_collect()
            .await
            .map_err(|e| nl_err("list links", e))?;
        Ok(v.iter()
            .filter_map(|m| link_name(m).map(|n| (m.header.index, n.to_owned())))
            .collect())
    }

    async fn index_of(&self, name: &str) -> Result<Option<u32>, KernelError> {
        Ok(self
            .links()
            .await?
            .into_iter()
            .find(|(_, n)| n == name)
            .map(|(i, _)| i))
    }

    fn message(&self, r: &RouteSpec, oif: u32) -> Result<RouteMessage, KernelError> {
        let bad = |e: String| KernelError::Netlink {
            what: format!("route {}", r.dst),
            detail: e,
        };
        let mut b = RouteMessageBuilder::<IpAddr>::new()
            .destination_prefix(r.dst.addr(), r.dst.prefix_len())
            .map_err(|e| bad(e.to_string()))?
            .gateway(r.gateway)
            .map_err(|e| bad(e.to_string()))?
            .output_interface(oif)
            .scope(RouteScope::Universe)
            .protocol(RouteProtocol::from(self.protocol));
        if r.onlink {
            b = b.onlink();
        }
        Ok(b.build())
    }

    /// This namespace's addresses with their interfaces (loopback excluded), for the route
    /// decision.
    pub async fn local_subnets(&mut self) -> Result<Vec<crate::routes::LocalSubnet>, KernelError> {
        use netlink_packet_route::address::{AddressAttribute, AddressMessage};
        let names = self.links().await?;
        let msgs: Vec<AddressMessage> = self
            .handle
            .address()
            .get()
            .execute()
            .try_collect()
            .await
            .map_err(|e| nl_err("list addresses", e))?;
        let mut out = Vec::new();
        for m in msgs {
            let Some(dev) = names.get(&m.header.index) else {
                continue;
            };
            if dev == "lo" {
                continue;
            }
            let addr = m.attributes.iter().find_map(|a| match a {
                AddressAttribute::Local(a) => Some(*a),
                _ => None,
            });
            let addr = addr.or_else(|| {
                m.attributes.iter().find_map(|a| match a {
                    AddressAttribute::Address(a) => Some(*a),
                    _ => None,
                })
            });
            if let Some(a) = addr
                && let Ok(net) = IpNet::new(a, m.header.prefix_len)
            {
                out.push(crate::routes::LocalSubnet {
                    net,
                    dev: dev.clone(),
                });
            }
        }
        Ok(out)
    }

    /// Add or replace a blackhole route to `dst` (Calico's `route <block> blackhole` for
    /// every block affine to the node: traffic to an unassigned address of a local block is
    /// dropped here instead of following the default route).
    pub async fn replace_blackhole(&mut self, dst: IpNet) -> Result<(), KernelError> {
        let bad = |e: String| KernelError::Netlink {
            what: format!("blackhole route {dst}"),
            detail: e,
        };
        let mut m = RouteMessageBuilder::<IpAddr>::new()
            .destination_prefix(dst.addr(), dst.prefix_len())
            .map_err(|e| bad(e.to_string()))?
            .protocol(RouteProtocol::from(self.protocol))
            .build();
        m.header.kind = netlink_packet_route::route::RouteType::BlackHole;
        self.handle
            .route()
            .add(m)
            .replace()
            .execute()
            .await
            .map_err(|e| nl_err(format!("add blackhole route {dst}"), e))
    }

    /// The destinations of all our routes (blackholes included).
    pub async fn destinations(&self) -> Result<Vec<IpNet>, KernelError> {
        Ok(self.ours().await?.iter().filter_map(dst_of).collect())
    }

    async fn ours(&self) -> Result<Vec<RouteMessage>, KernelError> {
        let mut out = Vec::new();
        for family in [AddressFamily::Inet, AddressFamily::Inet6] {
            let mut q = RouteMessageBuilder::<IpAddr>::new().build();
            q.header.address_family = family;
            let msgs: Vec<RouteMessage> = self
                .handle
                .route()
                .get(q)
                .execute()
                .try_collect()
                .await
                .map_err(|e| nl_err("list routes", e))?;
            out.extend(msgs.into_iter().filter(|m| {
                u8::from(m.header.protocol) == self.protocol
                    && m.header.table == RouteHeader::RT_TABLE_MAIN
            }));
        }
        Ok(out)
    }
}

fn dst_of(m: &RouteMessage) -> Option<IpNet> {
    let dst = m.attributes.iter().find_map(|a| match a {
        RouteAttribute::Destination(d) => route_addr(d),
        _ => None,
    })?;
    IpNet::new(dst, m.header.destination_prefix_length).ok()
}

fn spec_of(m: &RouteMessage, names: &HashMap<u32, String>) -> Option<RouteSpec> {
    let (mut dst, mut gateway, mut oif) = (None, None, None);
    for a in &m.attributes {
        match a {
            RouteAttribute::Destination(d) => dst = route_addr(d),
            RouteAttribute::Gateway(g) => gateway = route_addr(g),
            RouteAttribute::Oif(i) => oif = Some(*i),
            _ => {}
        }
    }
    let dst = IpNet::new(dst?, m.header.destination_prefix_length).ok()?;
    Some(RouteSpec {
        dst,
        gateway: gateway?,
        dev: oif.and_then(|i| names.get(&i).cloned()).unwrap_or_default(),
        onlink: m.header.flags.contains(RouteFlags::Onlink),
    })
}

impl RouteTable for Netlink {
    async fn replace(&mut self, r: &RouteSpec) -> Result<(), KernelError> {
        let idx = self
            .index_of(&r.dev)
            .await?
            .ok_or_else(|| KernelError::NoDevice {
                dst: r.dst,
                gateway: r.gateway,
                dev: r.dev.clone(),
            })?;
        self.handle
            .route()
            .add(self.message(r, idx)?)
            .replace()
            .execute()
            .await
            .map_err(|e| {
                nl_err(
                    format!("add route {} via {} dev {}", r.dst, r.gateway, r.dev),
                    e,
                )
            })
    }

    /// One request, without listing the table: the kernel deletes the route to `dst` in the
    /// main table only when its protocol is ours (any type, so blackholes too; any scope).
    async fn delete(&mut self, dst: IpNet) -> Result<(), KernelError> {
        let bad = |e: String| KernelError::Netlink {
            what: format!("delete route {dst}"),
            detail: e,
        };
        let mut m = RouteMessageBuilder::<IpAddr>::new()
            .destination_prefix(dst.addr(), dst.prefix_len())
            .map_err(|e| bad(e.to_string()))?
            .protocol(RouteProtocol::from(self.protocol))
            .scope(RouteScope::NoWhere)
            .build();
        m.header.kind = netlink_packet_route::route::RouteType::Unspec;
        match self.handle.route().del(m).execute().await {
            Ok(()) => Ok(()),
            Err(e) if errno_of(&e) == Some(nix::libc::ESRCH) => Ok(()),
            Err(e) => Err(nl_err(format!("delete route {dst}"), e)),
        }
    }

    async fn list(&mut self) -> Result<Vec<RouteSpec>, KernelError> {
        let names = self.links().await?;
        Ok(self
            .ours()
            .await?
            .iter()
            .filter_map(|m| spec_of(m, &names))
            .collect())
    }
}

/// An in-memory table recording what was asked of it.
#[derive(Debug, Default)]
pub struct Fake {
    pub routes: std::collections::BTreeMap<IpNet, RouteSpec>,
    pub calls: Vec<String>,
    /// Devices that exist (an empty list means all do).
    pub devices: Vec<String>,
}

impl RouteTable for Fake {
    async fn replace(&mut self, r: &RouteSpec) -> Result<(), KernelError> {
        self.calls
            .push(format!("replace {} via {} dev {}", r.dst, r.gateway, r.dev));
        if !self.devices.is_empty() && !self.devices.contains(&r.dev) {
            return Err(KernelError::NoDevice {
                dst: r.dst,
                gateway: r.gateway,
                dev: r.dev.clone(),
            });
        }
        self.routes.insert(r.dst, r.clone());
        Ok(())
    }
    async fn delete(&mut self, dst: IpNet) -> Result<(), KernelError> {
        self.calls.push(format!("delete {dst}"));
        self.routes.remove(&dst);
        Ok(())
    }
    async fn list(&mut self) -> Result<Vec<RouteSpec>, KernelError> {
        Ok(self.routes.values().cloned().collect())
    }
}
