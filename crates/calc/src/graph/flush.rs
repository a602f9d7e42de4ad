//! The end of a batch: rescanning dirty policies and profiles, rebuilding dirty endpoints, and
//! sending only what differs from what was sent, in contract order.

use std::collections::BTreeSet;
use std::mem::take;
use std::sync::Arc;

use calico_policy::{EndpointId, PolicyKey};
use ipnet::IpNet;

use super::{Active, CalcGraph, Owner};
use crate::messages::{DataplaneMessage, LocalEndpoint, PolicyRules};
use crate::network::{self, NetworkState};
use crate::program::{build_tiers, profile_rules};
use crate::scan::IpSetDefs;

impl CalcGraph {
    // ----- end of batch -----

    fn refresh_policy(&mut self, pk: &PolicyKey) {
        let owner = Owner::Policy(pk.clone());
        let active = self.local_idx.items_matching(pk).next().is_some();
        let new = match self.policies.get(pk) {
            Some(e) if active => Some((e.id.clone(), Arc::clone(&e.rules), Arc::clone(&e.defs))),
            _ => None,
        };
        let old = self.active_pols.remove(pk);
        if let Some(o) = &old {
            self.touched_pols.insert(o.id.clone());
        }
        let none = IpSetDefs::new();
        let defs = new.as_ref().map_or(&none, |(_, _, d)| &**d);
        self.swap_sets(&owner, old.map(|o| o.sets), defs);
        if let Some((id, rules, defs)) = new {
            self.touched_pols.insert(id.clone());
            self.active_pols.insert(
                pk.clone(),
                Active {
                    id,
                    rules,
                    sets: defs.keys().cloned().collect(),
                },
            );
        }
    }

    fn refresh_profile(&mut self, name: &str) {
        let owner = Owner::Profile(name.to_string());
        let active = self.profile_refs.contains_key(name);
        let mut defs = IpSetDefs::new();
        let new = active.then(|| {
            let info = self
                .profile_res
                .get(name)
                .or_else(|| self.ns_profiles.get(name));
            profile_rules(name, info, &mut defs)
        });
        let old = self.active_profiles.remove(name);
        self.swap_sets(&owner, old.map(|o| o.sets), &defs);
        if let Some(rules) = new {
            self.active_profiles.insert(
                name.to_string(),
                Active {
                    id: name.to_string(),
                    rules: Arc::new(rules),
                    sets: defs.into_keys().collect(),
                },
            );
        }
    }

    fn local_endpoint(&self, id: &EndpointId) -> Option<LocalEndpoint> {
        let ep = self.eps.get(id)?;
        let local = ep.local.as_ref()?;
        let matched = self
            .local_idx
            .selectors_matching(id)
            .filter_map(|k| self.policies.get(k).map(|e| &e.meta));
        Some(LocalEndpoint {
            iface_name: local.iface.clone(),
            mac: local.mac.clone(),
            nets: ep.ips.iter().map(|ip| IpNet::from(*ip)).collect(),
            tiers: build_tiers(matched, &self.tiers),
            profile_ids: ep.profiles.clone(),
        })
    }

    fn network(&self) -> NetworkState {
        let workloads = self.eps.values().filter_map(|e| {
            let node = e.node.as_deref()?;
            Some(e.ips.iter().map(move |ip| (*ip, node)))
        });
        network::compute(
            &self.hostname,
            self.nodes.values(),
            self.pools.values(),
            self.blocks.values(),
            workloads.flatten(),
        )
    }

