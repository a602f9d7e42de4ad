//! What this node's BGP speaker must do, from the datastore (confd's `bird.cfg`,
//! `bird_ipam.cfg` and `bird_aggr.cfg` in Calico; inventory §8.1–8.3).
//!
//! [`State`] holds the resources that matter (BGPConfigurations, Nodes, BGPPeers, BGPFilters,
//! IP pools, IPAM blocks and this node's workload addresses) and is fed one change at a
//! time; [`State::plan`] computes the [`Plan`] for one node:
//! - **speaker**: AS (`Node.spec.bgp.asNumber`, else BGPConfiguration `default`'s
//!   `asNumber`, else 64512), router ID (the node's IPv4 address unless overridden),
//!   route-reflector cluster ID, listen port;
//! - **peers**: the node-to-node mesh (every other node with an address of the family,
//!   except route reflectors; none at all on a route reflector), global and node-specific
//!   BGPPeers (`node`, `nodeSelector`, `peerIP`, `peerSelector`, automatic reverse peering),
//!   never this node's own address; the side with the string-wise lower address of two
//!   Calico nodes waits (passive) so the pair does not race; route-reflector clients as
//!   BIRD's `rr client` rule says;
//! - **advertise**: the blocks affine to this node (aggregates) and, as /32 or /128, this
//!   node's workload addresses that lie outside its own blocks (borrowed addresses), plus the
//!   service CIDRs of BGPConfiguration;
//! - **pools**: per pool, how learned routes are installed (IP-in-IP, VXLAN, direct) and
//!   whether its routes may be exported.
//!
//! Problems (a selector that does not parse, a peer address that is not an address, a
//! password in a Secret that cannot be read) never fail the plan: the peering concerned is
//! left out and the problem is listed in [`Plan::problems`], naming the object and field.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use calico_api::{
    BGPConfiguration, BGPConfigurationSpec, BGPFilter, BGPPassword, BGPPeer, IPPool, Node, Resource,
};
use calico_bgp::export::NextHopMode;
use calico_bgp::speaker::PeerConfig;
use calico_selector::Selector;
use ipnet::IpNet;

/// Calico's default AS number.
pub const DEFAULT_AS: u32 = 64512;
/// Calico's default BGP port.
pub const DEFAULT_PORT: u16 = 179;

/// Peer types as `calicoctl node status` prints them.
pub const MESH: &str = "node-to-node mesh";
pub const GLOBAL: &str = "global";
pub const NODE_SPECIFIC: &str = "node specific";

/// An IP pool's `ipipMode` / `vxlanMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord)]
pub enum Encap {
    #[default]
    Never,
    Always,
    CrossSubnet,
}

impl Encap {
    fn of(mode: Option<calico_api::EncapMode>) -> Encap {
        match mode.map(|m| m.as_str()) {
            Some("Always") => Encap::Always,
            Some("CrossSubnet") => Encap::CrossSubnet,
            _ => Encap::Never,
        }
    }
}

/// What BGP needs to know about one IP pool.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pool {
    pub cidr: IpNet,
    pub ipip: Encap,
    pub vxlan: Encap,
    /// Routes inside the pool may be advertised (`!disabled && !disableBGPExport`).
    pub exported: bool,
}

/// Where secrets referenced by `password.secretKeyRef` are read from: Calico reads Kubernetes
/// Secrets in calico-node's namespace; calico-rs has no Kubernetes API, so a Secret is a
/// directory `<dir>/<secret name>/` holding one file per key.
pub trait Secrets {
    fn get(&self, secret: &str, key: &str) -> Result<String, String>;
}

/// No secrets available.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoSecrets;
impl Secrets for NoSecrets {
    fn get(&self, secret: &str, _key: &str) -> Result<String, String> {
        Err(format!("secret {secret:?} is not available"))
    }
}

/// The speaker's settings for this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpeakerSettings {
    pub local_as: u32,
    pub router_id: Ipv4Addr,
    pub cluster_id: Option<Ipv4Addr>,
    pub listen_port: u16,
    pub ipv4: Option<Ipv4Addr>,
    pub ipv6: Option<Ipv6Addr>,
}

