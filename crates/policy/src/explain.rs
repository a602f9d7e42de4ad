//! A human-readable account of a [`Verdict`]: the egress evaluation at the source, the
//! ingress evaluation at the destination, each step by step, and the deciding rule
//! (`calicoctl explain` prints it).
//!
//! Only tiers with at least one policy selecting the endpoint in that direction appear, and
//! in them only the selecting policies, in evaluation order (as Felix renders an endpoint's
//! chains); policies that do not select the endpoint are left out. Each rule tried is shown
//! with its stable ID, a summary of its match fields and either `matched` or the first field
//! that did not match and why.
//!
//! ```text
//! packet: TCP 10.244.201.17:40000 -> 10.244.200.9:80 (y/a -> x/a)
//!
//! egress from y/a (wep/y/a):
//!   no tier applies (no policy selects the endpoint for egress)
//!   profile kns.y
//!     [profile/kns.y/egress/0] Allow
//!       matched: allow
//!   result: allowed by profile/kns.y/egress/0
//!
//! ingress to x/a (wep/x/a):
//!   tier default
//!     policy knp/x/allow-b
//!       [tier/default/policy/knp/x/allow-b/ingress/0] Allow source.selector=(...)
//!         no match: source.selector: 10.244.201.17 is not an endpoint or network set matching ...
//!       no rule matched: next policy
//!     end of tier default: deny (tier/default/end-of-tier-deny)
//!   result: denied by tier/default/end-of-tier-deny
//!
//! verdict: DENIED by tier/default/end-of-tier-deny (ingress to x/a)
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;

use calico_api::Action;

use crate::eval::{DirectionTrace, Step, Verdict};
use crate::ids::{Direction, RuleId};
use crate::model::Model;
use crate::packet::Packet;
use crate::program::compile;
use crate::rule::BackendRule;

/// One line describing the packet: protocol, addresses and ports (or ICMP type/code).
pub fn describe_packet(pkt: &Packet) -> String {
    match (pkt.src_port, pkt.dst_port) {
        (Some(sp), Some(dp)) => format!(
            "{} {}:{sp} -> {}:{dp}",
            pkt.protocol,
            addr(pkt.src_ip),
            addr(pkt.dst_ip)
        ),
        _ => {
            let mut s = format!("{} {} -> {}", pkt.protocol, pkt.src_ip, pkt.dst_ip);
            if let Some(t) = pkt.icmp_type {
                let _ = write!(s, " type {t}");
            }
            if let Some(c) = pkt.icmp_code {
                let _ = write!(s, " code {c}");
            }
            s
        }
    }
}

fn addr(ip: std::net::IpAddr) -> String {
    if ip.is_ipv6() {
        format!("[{ip}]")
    } else {
        ip.to_string()
    }
}

/// The rules of every endpoint's program by ID, to show what each traced rule matches on.
fn rule_index(model: &Model, verdict: &Verdict) -> BTreeMap<RuleId, BackendRule> {
    let mut out = BTreeMap::new();
    for trace in [&verdict.egress, &verdict.ingress].into_iter().flatten() {
        let Some(ep) = model.endpoint(&trace.endpoint) else {
            continue;
        };
        let program = compile(model, ep);
        let dir = match trace.direction {
            Direction::Ingress => &program.ingress,
            Direction::Egress => &program.egress,
        };
        let tiers = dir
            .tiers
            .iter()
            .flat_map(|t| t.policies.iter().flat_map(|p| p.rules.iter()));
        let profiles = dir.profiles.iter().flat_map(|p| p.rules.iter());
        for r in tiers.chain(profiles) {
            out.insert(r.id.clone(), r.rule.clone());
        }
    }
    out
}

