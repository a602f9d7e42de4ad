//! One resource at a time into the engine's terms, through the policy crate's
//! [`Model::from_resources`] so that scoping, conversion and defaults live in one place.

use std::collections::BTreeMap;
use std::net::IpAddr;

use calico_api::{IPPool, Node, Resource};
use calico_policy::{EndpointId, Model, ModelError, NamedPort, Policy, ProfileInfo, TierInfo};
use ipnet::IpNet;

/// An endpoint (WEP or HEP) with its own labels (profile labels are inherited separately).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct EpData {
    pub id: EndpointId,
    pub labels: BTreeMap<String, String>,
    pub profiles: Vec<String>,
    pub ips: Vec<IpAddr>,
    pub ports: Vec<NamedPort>,
    /// The node of a workload endpoint (`None` for host endpoints).
    pub node: Option<String>,
    /// Set for a workload endpoint on this node.
    pub local: Option<LocalData>,
}

/// What only a local workload endpoint needs.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct LocalData {
    pub iface: String,
    pub mac: Option<String>,
}

/// A NetworkSet or GlobalNetworkSet: own labels, the namespace profile it inherits from, CIDRs.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct NetSetData {
    pub labels: BTreeMap<String, String>,
    pub parents: Vec<String>,
    pub nets: Vec<IpNet>,
}

/// What a resource means to the graph.
#[derive(Clone, Debug)]
pub(crate) enum Parsed {
    Endpoint(EpData),
    NetSet(NetSetData),
    /// A non-staged policy of any kind.
    Policy(Policy),
    /// A Profile resource.
    Profile(ProfileInfo),
    /// The `kns.<ns>` profile of a Namespace.
    Namespace(ProfileInfo),
    Tier(TierInfo),
    Node(Box<Node>),
    Pool(Box<IPPool>),
    /// Kinds (or staged policies) that do not affect the dataplane.
    Ignored,
}

fn model_of(r: Resource) -> Result<Model, ModelError> {
    Model::from_resources(std::slice::from_ref(&r))
}

/// Converts one resource. `hostname` decides which workload endpoints are local.
pub(crate) fn parse(r: &Resource, hostname: &str) -> Result<Parsed, ModelError> {
    Ok(match r {
        Resource::WorkloadEndpoint(w) => {
            let mut bare = w.clone();
            bare.spec.profiles.clear();
            let local = (w.spec.node == hostname).then(|| LocalData {
                iface: w.spec.interface_name.clone(),
                mac: (!w.spec.mac.is_empty()).then(|| w.spec.mac.clone()),
            });
            endpoint(
                model_of(Resource::WorkloadEndpoint(bare))?,
                &w.spec.profiles,
                Some(w.spec.node.clone()),
                local,
            )
        }
        Resource::HostEndpoint(h) => {
            let mut bare = h.clone();
            bare.spec.profiles.clear();
            endpoint(
                model_of(Resource::HostEndpoint(bare))?,
                &h.spec.profiles,
                None,
                None,
            )
        }
        Resource::NetworkSet(_) | Resource::GlobalNetworkSet(_) => {
            let m = model_of(r.clone())?;
            match m.net_sets.into_iter().next() {
                Some(s) => {
                    let parents = s
                        .labels
                        .get(calico_policy::scope::LABEL_NAMESPACE)
                        .map(|ns| vec![format!("kns.{ns}")])
                        .unwrap_or_default();
                    Parsed::NetSet(NetSetData {
                        labels: s.labels,
                        parents,
                        nets: s.nets,
                    })
                }
                None => Parsed::Ignored,
            }
        }
        Resource::Profile(p) => {
            let m = model_of(r.clone())?;
            m.profiles
                .get(&p.metadata.name)
                .cloned()
                .map_or(Parsed::Ignored, Parsed::Profile)
        }
        Resource::Namespace(ns) => {
            let m = model_of(r.clone())?;
            m.profiles
                .get(&format!("kns.{}", ns.metadata.name))
                .cloned()
                .map_or(Parsed::Ignored, Parsed::Namespace)
        }
        Resource::Tier(t) => {
            let m = model_of(r.clone())?;
            m.tiers
                .get(&t.metadata.name)
                .cloned()
                .map_or(Parsed::Ignored, Parsed::Tier)
        }
        Resource::NetworkPolicy(_)
        | Resource::GlobalNetworkPolicy(_)
        | Resource::KubernetesNetworkPolicy(_)
        | Resource::StagedNetworkPolicy(_)
        | Resource::StagedGlobalNetworkPolicy(_) => {
            let m = model_of(r.clone())?;
            match m.policies.into_iter().next() {
                Some(p) if !p.is_staged() => Parsed::Policy(p),
                _ => Parsed::Ignored,
            }
        }
        Resource::Node(n) => Parsed::Node(Box::new(n.clone())),
        Resource::IPPool(p) => Parsed::Pool(Box::new(p.clone())),
        _ => Parsed::Ignored,
    })
}

fn endpoint(
    m: Model,
    profiles: &[String],
    node: Option<String>,
    local: Option<LocalData>,
) -> Parsed {
    match m.endpoints.into_iter().next() {
        Some(e) => Parsed::Endpoint(EpData {
            id: e.id,
            labels: e.labels,
            profiles: profiles.to_vec(),
            ips: e.ips,
            ports: e.ports,
            node,
            local,
        }),
        None => Parsed::Ignored,
    }
}

/// The labels a profile name passes to the endpoints naming it: a Profile resource's
/// `labelsToApply`, else a Namespace's `kns.` labels, else the synthesised `ksa.<ns>.<sa>`
/// labels (the same precedence the policy crate's model ends up with).
pub(crate) fn parent_labels(
    name: &str,
    profiles: &BTreeMap<String, ProfileInfo>,
    namespaces: &BTreeMap<String, ProfileInfo>,
) -> Option<BTreeMap<String, String>> {
    if let Some(p) = profiles.get(name).or_else(|| namespaces.get(name)) {
        return Some(p.labels_to_apply.clone());
    }
    service_account_labels(name)
}

/// `ksa.<ns>.<sa>` → `{pcsa.projectcalico.org/name: <sa>}`, as the policy crate synthesises it.
pub(crate) fn service_account_labels(name: &str) -> Option<BTreeMap<String, String>> {
    let rest = name.strip_prefix("ksa.")?;
    let (_, sa) = rest.split_once('.')?;
    Some(BTreeMap::from([(
        format!(
            "{}projectcalico.org/name",
            calico_policy::scope::PREFIX_SERVICE_ACCOUNT
        ),
        sa.to_string(),
    )]))
}
