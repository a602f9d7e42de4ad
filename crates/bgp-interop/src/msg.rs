//! BGP message bytes for the raw peer: well-formed OPEN/KEEPALIVE/UPDATE builders, the
//! malformed variants of the bad-input tests, and just enough decoding to count prefixes and
//! read NOTIFICATIONs. Deliberately independent of calico-bgp's codec (it tests it).

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

pub const OPEN: u8 = 1;
pub const UPDATE: u8 = 2;
pub const NOTIFICATION: u8 = 3;
pub const KEEPALIVE: u8 = 4;
/// `AS_TRANS` (RFC 6793), the 2-octet stand-in for a 4-octet AS.
pub const AS_TRANS: u16 = 23456;

/// A message read off the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub kind: u8,
    pub body: Vec<u8>,
}

impl Message {
    /// (code, subcode) of a NOTIFICATION.
    pub fn notification(&self) -> Option<(u8, u8)> {
        (self.kind == NOTIFICATION && self.body.len() >= 2).then(|| (self.body[0], self.body[1]))
    }
}

/// Header (marker, length, type) + body. `length` is the body length + 19.
pub fn message(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![0xff; 16];
    let len = (body.len() + 19) as u16;
    v.extend_from_slice(&len.to_be_bytes());
    v.push(kind);
    v.extend_from_slice(body);
    v
}

/// OPEN with an explicit version, advertising IPv4 unicast (RFC 4760) and 4-octet AS
/// (RFC 6793) capabilities.
pub fn open_version(version: u8, asn: u32, hold: u16, router_id: Ipv4Addr) -> Vec<u8> {
    let my_as = u16::try_from(asn).unwrap_or(AS_TRANS);
    let mut caps = vec![1, 4, 0, 1, 0, 1]; // MP: AFI 1, SAFI 1
    caps.extend_from_slice(&[65, 4]);
    caps.extend_from_slice(&asn.to_be_bytes());
    let mut b = vec![version];
    b.extend_from_slice(&my_as.to_be_bytes());
    b.extend_from_slice(&hold.to_be_bytes());
    b.extend_from_slice(&router_id.octets());
    b.push((caps.len() + 2) as u8);
    b.push(2); // optional parameter: capabilities
    b.push(caps.len() as u8);
    b.extend_from_slice(&caps);
    message(OPEN, &b)
}

/// A version-4 OPEN.
pub fn open(asn: u32, hold: u16, router_id: Ipv4Addr) -> Vec<u8> {
    open_version(4, asn, hold, router_id)
}

pub fn keepalive() -> Vec<u8> {
    message(KEEPALIVE, &[])
}

/// NOTIFICATION (code, subcode, no data).
pub fn notification(code: u8, subcode: u8) -> Vec<u8> {
    message(NOTIFICATION, &[code, subcode])
}

/// A prefix in NLRI encoding (length byte + significant octets).
pub fn prefix(p: Ipv4Net) -> Vec<u8> {
    let n = usize::from(p.prefix_len()).div_ceil(8);
    let mut v = vec![p.prefix_len()];
    v.extend_from_slice(&p.network().octets()[..n]);
    v
}

/// Path attributes ORIGIN IGP, AS_PATH (one AS_SEQUENCE per 255 ASes, 4-octet), NEXT_HOP.
pub fn attrs(as_path: &[u32], next_hop: Ipv4Addr) -> Vec<u8> {
    let mut a = vec![0x40, 1, 1, 0];
    let mut path = Vec::new();
    for seg in as_path.chunks(255) {
        path.push(2);
        path.push(seg.len() as u8);
        for asn in seg {
            path.extend_from_slice(&asn.to_be_bytes());
        }
    }
    if path.len() > 255 {
        a.extend_from_slice(&[0x50, 2]);
        a.extend_from_slice(&(path.len() as u16).to_be_bytes());
    } else {
        a.extend_from_slice(&[0x40, 2, path.len() as u8]);
    }
    a.extend_from_slice(&path);
    a.extend_from_slice(&[0x40, 3, 4]);
    a.extend_from_slice(&next_hop.octets());
    a
}

