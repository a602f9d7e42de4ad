//! The pure renderer: [`DesiredState`] → [`Ruleset`] (the whole `inet calico` table).
//!
//! Layout (Felix's chain names, `felix/rules/rule_defs.go`; nftables mode):
//!
//! ```text
//! filter-FORWARD (hook forward)  → cali-FORWARD
//!   ct state established,related accept            (fast path: policy sees new flows only)
//!   iifname "cali*" ct state invalid drop, oifname "cali*" ct state invalid drop
//!   iifname "cali*" jump cali-from-wl-dispatch      (egress policy of the sending workload)
//!   oifname "cali*" jump cali-to-wl-dispatch        (ingress policy of the receiving one)
//! cali-from-wl-dispatch: iifname vmap @cali-from-wl-dispatch { "caliX" : goto cali-fw-caliX }
//!   then drop "unknown-interface" (a cali* interface without an endpoint)
//! cali-fw-<iface> / cali-tw-<iface>: Felix's per-endpoint chain (§4.4): clear the
//!   accept/pass marks; per tier: clear pass, jump each policy chain unless passed, return if
//!   accepted, end-of-tier drop unless passed (or only count, for a Pass default); then the
//!   profiles (return if accepted); then drop "no-profile-deny".
//!   Returning from the per-endpoint chain means "allowed"; every other path drops.
//! filter-INPUT (hook input) → cali-INPUT: established accept; VXLAN only from known VTEPs;
//!   iifname "cali*" goto cali-wl-to-host (egress policy, then defaultEndpointToHostAction).
//! nat-POSTROUTING (hook postrouting, srcnat) → cali-POSTROUTING → cali-nat-outgoing:
//!   masquerade from natOutgoing pools to destinations outside every pool.
//! ```
//!
//! Host → workload traffic is not policed (Felix's `-o cali+ -j RETURN` in `cali-OUTPUT`).

mod rule;
mod ruleset;

use std::collections::{BTreeMap, BTreeSet};

use calico_calc::messages::{
    EncapType, EndOfTierAction, IpSetMember, IpSetType, LocalEndpoint, PolicyId, PolicyRules,
};
use calico_policy::{Direction, RuleId};
use ipnet::IpNet;

pub use rule::{action_text, render_rule};
pub use ruleset::{ChainDef, NeedsFull, Ruleset, SetDef, delta_script};

use crate::config::{Config, EndpointToHostAction, MARK_ACCEPT, MARK_PASS, VxlanMode};
use crate::names;
use crate::state::DesiredState;

/// Whether the VXLAN device should exist, by the configuration and the pools.
pub fn vxlan_wanted(cfg: &Config, st: &DesiredState) -> bool {
    match cfg.vxlan.mode {
        VxlanMode::Enabled => true,
        VxlanMode::Disabled => false,
        VxlanMode::Auto => st
            .pools
            .values()
            .any(|p| !p.disabled && p.encap == EncapType::Vxlan),
    }
}

fn net_text(n: &IpNet) -> String {
    if n.prefix_len() == n.max_prefix_len() {
        n.addr().to_string()
    } else {
        n.to_string()
    }
}

/// Interval-set elements of one family: aggregated, so no two overlap (nft refuses
/// overlapping intervals) and a delta is an exact add/delete of elements.
fn net_elements(nets: impl Iterator<Item = IpNet>, v: u8) -> BTreeSet<String> {
    let kept: Vec<IpNet> = nets
        .filter(|n| matches!((n, v), (IpNet::V4(_), 4) | (IpNet::V6(_), 6)))
        .collect();
    IpNet::aggregate(&kept).iter().map(net_text).collect()
}

fn ip_set_defs(v: u8, set_type: IpSetType, members: &BTreeSet<IpSetMember>) -> SetDef {
    let addr = if v == 4 { "ipv4_addr" } else { "ipv6_addr" };
    match set_type {
        IpSetType::Net => SetDef {
            type_: addr.into(),
            interval: true,
            is_map: false,
            elements: net_elements(
                members.iter().filter_map(|m| match m {
                    IpSetMember::Net(n) => Some(*n),
                    IpSetMember::IpPort { .. } => None,
                }),
                v,
            ),
        },
        IpSetType::IpPort => SetDef {
            type_: format!("{addr} . inet_proto . inet_service"),
            interval: false,
            is_map: false,
            elements: members
                .iter()
                .filter_map(|m| match m {
                    IpSetMember::IpPort { ip, protocol, port } if m.ip_version() == v => {
                        Some(format!("{ip} . {protocol} . {port}"))
                    }
                    _ => None,
                })
                .collect(),
        },
    }
}

