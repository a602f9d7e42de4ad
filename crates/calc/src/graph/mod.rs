//! The incremental calculation graph.
//!
//! Inputs update the stored datastore facts and two label indexes at once:
//!
//! - `local_idx`: every non-staged policy's (scoped) selector against the workload endpoints
//!   on this node (Felix's `ActiveRulesCalculator`). A change of match marks the endpoint
//!   (its tiers may change) and the policy (it may become active or inactive) dirty.
//! - `member_idx`: every *active* IP set's selector against every endpoint on any node and
//!   every network set (Felix's `SelectorAndNamedPortIndex`). A change of match adds or
//!   removes that item's contribution (addresses, CIDRs or named ports) to the set; members
//!   are reference-counted, so a member shared by two items stays while either remains.
//!
//! At the end of a batch ([`CalcGraph::apply`]) dirty policies and profiles are re-scanned
//! (Felix's `RuleScanner`: new IP sets are acquired before old ones are released), dirty local
//! endpoints are rebuilt, and only what differs from what was last sent goes out, in the order
//! the message contract requires. So a label change on one pod costs the policies and sets
//! that pod is involved in, not the cluster.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use calico_api::{IPPool, Node, Resource};
use calico_policy::{EndpointId, Policy, PolicyKey, ProfileInfo, TierInfo};
use calico_selector::{LabelIndex, MatchChange, MatchDelta};
use ipnet::IpNet;

use crate::input::{BlockInfo, ResourceKey, Update};
use crate::messages::{IpSetId, IpSetMember, LocalEndpoint, PolicyId, PolicyRules};
use crate::network::NetworkState;
use crate::program::{contributions, policy_rules, well_known_tiers};
use crate::scan::{IpSetDef, IpSetDefs};
use crate::source::{self, EpData, NetSetData, Parsed};
use crate::state::{DataplaneState, IpSetState};
use crate::{InputError, Output};

mod flush;

/// A labelled thing IP sets select: an endpoint or a network set.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Item {
    Ep(EndpointId),
    Net(ResourceKey),
}

/// What the graph remembers of a stored resource: only its kind's role, so a delete knows what
/// to undo (everything else lives in the derived indexes; the decoded resource is dropped).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stored {
    Endpoint,
    NetSet,
    Policy,
    Profile,
    Namespace,
    Tier,
    Node,
    Pool,
    Other,
}

impl Stored {
    fn of(r: &Resource) -> Stored {
        match r {
            Resource::WorkloadEndpoint(_) | Resource::HostEndpoint(_) => Stored::Endpoint,
            Resource::NetworkSet(_) | Resource::GlobalNetworkSet(_) => Stored::NetSet,
            Resource::NetworkPolicy(_)
            | Resource::GlobalNetworkPolicy(_)
            | Resource::KubernetesNetworkPolicy(_)
            | Resource::StagedNetworkPolicy(_)
            | Resource::StagedGlobalNetworkPolicy(_) => Stored::Policy,
            Resource::Profile(_) => Stored::Profile,
            Resource::Namespace(_) => Stored::Namespace,
            Resource::Tier(_) => Stored::Tier,
            Resource::Node(_) => Stored::Node,
            Resource::IPPool(_) => Stored::Pool,
            _ => Stored::Other,
        }
    }
}

/// A stored policy: what tiers and ordering need (its rules stripped: `meta.ingress` and
/// `meta.egress` are empty) and its rules, scanned once when it arrives (scanning depends on
/// the policy alone). `rules` is the one allocation `Active` and `sent_pols` share.
#[derive(Debug)]
struct PolicyEntry {
    meta: Policy,
    id: PolicyId,
    rules: Arc<PolicyRules>,
    defs: Arc<IpSetDefs>,
}

/// Who uses an IP set.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Owner {
    Policy(PolicyKey),
    Profile(String),
}

/// The scanned rules of an active policy or profile.
#[derive(Clone, Debug)]
struct Active<I> {
    id: I,
    /// Shared with `sent_pols`/`sent_profiles` once sent (one copy of the rules, not two).
    rules: Arc<PolicyRules>,
    sets: BTreeSet<IpSetId>,
}

/// An active IP set: its definition, users and reference-counted members, plus the net change
/// since the last batch went out.
#[derive(Clone, Debug)]
struct SetState {
    def: IpSetDef,
    users: BTreeSet<Owner>,
    members: BTreeMap<IpSetMember, u32>,
    added: BTreeSet<IpSetMember>,
    removed: BTreeSet<IpSetMember>,
}

