//! Bytes → Message, with RFC 7606 error classification for UPDATEs.
//!
//! Errors that leave the stream unusable (header errors, OPEN errors, an UPDATE whose NLRI
//! cannot be located) are a [`DecodeError`] carrying the NOTIFICATION to send ("session
//! reset"). Attribute errors that RFC 7606 lets a speaker survive come back with the message
//! as [`AttrIssue`]s: "attribute discard" issues name an attribute already dropped from the
//! result; a "treat-as-withdraw" issue means every prefix the UPDATE announces must be handled
//! as withdrawn ([`Decoded::treat_as_withdraw`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use super::{
    AS_TRANS, AfiSafi, Aggregator, AsPath, AsSegment, BGP_VERSION, Capability, GracefulRestart,
    HEADER_LEN, MAX_MESSAGE_LEN, Message, MpReach, MpUnreach, Notification, Open, Origin,
    PathAttributes, RawAttribute, RouteRefresh, SegmentKind, Update, WireOptions, attr, codes,
    flags,
};

/// A message that ends the session: the NOTIFICATION to send and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason} (sending NOTIFICATION {notification})")]
pub struct DecodeError {
    pub notification: Notification,
    pub reason: String,
}

fn err(code: u8, subcode: u8, data: Vec<u8>, reason: impl Into<String>) -> DecodeError {
    DecodeError {
        notification: Notification::new(code, subcode, data),
        reason: reason.into(),
    }
}

/// How an RFC 7606 attribute error is survived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum IssueAction {
    /// The attribute was dropped; the routes stand.
    AttributeDiscard,
    /// The routes the UPDATE announces are to be handled as withdrawn.
    TreatAsWithdraw,
}

/// One malformed attribute that did not reset the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrIssue {
    pub type_code: u8,
    pub action: IssueAction,
    pub reason: String,
}

/// A decoded message and the attribute errors survived on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub message: Message,
    pub issues: Vec<AttrIssue>,
}

impl Decoded {
    /// RFC 7606 "treat-as-withdraw": announced prefixes must be withdrawn instead.
    pub fn treat_as_withdraw(&self) -> bool {
        self.issues
            .iter()
            .any(|i| i.action == IssueAction::TreatAsWithdraw)
    }
}

/// Decode one whole message (header included; `frame.len()` must equal the header length).
pub fn decode_message(frame: &[u8], opts: WireOptions) -> Result<Decoded, DecodeError> {
    if frame.len() < HEADER_LEN {
        return Err(err(
            codes::MESSAGE_HEADER,
            codes::HDR_BAD_LENGTH,
            Vec::new(),
            format!(
                "BGP header: {} bytes, expected at least {HEADER_LEN}",
                frame.len()
            ),
        ));
    }
    if frame[..16].iter().any(|b| *b != 0xff) {
        return Err(err(
            codes::MESSAGE_HEADER,
            codes::HDR_NOT_SYNCHRONIZED,
            Vec::new(),
            "BGP header: marker is not all ones",
        ));
    }
    let len = usize::from(u16::from_be_bytes([frame[16], frame[17]]));
    let ty = frame[18];
    let bad_len = |why: String| {
        err(
            codes::MESSAGE_HEADER,
            codes::HDR_BAD_LENGTH,
            frame[16..18].to_vec(),
            why,
        )
    };
    if !(HEADER_LEN..=MAX_MESSAGE_LEN).contains(&len) || len != frame.len() {
        return Err(bad_len(format!(
            "BGP header: length {len} (frame {} bytes), expected {HEADER_LEN}..={MAX_MESSAGE_LEN}",
            frame.len()
        )));
    }
    let body = &frame[HEADER_LEN..];
    let mut issues = Vec::new();
    let message = match ty {
        1 if len < 29 => {
            return Err(bad_len(format!(
                "BGP OPEN: length {len}, expected at least 29"
            )));
        }
        1 => Message::Open(decode_open(body)?),
        2 if len < 23 => {
            return Err(bad_len(format!(
                "BGP UPDATE: length {len}, expected at least 23"
            )));
        }
        2 => Message::Update(decode_update(body, opts, &mut issues)?),
        3 if len < 21 => {
            return Err(bad_len(format!(
                "BGP NOTIFICATION: length {len}, expected at least 21"
            )));
        }
        3 => Message::Notification(Notification::new(body[0], body[1], body[2..].to_vec())),
        4 if len != 19 => return Err(bad_len(format!("BGP KEEPALIVE: length {len}, expected 19"))),
        4 => Message::Keepalive,
        5 if len != 23 => {
            return Err(err(
                codes::ROUTE_REFRESH,
                codes::RR_INVALID_LENGTH,
                frame.to_vec(),
                format!("BGP ROUTE-REFRESH: length {len}, expected 23"),
            ));
        }
        5 => Message::RouteRefresh(RouteRefresh {
            afi_safi: AfiSafi {
                afi: u16::from_be_bytes([body[0], body[1]]),
                safi: body[3],
            },
            subtype: body[2],
        }),
        _ => {
            return Err(err(
                codes::MESSAGE_HEADER,
                codes::HDR_BAD_TYPE,
                vec![ty],
                format!("BGP header: message type {ty}, expected 1..=5"),
            ));
        }
    };
    Ok(Decoded { message, issues })
}

