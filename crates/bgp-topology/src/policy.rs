//! Calico's BGP route policy as a [`RoutePolicy`] for calico-rs' speaker: the BGPFilter
//! rules a BGPPeer lists in `spec.filters`, then Calico's default export filter
//! (confd's `calico_export_to_bgp_peers`, `apply_communities` and the per-peer import and
//! export filter blocks of `bird.cfg`).
//!
//! # Import (a route received from a peer)
//! 1. Priority normalisation: the route's priority is `2147483647 - LOCAL_PREF`, or the
//!    normal route priority (1024 by default) when it has no LOCAL_PREF; a route without
//!    LOCAL_PREF gets `LOCAL_PREF = 2147483647 - priority`, so every learned path in the RIB
//!    carries its priority (Calico keeps it in `krt_metric`).
//! 2. The `importV4`/`importV6` rules (by the prefix's family) of the peer's filters, in
//!    the order the peer lists the filters and the rules; the first matching rule decides.
//! 3. No rule matched: accept.
//!
//! # Export (a route about to be sent to a peer)
//! 1. Towards an iBGP peer, `LOCAL_PREF = 2147483647 - priority`; the priority of a route
//!    learned from a peer comes from its LOCAL_PREF as above, a locally originated route has
//!    the normal route priority.
//! 2. The `exportV4`/`exportV6` rules of the peer's filters; first match decides.
//! 3. Calico's default export filter: reject a prefix inside a pool that is not exported
//!    (disabled or `disableBGPExport`); add the `prefixAdvertisements` communities of every
//!    entry whose CIDR contains the prefix; for each block affine to this node accept the
//!    block itself, accept a more specific prefix inside it only with an elevated priority
//!    (below the normal one) and reject other more specific ones (`calico_aggr`); accept a
//!    prefix inside a service CIDR, then one inside an exported pool; reject everything
//!    else.
//!
//! # Rule semantics (confd's `bgpFilterBIRDFuncs`)
//! All conditions a rule sets must hold; a rule with none matches every route.
//! - `cidr` + `matchOperator`: `Equal` / `NotEqual` compare the prefix with the CIDR;
//!   `In` holds when the prefix lies inside the CIDR (the CIDR itself included) and its
//!   length is within `prefixLength` (`min` defaults to the CIDR's length and is raised to
//!   it, `max` defaults to 32/128); `NotIn` is its negation. `prefixLength` has no effect
//!   with `Equal`/`NotEqual` (reported).
//! - `source: RemotePeers`: the route was learned from a BGP peer (always true on import).
//! - `peerType`: `iBGP` when the peer is in our AS, `eBGP` otherwise.
//! - `communities`: the route carries that standard community.
//! - `asPathPrefix`: the AS path starts with these AS numbers. On export to an eBGP peer
//!   the AS the speaker prepends for the peer is not part of the path looked at (BIRD runs
//!   filters before adding it), and `prependASPath` goes behind it.
//! - `priority`: the route's priority (above) equals the value.
//! - operations (Accept only, in order): `addCommunity` (not added twice), `prependASPath`
//!   (the first AS number ends up first), `setPriority` (import: `LOCAL_PREF = 2147483647 -
//!   value`; export to iBGP peers likewise; export to eBGP peers: no effect, LOCAL_PREF is
//!   not sent).
//!
//! # Not supported (reported by [`CalicoPolicy::new`], never a panic)
//! - Large communities (`aa:nn:mm`): the speaker carries only RFC 1997 communities. A rule
//!   matching one never matches (no route carries one); an `addCommunity` of one is skipped,
//!   as is a large community in `prefixAdvertisements`.
//! - `interface`: calico-rs' speaker does not learn routes from interfaces, so a rule with
//!   an `interface` never matches.
//! - `priority` matches on export to eBGP peers see the normal priority for learned routes
//!   (the attributes handed to the policy no longer carry LOCAL_PREF).
//! - Calico's `reject_tunnel_routes` (by interface name) is the topology's job: it decides
//!   which prefixes are originated. Locally originated routes always have the normal
//!   priority here, so an elevated (live-migration) more specific route inside an own block
//!   is not exported.
//!
//! # Differences from BIRD
//! - An export `setPriority` towards an iBGP peer changes the LOCAL_PREF sent; BIRD computes
//!   LOCAL_PREF before the filters, so there it only changes `krt_metric`.
//! - A route learned without LOCAL_PREF (from an eBGP peer) is stored with the LOCAL_PREF of
//!   the normal priority (BIRD only sets `krt_metric`), so among learned routes best-path
//!   selection compares priorities.
//!
//! Bad content (an unparsable CIDR, an unknown operator, action or peer type, a filter a
//! peer names that does not exist, ...) skips the rule (or the reference) and is reported in
//! the problems list with the object, the field and what was expected.