    pub(super) fn flush(&mut self) -> Vec<DataplaneMessage> {
        use DataplaneMessage as M;
        for pk in take(&mut self.dirty_pols) {
            self.refresh_policy(&pk);
        }
        for name in take(&mut self.dirty_profiles) {
            self.refresh_profile(&name);
        }
        for (owner, id) in take(&mut self.pending_release) {
            self.release(&owner, &id);
        }
        let mut out = Vec::new();

        // IP sets: new ones whole, changed ones as deltas.
        let mut set_removes = Vec::new();
        for id in take(&mut self.touched_sets) {
            match self.sets.get_mut(&id) {
                Some(st) => {
                    let added = take(&mut st.added);
                    let removed = take(&mut st.removed);
                    if self.fresh_sets.contains(&id) || !self.sent_sets.contains(&id) {
                        out.push(M::IpSetUpdate {
                            id: id.clone(),
                            set_type: st.def.set_type(),
                            members: st.members.keys().copied().collect(),
                        });
                        self.sent_sets.insert(id);
                    } else if !added.is_empty() || !removed.is_empty() {
                        out.push(M::IpSetDeltaUpdate { id, added, removed });
                    }
                }
                None => {
                    if self.sent_sets.remove(&id) {
                        set_removes.push(M::IpSetRemove { id });
                    }
                }
            }
        }
        self.fresh_sets.clear();

        // Policies and profiles.
        let mut rule_removes = Vec::new();
        for id in take(&mut self.touched_pols) {
            let cur = self
                .active_pols
                .get(&id.policy)
                .filter(|a| a.id == id)
                .map(|a| &a.rules);
            match cur {
                Some(rules) => {
                    // Always keep the current allocation, so equal rules are held once.
                    let changed = !same(self.sent_pols.get(&id), rules);
                    self.sent_pols.insert(id.clone(), Arc::clone(rules));
                    if changed {
                        out.push(M::ActivePolicyUpdate {
                            id,
                            rules: PolicyRules::clone(rules),
                        });
                    }
                }
                None => {
                    if self.sent_pols.remove(&id).is_some() {
                        rule_removes.push(M::ActivePolicyRemove { id });
                    }
                }
            }
        }
        let profile_names: BTreeSet<String> = self
            .active_profiles
            .keys()
            .chain(self.sent_profiles.keys())
            .cloned()
            .collect();
        for name in profile_names {
            match self.active_profiles.get(&name).map(|a| &a.rules) {
                Some(rules) => {
                    let changed = !same(self.sent_profiles.get(&name), rules);
                    self.sent_profiles.insert(name.clone(), Arc::clone(rules));
                    if changed {
                        out.push(M::ActiveProfileUpdate {
                            id: name,
                            rules: PolicyRules::clone(rules),
                        });
                    }
                }
                None => {
                    self.sent_profiles.remove(&name);
                    rule_removes.push(M::ActiveProfileRemove { id: name });
                }
            }
        }

        // Endpoints.
        let mut ep_removes = Vec::new();
        for id in take(&mut self.dirty_eps) {
            match self.local_endpoint(&id) {
                Some(e) => {
                    if self.sent_eps.get(&id) != Some(&e) {
                        self.sent_eps.insert(id.clone(), e.clone());
                        out.push(M::WorkloadEndpointUpdate { id, endpoint: e });
                    }
                }
                None => {
                    if self.sent_eps.remove(&id).is_some() {
                        ep_removes.push(M::WorkloadEndpointRemove { id });
                    }
                }
            }
        }
        out.extend(ep_removes);
        out.extend(rule_removes);
        out.extend(set_removes);

        if take(&mut self.net_dirty) {
            let net = self.network();
            out.extend(diff_network(&self.hostname, &self.sent_net, &net));
            self.sent_net = net;
        }
        if self.in_sync_requested && !self.in_sync_sent {
            self.in_sync_sent = true;
            out.push(M::InSync);
        }
        out
    }
}

/// The messages that turn `old` into `new`: host metadata, pool updates, VTEP adds, route
/// adds, route removes, VTEP removes, pool removes (Felix's sequencer order).
fn diff_network(hostname: &str, old: &NetworkState, new: &NetworkState) -> Vec<DataplaneMessage> {
    use DataplaneMessage as M;
    let mut out = Vec::new();
    if old.host_ipv4 != new.host_ipv4 {
        out.push(M::HostMetadataUpdate {
            hostname: hostname.to_string(),
            ipv4: new.host_ipv4,
        });
    }
    for (id, p) in &new.pools {
        if old.pools.get(id) != Some(p) {
            out.push(M::PoolUpdate {
                id: id.clone(),
                pool: p.clone(),
            });
        }
    }
    for (node, v) in &new.vteps {
        if old.vteps.get(node) != Some(v) {
            out.push(M::VtepUpdate { vtep: v.clone() });
        }
    }
    for (dst, r) in &new.routes {
        if old.routes.get(dst) != Some(r) {
            out.push(M::RouteUpdate { route: r.clone() });
        }
    }
    for dst in old.routes.keys() {
        if !new.routes.contains_key(dst) {
            out.push(M::RouteRemove { dst: *dst });
        }
    }
    for node in old.vteps.keys() {
        if !new.vteps.contains_key(node) {
            out.push(M::VtepRemove { node: node.clone() });
        }
    }
    for id in old.pools.keys() {
        if !new.pools.contains_key(id) {
            out.push(M::PoolRemove { id: id.clone() });
        }
    }
    out
}

/// Whether what was sent equals the current rules (the same allocation, or equal contents).
fn same(sent: Option<&Arc<PolicyRules>>, cur: &Arc<PolicyRules>) -> bool {
    sent.is_some_and(|s| Arc::ptr_eq(s, cur) || s == cur)
}
