//! What a path looks like when sent to one peer (RFC 4271 §9.2, RFC 4456), and the policy
//! hooks the speaker applies on import and export.

use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

use crate::rib::{Path, Source};
use crate::wire::{MpReach, PathAttributes, community, flags};

/// How the next hop is chosen for routes sent to a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NextHopMode {
    /// BGP's default: self towards eBGP peers and for local routes; unchanged for routes
    /// passed between iBGP peers.
    #[default]
    Auto,
    /// Always self (Calico `nextHopMode: Self`).
    SelfAlways,
    /// Never change a learned next hop (Calico `keepOriginalNextHop` / `nextHopMode: Keep`).
    Keep,
}

/// The facts about a peer that export and import rules need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerView {
    pub address: IpAddr,
    pub remote_as: u32,
    pub local_as: u32,
    pub ebgp: bool,
    pub rr_client: bool,
    pub next_hop_mode: NextHopMode,
    /// Our address for next-hop-self, per family.
    pub self_v4: Option<Ipv4Addr>,
    pub self_v6: Option<std::net::Ipv6Addr>,
}

/// Import/export filters (Calico's BGPFilter rules plug in here). Both may edit the
/// attributes; returning false rejects the route. After replacing the policy with
/// [`Speaker::set_policy`](crate::speaker::Speaker::set_policy), call
/// [`Speaker::policy_changed`](crate::speaker::Speaker::policy_changed) to re-apply it to
/// routes already exchanged.
pub trait RoutePolicy: Send {
    /// A route received from `peer`; `attrs` are as received (without NEXT_HOP / MP_REACH).
    fn import(&self, _peer: &PeerView, _prefix: &IpNet, _attrs: &mut PathAttributes) -> bool {
        true
    }
    /// A route about to be advertised to `peer`, with the attributes it will carry
    /// (next hop and AS_PATH prepend already applied). `learned_from` is `None` for a
    /// route this speaker originates, `Some(address)` for one learned from that peer.
    fn export(
        &self,
        _peer: &PeerView,
        _prefix: &IpNet,
        _attrs: &mut PathAttributes,
        _learned_from: Option<IpAddr>,
    ) -> bool {
        true
    }
}

/// Accept everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct AcceptAll;
impl RoutePolicy for AcceptAll {}

/// Route-reflection settings of the local speaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalView {
    pub router_id: Ipv4Addr,
    /// Set when this speaker is a route reflector.
    pub cluster_id: Option<Ipv4Addr>,
}

/// The attributes to advertise `path` for `prefix` with to `peer` (next hop included: in
/// NEXT_HOP for IPv4, in an NLRI-less MP_REACH_NLRI for IPv6), or `None` when it must not
/// be sent. Policy is applied by the caller.
pub fn export_attrs(
    local: &LocalView,
    peer: &PeerView,
    prefix: &IpNet,
    path: &Path,
) -> Option<PathAttributes> {
    if path.source == Source::Peer(peer.address) {
        return None;
    }
    let learned = path.source != Source::Local;
    let comms = &path.attrs.communities;
    if comms.contains(&community::NO_ADVERTISE) {
        return None;
    }
    if peer.ebgp
        && (comms.contains(&community::NO_EXPORT)
            || comms.contains(&community::NO_EXPORT_SUBCONFED))
    {
        return None;
    }
    let reflected = learned && !path.ebgp && !peer.ebgp;
    if reflected {
        // iBGP → iBGP only through a route reflector: client routes go to everyone,
        // non-client routes only to clients.
        local.cluster_id?;
        if !path.from_rr_client && !peer.rr_client {
            return None;
        }
    }
    let mut a = (*path.attrs).clone();
    a.next_hop = None;
    a.mp_reach = None;
    a.mp_unreach = None;
    for u in &mut a.unknown {
        u.flags |= flags::PARTIAL;
    }
    if peer.ebgp {
        let mut p = a.as_path.take().unwrap_or_default();
        p.prepend(peer.local_as);
        a.as_path = Some(p);
        a.local_pref = None;
        a.originator_id = None;
        a.cluster_list.clear();
        if learned {
            a.med = None;
        }
    } else {
        a.as_path.get_or_insert_with(Default::default);
        a.local_pref = Some(a.local_pref.unwrap_or(100));
        if reflected && let Some(cluster) = local.cluster_id {
            a.originator_id.get_or_insert(path.peer_id);
            a.cluster_list.insert(0, cluster);
        }
    }
    let use_self = match peer.next_hop_mode {
        NextHopMode::SelfAlways => true,
        NextHopMode::Keep => !learned,
        NextHopMode::Auto => !learned || peer.ebgp,
    };
    let nh = if use_self || path.next_hop.is_none() {
        match prefix {
            IpNet::V4(_) => peer.self_v4.map(IpAddr::V4),
            IpNet::V6(_) => peer.self_v6.map(IpAddr::V6),
        }
    } else {
        path.next_hop
    }?;
    match (prefix, nh) {
        (IpNet::V4(_), IpAddr::V4(v4)) => a.next_hop = Some(v4),
        (IpNet::V6(_), IpAddr::V6(_)) => {
            a.mp_reach = Some(MpReach {
                afi_safi: crate::wire::AfiSafi::IPV6_UNICAST,
                next_hop: vec![nh],
                nlri: Vec::new(),
            })
        }
        _ => return None,
    }
    Some(a)
}