impl SetState {
    fn add(&mut self, m: IpSetMember) {
        let c = self.members.entry(m).or_insert(0);
        *c += 1;
        if *c == 1 && !self.removed.remove(&m) {
            self.added.insert(m);
        }
    }

    fn remove(&mut self, m: IpSetMember) {
        if let Some(c) = self.members.get_mut(&m) {
            *c -= 1;
            if *c == 0 {
                self.members.remove(&m);
                if !self.added.remove(&m) {
                    self.removed.insert(m);
                }
            }
        }
    }
}

/// Felix's calculation graph for one node: feed it [`Update`]s, get [`DataplaneMessage`]s.
///
/// - [`CalcGraph::new`] takes the node's name (the `Node` resource's name, which is also the
///   `spec.node` of its workload endpoints).
/// - [`CalcGraph::apply`] takes a batch (the initial snapshot ending with [`Update::InSync`],
///   then changes as they come) and returns an [`Output`]: the messages for the batch in
///   contract order, and the inputs it could not use. Only the net change of the batch is sent:
///   something changed and changed back within a batch sends nothing.
/// - [`CalcGraph::state`] is what the dataplane holds after applying everything sent so far;
///   [`crate::expected_state`] computes the same from the datastore contents alone.
///
/// What it sends: every local workload endpoint (`spec.node` equal to the hostname) with its
/// tiers (ordered by tier order, then name; tiers that only policies name last) and, per
/// direction, the non-staged policies that select it (by order, then name, namespace, kind),
/// the tier's end-of-tier action, and its profiles; every policy and profile such an endpoint
/// uses, its rules scanned into IP-set references; every IP set those rules use, with members
/// from every endpoint (any node, WEPs and HEPs) and network set its selector matches; pools,
/// routes (pools, blocks by affinity, nodes, tunnel addresses, local workloads, borrowed
/// addresses), VXLAN tunnel endpoints and this host's address.
#[derive(Debug)]
pub struct CalcGraph {
    hostname: String,
    resources: BTreeMap<ResourceKey, Stored>,
    blocks: BTreeMap<IpNet, BlockInfo>,

    eps: BTreeMap<EndpointId, EpData>,
    ep_by_key: BTreeMap<ResourceKey, EndpointId>,
    netsets: BTreeMap<ResourceKey, NetSetData>,
    profile_res: BTreeMap<String, ProfileInfo>,
    ns_profiles: BTreeMap<String, ProfileInfo>,
    parents: BTreeMap<String, BTreeMap<String, String>>,
    policies: BTreeMap<PolicyKey, PolicyEntry>,
    pol_by_key: BTreeMap<ResourceKey, PolicyKey>,
    tiers: BTreeMap<String, TierInfo>,
    nodes: BTreeMap<String, Node>,
    pools: BTreeMap<String, IPPool>,

    local_idx: LabelIndex<PolicyKey, EndpointId>,
    member_idx: LabelIndex<IpSetId, Item>,

    active_pols: BTreeMap<PolicyKey, Active<PolicyId>>,
    active_profiles: BTreeMap<String, Active<String>>,
    profile_refs: BTreeMap<String, BTreeSet<EndpointId>>,
    sets: BTreeMap<IpSetId, SetState>,

    dirty_eps: BTreeSet<EndpointId>,
    dirty_pols: BTreeSet<PolicyKey>,
    dirty_profiles: BTreeSet<String>,
    net_dirty: bool,
    touched_sets: BTreeSet<IpSetId>,
    fresh_sets: BTreeSet<IpSetId>,
    touched_pols: BTreeSet<PolicyId>,
    /// Set releases wait until every dirty policy and profile has acquired its new sets, so a
    /// selector moving from one policy to another keeps its set.
    pending_release: Vec<(Owner, IpSetId)>,

    sent_sets: BTreeSet<IpSetId>,
    sent_pols: BTreeMap<PolicyId, Arc<PolicyRules>>,
    sent_profiles: BTreeMap<String, Arc<PolicyRules>>,
    sent_eps: BTreeMap<EndpointId, LocalEndpoint>,
    sent_net: NetworkState,
    in_sync_requested: bool,
    in_sync_sent: bool,
}