fn interval_set(elements: BTreeSet<String>, v: u8) -> SetDef {
    SetDef {
        type_: if v == 4 { "ipv4_addr" } else { "ipv6_addr" }.into(),
        interval: true,
        is_map: false,
        elements,
    }
}

fn chain(rules: Vec<String>) -> ChainDef {
    ChainDef { base: None, rules }
}

fn base(hook: &str, rules: Vec<String>) -> ChainDef {
    ChainDef {
        base: Some(hook.into()),
        rules,
    }
}

struct Builder<'a> {
    cfg: &'a Config,
    rs: Ruleset,
}

impl Builder<'_> {
    fn comment(&mut self, id: RuleId) -> String {
        let c = names::comment(id.as_str());
        self.rs.comments.insert(c.clone(), id);
        c
    }

    fn rules_chain(&mut self, name: String, rules: &[calico_calc::messages::Rule]) {
        let mut lines = Vec::new();
        for r in rules {
            let c = names::comment(r.id.as_str());
            self.rs.comments.insert(c, r.id.clone());
            lines.extend(render_rule(r, &self.cfg.log_prefix));
        }
        self.rs.chains.insert(name, chain(lines));
    }

    fn endpoint_chain(
        &mut self,
        ep: &LocalEndpoint,
        dir: Direction,
        policy_chain: &dyn Fn(&PolicyId, Direction) -> String,
    ) -> Vec<String> {
        let keep = !(MARK_ACCEPT | MARK_PASS);
        let mut r = vec![format!("meta mark set meta mark & {keep:#010x}")];
        if dir == Direction::Egress && self.cfg.drop_encap_from_workloads {
            r.push(format!(
                "meta l4proto 17 th dport {} counter drop comment \"drop-vxlan-from-workload\"",
                self.cfg.vxlan.port
            ));
            r.push("meta l4proto 4 counter drop comment \"drop-ipip-from-workload\"".into());
        }
        for tier in &ep.tiers {
            let pols = match dir {
                Direction::Ingress => &tier.ingress_policies,
                Direction::Egress => &tier.egress_policies,
            };
            if pols.is_empty() {
                continue;
            }
            r.push(format!("meta mark set meta mark & {:#010x}", !MARK_PASS));
            for p in pols {
                r.push(format!(
                    "meta mark & {MARK_PASS:#010x} == 0 jump {}",
                    policy_chain(p, dir)
                ));
                r.push(format!("meta mark & {MARK_ACCEPT:#010x} != 0 return"));
            }
            match tier.end_of_tier {
                EndOfTierAction::Deny => {
                    let c = self.comment(RuleId::end_of_tier(&tier.name, false));
                    r.push(format!(
                        "meta mark & {MARK_PASS:#010x} == 0 counter drop comment \"{c}\""
                    ));
                }
                EndOfTierAction::Pass => {
                    let c = self.comment(RuleId::end_of_tier(&tier.name, true));
                    r.push(format!(
                        "meta mark & {MARK_PASS:#010x} == 0 counter comment \"{c}\""
                    ));
                }
            }
        }
        for prof in &ep.profile_ids {
            let ch = match dir {
                Direction::Ingress => names::profile_in(prof),
                Direction::Egress => names::profile_out(prof),
            };
            r.push(format!("jump {ch}"));
            r.push(format!("meta mark & {MARK_ACCEPT:#010x} != 0 return"));
        }
        let c = self.comment(RuleId::no_profile_deny());
        r.push(format!("counter drop comment \"{c}\""));
        r
    }
}

