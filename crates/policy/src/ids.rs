//! Stable identities: of policies ([`PolicyKey`]), endpoints ([`EndpointId`]) and compiled
//! rules ([`RuleId`]). Counters, traces and explanations key on these strings, so their form
//! is part of the contract: change it only with the golden files.

use std::fmt;

use calico_api::PolicyType;
use serde::{Serialize, Serializer};

/// The kind a policy came from; its short name prefixes the policy's ID as in Felix's policy
/// IDs (`knp` for Kubernetes NetworkPolicy).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PolicyKind {
    NetworkPolicy,
    GlobalNetworkPolicy,
    StagedNetworkPolicy,
    StagedGlobalNetworkPolicy,
    KubernetesNetworkPolicy,
}

impl PolicyKind {
    /// The short name used in IDs.
    pub fn short(self) -> &'static str {
        match self {
            PolicyKind::NetworkPolicy => "np",
            PolicyKind::GlobalNetworkPolicy => "gnp",
            PolicyKind::StagedNetworkPolicy => "snp",
            PolicyKind::StagedGlobalNetworkPolicy => "sgnp",
            PolicyKind::KubernetesNetworkPolicy => "knp",
        }
    }

    /// The resource kind name (used to break order ties as Felix does).
    pub fn kind_name(self) -> &'static str {
        match self {
            PolicyKind::NetworkPolicy => "NetworkPolicy",
            PolicyKind::GlobalNetworkPolicy => "GlobalNetworkPolicy",
            PolicyKind::StagedNetworkPolicy => "StagedNetworkPolicy",
            PolicyKind::StagedGlobalNetworkPolicy => "StagedGlobalNetworkPolicy",
            PolicyKind::KubernetesNetworkPolicy => "KubernetesNetworkPolicy",
        }
    }

    /// Staged kinds are evaluated for display only, never enforced.
    pub fn is_staged(self) -> bool {
        matches!(
            self,
            PolicyKind::StagedNetworkPolicy | PolicyKind::StagedGlobalNetworkPolicy
        )
    }
}

/// A policy: kind, namespace (empty for global kinds) and name. Prints as `np/ns/name` or
/// `gnp/name`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PolicyKey {
    pub kind: PolicyKind,
    pub namespace: String,
    pub name: String,
}

impl fmt::Display for PolicyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{}/{}", self.kind.short(), self.name)
        } else {
            write!(f, "{}/{}/{}", self.kind.short(), self.namespace, self.name)
        }
    }
}

impl Serialize for PolicyKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What kind of endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EndpointKind {
    /// A workload (pod) endpoint.
    Workload,
    /// A host endpoint.
    Host,
}

/// An endpoint: `wep/<ns>/<name>` (for pods the name is the pod's) or `hep/<name>`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EndpointId {
    pub kind: EndpointKind,
    pub namespace: String,
    pub name: String,
}

impl fmt::Display for EndpointId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            EndpointKind::Workload => write!(f, "wep/{}/{}", self.namespace, self.name),
            EndpointKind::Host => write!(f, "hep/{}", self.name),
        }
    }
}

impl Serialize for EndpointId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The direction of evaluation, seen from the endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Traffic to the endpoint.
    Ingress,
    /// Traffic from the endpoint.
    Egress,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }

    pub fn policy_type(self) -> PolicyType {
        match self {
            Direction::Ingress => PolicyType::Ingress,
            Direction::Egress => PolicyType::Egress,
        }
    }
}

/// The stable ID of a compiled rule or of a synthetic decision:
///
/// - `tier/<tier>/policy/<policy-key>/<direction>/<index>` for a policy rule;
/// - `tier/<tier>/end-of-tier-deny` (or `end-of-tier-pass`) for a tier's default action;
/// - `profile/<name>/<direction>/<index>` for a profile rule, `profile/<name>/missing-deny`
///   for a referenced profile that does not exist (Felix's fail-closed stand-in);
/// - `no-profile-deny` when nothing allowed the packet;
/// - `loopback-allow` (traffic from an endpoint to itself never leaves it) and
///   `not-calico-endpoint` (neither end is a Calico endpoint: nothing polices it).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleId(String);

impl RuleId {
    pub fn policy_rule(tier: &str, policy: &PolicyKey, dir: Direction, index: usize) -> RuleId {
        RuleId(format!(
            "tier/{tier}/policy/{policy}/{}/{index}",
            dir.as_str()
        ))
    }

    pub fn end_of_tier(tier: &str, pass: bool) -> RuleId {
        let what = if pass { "pass" } else { "deny" };
        RuleId(format!("tier/{tier}/end-of-tier-{what}"))
    }

    pub fn profile_rule(profile: &str, dir: Direction, index: usize) -> RuleId {
        RuleId(format!("profile/{profile}/{}/{index}", dir.as_str()))
    }

    pub fn profile_missing(profile: &str) -> RuleId {
        RuleId(format!("profile/{profile}/missing-deny"))
    }

    pub fn no_profile_deny() -> RuleId {
        RuleId("no-profile-deny".into())
    }

    pub fn loopback() -> RuleId {
        RuleId("loopback-allow".into())
    }

    pub fn not_calico_endpoint() -> RuleId {
        RuleId("not-calico-endpoint".into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for RuleId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}
