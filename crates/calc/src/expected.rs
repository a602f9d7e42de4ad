//! The dataplane state computed from scratch from the datastore contents, without any of the
//! graph's indexes: the policy crate's [`Model`] over every usable resource, its
//! [`calico_policy::compile`] for each local endpoint, and every IP set's members by testing
//! every endpoint and network set. The property tests hold the incremental graph to this;
//! a resync can use it to know what the dataplane should hold.

use std::collections::{BTreeMap, BTreeSet};

use calico_api::{Resource, WorkloadEndpoint};
use calico_policy::{Direction, EndpointId, Model};
use ipnet::IpNet;

use crate::input::BlockInfo;
use crate::messages::{EndOfTierAction, LocalEndpoint, PolicyId, TierInfo as TierMsg};
use crate::network;
use crate::program::{contributions, policy_rules, profile_rules, tier_sort_key};
use crate::scan::IpSetDefs;
use crate::source::{self, EpData, NetSetData, Parsed};
use crate::state::{DataplaneState, IpSetState};

/// What the dataplane should hold for node `hostname` given these resources and blocks.
/// Resources the engine cannot use (see [`crate::InputError`]) are left out, as the graph
/// leaves them out; `in_sync` is false.
pub fn expected_state<'a>(
    hostname: &str,
    resources: impl IntoIterator<Item = &'a Resource>,
    blocks: impl IntoIterator<Item = &'a BlockInfo>,
) -> DataplaneState {
    let mut usable = Vec::new();
    let mut local_weps: BTreeMap<EndpointId, &WorkloadEndpoint> = BTreeMap::new();
    let mut items: Vec<(Option<EpData>, Option<NetSetData>)> = Vec::new();
    for r in resources {
        let Ok(parsed) = source::parse(r, hostname) else {
            continue;
        };
        match parsed {
            Parsed::Endpoint(ep) => {
                if let (Some(_), Resource::WorkloadEndpoint(w)) = (&ep.local, r) {
                    local_weps.entry(ep.id.clone()).or_insert(w);
                }
                items.push((Some(ep), None));
            }
            Parsed::NetSet(n) => items.push((None, Some(n))),
            _ => {}
        }
        usable.push(r.clone());
    }
    let Ok(model) = Model::from_resources(&usable) else {
        return DataplaneState::default();
    };
    let mut st = DataplaneState::default();
    let mut defs = IpSetDefs::new();
    let mut workloads: Vec<(std::net::IpAddr, String)> = Vec::new();
    for (ep, _) in &items {
        if let Some(EpData {
            ips,
            node: Some(node),
            ..
        }) = ep
        {
            workloads.extend(ips.iter().map(|ip| (*ip, node.clone())));
        }
    }
    for (id, w) in &local_weps {
        let Some(ep) = model.endpoint(id) else {
            continue;
        };
        let ingress = calico_policy::compile_direction(&model, ep, Direction::Ingress);
        let egress = calico_policy::compile_direction(&model, ep, Direction::Egress);
        let mut tiers: BTreeMap<String, TierMsg> = BTreeMap::new();
        for (dir, prog) in [(Direction::Ingress, &ingress), (Direction::Egress, &egress)] {
            for t in &prog.tiers {
                let Some(eot) = &t.end_of_tier else { continue };
                let entry = tiers.entry(t.tier.clone()).or_insert_with(|| TierMsg {
                    name: t.tier.clone(),
                    ingress_policies: Vec::new(),
                    egress_policies: Vec::new(),
                    end_of_tier: if eot.action == calico_api::Action::Pass {
                        EndOfTierAction::Pass
                    } else {
                        EndOfTierAction::Deny
                    },
                });
                for p in t.policies.iter().filter(|p| !p.staged) {
                    let id = PolicyId {
                        tier: t.tier.clone(),
                        policy: p.policy.clone(),
                    };
                    if !st.policies.contains_key(&id)
                        && let Some(pol) = model.policies.iter().find(|q| q.key == p.policy)
                    {
                        let (pid, rules) = policy_rules(pol, &mut defs);
                        st.policies.insert(pid, rules);
                    }
                    match dir {
                        Direction::Ingress => entry.ingress_policies.push(id),
                        Direction::Egress => entry.egress_policies.push(id),
                    }
                }
            }
        }
        let mut tiers: Vec<TierMsg> = tiers.into_values().collect();
        tiers.sort_by(|a, b| {
            let ka = tier_sort_key(model.tiers.get(&a.name).filter(|t| t.valid), &a.name);
            let kb = tier_sort_key(model.tiers.get(&b.name).filter(|t| t.valid), &b.name);
            ka.0.cmp(&kb.0)
                .then_with(|| ka.1.total_cmp(&kb.1))
                .then_with(|| ka.2.cmp(&kb.2))
        });
        for name in &ep.profiles {
            if !st.profiles.contains_key(name) {
                let rules = profile_rules(name, model.profiles.get(name), &mut defs);
                st.profiles.insert(name.clone(), rules);
            }
        }
        st.endpoints.insert(
            id.clone(),
            LocalEndpoint {
                iface_name: w.spec.interface_name.clone(),
                mac: (!w.spec.mac.is_empty()).then(|| w.spec.mac.clone()),
                nets: ep.ips.iter().map(|ip| IpNet::from(*ip)).collect(),
                tiers,
                profile_ids: ep.profiles.clone(),
            },
        );
    }
    // Members: every endpoint (with inherited labels, from the model) and network set.
    let labels_of_ep: BTreeMap<&EndpointId, &BTreeMap<String, String>> =
        model.endpoints.iter().map(|e| (&e.id, &e.labels)).collect();
    for def in defs.values() {
        let mut members = BTreeSet::new();
        for (ep, _) in &items {
            if let Some(ep) = ep
                && labels_of_ep
                    .get(&ep.id)
                    .is_some_and(|l| def.selector.matches(*l))
            {
                members.extend(contributions(def, Some(ep), None));
            }
        }
        for s in &model.net_sets {
            if def.selector.matches(&s.labels) {
                let data = NetSetData {
                    labels: s.labels.clone(),
                    parents: Vec::new(),
                    nets: s.nets.clone(),
                };
                members.extend(contributions(def, None, Some(&data)));
            }
        }
        st.ip_sets.insert(
            def.id.clone(),
            IpSetState {
                set_type: def.set_type(),
                members,
            },
        );
    }
    let nodes: Vec<_> = usable
        .iter()
        .filter_map(|r| match r {
            Resource::Node(n) => Some(n),
            _ => None,
        })
        .collect();
    let pools: Vec<_> = usable
        .iter()
        .filter_map(|r| match r {
            Resource::IPPool(p) => Some(p),
            _ => None,
        })
        .collect();
    let net = network::compute(
        hostname,
        nodes,
        pools,
        blocks,
        workloads.iter().map(|(ip, n)| (*ip, n.as_str())),
    );
    st.routes = net.routes;
    st.vteps = net.vteps;
    st.pools = net.pools;
    st.host_ipv4 = net.host_ipv4;
    st
}