/// UPDATE with IPv4 withdrawn routes, attributes and NLRI.
pub fn update(withdrawn: &[Ipv4Net], attrs: &[u8], nlri: &[Ipv4Net]) -> Vec<u8> {
    let w: Vec<u8> = withdrawn.iter().flat_map(|p| prefix(*p)).collect();
    let mut b = (w.len() as u16).to_be_bytes().to_vec();
    b.extend_from_slice(&w);
    b.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
    b.extend_from_slice(attrs);
    for p in nlri {
        b.extend_from_slice(&prefix(*p));
    }
    message(UPDATE, &b)
}

/// UPDATEs announcing all of `nlri` (each message at most 4096 bytes).
pub fn updates(attrs: &[u8], nlri: &[Ipv4Net]) -> Vec<Vec<u8>> {
    let room = 4096 - 19 - 4 - attrs.len();
    let per = room / 5; // at most 5 bytes per IPv4 prefix
    nlri.chunks(per.max(1))
        .map(|c| update(&[], attrs, c))
        .collect()
}

/// UPDATEs withdrawing all of `prefixes`.
pub fn withdrawals(prefixes: &[Ipv4Net]) -> Vec<Vec<u8>> {
    prefixes
        .chunks((4096 - 23) / 5)
        .map(|c| update(c, &[], &[]))
        .collect()
}

/// (withdrawn, announced) IPv4 prefix counts of an UPDATE body; `None` when malformed.
pub fn update_counts(body: &[u8]) -> Option<(usize, usize)> {
    let wlen = usize::from(u16::from_be_bytes([*body.first()?, *body.get(1)?]));
    let w = count_prefixes(body.get(2..2 + wlen)?)?;
    let alen_at = 2 + wlen;
    let alen = usize::from(u16::from_be_bytes([
        *body.get(alen_at)?,
        *body.get(alen_at + 1)?,
    ]));
    let nlri = body.get(alen_at + 2 + alen..)?;
    Some((w, count_prefixes(nlri)?))
}

/// (withdrawn, announced) IPv4 prefixes of an UPDATE body (classic fields only, not
/// MP_REACH/MP_UNREACH); `None` when malformed.
pub fn update_prefixes(body: &[u8]) -> Option<(Vec<Ipv4Net>, Vec<Ipv4Net>)> {
    let wlen = usize::from(u16::from_be_bytes([*body.first()?, *body.get(1)?]));
    let w = decode_prefixes(body.get(2..2 + wlen)?)?;
    let alen_at = 2 + wlen;
    let alen = usize::from(u16::from_be_bytes([
        *body.get(alen_at)?,
        *body.get(alen_at + 1)?,
    ]));
    Some((w, decode_prefixes(body.get(alen_at + 2 + alen..)?)?))
}

fn decode_prefixes(mut b: &[u8]) -> Option<Vec<Ipv4Net>> {
    let mut v = Vec::new();
    while let Some(&len) = b.first() {
        if len > 32 {
            return None;
        }
        let n = usize::from(len).div_ceil(8);
        let mut o = [0u8; 4];
        o[..n].copy_from_slice(b.get(1..1 + n)?);
        v.push(Ipv4Net::new(Ipv4Addr::from(o), len).ok()?);
        b = &b[1 + n..];
    }
    Some(v)
}

fn count_prefixes(mut b: &[u8]) -> Option<usize> {
    let mut n = 0;
    while let Some(&len) = b.first() {
        if len > 32 {
            return None;
        }
        b = b.get(1 + usize::from(len).div_ceil(8)..)?;
        n += 1;
    }
    Some(n)
}

/// Malformed messages of the bad-input tests.
pub mod bad {
    use super::*;