use std::collections::BTreeMap;
use std::net::IpAddr;

use calico_api::kinds::{BGPConfigurationSpec, BGPFilter, BGPFilterRule, parse_community};
use calico_bgp::export::{PeerView, RoutePolicy};
use calico_bgp::wire::{AsPath, PathAttributes, SegmentKind};
use ipnet::IpNet;

use crate::topology::Plan;

/// `2147483647 - priority` is the LOCAL_PREF carrying a route priority (as in Calico).
pub const PRIORITY_LOCAL_PREF_BASE: i64 = 2_147_483_647;
/// Calico's default `ipv4NormalRoutePriority` / `ipv6NormalRoutePriority`.
pub const DEFAULT_NORMAL_ROUTE_PRIORITY: i64 = 1024;

/// One IP pool as the export filter sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolExport {
    pub cidr: IpNet,
    /// `!spec.disabled && !spec.disableBGPExport`.
    pub exported: bool,
}

/// Everything the policy is computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyInputs {
    pub pools: Vec<PoolExport>,
    /// Service CIDRs to advertise (see [`service_cidrs`]); accepted like pool routes.
    pub service_cidrs: Vec<IpNet>,
    /// Communities to add to exported prefixes inside each CIDR (see [`prefix_communities`]).
    pub prefix_communities: Vec<(IpNet, Vec<u32>)>,
    /// All BGPFilters by name.
    pub filters: BTreeMap<String, BGPFilter>,
    /// Per peer address, the filter names of its BGPPeer's `spec.filters`, in order.
    pub peer_filters: BTreeMap<IpAddr, Vec<String>>,
    /// `ipv4NormalRoutePriority` (1024 by default).
    pub normal_priority_v4: i64,
    /// `ipv6NormalRoutePriority` (1024 by default).
    pub normal_priority_v6: i64,
    /// Blocks affine to this node: exported as aggregates (Calico's `calico_aggr`).
    pub local_blocks: Vec<IpNet>,
}

impl Default for PolicyInputs {
    fn default() -> Self {
        PolicyInputs {
            pools: Vec::new(),
            service_cidrs: Vec::new(),
            prefix_communities: Vec::new(),
            filters: BTreeMap::new(),
            peer_filters: BTreeMap::new(),
            normal_priority_v4: DEFAULT_NORMAL_ROUTE_PRIORITY,
            normal_priority_v6: DEFAULT_NORMAL_ROUTE_PRIORITY,
            local_blocks: Vec::new(),
        }
    }
}

impl PolicyInputs {
    /// The inputs for the node a topology [`Plan`] was made for: its pools, service CIDRs,
    /// affine blocks, filters and peer filter lists, the `prefixAdvertisements` communities
    /// and normal route priorities of the BGPConfiguration in effect. The second value lists
    /// the problems found in `prefixAdvertisements`.
    pub fn from_plan(plan: &Plan) -> (PolicyInputs, Vec<String>) {
        let (prefix_communities, problems) = prefix_communities(&plan.config);
        let inputs = PolicyInputs {
            pools: plan
                .pools
                .iter()
                .map(|p| PoolExport {
                    cidr: p.cidr,
                    exported: p.exported,
                })
                .collect(),
            service_cidrs: plan.service_cidrs.clone(),
            prefix_communities,
            filters: plan.filters.clone(),
            peer_filters: plan.peer_filters.clone(),
            normal_priority_v4: plan.config.effective_ipv4_normal_route_priority(),
            normal_priority_v6: plan.config.effective_ipv6_normal_route_priority(),
            local_blocks: plan.local_blocks.iter().copied().collect(),
        };
        (inputs, problems)
    }
}

/// A standard community `aa:nn` as the wire's `(aa << 16) | nn`.
fn standard_community(value: &str) -> Result<Option<u32>, String> {
    let parts = parse_community(value)?;
    match parts.as_slice() {
        [a, b] => Ok(Some((a << 16) | b)),
        _ => Ok(None),
    }
}