fn decode_open(b: &[u8]) -> Result<Open, DecodeError> {
    let version = b[0];
    if version != BGP_VERSION {
        return Err(err(
            codes::OPEN,
            codes::OPEN_UNSUPPORTED_VERSION,
            u16::from(BGP_VERSION).to_be_bytes().to_vec(),
            format!("BGP OPEN: version {version}, expected 4"),
        ));
    }
    let my_as = u16::from_be_bytes([b[1], b[2]]);
    let hold_time = u16::from_be_bytes([b[3], b[4]]);
    if hold_time == 1 || hold_time == 2 {
        return Err(err(
            codes::OPEN,
            codes::OPEN_UNACCEPTABLE_HOLD_TIME,
            Vec::new(),
            format!("BGP OPEN: hold time {hold_time}, expected 0 or at least 3 seconds"),
        ));
    }
    let bgp_id = Ipv4Addr::new(b[5], b[6], b[7], b[8]);
    if bgp_id.is_unspecified() || bgp_id.is_broadcast() {
        return Err(err(
            codes::OPEN,
            codes::OPEN_BAD_BGP_ID,
            Vec::new(),
            format!("BGP OPEN: BGP identifier {bgp_id} is not a valid router ID"),
        ));
    }
    let plen = usize::from(b[9]);
    let params = &b[10..];
    if params.len() != plen {
        return Err(err(
            codes::OPEN,
            0,
            Vec::new(),
            format!(
                "BGP OPEN: optional parameters length {plen}, but {} bytes follow",
                params.len()
            ),
        ));
    }
    let mut capabilities = Vec::new();
    let mut i = 0;
    while i < params.len() {
        if i + 2 > params.len() || i + 2 + usize::from(params[i + 1]) > params.len() {
            return Err(err(
                codes::OPEN,
                0,
                Vec::new(),
                format!("BGP OPEN: optional parameter at offset {i} overruns the parameters"),
            ));
        }
        let (ptype, pl) = (params[i], usize::from(params[i + 1]));
        let value = &params[i + 2..i + 2 + pl];
        if ptype != 2 {
            return Err(err(
                codes::OPEN,
                codes::OPEN_UNSUPPORTED_OPT_PARAM,
                Vec::new(),
                format!(
                    "BGP OPEN: optional parameter type {ptype}, only capabilities (2) are supported"
                ),
            ));
        }
        decode_capabilities(value, &mut capabilities)?;
        i += 2 + pl;
    }
    Ok(Open {
        version,
        my_as,
        hold_time,
        bgp_id,
        capabilities,
    })
}

