//! Message → bytes.

use std::net::IpAddr;

use ipnet::IpNet;

use super::{
    AS_TRANS, AsPath, Capability, HEADER_LEN, MAX_MESSAGE_LEN, Message, Open, PathAttributes,
    SegmentKind, Update, WireOptions, attr, flags,
};

/// A message that cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("BGP {kind} message: {len} bytes exceeds the {MAX_MESSAGE_LEN}-byte limit")]
    TooLong { kind: &'static str, len: usize },
    #[error("BGP OPEN: optional parameters are {len} bytes, more than 255")]
    OpenParamsTooLong { len: usize },
}

impl Message {
    /// Encode with header. UPDATEs that do not fit in 4096 bytes are an error: split them
    /// first (the speaker packs NLRI so this never happens).
    pub fn encode(&self, opts: WireOptions) -> Result<Vec<u8>, EncodeError> {
        let mut out = vec![0xff; 16];
        out.extend_from_slice(&[0, 0, self.type_code()]);
        match self {
            Message::Open(o) => encode_open(o, &mut out)?,
            Message::Update(u) => encode_update(u, opts, &mut out),
            Message::Notification(n) => {
                out.push(n.code);
                out.push(n.subcode);
                out.extend_from_slice(&n.data);
            }
            Message::Keepalive => {}
            Message::RouteRefresh(r) => {
                out.extend_from_slice(&r.afi_safi.afi.to_be_bytes());
                out.push(r.subtype);
                out.push(r.afi_safi.safi);
            }
        }
        let len = out.len();
        if len > MAX_MESSAGE_LEN {
            let kind = [
                "OPEN",
                "UPDATE",
                "NOTIFICATION",
                "KEEPALIVE",
                "ROUTE-REFRESH",
            ][usize::from(self.type_code()) - 1];
            return Err(EncodeError::TooLong { kind, len });
        }
        out[16..18].copy_from_slice(&(len as u16).to_be_bytes());
        Ok(out)
    }
}

fn encode_open(o: &Open, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    out.push(o.version);
    out.extend_from_slice(&o.my_as.to_be_bytes());
    out.extend_from_slice(&o.hold_time.to_be_bytes());
    out.extend_from_slice(&o.bgp_id.octets());
    let mut caps = Vec::new();
    for c in &o.capabilities {
        encode_capability(c, &mut caps);
    }
    if caps.is_empty() {
        out.push(0);
        return Ok(());
    }
    // One Capabilities parameter holding all capabilities (as BIRD does), split when a
    // parameter would exceed 255 bytes.
    let mut params = Vec::new();
    let mut chunk: Vec<u8> = Vec::new();
    let mut i = 0;
    while i < caps.len() {
        let clen = 2 + usize::from(caps[i + 1]);
        if chunk.len() + clen > 255 {
            params.push(2);
            params.push(chunk.len() as u8);
            params.append(&mut chunk);
        }
        chunk.extend_from_slice(&caps[i..i + clen]);
        i += clen;
    }
    params.push(2);
    params.push(chunk.len() as u8);
    params.append(&mut chunk);
    if params.len() > 255 {
        return Err(EncodeError::OpenParamsTooLong { len: params.len() });
    }
    out.push(params.len() as u8);
    out.extend_from_slice(&params);
    Ok(())
}

fn encode_capability(c: &Capability, out: &mut Vec<u8>) {
    let (code, value): (u8, Vec<u8>) = match c {
        Capability::Multiprotocol(f) => {
            let mut v = f.afi.to_be_bytes().to_vec();
            v.extend_from_slice(&[0, f.safi]);
            (1, v)
        }
        Capability::RouteRefresh => (2, Vec::new()),
        Capability::GracefulRestart(g) => {
            let mut fl = (g.restart_time & 0x0fff) | if g.restarting { 0x8000 } else { 0 };
            if g.notification {
                fl |= 0x4000;
            }
            let mut v = fl.to_be_bytes().to_vec();
            for (f, fwd) in &g.families {
                v.extend_from_slice(&f.afi.to_be_bytes());
                v.push(f.safi);
                v.push(if *fwd { 0x80 } else { 0 });
            }
            (64, v)
        }
        Capability::FourOctetAs(a) => (65, a.to_be_bytes().to_vec()),
        Capability::EnhancedRouteRefresh => (70, Vec::new()),
        Capability::Unknown { code, value } => (*code, value.clone()),
    };
    out.push(code);
    out.push(value.len().min(255) as u8);
    out.extend_from_slice(&value[..value.len().min(255)]);
}

pub(crate) fn encode_prefix(p: &IpNet, out: &mut Vec<u8>) {
    let len = p.prefix_len();
    out.push(len);
    let n = usize::from(len).div_ceil(8);
    match p {
        IpNet::V4(v) => out.extend_from_slice(&v.network().octets()[..n]),
        IpNet::V6(v) => out.extend_from_slice(&v.network().octets()[..n]),
    }
}

fn encode_update(u: &Update, opts: WireOptions, out: &mut Vec<u8>) {
    let mut w = Vec::new();
    for p in &u.withdrawn {
        encode_prefix(p, &mut w);
    }
    out.extend_from_slice(&(w.len() as u16).to_be_bytes());
    out.extend_from_slice(&w);
    let mut a = Vec::new();
    encode_attributes(&u.attrs, opts, &mut a);
    out.extend_from_slice(&(a.len() as u16).to_be_bytes());
    out.extend_from_slice(&a);
    for p in &u.nlri {
        encode_prefix(p, out);
    }
}