impl CalcGraph {
    /// A graph for the node named `hostname` (the `Node` resource's name; workload endpoints
    /// with `spec.node` equal to it are local).
    pub fn new(hostname: impl Into<String>) -> CalcGraph {
        CalcGraph {
            hostname: hostname.into(),
            resources: BTreeMap::new(),
            blocks: BTreeMap::new(),
            eps: BTreeMap::new(),
            ep_by_key: BTreeMap::new(),
            netsets: BTreeMap::new(),
            profile_res: BTreeMap::new(),
            ns_profiles: BTreeMap::new(),
            parents: BTreeMap::new(),
            policies: BTreeMap::new(),
            pol_by_key: BTreeMap::new(),
            tiers: well_known_tiers(),
            nodes: BTreeMap::new(),
            pools: BTreeMap::new(),
            local_idx: LabelIndex::new(),
            member_idx: LabelIndex::new(),
            active_pols: BTreeMap::new(),
            active_profiles: BTreeMap::new(),
            profile_refs: BTreeMap::new(),
            sets: BTreeMap::new(),
            dirty_eps: BTreeSet::new(),
            dirty_pols: BTreeSet::new(),
            dirty_profiles: BTreeSet::new(),
            net_dirty: false,
            touched_sets: BTreeSet::new(),
            fresh_sets: BTreeSet::new(),
            touched_pols: BTreeSet::new(),
            pending_release: Vec::new(),
            sent_sets: BTreeSet::new(),
            sent_pols: BTreeMap::new(),
            sent_profiles: BTreeMap::new(),
            sent_eps: BTreeMap::new(),
            sent_net: NetworkState::default(),
            in_sync_requested: false,
            in_sync_sent: false,
        }
    }

    /// This node's name.
    pub fn hostname(&self) -> &str {
        &self.hostname
    }

    /// The keys of the resources currently stored (the valid ones). The graph keeps only what
    /// it derived from each resource, not the resource itself.
    pub fn resource_keys(&self) -> impl Iterator<Item = &ResourceKey> {
        self.resources.keys()
    }

    /// The IPAM blocks currently stored.
    pub fn blocks(&self) -> impl Iterator<Item = &BlockInfo> {
        self.blocks.values()
    }

    /// What the dataplane holds once it has applied everything sent so far (for a dataplane
    /// that restarts: [`DataplaneState::to_messages`] rebuilds it from nothing).
    pub fn state(&self) -> DataplaneState {
        DataplaneState {
            ip_sets: self
                .sent_sets
                .iter()
                .filter_map(|id| {
                    let st = self.sets.get(id)?;
                    Some((
                        id.clone(),
                        IpSetState {
                            set_type: st.def.set_type(),
                            members: st.members.keys().copied().collect(),
                        },
                    ))
                })
                .collect(),
            policies: self
                .sent_pols
                .iter()
                .map(|(k, v)| (k.clone(), PolicyRules::clone(v)))
                .collect(),
            profiles: self
                .sent_profiles
                .iter()
                .map(|(k, v)| (k.clone(), PolicyRules::clone(v)))
                .collect(),
            endpoints: self.sent_eps.clone(),
            routes: self.sent_net.routes.clone(),
            vteps: self.sent_net.vteps.clone(),
            pools: self.sent_net.pools.clone(),
            host_ipv4: self.sent_net.host_ipv4,
            in_sync: self.in_sync_sent,
        }
    }

    /// Applies a batch of updates and returns what the dataplane must do, in contract order,
    /// with the inputs that could not be used.
    pub fn apply(&mut self, updates: impl IntoIterator<Item = Update>) -> Output {
        let mut errors = Vec::new();
        for u in updates {
            self.handle(u, &mut errors);
        }
        Output {
            messages: self.flush(),
            errors,
        }
    }