fn decode_capabilities(v: &[u8], out: &mut Vec<Capability>) -> Result<(), DecodeError> {
    let mut i = 0;
    while i < v.len() {
        if i + 2 > v.len() || i + 2 + usize::from(v[i + 1]) > v.len() {
            return Err(err(
                codes::OPEN,
                0,
                Vec::new(),
                format!("BGP OPEN: capability at offset {i} overruns its parameter"),
            ));
        }
        let code = v[i];
        let c = &v[i + 2..i + 2 + usize::from(v[i + 1])];
        let cap = match (code, c.len()) {
            (1, 4) => Capability::Multiprotocol(AfiSafi {
                afi: u16::from_be_bytes([c[0], c[1]]),
                safi: c[3],
            }),
            (2, 0) => Capability::RouteRefresh,
            (64, n) if n >= 2 && (n - 2).is_multiple_of(4) => {
                let fl = u16::from_be_bytes([c[0], c[1]]);
                Capability::GracefulRestart(GracefulRestart {
                    restarting: fl & 0x8000 != 0,
                    notification: fl & 0x4000 != 0,
                    restart_time: fl & 0x0fff,
                    families: c[2..]
                        .chunks_exact(4)
                        .map(|f| {
                            (
                                AfiSafi {
                                    afi: u16::from_be_bytes([f[0], f[1]]),
                                    safi: f[2],
                                },
                                f[3] & 0x80 != 0,
                            )
                        })
                        .collect(),
                })
            }
            (65, 4) => Capability::FourOctetAs(u32::from_be_bytes([c[0], c[1], c[2], c[3]])),
            (70, 0) => Capability::EnhancedRouteRefresh,
            _ => Capability::Unknown {
                code,
                value: c.to_vec(),
            },
        };
        out.push(cap);
        i += 2 + c.len();
    }
    Ok(())
}

/// Parse prefixes of one family; `None` on a length over the family maximum or an overrun.
pub(crate) fn decode_prefixes(mut b: &[u8], v6: bool) -> Result<Vec<IpNet>, String> {
    let max = if v6 { 128 } else { 32 };
    let mut out = Vec::new();
    while let Some((&len, rest)) = b.split_first() {
        if len > max {
            return Err(format!("prefix length {len}, expected at most {max}"));
        }
        let n = usize::from(len).div_ceil(8);
        if rest.len() < n {
            return Err(format!(
                "prefix /{len} needs {n} bytes, {} remain",
                rest.len()
            ));
        }
        let net = if v6 {
            let mut o = [0u8; 16];
            o[..n].copy_from_slice(&rest[..n]);
            IpNet::V6(
                Ipv6Net::new(Ipv6Addr::from(o), len)
                    .map_err(|e| e.to_string())?
                    .trunc(),
            )
        } else {
            let mut o = [0u8; 4];
            o[..n].copy_from_slice(&rest[..n]);
            IpNet::V4(
                Ipv4Net::new(Ipv4Addr::from(o), len)
                    .map_err(|e| e.to_string())?
                    .trunc(),
            )
        };
        out.push(net);
        b = &rest[n..];
    }
    Ok(out)
}

struct Issues<'a>(&'a mut Vec<AttrIssue>);
impl Issues<'_> {
    fn taw(&mut self, type_code: u8, reason: String) {
        self.0.push(AttrIssue {
            type_code,
            action: IssueAction::TreatAsWithdraw,
            reason,
        });
    }
    fn discard(&mut self, type_code: u8, reason: String) {
        self.0.push(AttrIssue {
            type_code,
            action: IssueAction::AttributeDiscard,
            reason,
        });
    }
}