/// The communities to add per CIDR from `prefixAdvertisements`, resolving names through
/// `communities` (an entry that is not a name is taken as a literal `aa:nn` value). Pass the
/// node's own BGPConfiguration (`node.<name>`) when it has `prefixAdvertisements`: in Calico
/// those replace the global ones. Returns the list and the problems found (unparsable CIDR,
/// unknown name, invalid value, large community not supported); bad entries are skipped.
pub fn prefix_communities(cfg: &BGPConfigurationSpec) -> (Vec<(IpNet, Vec<u32>)>, Vec<String>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (i, pa) in cfg.prefix_advertisements.iter().enumerate() {
        let field = format!("BGPConfiguration spec.prefixAdvertisements[{i}]");
        let Some(cidr) = parse_cidr(&pa.cidr) else {
            problems.push(format!(
                "{field}.cidr: {:?} is not a CIDR: expected an IPv4 or IPv6 network like 10.0.0.0/16",
                pa.cidr
            ));
            continue;
        };
        let mut comms = Vec::new();
        for (j, c) in pa.communities.iter().enumerate() {
            let cfield = format!("{field}.communities[{j}]");
            let value = match cfg.communities.iter().find(|n| n.name == *c) {
                Some(named) => named.value.as_str(),
                None => c.as_str(),
            };
            match standard_community(value) {
                Ok(Some(v)) => {
                    if !comms.contains(&v) {
                        comms.push(v);
                    }
                }
                Ok(None) => problems.push(format!(
                    "{cfield}: large community {value:?} is not supported by calico-rs' BGP \
                     speaker (standard aa:nn only); not added"
                )),
                Err(e) => problems.push(format!(
                    "{cfield}: {c:?} is neither a name from spec.communities nor a community \
                     value: {e}"
                )),
            }
        }
        out.push((cidr, comms));
    }
    (out, problems)
}

/// The service CIDRs of `serviceClusterIPs`, `serviceExternalIPs` and
/// `serviceLoadBalancerIPs`, with the problems found (unparsable entries are skipped).
pub fn service_cidrs(cfg: &BGPConfigurationSpec) -> (Vec<IpNet>, Vec<String>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (name, blocks) in [
        ("serviceClusterIPs", &cfg.service_cluster_ips),
        ("serviceExternalIPs", &cfg.service_external_ips),
        ("serviceLoadBalancerIPs", &cfg.service_load_balancer_ips),
    ] {
        for (i, b) in blocks.iter().enumerate() {
            match parse_cidr(&b.cidr) {
                Some(n) => {
                    if !out.contains(&n) {
                        out.push(n);
                    }
                }
                None => problems.push(format!(
                    "BGPConfiguration spec.{name}[{i}].cidr: {:?} is not a CIDR: expected an \
                     IPv4 or IPv6 network like 10.96.0.0/12",
                    b.cidr
                )),
            }
        }
    }
    (out, problems)
}

