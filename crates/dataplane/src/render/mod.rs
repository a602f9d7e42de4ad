//! The pure renderer: [`DesiredState`] → [`Ruleset`] (the whole `inet calico` table).
//!
//! [`render`] builds the table from scratch (start, `InSync`, after a failure); a
//! [`Renderer`] keeps it and, per flush, re-renders only the IP sets, policies, profiles and
//! endpoints the batch touched ([`Dirty`]) and returns the delta transaction for just those
//! (the incremental result equals a full render; `tests/incremental.rs` checks it).
//!
//! Layout (Felix's chain names, `felix/rules/rule_defs.go`; nftables mode):
//!
//! ```text
//! filter-FORWARD (hook forward): ct state established,related accept (fast path: policy
//!   sees new flows only; the first rule of the hook, so known flows pay one rule), then
//!   jump cali-FORWARD:
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
//! filter-INPUT (hook input): VXLAN from a known VTEP accept (first: the outer UDP flow is
//!   never established), established accept, then jump cali-INPUT: VXLAN from other hosts
//!   drop; iifname "cali*" goto cali-wl-to-host (egress policy, then
//!   defaultEndpointToHostAction).
//! nat-POSTROUTING (hook postrouting, srcnat) → cali-POSTROUTING → cali-nat-outgoing:
//!   masquerade from natOutgoing pools to destinations outside every pool.
//! ```
//!
//! Host → workload traffic is not policed (Felix's `-o cali+ -j RETURN` in `cali-OUTPUT`).

mod rule;
mod ruleset;

use std::collections::{BTreeMap, BTreeSet};

use calico_calc::messages::{
    DataplaneMessage, EncapType, EndOfTierAction, IpSetId, IpSetMember, IpSetType, LocalEndpoint,
    PolicyId,
};
use calico_policy::{Direction, EndpointId, RuleId};
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