fn decode_update(
    b: &[u8],
    opts: WireOptions,
    issues: &mut Vec<AttrIssue>,
) -> Result<Update, DecodeError> {
    let malformed = |why: String| {
        err(
            codes::UPDATE,
            codes::UPD_MALFORMED_ATTR_LIST,
            Vec::new(),
            why,
        )
    };
    let wlen = usize::from(u16::from_be_bytes([b[0], b[1]]));
    if 2 + wlen + 2 > b.len() {
        return Err(malformed(format!(
            "BGP UPDATE: withdrawn routes length {wlen} overruns the {}-byte message body",
            b.len()
        )));
    }
    let withdrawn = decode_prefixes(&b[2..2 + wlen], false).map_err(|e| {
        err(
            codes::UPDATE,
            codes::UPD_INVALID_NETWORK,
            Vec::new(),
            format!("BGP UPDATE: withdrawn routes: {e}"),
        )
    })?;
    let alen = usize::from(u16::from_be_bytes([b[2 + wlen], b[3 + wlen]]));
    let astart = 4 + wlen;
    if astart + alen > b.len() {
        return Err(malformed(format!(
            "BGP UPDATE: total path attribute length {alen} overruns the message by {} bytes",
            astart + alen - b.len()
        )));
    }
    let nlri = decode_prefixes(&b[astart + alen..], false).map_err(|e| {
        err(
            codes::UPDATE,
            codes::UPD_INVALID_NETWORK,
            Vec::new(),
            format!("BGP UPDATE: NLRI: {e}"),
        )
    })?;
    let mut a = PathAttributes::default();
    let mut iss = Issues(issues);
    let mut seen = [false; 256];
    let mut as4_path: Option<AsPath> = None;
    let mut as4_aggregator: Option<Aggregator> = None;
    let mut ab = &b[astart..astart + alen];
    while !ab.is_empty() {
        let ext = ab[0] & flags::EXTENDED_LENGTH != 0;
        let hl = if ext { 4 } else { 3 };
        let vlen = if ab.len() < hl {
            None
        } else if ext {
            Some(usize::from(u16::from_be_bytes([ab[2], ab[3]])))
        } else {
            Some(usize::from(ab[2]))
        };
        let Some(vlen) = vlen.filter(|l| hl + l <= ab.len()) else {
            // RFC 7606 §4: the attribute list cannot be parsed further.
            let code = ab.get(1).copied().unwrap_or(0);
            if a.mp_reach.is_none() && a.mp_unreach.is_none() && nlri.is_empty() {
                return Err(err(
                    codes::UPDATE,
                    codes::UPD_ATTR_LENGTH,
                    Vec::new(),
                    format!(
                        "BGP UPDATE: attribute {code} length overruns the attribute list and no NLRI can be located"
                    ),
                ));
            }
            iss.taw(
                code,
                format!("attribute {code}: length overruns the path attribute list"),
            );
            break;
        };
        let fl = ab[0] & !flags::EXTENDED_LENGTH;
        let code = ab[1];
        let v = &ab[hl..hl + vlen];
        ab = &ab[hl + vlen..];
        if seen[usize::from(code)] {
            if code == attr::MP_REACH_NLRI || code == attr::MP_UNREACH_NLRI {
                return Err(malformed(format!(
                    "BGP UPDATE: attribute {code} appears twice"
                )));
            }
            iss.discard(
                code,
                format!("attribute {code}: repeated, later copies discarded"),
            );
            continue;
        }
        seen[usize::from(code)] = true;
        decode_attribute(
            fl,
            code,
            v,
            opts,
            &mut a,
            &mut iss,
            &mut as4_path,
            &mut as4_aggregator,
        )?;
    }
    // RFC 6793 §4.2.3: merge AS4_PATH / AS4_AGGREGATOR on a 2-octet session.
    if !opts.four_octet_as {
        let mut use_as4_path = true;
        if let Some(ag4) = as4_aggregator {
            match &mut a.aggregator {
                Some(ag) if ag.asn == u32::from(AS_TRANS) => *ag = ag4,
                _ => use_as4_path = false,
            }
        }
        if let (true, Some(p4), Some(p)) = (use_as4_path, as4_path, a.as_path.as_mut()) {
            merge_as4_path(p, p4);
        }
    }
    let announces = !nlri.is_empty() || a.mp_reach.as_ref().is_some_and(|m| !m.nlri.is_empty());
    if announces {
        if a.origin.is_none() {
            iss.taw(attr::ORIGIN, "missing well-known attribute ORIGIN".into());
        }
        if a.as_path.is_none() {
            iss.taw(attr::AS_PATH, "missing well-known attribute AS_PATH".into());
        }
        if !nlri.is_empty() && a.next_hop.is_none() {
            iss.taw(
                attr::NEXT_HOP,
                "missing well-known attribute NEXT_HOP".into(),
            );
        }
    }
    Ok(Update {
        withdrawn,
        attrs: a,
        nlri,
    })
}

fn as_count(p: &AsPath) -> usize {
    p.segments
        .iter()
        .map(|s| match s.kind {
            SegmentKind::Sequence => s.asns.len(),
            SegmentKind::Set => 1,
            _ => 0,
        })
        .sum()
}