/// Everything the speaker must do on this node.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub speaker: SpeakerSettings,
    /// By address; at most one peering per address.
    pub peers: BTreeMap<IpAddr, PeerConfig>,
    /// BGPFilter names per peer address (`BGPPeer.spec.filters`, in order).
    pub peer_filters: BTreeMap<IpAddr, Vec<String>>,
    /// Prefixes to originate.
    pub advertise: BTreeSet<IpNet>,
    /// Blocks affine to this node (Calico installs a blackhole route for each).
    pub local_blocks: BTreeSet<IpNet>,
    pub pools: Vec<Pool>,
    /// Service CIDRs from BGPConfiguration (also in `advertise`).
    pub service_cidrs: Vec<IpNet>,
    /// The BGPConfiguration in effect (`default`, with `node.<name>`'s overrides).
    pub config: BGPConfigurationSpec,
    pub filters: BTreeMap<String, BGPFilter>,
    pub problems: Vec<String>,
}

/// Why there is no plan: the node runs no BGP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoPlan {
    #[error("Node {0} does not exist yet")]
    NoNode(String),
    #[error("Node {0} has no spec.bgp.ipv4Address or ipv6Address: BGP is not run on this node")]
    NoAddress(String),
    #[error(
        "Node {0} has no IPv4 address for the router ID: set CALICO_ROUTER_ID to an IPv4 address"
    )]
    NoRouterId(String),
}

/// The datastore resources BGP depends on.
#[derive(Debug, Default, Clone)]
pub struct State {
    configs: BTreeMap<String, BGPConfiguration>,
    nodes: BTreeMap<String, Node>,
    peers: BTreeMap<String, BGPPeer>,
    filters: BTreeMap<String, BGPFilter>,
    pools: BTreeMap<String, IPPool>,
    /// Block CIDR → affine node.
    blocks: BTreeMap<IpNet, Option<String>>,
    /// Workload endpoint (namespace/name) → (node, addresses).
    workloads: BTreeMap<String, (String, Vec<IpNet>)>,
}

/// Kinds [`State`] keeps.
pub const KINDS: &[&str] = &[
    "BGPConfiguration",
    "Node",
    "BGPPeer",
    "BGPFilter",
    "IPPool",
    "WorkloadEndpoint",
];

impl State {
    pub fn new() -> State {
        State::default()
    }

    /// Take a created or changed resource; false when its kind does not matter to BGP.
    pub fn upsert(&mut self, r: Resource) -> bool {
        match r {
            Resource::BGPConfiguration(c) => {
                self.configs.insert(c.metadata.name.clone(), c);
            }
            Resource::Node(n) => {
                self.nodes.insert(n.metadata.name.clone(), n);
            }
            Resource::BGPPeer(p) => {
                self.peers.insert(p.metadata.name.clone(), p);
            }
            Resource::BGPFilter(f) => {
                self.filters.insert(f.metadata.name.clone(), f);
            }
            Resource::IPPool(p) => {
                self.pools.insert(p.metadata.name.clone(), p);
            }
            Resource::WorkloadEndpoint(w) => {
                let nets = w
                    .spec
                    .ip_networks
                    .iter()
                    .filter_map(|s| s.parse::<IpNet>().ok())
                    .collect();
                self.workloads.insert(
                    format!("{}/{}", w.metadata.namespace, w.metadata.name),
                    (w.spec.node.clone(), nets),
                );
            }
            _ => return false,
        }
        true
    }

    /// Take a deletion; false when the kind does not matter to BGP.
    pub fn delete(&mut self, kind: &str, namespace: &str, name: &str) -> bool {
        match kind {
            "BGPConfiguration" => self.configs.remove(name).is_some(),
            "Node" => self.nodes.remove(name).is_some(),
            "BGPPeer" => self.peers.remove(name).is_some(),
            "BGPFilter" => self.filters.remove(name).is_some(),
            "IPPool" => self.pools.remove(name).is_some(),
            "WorkloadEndpoint" => self
                .workloads
                .remove(&format!("{namespace}/{name}"))
                .is_some(),
            _ => false,
        }
    }

    /// An IPAM block was created or changed; `affinity` is the node name (from `host:<node>`).
    pub fn block(&mut self, cidr: IpNet, affinity: Option<String>) -> bool {
        self.blocks.insert(cidr.trunc(), affinity.clone()) != Some(affinity)
    }

    pub fn block_delete(&mut self, cidr: IpNet) -> bool {
        self.blocks.remove(&cidr.trunc()).is_some()
    }