    fn handle(&mut self, u: Update, errors: &mut Vec<InputError>) {
        match u {
            Update::Upsert(r) => {
                let key = ResourceKey::of(&r);
                let stored = Stored::of(&r);
                let parsed = source::parse(&r, &self.hostname);
                drop(r);
                match parsed {
                    Ok(parsed) => {
                        let exists = self.resources.contains_key(&key);
                        let result = match parsed {
                            Parsed::Endpoint(ep) if exists && self.in_place(&key, &ep) => {
                                self.update_endpoint(ep);
                                Ok(())
                            }
                            // A profile's or namespace's new version replaces the old in
                            // place, so its endpoints are re-evaluated once, for the labels
                            // that changed.
                            Parsed::Profile(_) | Parsed::Namespace(_) if exists => {
                                self.add(&key, parsed)
                            }
                            parsed => {
                                self.remove(&key);
                                self.add(&key, parsed)
                            }
                        };
                        match result {
                            Ok(()) => {
                                self.resources.insert(key, stored);
                            }
                            Err(e) => errors.push(e),
                        }
                    }
                    Err(e) => {
                        self.remove(&key);
                        errors.push(InputError::Invalid {
                            key,
                            message: e.to_string(),
                        });
                    }
                }
            }
            Update::Delete(key) => self.remove(&key),
            Update::Block(b) => {
                self.blocks.insert(b.cidr.trunc(), b);
                self.net_dirty = true;
            }
            Update::BlockDelete(cidr) => {
                self.blocks.remove(&cidr.trunc());
                self.net_dirty = true;
            }
            Update::InSync => self.in_sync_requested = true,
        }
    }

    // ----- storing and forgetting resources -----

    fn add(&mut self, key: &ResourceKey, parsed: Parsed) -> Result<(), InputError> {
        match parsed {
            Parsed::Endpoint(ep) => return self.add_endpoint(key, ep),
            Parsed::NetSet(n) => {
                for p in &n.parents {
                    self.ensure_parent(p);
                }
                let item = Item::Net(key.clone());
                self.netsets.insert(key.clone(), n.clone());
                let d = self.member_idx.update_item(item, n.labels, n.parents);
                self.member_deltas(d);
            }
            Parsed::Policy(mut p) => {
                let pk = p.key.clone();
                let mut defs = IpSetDefs::new();
                let (id, rules) = policy_rules(&p, &mut defs);
                p.ingress = Vec::new();
                p.egress = Vec::new();
                self.pol_by_key.insert(key.clone(), pk.clone());
                let d = self
                    .local_idx
                    .update_selector(pk.clone(), p.selector.clone());
                self.local_deltas(d);
                self.dirty_eps
                    .extend(self.local_idx.items_matching(&pk).cloned());
                self.policies.insert(
                    pk.clone(),
                    PolicyEntry {
                        meta: p,
                        id,
                        rules: Arc::new(rules),
                        defs: Arc::new(defs),
                    },
                );
                self.dirty_pols.insert(pk);
            }
            Parsed::Profile(p) => {
                let name = p.name.clone();
                self.profile_res.insert(name.clone(), p);
                self.refresh_parent(&name);
                self.dirty_profiles.insert(name);
            }
            Parsed::Namespace(p) => {
                let name = p.name.clone();
                self.ns_profiles.insert(name.clone(), p);
                self.refresh_parent(&name);
                self.dirty_profiles.insert(name);
            }
            Parsed::Tier(t) => {
                self.tiers.insert(t.name.clone(), t);
                self.dirty_eps.extend(self.sent_eps.keys().cloned());
                self.dirty_eps.extend(
                    self.eps
                        .iter()
                        .filter(|(_, e)| e.local.is_some())
                        .map(|(id, _)| id.clone()),
                );
            }
            Parsed::Node(n) => {
                self.nodes.insert(n.metadata.name.clone(), *n);
                self.net_dirty = true;
            }
            Parsed::Pool(p) => {
                self.pools.insert(p.metadata.name.clone(), *p);
                self.net_dirty = true;
            }
            Parsed::Ignored => {}
        }
        Ok(())
    }

    fn remove(&mut self, key: &ResourceKey) {
        let Some(stored) = self.resources.remove(key) else {
            return;
        };
        match stored {
            Stored::Endpoint => {
                self.remove_endpoint(key);
            }
            Stored::NetSet => {
                let item = Item::Net(key.clone());
                let d = self.member_idx.remove_item(&item);
                self.member_deltas(d);
                self.netsets.remove(key);
            }
            Stored::Policy => {
                if let Some(pk) = self.pol_by_key.remove(key) {
                    self.dirty_eps
                        .extend(self.local_idx.items_matching(&pk).cloned());
                    let d = self.local_idx.remove_selector(&pk);
                    self.local_deltas(d);
                    self.policies.remove(&pk);
                    self.dirty_pols.insert(pk);
                }
            }
            Stored::Profile => {
                let name = key.name.clone();
                self.profile_res.remove(&name);
                self.refresh_parent(&name);
                self.dirty_profiles.insert(name);
            }
            Stored::Namespace => {
                let name = format!("kns.{}", key.name);
                self.ns_profiles.remove(&name);
                self.refresh_parent(&name);
                self.dirty_profiles.insert(name);
            }
            Stored::Tier => {
                let name = key.name.clone();
                match well_known_tiers().remove(&name) {
                    Some(w) => self.tiers.insert(name, w),
                    None => self.tiers.remove(&name),
                };
                self.dirty_eps.extend(
                    self.eps
                        .iter()
                        .filter(|(_, e)| e.local.is_some())
                        .map(|(id, _)| id.clone()),
                );
            }
            Stored::Node => {
                self.nodes.remove(&key.name);
                self.net_dirty = true;
            }
            Stored::Pool => {
                self.pools.remove(&key.name);
                self.net_dirty = true;
            }
            Stored::Other => {}
        }
    }

