//! The in-memory snapshot the engine works on: tiers, policies of every kind in one backend
//! form, profiles (including the `kns.<ns>` / `ksa.<ns>.<sa>` ones Calico synthesises),
//! network sets and endpoints with their effective labels.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use calico_api::{Action, PolicyType, Protocol, Resource, Rule};
use calico_selector::Selector;
use ipnet::IpNet;

use crate::endpoints::{self, RawEndpoint};
use crate::ids::{EndpointId, PolicyKey, PolicyKind};
use crate::rule::{BackendRule, RuleContext};
use crate::scope::{global_policy_selector, namespaced_policy_selector};
use crate::{ModelError, k8s};

/// A tier: its order (`None` sorts last), default action and whether a Tier resource (or a
/// well-known tier Calico always creates) backs it.
#[derive(Clone, Debug, PartialEq)]
pub struct TierInfo {
    pub name: String,
    pub order: Option<f64>,
    /// `Deny` or `Pass`.
    pub default_action: Action,
    /// False for a tier that only policies name (Felix sorts those after all valid tiers).
    pub valid: bool,
}

/// A policy of any kind in backend form.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    pub key: PolicyKey,
    pub tier: String,
    pub order: Option<f64>,
    /// The endpoint selector with namespace / service-account scoping compiled in.
    pub selector: Selector,
    pub types: Vec<PolicyType>,
    pub ingress: Vec<BackendRule>,
    pub egress: Vec<BackendRule>,
}

impl Policy {
    /// Staged policies are never enforced.
    pub fn is_staged(&self) -> bool {
        self.key.kind.is_staged()
    }

    /// Whether the policy applies to traffic in `ty`.
    pub fn applies_to(&self, ty: PolicyType) -> bool {
        self.types.is_empty() || self.types.contains(&ty)
    }
}

/// A profile in backend form.
#[derive(Clone, Debug, PartialEq)]
pub struct ProfileInfo {
    pub name: String,
    pub ingress: Vec<BackendRule>,
    pub egress: Vec<BackendRule>,
    pub labels_to_apply: BTreeMap<String, String>,
}

/// A named port of an endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedPort {
    pub name: String,
    pub protocol: Protocol,
    pub port: u16,
}

/// A Calico endpoint (workload or host) with its effective labels (own over inherited).
#[derive(Clone, Debug, PartialEq)]
pub struct Endpoint {
    pub id: EndpointId,
    pub labels: BTreeMap<String, String>,
    pub ips: Vec<IpAddr>,
    pub profiles: Vec<String>,
    pub ports: Vec<NamedPort>,
}

/// A NetworkSet or GlobalNetworkSet: labels and CIDRs (selectable by rule selectors).
#[derive(Clone, Debug, PartialEq)]
pub struct NetSet {
    /// `<ns>/<name>` or `<name>`.
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub nets: Vec<IpNet>,
}

/// A selectable thing owning an IP: an endpoint or a network set.
#[derive(Clone, Copy, Debug)]
pub enum Member<'a> {
    Endpoint(&'a Endpoint),
    NetSet(&'a NetSet),
}

impl Member<'_> {
    pub fn labels(&self) -> &BTreeMap<String, String> {
        match self {
            Member::Endpoint(e) => &e.labels,
            Member::NetSet(n) => &n.labels,
        }
    }
}

/// The datastore snapshot, ready for compiling and evaluating.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Model {
    pub tiers: BTreeMap<String, TierInfo>,
    pub policies: Vec<Policy>,
    pub profiles: BTreeMap<String, ProfileInfo>,
    pub net_sets: Vec<NetSet>,
    /// Sorted by ID.
    pub endpoints: Vec<Endpoint>,
}

impl Model {
    /// Decodes YAML/JSON documents, applies Calico's defaults, validates, and builds.
    ///
    /// # Errors
    /// The first document that does not decode or validate, or a selector/CIDR that does not
    /// parse.
    pub fn from_yaml(text: &str) -> Result<Model, ModelError> {
        let docs = calico_api::codec::decode_all(text).map_err(|e| ModelError::Decode {
            index: 0,
            message: e.to_string(),
        })?;
        let mut resources = Vec::new();
        for (index, r) in docs {
            let mut r = r.map_err(|e| ModelError::Decode {
                index,
                message: e.to_string(),
            })?;
            r.apply_defaults();
            r.validate().map_err(|e| ModelError::Invalid(Box::new(e)))?;
            resources.push(r);
        }
        Model::from_resources(&resources)
    }