/// A Net set is a plain hash set while it holds only host addresses, and an interval set
/// (aggregated CIDRs) once it holds a wider CIDR: `nft` reads every interval set's elements
/// before any element change, so interval sets are kept to the few that need them (network
/// sets, pools). A set that changes kind is replaced with the whole table (rare: a network
/// set starting to match a selector that so far matched only endpoints).
fn ip_set_defs(v: u8, set_type: IpSetType, members: &BTreeSet<IpSetMember>) -> SetDef {
    let addr = if v == 4 { "ipv4_addr" } else { "ipv6_addr" };
    match set_type {
        IpSetType::Net => {
            let nets: Vec<IpNet> = members
                .iter()
                .filter_map(|m| match m {
                    IpSetMember::Net(n) if m.ip_version() == v => Some(n.trunc()),
                    _ => None,
                })
                .collect();
            if nets.iter().all(|n| n.prefix_len() == n.max_prefix_len()) {
                SetDef {
                    type_: addr.into(),
                    interval: false,
                    is_map: false,
                    elements: nets.iter().map(|n| n.addr().to_string()).collect(),
                }
            } else {
                SetDef {
                    type_: addr.into(),
                    interval: true,
                    is_map: false,
                    elements: net_elements(nets.into_iter(), v),
                }
            }
        }
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

/// Which rendered items a batch of messages touched.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dirty {
    pub sets: BTreeSet<IpSetId>,
    pub policies: BTreeSet<PolicyId>,
    pub profiles: BTreeSet<String>,
    pub endpoints: BTreeSet<EndpointId>,
    /// Pools, VTEPs, host metadata: the fixed chains and sets.
    pub global: bool,
}

impl Dirty {
    /// Note what `msg` touches.
    pub fn note(&mut self, msg: &DataplaneMessage) {
        match msg {
            DataplaneMessage::IpSetUpdate { id, .. }
            | DataplaneMessage::IpSetDeltaUpdate { id, .. }
            | DataplaneMessage::IpSetRemove { id } => {
                self.sets.insert(id.clone());
            }
            DataplaneMessage::ActivePolicyUpdate { id, .. }
            | DataplaneMessage::ActivePolicyRemove { id } => {
                self.policies.insert(id.clone());
            }
            DataplaneMessage::ActiveProfileUpdate { id, .. }
            | DataplaneMessage::ActiveProfileRemove { id } => {
                self.profiles.insert(id.clone());
            }
            DataplaneMessage::WorkloadEndpointUpdate { id, .. }
            | DataplaneMessage::WorkloadEndpointRemove { id } => {
                self.endpoints.insert(id.clone());
            }
            DataplaneMessage::VtepUpdate { .. }
            | DataplaneMessage::VtepRemove { .. }
            | DataplaneMessage::PoolUpdate { .. }
            | DataplaneMessage::PoolRemove { .. }
            | DataplaneMessage::HostMetadataUpdate { .. } => self.global = true,
            DataplaneMessage::RouteUpdate { .. }
            | DataplaneMessage::RouteRemove { .. }
            | DataplaneMessage::InSync => {}
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == Dirty::default()
    }
}

/// The name of a policy's chains: the policy key (`np/ns/name`), or, for a policy whose
/// name does not carry its tier as Calico's names do (`tier.name`, or tier `default`), a
/// hash of tier and key, so that the same key in two tiers never shares a chain.
pub fn policy_key(id: &PolicyId) -> String {
    let key = id.policy.to_string();
    if id.tier == "default" || id.policy.name.starts_with(&format!("{}.", id.tier)) {
        key
    } else {
        format!("_{}", names::hash(&format!("{}/{key}", id.tier)))
    }
}

fn policy_chain(id: &PolicyId, dir: Direction) -> String {
    let key = policy_key(id);
    match dir {
        Direction::Ingress => names::policy_in(&key),
        Direction::Egress => names::policy_out(&key),
    }
}

/// The old values of what an update touched (for the delta).
#[derive(Default)]
struct Patch {
    old: Ruleset,
    sets: BTreeSet<String>,
    chains: BTreeSet<String>,
}

/// Writes into the ruleset, remembering old values when patching.
struct W<'a> {
    cfg: &'a Config,
    rs: &'a mut Ruleset,
    patch: Option<&'a mut Patch>,
}

impl W<'_> {
    fn comment(&mut self, id: RuleId) -> String {
        let c = names::comment(id.as_str());
        self.rs.comments.insert(c.clone(), id);
        c
    }

    fn touch_set(&mut self, name: &str) {
        if let Some(p) = self.patch.as_deref_mut()
            && p.sets.insert(name.to_string())
            && let Some(o) = self.rs.sets.get(name)
        {
            p.old.sets.insert(name.to_string(), o.clone());
        }
    }

    fn put_set(&mut self, name: String, def: Option<SetDef>) {
        self.touch_set(&name);
        match def {
            Some(d) => self.rs.sets.insert(name, d),
            None => self.rs.sets.remove(&name),
        };
    }

    fn put_chain(&mut self, name: String, def: Option<ChainDef>) {
        if let Some(p) = self.patch.as_deref_mut()
            && p.chains.insert(name.clone())
            && let Some(o) = self.rs.chains.get(&name)
        {
            p.old.chains.insert(name.clone(), o.clone());
        }
        match def {
            Some(d) => self.rs.chains.insert(name, d),
            None => self.rs.chains.remove(&name),
        };
    }

    /// Set or remove the entry for `iface` in dispatch map `map`.
    fn map_entry(&mut self, map: &str, iface: &str, verdict: Option<String>) {
        self.touch_set(map);
        let q = names::quoted(iface);
        let Some(m) = self.rs.sets.get_mut(map) else {
            return;
        };
        let prefix = format!("{q} : ");
        let old: Option<String> = m
            .elements
            .range(prefix.clone()..)
            .next()
            .filter(|e| e.starts_with(&prefix))
            .cloned();
        if let Some(o) = old {
            m.elements.remove(&o);
        }
        if let Some(v) = verdict {
            m.elements.insert(format!("{prefix}{v}"));
        }
    }

    fn rules_chain(&mut self, name: String, rules: &[calico_calc::messages::Rule]) {
        let mut lines = Vec::new();
        for r in rules {
            let c = names::comment(r.id.as_str());
            self.rs.comments.insert(c, r.id.clone());
            lines.extend(render_rule(r, &self.cfg.log_prefix));
        }
        self.put_chain(name, Some(chain(lines)));
    }

    fn ip_set(&mut self, st: &DesiredState, id: &str) {
        let set = st.ip_sets.get(id);
        for v in [4u8, 6] {
            self.put_set(
                names::ip_set(v, id),
                set.map(|s| ip_set_defs(v, s.set_type, &s.members)),
            );
        }
    }

    fn policy(&mut self, st: &DesiredState, id: &PolicyId) {
        let (pi, po) = (
            policy_chain(id, Direction::Ingress),
            policy_chain(id, Direction::Egress),
        );
        if let Some(rules) = st.policies.get(id) {
            self.rules_chain(pi, &rules.inbound);
            self.rules_chain(po, &rules.outbound);
        } else if st.endpoints.values().any(|e| {
            e.tiers
                .iter()
                .any(|t| t.ingress_policies.contains(id) || t.egress_policies.contains(id))
        }) {
            // Referenced but unknown: an empty chain (the tier's end decides).
            self.put_chain(pi, Some(chain(vec![])));
            self.put_chain(po, Some(chain(vec![])));
        } else {
            self.put_chain(pi, None);
            self.put_chain(po, None);
        }
    }

    fn profile(&mut self, st: &DesiredState, p: &str) {
        let (pi, po) = (names::profile_in(p), names::profile_out(p));
        if let Some(rules) = st.profiles.get(p) {
            self.rules_chain(pi, &rules.inbound);
            self.rules_chain(po, &rules.outbound);
        } else if st
            .endpoints
            .values()
            .any(|e| e.profile_ids.iter().any(|x| x == p))
        {
            // Felix's fail-closed stand-in for a missing profile.
            let c = self.comment(RuleId::profile_missing(p));
            let deny = format!("counter drop comment \"{c}\"");
            self.put_chain(pi, Some(chain(vec![deny.clone()])));
            self.put_chain(po, Some(chain(vec![deny])));
        } else {
            self.put_chain(pi, None);
            self.put_chain(po, None);
        }
    }

    fn endpoint_rules(&mut self, ep: &LocalEndpoint, dir: Direction) -> Vec<String> {
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

    fn install_endpoint(&mut self, ep: &LocalEndpoint) {
        let tw = names::to_wl(&ep.iface_name);
        let fw = names::from_wl(&ep.iface_name);
        let ing = self.endpoint_rules(ep, Direction::Ingress);
        let eg = self.endpoint_rules(ep, Direction::Egress);
        self.put_chain(tw.clone(), Some(chain(ing)));
        self.put_chain(fw.clone(), Some(chain(eg)));
        self.map_entry(
            names::TO_WL_DISPATCH,
            &ep.iface_name,
            Some(format!("goto {tw}")),
        );
        self.map_entry(
            names::FROM_WL_DISPATCH,
            &ep.iface_name,
            Some(format!("goto {fw}")),
        );
    }

    fn uninstall_iface(&mut self, iface: &str) {
        self.put_chain(names::to_wl(iface), None);
        self.put_chain(names::from_wl(iface), None);
        self.map_entry(names::TO_WL_DISPATCH, iface, None);
        self.map_entry(names::FROM_WL_DISPATCH, iface, None);
    }

    fn dispatch_maps(&mut self) {
        for name in [names::TO_WL_DISPATCH, names::FROM_WL_DISPATCH] {
            self.put_set(
                name.into(),
                Some(SetDef {
                    type_: "ifname : verdict".into(),
                    interval: false,
                    is_map: true,
                    elements: BTreeSet::new(),
                }),
            );
        }
    }

    /// Pools, VXLAN hosts, dispatch and top-level chains.
    fn fixed(&mut self, st: &DesiredState) {
        let cfg = self.cfg;
        for v in [4u8, 6] {
            let masq = net_elements(
                st.pools.values().filter(|p| p.nat_outgoing).map(|p| p.cidr),
                v,
            );
            let all = net_elements(st.pools.values().map(|p| p.cidr), v);
            self.put_set(names::masq_pools(v), Some(interval_set(masq, v)));
            self.put_set(names::all_pools(v), Some(interval_set(all, v)));
        }
        let vxlan = vxlan_wanted(cfg, st);
        // Host addresses only (the remote VTEPs' parent-device addresses): a plain hash
        // set, which the per-packet VXLAN check below looks up faster than an interval set.
        let hosts: BTreeSet<String> = st
            .remote_vteps()
            .map(|v| v.parent_device_ip.to_string())
            .collect();
        self.put_set(
            names::all_vxlan_net(4),
            vxlan.then(|| SetDef {
                type_: "ipv4_addr".into(),
                interval: false,
                is_map: false,
                elements: hosts,
            }),
        );
        self.put_chain(
            names::FROM_WL_DISPATCH.into(),
            Some(chain(vec![
                format!("iifname vmap @{}", names::FROM_WL_DISPATCH),
                "counter drop comment \"unknown-interface\"".into(),
            ])),
        );
        self.put_chain(
            names::TO_WL_DISPATCH.into(),
            Some(chain(vec![
                format!("oifname vmap @{}", names::TO_WL_DISPATCH),
                "counter drop comment \"unknown-interface\"".into(),
            ])),
        );
        let prefixes: Vec<String> = cfg
            .interface_prefixes
            .iter()
            .map(|p| names::quoted(&format!("{p}*")))
            .collect();
        // The established fast path is the first rule of the base chains (below), so
        // packets of known flows never enter cali-FORWARD / cali-INPUT.
        let mut fwd = Vec::new();
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
        self.put_chain("cali-FORWARD".into(), Some(chain(fwd)));

        let mut input = Vec::new();
        // VXLAN from a known VTEP: accepted in filter-INPUT before the established check
        // (the outer UDP flow never sees a reply, so conntrack never calls it established
        // and every VXLAN packet would otherwise walk both).
        let vxlan_accept = vxlan.then(|| {
            format!(
                "udp dport {} ip saddr @{} fib daddr type local accept",
                cfg.vxlan.port,
                names::all_vxlan_net(4)
            )
        });
        if vxlan {
            let port = cfg.vxlan.port;
            input.push(format!(
                "udp dport {port} fib daddr type local counter drop comment \"vxlan-from-unknown-host\""
            ));
        }
        for p in &prefixes {
            input.push(format!("iifname {p} ct state invalid drop"));
            input.push(format!("iifname {p} goto cali-wl-to-host"));
        }
        self.put_chain("cali-INPUT".into(), Some(chain(input)));
        let to_host = match cfg.endpoint_to_host_action {
            EndpointToHostAction::Drop => "counter drop comment \"endpoint-to-host-drop\"",
            EndpointToHostAction::Accept | EndpointToHostAction::Return => "accept",
        };
        self.put_chain(
            "cali-wl-to-host".into(),
            Some(chain(vec![
                format!("jump {}", names::FROM_WL_DISPATCH),
                to_host.into(),
            ])),
        );
        let mut post = vec!["jump cali-nat-outgoing".to_string()];
        if vxlan {
            post.push(format!(
                "oifname {} fib saddr . oif type != local fib saddr type local masquerade",
                names::quoted(&cfg.vxlan.device)
            ));
        }
        self.put_chain("cali-POSTROUTING".into(), Some(chain(post)));
        self.put_chain(
            "cali-nat-outgoing".into(),
            Some(chain(vec![
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
            ])),
        );
        let established = "ct state established,related accept".to_string();
        let mut filter_input: Vec<String> = vxlan_accept.into_iter().collect();
        filter_input.extend([established.clone(), "jump cali-INPUT".into()]);
        for (name, hook, rules) in [
            (
                "filter-FORWARD",
                "type filter hook forward priority filter; policy accept;",
                vec![established, "jump cali-FORWARD".into()],
            ),
            (
                "filter-INPUT",
                "type filter hook input priority filter; policy accept;",
                filter_input,
            ),
            (
                "nat-POSTROUTING",
                "type nat hook postrouting priority srcnat; policy accept;",
                vec!["jump cali-POSTROUTING".into()],
            ),
        ] {
            self.put_chain(name.into(), Some(base(hook, rules)));
        }
    }
}

/// The rendered table, kept up to date item by item: a flush re-renders only what the
/// batch touched and writes the delta of just those items.
#[derive(Clone, Debug)]
pub struct Renderer {
    cfg: Config,
    rs: Ruleset,
    /// Each endpoint's interface (the first endpoint in ID order owns an interface that
    /// two claim).
    ep_iface: BTreeMap<EndpointId, String>,
    /// The policies and profiles each endpoint refers to (placeholders for unknown ones
    /// exist while referenced).
    ep_refs: BTreeMap<EndpointId, Refs>,
}

type Refs = (BTreeSet<PolicyId>, BTreeSet<String>);

fn refs(ep: &LocalEndpoint) -> Refs {
    let mut pols = BTreeSet::new();
    for t in &ep.tiers {
        pols.extend(t.ingress_policies.iter().cloned());
        pols.extend(t.egress_policies.iter().cloned());
    }
    (pols, ep.profile_ids.iter().cloned().collect())
}

impl Renderer {
    /// Render everything.
    pub fn new(cfg: &Config, st: &DesiredState) -> Renderer {
        let mut r = Renderer {
            cfg: cfg.clone(),
            rs: Ruleset {
                table: cfg.table.clone(),
                ..Ruleset::default()
            },
            ep_iface: BTreeMap::new(),
            ep_refs: BTreeMap::new(),
        };
        let mut w = W {
            cfg,
            rs: &mut r.rs,
            patch: None,
        };
        w.dispatch_maps();
        for id in st.ip_sets.keys() {
            w.ip_set(st, id);
        }
        let mut pols: BTreeSet<&PolicyId> = st.policies.keys().collect();
        let mut profs: BTreeSet<&String> = st.profiles.keys().collect();
        for ep in st.endpoints.values() {
            for t in &ep.tiers {
                pols.extend(t.ingress_policies.iter());
                pols.extend(t.egress_policies.iter());
            }
            profs.extend(ep.profile_ids.iter());
        }
        for p in pols {
            w.policy(st, p);
        }
        for p in profs {
            w.profile(st, p);
        }
        let mut owned = BTreeSet::new();
        for (id, ep) in &st.endpoints {
            r.ep_refs.insert(id.clone(), refs(ep));
            r.ep_iface.insert(id.clone(), ep.iface_name.clone());
            if owned.insert(ep.iface_name.clone()) {
                w.install_endpoint(ep);
            }
        }
        w.fixed(st);
        r
    }

    pub fn ruleset(&self) -> &Ruleset {
        &self.rs
    }

    /// Re-render what `dirty` names and return the transaction for just those changes.
    /// On `Err`, the caller must replace the whole table (and build a new renderer).
    pub fn update(
        &mut self,
        st: &DesiredState,
        dirty: &Dirty,
    ) -> Result<Option<String>, NeedsFull> {
        let mut patch = Patch::default();
        let mut w = W {
            cfg: &self.cfg,
            rs: &mut self.rs,
            patch: Some(&mut patch),
        };
        for id in &dirty.sets {
            w.ip_set(st, id);
        }
        let mut pols = dirty.policies.clone();
        let mut profs = dirty.profiles.clone();
        for id in &dirty.endpoints {
            // What it referred to before (a placeholder may go) and refers to now.
            if let Some((p, f)) = self.ep_refs.remove(id) {
                pols.extend(p);
                profs.extend(f);
            }
            if let Some(ep) = st.endpoints.get(id) {
                let (p, f) = refs(ep);
                pols.extend(p.iter().cloned());
                profs.extend(f.iter().cloned());
                self.ep_refs.insert(id.clone(), (p, f));
            }
        }
        for p in &pols {
            w.policy(st, p);
        }
        for p in &profs {
            w.profile(st, p);
        }
        // An interface belongs to the first endpoint (in ID order) that claims it.
        let mut ifaces = BTreeSet::new();
        for id in &dirty.endpoints {
            if let Some(old_if) = self.ep_iface.remove(id) {
                ifaces.insert(old_if);
            }
            if let Some(ep) = st.endpoints.get(id) {
                self.ep_iface.insert(id.clone(), ep.iface_name.clone());
                ifaces.insert(ep.iface_name.clone());
            }
        }
        for iface in &ifaces {
            match st.endpoints.values().find(|e| &e.iface_name == iface) {
                Some(ep) => w.install_endpoint(ep),
                None => w.uninstall_iface(iface),
            }
        }
        if dirty.global {
            w.fixed(st);
        }
        let mut new = Ruleset {
            table: self.rs.table.clone(),
            ..Ruleset::default()
        };
        for n in &patch.sets {
            if let Some(s) = self.rs.sets.get(n) {
                new.sets.insert(n.clone(), s.clone());
            }
        }
        for n in &patch.chains {
            if let Some(c) = self.rs.chains.get(n) {
                new.chains.insert(n.clone(), c.clone());
            }
        }
        patch.old.table = self.rs.table.clone();
        delta_script(&patch.old, &new)
    }
}

/// Render the whole table for `st`.
pub fn render(cfg: &Config, st: &DesiredState) -> Ruleset {
    Renderer::new(cfg, st).rs
}