fn merge_as4_path(p: &mut AsPath, p4: AsPath) {
    let (n, n4) = (as_count(p), as_count(&p4));
    if n < n4 {
        return; // AS4_PATH is longer: ignore it
    }
    let mut keep = n - n4;
    let mut merged = Vec::new();
    for s in p.segments.drain(..) {
        if keep == 0 && !matches!(s.kind, SegmentKind::ConfedSequence | SegmentKind::ConfedSet) {
            break;
        }
        match s.kind {
            SegmentKind::Sequence => {
                let take = keep.min(s.asns.len());
                keep -= take;
                merged.push(AsSegment {
                    kind: s.kind,
                    asns: s.asns[..take].to_vec(),
                });
            }
            SegmentKind::Set => {
                keep -= 1;
                merged.push(s);
            }
            _ => merged.push(s),
        }
    }
    merged.extend(p4.segments);
    // Join adjacent sequences split by the merge.
    let mut out: Vec<AsSegment> = Vec::with_capacity(merged.len());
    for s in merged {
        match out.last_mut() {
            Some(l)
                if l.kind == SegmentKind::Sequence
                    && s.kind == SegmentKind::Sequence
                    && l.asns.len() + s.asns.len() <= 255 =>
            {
                l.asns.extend(s.asns)
            }
            _ if s.asns.is_empty() => {}
            _ => out.push(s),
        }
    }
    p.segments = out;
}

fn decode_as_path(v: &[u8], four: bool) -> Result<AsPath, String> {
    let w = if four { 4 } else { 2 };
    let mut segments = Vec::new();
    let mut i = 0;
    while i < v.len() {
        if i + 2 > v.len() {
            return Err(format!("segment header at offset {i} is truncated"));
        }
        let kind = match v[i] {
            1 => SegmentKind::Set,
            2 => SegmentKind::Sequence,
            3 => SegmentKind::ConfedSequence,
            4 => SegmentKind::ConfedSet,
            t => return Err(format!("segment type {t}, expected 1..=4")),
        };
        let n = usize::from(v[i + 1]);
        if n == 0 {
            return Err(format!("segment at offset {i} has zero length"));
        }
        let end = i + 2 + n * w;
        if end > v.len() {
            return Err(format!(
                "segment at offset {i} of {n} ASes overruns the attribute"
            ));
        }
        let asns = v[i + 2..end]
            .chunks_exact(w)
            .map(|c| {
                if four {
                    u32::from_be_bytes([c[0], c[1], c[2], c[3]])
                } else {
                    u32::from(u16::from_be_bytes([c[0], c[1]]))
                }
            })
            .collect();
        segments.push(AsSegment { kind, asns });
        i = end;
    }
    Ok(AsPath { segments })
}