    fn add_endpoint(&mut self, key: &ResourceKey, ep: EpData) -> Result<(), InputError> {
        if self.eps.contains_key(&ep.id) {
            return Err(InputError::Duplicate {
                key: key.clone(),
                endpoint: ep.id.to_string(),
            });
        }
        for p in &ep.profiles {
            self.ensure_parent(p);
        }
        let id = ep.id.clone();
        if ep.local.is_some() {
            let d = self
                .local_idx
                .update_item(id.clone(), ep.labels.clone(), ep.profiles.clone());
            self.local_deltas(d);
            for p in &ep.profiles {
                self.profile_refs
                    .entry(p.clone())
                    .or_default()
                    .insert(id.clone());
                self.dirty_profiles.insert(p.clone());
            }
            self.dirty_eps.insert(id.clone());
        }
        self.net_dirty |= ep.node.is_some();
        let labels = ep.labels.clone();
        let parents = ep.profiles.clone();
        self.eps.insert(id.clone(), ep);
        self.ep_by_key.insert(key.clone(), id.clone());
        let d = self.member_idx.update_item(Item::Ep(id), labels, parents);
        self.member_deltas(d);
        Ok(())
    }

    /// Whether a new version of an endpoint can replace the old in place (same ID, same
    /// locality).
    fn in_place(&self, key: &ResourceKey, ep: &EpData) -> bool {
        self.ep_by_key.get(key) == Some(&ep.id)
            && self
                .eps
                .get(&ep.id)
                .is_some_and(|old| old.local.is_some() == ep.local.is_some())
    }

    /// Replaces an endpoint in place: only the matches that change are re-evaluated, and only
    /// the policies whose match changed are rescanned.
    fn update_endpoint(&mut self, ep: EpData) {
        for p in &ep.profiles {
            self.ensure_parent(p);
        }
        let id = ep.id.clone();
        let item = Item::Ep(id.clone());
        let before: Vec<IpSetId> = self.member_idx.selectors_matching(&item).cloned().collect();
        for set in &before {
            if let Some(st) = self.sets.get_mut(set) {
                for m in contributions(&st.def, self.eps.get(&id), None) {
                    st.remove(m);
                }
                self.touched_sets.insert(set.clone());
            }
        }
        let Some(old) = self.eps.insert(id.clone(), ep) else {
            return;
        };
        let Some(ep) = self.eps.get(&id) else {
            return;
        };
        let (labels, parents) = (ep.labels.clone(), ep.profiles.clone());
        self.net_dirty |= old.ips != ep.ips || old.node != ep.node;
        let new_profiles = ep.profiles.clone();
        let local = ep.local.is_some();
        self.member_idx
            .update_item(item.clone(), labels.clone(), parents.clone());
        let after: Vec<IpSetId> = self.member_idx.selectors_matching(&item).cloned().collect();
        for set in &after {
            if let Some(st) = self.sets.get_mut(set) {
                for m in contributions(&st.def, self.eps.get(&id), None) {
                    st.add(m);
                }
                self.touched_sets.insert(set.clone());
            }
        }
        if local {
            let d = self.local_idx.update_item(id.clone(), labels, parents);
            self.local_deltas(d);
            for p in &old.profiles {
                if !new_profiles.contains(p) {
                    if let Some(refs) = self.profile_refs.get_mut(p) {
                        refs.remove(&id);
                        if refs.is_empty() {
                            self.profile_refs.remove(p);
                        }
                    }
                    self.dirty_profiles.insert(p.clone());
                }
            }
            for p in &new_profiles {
                if !old.profiles.contains(p) {
                    self.profile_refs
                        .entry(p.clone())
                        .or_default()
                        .insert(id.clone());
                    self.dirty_profiles.insert(p.clone());
                }
            }
            self.dirty_eps.insert(id);
        }
    }