/// A CIDR (host bits cleared) or a plain address (as a /32 or /128).
fn parse_cidr(s: &str) -> Option<IpNet> {
    let s = s.trim();
    if let Ok(n) = s.parse::<IpNet>() {
        return Some(n.trunc());
    }
    s.parse::<IpAddr>().ok().map(IpNet::from)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    Equal,
    NotEqual,
    In,
    NotIn,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct CidrMatch {
    op: Operator,
    net: IpNet,
    min: u8,
    max: u8,
}

impl CidrMatch {
    fn matches(&self, prefix: &IpNet) -> bool {
        let inside = || {
            self.net.contains(prefix)
                && prefix.prefix_len() >= self.min
                && prefix.prefix_len() <= self.max
        };
        match self.op {
            Operator::Equal => *prefix == self.net,
            Operator::NotEqual => *prefix != self.net,
            Operator::In => inside(),
            Operator::NotIn => !inside(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PeerType {
    Ebgp,
    Ibgp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    AddCommunity(u32),
    Prepend(Vec<u32>),
    SetPriority(i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    cidr: Option<CidrMatch>,
    remote_peers: bool,
    /// Set for conditions calico-rs cannot meet (interface, large community).
    never: bool,
    peer_type: Option<PeerType>,
    community: Option<u32>,
    as_path_prefix: Vec<u32>,
    priority: Option<i64>,
    accept: bool,
    ops: Vec<Op>,
}

/// What a rule looks at.
struct RouteView<'a> {
    prefix: &'a IpNet,
    learned: bool,
    ibgp_peer: bool,
    communities: &'a [u32],
    as_path: Vec<u32>,
    priority: i64,
}

impl Rule {
    fn matches(&self, r: &RouteView) -> bool {
        if self.never {
            return false;
        }
        if let Some(c) = &self.cidr
            && !c.matches(r.prefix)
        {
            return false;
        }
        if self.remote_peers && !r.learned {
            return false;
        }
        match self.peer_type {
            Some(PeerType::Ibgp) if !r.ibgp_peer => return false,
            Some(PeerType::Ebgp) if r.ibgp_peer => return false,
            _ => {}
        }
        if let Some(c) = self.community
            && !r.communities.contains(&c)
        {
            return false;
        }
        if !r.as_path.starts_with(&self.as_path_prefix) {
            return false;
        }
        if let Some(p) = self.priority
            && p != r.priority
        {
            return false;
        }
        true
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct CompiledFilter {
    export_v4: Vec<Rule>,
    import_v4: Vec<Rule>,
    export_v6: Vec<Rule>,
    import_v6: Vec<Rule>,
}

const MAX_PRIORITY: i64 = 2_147_483_646;

fn skip(problems: &mut Vec<String>, at: &str, field: &str, msg: String) {
    problems.push(format!("{at}.{field}: {msg}; rule skipped"));
}

fn compile_rule(r: &BGPFilterRule, v4: bool, at: &str, problems: &mut Vec<String>) -> Option<Rule> {
    let family = if v4 { "IPv4" } else { "IPv6" };
    let fam_max: u8 = if v4 { 32 } else { 128 };
    let accept = match r.action.as_str() {
        "Accept" => true,
        "Reject" => false,
        other => {
            skip(
                problems,
                at,
                "action",
                format!("{other:?} is not an action: expected Accept or Reject"),
            );
            return None;
        }
    };
    let cidr = if r.cidr.is_empty() {
        if !r.match_operator.is_empty() {
            skip(
                problems,
                at,
                "cidr",
                format!(
                    "matchOperator {:?} is set without a cidr: expected both",
                    r.match_operator
                ),
            );
            return None;
        }
        None
    } else {
        let net = match r.cidr.trim().parse::<IpNet>() {
            Ok(n) if n.addr().is_ipv4() == v4 => n.trunc(),
            Ok(_) => {
                skip(
                    problems,
                    at,
                    "cidr",
                    format!(
                        "{:?} is not an {family} CIDR: expected an {family} network in this list",
                        r.cidr
                    ),
                );
                return None;
            }
            Err(_) => {
                skip(
                    problems,
                    at,
                    "cidr",
                    format!(
                        "{:?} is not a CIDR: expected an {family} network like {}",
                        r.cidr,
                        if v4 { "10.0.0.0/16" } else { "fd00::/64" }
                    ),
                );
                return None;
            }
        };
        let op = match r.match_operator.as_str() {
            "Equal" => Operator::Equal,
            "NotEqual" => Operator::NotEqual,
            "In" => Operator::In,
            "NotIn" => Operator::NotIn,
            other => {
                skip(
                    problems,
                    at,
                    "matchOperator",
                    format!("{other:?} is not an operator: expected Equal, NotEqual, In or NotIn"),
                );
                return None;
            }
        };
        let mut min = net.prefix_len();
        let mut max = fam_max;
        if let Some(pl) = &r.prefix_length {
            if matches!(op, Operator::Equal | Operator::NotEqual) {
                problems.push(format!(
                    "{at}.prefixLength: has no effect with matchOperator {:?}: expected In or NotIn",
                    r.match_operator
                ));
            }
            for (name, v) in [("min", pl.min), ("max", pl.max)] {
                if let Some(n) = v
                    && !(0..=i32::from(fam_max)).contains(&n)
                {
                    problems.push(format!(
                        "{at}.prefixLength.{name}: {n} is not a valid {family} prefix length: \
                         expected 0 to {fam_max}; clamped"
                    ));
                }
            }
            if let Some(n) = pl.min {
                min = min.max(u8::try_from(n.clamp(0, i32::from(fam_max))).unwrap_or(fam_max));
            }
            if let Some(n) = pl.max {
                max = max.min(u8::try_from(n.clamp(0, i32::from(fam_max))).unwrap_or(fam_max));
            }
        }
        Some(CidrMatch { op, net, min, max })
    };
    let remote_peers = match r.source.as_str() {
        "" => false,
        "RemotePeers" => true,
        other => {
            skip(
                problems,
                at,
                "source",
                format!("{other:?} is not a source: expected RemotePeers"),
            );
            return None;
        }
    };
    let peer_type = match r.peer_type.as_str() {
        "" => None,
        "eBGP" => Some(PeerType::Ebgp),
        "iBGP" => Some(PeerType::Ibgp),
        other => {
            skip(
                problems,
                at,
                "peerType",
                format!("{other:?} is not a peer type: expected eBGP or iBGP"),
            );
            return None;
        }
    };
    let mut never = false;
    if !r.interface.is_empty() {
        problems.push(format!(
            "{at}.interface: {:?}: interface matches are not supported by calico-rs' BGP \
             speaker (it learns no interface routes); the rule never matches",
            r.interface
        ));
        never = true;
    }
    let mut community = None;
    if let Some(c) = &r.communities {
        let Some(first) = c.values.first() else {
            skip(
                problems,
                at,
                "communities.values",
                "empty: expected one community value".to_string(),
            );
            return None;
        };
        if c.values.len() > 1 {
            problems.push(format!(
                "{at}.communities.values: {} values given: expected exactly one; only {first:?} is used",
                c.values.len()
            ));
        }
        match standard_community(first) {
            Ok(Some(v)) => community = Some(v),
            Ok(None) => {
                problems.push(format!(
                    "{at}.communities.values[0]: large community {first:?} is not supported by \
                     calico-rs' BGP speaker (standard aa:nn only); the rule never matches"
                ));
                never = true;
            }
            Err(e) => {
                skip(
                    problems,
                    at,
                    "communities.values[0]",
                    format!("{e}: expected a standard community aa:nn"),
                );
                return None;
            }
        }
    }
    let as_path_prefix: Vec<u32> = r.as_path_prefix.iter().map(|a| a.0).collect();
    if let Some(p) = r.priority
        && !(1..=MAX_PRIORITY).contains(&p)
    {
        skip(
            problems,
            at,
            "priority",
            format!("{p} is out of range: expected 1 to {MAX_PRIORITY}"),
        );
        return None;
    }
    let mut ops = Vec::new();
    for (i, op) in r.operations.iter().enumerate() {
        let field = format!("operations[{i}]");
        // Calico's order of precedence when several are set.
        if let Some(ac) = &op.add_community {
            let Some(value) = &ac.value else {
                skip(
                    problems,
                    at,
                    &format!("{field}.addCommunity.value"),
                    "missing: expected aa:nn".to_string(),
                );
                return None;
            };
            match standard_community(value) {
                Ok(Some(v)) => ops.push(Op::AddCommunity(v)),
                Ok(None) => problems.push(format!(
                    "{at}.{field}.addCommunity.value: large community {value:?} is not supported \
                     by calico-rs' BGP speaker (standard aa:nn only); operation skipped"
                )),
                Err(e) => {
                    skip(
                        problems,
                        at,
                        &format!("{field}.addCommunity.value"),
                        format!("{e}: expected a standard community aa:nn"),
                    );
                    return None;
                }
            }
        } else if let Some(pp) = &op.prepend_as_path {
            if pp.prefix.is_empty() {
                skip(
                    problems,
                    at,
                    &format!("{field}.prependASPath.prefix"),
                    "empty: expected 1 to 10 AS numbers".to_string(),
                );
                return None;
            }
            ops.push(Op::Prepend(pp.prefix.iter().map(|a| a.0).collect()));
        } else if let Some(sp) = &op.set_priority {
            match sp.value {
                Some(v) if (1..=MAX_PRIORITY).contains(&v) => ops.push(Op::SetPriority(v)),
                other => {
                    skip(
                        problems,
                        at,
                        &format!("{field}.setPriority.value"),
                        format!("{other:?}: expected a priority from 1 to {MAX_PRIORITY}"),
                    );
                    return None;
                }
            }
        } else {
            skip(
                problems,
                at,
                &field,
                "no operation set: expected addCommunity, prependASPath or setPriority".to_string(),
            );
            return None;
        }
    }
    Some(Rule {
        cidr,
        remote_peers,
        never,
        peer_type,
        community,
        as_path_prefix,
        priority: r.priority,
        accept,
        ops,
    })
}

fn compile_filter(key: &str, f: &BGPFilter, problems: &mut Vec<String>) -> CompiledFilter {
    let name = if f.metadata.name.is_empty() {
        key
    } else {
        &f.metadata.name
    };
    let mut list = |field: &str, rules: &[BGPFilterRule], v4: bool| -> Vec<Rule> {
        rules
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                compile_rule(
                    r,
                    v4,
                    &format!("BGPFilter {name:?} spec.{field}[{i}]"),
                    problems,
                )
            })
            .collect()
    };
    CompiledFilter {
        export_v4: list("exportV4", &f.spec.export_v4, true),
        import_v4: list("importV4", &f.spec.import_v4, true),
        export_v6: list("exportV6", &f.spec.export_v6, false),
        import_v6: list("importV6", &f.spec.import_v6, false),
    }
}

/// Calico's route policy; build with [`CalicoPolicy::new`] and hand to the speaker. Two
/// policies are equal when built from equal inputs, so a caller can skip re-applying an
/// unchanged policy.
#[derive(Debug, Clone)]
pub struct CalicoPolicy {
    inputs: PolicyInputs,
    filters: BTreeMap<String, CompiledFilter>,
}

impl PartialEq for CalicoPolicy {
    fn eq(&self, other: &Self) -> bool {
        self.inputs == other.inputs
    }
}

#[derive(Clone, Copy)]
enum Dir {
    Import,
    Export,
}

impl CalicoPolicy {
    /// Compile `inputs`; the second value lists the problems found (each names the object,
    /// the field and what was expected). Bad rules and unknown filter names are skipped.
    pub fn new(inputs: PolicyInputs) -> (CalicoPolicy, Vec<String>) {
        let mut problems = Vec::new();
        let mut filters = BTreeMap::new();
        for (key, f) in &inputs.filters {
            filters.insert(key.clone(), compile_filter(key, f, &mut problems));
        }
        for (peer, names) in &inputs.peer_filters {
            for (i, n) in names.iter().enumerate() {
                if !filters.contains_key(n) {
                    problems.push(format!(
                        "BGPPeer for {peer} spec.filters[{i}]: BGPFilter {n:?} does not exist: \
                         expected the name of a BGPFilter; ignored"
                    ));
                }
            }
        }
        (CalicoPolicy { inputs, filters }, problems)
    }

    /// The inputs this policy was built from.
    pub fn inputs(&self) -> &PolicyInputs {
        &self.inputs
    }

    fn normal_priority(&self, prefix: &IpNet) -> i64 {
        match prefix {
            IpNet::V4(_) => self.inputs.normal_priority_v4,
            IpNet::V6(_) => self.inputs.normal_priority_v6,
        }
    }

    /// The first matching rule of the peer's filters, if any.
    fn first_match(&self, peer: &IpAddr, dir: Dir, route: &RouteView) -> Option<&Rule> {
        let names = self.inputs.peer_filters.get(peer)?;
        let v4 = route.prefix.addr().is_ipv4();
        names
            .iter()
            .filter_map(|n| self.filters.get(n))
            .flat_map(|f| match (dir, v4) {
                (Dir::Import, true) => &f.import_v4,
                (Dir::Import, false) => &f.import_v6,
                (Dir::Export, true) => &f.export_v4,
                (Dir::Export, false) => &f.export_v6,
            })
            .find(|r| r.matches(route))
    }

    /// Calico's `calico_export_to_bgp_peers` after the filters.
    fn default_export(&self, prefix: &IpNet, attrs: &mut PathAttributes, priority: i64) -> bool {
        if self
            .inputs
            .pools
            .iter()
            .any(|p| !p.exported && p.cidr.contains(prefix))
        {
            return false;
        }
        for (cidr, comms) in &self.inputs.prefix_communities {
            if cidr.contains(prefix) {
                for c in comms {
                    add_community(attrs, *c);
                }
            }
        }
        let normal = self.normal_priority(prefix);
        for block in &self.inputs.local_blocks {
            if block == prefix {
                return true;
            }
            if block.contains(prefix) {
                return priority < normal;
            }
        }
        self.inputs.service_cidrs.iter().any(|c| c.contains(prefix))
            || self
                .inputs
                .pools
                .iter()
                .any(|p| p.exported && p.cidr.contains(prefix))
    }
}

fn priority_of(local_pref: Option<u32>, normal: i64) -> i64 {
    local_pref.map_or(normal, |lp| PRIORITY_LOCAL_PREF_BASE - i64::from(lp))
}

fn local_pref_for(priority: i64) -> u32 {
    u32::try_from((PRIORITY_LOCAL_PREF_BASE - priority).max(0)).unwrap_or(u32::MAX)
}

fn add_community(attrs: &mut PathAttributes, c: u32) {
    if !attrs.communities.contains(&c) {
        attrs.communities.push(c);
    }
}

/// The AS numbers of the path's leading AS_SEQUENCE segments.
fn leading_asns(path: Option<&AsPath>) -> Vec<u32> {
    let mut out = Vec::new();
    if let Some(p) = path {
        for s in &p.segments {
            if s.kind != SegmentKind::Sequence {
                break;
            }
            out.extend_from_slice(&s.asns);
        }
    }
    out
}

/// Remove and return the first AS of a leading AS_SEQUENCE.
fn pop_first_as(path: &mut AsPath) -> Option<u32> {
    let seg = path.segments.first_mut()?;
    if seg.kind != SegmentKind::Sequence || seg.asns.is_empty() {
        return None;
    }
    let first = seg.asns.remove(0);
    if seg.asns.is_empty() {
        path.segments.remove(0);
    }
    Some(first)
}

/// Apply an accepting rule's operations. `behind_first`: the path's first AS is the one the
/// speaker prepended for an eBGP peer; prepends go behind it.
fn apply_ops(
    ops: &[Op],
    attrs: &mut PathAttributes,
    behind_first: bool,
    set_local_pref: bool,
    priority: &mut i64,
) {
    for op in ops {
        match op {
            Op::AddCommunity(c) => add_community(attrs, *c),
            Op::Prepend(asns) => {
                let path = attrs.as_path.get_or_insert_with(AsPath::default);
                let ours = if behind_first {
                    pop_first_as(path)
                } else {
                    None
                };
                for a in asns.iter().rev() {
                    path.prepend(*a);
                }
                if let Some(a) = ours {
                    path.prepend(a);
                }
            }
            Op::SetPriority(p) => {
                *priority = *p;
                if set_local_pref {
                    attrs.local_pref = Some(local_pref_for(*p));
                }
            }
        }
    }
}

impl RoutePolicy for CalicoPolicy {
    fn import(&self, peer: &PeerView, prefix: &IpNet, attrs: &mut PathAttributes) -> bool {
        let normal = self.normal_priority(prefix);
        let mut priority = priority_of(attrs.local_pref, normal);
        if attrs.local_pref.is_none() {
            attrs.local_pref = Some(local_pref_for(priority));
        }
        let view = RouteView {
            prefix,
            learned: true,
            ibgp_peer: !peer.ebgp,
            communities: &attrs.communities,
            as_path: leading_asns(attrs.as_path.as_ref()),
            priority,
        };
        match self.first_match(&peer.address, Dir::Import, &view) {
            Some(rule) if rule.accept => {
                apply_ops(&rule.ops, attrs, false, true, &mut priority);
                true
            }
            Some(_) => false,
            None => true,
        }
    }

    fn export(
        &self,
        peer: &PeerView,
        prefix: &IpNet,
        attrs: &mut PathAttributes,
        learned_from: Option<IpAddr>,
    ) -> bool {
        let normal = self.normal_priority(prefix);
        let learned = learned_from.is_some();
        let mut priority = if learned && !peer.ebgp {
            priority_of(attrs.local_pref, normal)
        } else {
            normal
        };
        if !peer.ebgp {
            attrs.local_pref = Some(local_pref_for(priority));
        }
        let mut as_path = leading_asns(attrs.as_path.as_ref());
        // For an eBGP peer the speaker has already prepended its AS; BIRD filters run first.
        let behind_first = peer.ebgp && as_path.first() == Some(&peer.local_as);
        if behind_first {
            as_path.remove(0);
        }
        let view = RouteView {
            prefix,
            learned,
            ibgp_peer: !peer.ebgp,
            communities: &attrs.communities,
            as_path,
            priority,
        };
        match self.first_match(&peer.address, Dir::Export, &view) {
            Some(rule) if rule.accept => {
                apply_ops(&rule.ops, attrs, behind_first, !peer.ebgp, &mut priority);
                true
            }
            Some(_) => false,
            None => self.default_export(prefix, attrs, priority),
        }
    }
}
