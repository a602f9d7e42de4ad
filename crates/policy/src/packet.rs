//! The first packet of a new flow, as the evaluator sees it.

use std::net::IpAddr;

use calico_api::Protocol;
use serde::Serialize;

/// A packet: addresses, protocol, ports (TCP/UDP/SCTP) or ICMP type/code.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Packet {
    pub src_ip: IpAddr,
    pub dst_ip: IpAddr,
    pub protocol: Protocol,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src_port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dst_port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icmp_type: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icmp_code: Option<u8>,
}

impl Packet {
    /// A TCP/UDP/SCTP packet to `dst_port` (source port 40000).
    pub fn ports(src_ip: IpAddr, dst_ip: IpAddr, protocol: Protocol, dst_port: u16) -> Packet {
        Packet {
            src_ip,
            dst_ip,
            protocol,
            src_port: Some(40000),
            dst_port: Some(dst_port),
            icmp_type: None,
            icmp_code: None,
        }
    }

    /// An ICMP (or ICMPv6, by the addresses' family) echo request.
    pub fn ping(src_ip: IpAddr, dst_ip: IpAddr) -> Packet {
        let (protocol, icmp_type) = if src_ip.is_ipv4() {
            (Protocol::Icmp, 8)
        } else {
            (Protocol::IcmpV6, 128)
        };
        Packet {
            src_ip,
            dst_ip,
            protocol,
            src_port: None,
            dst_port: None,
            icmp_type: Some(icmp_type),
            icmp_code: Some(0),
        }
    }

    /// 4 or 6.
    pub fn ip_version(&self) -> u8 {
        if self.src_ip.is_ipv4() { 4 } else { 6 }
    }
}