    /// Builds the model from (defaulted) resources; kinds the engine does not use are ignored.
    ///
    /// # Errors
    /// A selector or CIDR that does not parse, named by resource and field.
    pub fn from_resources(resources: &[Resource]) -> Result<Model, ModelError> {
        let mut m = Model::default();
        for name in [
            calico_api::DEFAULT_TIER_NAME,
            calico_api::KUBE_ADMIN_TIER_NAME,
            calico_api::KUBE_BASELINE_TIER_NAME,
        ] {
            if let Some((order, action)) = calico_api::well_known_tier(name) {
                m.tiers.insert(
                    name.into(),
                    TierInfo {
                        name: name.into(),
                        order: Some(order),
                        default_action: action,
                        valid: true,
                    },
                );
            }
        }
        let mut raw_eps = Vec::new();
        let mut pods = Vec::new();
        for r in resources {
            match r {
                Resource::Tier(_) => {
                    if let Some(t) = tier_from_resource(r) {
                        m.tiers.insert(t.name.clone(), t);
                    }
                }
                Resource::Profile(_) | Resource::Namespace(_) => {
                    if let Some(p) = profile_from_resource(r)? {
                        m.profiles.insert(p.name.clone(), p);
                    }
                }
                Resource::NetworkSet(n) => {
                    m.net_sets
                        .push(endpoints::net_set("NetworkSet", &n.metadata, &n.spec.nets)?)
                }
                Resource::GlobalNetworkSet(n) => m.net_sets.push(endpoints::net_set(
                    "GlobalNetworkSet",
                    &n.metadata,
                    &n.spec.nets,
                )?),
                Resource::WorkloadEndpoint(w) => raw_eps.push(endpoints::from_wep(w)),
                Resource::HostEndpoint(h) => raw_eps.push(endpoints::from_hep(h)),
                Resource::Pod(p) => pods.push(p),
                other => {
                    if let Some(p) = policy_of(other)? {
                        m.policies.push(p);
                    }
                }
            }
        }
        raw_eps.extend(endpoints::from_pods(&pods, &raw_eps));
        m.finish(raw_eps);
        Ok(m)
    }

    /// Adds the tiers policies name without a Tier resource, synthesises missing `ksa.` profiles,
    /// and merges profile labels into endpoints and network sets.
    fn finish(&mut self, raw_eps: Vec<RawEndpoint>) {
        for p in &self.policies {
            self.tiers
                .entry(p.tier.clone())
                .or_insert_with(|| TierInfo {
                    name: p.tier.clone(),
                    order: None,
                    default_action: Action::Deny,
                    valid: false,
                });
        }
        let referenced: BTreeSet<String> = raw_eps
            .iter()
            .flat_map(|e| e.profiles.iter().cloned())
            .collect();
        for name in referenced {
            if let Some(info) = endpoints::service_account_profile(&name) {
                self.profiles.entry(name).or_insert(info);
            }
        }
        let mut eps: Vec<Endpoint> = raw_eps
            .into_iter()
            .map(|raw| {
                let labels = self.inherit(&raw.labels, &raw.profiles);
                Endpoint {
                    id: raw.id,
                    labels,
                    ips: raw.ips,
                    profiles: raw.profiles,
                    ports: raw.ports,
                }
            })
            .collect();
        eps.sort_by(|a, b| a.id.cmp(&b.id));
        eps.dedup_by(|a, b| a.id == b.id);
        self.endpoints = eps;
        let mut sets = std::mem::take(&mut self.net_sets);
        for s in &mut sets {
            if let Some(ns) = s.labels.get(crate::scope::LABEL_NAMESPACE).cloned() {
                s.labels = self.inherit(&s.labels, &[format!("kns.{ns}")]);
            }
        }
        sets.sort_by(|a, b| a.name.cmp(&b.name));
        self.net_sets = sets;
    }

