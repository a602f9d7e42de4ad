//! BGP-4 messages as typed values, and their wire form.
//!
//! Hand-written rather than built on netgauze-bgp-pkt: the speaker needs RFC 7606's
//! three-way classification of malformed UPDATEs (session reset / treat-as-withdraw /
//! attribute discard) with the NLRI still available after an attribute error, AS4_PATH
//! reconstruction into one 4-octet path, and linear-time decoding of very long AS_PATHs.
//! netgauze decodes into a single `Result` (an attribute error loses the whole message) and
//! costs ~18 s of compile time; the subset Calico needs is small enough to own.
//!
//! - [`Message`] and its parts are plain data; [`Message::encode`] writes them and
//!   [`decode_message`] reads one framed message (header included).
//! - [`Framer`] cuts a TCP byte stream into messages (partial reads welcome).
//! - [`WireOptions`] carries what the session negotiated (4-octet AS numbers).

mod decode;
mod encode;
mod framer;
mod notification;

use std::net::{IpAddr, Ipv4Addr};

pub use decode::{AttrIssue, DecodeError, Decoded, IssueAction, decode_message};
pub use encode::EncodeError;
pub use encode::update_overhead;
pub(crate) use encode::{encode_attributes, encode_prefix};
pub use framer::Framer;
use ipnet::IpNet;
pub use notification::{Notification, codes};

/// AS_TRANS (RFC 6793): the 2-octet stand-in for a 4-octet AS number.
pub const AS_TRANS: u16 = 23456;
/// Length of the fixed message header.
pub const HEADER_LEN: usize = 19;
/// Largest BGP message (RFC 4271; extended messages are not negotiated).
pub const MAX_MESSAGE_LEN: usize = 4096;
/// The only BGP version spoken.
pub const BGP_VERSION: u8 = 4;

/// Options fixed by the session that change the wire form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WireOptions {
    /// Both sides advertised the 4-octet AS capability: AS_PATH/AGGREGATOR carry 4-octet
    /// numbers and AS4_PATH/AS4_AGGREGATOR are not used.
    pub four_octet_as: bool,
}

/// Address family and subsequent address family (RFC 4760).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AfiSafi {
    pub afi: u16,
    pub safi: u8,
}

impl AfiSafi {
    pub const IPV4_UNICAST: AfiSafi = AfiSafi { afi: 1, safi: 1 };
    pub const IPV6_UNICAST: AfiSafi = AfiSafi { afi: 2, safi: 1 };

    /// The family this speaker routes, if it is one.
    pub fn family(self) -> Option<Family> {
        match self {
            Self::IPV4_UNICAST => Some(Family::Ipv4),
            Self::IPV6_UNICAST => Some(Family::Ipv6),
            _ => None,
        }
    }
}

/// The two unicast families the speaker routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    Ipv4,
    Ipv6,
}

impl Family {
    pub fn afi_safi(self) -> AfiSafi {
        match self {
            Family::Ipv4 => AfiSafi::IPV4_UNICAST,
            Family::Ipv6 => AfiSafi::IPV6_UNICAST,
        }
    }
    pub fn of(net: &IpNet) -> Family {
        match net {
            IpNet::V4(_) => Family::Ipv4,
            IpNet::V6(_) => Family::Ipv6,
        }
    }
}

/// One BGP message.
#[allow(clippy::large_enum_variant)] // UPDATEs dominate; boxing them buys nothing
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Open(Open),
    Update(Update),
    Notification(Notification),
    Keepalive,
    RouteRefresh(RouteRefresh),
}

impl Message {
    /// The message type code of the header.
    pub fn type_code(&self) -> u8 {
        match self {
            Message::Open(_) => 1,
            Message::Update(_) => 2,
            Message::Notification(_) => 3,
            Message::Keepalive => 4,
            Message::RouteRefresh(_) => 5,
        }
    }
}

/// OPEN (RFC 4271 §4.2). `my_as` is the 2-octet field (AS_TRANS for 4-octet numbers); the
/// real number is in the [`Capability::FourOctetAs`] capability, see [`Open::asn`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open {
    pub version: u8,
    pub my_as: u16,
    pub hold_time: u16,
    pub bgp_id: Ipv4Addr,
    /// All capabilities, in order, from every Capabilities optional parameter.
    pub capabilities: Vec<Capability>,
}

impl Open {
    /// Build an OPEN for `asn`: AS_TRANS in the 2-octet field when it does not fit, and the
    /// 4-octet AS capability is added by the caller (see `fsm`).
    pub fn new(asn: u32, hold_time: u16, bgp_id: Ipv4Addr, capabilities: Vec<Capability>) -> Open {
        let my_as = u16::try_from(asn).unwrap_or(AS_TRANS);
        Open {
            version: BGP_VERSION,
            my_as,
            hold_time,
            bgp_id,
            capabilities,
        }
    }