fn put_attr(out: &mut Vec<u8>, fl: u8, code: u8, value: &[u8]) {
    let fl = fl & !flags::EXTENDED_LENGTH;
    if value.len() > 255 {
        out.push(fl | flags::EXTENDED_LENGTH);
        out.push(code);
        out.extend_from_slice(&(value.len() as u16).to_be_bytes());
    } else {
        out.push(fl);
        out.push(code);
        out.push(value.len() as u8);
    }
    out.extend_from_slice(value);
}

fn as_path_bytes(p: &AsPath, four: bool) -> Vec<u8> {
    let mut v = Vec::new();
    for s in &p.segments {
        for chunk in s.asns.chunks(255) {
            v.push(s.kind as u8);
            v.push(chunk.len() as u8);
            for a in chunk {
                if four {
                    v.extend_from_slice(&a.to_be_bytes());
                } else {
                    v.extend_from_slice(&u16::try_from(*a).unwrap_or(AS_TRANS).to_be_bytes());
                }
            }
        }
    }
    v
}

const WK: u8 = flags::TRANSITIVE;
const OPT: u8 = flags::OPTIONAL;
const OPT_T: u8 = flags::OPTIONAL | flags::TRANSITIVE;

/// Attributes in type-code order, MP_REACH/MP_UNREACH first (RFC 7606 §5.1).
pub(crate) fn encode_attributes(a: &PathAttributes, opts: WireOptions, out: &mut Vec<u8>) {
    if let Some(m) = &a.mp_reach {
        let mut v = m.afi_safi.afi.to_be_bytes().to_vec();
        v.push(m.afi_safi.safi);
        let mut nh = Vec::new();
        for h in &m.next_hop {
            match h {
                IpAddr::V4(x) => nh.extend_from_slice(&x.octets()),
                IpAddr::V6(x) => nh.extend_from_slice(&x.octets()),
            }
        }
        v.push(nh.len() as u8);
        v.extend_from_slice(&nh);
        v.push(0);
        for p in &m.nlri {
            encode_prefix(p, &mut v);
        }
        put_attr(out, OPT, attr::MP_REACH_NLRI, &v);
    }
    if let Some(m) = &a.mp_unreach {
        let mut v = m.afi_safi.afi.to_be_bytes().to_vec();
        v.push(m.afi_safi.safi);
        for p in &m.withdrawn {
            encode_prefix(p, &mut v);
        }
        put_attr(out, OPT, attr::MP_UNREACH_NLRI, &v);
    }
    if let Some(o) = a.origin {
        put_attr(out, WK, attr::ORIGIN, &[o as u8]);
    }
    let needs_as4 = |p: &AsPath| {
        p.segments
            .iter()
            .any(|s| s.asns.iter().any(|x| *x > 0xffff))
    };
    if let Some(p) = &a.as_path {
        put_attr(
            out,
            WK,
            attr::AS_PATH,
            &as_path_bytes(p, opts.four_octet_as),
        );
    }
    if let Some(nh) = a.next_hop {
        put_attr(out, WK, attr::NEXT_HOP, &nh.octets());
    }
    if let Some(m) = a.med {
        put_attr(out, OPT, attr::MULTI_EXIT_DISC, &m.to_be_bytes());
    }
    if let Some(l) = a.local_pref {
        put_attr(out, WK, attr::LOCAL_PREF, &l.to_be_bytes());
    }
    if a.atomic_aggregate {
        put_attr(out, WK, attr::ATOMIC_AGGREGATE, &[]);
    }
    if let Some(ag) = a.aggregator {
        let mut v = Vec::new();
        if opts.four_octet_as {
            v.extend_from_slice(&ag.asn.to_be_bytes());
        } else {
            v.extend_from_slice(&u16::try_from(ag.asn).unwrap_or(AS_TRANS).to_be_bytes());
        }
        v.extend_from_slice(&ag.address.octets());
        put_attr(out, OPT_T, attr::AGGREGATOR, &v);
    }
    if !a.communities.is_empty() {
        let v: Vec<u8> = a.communities.iter().flat_map(|c| c.to_be_bytes()).collect();
        put_attr(out, OPT_T, attr::COMMUNITIES, &v);
    }
    if let Some(o) = a.originator_id {
        put_attr(out, OPT, attr::ORIGINATOR_ID, &o.octets());
    }
    if !a.cluster_list.is_empty() {
        let v: Vec<u8> = a.cluster_list.iter().flat_map(|c| c.octets()).collect();
        put_attr(out, OPT, attr::CLUSTER_LIST, &v);
    }
    if !opts.four_octet_as {
        if let Some(p) = a.as_path.as_ref().filter(|p| needs_as4(p)) {
            // AS4_PATH carries no confederation segments (RFC 6793 §3).
            let p4 = AsPath {
                segments: p
                    .segments
                    .iter()
                    .filter(|s| matches!(s.kind, SegmentKind::Set | SegmentKind::Sequence))
                    .cloned()
                    .collect(),
            };
            put_attr(out, OPT_T, attr::AS4_PATH, &as_path_bytes(&p4, true));
        }
        if let Some(ag) = a.aggregator.filter(|g| g.asn > 0xffff) {
            let mut v = ag.asn.to_be_bytes().to_vec();
            v.extend_from_slice(&ag.address.octets());
            put_attr(out, OPT_T, attr::AS4_AGGREGATOR, &v);
        }
    }
    for r in &a.unknown {
        put_attr(out, r.flags, r.type_code, &r.value);
    }
}

/// Bytes an UPDATE with these attributes and no NLRI takes (header included).
pub fn update_overhead(a: &PathAttributes, opts: WireOptions) -> usize {
    let mut v = Vec::new();
    encode_attributes(a, opts, &mut v);
    HEADER_LEN + 4 + v.len()
}