#[allow(clippy::too_many_arguments)]
fn decode_attribute(
    fl: u8,
    code: u8,
    v: &[u8],
    opts: WireOptions,
    a: &mut PathAttributes,
    iss: &mut Issues<'_>,
    as4_path: &mut Option<AsPath>,
    as4_aggregator: &mut Option<Aggregator>,
) -> Result<(), DecodeError> {
    use flags::{OPTIONAL, TRANSITIVE};
    let expected = match code {
        attr::ORIGIN
        | attr::AS_PATH
        | attr::NEXT_HOP
        | attr::LOCAL_PREF
        | attr::ATOMIC_AGGREGATE => Some(TRANSITIVE),
        attr::MULTI_EXIT_DISC
        | attr::ORIGINATOR_ID
        | attr::CLUSTER_LIST
        | attr::MP_REACH_NLRI
        | attr::MP_UNREACH_NLRI => Some(OPTIONAL),
        attr::AGGREGATOR | attr::COMMUNITIES | attr::AS4_PATH | attr::AS4_AGGREGATOR => {
            Some(OPTIONAL | TRANSITIVE)
        }
        _ => None,
    };
    let Some(expected) = expected else {
        if fl & OPTIONAL == 0 {
            let mut data = vec![fl, code];
            data.push(v.len().min(255) as u8);
            data.extend_from_slice(v);
            return Err(err(
                codes::UPDATE,
                codes::UPD_UNRECOGNIZED_WELL_KNOWN,
                data,
                format!("BGP UPDATE: unrecognized well-known attribute {code}"),
            ));
        }
        if fl & TRANSITIVE != 0 {
            a.unknown.push(RawAttribute {
                flags: fl,
                type_code: code,
                value: v.to_vec(),
            });
        }
        return Ok(());
    };
    if fl & (OPTIONAL | TRANSITIVE) != expected {
        iss.taw(
            code,
            format!("attribute {code}: flags {fl:#04x} conflict with its type"),
        );
    }
    let len_err = |iss: &mut Issues<'_>, want: &str| {
        iss.taw(
            code,
            format!("attribute {code}: length {}, expected {want}", v.len()),
        )
    };
    let u32_of = |v: &[u8]| u32::from_be_bytes([v[0], v[1], v[2], v[3]]);
    match code {
        attr::ORIGIN => match v {
            [0] => a.origin = Some(Origin::Igp),
            [1] => a.origin = Some(Origin::Egp),
            [2] => a.origin = Some(Origin::Incomplete),
            [x] => iss.taw(code, format!("ORIGIN value {x}, expected 0, 1 or 2")),
            _ => len_err(iss, "1"),
        },
        attr::AS_PATH => match decode_as_path(v, opts.four_octet_as) {
            Ok(p) => a.as_path = Some(p),
            Err(e) => iss.taw(code, format!("malformed AS_PATH: {e}")),
        },
        attr::NEXT_HOP => {
            if v.len() != 4 {
                len_err(iss, "4");
            } else {
                let nh = Ipv4Addr::new(v[0], v[1], v[2], v[3]);
                if nh.is_unspecified() || nh.is_broadcast() || nh.is_multicast() {
                    iss.taw(code, format!("NEXT_HOP {nh} is not a unicast address"));
                } else {
                    a.next_hop = Some(nh);
                }
            }
        }
        attr::MULTI_EXIT_DISC if v.len() == 4 => a.med = Some(u32_of(v)),
        attr::MULTI_EXIT_DISC => len_err(iss, "4"),
        attr::LOCAL_PREF if v.len() == 4 => a.local_pref = Some(u32_of(v)),
        attr::LOCAL_PREF => len_err(iss, "4"),
        attr::ATOMIC_AGGREGATE if v.is_empty() => a.atomic_aggregate = true,
        attr::ATOMIC_AGGREGATE => iss.discard(
            code,
            format!("ATOMIC_AGGREGATE: length {}, expected 0", v.len()),
        ),
        attr::AGGREGATOR => {
            let w = if opts.four_octet_as { 8 } else { 6 };
            if v.len() != w {
                iss.discard(
                    code,
                    format!("AGGREGATOR: length {}, expected {w}", v.len()),
                );
            } else {
                let (asn, ip) = if opts.four_octet_as {
                    (u32_of(v), &v[4..])
                } else {
                    (u32::from(u16::from_be_bytes([v[0], v[1]])), &v[2..])
                };
                a.aggregator = Some(Aggregator {
                    asn,
                    address: Ipv4Addr::new(ip[0], ip[1], ip[2], ip[3]),
                });
            }
        }
        attr::COMMUNITIES => {
            if v.is_empty() || !v.len().is_multiple_of(4) {
                len_err(iss, "a non-zero multiple of 4");
            } else {
                a.communities = v.chunks_exact(4).map(u32_of).collect();
            }
        }
        attr::ORIGINATOR_ID if v.len() == 4 => {
            a.originator_id = Some(Ipv4Addr::new(v[0], v[1], v[2], v[3]))
        }
        attr::ORIGINATOR_ID => len_err(iss, "4"),
        attr::CLUSTER_LIST => {
            if v.is_empty() || !v.len().is_multiple_of(4) {
                len_err(iss, "a non-zero multiple of 4");
            } else {
                a.cluster_list = v
                    .chunks_exact(4)
                    .map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3]))
                    .collect();
            }
        }
        attr::MP_REACH_NLRI => decode_mp_reach(v, a, iss)?,
        attr::MP_UNREACH_NLRI => {
            if v.len() < 3 {
                return Err(mp_err(
                    code,
                    format!("length {}, expected at least 3", v.len()),
                ));
            }
            let afi_safi = AfiSafi {
                afi: u16::from_be_bytes([v[0], v[1]]),
                safi: v[2],
            };
            let Some(fam) = afi_safi.family() else {
                iss.discard(
                    code,
                    format!(
                        "MP_UNREACH_NLRI: AFI {} SAFI {} is not spoken",
                        afi_safi.afi, afi_safi.safi
                    ),
                );
                return Ok(());
            };
            let withdrawn = decode_prefixes(&v[3..], fam == super::Family::Ipv6)
                .map_err(|e| mp_err(code, e))?;
            a.mp_unreach = Some(MpUnreach {
                afi_safi,
                withdrawn,
            });
        }
        attr::AS4_PATH => {
            if opts.four_octet_as {
                iss.discard(code, "AS4_PATH on a 4-octet AS session".into());
            } else {
                match decode_as_path(v, true) {
                    Ok(p)
                        if p.segments.iter().all(|s| {
                            matches!(s.kind, SegmentKind::Set | SegmentKind::Sequence)
                        }) =>
                    {
                        *as4_path = Some(p)
                    }
                    Ok(_) => iss.discard(code, "AS4_PATH with confederation segments".into()),
                    Err(e) => iss.discard(code, format!("malformed AS4_PATH: {e}")),
                }
            }
        }
        attr::AS4_AGGREGATOR => {
            if opts.four_octet_as {
                iss.discard(code, "AS4_AGGREGATOR on a 4-octet AS session".into());
            } else if v.len() != 8 {
                iss.discard(
                    code,
                    format!("AS4_AGGREGATOR: length {}, expected 8", v.len()),
                );
            } else {
                *as4_aggregator = Some(Aggregator {
                    asn: u32_of(v),
                    address: Ipv4Addr::new(v[4], v[5], v[6], v[7]),
                });
            }
        }
        _ => {}
    }
    Ok(())
}