    /// The plan for node `node`. `router_id`: `CALICO_ROUTER_ID` when it is an address.
    pub fn plan(
        &self,
        node: &str,
        router_id: Option<Ipv4Addr>,
        secrets: &dyn Secrets,
    ) -> Result<Plan, NoPlan> {
        let me = self
            .nodes
            .get(node)
            .ok_or_else(|| NoPlan::NoNode(node.into()))?;
        let (v4, v6) = node_addrs(me);
        if v4.is_none() && v6.is_none() {
            return Err(NoPlan::NoAddress(node.into()));
        }
        let router_id = router_id
            .or(v4)
            .ok_or_else(|| NoPlan::NoRouterId(node.into()))?;
        let mut problems = Vec::new();
        let config = self.effective_config(node);
        let global_as = config.as_number.map_or(DEFAULT_AS, |a| a.0);
        let local_as = node_as(me).unwrap_or(global_as);
        let cluster_id = cluster_id(me, &mut problems);
        let speaker = SpeakerSettings {
            local_as,
            router_id,
            cluster_id,
            listen_port: if config.listen_port == 0 {
                DEFAULT_PORT
            } else {
                config.listen_port
            },
            ipv4: v4,
            ipv6: v6,
        };

        let mut b = PeerBuilder {
            me: node,
            my_v4: v4,
            my_v6: v6,
            local_as,
            cluster_id,
            global_as,
            peers: BTreeMap::new(),
            filters: BTreeMap::new(),
            problems: &mut problems,
            secrets,
        };
        // The mesh.
        if config.node_to_node_mesh_enabled.unwrap_or(true) && cluster_id.is_none() {
            let password = config.node_mesh_password.as_ref();
            let restart = config
                .node_mesh_max_restart_time
                .and_then(|d| d.as_std())
                .map(secs_u16);
            for (name, n) in &self.nodes {
                if name == node || node_cluster_id(n).is_some() {
                    continue;
                }
                let remote_as = node_as(n).unwrap_or(global_as);
                let (p4, p6) = node_addrs(n);
                for addr in [p4.map(IpAddr::V4), p6.map(IpAddr::V6)]
                    .into_iter()
                    .flatten()
                {
                    let mut cfg = b.calico_peer(addr, remote_as, MESH, None);
                    cfg.max_restart_time = restart;
                    if let Some(pw) = password
                        && !b.password(&mut cfg, pw, "BGPConfiguration default", "nodeMeshPassword")
                    {
                        continue;
                    }
                    b.add(cfg, Vec::new());
                }
            }
        }
        // Explicit peers: global first, so that a node-specific peering to an address that
        // already has a global one is dropped, as confd does.
        let mut ordered: Vec<&BGPPeer> = self.peers.values().collect();
        ordered.sort_by_key(|p| (!p.spec.is_global(), p.metadata.name.clone()));
        for p in ordered {
            self.explicit_peer(p, me, &mut b);
        }
        let PeerBuilder { peers, filters, .. } = b;

        let pools: Vec<Pool> = {
            let mut v: Vec<Pool> = self
                .pools
                .values()
                .filter_map(|p| {
                    Some(Pool {
                        cidr: p.spec.parsed_cidr()?,
                        ipip: Encap::of(p.spec.ipip()),
                        vxlan: Encap::of(p.spec.vxlan()),
                        exported: !p.spec.disabled && !p.spec.disable_bgp_export,
                    })
                })
                .collect();
            v.sort();
            v
        };
        let local_blocks: BTreeSet<IpNet> = self
            .blocks
            .iter()
            .filter(|(_, a)| a.as_deref() == Some(node))
            .map(|(c, _)| *c)
            .collect();
        let mut advertise = local_blocks.clone();
        // Borrowed addresses: this node's workloads outside its own blocks, inside a pool.
        for (wnode, nets) in self.workloads.values() {
            if wnode != node {
                continue;
            }
            for n in nets {
                let host = IpNet::from(n.addr());
                if local_blocks.iter().any(|b| b.contains(&host.addr())) {
                    continue;
                }
                if pools.iter().any(|p| p.cidr.contains(&host.addr())) {
                    advertise.insert(host);
                }
            }
        }
        let (service_cidrs, service_problems) = crate::policy::service_cidrs(&config);
        problems.extend(service_problems);
        advertise.extend(service_cidrs.iter().copied());
        Ok(Plan {
            speaker,
            peers,
            peer_filters: filters,
            advertise,
            local_blocks,
            pools,
            service_cidrs,
            config,
            filters: self.filters.clone(),
            problems,
        })
    }