    /// `own` labels over the `labelsToApply` of `profiles` (earlier profiles win): an
    /// endpoint's or network set's effective labels.
    pub fn inherit(
        &self,
        own: &BTreeMap<String, String>,
        profiles: &[String],
    ) -> BTreeMap<String, String> {
        let mut labels = own.clone();
        for p in profiles {
            if let Some(info) = self.profiles.get(p) {
                for (k, v) in &info.labels_to_apply {
                    labels.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
        }
        labels
    }

    /// The endpoint owning `ip` (the first by ID if several claim it).
    pub fn endpoint_for_ip(&self, ip: IpAddr) -> Option<&Endpoint> {
        self.endpoints.iter().find(|e| e.ips.contains(&ip))
    }

    /// The endpoint with this ID.
    pub fn endpoint(&self, id: &EndpointId) -> Option<&Endpoint> {
        self.endpoints.iter().find(|e| &e.id == id)
    }

    /// Every endpoint and network set whose addresses contain `ip` (what Felix's selector IP
    /// sets would match the address against).
    pub fn members_for_ip(&self, ip: IpAddr) -> impl Iterator<Item = Member<'_>> {
        let eps = self
            .endpoints
            .iter()
            .filter(move |e| e.ips.contains(&ip))
            .map(Member::Endpoint);
        let sets = self
            .net_sets
            .iter()
            .filter(move |s| s.nets.iter().any(|n| n.contains(&ip)))
            .map(Member::NetSet);
        eps.chain(sets)
    }

    /// Tiers in evaluation order: valid tiers by order (`None` last) then name, then tiers
    /// that only policies name, by name.
    pub fn ordered_tiers(&self) -> Vec<&TierInfo> {
        let mut tiers: Vec<&TierInfo> = self.tiers.values().collect();
        tiers.sort_by(|a, b| {
            (!a.valid)
                .cmp(&!b.valid)
                .then_with(|| cmp_order(a.order, b.order))
                .then_with(|| a.name.cmp(&b.name))
        });
        tiers
    }

    /// The policies of `tier` in evaluation order: by order (`None` last), ties broken by
    /// the string `<name>/<namespace>/<kind>` as Felix's `PolKVLess` does (so `a-b` sorts
    /// before `a`, `-` being below `/`).
    pub fn ordered_policies(&self, tier: &str) -> Vec<&Policy> {
        let mut ps: Vec<(String, &Policy)> = self
            .policies
            .iter()
            .filter(|p| p.tier == tier)
            .map(|p| {
                let tie = format!(
                    "{}/{}/{}",
                    p.key.name,
                    p.key.namespace,
                    p.key.kind.kind_name()
                );
                (tie, p)
            })
            .collect();
        ps.sort_by(|(ta, a), (tb, b)| cmp_order(a.order, b.order).then_with(|| ta.cmp(tb)));
        ps.into_iter().map(|(_, p)| p).collect()
    }
}

fn cmp_order(a: Option<f64>, b: Option<f64>) -> std::cmp::Ordering {
    let a = a.unwrap_or(f64::INFINITY);
    let b = b.unwrap_or(f64::INFINITY);
    a.total_cmp(&b)
}

fn rules(
    rules: &[Rule],
    ctx: RuleContext<'_>,
    field: &str,
) -> Result<Vec<BackendRule>, ModelError> {
    rules
        .iter()
        .enumerate()
        .map(|(i, r)| BackendRule::compile(r, ctx, &format!("{field}[{i}]")))
        .collect()
}

fn profile(name: &str, ingress: &[Rule], egress: &[Rule]) -> Result<ProfileInfo, ModelError> {
    let ctx = RuleContext {
        kind: "Profile",
        name,
        namespace: None,
    };
    Ok(ProfileInfo {
        name: name.into(),
        ingress: rules(ingress, ctx, "spec.ingress")?,
        egress: rules(egress, ctx, "spec.egress")?,
        labels_to_apply: BTreeMap::new(),
    })
}

/// The spec fields every policy kind shares.
struct PolicyParts<'a> {
    key: PolicyKey,
    tier: &'a str,
    order: Option<f64>,
    selector: &'a str,
    namespace_selector: &'a str,
    sa_selector: &'a str,
    types: Vec<PolicyType>,
    ingress: &'a [Rule],
    egress: &'a [Rule],
}

