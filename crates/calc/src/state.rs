//! The dataplane's view of the graph's output: what a consumer holds after applying a
//! message stream. It checks the ordering contract as it applies (no reference to an IP set,
//! policy or profile it does not have; no remove of something still referred to; no delta
//! that adds a present member or removes an absent one; no update that changes nothing), and
//! can turn itself back into the messages that build it from nothing (a dataplane's resync).

use std::collections::{BTreeMap, BTreeSet};

use calico_policy::EndpointId;
use ipnet::{IpNet, Ipv4Net};
use thiserror::Error;

use crate::messages::{
    DataplaneMessage, IpSetId, IpSetMember, IpSetType, LocalEndpoint, PolicyId, PolicyRules, Pool,
    Route, Rule, Vtep,
};

/// An IP set as the dataplane holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpSetState {
    pub set_type: IpSetType,
    pub members: BTreeSet<IpSetMember>,
}

/// Everything the dataplane holds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DataplaneState {
    pub ip_sets: BTreeMap<IpSetId, IpSetState>,
    pub policies: BTreeMap<PolicyId, PolicyRules>,
    pub profiles: BTreeMap<String, PolicyRules>,
    pub endpoints: BTreeMap<EndpointId, LocalEndpoint>,
    pub routes: BTreeMap<IpNet, Route>,
    pub vteps: BTreeMap<String, Vtep>,
    pub pools: BTreeMap<String, Pool>,
    /// This node's address (from its Node resource), as last sent.
    pub host_ipv4: Option<Ipv4Net>,
    pub in_sync: bool,
}

/// A message that breaks the contract of [`crate::messages`].
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ContractError {
    #[error("{what} refers to IP set {set}, which the dataplane does not have")]
    UnknownIpSet { what: String, set: IpSetId },
    #[error("{what} refers to {target}, which the dataplane does not have")]
    UnknownReference { what: String, target: String },
    #[error("removing {what} while {user} still refers to it")]
    StillReferenced { what: String, user: String },
    #[error("removing {what}, which the dataplane does not have")]
    RemoveUnknown { what: String },
    #[error("IP set {set}: delta adds {member:?}, already a member")]
    AddPresent { set: IpSetId, member: IpSetMember },
    #[error("IP set {set}: delta removes {member:?}, not a member")]
    RemoveAbsent { set: IpSetId, member: IpSetMember },
    #[error("IP set {set}: member {member:?} does not fit a set of type {set_type:?}")]
    WrongMemberType {
        set: IpSetId,
        set_type: IpSetType,
        member: IpSetMember,
    },
    #[error("{what}: update changes nothing")]
    Redundant { what: String },
    #[error("InSync sent twice")]
    InSyncTwice,
}

fn rule_sets(r: &Rule) -> impl Iterator<Item = &IpSetId> {
    [&r.src, &r.dst].into_iter().flat_map(|e| {
        e.ip_set_ids
            .iter()
            .chain(&e.not_ip_set_ids)
            .chain(&e.named_port_ip_set_ids)
            .chain(&e.not_named_port_ip_set_ids)
    })
}

/// Every IP set ID the rules refer to.
pub fn rules_ip_sets(rules: &PolicyRules) -> BTreeSet<&IpSetId> {
    rules
        .inbound
        .iter()
        .chain(&rules.outbound)
        .flat_map(rule_sets)
        .collect()
}

fn member_fits(t: IpSetType, m: &IpSetMember) -> bool {
    matches!(
        (t, m),
        (IpSetType::Net, IpSetMember::Net(_)) | (IpSetType::IpPort, IpSetMember::IpPort { .. })
    )
}

impl DataplaneState {
    fn check_rules(&self, what: &str, rules: &PolicyRules) -> Result<(), ContractError> {
        for set in rules_ip_sets(rules) {
            if !self.ip_sets.contains_key(set) {
                return Err(ContractError::UnknownIpSet {
                    what: what.into(),
                    set: set.clone(),
                });
            }
        }
        Ok(())
    }

    fn check_members(
        set: &IpSetId,
        t: IpSetType,
        members: &BTreeSet<IpSetMember>,
    ) -> Result<(), ContractError> {
        match members.iter().find(|m| !member_fits(t, m)) {
            Some(m) => Err(ContractError::WrongMemberType {
                set: set.clone(),
                set_type: t,
                member: *m,
            }),
            None => Ok(()),
        }
    }