    /// BGPConfiguration `default` with the node's `node.<name>` overriding what it sets
    /// (Calico: `logSeverityScreen`, `listenPort` and the per-node prefix settings).
    pub fn effective_config(&self, node: &str) -> BGPConfigurationSpec {
        let mut c = self
            .configs
            .get("default")
            .map(|c| c.spec.clone())
            .unwrap_or_default();
        if let Some(n) = self.configs.get(&format!("node.{node}")) {
            if !n.spec.log_severity_screen.is_empty() {
                c.log_severity_screen = n.spec.log_severity_screen.clone();
            }
            if n.spec.listen_port != 0 {
                c.listen_port = n.spec.listen_port;
            }
            if !n.spec.prefix_advertisements.is_empty() {
                c.prefix_advertisements = n.spec.prefix_advertisements.clone();
            }
            if n.spec.bind_mode.is_some() {
                c.bind_mode = n.spec.bind_mode.clone();
            }
        }
        c
    }

    fn explicit_peer(&self, p: &BGPPeer, me: &Node, b: &mut PeerBuilder<'_>) {
        let obj = format!("BGPPeer {}", p.metadata.name);
        let Some(applies) = self.selects_node(p, me, b.problems) else {
            return;
        };
        let kind = if p.spec.is_global() {
            GLOBAL
        } else {
            NODE_SPECIFIC
        };
        let filters = p.spec.filters.clone();
        if applies {
            // Forward peerings: to peerIP, or to every node peerSelector selects.
            if !p.spec.peer_ip.is_empty() {
                match p.spec.peer_address() {
                    Some((addr, port)) => {
                        let cfg = b.external_peer(p, addr, port, kind);
                        if let Some(cfg) = cfg {
                            b.add(cfg, filters.clone());
                        }
                    }
                    None => b.problems.push(format!(
                        "{obj}: spec.peerIP: {:?} is not an IP address (expected e.g. 192.0.2.1 or [2001:db8::1]:1179)",
                        p.spec.peer_ip
                    )),
                }
            }
            if !p.spec.peer_selector.is_empty() {
                let Some(sel) =
                    parse_selector(&p.spec.peer_selector, &obj, "peerSelector", b.problems)
                else {
                    return;
                };
                let selected = self
                    .nodes
                    .values()
                    .filter(|n| sel.matches(&n.metadata.labels));
                b.peer_with_nodes(selected, p, kind, &filters);
            }
        }
        // Automatic reverse peering: a node that this peering selects as a peer also peers
        // back with the nodes the peering applies to.
        if p.spec.effective_reverse_peering() != "Auto" {
            return;
        }
        let selected_as_peer = if !p.spec.peer_selector.is_empty() {
            parse_selector(&p.spec.peer_selector, &obj, "peerSelector", &mut Vec::new())
                .is_some_and(|s| s.matches(&me.metadata.labels))
        } else if let Some((addr, _)) = p.spec.peer_address() {
            let (v4, v6) = node_addrs(me);
            v4.map(IpAddr::V4) == Some(addr) || v6.map(IpAddr::V6) == Some(addr)
        } else {
            false
        };
        if !selected_as_peer {
            return;
        }
        let applies_to = self
            .nodes
            .values()
            .filter(|n| self.selects_node(p, n, &mut Vec::new()) == Some(true));
        b.peer_with_nodes(applies_to, p, kind, &filters);
    }

    /// Whether peering `p` applies to node `n` (`None`: its nodeSelector does not parse).
    fn selects_node(&self, p: &BGPPeer, n: &Node, problems: &mut Vec<String>) -> Option<bool> {
        if p.spec.is_global() {
            return Some(true);
        }
        if !p.spec.node.is_empty() {
            return Some(p.spec.node == n.metadata.name);
        }
        let obj = format!("BGPPeer {}", p.metadata.name);
        let sel = parse_selector(&p.spec.node_selector, &obj, "nodeSelector", problems)?;
        Some(sel.matches(&n.metadata.labels))
    }
}

