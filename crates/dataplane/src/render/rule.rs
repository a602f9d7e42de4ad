//! One Calico rule → nft rules (Felix's `felix/rules/policy.go`, in nftables terms).
//!
//! - A rule without an IP version, CIDR, set or ICMP match renders once and applies to both
//!   families; otherwise it renders once per IP version it can match (`ip` / `ip6` matches,
//!   CIDRs filtered to the family; a family where a positive CIDR list becomes empty is
//!   skipped, as Felix's `FilterRuleToIPVersion` does).
//! - Port alternatives (numeric ports OR named-port sets) become one nft rule per
//!   alternative with the same action, instead of Felix's scratch mark bits.
//! - Every nft rule carries `counter` and `comment "<rule id>"`.
//! - Allow: set the accept mark and return; Pass: set the pass mark and return; Deny: drop;
//!   Log: `log prefix` and continue.

use std::fmt::Write;

use calico_api::Action;
use calico_calc::messages::{EntityMatch, PortRange, Rule};
use ipnet::IpNet;

use crate::config::{MARK_ACCEPT, MARK_PASS};
use crate::names;

/// How one family is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fam {
    Any,
    V4,
    V6,
}

impl Fam {
    fn ip(self) -> &'static str {
        match self {
            Fam::V6 => "ip6",
            _ => "ip",
        }
    }
    fn version(self) -> u8 {
        match self {
            Fam::V6 => 6,
            _ => 4,
        }
    }
    fn keep(self, n: &IpNet) -> bool {
        match self {
            Fam::Any => true,
            Fam::V4 => matches!(n, IpNet::V4(_)),
            Fam::V6 => matches!(n, IpNet::V6(_)),
        }
    }
}

fn needs_family(r: &Rule) -> bool {
    let e = |m: &EntityMatch| {
        !m.nets.is_empty()
            || !m.not_nets.is_empty()
            || !m.ip_set_ids.is_empty()
            || !m.not_ip_set_ids.is_empty()
            || !m.named_port_ip_set_ids.is_empty()
            || !m.not_named_port_ip_set_ids.is_empty()
    };
    r.ip_version.is_some()
        || matches!(r.protocol, Some(1) | Some(58))
        || r.icmp.is_some()
        || r.not_icmp.is_some()
        || e(&r.src)
        || e(&r.dst)
}

fn nets_text(nets: &[IpNet], fam: Fam) -> Vec<String> {
    let kept: Vec<IpNet> = nets.iter().filter(|n| fam.keep(n)).copied().collect();
    IpNet::aggregate(&kept)
        .into_iter()
        .map(|n| {
            if n.prefix_len() == n.max_prefix_len() {
                n.addr().to_string()
            } else {
                n.to_string()
            }
        })
        .collect()
}

fn set_or_single(items: &[String]) -> String {
    if items.len() == 1 {
        items[0].clone()
    } else {
        format!("{{ {} }}", items.join(", "))
    }
}

fn ports_text(ports: &[PortRange]) -> String {
    let items: Vec<String> = ports
        .iter()
        .map(|p| {
            if p.min == p.max {
                p.min.to_string()
            } else {
                format!("{}-{}", p.min, p.max)
            }
        })
        .collect();
    set_or_single(&items)
}

/// One way a side's port criterion can be met.
#[derive(Clone, Debug)]
enum PortAlt<'a> {
    Any,
    Ports(&'a [PortRange]),
    Named(&'a str),
}

fn port_alts(m: &EntityMatch) -> Vec<PortAlt<'_>> {
    let mut alts = Vec::new();
    if !m.ports.is_empty() {
        alts.push(PortAlt::Ports(&m.ports));
    }
    for id in &m.named_port_ip_set_ids {
        alts.push(PortAlt::Named(id));
    }
    if alts.is_empty() {
        alts.push(PortAlt::Any);
    }
    alts
}

/// Address matches of one side; `None` when the side cannot match in this family.
fn addr_matches(m: &EntityMatch, dir: &str, fam: Fam, out: &mut Vec<String>) -> Option<()> {
    let ip = fam.ip();
    let v = fam.version();
    if !m.nets.is_empty() {
        let nets = nets_text(&m.nets, fam);
        if nets.is_empty() {
            return None;
        }
        out.push(format!("{ip} {dir}addr {}", set_or_single(&nets)));
    }
    let not_nets = nets_text(&m.not_nets, fam);
    if !not_nets.is_empty() {
        out.push(format!("{ip} {dir}addr != {}", set_or_single(&not_nets)));
    }
    for id in &m.ip_set_ids {
        out.push(format!("{ip} {dir}addr @{}", names::ip_set(v, id)));
    }
    for id in &m.not_ip_set_ids {
        out.push(format!("{ip} {dir}addr != @{}", names::ip_set(v, id)));
    }
    Some(())
}