    /// Applies one message, checking the contract.
    ///
    /// # Errors
    /// The first way the message breaks the contract; the state is then unchanged.
    pub fn apply(&mut self, msg: &DataplaneMessage) -> Result<(), ContractError> {
        use DataplaneMessage as M;
        match msg {
            M::IpSetUpdate {
                id,
                set_type,
                members,
            } => {
                Self::check_members(id, *set_type, members)?;
                self.ip_sets.insert(
                    id.clone(),
                    IpSetState {
                        set_type: *set_type,
                        members: members.clone(),
                    },
                );
            }
            M::IpSetDeltaUpdate { id, added, removed } => {
                let set = self
                    .ip_sets
                    .get(id)
                    .ok_or_else(|| ContractError::UnknownIpSet {
                        what: "IpSetDeltaUpdate".into(),
                        set: id.clone(),
                    })?;
                Self::check_members(id, set.set_type, added)?;
                if added.is_empty() && removed.is_empty() {
                    return Err(ContractError::Redundant {
                        what: format!("IpSetDeltaUpdate {id}"),
                    });
                }
                if let Some(m) = added.iter().find(|m| set.members.contains(m)) {
                    return Err(ContractError::AddPresent {
                        set: id.clone(),
                        member: *m,
                    });
                }
                if let Some(m) = removed.iter().find(|m| !set.members.contains(m)) {
                    return Err(ContractError::RemoveAbsent {
                        set: id.clone(),
                        member: *m,
                    });
                }
                if let Some(set) = self.ip_sets.get_mut(id) {
                    set.members.retain(|m| !removed.contains(m));
                    set.members.extend(added.iter().copied());
                }
            }
            M::IpSetRemove { id } => {
                if !self.ip_sets.contains_key(id) {
                    return Err(ContractError::RemoveUnknown {
                        what: format!("IP set {id}"),
                    });
                }
                let users = self
                    .policies
                    .iter()
                    .map(|(p, r)| (format!("policy {}", p.policy), r))
                    .chain(
                        self.profiles
                            .iter()
                            .map(|(p, r)| (format!("profile {p}"), r)),
                    );
                for (user, rules) in users {
                    if rules_ip_sets(rules).contains(id) {
                        return Err(ContractError::StillReferenced {
                            what: format!("IP set {id}"),
                            user,
                        });
                    }
                }
                self.ip_sets.remove(id);
            }
            M::ActivePolicyUpdate { id, rules } => {
                let what = format!("policy {}", id.policy);
                self.check_rules(&what, rules)?;
                if self.policies.get(id) == Some(rules) {
                    return Err(ContractError::Redundant { what });
                }
                self.policies.insert(id.clone(), rules.clone());
            }
            M::ActivePolicyRemove { id } => {
                let what = format!("policy {}", id.policy);
                if !self.policies.contains_key(id) {
                    return Err(ContractError::RemoveUnknown { what });
                }
                if let Some((ep, _)) = self.endpoints.iter().find(|(_, e)| {
                    e.tiers
                        .iter()
                        .any(|t| t.ingress_policies.contains(id) || t.egress_policies.contains(id))
                }) {
                    return Err(ContractError::StillReferenced {
                        what,
                        user: ep.to_string(),
                    });
                }
                self.policies.remove(id);
            }
            M::ActiveProfileUpdate { id, rules } => {
                let what = format!("profile {id}");
                self.check_rules(&what, rules)?;
                if self.profiles.get(id) == Some(rules) {
                    return Err(ContractError::Redundant { what });
                }
                self.profiles.insert(id.clone(), rules.clone());
            }
            M::ActiveProfileRemove { id } => {
                let what = format!("profile {id}");
                if !self.profiles.contains_key(id) {
                    return Err(ContractError::RemoveUnknown { what });
                }
                if let Some((ep, _)) = self
                    .endpoints
                    .iter()
                    .find(|(_, e)| e.profile_ids.contains(id))
                {
                    return Err(ContractError::StillReferenced {
                        what,
                        user: ep.to_string(),
                    });
                }
                self.profiles.remove(id);
            }
            M::WorkloadEndpointUpdate { id, endpoint } => {
                let what = id.to_string();
                for t in &endpoint.tiers {
                    for p in t.ingress_policies.iter().chain(&t.egress_policies) {
                        if !self.policies.contains_key(p) {
                            return Err(ContractError::UnknownReference {
                                what,
                                target: format!("policy {}", p.policy),
                            });
                        }
                    }
                }
                for p in &endpoint.profile_ids {
                    if !self.profiles.contains_key(p) {
                        return Err(ContractError::UnknownReference {
                            what,
                            target: format!("profile {p}"),
                        });
                    }
                }
                if self.endpoints.get(id) == Some(endpoint) {
                    return Err(ContractError::Redundant { what });
                }
                self.endpoints.insert(id.clone(), endpoint.clone());
            }
            M::WorkloadEndpointRemove { id } => {
                if self.endpoints.remove(id).is_none() {
                    return Err(ContractError::RemoveUnknown {
                        what: id.to_string(),
                    });
                }
            }
            M::RouteUpdate { route } => {
                if self.routes.get(&route.dst) == Some(route) {
                    return Err(ContractError::Redundant {
                        what: format!("route {}", route.dst),
                    });
                }
                self.routes.insert(route.dst, route.clone());
            }
            M::RouteRemove { dst } => {
                if self.routes.remove(dst).is_none() {
                    return Err(ContractError::RemoveUnknown {
                        what: format!("route {dst}"),
                    });
                }
            }
            M::VtepUpdate { vtep } => {
                if self.vteps.get(&vtep.node) == Some(vtep) {
                    return Err(ContractError::Redundant {
                        what: format!("VTEP {}", vtep.node),
                    });
                }
                self.vteps.insert(vtep.node.clone(), vtep.clone());
            }
            M::VtepRemove { node } => {
                if self.vteps.remove(node).is_none() {
                    return Err(ContractError::RemoveUnknown {
                        what: format!("VTEP {node}"),
                    });
                }
            }
            M::PoolUpdate { id, pool } => {
                if self.pools.get(id) == Some(pool) {
                    return Err(ContractError::Redundant {
                        what: format!("pool {id}"),
                    });
                }
                self.pools.insert(id.clone(), pool.clone());
            }
            M::PoolRemove { id } => {
                if self.pools.remove(id).is_none() {
                    return Err(ContractError::RemoveUnknown {
                        what: format!("pool {id}"),
                    });
                }
            }
            M::HostMetadataUpdate { ipv4, .. } => {
                if self.host_ipv4 == *ipv4 {
                    return Err(ContractError::Redundant {
                        what: "host metadata".into(),
                    });
                }
                self.host_ipv4 = *ipv4;
            }
            M::InSync => {
                if self.in_sync {
                    return Err(ContractError::InSyncTwice);
                }
                self.in_sync = true;
            }
        }
        Ok(())
    }