fn parse_selector(s: &str, obj: &str, field: &str, problems: &mut Vec<String>) -> Option<Selector> {
    match Selector::parse(s) {
        Ok(sel) => Some(sel),
        Err(e) => {
            problems.push(format!(
                "{obj}: spec.{field}: {s:?} is not a valid selector: {e}"
            ));
            None
        }
    }
}

struct PeerBuilder<'a> {
    me: &'a str,
    my_v4: Option<Ipv4Addr>,
    my_v6: Option<Ipv6Addr>,
    local_as: u32,
    cluster_id: Option<Ipv4Addr>,
    global_as: u32,
    peers: BTreeMap<IpAddr, PeerConfig>,
    filters: BTreeMap<IpAddr, Vec<String>>,
    problems: &'a mut Vec<String>,
    secrets: &'a dyn Secrets,
}

impl PeerBuilder<'_> {
    fn is_me(&self, addr: IpAddr) -> bool {
        match addr {
            IpAddr::V4(a) => self.my_v4 == Some(a),
            IpAddr::V6(a) => self.my_v6 == Some(a),
        }
    }

    fn my_addr(&self, family_of: IpAddr) -> Option<IpAddr> {
        match family_of {
            IpAddr::V4(_) => self.my_v4.map(IpAddr::V4),
            IpAddr::V6(_) => self.my_v6.map(IpAddr::V6),
        }
    }

    /// A peering with another Calico node: passive when its address sorts after ours as a
    /// string (Calico compares the strings), so only one side connects.
    fn calico_peer(
        &self,
        addr: IpAddr,
        remote_as: u32,
        kind: &str,
        peer_cluster_id: Option<Ipv4Addr>,
    ) -> PeerConfig {
        let mut cfg = PeerConfig::new(addr, remote_as);
        cfg.description = kind.into();
        cfg.families = vec![family(addr)];
        if let Some(mine) = self.my_addr(addr) {
            cfg.passive = addr.to_string() > mine.to_string();
        }
        cfg.rr_client = self.rr_client(remote_as, peer_cluster_id);
        cfg
    }

    /// BIRD's `rr client` rule: we are a reflector, the peer is iBGP, and it is not a
    /// reflector of the same cluster.
    fn rr_client(&self, remote_as: u32, peer_cluster_id: Option<Ipv4Addr>) -> bool {
        match self.cluster_id {
            Some(mine) => remote_as == self.local_as && peer_cluster_id != Some(mine),
            None => false,
        }
    }

    fn external_peer(
        &mut self,
        p: &BGPPeer,
        addr: IpAddr,
        port: u16,
        kind: &str,
    ) -> Option<PeerConfig> {
        let mut cfg = PeerConfig::new(addr, p.spec.as_number.0);
        cfg.description = kind.into();
        cfg.families = vec![family(addr)];
        if port != 0 {
            cfg.port = port;
        }
        cfg.rr_client = self.rr_client(p.spec.as_number.0, None);
        if !self.peer_options(&mut cfg, p) {
            return None;
        }
        Some(cfg)
    }

    /// The per-peer options of a BGPPeer; false when the peering must be left out.
    fn peer_options(&mut self, cfg: &mut PeerConfig, p: &BGPPeer) -> bool {
        let obj = format!("BGPPeer {}", p.metadata.name);
        if p.spec.as_number.0 != 0 && !p.spec.peer_ip.is_empty() {
            cfg.remote_as = p.spec.as_number.0;
        }
        cfg.local_as = p.spec.local_as_number.map(|a| a.0);
        let local_as = cfg.local_as.unwrap_or(self.local_as);
        let ebgp = cfg.remote_as != local_as;
        cfg.next_hop_mode = match p.spec.next_hop_mode.as_deref() {
            Some("Self") => NextHopMode::SelfAlways,
            Some("Keep") => NextHopMode::Keep,
            // The legacy field only changes eBGP sessions (BIRD `next hop keep`).
            _ if p.spec.keep_original_next_hop && ebgp => NextHopMode::Keep,
            _ => NextHopMode::Auto,
        };
        if let Some(t) = p.spec.max_restart_time.and_then(|d| d.as_std()) {
            cfg.max_restart_time = Some(secs_u16(t));
        }
        if let Some(t) = p.spec.keepalive_time.and_then(|d| d.as_std()) {
            let k = secs_u16(t).max(1);
            cfg.keepalive_time = Some(k);
            cfg.hold_time = cfg.hold_time.max(k.saturating_mul(3));
        }
        if let Some(n) = p.spec.num_allowed_local_as_numbers {
            cfg.allow_local_as = usize::try_from(n).unwrap_or(0);
        }
        if let Some(pw) = &p.spec.password
            && !self.password(cfg, pw, &obj, "password")
        {
            return false;
        }
        true
    }

    fn password(&mut self, cfg: &mut PeerConfig, pw: &BGPPassword, obj: &str, field: &str) -> bool {
        let Some(r) = &pw.secret_key_ref else {
            return true;
        };
        match self.secrets.get(&r.name, &r.key) {
            Ok(v) => {
                cfg.password = Some(v);
                true
            }
            Err(e) if r.optional == Some(true) => {
                self.problems.push(format!(
                    "{obj}: spec.{field}: {e}; optional, peering without a password"
                ));
                true
            }
            Err(e) => {
                self.problems.push(format!(
                    "{obj}: spec.{field}.secretKeyRef ({}/{}): {e}; peering to {} left out",
                    r.name, r.key, cfg.address
                ));
                false
            }
        }
    }

    /// Peerings of BGPPeer `p` with each of `nodes` (other Calico nodes), per address family.
    fn peer_with_nodes<'n>(
        &mut self,
        nodes: impl Iterator<Item = &'n Node>,
        p: &BGPPeer,
        kind: &str,
        filters: &[String],
    ) {
        for n in nodes {
            if n.metadata.name == self.me {
                continue;
            }
            let remote_as = node_as(n).unwrap_or(self.global_as);
            let (p4, p6) = node_addrs(n);
            for addr in [p4.map(IpAddr::V4), p6.map(IpAddr::V6)]
                .into_iter()
                .flatten()
            {
                let mut cfg = self.calico_peer(addr, remote_as, kind, node_cluster_id(n));
                if self.peer_options(&mut cfg, p) {
                    self.add(cfg, filters.to_vec());
                }
            }
        }
    }

    /// Keep the first peering per address; never peer with ourselves.
    fn add(&mut self, cfg: PeerConfig, filters: Vec<String>) {
        if self.is_me(cfg.address) || self.peers.contains_key(&cfg.address) {
            return;
        }
        if !filters.is_empty() {
            self.filters.insert(cfg.address, filters);
        }
        self.peers.insert(cfg.address, cfg);
    }
}