fn policy_of(r: &Resource) -> Result<Option<Policy>, ModelError> {
    use calico_api::StagedAction;
    let key = |kind: PolicyKind, ns: &str, name: &str| PolicyKey {
        kind,
        namespace: ns.into(),
        name: name.into(),
    };
    let converted;
    let parts = match r {
        Resource::NetworkPolicy(p) => PolicyParts {
            key: key(
                PolicyKind::NetworkPolicy,
                &p.metadata.namespace,
                &p.metadata.name,
            ),
            tier: &p.spec.tier,
            order: p.spec.order,
            selector: &p.spec.selector,
            namespace_selector: "",
            sa_selector: &p.spec.service_account_selector,
            types: p.spec.effective_types(),
            ingress: &p.spec.ingress,
            egress: &p.spec.egress,
        },
        Resource::KubernetesNetworkPolicy(k) => {
            // The API server defaults policyTypes before Calico sees the policy; do the same
            // for resources that skipped defaulting.
            let mut k = k.clone();
            k.spec.policy_types = k.spec.effective_policy_types();
            converted = k8s::convert(&k);
            let p = &converted;
            PolicyParts {
                key: key(
                    PolicyKind::KubernetesNetworkPolicy,
                    &p.metadata.namespace,
                    &p.metadata.name,
                ),
                tier: &p.spec.tier,
                order: p.spec.order,
                selector: &p.spec.selector,
                namespace_selector: "",
                sa_selector: "",
                types: p.spec.types.clone(),
                ingress: &p.spec.ingress,
                egress: &p.spec.egress,
            }
        }
        Resource::GlobalNetworkPolicy(p) => PolicyParts {
            key: key(PolicyKind::GlobalNetworkPolicy, "", &p.metadata.name),
            tier: &p.spec.tier,
            order: p.spec.order,
            selector: &p.spec.selector,
            namespace_selector: &p.spec.namespace_selector,
            sa_selector: &p.spec.service_account_selector,
            types: p.spec.effective_types(),
            ingress: &p.spec.ingress,
            egress: &p.spec.egress,
        },
        Resource::StagedNetworkPolicy(p) => {
            if p.spec.staged_action == Some(StagedAction::Delete) {
                return Ok(None);
            }
            let s = &p.spec;
            PolicyParts {
                key: key(
                    PolicyKind::StagedNetworkPolicy,
                    &p.metadata.namespace,
                    &p.metadata.name,
                ),
                tier: &s.tier,
                order: s.order,
                selector: &s.selector,
                namespace_selector: "",
                sa_selector: &s.service_account_selector,
                types: effective_types(&s.types, &s.ingress, &s.egress),
                ingress: &s.ingress,
                egress: &s.egress,
            }
        }
        Resource::StagedGlobalNetworkPolicy(p) => {
            if p.spec.staged_action == Some(StagedAction::Delete) {
                return Ok(None);
            }
            let s = &p.spec;
            PolicyParts {
                key: key(PolicyKind::StagedGlobalNetworkPolicy, "", &p.metadata.name),
                tier: &s.tier,
                order: s.order,
                selector: &s.selector,
                namespace_selector: &s.namespace_selector,
                sa_selector: &s.service_account_selector,
                types: effective_types(&s.types, &s.ingress, &s.egress),
                ingress: &s.ingress,
                egress: &s.egress,
            }
        }
        _ => return Ok(None),
    };
    build_policy(parts).map(Some)
}

fn effective_types(types: &[PolicyType], ingress: &[Rule], egress: &[Rule]) -> Vec<PolicyType> {
    if types.is_empty() {
        calico_api::default_policy_types(!ingress.is_empty(), !egress.is_empty())
    } else {
        types.to_vec()
    }
}

fn build_policy(p: PolicyParts<'_>) -> Result<Policy, ModelError> {
    let kind = p.key.kind.kind_name();
    let name = p.key.to_string();
    let namespaced = !p.key.namespace.is_empty();
    let selector = if namespaced {
        namespaced_policy_selector(p.selector, &p.key.namespace, p.sa_selector)
    } else {
        global_policy_selector(p.selector, p.namespace_selector, p.sa_selector)
    }
    .map_err(|source| ModelError::Selector {
        kind,
        name: name.clone(),
        field: "spec.selector".into(),
        source: Box::new(source),
    })?;
    let ctx = RuleContext {
        kind,
        name: &name,
        namespace: namespaced.then_some(p.key.namespace.as_str()),
    };
    Ok(Policy {
        tier: calico_api::tier_or_default(p.tier).to_string(),
        order: p.order,
        selector,
        types: p.types,
        ingress: rules(p.ingress, ctx, "spec.ingress")?,
        egress: rules(p.egress, ctx, "spec.egress")?,
        key: p.key,
    })
}