fn mp_err(code: u8, why: String) -> DecodeError {
    let name = if code == attr::MP_REACH_NLRI {
        "MP_REACH_NLRI"
    } else {
        "MP_UNREACH_NLRI"
    };
    err(
        codes::UPDATE,
        codes::UPD_OPTIONAL_ATTR,
        Vec::new(),
        format!("BGP UPDATE: {name}: {why}"),
    )
}

fn decode_mp_reach(
    v: &[u8],
    a: &mut PathAttributes,
    iss: &mut Issues<'_>,
) -> Result<(), DecodeError> {
    let code = attr::MP_REACH_NLRI;
    if v.len() < 5 {
        return Err(mp_err(
            code,
            format!("length {}, expected at least 5", v.len()),
        ));
    }
    let afi_safi = AfiSafi {
        afi: u16::from_be_bytes([v[0], v[1]]),
        safi: v[2],
    };
    let nhl = usize::from(v[3]);
    if 4 + nhl + 1 > v.len() {
        return Err(mp_err(
            code,
            format!("next hop length {nhl} overruns the attribute"),
        ));
    }
    let Some(fam) = afi_safi.family() else {
        iss.discard(
            code,
            format!(
                "MP_REACH_NLRI: AFI {} SAFI {} is not spoken",
                afi_safi.afi, afi_safi.safi
            ),
        );
        return Ok(());
    };
    let nh = &v[4..4 + nhl];
    let nlri =
        decode_prefixes(&v[5 + nhl..], fam == super::Family::Ipv6).map_err(|e| mp_err(code, e))?;
    let next_hop: Vec<IpAddr> = match (fam, nhl) {
        (super::Family::Ipv4, 4) => vec![IpAddr::V4(Ipv4Addr::new(nh[0], nh[1], nh[2], nh[3]))],
        (super::Family::Ipv6, 16 | 32) => nh
            .chunks_exact(16)
            .map(|c| {
                let mut o = [0u8; 16];
                o.copy_from_slice(c);
                IpAddr::V6(Ipv6Addr::from(o))
            })
            .collect(),
        _ => {
            iss.taw(
                code,
                format!("MP_REACH_NLRI: next hop length {nhl} is invalid for the family"),
            );
            Vec::new()
        }
    };
    a.mp_reach = Some(MpReach {
        afi_safi,
        next_hop,
        nlri,
    });
    Ok(())
}