fn port_matches(m: &EntityMatch, dir: &str, fam: Fam, alt: &PortAlt<'_>, out: &mut Vec<String>) {
    let ip = fam.ip();
    let v = fam.version();
    match alt {
        PortAlt::Any => {}
        PortAlt::Ports(p) => out.push(format!("th {dir}port {}", ports_text(p))),
        PortAlt::Named(id) => out.push(format!(
            "{ip} {dir}addr . meta l4proto . th {dir}port @{}",
            names::ip_set(v, id)
        )),
    }
    if !m.not_ports.is_empty() {
        out.push(format!("th {dir}port != {}", ports_text(&m.not_ports)));
    }
    for id in &m.not_named_port_ip_set_ids {
        out.push(format!(
            "{ip} {dir}addr . meta l4proto . th {dir}port != @{}",
            names::ip_set(v, id)
        ));
    }
}

fn has_ports(m: &EntityMatch) -> bool {
    !m.ports.is_empty() || !m.not_ports.is_empty()
}

/// The verdict part of a rule for `action`.
pub fn action_text(action: Action, log_prefix: &str) -> String {
    match action {
        Action::Allow => format!("meta mark set meta mark | {MARK_ACCEPT:#010x} return"),
        Action::Pass => format!("meta mark set meta mark | {MARK_PASS:#010x} return"),
        Action::Deny => "drop".into(),
        Action::Log => format!("log prefix {}", names::quoted(&format!("{log_prefix}: "))),
    }
}

/// The nft rules (without `add rule ...`) for one Calico rule.
pub fn render_rule(r: &Rule, log_prefix: &str) -> Vec<String> {
    let fams: Vec<Fam> = if !needs_family(r) {
        vec![Fam::Any]
    } else {
        let mut f = Vec::new();
        let allowed = |v: u8| {
            r.ip_version.is_none_or(|x| x == v)
                && match r.protocol {
                    Some(1) => v == 4,
                    Some(58) => v == 6,
                    _ => true,
                }
        };
        if allowed(4) {
            f.push(Fam::V4);
        }
        if allowed(6) {
            f.push(Fam::V6);
        }
        f
    };
    let comment = names::comment(r.id.as_str());
    let verdict = action_text(r.action, log_prefix);
    let mut out = Vec::new();
    for fam in fams {
        let mut base = Vec::new();
        if let Some(p) = r.protocol {
            base.push(format!("meta l4proto {p}"));
        } else if has_ports(&r.src) || has_ports(&r.dst) {
            base.push("meta l4proto { 6, 17, 132 }".to_string());
        }
        if let Some(p) = r.not_protocol {
            base.push(format!("meta l4proto != {p}"));
        }
        if addr_matches(&r.src, "s", fam, &mut base).is_none()
            || addr_matches(&r.dst, "d", fam, &mut base).is_none()
        {
            continue;
        }
        let icmp = if fam == Fam::V6 { "icmpv6" } else { "icmp" };
        if let Some(i) = r.icmp {
            base.push(format!("{icmp} type {}", i.icmp_type));
            if let Some(c) = i.code {
                base.push(format!("{icmp} code {c}"));
            }
        }
        if let Some(i) = r.not_icmp {
            match i.code {
                None => base.push(format!("{icmp} type != {}", i.icmp_type)),
                Some(c) => base.push(format!(
                    "{icmp} type . {icmp} code != {{ {} . {c} }}",
                    i.icmp_type
                )),
            }
        }
        for sa in port_alts(&r.src) {
            for da in port_alts(&r.dst) {
                let mut m = base.clone();
                port_matches(&r.src, "s", fam, &sa, &mut m);
                port_matches(&r.dst, "d", fam, &da, &mut m);
                let family_pinned = m.iter().any(|x| {
                    x.starts_with("ip ") || x.starts_with("ip6 ") || x.starts_with("icmp")
                });
                let mut line = String::new();
                match fam {
                    Fam::V4 if !family_pinned => line.push_str("meta nfproto ipv4 "),
                    Fam::V6 if !family_pinned => line.push_str("meta nfproto ipv6 "),
                    _ => {}
                }
                for x in &m {
                    line.push_str(x);
                    line.push(' ');
                }
                let _ = write!(line, "counter {verdict} comment \"{comment}\"");
                out.push(line);
            }
        }
    }
    out
}