    /// The sender's AS: the 4-octet capability if present, otherwise `my_as`.
    pub fn asn(&self) -> u32 {
        self.capabilities
            .iter()
            .find_map(|c| match c {
                Capability::FourOctetAs(a) => Some(*a),
                _ => None,
            })
            .unwrap_or(u32::from(self.my_as))
    }

    pub fn has(&self, f: impl Fn(&Capability) -> bool) -> bool {
        self.capabilities.iter().any(f)
    }

    pub fn graceful_restart(&self) -> Option<&GracefulRestart> {
        self.capabilities.iter().find_map(|c| match c {
            Capability::GracefulRestart(g) => Some(g),
            _ => None,
        })
    }

    /// Families advertised by Multiprotocol capabilities; a speaker that sends none speaks
    /// IPv4 unicast only (RFC 4760 §8).
    pub fn families(&self) -> Vec<AfiSafi> {
        let mp: Vec<AfiSafi> = self
            .capabilities
            .iter()
            .filter_map(|c| match c {
                Capability::Multiprotocol(f) => Some(*f),
                _ => None,
            })
            .collect();
        if mp.is_empty() {
            vec![AfiSafi::IPV4_UNICAST]
        } else {
            mp
        }
    }
}

/// A capability (RFC 5492) inside an OPEN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Capability {
    /// Code 1, RFC 4760.
    Multiprotocol(AfiSafi),
    /// Code 2, RFC 2918.
    RouteRefresh,
    /// Code 64, RFC 4724.
    GracefulRestart(GracefulRestart),
    /// Code 65, RFC 6793.
    FourOctetAs(u32),
    /// Code 70, RFC 7313.
    EnhancedRouteRefresh,
    /// Anything else, kept as received.
    Unknown { code: u8, value: Vec<u8> },
}

/// The Graceful Restart capability (RFC 4724 §3).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GracefulRestart {
    /// R bit: the sender has restarted.
    pub restarting: bool,
    /// N bit (RFC 8538): the sender supports GR for NOTIFICATION too.
    pub notification: bool,
    /// Restart time in seconds (12 bits).
    pub restart_time: u16,
    /// Families with the forwarding-state (F) bit.
    pub families: Vec<(AfiSafi, bool)>,
}

/// ROUTE-REFRESH (RFC 2918; `subtype` per RFC 7313: 0 request, 1 BoRR, 2 EoRR).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteRefresh {
    pub afi_safi: AfiSafi,
    pub subtype: u8,
}

/// UPDATE (RFC 4271 §4.3): IPv4 unicast routes in the classic fields, other families in
/// `attrs.mp_reach` / `attrs.mp_unreach`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Update {
    pub withdrawn: Vec<IpNet>,
    pub attrs: PathAttributes,
    pub nlri: Vec<IpNet>,
}

impl Update {
    /// The End-of-RIB marker for a family (RFC 4724 §2).
    pub fn end_of_rib(family: AfiSafi) -> Update {
        let mut u = Update::default();
        if family != AfiSafi::IPV4_UNICAST {
            u.attrs.mp_unreach = Some(MpUnreach {
                afi_safi: family,
                withdrawn: Vec::new(),
            });
        }
        u
    }

    /// The family this UPDATE ends, if it is an End-of-RIB marker.
    pub fn is_end_of_rib(&self) -> Option<AfiSafi> {
        if !self.withdrawn.is_empty() || !self.nlri.is_empty() {
            return None;
        }
        let a = &self.attrs;
        if *a == PathAttributes::default() {
            return Some(AfiSafi::IPV4_UNICAST);
        }
        match &a.mp_unreach {
            Some(m) if m.withdrawn.is_empty() => {
                let only = PathAttributes {
                    mp_unreach: a.mp_unreach.clone(),
                    ..Default::default()
                };
                (*a == only).then_some(m.afi_safi)
            }
            _ => None,
        }
    }

    /// Every announced prefix (classic NLRI and MP_REACH_NLRI).
    pub fn announced(&self) -> impl Iterator<Item = &IpNet> {
        self.nlri
            .iter()
            .chain(self.attrs.mp_reach.iter().flat_map(|m| m.nlri.iter()))
    }

    /// Every withdrawn prefix (classic and MP_UNREACH_NLRI).
    pub fn withdrawn_all(&self) -> impl Iterator<Item = &IpNet> {
        self.withdrawn.iter().chain(
            self.attrs
                .mp_unreach
                .iter()
                .flat_map(|m| m.withdrawn.iter()),
        )
    }
}

/// ORIGIN values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Origin {
    Igp = 0,
    Egp = 1,
    Incomplete = 2,
}

/// AS_PATH segment types (RFC 4271, RFC 5065).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SegmentKind {
    Set = 1,
    Sequence = 2,
    ConfedSequence = 3,
    ConfedSet = 4,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AsSegment {
    pub kind: SegmentKind,
    pub asns: Vec<u32>,
}

/// An AS_PATH with 4-octet numbers (reconstructed from AS4_PATH on 2-octet sessions).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct AsPath {
    pub segments: Vec<AsSegment>,
}