fn family(addr: IpAddr) -> calico_bgp::wire::Family {
    match addr {
        IpAddr::V4(_) => calico_bgp::wire::Family::Ipv4,
        IpAddr::V6(_) => calico_bgp::wire::Family::Ipv6,
    }
}

fn secs_u16(d: Duration) -> u16 {
    u16::try_from(d.as_secs()).unwrap_or(u16::MAX)
}

/// A node's BGP addresses (`spec.bgp.ipv4Address` / `ipv6Address`, CIDR or plain).
pub fn node_addrs(n: &Node) -> (Option<Ipv4Addr>, Option<Ipv6Addr>) {
    let Some(b) = &n.spec.bgp else {
        return (None, None);
    };
    let addr = |s: &str| -> Option<IpAddr> {
        let head = s.split('/').next()?;
        head.parse().ok()
    };
    let v4 = match addr(&b.ipv4_address) {
        Some(IpAddr::V4(a)) => Some(a),
        _ => None,
    };
    let v6 = match addr(&b.ipv6_address) {
        Some(IpAddr::V6(a)) => Some(a),
        _ => None,
    };
    (v4, v6)
}

fn node_as(n: &Node) -> Option<u32> {
    n.spec.bgp.as_ref()?.as_number.map(|a| a.0)
}

fn node_cluster_id(n: &Node) -> Option<Ipv4Addr> {
    n.spec
        .bgp
        .as_ref()
        .and_then(|b| b.route_reflector_cluster_id.parse().ok())
}

fn cluster_id(n: &Node, problems: &mut Vec<String>) -> Option<Ipv4Addr> {
    let s = &n.spec.bgp.as_ref()?.route_reflector_cluster_id;
    if s.is_empty() {
        return None;
    }
    match s.parse() {
        Ok(a) => Some(a),
        Err(_) => {
            problems.push(format!(
                "Node {}: spec.bgp.routeReflectorClusterID: {s:?} is not an IPv4 address",
                n.metadata.name
            ));
            None
        }
    }
}