/// Render the whole table for `st`.
pub fn render(cfg: &Config, st: &DesiredState) -> Ruleset {
    let mut b = Builder {
        cfg,
        rs: Ruleset {
            table: cfg.table.clone(),
            ..Ruleset::default()
        },
    };
    // IP sets, both families.
    for (id, set) in &st.ip_sets {
        for v in [4u8, 6] {
            b.rs.sets.insert(
                names::ip_set(v, id),
                ip_set_defs(v, set.set_type, &set.members),
            );
        }
    }
    // Pools.
    for v in [4u8, 6] {
        let masq = net_elements(
            st.pools.values().filter(|p| p.nat_outgoing).map(|p| p.cidr),
            v,
        );
        let all = net_elements(st.pools.values().map(|p| p.cidr), v);
        b.rs.sets
            .insert(names::masq_pools(v), interval_set(masq, v));
        b.rs.sets.insert(names::all_pools(v), interval_set(all, v));
    }
    let vxlan = vxlan_wanted(cfg, st);
    if vxlan {
        let hosts = st
            .remote_vteps()
            .map(|v| IpNet::from(std::net::IpAddr::V4(v.parent_device_ip)));
        b.rs.sets.insert(
            names::all_vxlan_net(4),
            interval_set(net_elements(hosts, 4), 4),
        );
    }

    // Policy chains (named per policy key; a key present in two tiers gets a hashed name for
    // the second), and chains for policies or profiles referenced but not (yet) known.
    let mut policy_names: BTreeMap<PolicyId, String> = BTreeMap::new();
    let mut used = BTreeSet::new();
    let mut referenced: BTreeSet<PolicyId> = st.policies.keys().cloned().collect();
    for ep in st.endpoints.values() {
        for t in &ep.tiers {
            referenced.extend(t.ingress_policies.iter().cloned());
            referenced.extend(t.egress_policies.iter().cloned());
        }
    }
    for id in &referenced {
        let mut key = id.policy.to_string();
        if !used.insert(key.clone()) {
            key = format!("_{}", names::hash(&format!("{}/{}", id.tier, key)));
        }
        policy_names.insert(id.clone(), key);
    }
    let empty = PolicyRules::default();
    for (id, key) in &policy_names {
        let rules = st.policies.get(id).unwrap_or(&empty);
        b.rules_chain(names::policy_in(key), &rules.inbound);
        b.rules_chain(names::policy_out(key), &rules.outbound);
    }
    let mut profiles: BTreeSet<&String> = st.profiles.keys().collect();
    for ep in st.endpoints.values() {
        profiles.extend(ep.profile_ids.iter());
    }
    for p in profiles {
        match st.profiles.get(p) {
            Some(rules) => {
                b.rules_chain(names::profile_in(p), &rules.inbound);
                b.rules_chain(names::profile_out(p), &rules.outbound);
            }
            None => {
                // Felix's fail-closed stand-in for a missing profile.
                let c = b.comment(RuleId::profile_missing(p));
                let deny = format!("counter drop comment \"{c}\"");
                b.rs.chains
                    .insert(names::profile_in(p), chain(vec![deny.clone()]));
                b.rs.chains.insert(names::profile_out(p), chain(vec![deny]));
            }
        }
    }
    let pchain = |id: &PolicyId, dir: Direction| {
        let key = policy_names
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.policy.to_string());
        match dir {
            Direction::Ingress => names::policy_in(&key),
            Direction::Egress => names::policy_out(&key),
        }
    };

    // Endpoints and dispatch maps.
    let mut to_map = BTreeSet::new();
    let mut from_map = BTreeSet::new();
    let mut ifaces = BTreeSet::new();
    for ep in st.endpoints.values() {
        if !ifaces.insert(ep.iface_name.clone()) {
            continue; // two endpoints on one interface: the first wins
        }
        let tw = names::to_wl(&ep.iface_name);
        let fw = names::from_wl(&ep.iface_name);
        let ing = b.endpoint_chain(ep, Direction::Ingress, &pchain);
        let eg = b.endpoint_chain(ep, Direction::Egress, &pchain);
        b.rs.chains.insert(tw.clone(), chain(ing));
        b.rs.chains.insert(fw.clone(), chain(eg));
        let q = names::quoted(&ep.iface_name);
        to_map.insert(format!("{q} : goto {tw}"));
        from_map.insert(format!("{q} : goto {fw}"));
    }
    for (name, elements) in [
        (names::TO_WL_DISPATCH, to_map),
        (names::FROM_WL_DISPATCH, from_map),
    ] {
        b.rs.sets.insert(
            name.into(),
            SetDef {
                type_: "ifname : verdict".into(),
                interval: false,
                is_map: true,
                elements,
            },
        );
    }
    b.rs.chains.insert(
        names::FROM_WL_DISPATCH.into(),
        chain(vec![
            format!("iifname vmap @{}", names::FROM_WL_DISPATCH),
            "counter drop comment \"unknown-interface\"".into(),
        ]),
    );
    b.rs.chains.insert(
        names::TO_WL_DISPATCH.into(),
        chain(vec![
            format!("oifname vmap @{}", names::TO_WL_DISPATCH),
            "counter drop comment \"unknown-interface\"".into(),
        ]),
    );

    // Top-level chains.
    let prefixes: Vec<String> = cfg
        .interface_prefixes
        .iter()
        .map(|p| names::quoted(&format!("{p}*")))
        .collect();
    let mut fwd = vec!["ct state established,related accept".to_string()];
    for p in &prefixes {
        fwd.push(format!("iifname {p} ct state invalid drop"));
        fwd.push(format!("oifname {p} ct state invalid drop"));
    }
    for p in &prefixes {
        fwd.push(format!("iifname {p} jump {}", names::FROM_WL_DISPATCH));
    }
    for p in &prefixes {
        fwd.push(format!("oifname {p} jump {}", names::TO_WL_DISPATCH));
    }
    b.rs.chains.insert("cali-FORWARD".into(), chain(fwd));

    let mut input = vec!["ct state established,related accept".to_string()];
    if vxlan {
        let port = cfg.vxlan.port;
        input.push(format!(
            "ip saddr @{} udp dport {port} fib daddr type local accept",
            names::all_vxlan_net(4)
        ));
        input.push(format!(
            "udp dport {port} fib daddr type local counter drop comment \"vxlan-from-unknown-host\""
        ));
    }
    for p in &prefixes {
        input.push(format!("iifname {p} ct state invalid drop"));
        input.push(format!("iifname {p} goto cali-wl-to-host"));
    }
    b.rs.chains.insert("cali-INPUT".into(), chain(input));
    let to_host = match cfg.endpoint_to_host_action {
        EndpointToHostAction::Drop => "counter drop comment \"endpoint-to-host-drop\"",
        EndpointToHostAction::Accept | EndpointToHostAction::Return => "accept",
    };
    b.rs.chains.insert(
        "cali-wl-to-host".into(),
        chain(vec![
            format!("jump {}", names::FROM_WL_DISPATCH),
            to_host.into(),
        ]),
    );

    let mut post = vec!["jump cali-nat-outgoing".to_string()];
    if vxlan {
        post.push(format!(
            "oifname {} fib saddr . oif type != local fib saddr type local masquerade",
            names::quoted(&cfg.vxlan.device)
        ));
    }
    b.rs.chains.insert("cali-POSTROUTING".into(), chain(post));
    b.rs.chains.insert(
        "cali-nat-outgoing".into(),
        chain(vec![
            format!(
                "ip saddr @{} ip daddr != @{} masquerade",
                names::masq_pools(4),
                names::all_pools(4)
            ),
            format!(
                "ip6 saddr @{} ip6 daddr != @{} masquerade",
                names::masq_pools(6),
                names::all_pools(6)
            ),
        ]),
    );

    b.rs.chains.insert(
        "filter-FORWARD".into(),
        base(
            "type filter hook forward priority filter; policy accept;",
            vec!["jump cali-FORWARD".into()],
        ),
    );
    b.rs.chains.insert(
        "filter-INPUT".into(),
        base(
            "type filter hook input priority filter; policy accept;",
            vec!["jump cali-INPUT".into()],
        ),
    );
    b.rs.chains.insert(
        "nat-POSTROUTING".into(),
        base(
            "type nat hook postrouting priority srcnat; policy accept;",
            vec!["jump cali-POSTROUTING".into()],
        ),
    );
    b.rs
}
