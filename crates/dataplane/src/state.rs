//! Desired state: the calc graph's messages folded into maps keyed by stable IDs (pure).

use std::collections::{BTreeMap, BTreeSet};

use calico_calc::messages::{
    DataplaneMessage, IpSetId, IpSetMember, IpSetType, LocalEndpoint, PolicyId, PolicyRules, Pool,
    Route, Vtep,
};
use calico_policy::EndpointId;
use ipnet::{IpNet, Ipv4Net};

/// One IP set's type and members.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpSet {
    pub set_type: IpSetType,
    pub members: BTreeSet<IpSetMember>,
}

/// Everything the calc graph has told the dataplane, as of the last message folded in.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DesiredState {
    pub ip_sets: BTreeMap<IpSetId, IpSet>,
    pub policies: BTreeMap<PolicyId, PolicyRules>,
    pub profiles: BTreeMap<String, PolicyRules>,
    pub endpoints: BTreeMap<EndpointId, LocalEndpoint>,
    pub routes: BTreeMap<IpNet, Route>,
    pub vteps: BTreeMap<String, Vtep>,
    pub pools: BTreeMap<String, Pool>,
    pub hostname: Option<String>,
    pub host_ipv4: Option<Ipv4Net>,
    /// The calc graph has sent `InSync`.
    pub in_sync: bool,
}

/// What folding a batch changed, so a flush knows which parts to reprogram.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Touched {
    /// Sets, policies, profiles, endpoints or pools (the nftables table).
    pub rules: bool,
    /// Routes, VTEPs, pools, host metadata (netlink).
    pub net: bool,
    /// `InSync` arrived in this batch.
    pub in_sync: bool,
}

impl DesiredState {
    /// Fold one message in. A delta for an unknown set creates it as a `Net` set (the calc
    /// graph never does that; being lenient keeps the dataplane fail-safe).
    /// Like [`DesiredState::fold`], but takes the message and moves its payload in (no copy
    /// of a policy's rules, an endpoint or a set's members).
    pub fn fold_owned(&mut self, msg: DataplaneMessage) -> Touched {
        let mut t = Touched::default();
        match msg {
            DataplaneMessage::IpSetUpdate {
                id,
                set_type,
                members,
            } => {
                self.ip_sets.insert(id, IpSet { set_type, members });
                t.rules = true;
            }
            DataplaneMessage::ActivePolicyUpdate { id, rules } => {
                self.policies.insert(id, rules);
                t.rules = true;
            }
            DataplaneMessage::ActiveProfileUpdate { id, rules } => {
                self.profiles.insert(id, rules);
                t.rules = true;
            }
            DataplaneMessage::WorkloadEndpointUpdate { id, endpoint } => {
                self.endpoints.insert(id, endpoint);
                t.rules = true;
                t.net = true;
            }
            other => return self.fold(&other),
        }
        t
    }

    pub fn fold(&mut self, msg: &DataplaneMessage) -> Touched {
        let mut t = Touched::default();
        match msg {
            DataplaneMessage::IpSetUpdate {
                id,
                set_type,
                members,
            } => {
                self.ip_sets.insert(
                    id.clone(),
                    IpSet {
                        set_type: *set_type,
                        members: members.clone(),
                    },
                );
                t.rules = true;
            }
            DataplaneMessage::IpSetDeltaUpdate { id, added, removed } => {
                let set = self.ip_sets.entry(id.clone()).or_insert_with(|| IpSet {
                    set_type: added
                        .iter()
                        .next()
                        .map(|m| match m {
                            IpSetMember::Net(_) => IpSetType::Net,
                            IpSetMember::IpPort { .. } => IpSetType::IpPort,
                        })
                        .unwrap_or(IpSetType::Net),
                    members: BTreeSet::new(),
                });
                for m in removed {
                    set.members.remove(m);
                }
                set.members.extend(added.iter().copied());
                t.rules = true;
            }
            DataplaneMessage::IpSetRemove { id } => {
                self.ip_sets.remove(id);
                t.rules = true;
            }
            DataplaneMessage::ActivePolicyUpdate { id, rules } => {
                self.policies.insert(id.clone(), rules.clone());
                t.rules = true;
            }
            DataplaneMessage::ActivePolicyRemove { id } => {
                self.policies.remove(id);
                t.rules = true;
            }
            DataplaneMessage::ActiveProfileUpdate { id, rules } => {
                self.profiles.insert(id.clone(), rules.clone());
                t.rules = true;
            }
            DataplaneMessage::ActiveProfileRemove { id } => {
                self.profiles.remove(id);
                t.rules = true;
            }
            DataplaneMessage::WorkloadEndpointUpdate { id, endpoint } => {
                self.endpoints.insert(id.clone(), endpoint.clone());
                t.rules = true;
                t.net = true;
            }
            DataplaneMessage::WorkloadEndpointRemove { id } => {
                self.endpoints.remove(id);
                t.rules = true;
                t.net = true;
            }
            DataplaneMessage::RouteUpdate { route } => {
                self.routes.insert(route.dst, route.clone());
                t.net = true;
            }
            DataplaneMessage::RouteRemove { dst } => {
                self.routes.remove(dst);
                t.net = true;
            }
            DataplaneMessage::VtepUpdate { vtep } => {
                self.vteps.insert(vtep.node.clone(), vtep.clone());
                t.net = true;
                t.rules = true;
            }
            DataplaneMessage::VtepRemove { node } => {
                self.vteps.remove(node);
                t.net = true;
                t.rules = true;
            }
            DataplaneMessage::PoolUpdate { id, pool } => {
                self.pools.insert(id.clone(), pool.clone());
                t.net = true;
                t.rules = true;
            }
            DataplaneMessage::PoolRemove { id } => {
                self.pools.remove(id);
                t.net = true;
                t.rules = true;
            }
            DataplaneMessage::HostMetadataUpdate { hostname, ipv4 } => {
                self.hostname = Some(hostname.clone());
                self.host_ipv4 = *ipv4;
                t.net = true;
                t.rules = true;
            }
            DataplaneMessage::InSync => {
                self.in_sync = true;
                t.in_sync = true;
            }
        }
        t
    }

    /// This node's own VTEP, once both the host name and its VTEP are known.
    pub fn local_vtep(&self) -> Option<&Vtep> {
        self.hostname.as_ref().and_then(|h| self.vteps.get(h))
    }

    /// The other nodes' VTEPs.
    pub fn remote_vteps(&self) -> impl Iterator<Item = &Vtep> {
        let me = self.hostname.clone();
        self.vteps
            .values()
            .filter(move |v| Some(&v.node) != me.as_ref())
    }
}

impl std::ops::BitOrAssign for Touched {
    fn bitor_assign(&mut self, o: Touched) {
        self.rules |= o.rules;
        self.net |= o.net;
        self.in_sync |= o.in_sync;
    }
}