impl AsPath {
    pub fn sequence(asns: Vec<u32>) -> AsPath {
        if asns.is_empty() {
            return AsPath::default();
        }
        AsPath {
            segments: vec![AsSegment {
                kind: SegmentKind::Sequence,
                asns,
            }],
        }
    }

    /// Path length for the decision process: each AS of a sequence counts, a set counts
    /// one, confederation segments count zero (RFC 4271 §9.1.2.2, RFC 5065).
    pub fn len(&self) -> usize {
        self.segments
            .iter()
            .map(|s| match s.kind {
                SegmentKind::Sequence => s.asns.len(),
                SegmentKind::Set => 1,
                _ => 0,
            })
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    /// The neighbouring AS: first AS of a leading AS_SEQUENCE.
    pub fn first_as(&self) -> Option<u32> {
        match self.segments.first() {
            Some(s) if s.kind == SegmentKind::Sequence => s.asns.first().copied(),
            _ => None,
        }
    }

    pub fn contains(&self, asn: u32) -> usize {
        self.segments
            .iter()
            .map(|s| s.asns.iter().filter(|a| **a == asn).count())
            .sum()
    }

    /// Prepend `asn` to the leading AS_SEQUENCE (a new segment when absent or full).
    pub fn prepend(&mut self, asn: u32) {
        match self.segments.first_mut() {
            Some(s) if s.kind == SegmentKind::Sequence && s.asns.len() < 255 => {
                s.asns.insert(0, asn)
            }
            _ => self.segments.insert(
                0,
                AsSegment {
                    kind: SegmentKind::Sequence,
                    asns: vec![asn],
                },
            ),
        }
    }
}

/// AGGREGATOR (4-octet form after AS4_AGGREGATOR reconstruction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Aggregator {
    pub asn: u32,
    pub address: Ipv4Addr,
}

/// MP_REACH_NLRI (RFC 4760) for IPv4 or IPv6 unicast. `next_hop` holds one address, or for
/// IPv6 a global and a link-local one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MpReach {
    pub afi_safi: AfiSafi,
    pub next_hop: Vec<IpAddr>,
    pub nlri: Vec<IpNet>,
}

/// MP_UNREACH_NLRI (RFC 4760).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MpUnreach {
    pub afi_safi: AfiSafi,
    pub withdrawn: Vec<IpNet>,
}

/// An attribute this speaker does not interpret, kept as received (flags without the
/// Extended Length bit, which the encoder recomputes).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RawAttribute {
    pub flags: u8,
    pub type_code: u8,
    pub value: Vec<u8>,
}

/// Attribute flag bits.
pub mod flags {
    pub const OPTIONAL: u8 = 0x80;
    pub const TRANSITIVE: u8 = 0x40;
    pub const PARTIAL: u8 = 0x20;
    pub const EXTENDED_LENGTH: u8 = 0x10;
}

/// Attribute type codes.
pub mod attr {
    pub const ORIGIN: u8 = 1;
    pub const AS_PATH: u8 = 2;
    pub const NEXT_HOP: u8 = 3;
    pub const MULTI_EXIT_DISC: u8 = 4;
    pub const LOCAL_PREF: u8 = 5;
    pub const ATOMIC_AGGREGATE: u8 = 6;
    pub const AGGREGATOR: u8 = 7;
    pub const COMMUNITIES: u8 = 8;
    pub const ORIGINATOR_ID: u8 = 9;
    pub const CLUSTER_LIST: u8 = 10;
    pub const MP_REACH_NLRI: u8 = 14;
    pub const MP_UNREACH_NLRI: u8 = 15;
    pub const AS4_PATH: u8 = 17;
    pub const AS4_AGGREGATOR: u8 = 18;
}

/// Well-known communities (RFC 1997).
pub mod community {
    pub const NO_EXPORT: u32 = 0xFFFF_FF01;
    pub const NO_ADVERTISE: u32 = 0xFFFF_FF02;
    pub const NO_EXPORT_SUBCONFED: u32 = 0xFFFF_FF03;
}

/// The path attributes of an UPDATE. Absent optional attributes are `None`/empty.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct PathAttributes {
    pub origin: Option<Origin>,
    pub as_path: Option<AsPath>,
    pub next_hop: Option<Ipv4Addr>,
    pub med: Option<u32>,
    pub local_pref: Option<u32>,
    pub atomic_aggregate: bool,
    pub aggregator: Option<Aggregator>,
    /// RFC 1997 communities, `(asn << 16) | value`.
    pub communities: Vec<u32>,
    pub originator_id: Option<Ipv4Addr>,
    pub cluster_list: Vec<Ipv4Addr>,
    pub mp_reach: Option<MpReach>,
    pub mp_unreach: Option<MpUnreach>,
    /// Unrecognised optional attributes, in order of type code.
    pub unknown: Vec<RawAttribute>,
}