/// The whole explanation. `from` / `to` name the two ends (`x/a`) for the reader.
pub fn render(model: &Model, pkt: &Packet, verdict: &Verdict, from: &str, to: &str) -> String {
    let rules = rule_index(model, verdict);
    let mut out = format!("packet: {} ({from} -> {to})\n", describe_packet(pkt));
    if verdict.deciding == RuleId::loopback() {
        out.push_str(
            "\nthe source and destination are the same endpoint: the packet never leaves it\n",
        );
    }
    let side = |out: &mut String, trace: &Option<DirectionTrace>, title: String| {
        out.push('\n');
        match trace {
            Some(t) => {
                let _ = writeln!(out, "{title} ({}):", t.endpoint);
                render_trace(out, t, &rules);
            }
            None if verdict.deciding != RuleId::loopback() => {
                let _ = writeln!(out, "{title}:\n  not a Calico endpoint: no policy applies");
            }
            None => {}
        }
    };
    if verdict.deciding != RuleId::loopback() {
        side(&mut out, &verdict.egress, format!("egress from {from}"));
        side(&mut out, &verdict.ingress, format!("ingress to {to}"));
    }
    let word = if verdict.allowed { "ALLOWED" } else { "DENIED" };
    let at = match (&verdict.egress, &verdict.ingress) {
        (Some(e), _) if !e.allowed => format!(" (egress from {from})"),
        (_, Some(_)) => format!(" (ingress to {to})"),
        (Some(_), None) => format!(" (egress from {from})"),
        (None, None) => String::new(),
    };
    let _ = writeln!(out, "\nverdict: {word} by {}{at}", verdict.deciding);
    out
}

fn action_word(a: Action) -> &'static str {
    match a {
        Action::Allow => "allow",
        Action::Deny => "deny",
        Action::Log => "log, then continue with the next rule",
        Action::Pass => "pass: skip the rest of this tier",
    }
}

fn render_trace(out: &mut String, t: &DirectionTrace, rules: &BTreeMap<RuleId, BackendRule>) {
    let any_tier = t.steps.iter().any(|s| matches!(s, Step::EnterTier { .. }));
    if !any_tier {
        let _ = writeln!(
            out,
            "  no tier applies (no policy selects the endpoint for {})",
            t.direction.as_str()
        );
    }
    let mut in_profile = false;
    for step in &t.steps {
        match step {
            Step::EnterTier { tier } => {
                in_profile = false;
                let _ = writeln!(out, "  tier {tier}");
            }
            Step::EnterPolicy { policy, staged } => {
                let note = if *staged {
                    " (staged: evaluated for display only, never enforced)"
                } else {
                    ""
                };
                let _ = writeln!(out, "    policy {policy}{note}");
            }
            Step::Rule {
                id,
                action,
                mismatch,
            } => {
                let pad = if in_profile { "    " } else { "      " };
                let summary = rules
                    .get(id)
                    .map_or_else(|| format!("{action:?}"), BackendRule::summary);
                let _ = writeln!(out, "{pad}[{id}] {summary}");
                match mismatch {
                    None => {
                        let _ = writeln!(out, "{pad}  matched: {}", action_word(*action));
                    }
                    Some(m) => {
                        let _ = writeln!(out, "{pad}  no match: {}: {}", m.field, m.detail);
                    }
                }
            }
            Step::PolicyNoMatch { .. } => {
                let _ = writeln!(out, "      no rule matched: next policy");
            }
            Step::StagedIgnored { id, .. } => {
                let _ = writeln!(
                    out,
                    "      staged policy would have decided by {id}: ignored, next policy"
                );
            }
            Step::EndOfTier { tier, action, id } => {
                let what = match action {
                    Action::Pass => "pass to the next tier",
                    _ => "deny",
                };
                let _ = writeln!(out, "    end of tier {tier}: {what} ({id})");
            }
            Step::EnterProfile { profile, exists } => {
                in_profile = true;
                let note = if *exists {
                    ""
                } else {
                    " (missing: stands in as deny-all)"
                };
                let _ = writeln!(out, "  profile {profile}{note}");
            }
            Step::NoProfileDeny { id } => {
                let _ = writeln!(out, "  no profile allowed the packet: deny ({id})");
            }
        }
    }
    let word = if t.allowed { "allowed" } else { "denied" };
    let _ = writeln!(out, "  result: {word} by {}", t.deciding);
}