/// The tier a Tier resource describes (`None` for other kinds). A well-known tier without an
/// order gets Calico's; a default action other than `Pass` is `Deny`.
pub fn tier_from_resource(r: &Resource) -> Option<TierInfo> {
    let Resource::Tier(t) = r else {
        return None;
    };
    let name = t.metadata.name.clone();
    let well_known = calico_api::well_known_tier(&name);
    Some(TierInfo {
        order: t.spec.order.or(well_known.map(|w| w.0)),
        default_action: match t.spec.default_action {
            Some(Action::Pass) => Action::Pass,
            _ => Action::Deny,
        },
        valid: true,
        name,
    })
}

/// The backend policy of one policy resource (NetworkPolicy, GlobalNetworkPolicy, their
/// staged kinds, or a Kubernetes NetworkPolicy, converted as Calico converts it), with
/// namespace / service-account scoping compiled into its selectors. `Ok(None)` for other
/// kinds and for staged policies whose `stagedAction` is `Delete`.
///
/// # Errors
/// A selector or CIDR that does not parse, named by resource and field.
pub fn policy_from_resource(r: &Resource) -> Result<Option<Policy>, ModelError> {
    policy_of(r)
}

/// The profile a Profile resource describes, or the `kns.<ns>` profile Calico synthesises
/// from a Namespace (allow-all, carrying the namespace's labels prefixed `pcns.`). `Ok(None)`
/// for other kinds. The `ksa.<ns>.<sa>` profiles come from [`service_account_profile`].
///
/// # Errors
/// A selector or CIDR of a profile rule that does not parse.
pub fn profile_from_resource(r: &Resource) -> Result<Option<ProfileInfo>, ModelError> {
    match r {
        Resource::Profile(p) => {
            let info = profile(&p.metadata.name, &p.spec.ingress, &p.spec.egress)?;
            Ok(Some(ProfileInfo {
                labels_to_apply: p.spec.labels_to_apply.clone(),
                ..info
            }))
        }
        Resource::Namespace(ns) => Ok(Some(endpoints::namespace_profile(ns).1)),
        _ => Ok(None),
    }
}

/// The `ksa.<ns>.<sa>` profile Calico synthesises for a service account (no rules, label
/// `pcsa.projectcalico.org/name=<sa>`); `None` for a name of another form.
pub fn service_account_profile(name: &str) -> Option<ProfileInfo> {
    endpoints::service_account_profile(name)
}

/// The network set of a NetworkSet (named `<ns>/<name>`, labelled with its namespace) or a
/// GlobalNetworkSet, with its own labels only (see [`Model::inherit`] for the `pcns.` ones).
/// `Ok(None)` for other kinds.
///
/// # Errors
/// A CIDR that does not parse.
pub fn net_set_from_resource(r: &Resource) -> Result<Option<NetSet>, ModelError> {
    match r {
        Resource::NetworkSet(n) => {
            endpoints::net_set("NetworkSet", &n.metadata, &n.spec.nets).map(Some)
        }
        Resource::GlobalNetworkSet(n) => {
            endpoints::net_set("GlobalNetworkSet", &n.metadata, &n.spec.nets).map(Some)
        }
        _ => Ok(None),
    }
}

/// The endpoint of a WorkloadEndpoint, a HostEndpoint, or a Pod (as KDD converts a running,
/// scheduled, addressed, non-host-network pod; profiles `kns.<ns>` and `ksa.<ns>.<sa>`).
/// Labels are the endpoint's own plus the ones Calico adds (`projectcalico.org/namespace`,
/// `.../orchestrator`, `.../serviceaccount`), without the profiles' inherited labels (see
/// [`Model::inherit`]). `None` for other kinds and for pods that are not Calico workloads.
/// A Pod and the WorkloadEndpoint of that pod have the same [`EndpointId`]; the WEP wins in
/// [`Model::from_resources`].
pub fn endpoint_from_resource(r: &Resource) -> Option<Endpoint> {
    let raw = match r {
        Resource::WorkloadEndpoint(w) => endpoints::from_wep(w),
        Resource::HostEndpoint(h) => endpoints::from_hep(h),
        Resource::Pod(p) => endpoints::from_pods(&[p], &[]).into_iter().next()?,
        _ => return None,
    };
    Some(Endpoint {
        id: raw.id,
        labels: raw.labels,
        ips: raw.ips,
        profiles: raw.profiles,
        ports: raw.ports,
    })
}