    /// An OPEN whose header length (25) is below the OPEN minimum of 29.
    pub fn truncated_open(asn: u32, router_id: Ipv4Addr) -> Vec<u8> {
        let mut b = vec![4];
        b.extend_from_slice(&u16::try_from(asn).unwrap_or(AS_TRANS).to_be_bytes());
        b.extend_from_slice(&[0, 90]);
        b.push(router_id.octets()[0]);
        message(OPEN, &b)
    }

    /// An UPDATE whose NEXT_HOP attribute claims 200 bytes, running past the attribute list.
    pub fn bad_attribute_length(asn: u32, next_hop: Ipv4Addr, nlri: Ipv4Net) -> Vec<u8> {
        let mut a = attrs(&[asn], next_hop);
        let nh_len_at = a.len() - 5;
        a[nh_len_at] = 200;
        update(&[], &a, &[nlri])
    }

    /// An UPDATE with an AS_PATH of `n` ASes (all `asn`), for the huge-AS_PATH case.
    pub fn huge_as_path(asn: u32, n: usize, next_hop: Ipv4Addr, nlri: Ipv4Net) -> Vec<u8> {
        update(&[], &attrs(&vec![asn; n], next_hop), &[nlri])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().expect("net")
    }

    #[test]
    fn open_layout() {
        let m = open(65001, 90, Ipv4Addr::new(1, 2, 3, 4));
        assert_eq!(&m[..16], &[0xff; 16]);
        assert_eq!(usize::from(u16::from_be_bytes([m[16], m[17]])), m.len());
        assert_eq!(m[18], OPEN);
        assert_eq!(&m[19..29], &[4, 0xfd, 0xe9, 0, 90, 1, 2, 3, 4, 14]);
        let big = open(4_200_000_000, 90, Ipv4Addr::new(1, 2, 3, 4));
        assert_eq!(&big[20..22], &AS_TRANS.to_be_bytes());
    }

    #[test]
    fn update_counts_round_trip() {
        let nlri: Vec<Ipv4Net> = (0..2000u32)
            .map(|i| Ipv4Net::new(Ipv4Addr::from(0x0a00_0000 + (i << 8)), 24).expect("net"))
            .collect();
        let a = attrs(&[65001], Ipv4Addr::new(10, 77, 0, 1));
        let msgs = updates(&a, &nlri);
        assert!(msgs.iter().all(|m| m.len() <= 4096));
        let total: usize = msgs
            .iter()
            .map(|m| update_counts(&m[19..]).expect("counts").1)
            .sum();
        assert_eq!(total, 2000);
        let w = withdrawals(&nlri);
        let total: usize = w
            .iter()
            .map(|m| update_counts(&m[19..]).expect("c").0)
            .sum();
        assert_eq!(total, 2000);
        let (_, back) = update_prefixes(&msgs[0][19..]).expect("prefixes");
        assert_eq!(back[..3], nlri[..3]);
        assert_eq!(prefix(net("10.1.2.128/25")), vec![25, 10, 1, 2, 128]);
        assert_eq!(prefix(net("0.0.0.0/0")), vec![0]);
    }

    #[test]
    fn malformed_messages_are_malformed() {
        let t = bad::truncated_open(65001, Ipv4Addr::new(1, 2, 3, 4));
        assert_eq!(u16::from_be_bytes([t[16], t[17]]), 25);
        let b = bad::bad_attribute_length(65001, Ipv4Addr::new(1, 1, 1, 1), net("10.0.0.0/24"));
        // ORIGIN(4) AS_PATH(3+2+4) then NEXT_HOP flags, type, length.
        let attrs_at = 19 + 2 + 2;
        assert_eq!(&b[attrs_at + 13..attrs_at + 16], &[0x40, 3, 200]);
        let h = bad::huge_as_path(65001, 765, Ipv4Addr::new(1, 1, 1, 1), net("10.0.0.0/24"));
        assert!(h.len() <= 4096, "{}", h.len());
    }
}