    /// Applies messages in order.
    ///
    /// # Errors
    /// The index and error of the first message that breaks the contract.
    pub fn apply_all<'a>(
        &mut self,
        msgs: impl IntoIterator<Item = &'a DataplaneMessage>,
    ) -> Result<(), (usize, ContractError)> {
        for (i, m) in msgs.into_iter().enumerate() {
            self.apply(m).map_err(|e| (i, e))?;
        }
        Ok(())
    }

    /// The messages that build this state from nothing, in contract order (sets, policies,
    /// profiles, endpoints, then pools, VTEPs, routes and host metadata; `InSync` last when
    /// the state is in sync).
    pub fn to_messages(&self, hostname: &str) -> Vec<DataplaneMessage> {
        use DataplaneMessage as M;
        let mut out = Vec::new();
        for (id, s) in &self.ip_sets {
            out.push(M::IpSetUpdate {
                id: id.clone(),
                set_type: s.set_type,
                members: s.members.clone(),
            });
        }
        for (id, rules) in &self.policies {
            out.push(M::ActivePolicyUpdate {
                id: id.clone(),
                rules: rules.clone(),
            });
        }
        for (id, rules) in &self.profiles {
            out.push(M::ActiveProfileUpdate {
                id: id.clone(),
                rules: rules.clone(),
            });
        }
        for (id, e) in &self.endpoints {
            out.push(M::WorkloadEndpointUpdate {
                id: id.clone(),
                endpoint: e.clone(),
            });
        }
        if self.host_ipv4.is_some() {
            out.push(M::HostMetadataUpdate {
                hostname: hostname.to_string(),
                ipv4: self.host_ipv4,
            });
        }
        for (id, pool) in &self.pools {
            out.push(M::PoolUpdate {
                id: id.clone(),
                pool: pool.clone(),
            });
        }
        for v in self.vteps.values() {
            out.push(M::VtepUpdate { vtep: v.clone() });
        }
        for r in self.routes.values() {
            out.push(M::RouteUpdate { route: r.clone() });
        }
        if self.in_sync {
            out.push(M::InSync);
        }
        out
    }
}