    fn remove_endpoint(&mut self, key: &ResourceKey) {
        let Some(id) = self.ep_by_key.remove(key) else {
            return;
        };
        let d = self.member_idx.remove_item(&Item::Ep(id.clone()));
        self.member_deltas(d);
        let Some(ep) = self.eps.remove(&id) else {
            return;
        };
        if ep.local.is_some() {
            let d = self.local_idx.remove_item(&id);
            self.local_deltas(d);
            for p in &ep.profiles {
                if let Some(refs) = self.profile_refs.get_mut(p) {
                    refs.remove(&id);
                    if refs.is_empty() {
                        self.profile_refs.remove(p);
                    }
                }
                self.dirty_profiles.insert(p.clone());
            }
            self.dirty_eps.insert(id);
        }
        self.net_dirty |= ep.node.is_some();
    }

    /// Makes sure the indexes know the labels `name` passes on (if any).
    fn ensure_parent(&mut self, name: &str) {
        if !self.parents.contains_key(name) {
            self.refresh_parent(name);
        }
    }

    fn refresh_parent(&mut self, name: &str) {
        let labels = source::parent_labels(name, &self.profile_res, &self.ns_profiles);
        if self.parents.get(name) == labels.as_ref() {
            return;
        }
        match labels {
            Some(l) => {
                self.parents.insert(name.to_string(), l.clone());
                let d = self.local_idx.update_parent(name.to_string(), l.clone());
                self.local_deltas(d);
                let d = self.member_idx.update_parent(name.to_string(), l);
                self.member_deltas(d);
            }
            None => {
                self.parents.remove(name);
                let d = self.local_idx.remove_parent(&name.to_string());
                self.local_deltas(d);
                let d = self.member_idx.remove_parent(&name.to_string());
                self.member_deltas(d);
            }
        }
    }

    fn local_deltas(&mut self, deltas: Vec<MatchDelta<PolicyKey, EndpointId>>) {
        for (pol, ep, _) in deltas {
            self.dirty_pols.insert(pol);
            self.dirty_eps.insert(ep);
        }
    }

    fn member_deltas(&mut self, deltas: Vec<MatchDelta<IpSetId, Item>>) {
        for (set, item, change) in deltas {
            let Some(st) = self.sets.get_mut(&set) else {
                continue;
            };
            let members = match &item {
                Item::Ep(id) => contributions(&st.def, self.eps.get(id), None),
                Item::Net(k) => contributions(&st.def, None, self.netsets.get(k)),
            };
            for m in members {
                match change {
                    MatchChange::Started => st.add(m),
                    MatchChange::Stopped => st.remove(m),
                }
            }
            self.touched_sets.insert(set);
        }
    }

    // ----- IP sets -----

    fn acquire(&mut self, owner: &Owner, def: &IpSetDef) {
        if let Some(st) = self.sets.get_mut(&def.id) {
            st.users.insert(owner.clone());
            return;
        }
        self.sets.insert(
            def.id.clone(),
            SetState {
                def: def.clone(),
                users: BTreeSet::from([owner.clone()]),
                members: BTreeMap::new(),
                added: BTreeSet::new(),
                removed: BTreeSet::new(),
            },
        );
        let d = self
            .member_idx
            .update_selector(def.id.clone(), def.selector.clone());
        self.member_deltas(d);
        self.fresh_sets.insert(def.id.clone());
        self.touched_sets.insert(def.id.clone());
    }

    fn release(&mut self, owner: &Owner, id: &IpSetId) {
        let Some(st) = self.sets.get_mut(id) else {
            return;
        };
        st.users.remove(owner);
        if st.users.is_empty() {
            self.sets.remove(id);
            self.member_idx.remove_selector(id);
            self.fresh_sets.remove(id);
            self.touched_sets.insert(id.clone());
        }
    }

    /// Switches an owner's IP sets from `old` to the ones in `new`: acquires now, releases
    /// at the end of the batch's rescan.
    fn swap_sets(&mut self, owner: &Owner, old: Option<BTreeSet<IpSetId>>, new: &IpSetDefs) {
        for def in new.values() {
            self.acquire(owner, def);
        }
        for id in old.unwrap_or_default() {
            if !new.contains_key(&id) {
                self.pending_release.push((owner.clone(), id));
            }
        }
    }
}
