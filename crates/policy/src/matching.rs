//! Matching one backend rule against a packet, reporting the first match field that fails.
//!
//! Selectors are matched as Felix's IP sets match them: a peer address matches `selector`
//! when any endpoint or network set containing the address has matching labels, and matches
//! `notSelector` when none does. Named ports are resolved against the endpoints owning the
//! address (that also match the side's selector), by name, protocol and number.

use std::net::IpAddr;

use calico_api::{IcmpFields, Port};
use calico_selector::Selector;
use serde::Serialize;

use crate::model::{Member, Model};
use crate::packet::Packet;
use crate::rule::{BackendEntity, BackendRule};

/// Why a rule did not match: the field (`protocol`, `source.selector`, ...) and what was found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    pub field: String,
    pub detail: String,
}

fn fail(field: &str, detail: impl Into<String>) -> Result<(), Mismatch> {
    Err(Mismatch {
        field: field.into(),
        detail: detail.into(),
    })
}

/// `Ok(())` when `rule` matches `pkt`.
///
/// # Errors
/// The first failing match criterion.
pub fn match_rule(model: &Model, rule: &BackendRule, pkt: &Packet) -> Result<(), Mismatch> {
    if let Some(v) = rule.ip_version
        && v != pkt.ip_version()
    {
        return fail("ipVersion", format!("packet is IPv{}", pkt.ip_version()));
    }
    let proto = pkt.protocol.number();
    if let Some(p) = rule.protocol
        && p.number() != proto
    {
        return fail("protocol", format!("packet protocol is {}", pkt.protocol));
    }
    if let Some(p) = rule.not_protocol
        && p.number() == proto
    {
        return fail(
            "notProtocol",
            format!("packet protocol is {}", pkt.protocol),
        );
    }
    if let Some(icmp) = &rule.icmp
        && !icmp_matches(icmp, pkt)
    {
        return fail("icmp", icmp_detail(pkt));
    }
    if let Some(icmp) = &rule.not_icmp
        && icmp_matches(icmp, pkt)
    {
        return fail("notICMP", icmp_detail(pkt));
    }
    match_entity(model, &rule.source, pkt.src_ip, pkt.src_port, pkt, "source")?;
    match_entity(
        model,
        &rule.destination,
        pkt.dst_ip,
        pkt.dst_port,
        pkt,
        "destination",
    )
}

fn icmp_matches(icmp: &IcmpFields, pkt: &Packet) -> bool {
    let is_icmp = matches!(pkt.protocol.number(), 1 | 58);
    is_icmp
        && icmp.icmp_type.is_none_or(|t| pkt.icmp_type == Some(t))
        && icmp.code.is_none_or(|c| pkt.icmp_code == Some(c))
}

fn icmp_detail(pkt: &Packet) -> String {
    match (pkt.icmp_type, pkt.icmp_code) {
        (Some(t), Some(c)) => format!("packet ICMP type {t} code {c}"),
        (Some(t), None) => format!("packet ICMP type {t}"),
        _ => format!("packet protocol is {}", pkt.protocol),
    }
}

fn match_entity(
    model: &Model,
    e: &BackendEntity,
    ip: IpAddr,
    port: Option<u16>,
    pkt: &Packet,
    side: &str,
) -> Result<(), Mismatch> {
    let field = |f: &str| format!("{side}.{f}");
    if !e.nets.is_empty() && !e.nets.iter().any(|n| n.contains(&ip)) {
        return fail(&field("nets"), format!("{ip} is in none of them"));
    }
    if let Some(n) = e.not_nets.iter().find(|n| n.contains(&ip)) {
        return fail(&field("notNets"), format!("{ip} is in {n}"));
    }
    if let Some(sel) = &e.selector
        && !selector_matches(model, sel, ip)
    {
        return fail(
            &field("selector"),
            format!("{ip} is not an endpoint or network set matching {sel}"),
        );
    }
    if let Some(sel) = &e.not_selector
        && selector_matches(model, sel, ip)
    {
        return fail(
            &field("notSelector"),
            format!("{ip} is an endpoint or network set matching {sel}"),
        );
    }
    if !e.ports.is_empty() && !ports_match(model, &e.ports, e.selector.as_ref(), ip, port, pkt) {
        return fail(&field("ports"), port_detail(port));
    }
    if !e.not_ports.is_empty()
        && ports_match(model, &e.not_ports, e.selector.as_ref(), ip, port, pkt)
    {
        return fail(&field("notPorts"), port_detail(port));
    }
    Ok(())
}

fn port_detail(port: Option<u16>) -> String {
    match port {
        Some(p) => format!("packet port is {p}"),
        None => "packet has no port".into(),
    }
}

/// Whether any endpoint or network set containing `ip` matches `sel`.
pub fn selector_matches(model: &Model, sel: &Selector, ip: IpAddr) -> bool {
    model.members_for_ip(ip).any(|m| sel.matches(m.labels()))
}

fn ports_match(
    model: &Model,
    ports: &[Port],
    sel: Option<&Selector>,
    ip: IpAddr,
    port: Option<u16>,
    pkt: &Packet,
) -> bool {
    let Some(port) = port else {
        return false;
    };
    if !pkt.protocol.supports_ports() {
        return false;
    }
    ports.iter().any(|p| match p {
        Port::Range { .. } => p.contains(port),
        Port::Named(name) => model.members_for_ip(ip).any(|m| match m {
            Member::Endpoint(ep) => {
                sel.is_none_or(|s| s.matches(&ep.labels))
                    && ep.ports.iter().any(|np| {
                        &np.name == name
                            && np.port == port
                            && np.protocol.number() == pkt.protocol.number()
                    })
            }
            Member::NetSet(_) => false,
        }),
    })
}
